/* Soundstage: FIR matrix convolution, partitioned in the frequency domain in two sizes.
 *
 * n_in inputs x n_out outputs, each pair with its own FIR of `taps` samples, in blocks of `block` samples. The
 * first 4 x block taps run in partitions of `block` (FFT 2 x block), the rest in partitions of 4 x block (FFT
 * 8 x block), scheduled so that the latency is that of the small block alone: none beyond the block itself
 * (outputs for a block are ready when it is given). Filters of 8 blocks or fewer use the small partitions only.
 * Each partition size is a uniformly partitioned convolution (upols.h) with inputs transformed once and shared by
 * every output. For studio-5 at 48 kHz (3 x 5, 2048 taps, block 128) this is 43 % of the multiply-adds of a uniform
 * 128 partitioning. new/free allocate; everything else is real-time safe.
 */
#ifndef SS_CONVOLVER_H
#define SS_CONVOLVER_H

#define SS_CONVOLVER_MAX_IO 256  /* inputs, outputs */

struct ss_convolver;

/** `fir` is [n_in][n_out][taps] (row-major). NULL on failure. */
struct ss_convolver *ss_convolver_new(int n_in, int n_out, int block, int taps, const float *fir);
void ss_convolver_free(struct ss_convolver *c);
void ss_convolver_reset(struct ss_convolver *c);

/** One block: in[n_in][block] -> out[n_out][block]. Same as push then render. */
void ss_convolver_process(struct ss_convolver *c, const float *const *in, float *const *out);

/** The two halves of a block, for a path that is not always heard (the bypass feed): `push` transforms the
 * inputs into the delay line (n_in forward FFTs), `render` computes the outputs of the newest block from it.
 * Pushing every block and rendering only when needed keeps the history exact at a fraction of the cost. */
void ss_convolver_push(struct ss_convolver *c, const float *const *in);
void ss_convolver_render(struct ss_convolver *c, float *const *out);
/** Render outputs first .. first + count - 1 only, into out[count][block]: a consumer that needs some outputs in some
 * blocks (the effort governor's levels) pays for those alone. Any subset may be rendered after each push. */
void ss_convolver_render_range(struct ss_convolver *c, int first, int count, float *const *out);

#endif
