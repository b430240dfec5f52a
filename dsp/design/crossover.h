/* Soundstage: band weights. Each driver plays only its own band: its weight is the magnitude of a
 * 4th-order Linkwitz-Riley high-pass at band[0] times a low-pass at band[1]. The design solvers use the weights
 * as per-driver preferences (a driver outside its band is penalised as 1/weight^2), so the drivers' outputs
 * sum to the target at the ears whatever their phases; the system envelope is the same shape at the lowest and
 * highest band edges. Effort caps count a driver's drive relative to its weight: a driver is never driven hard
 * outside its band (below it its excursion grows fast, above it it beams and breaks up). Design-time, double. */
#ifndef SS_CROSSOVER_H
#define SS_CROSSOVER_H

#include "../profile.h"

/** Band weight (0..1] of driver `d` at `f` Hz (never exactly 0: floored at 1e-4). */
double ss_band_weight(const struct ss_driver *d, double f);

/** The whole system's envelope: high-pass at the lowest band edge, low-pass at the highest. */
double ss_system_envelope(const struct ss_profile *p, double f);

#endif
