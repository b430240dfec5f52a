/* Flushing denormal floats to zero for the duration of a real-time call.
 *
 * A filter's decaying tail reaches denormal values, which x86 cores process up to ~100x slower and some ARM cores
 * trap to microcode: the engine flushes them to zero while it runs and restores the caller's mode after.
 * x86-64: MXCSR FTZ | DAZ; AArch64: FPCR.FZ (the FPU and Advanced SIMD alike); elsewhere nothing (32-bit ARM NEON
 * flushes always). Real-time safe: two register moves, no syscall. */
#ifndef SOUNDSTAGE_UTIL_DENORMALS_H
#define SOUNDSTAGE_UTIL_DENORMALS_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__SSE__)
#include <xmmintrin.h>
#endif

/** The mode to restore. */
struct ss_fp_mode {
	uint64_t saved;
};

/** Start flushing denormals to zero on this thread; returns the previous mode. */
static inline struct ss_fp_mode ss_denormals_flush_begin(void)
{
	struct ss_fp_mode m = { 0 };
#if defined(__x86_64__) || defined(__SSE__)
	m.saved = _mm_getcsr();
	_mm_setcsr((unsigned int)m.saved | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
#elif defined(__aarch64__)
	uint64_t fpcr;
	__asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
	m.saved = fpcr;
	__asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr | (UINT64_C(1) << 24))); /* FZ */
#endif
	return m;
}

/** Restore the mode ss_denormals_flush_begin returned. */
static inline void ss_denormals_flush_end(struct ss_fp_mode m)
{
#if defined(__x86_64__) || defined(__SSE__)
	_mm_setcsr((unsigned int)m.saved);
#elif defined(__aarch64__)
	__asm__ __volatile__("msr fpcr, %0" : : "r"(m.saved));
#else
	(void)m;
#endif
}

#endif
