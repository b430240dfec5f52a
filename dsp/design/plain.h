/* Soundstage: the plain stereo feed: what the drivers play without Soundstage's processing, and the path
 * `soundstage.enabled = false` and the effort governor's last level play.
 *
 * No upmix, no virtualizer, no cancellation, no beam: each driver plays the input on its side of the device through
 * its own band (the same LR4 band weights as the processed path) at unity gain: L for drivers left of centre (+y), R
 * for those right of it, (L + R) / 2 for drivers within 1 cm of the centre line. Each driver is delayed so that the
 * feed reaches the ears at the processed paths' reference arrival (L at the left ear, R at the right), so switching
 * or blending between the two never shifts the image in time. This is the level reference: the processed paths are
 * matched to it, not it to them. Design-time, double.
 */
#ifndef SS_PLAIN_H
#define SS_PLAIN_H

#include <complex.h>

#include "../profile.h"

/** Plain-feed pan gain of driver `d` for input 0 (L) or 1 (R). */
double ss_plain_pan(const struct ss_driver *d, int input);

/** Fill `Wp` [2][n][K] (bins k of an N = 2 (K - 1) point grid at `rate`) with the plain feed arriving at the ears at
 * `arrival` samples; `C` [K] is the plant at every bin (nominal head position). 0, or -ENOMEM. */
int ss_plain_design(const struct ss_profile *p, double rate, int K, double arrival,
		double complex (*C)[2][SS_MAX_DRIVERS], double complex *Wp);

#endif
