/* Soundstage: the virtualizer.
 *
 * A virtual source at +angle (the left loudspeaker of a reference stereo pair) is described by what it does at
 * the two ears, relative to each other: an all-pass for the ipsilateral (near) ear, which keeps the tonal
 * balance, and a delayed first-order low-pass for the contralateral (far) ear:
 *     ipsi(f)   = (1 - j f/fa) / (1 + j f/fa)            (fa = 0: no all-pass, ipsi = 1)
 *     contra(f) = g / (1 + j f/fc) * exp(-j 2 pi f tau)
 * The four parameters are fitted to the rigid-sphere head model (head.h) for a source at +angle, minimising the
 * error in ILD per octave (500 Hz .. 8 kHz) and ITD (interaural phase delay over 500 .. 1500 Hz).
 * The right virtual source is the mirror image. Design-time, double.
 */
#ifndef SS_VIRTUALIZER_H
#define SS_VIRTUALIZER_H

#include <complex.h>

#include "../acoustics/plant.h"

struct ss_virtualizer {
	double angle_deg;   /**< reference source azimuth (+left) */
	double distance;    /**< m, reference source distance used for the fit */
	double gain;        /**< g, linear */
	double fc;          /**< Hz, contralateral low-pass corner */
	double delay;       /**< s, contralateral delay tau */
	double allpass_fc;  /**< Hz, ipsilateral all-pass corner fa (0 = none) */
	double fit_ild_rms_db; /**< rms ILD error per octave of the fit against the sphere, dB */
	double fit_itd_err_us; /**< ITD error of the fit, microseconds */
};

/** Fit the virtualizer to a source at `angle_deg` and `distance` m on the design's sphere. */
void ss_virtualizer_fit(double angle_deg, double distance, struct ss_virtualizer *v);
/** The same on `head` (a sphere, or a measured head's set; NULL: the design's sphere). */
void ss_virtualizer_fit_on(double angle_deg, double distance, const struct ss_listener *head,
		struct ss_virtualizer *v);

/** Ear responses (relative to the source's free-field pressure at the head centre) of a real point source at
 * `angle_deg` (+left) and `distance` m on `head` (NULL: the design's sphere) at the `n` frequencies `f`. 0, or
 * -ENOMEM (a measured head's lookup). */
int ss_listener_source_ears(const struct ss_listener *head, double angle_deg, double distance, int n,
		const double *f, double complex *left, double complex *right);

/** Ear responses of the left virtual source: out[0] = ipsilateral (left ear), out[1] = contralateral. */
void ss_virtualizer_response(const struct ss_virtualizer *v, double f, double complex out[2]);

/** Interaural measures used throughout (tests, fit, predictions), from ear responses sampled at `n` frequencies
 * `f` (Hz, increasing): ITD (s) as the mean interaural phase delay over 500..1500 Hz (positive when the left ear
 * leads), and the ILD (dB, left over right) in the four octaves from 500 Hz to 8 kHz. */
#define SS_ILD_OCTAVES 4
double ss_interaural_itd(int n, const double *f, const double complex *left, const double complex *right);
void ss_interaural_ild(int n, const double *f, const double complex *left, const double complex *right,
		double ild_db[SS_ILD_OCTAVES]);
extern const double ss_ild_octave_centres[SS_ILD_OCTAVES];

#endif
