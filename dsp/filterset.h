/* Soundstage: a designed filter set, the immutable result of designing a profile at one sample rate, and what the
 * engine runs.
 *
 * Three inputs (the upmix's L', R', C) through an FIR matrix to N drivers, designed at several effort levels: level 0
 * is the full design (crosstalk cancellation and centre beam at the profile's effort caps), each further level caps
 * every driver's drive lower, and the plain stereo feed (dry L/R, each driver its band of its side's channel at unity)
 * comes after the last. Every level reaches the ears at the same time (same alignment) and the processed levels give
 * the same ipsilateral ear response, so blending neighbouring levels gives up separation, not level or timing: the
 * engine's effort governor does that near full scale.
 *
 * Made and freed off the real-time thread (design/design.h); handed to the engine by pointer. This header sits below
 * both design/ and engine/: neither depends on the other.
 */
#ifndef SS_FILTERSET_H
#define SS_FILTERSET_H

#include <stdbool.h>
#include <stddef.h>

#include "profile.h"
#include "util/export.h"

#define SS_INPUTS 3
enum ss_input { SS_IN_LEFT = 0, SS_IN_RIGHT = 1, SS_IN_CENTRE = 2 };

#define SS_MAX_LEVELS 6   /* processed effort levels, at most */

struct ss_filterset {
	struct ss_profile profile;   /**< the profile it was designed from (copied) */
	double rate;                 /**< Hz */
	int n_drivers;
	int taps;                    /**< FIR length, samples */
	int block;                   /**< engine block (the small partition and the latency it adds), samples */
	int upmix_hop;               /**< upmix STFT hop, samples (the block is a multiple; its frame is 4 hops) */
	int model_delay;             /**< bulk delay built into every FIR, samples */
	double arrival;              /**< reference arrival of every path after the block and the upmix, samples */

	int n_levels;                /**< processed effort levels, >= 1; the plain feed is level n_levels */
	double level_effort_db[SS_MAX_LEVELS]; /**< each processed level's crosstalk-cancellation effort cap, dB */
	float *fir;                  /**< [SS_INPUTS][n_levels][n_drivers][taps], see ss_filterset_fir() */
	float *plain_fir;            /**< [2][n_drivers][taps]: the plain stereo feed, dry L/R in */

	double trim_db[SS_INPUTS];   /**< gain of each processed path that matches its ear level to the plain feed's
	                                  (L'/R' for a one-sided input, C for a centred one), dB, folded into fir */
	double gain_db[SS_MAX_DRIVERS];     /**< static gain folded into every FIR of a driver: its trim + master, dB */
	double effort_db[SS_MAX_DRIVERS];   /**< peak drive of each driver at level 0 relative to its band weight, dB */
	double align_us[SS_INPUTS];  /**< delay added to each path so that all arrive together, microseconds */
	float ceiling[SS_MAX_DRIVERS];      /**< each driver's true-peak ceiling, linear full scale */

	bool upmix_enabled;
	double upmix_smoothing_ms;
	bool virtualizer_enabled;
};

SS_EXPORT void ss_filterset_free(struct ss_filterset *fs);

/** The FIR [taps] from processed input `in` to driver `drv` at effort level `level` (0 .. n_levels - 1). */
static inline const float *ss_filterset_fir(const struct ss_filterset *fs, int in, int level, int drv)
{
	return fs->fir + (((size_t)in * (size_t)fs->n_levels + (size_t)level) * (size_t)fs->n_drivers + (size_t)drv) *
		(size_t)fs->taps;
}

/** The plain feed's FIR [taps] from dry input `in` (0 = L, 1 = R) to driver `drv`. */
static inline const float *ss_filterset_plain_fir(const struct ss_filterset *fs, int in, int drv)
{
	return fs->plain_fir + ((size_t)in * (size_t)fs->n_drivers + (size_t)drv) * (size_t)fs->taps;
}

/* The engine's fixed delays, which the published latency adds up (the engine honours them). */
#define SS_UPMIX_FRAME_HOPS 4        /* the upmix's STFT frame in hops: it delays by (frame - 1) hops */
#define SS_LOOKAHEAD_MS 1.0          /* the output limiter's look-ahead */
#define SS_TRUEPEAK_HALF 6           /* half the length of the limiter's 4x true-peak interpolator, samples */

/** The output limiter's delay at `rate`: its look-ahead plus the true-peak interpolator's, samples. */
SS_EXPORT int ss_lookahead_samples(double rate);

/** Input to acoustic reference arrival at the ears, samples: engine block + upmix + the designed arrival + the
 * limiter's delay. Fixed for the filter set (what ProcessLatency publishes). */
SS_EXPORT int ss_filterset_latency(const struct ss_filterset *fs);

/** Engine block, FIR length and upmix hop used at `rate` for a profile asking `taps` and `block` at 48 kHz
 *  (both scale with the rate by powers of two; the hop is 128 at 48 kHz). */
SS_EXPORT void ss_filterset_sizes(double rate, int taps48, int block48, int *block, int *taps, int *hop);

#endif
