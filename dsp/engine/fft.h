/* Soundstage: real FFT (single precision) behind a small interface, backed by FFTW3f.
 *
 * Spectra are in split form: re[0..n/2] and im[0..n/2] (FFTW runs interleaved; this interface splits). Plans are made
 * in ss_fft_new (not real-time safe);
 * forward and inverse are real-time safe (no allocation, no locks, no syscalls) provided every buffer comes
 * from ss_fft_alloc (SIMD-aligned). The inverse is unnormalised (a forward+inverse pair scales by n).
 */
#ifndef SS_FFT_H
#define SS_FFT_H

#include <stddef.h>

#include "../util/export.h"

struct ss_fft;

/** Plan a real FFT of even size n. NULL on failure. */
struct ss_fft *ss_fft_new(int n);
void ss_fft_free(struct ss_fft *f);

/** in[n] -> re[n/2+1], im[n/2+1]. `in` is preserved. */
void ss_fft_forward(struct ss_fft *f, const float *in, float *re, float *im);

/** The inverse's own input arrays [n/2+1] (write a spectrum re, im [n/2+1] there, then ss_fft_inverse_run; unnormalised),
 * and the run that returns its output [n], valid until the next inverse. */
void ss_fft_inverse_input(struct ss_fft *f, float **re, float **im);
const float *ss_fft_inverse_run(struct ss_fft *f);

/** The same transforms on the plan's own interleaved spectrum (re, im pairs, n/2+1 bins), with no split copy:
 *  `forward_to_spectrum` copies in[n] in and leaves its spectrum in ss_fft_spectrum(); `inverse_from_spectrum`
 *  transforms what is there and returns the output [n] (valid until the next inverse; the spectrum is destroyed). */
float *ss_fft_spectrum(struct ss_fft *f);
void ss_fft_forward_to_spectrum(struct ss_fft *f, const float *in);
const float *ss_fft_inverse_from_spectrum(struct ss_fft *f);

/** FFTW's single-precision wisdom (what FFTW_MEASURE learnt, so that the next process plans the same sizes at
 * once): load from / save to `path` (saved through a temporary file and a rename). 0 or a negative errno. Not
 * real-time safe. */
SS_EXPORT int ss_fft_wisdom_load(const char *path);
SS_EXPORT int ss_fft_wisdom_save(const char *path);

/** Aligned, zeroed float buffer of `n` floats (rounded up to a multiple of 16); free with ss_fft_free_buf. */
float *ss_fft_alloc(size_t n);
void ss_fft_free_buf(float *p);

#endif
