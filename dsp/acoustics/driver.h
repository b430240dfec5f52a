/* Soundstage: driver radiation model (free field).
 *
 * A driver is a point source with a directivity factor along its axis: omnidirectional ("point"), or a
 * circular piston in an infinite baffle of radius `radius` over the front half-space ("piston"), continued
 * behind the baffle plane by a taper that grows with ka (a box radiates almost omnidirectionally at low
 * frequency and shadows its back at high frequency). Design-time code, double precision.
 */
#ifndef SS_DRIVER_H
#define SS_DRIVER_H

#include <complex.h>

#include "../profile.h"

/** Real directivity factor (0..1] of driver `d` at frequency `f` (Hz), for a direction at cosine `cos_psi`
 * from its axis. 1 on axis. */
double ss_driver_directivity(const struct ss_driver *d, double f, double cos_psi, double c);

/** Complex free-field pressure at `point` (listener frame, m) from driver `d` of a device whose centre is at
 * `device` (listener frame): directivity * e^{-jkr}/r. */
double complex ss_driver_field(const struct ss_driver *d, const double device[3], double f, const double point[3],
		double c);

/** Driver position in the listener frame (device centre at [D 0 0]). */
void ss_driver_world_position(const struct ss_driver *d, const double device[3], double out[3]);

#endif
