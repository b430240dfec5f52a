/* Soundstage: predicted figures of a designed filter set, from its actual FIRs (float taps, as they run)
 * through the acoustic model: rigid-sphere head, free-field drivers, shoebox image-source room.
 * All band figures are averaged in power over the band. Design-time, double.
 */
#ifndef SS_PREDICT_H
#define SS_PREDICT_H

#include <stdbool.h>

#include "../util/export.h"
#include "../filterset.h"
#include "../acoustics/plant.h"
#include "virtualizer.h"

#define SS_SEP_BANDS 3    /* 200-1k, 1k-4k, 4k-8k Hz */
#define SS_OFFSETS 5      /* lateral head offsets -5, -2, 0, +2, +5 cm */

extern const double ss_sep_band_edges[SS_SEP_BANDS][2];
extern const double ss_offsets_cm[SS_OFFSETS];

struct ss_prediction {
	/* ipsilateral over contralateral ear level for a hard-left (and, mirrored, hard-right) input, the worse of
	 * the two, per band and lateral head offset */
	double separation_db[SS_SEP_BANDS][SS_OFFSETS];

	/* virtual sources against real sources at +-angle on the same head: the left image (hard-left input) and the
	 * right one */
	double itd_us, itd_real_us;                 /**< left image; ITD positive when the left ear leads */
	double ild_db[SS_ILD_OCTAVES], ild_real_db[SS_ILD_OCTAVES];
	double ild_rms_err_db;
	double itd_right_us, itd_right_real_us;     /**< the right image (negative ITDs) */
	double ild_rms_err_right_db;
	double colouration_db;                      /**< the worse image's ipsilateral third-octave level against the
	                                                 real source's, largest deviation from its mean, 500 Hz-8 kHz */

	/* centre beam over the beam band (valid when beam_valid) */
	bool beam_valid;
	double beam_fsr_db;            /**< 0 deg over the mean of +-90 deg, free field at the listener distance */
	double beam_width_deg;         /**< -6 dB half-width of the main lobe (the narrower side) */
	double beam_di_db;             /**< directivity index of the beam */
	double equal_fsr_db, equal_width_deg, equal_di_db; /**< the same drivers fed equally and in phase */
	double room_reflection_db;     /**< first side-wall reflections at the listener, beam minus equal feed */
	double room_reflection_direct_db; /**< beam's side-wall reflections relative to its direct sound */
	double room_rt60_s;            /**< RT60 of the simulated room (Eyring) */

	double effort_db[SS_MAX_DRIVERS];
	double peak_effort_db;
	int latency;
};

struct ss_predict_options {
	const struct ss_listener *head;         /**< the head the figures are measured on; NULL: the design's */
	const struct ss_radiation *radiation;   /**< how the drivers radiate; NULL: the design's (nominal) model */
	double effort;                          /**< the effort governor's index (0: the full design) */
};

/** Predict on the model `opt` describes (NULL: the design's own head and drivers, full effort). 0, or -ENOMEM. */
SS_EXPORT int ss_predict_with(const struct ss_filterset *fs, const struct ss_predict_options *opt,
		struct ss_prediction *out);

/** Predict the full design (effort level 0). 0, or -ENOMEM. */
SS_EXPORT int ss_predict(const struct ss_filterset *fs, struct ss_prediction *out);
/** Predict what plays with the effort governor steady at `effort` (a fractional level index, 0 .. n_levels). */
SS_EXPORT int ss_predict_at(const struct ss_filterset *fs, double effort, struct ss_prediction *out);

/* Curves for plots (the same model as ss_predict_with reads `opt`; NULL: the design's own plant, full effort). */

/** Separation (dB, ipsilateral over contralateral, the worse input; sixth-octave power) at the `nf` frequencies
 * `freqs` with the head at `offset` (m, listener frame). 0, or -ENOMEM. */
SS_EXPORT int ss_predict_separation_curve(const struct ss_filterset *fs, const struct ss_predict_options *opt,
		const double offset[3], int nf, const double *freqs, double *sep_db);
/** Separation over [lo_hz, hi_hz) with the head at each of `n` offsets (m): a sweet-spot map. 0, or -ENOMEM. */
SS_EXPORT int ss_predict_separation_map(const struct ss_filterset *fs, const struct ss_predict_options *opt,
		double lo_hz, double hi_hz, int n, const double (*offsets)[3], double *sep_db);
/** The centre beam's free-field power at azimuths `az_deg` (horizontal, 0 = toward the listener) summed over
 * [lo_hz, hi_hz), dB relative to its largest; the same drivers fed equally in `equal_db`. 0, or -ENOMEM. */
SS_EXPORT int ss_predict_beam_pattern(const struct ss_filterset *fs, double lo_hz, double hi_hz, int n,
		const double *az_deg, double *beam_db, double *equal_db);
/** Each driver's filter gain from input `in` (full design, static gains and trims removed), dB, sixth-octave
 * power at `freqs`: gain_db[driver][nf]. 0, or -ENOMEM. */
SS_EXPORT int ss_predict_driver_gains(const struct ss_filterset *fs, int in, int nf, const double *freqs,
		double *gain_db);

#endif
