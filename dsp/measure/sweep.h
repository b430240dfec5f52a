/* Soundstage: measuring a driver's impulse response with an exponential sine sweep (Farina, AES 108th convention,
 * 2000, "Simultaneous measurement of impulse response and distortion with a swept-sine technique").
 *
 * The sweep runs from f1 to f2 Hz in `seconds` with an exponential frequency law, f(t) = f1 exp(t / L),
 * L = seconds / ln(f2 / f1), faded in and out. Deconvolving the recording by the sweep (a regularised spectral
 * division, the band outside f1..f2 suppressed) gives the linear impulse response at time 0 and each harmonic's
 * response L ln k seconds earlier (at negative times, so at the end of the circular result): a window that starts
 * less than L ln 2 before time 0 holds the linear response alone, whatever the driver's distortion.
 *
 * Units: rate in Hz, times in seconds, signals in full-scale units (1.0 = 0 dBFS). Design-time code (double
 * precision for the analysis, allocation, FFTW planning): not for the real-time thread.
 */
#ifndef SS_SWEEP_H
#define SS_SWEEP_H

#include "../util/export.h"

struct ss_sweep {
	double rate;        /**< Hz */
	double f1, f2;      /**< Hz, the swept band */
	double seconds;     /**< its length */
	double L;           /**< s: seconds / ln(f2 / f1); the k-th harmonic arrives L ln k earlier */
	long n;             /**< samples */
	float *signal;      /**< [n], peak 1.0 (scale it to the level to play at) */
};

/** Make a sweep: 10 <= f1 < f2 <= 0.48 rate, 0.1..60 s, faded in over min(50 ms, a tenth) and out over 10 ms.
 * Returns 0, -EINVAL for impossible parameters, -ENOMEM. */
SS_EXPORT int ss_sweep_make(struct ss_sweep *s, double rate, double f1, double f2, double seconds);
SS_EXPORT void ss_sweep_free(struct ss_sweep *s);

/** Seconds by which the k-th harmonic's response precedes the linear one (k >= 2). */
SS_EXPORT double ss_sweep_harmonic_advance(const struct ss_sweep *s, int k);

/** The linear impulse response from a recording: `rec[n_rec]` was recorded while `s` played at `level` (its peak,
 * full scale), the sweep's first sample at `rec[start]` (the same sample clock). `ir[ir_len]` receives the response
 * from `pre` samples before its time origin, in
 * the units that make `ir` the system's response to a unit impulse. The response is limited to the swept band by a
 * zero-phase regularisation whose edges ring on both sides of every arrival: give `pre` some thousands of samples
 * (and a window as long) to keep that ringing, or the band's bottom octaves come out with a phase error (with no
 * pre-window, a response with content down to the sweep's start is off by 23 dB at 25..100 Hz; with 4096 samples,
 * 33 dB — test_module's sweep_through_rig). ir_len + pre must stay below L ln 2 (the second harmonic's arrival) and
 * below the recording after `start`. Returns 0, -EINVAL, -ENOMEM. */
SS_EXPORT int ss_sweep_deconvolve(const struct ss_sweep *s, double level, const float *rec, long n_rec, long start,
		double *ir, int ir_len, int pre);

/** What a recording says about its own quality. */
struct ss_sweep_quality {
	double peak_dbfs;      /**< the recording's peak */
	long clipped;          /**< samples at or above 0.999 full scale (a clipped recording is not a measurement) */
	double noise_dbfs;     /**< rms of the recording before the sweep's sound arrives (`start` samples), dBFS */
	double inr_db;         /**< impulse-to-noise ratio of the deconvolved response: its peak over the rms of the
	                            deconvolution's noise (between the response window's end and the harmonics), dB */
};

/** Judge a recording (as for ss_sweep_deconvolve). `ir_len` samples after time 0 are taken as the response;
 * the noise is read after it. Returns 0, -EINVAL, -ENOMEM. */
SS_EXPORT int ss_sweep_quality(const struct ss_sweep *s, double level, const float *rec, long n_rec, long start,
		int ir_len, struct ss_sweep_quality *q);

#endif
