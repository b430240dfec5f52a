/* Soundstage: stereo upmix L/R -> L', R', C (real-time, float).
 *
 * Short-time Fourier transform (frame 4 x hop, sqrt-Hann analysis and synthesis windows), statistics
 * (powers and cross-power) smoothed over time in frequency bands of about a quarter octave. Model per band:
 * L = c + l, R = c + r with c, l, r mutually uncorrelated. The centre is the least-squares estimate of c,
 *     c^ = (Pc Pr L + Pc Pl R) / (Pc (Pl + Pr) + Pl Pr),   Pc = clamp(Re<L R*>, 0, min(PL, PR)),
 * which is exactly uncorrelated with L - R under the model (the article's "centre minimally correlated with
 * left-minus-right"). L' = L - c^, R' = R - c^, C = sqrt(2) c^, then one common gain per band restores the
 * input power. A hard-panned source leaves C empty; a centre source leaves L', R' empty.
 *
 * Latency: frame - hop = 3 x hop samples. Process is real-time safe.
 */
#ifndef SS_UPMIX_H
#define SS_UPMIX_H

#include <stdbool.h>

#include "../filterset.h"

struct ss_upmix;

/** Latency (samples) of an upmix with hop `block`. */
static inline int ss_upmix_latency(int block) { return (SS_UPMIX_FRAME_HOPS - 1) * block; }

/** `block` is the hop (samples), `rate` Hz, `smoothing_ms` the statistics time constant. `enabled` false makes it
 * a pure delay (L' = L, R' = R, C = 0) of the same latency. */
struct ss_upmix *ss_upmix_new(int block, double rate, double smoothing_ms, bool enabled);
void ss_upmix_free(struct ss_upmix *u);
void ss_upmix_reset(struct ss_upmix *u);

/** The dry input of the hop just processed, delayed by the upmix latency (aligned with its outputs): two
 * [block] arrays valid until the next process or reset. Real-time safe. */
void ss_upmix_dry(const struct ss_upmix *u, const float **l, const float **r);

/** One hop: l, r [block] in; out_l, out_r, out_c [block] out. Real-time safe. */
void ss_upmix_process(struct ss_upmix *u, const float *l, const float *r, float *out_l, float *out_r, float *out_c);

#endif
