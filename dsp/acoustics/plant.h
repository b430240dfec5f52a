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
#include "../util/export.h"
#include "driver.h"
#include "hrtf.h"
#include "measured.h"

/** Evaluate the plant at frequency `f` (Hz) for a head displaced by `head_offset` (m, listener frame) from the
 * nominal position. Fills C[0..1][0..n_drivers-1]. */
void ss_plant_eval(const struct ss_profile *p, const double head_offset[3], double f,
		double complex C[2][SS_MAX_DRIVERS]);

/** Ear pressures (relative, as above) of a real point source at azimuth `az_deg` (listener frame, +left) and
 * distance `r` from the head centre: out[0] left ear, out[1] right ear. */
void ss_real_source_ears(double az_deg, double r, double f, double reference_distance, double complex out[2]);

/** A listener's head: a rigid sphere, or a measured set of head-related responses. */
struct ss_listener {
	const char *name;
	double radius;                 /**< m, the sphere's */
	double ear_az_deg;             /**< the sphere's ears at +-this azimuth */
	const struct ss_hrtf *hrtf;    /**< a measured head instead of the sphere, or NULL */
};
/** The head the design inverts: a sphere of 8.75 cm, ears at +-100 degrees. */
SS_EXPORT extern const struct ss_listener ss_listener_design;
/** The same sphere with its ears at +-90 degrees: the first head the design is judged on besides its own. */
SS_EXPORT extern const struct ss_listener ss_listener_sphere90;

/** ss_real_source_ears on `head`'s sphere (its radius and ear angle; a measured head's set is not used here). */
void ss_listener_point_ears(const struct ss_listener *head, double az_deg, double r, double f,
		double reference_distance, double complex out[2]);

/** A whole model of what reaches the ears: a head, how the drivers radiate, where the head is. */
struct ss_plant_model {
	struct ss_listener head;
	struct ss_radiation radiation;
	double offset[3];              /**< m, head centre from the nominal position (listener frame) */
	/** the drivers as measured at the nominal position (measured.h), or NULL: where the measurement holds it
	 * replaces the model (blended by its weight); for a displaced head it is carried over by the change the
	 * sphere predicts between the two positions (limited to +-6 dB) */
	const struct ss_measured *measured;
};

struct ss_plant;

/** Prepare `m` for profile `p` (a measured head's responses are looked up once per driver). NULL when out of
 * memory. The profile and the head's set must outlive the plant. */
SS_EXPORT struct ss_plant *ss_plant_new(const struct ss_profile *p, const struct ss_plant_model *m);
SS_EXPORT void ss_plant_free(struct ss_plant *pl);
/** C[ear][driver] at `f` Hz under the model, in the same reference as ss_plant_eval. */
SS_EXPORT void ss_plant_at(const struct ss_plant *pl, double f, double complex C[2][SS_MAX_DRIVERS]);

/** The device centre in the listener frame: [D 0 0]. */
void ss_device_centre(const struct ss_profile *p, double out[3]);

/** How much later (s) driver `i` reaches the head centre than a source at the device centre would. */
double ss_driver_extra_delay(const struct ss_profile *p, int i);

#endif
