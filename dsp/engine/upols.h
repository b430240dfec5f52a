/* Soundstage: uniformly partitioned overlap-save FIR matrix convolution (UPOLS), the building block of the
 * convolver (convolver.h combines two of these).
 *
 * n_in inputs x n_out outputs, each pair with its own FIR of `taps` samples, in blocks of `block` samples (FFT size
 * 2 x block, ceil(taps / block) partitions). Each input is transformed once per block into a frequency-domain delay
 * line shared by every output; each output needs one inverse transform. Per block: n_in forward FFTs, n_out
 * inverse FFTs and n_in x n_out x partitions x block complex multiply-adds (SIMD, cmac.h).
 * new/free allocate; everything else is real-time safe.
 */
#ifndef SS_UPOLS_H
#define SS_UPOLS_H

struct ss_upols;

/** `fir` is [n_in][n_out][taps] (row-major). NULL on failure. */
struct ss_upols *ss_upols_new(int n_in, int n_out, int block, int taps, const float *fir);
void ss_upols_free(struct ss_upols *c);
void ss_upols_reset(struct ss_upols *c);

/** Transform the next input block in[n_in][block] into a staging area (n_in forward FFTs); `commit` then enters it
 *  into the delay line. Split so that the transform and the multiply-adds of one block can run at different times.
 *  `push` does both. */
void ss_upols_transform(struct ss_upols *c, const float *const *in);
void ss_upols_commit(struct ss_upols *c);
void ss_upols_push(struct ss_upols *c, const float *const *in);

/** The outputs of the newest committed block: out[n_out][block]. */
void ss_upols_render(struct ss_upols *c, float *const *out);
/** Outputs first .. first + count - 1 only, into out[count][block]. */
void ss_upols_render_range(struct ss_upols *c, int first, int count, float *const *out);

#endif
