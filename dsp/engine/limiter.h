/* Soundstage: the output limiter, the last resort against a driver going past its ceiling.
 *
 * True-peak (each sample and three points between samples, by a 4x windowed-sinc interpolator), look-ahead
 * (SS_LOOKAHEAD_MS: the gain is already down when a peak arrives, no hard clipping in normal use) and linked across
 * drivers (one gain for all: the inter-driver ratios that carry the cancellation and the beam survive, the image
 * does not move). Each driver has its own ceiling (the profile's drivers[].limit). Attack over the look-ahead
 * (a moving average of the held minimum, so the gain at a peak is at or below what the peak needs), a 20 ms hold,
 * then an exponential release. After it every sample is clamped to its ceiling, which normal signals never reach.
 * It delays by ss_lookahead_samples(rate); while no peak comes near a ceiling it is exactly that delay.
 *
 * new/free allocate; process is real-time safe (no allocation, locks, system calls or logging).
 */
#ifndef SS_LIMITER_H
#define SS_LIMITER_H

#include "../filterset.h"

struct ss_limiter;

/** `channels` drivers with linear ceilings `ceiling[channels]`, at `rate` Hz. NULL on allocation failure. */
struct ss_limiter *ss_limiter_new(int channels, const float *ceiling, double rate);
void ss_limiter_free(struct ss_limiter *l);
void ss_limiter_reset(struct ss_limiter *l);

/** Limit `n` frames of planar channels `ch[channels][n]` in place; the output is delayed by the look-ahead.
 * Non-finite samples (which no clean design produces) leave as silence. Returns how many samples were
 * non-finite (0 normally). */
int ss_limiter_process(struct ss_limiter *l, float *const *ch, int n);

/** Lowest gain applied since the last call (1.0 = never limited); resets the record. */
float ss_limiter_take_min_gain(struct ss_limiter *l);

#endif
