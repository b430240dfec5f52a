/* Soundstage: FFTW's planner lock and double-precision transforms for design-time code.
 *
 * FFTW's planner is not thread-safe, and designs run on several threads (the module's worker, tests), beside the
 * engine's single-precision planning (engine/fft.c): every plan is made and destroyed under ss_fftw_lock().
 * struct ss_dft is a real transform of size n (even) in double precision, planned with FFTW_ESTIMATE on its own
 * arrays (a plan is only ever executed on the arrays it was made with). Not real-time safe.
 */
#ifndef SS_DFT_H
#define SS_DFT_H

#include <complex.h>

void ss_fftw_lock(void);
void ss_fftw_unlock(void);

struct ss_dft;

/** Plan both directions for size n. NULL when out of memory. */
struct ss_dft *ss_dft_new(int n);
void ss_dft_free(struct ss_dft *d);

/** in[n] -> spec[n/2 + 1]. */
void ss_dft_r2c(struct ss_dft *d, const double *in, double complex *spec);
/** spec[n/2 + 1] -> out[n], unnormalised (a forward + inverse pair scales by n). The imaginary parts of bins 0 and
 * n/2 are ignored. */
void ss_dft_c2r(struct ss_dft *d, const double complex *spec, double *out);

#endif
