/* Soundstage: the drivers-to-ears plant.
 *
 * C[ear][driver] at one frequency: each driver's free-field radiation toward the head centre (directivity and
 * e^{-jkr}/r) times the rigid-sphere pressure at the ear, relative to the reference path: an omnidirectional
 * point source at the device centre heard at the nominal head centre without the head (e^{-jkD}/D). With that
 * reference a single driver at the device centre facing the listener has |C| ~ 1 at low frequency, which is
 * what the effort caps are measured against. ear 0 = left (+y), ear 1 = right.
 * Design-time code, double precision.
 */
#ifndef SS_PLANT_H
#define SS_PLANT_H

#include <complex.h>

#include "../profile.h"

/** Evaluate the plant at frequency `f` (Hz) for a head displaced by `head_offset` (m, listener frame) from the
 * nominal position. Fills C[0..1][0..n_drivers-1]. */
void ss_plant_eval(const struct ss_profile *p, const double head_offset[3], double f,
		double complex C[2][SS_MAX_DRIVERS]);

/** Ear pressures (relative, as above) of a real point source at azimuth `az_deg` (listener frame, +left) and
 * distance `r` from the head centre: out[0] left ear, out[1] right ear. */
void ss_real_source_ears(double az_deg, double r, double f, double reference_distance, double complex out[2]);

/** The device centre in the listener frame: [D 0 0]. */
void ss_device_centre(const struct ss_profile *p, double out[3]);

/** How much later (s) driver `i` reaches the head centre than a source at the device centre would. */
double ss_driver_extra_delay(const struct ss_profile *p, int i);

#endif
