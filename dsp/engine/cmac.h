/* Soundstage: sums of complex products, the convolver's inner loop, with SIMD kernels chosen at run time.
 *
 * Data come in "chunks" of SS_CMAC_CHUNK complex bins stored as SS_CMAC_CHUNK real parts then SS_CMAC_CHUNK
 * imaginary parts (2 x 16 floats). A kernel adds `groups` runs of `count` products of consecutive chunks:
 *
 *   acc += sum over g < groups, p < count of x[g * xs + p] * h[g * hs + p]   (complex, bin by bin; indices in
 *                                                                            chunks)
 *
 * so both operands stream through memory in order and the accumulator stays in registers (the convolver lays its
 * spectra out as [chunk][input][partition] for this: one call per output and chunk). Kernels: plain C (always), SSE2, AVX2+FMA, AVX-512F
 * (x86-64), NEON (AArch64); any alignment of x, h and acc. FMA kernels round a little differently from the C one.
 * Choosing (ss_cmac_select) reads the CPU's features and SOUNDSTAGE_SIMD, at design time; calling a kernel is
 * real-time safe.
 */
#ifndef SS_CMAC_H
#define SS_CMAC_H

#define SS_CMAC_CHUNK 16

/* acc[2 * SS_CMAC_CHUNK] (read and written); x, h: groups runs of count chunks, xs and hs chunks apart. */
typedef void (*ss_cmac_fn)(float *restrict acc, const float *restrict x, const float *restrict h, int count,
		int groups, int xs, int hs);

enum ss_cmac_kind { SS_CMAC_C, SS_CMAC_SSE2, SS_CMAC_AVX2, SS_CMAC_AVX512, SS_CMAC_NEON, SS_CMAC_N };

/** The kernel of a kind, or NULL if this build or this CPU cannot run it. */
ss_cmac_fn ss_cmac_kernel(enum ss_cmac_kind kind);
/** "c", "sse2", "avx2", "avx512", "neon". */
const char *ss_cmac_name(enum ss_cmac_kind kind);
/** The fastest kind this CPU runs, unless SOUNDSTAGE_SIMD names another supported one (c, sse2, avx2, avx512,
 *  neon: for comparisons and for working around a faulty unit). */
enum ss_cmac_kind ss_cmac_select(void);

#endif
