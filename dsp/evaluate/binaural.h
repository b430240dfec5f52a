/* Soundstage: what a stereo system does at two ears, from its measured (or simulated) impulse responses.
 *
 * h[input][ear]: the response from the left (input 0) and right (input 1) input to the left (ear 0) and right ear,
 * as `soundstage verify` measures them through the running sink or an offline evaluation computes them. The figures
 * are those the design predicts (design/predict.h), read from the responses whole (a room's reflections count):
 * separation per band (ipsilateral over contralateral ear, power over the band, the worse input), each image's ITD
 * (mean interaural phase delay over 500..1500 Hz, positive when the left ear leads) and ILD per octave.
 * Evaluation code: double precision, allocates; not real-time.
 */
#ifndef SS_BINAURAL_H
#define SS_BINAURAL_H

#include "../design/predict.h"
#include "../design/virtualizer.h"
#include "../util/export.h"

struct ss_binaural_figures {
	double separation_db[SS_SEP_BANDS];        /**< bands ss_sep_band_edges; the worse of the two inputs */
	double separation_side_db[2][SS_SEP_BANDS]; /**< each input's own: [0] left input, [1] right */
	double itd_us[2];                          /**< the left image's and the right image's ITD */
	double ild_db[2][SS_ILD_OCTAVES];          /**< left over right ear, per octave (ss_ild_octave_centres) */
};

/** Figures from h[input][ear][len] at `rate` Hz. 0, or -ENOMEM / -EINVAL. */
SS_EXPORT int ss_binaural_figures(const double *h[2][2], int len, double rate, struct ss_binaural_figures *out);

/** Separation (dB, the worse input) at the `nf` frequencies `freqs`, sixth-octave power. 0, or -ENOMEM / -EINVAL. */
SS_EXPORT int ss_binaural_separation_curve(const double *h[2][2], int len, double rate, int nf, const double *freqs,
		double *sep_db);

#endif
