/* Soundstage: rigid-sphere head model (Duda & Martens, JASA 104(5), 1998) and Woodworth's ITD.
 *
 * Convention: time dependence e^{+jwt}, so a delay tau is e^{-jw tau}; outgoing spherical Hankel functions of
 * the second kind h_m = j_m - i y_m. Pressures are relative to the free-field pressure that the same source
 * would give at the head centre with the head absent (e^{-jkr}/r): 1 at DC, about 2 (+6 dB) on the near side
 * at high frequency. Design-time code: double precision, not real-time safe (no allocation either).
 */
#ifndef SS_HEAD_H
#define SS_HEAD_H

#include <complex.h>

#include "../util/units.h"   /* SS_SPEED_OF_SOUND */

#define SS_HEAD_RADIUS 0.0875     /* m */
#define SS_EAR_AZIMUTH_DEG 100.0  /* ears at +-100 deg azimuth: slightly behind the interaural axis (KEMAR fit) */

/** Pressure on a rigid sphere of radius `a` (m) at `n` surface points, for a point source at distance `r`
 * (m, > a) from the centre at frequency `f` (Hz). `cos_theta[i]` is the cosine of the angle between the
 * surface point and the source direction, seen from the centre. Output `h[i]` is relative to the free-field
 * pressure at the centre. */
void ss_sphere_pressure(double f, double r, double a, double c, int n, const double *cos_theta,
		double complex *h);

/** Single-point convenience form of ss_sphere_pressure. */
double complex ss_sphere_pressure1(double f, double r, double a, double c, double cos_theta);

/** Woodworth's high-frequency ITD (s) for a far source at azimuth `az` (rad, 0..pi/2), ears at +-90 deg. */
double ss_woodworth_itd(double az, double a, double c);

/** Unit vector of the left (ear = 0) or right (ear = 1) ear for ears at +-`ear_az_deg` azimuth. */
void ss_ear_direction(int ear, double ear_az_deg, double out[3]);

#endif
