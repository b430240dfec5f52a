/* Soundstage: what reaches the listener's ears from the drivers' signals.
 *
 * Driver signals (what the engine played) are taken to the ears through a plant model, frequency by frequency:
 * the power spectral density at each ear by Welch's method (Hann frames, half overlap), from which levels over a
 * band, A-weighted or not, follow. The plant is a callback so that a figure can be measured through a model other
 * than the one the design inverted. Evaluation code: double precision, allocates; not real-time.
 */
#ifndef SS_EARS_H
#define SS_EARS_H

#include <complex.h>
#include <stdbool.h>

#include "../profile.h"
#include "../util/export.h"

/** A plant: C[ear][driver] at f Hz (ear 0 = left), relative to a point source at the device centre heard at the
 * head centre without the head. */
typedef void (*ss_plant_fn)(void *data, double f, double complex C[2][SS_MAX_DRIVERS]);

/** The design's own plant (acoustics/plant.h) with the head displaced by `offset` (m): data is a
 * struct ss_design_plant. */
struct ss_design_plant {
	const struct ss_profile *profile;
	double offset[3];
};
SS_EXPORT void ss_design_plant_eval(void *data, double f, double complex C[2][SS_MAX_DRIVERS]);

struct ss_ear_psd {
	int nfft, bins;        /**< bins = nfft / 2 + 1 */
	double rate;
	long frames;           /**< Welch frames averaged */
	double *ear[2];        /**< [bins]: mean |X_ear(k)|^2 per frame, Hann-windowed */
};

/** The ears' PSD of driver signals y[n_drivers][...] over samples [start, start + len). 0, or -ENOMEM / -EINVAL
 * (fewer samples than one frame). Free with ss_ear_psd_free. */
SS_EXPORT int ss_ear_psd(int n_drivers, const float *const *y, long start, long len, double rate, int nfft,
		ss_plant_fn plant, void *data, struct ss_ear_psd *out);
SS_EXPORT void ss_ear_psd_free(struct ss_ear_psd *psd);

/** Power at `ear` (0, 1, or -1 for both summed) over [f_lo, f_hi) Hz, A-weighted when asked; linear (the ratio of
 * two such powers is what levels compare). */
SS_EXPORT double ss_ear_power(const struct ss_ear_psd *psd, int ear, double f_lo, double f_hi, bool a_weighted);

#endif
