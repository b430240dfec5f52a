/* Soundstage: a designed filter set, the immutable result of designing a profile at one sample rate.
 *
 * The engine runs it: three inputs (upmixed L', R', C) through an FIR matrix to N drivers. Made and freed off
 * the real-time thread; handed to the engine by pointer.
 */
#ifndef SS_FILTERSET_H
#define SS_FILTERSET_H

#include <stdbool.h>

#include "../profile.h"
#include "../util/export.h"
#include "virtualizer.h"

#define SS_INPUTS 3
enum ss_input { SS_IN_LEFT = 0, SS_IN_RIGHT = 1, SS_IN_CENTRE = 2 };

struct ss_filterset {
	struct ss_profile profile;   /**< the profile it was designed from (copied) */
	double rate;                 /**< Hz */
	int n_drivers;
	int taps;                    /**< FIR length, samples */
	int block;                   /**< engine block (the small partition and the latency it adds), samples */
	int upmix_hop;               /**< upmix STFT hop, samples (the block is a multiple; its frame is 4 hops) */
	int model_delay;             /**< bulk delay built into every FIR, samples */
	int latency;                 /**< input to acoustic output at the reference point, samples (fixed) */
	float *fir;                  /**< [SS_INPUTS][n_drivers][taps]: fir[(in * n_drivers + drv) * taps + t] */
	float *plain_fir;            /**< [2][n_drivers][taps]: the plain stereo feed (bypass), dry L/R in */
	double plain_trim_db;        /**< level match of the plain feed to the processed path, dB (in plain_fir) */
	double arrival;              /**< reference arrival of every path after model_delay, samples */
	double effort_db[SS_MAX_DRIVERS];   /**< peak |W| per driver over inputs and frequency, dB */
	double headroom_db[SS_MAX_DRIVERS]; /**< gain applied to keep full-scale programme below clipping, dB */
	double gain_db[SS_MAX_DRIVERS];     /**< total static gain folded into the FIRs (headroom, trims, master) */
	double align_us[SS_INPUTS];  /**< delay added to each path so that all arrive together, microseconds */
	bool upmix_enabled;
	double upmix_smoothing_ms;
	float limit;                 /**< limiter ceiling, linear */
	struct ss_virtualizer virt;
	bool virtualizer_enabled;
};

struct ss_design_options {
	bool ctc_only;       /**< design with the virtualizer off whatever the profile says */
	bool no_headroom;    /**< leave the static headroom gain out (for model predictions against targets) */
};

/** Design the filters for `p` at `rate` Hz. Returns 0 or a negative errno with `err` filled in. */
SS_EXPORT int ss_design(const struct ss_profile *p, double rate, const struct ss_design_options *opt,
		struct ss_filterset **out, struct ss_error *err);

SS_EXPORT void ss_filterset_free(struct ss_filterset *fs);

/** Engine block, FIR length and upmix hop used at `rate` for a profile asking `taps` and `block` at 48 kHz
 *  (both scale with the rate by powers of two; the hop is 128 at 48 kHz). */
SS_EXPORT void ss_design_sizes(double rate, int taps48, int block48, int *block, int *taps, int *hop);

#endif
