/* Soundstage: the plain stereo feed, the path `soundstage.enabled = false` crossfades to.
 *
 * No upmix, no virtualizer, no cancellation, no beam: each driver plays its own band (the same LR4 band weights
 * as the processed path) of the input on its side of the device: L for drivers left of centre (+y), R for those
 * right of it, (L + R) / 2 for drivers within 1 cm of the centre line. Per frequency the weights are normalised
 * so each input's contributions sum to the system envelope. Each driver is delayed so that it reaches the head
 * centre at the processed path's reference arrival: switching between the two never shifts the image in time.
 * The level is matched to the processed path (ear power for a one-sided input, 200 Hz - 8 kHz, pink weighting),
 * within the processed path's headroom. Design-time, double.
 */
#ifndef SS_PLAIN_H
#define SS_PLAIN_H

#include <complex.h>

#include "../profile.h"

/** Plain-feed pan gain of driver `d` for input 0 (L) or 1 (R). */
double ss_plain_pan(const struct ss_driver *d, int input);

/** Fill `Wp` [2][n][K] (bins k of an N = 2 (K - 1) point grid at `rate`) with the plain feed arriving at the
 * ears at `arrival` samples, and set `trim_db` to the trim that matches its level to the processed left path `Wl`
 * [n][K] without exceeding `max_sum` (the processed path's peak sum-of-magnitudes bound). 0, or -ENOMEM. */
int ss_plain_design(const struct ss_profile *p, double rate, int K, double arrival, const double complex *Wl,
		double max_sum, double complex *Wp, double *trim_db);

#endif
