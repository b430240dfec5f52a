/* Soundstage: test programmes: deterministic signals for judging the engine (loudness, separation, artefacts) and
 * for tests and benchmarks. All float, mono or planar; `seed` makes noise repeatable. Not real-time code.
 */
#ifndef SS_PROGRAMME_H
#define SS_PROGRAMME_H

#include <stdint.h>

#include "../util/export.h"

/** Pink noise (-3 dB per octave from about 10 Hz to 20 kHz at 48 kHz: Paul Kellet's refined filter on white
 * Gaussian noise) into x[n], scaled so that its peak is `peak`. */
SS_EXPORT void ss_programme_pink(uint64_t seed, float *x, long n, float peak);

/** Scale x[n] and y[n] (may be NULL) by one gain so that their joint peak is `peak`. */
SS_EXPORT void ss_programme_normalise(float *x, float *y, long n, float peak);

/** Logarithmic sine sweep from f0 to f1 Hz over n samples at `rate`, amplitude `amp`. */
SS_EXPORT void ss_programme_sweep(float *x, long n, double rate, double f0, double f1, float amp);

/** Square wave of `freq` Hz, amplitude `amp` (naive, with its aliases: a nasty input). */
SS_EXPORT void ss_programme_square(float *x, long n, double rate, double freq, float amp);

/** SMPTE RP120 intermodulation test signal: `f_lo` and `f_hi` Hz at 4:1 amplitude, peak `peak`. */
SS_EXPORT void ss_programme_smpte(float *x, long n, double rate, double f_lo, double f_hi, float peak);

/** A "clipped master": pink noise driven `drive_db` into a hard clip at `peak` (square-topped peaks, flat crest). */
SS_EXPORT void ss_programme_clipped(uint64_t seed, float *x, long n, float peak, double drive_db);

/** An instrument playing notes: harmonic tones (10 partials falling as 1/h, fundamentals 100-800 Hz), each 150-500 ms
 * with a 5 ms attack and an exponential decay, the next starting before the last has died away, with a breath of
 * noise 40 dB down. Music-like: sparse in time and frequency, unlike noise. Peak `peak`. */
SS_EXPORT void ss_programme_notes(uint64_t seed, float *x, long n, double rate, float peak);

#endif
