/* Soundstage: FIR matrix convolution, uniformly partitioned overlap-save in the frequency domain.
 *
 * n_in inputs x n_out outputs, each pair with its own FIR of `taps` samples, in blocks of `block` samples
 * (FFT size 2 x block, ceil(taps / block) partitions). Each input is transformed once per block and kept in a
 * frequency-domain delay line shared by every output; each output needs one inverse transform.
 * Per block: n_in forward FFTs, n_out inverse FFTs and n_in x n_out x partitions complex multiply-adds of
 * (block + 1) bins. Latency: none beyond the block itself (outputs for a block are ready when it is given).
 * new/free allocate; process and reset are real-time safe.
 */
#ifndef SS_CONVOLVER_H
#define SS_CONVOLVER_H

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

#endif
