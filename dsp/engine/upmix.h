/* Soundstage: stereo upmix L/R -> L', R', C (real-time, float).
 *
 * Per time-frequency bin of a short-time Fourier transform (frame 4 x hop, sqrt-Hann analysis and synthesis
 * windows), with the channels' powers and cross-power smoothed over time (`smoothing_ms`, default 30). Model per bin: L = c + l, R = c + r with c, l, r mutually uncorrelated (l and r are hard-panned sources and
 * ambience alike). The centre is a weighted least-squares estimate of c,
 *     c^ = (Pc Pr L + Pc Pl R) / (Pc (Pl + Pr) + W Pl Pr),   Pc = clamp(Re<L R*>, 0, min(PL, PR)),
 * uncorrelated with L - R under the model (the article's "centre minimally correlated with left-minus-right").
 * L' = L - c^, R' = R - c^, C = sqrt(2) c^, then one common gain per bin restores the bin's power.
 * Where only one side's uncorrelated part is present with the centre (Pl or Pr near 0) the estimate is exact
 * whatever W: a hard-left and a centre source sharing a bin are separated completely, so that overlapping sources
 * in a mix separate wherever at most two of them meet (music is sparse in time and frequency: this is most bins).
 * Where both sides' are present (ambience, or left, right and centre together) no estimate can separate them;
 * W = 16 (not 1, the least-squares value) keeps that content out of C, at the cost of a centre source under it
 * going partly to L' and R' equally (where it still images at the centre, between the virtual pair).
 * Measured (tests/test_upmix.c: three instruments playing overlapping notes, hard left, hard right and centre, with
 * decorrelated ambience 10 dB below each; hop 256 at 48 kHz): left->C -20.8 dB, right->C -16.4 dB, ambience in C
 * -11.1 dB relative to L'+R', centre->L'+R' -8.1 dB (hop 128 at 44.1 kHz, 86 Hz bins: -19.2, -20.5, -10.7, -5.2).
 * Tried: W = 1 (-15.4, -14.2, -5.6, -13.5 dB: the ambience goes to C), W = 64 or 60 ms (L->C better by 1-3 dB,
 * centre->L'+R' worse by 2-4), 3-bin frequency smoothing (centre->L'+R' worse by 2.4 dB), principal-component
 * primary/ambient decomposition with pairwise panning (one source per bin: centre->L'+R' -2 to -5 dB at -20 dB
 * L->C). With stationary noise stems (no sparsity at all) the centre goes to the sides: left/right->C -14.8/-16.9,
 * centre->L'+R' -0.4 dB.
 * A hard-panned source alone leaves C empty; a centre source alone leaves L', R' empty.
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

/** One hop of other signals (l, r) through the decomposition `key` (same hop) chose for its own input in its last
 * ss_upmix_process: how each stem of a mix is split when the mix is. `u` keeps only its own frames. Real-time safe. */
void ss_upmix_process_as(struct ss_upmix *u, const struct ss_upmix *key, const float *l, const float *r,
		float *out_l, float *out_r, float *out_c);

#endif
