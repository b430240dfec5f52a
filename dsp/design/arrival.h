/* Soundstage: arrival time of a designed path, the measure delay alignment uses.
 *
 * A response on bins 0..L of a 2L-point grid (complex, at `rate`): the position (samples, may be negative) of the
 * peak of its band-limited (300 Hz .. 6 kHz) impulse response's envelope (the analytic signal's magnitude, so that
 * a path whose phase an all-pass turns, like the virtualizer's ipsilateral one, is timed by its energy and not by
 * which lobe of its carrier is the largest), refined by parabolic interpolation.
 * Design-time code, double precision.
 */
#ifndef SS_ARRIVAL_H
#define SS_ARRIVAL_H

#include <complex.h>

/** The arrival, or NaN when out of memory. */
double ss_arrival_samples(const double complex *resp, int L, double rate);

#endif
