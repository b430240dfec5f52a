/* Soundstage: the centre channel's beamformer.
 *
 * Directions are in the device frame: azimuth 0 points at the listener, +90 deg toward the listener's left
 * (+y), elevation positive up; u(az, el) = [-cos az cos el, sin az cos el, sin el] in listener-frame axes.
 * Responses are evaluated at the listener distance R from the device centre (near field included) and are
 * relative to an omnidirectional source at the device centre (e^{-jkR}/R): the steering vector a(u).
 *
 * Inside the beam band the weights minimise, over a grid of directions on the sphere,
 *     sum_u  weight(u) |a(u)^T w - t(u)|^2  +  mu sum_i |w_i / b_i|^2
 * where t is the wanted pattern: 1 toward the listener, a smooth main lobe down to about -4.5 dB at
 * +-lobe, and 0 from about 1.67 x lobe outward, with heavy weight on the horizontal nulls at +-null. The result
 * is normalised to exactly 1 toward the listener, and mu is the smallest value that keeps every |w_i| under the
 * effort cap. Where that beam would be less directive than the equal feed (a long array whose own lobe is
 * narrower than the one asked for: widening it costs more directivity than the nulls win), the weights instead
 * minimise the power radiated into a diffuse field (the sphere grid's solid angles) subject to exactly 1 toward
 * the listener and 0 at the horizontal +-null directions (LCMV), loaded diagonally to stay under the effort cap;
 * the lobe is then the aperture's own. Outside the band the centre is reproduced without beamforming (ss_centre_plain), and the two
 * are cross-faded over a third of an octave at each band edge. Design-time, double.
 */
#ifndef SS_BEAM_H
#define SS_BEAM_H

#include <complex.h>

#include "../acoustics/driver.h"
#include "../profile.h"

#define SS_BEAM_MAX_DIRS 256

struct ss_beam_grid {
	int n;
	double u[SS_BEAM_MAX_DIRS][3];
	double weight[SS_BEAM_MAX_DIRS];
	double target[SS_BEAM_MAX_DIRS];
	double solid[SS_BEAM_MAX_DIRS];   /* solid-angle weight of each direction (for directivity) */
};

/** Unit vector for a device-frame direction (degrees). */
void ss_beam_direction(double az_deg, double el_deg, double u[3]);

/** Steering vector a[0..n_drivers-1] toward `u` at frequency `f` (the nominal radiation model). */
void ss_beam_steering(const struct ss_profile *p, double f, const double u[3], double complex *a);
/** The same under radiation model `rad`. */
void ss_beam_steering_as(const struct ss_profile *p, double f, const double u[3], const struct ss_radiation *rad,
		double complex *a);

/** Build the design grid (directions, weights, target pattern) for the profile's beam settings. */
void ss_beam_grid_init(const struct ss_profile *p, struct ss_beam_grid *g);

/** Beam weights at `f`, normalised to 1 toward the listener, every |w_i| within `cap` (linear) where any beam can be.
 * Returns max |w_i|. */
double ss_beam_solve(const struct ss_profile *p, const struct ss_beam_grid *g, double f, double cap,
		double complex *w);

/** The plain centre feed: every driver that plays `f` (by band weight), phase-aligned at the listener, summing
 * to 1 there. */
void ss_centre_plain(const struct ss_profile *p, double f, double complex *w);

/** The comparison feed: the same drivers fed equally and in phase (no delays), summing to 1 toward the
 * listener in magnitude. Used for judging the beam, not for playback. */
void ss_centre_equal(const struct ss_profile *p, double f, double complex *w);
/** The same, normalised under radiation model `rad`. */
void ss_centre_equal_as(const struct ss_profile *p, double f, const struct ss_radiation *rad, double complex *w);

/** Blend factor (0 = beam, 1 = plain) for frequency `f` given the beam band. */
double ss_beam_blend(const struct ss_profile *p, double f);

#endif
