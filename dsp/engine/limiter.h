/* Soundstage: protective output limiter, the last resort against clipping.
 *
 * Linked across all drivers (one gain for all, so the inter-driver ratios that carry the cancellation and the
 * beam survive), instant attack (no look-ahead, no latency), exponential release. The designed headroom is
 * meant to keep it idle on full-scale programme. Real-time safe.
 */
#ifndef SS_LIMITER_H
#define SS_LIMITER_H

struct ss_limiter {
	float ceiling;   /**< linear, e.g. 0.989 for -0.1 dBFS */
	float release;   /**< per-sample recovery coefficient */
	float gain;      /**< current gain (1 = idle) */
	float min_gain;  /**< lowest gain since the last reset of this field (for reporting) */
};

void ss_limiter_init(struct ss_limiter *l, float ceiling, double rate, double release_ms);

/** Limit `n` frames of `channels` planar channels in place. A frame holding NaN or Inf (which no clean design
 *  produces, but nothing non-finite may ever reach a driver) is written as silence. Returns how many frames
 *  were non-finite (0 normally). */
int ss_limiter_process(struct ss_limiter *l, float *const *ch, int channels, int n);

#endif
