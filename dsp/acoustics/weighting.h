/* Soundstage: frequency weightings for levels: A-weighting (IEC 61672-1) and the pink programme spectrum.
 * Design-time and evaluation code, double precision; no state.
 */
#ifndef SS_WEIGHTING_H
#define SS_WEIGHTING_H

/** A-weighting as a linear magnitude at `f` Hz (1 at 1 kHz, 0 at DC). */
double ss_a_weight(double f);

/** Power weight of a bin at `f` Hz for pink programme: 1/f (equal power per octave) over 20 Hz .. 20 kHz, else 0. */
double ss_pink_weight(double f);

#endif
