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

/** How a piston driver radiates, beyond its profile: a model, and the uncertainty the design must survive. */
struct ss_radiation {
	double radius_scale;   /**< effective piston radius over the driver's radius: how soon it beams */
	double back_depth;     /**< how far below its 90-degree level it falls straight behind, once ka >= 1
	                            (0.8: -14 dB) */
};
/** The design's model: the profile's radius, -14 dB behind. */
extern const struct ss_radiation ss_radiation_nominal;
/** The alternative the design must also hold on: a small box, where the cabinet diffracts and the cone breaks up,
 * beams later (0.7 of the radius) and radiates more behind (-6 dB). */
extern const struct ss_radiation ss_radiation_wide;

/** Real directivity factor (0..1] of driver `d` at frequency `f` (Hz), for a direction at cosine `cos_psi`
 * from its axis. 1 on axis. The nominal model. */
double ss_driver_directivity(const struct ss_driver *d, double f, double cos_psi, double c);
/** The same under radiation model `rad`. */
double ss_driver_directivity_as(const struct ss_driver *d, double f, double cos_psi, double c,
		const struct ss_radiation *rad);

/** Complex free-field pressure at `point` (listener frame, m) from driver `d` of a device whose centre is at
 * `device` (listener frame): directivity * e^{-jkr}/r. The nominal model. */
double complex ss_driver_field(const struct ss_driver *d, const double device[3], double f, const double point[3],
		double c);
/** The same under radiation model `rad`. */
double complex ss_driver_field_as(const struct ss_driver *d, const double device[3], double f, const double point[3],
		double c, const struct ss_radiation *rad);

/** Driver position in the listener frame (device centre at [D 0 0]). */
void ss_driver_world_position(const struct ss_driver *d, const double device[3], double out[3]);

#endif
