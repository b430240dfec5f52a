/* Soundstage: complex multiply-accumulate over split (re, im) arrays, the convolver's inner loop, with SIMD
 * kernels chosen at run time.
 *
 *   acc[k] += x[k] * h[k]   for k in [0, n), complex, as ar/ai += (xr + i xi)(hr + i hi)
 *
 * Kernels: plain C (always), SSE2, AVX2+FMA, AVX-512F (x86-64), NEON (AArch64); any alignment, any n >= 0.
 * The FMA kernels round differently from the C one (by a few ulp of the accumulator). Choosing a kernel
 * (ss_cmac_select) reads the CPU's features and SOUNDSTAGE_SIMD, at design time; calling one is real-time safe.
 */
#ifndef SS_CMAC_H
#define SS_CMAC_H

#include <stdbool.h>

typedef void (*ss_cmac_fn)(float *restrict ar, float *restrict ai, const float *restrict xr,
		const float *restrict xi, const float *restrict hr, const float *restrict hi, int n);

enum ss_cmac_kind { SS_CMAC_C, SS_CMAC_SSE2, SS_CMAC_AVX2, SS_CMAC_AVX512, SS_CMAC_NEON, SS_CMAC_N };

/** The kernel of a kind, or NULL if this build or this CPU cannot run it. */
ss_cmac_fn ss_cmac_kernel(enum ss_cmac_kind kind);
/** "c", "sse2", "avx2", "avx512", "neon". */
const char *ss_cmac_name(enum ss_cmac_kind kind);
/** The fastest kind this CPU runs, unless SOUNDSTAGE_SIMD names another supported one (c, sse2, avx2, avx512,
 *  neon: for comparisons and for working around a faulty unit). */
enum ss_cmac_kind ss_cmac_select(void);

#endif
