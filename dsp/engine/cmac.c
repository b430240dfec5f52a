/* Soundstage: complex multiply-accumulate kernels. See cmac.h. */
#include "cmac.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SS_X86 1
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#define SS_NEON 1
#endif

#define C SS_CMAC_CHUNK

static void sum_c(float *restrict acc, const float *restrict x0, const float *restrict h0, int count, int groups,
		int xs, int hs)
{
	float r[C], i[C];
	memcpy(r, acc, sizeof(r));
	memcpy(i, acc + C, sizeof(i));
	for (int g = 0; g < groups; g++) {
		const float *x = x0 + (size_t)g * xs * 2 * C, *h = h0 + (size_t)g * hs * 2 * C;
		for (int p = 0; p < count; p++, x += 2 * C, h += 2 * C)
			for (int k = 0; k < C; k++) {
				r[k] += x[k] * h[k] - x[C + k] * h[C + k];
				i[k] += x[k] * h[C + k] + x[C + k] * h[k];
			}
	}
	memcpy(acc, r, sizeof(r));
	memcpy(acc + C, i, sizeof(i));
}

#ifdef SS_X86
__attribute__((target("sse2")))
static void sum_sse2(float *restrict acc, const float *restrict x0, const float *restrict h0, int count, int groups,
		int xs, int hs)
{
	__m128 r[4], i[4];
	for (int v = 0; v < 4; v++) {
		r[v] = _mm_loadu_ps(acc + 4 * v);
		i[v] = _mm_loadu_ps(acc + C + 4 * v);
	}
	for (int g = 0; g < groups; g++) {
		const float *x = x0 + (size_t)g * xs * 2 * C, *h = h0 + (size_t)g * hs * 2 * C;
		for (int p = 0; p < count; p++, x += 2 * C, h += 2 * C)
			for (int v = 0; v < 4; v++) {
				__m128 a = _mm_loadu_ps(x + 4 * v), b = _mm_loadu_ps(x + C + 4 * v);
				__m128 c = _mm_loadu_ps(h + 4 * v), d = _mm_loadu_ps(h + C + 4 * v);
				r[v] = _mm_add_ps(r[v], _mm_sub_ps(_mm_mul_ps(a, c), _mm_mul_ps(b, d)));
				i[v] = _mm_add_ps(i[v], _mm_add_ps(_mm_mul_ps(a, d), _mm_mul_ps(b, c)));
			}
	}
	for (int v = 0; v < 4; v++) {
		_mm_storeu_ps(acc + 4 * v, r[v]);
		_mm_storeu_ps(acc + C + 4 * v, i[v]);
	}
}

/* Real and imaginary sums split in two chains each: eight independent FMA chains, not FMA-latency bound. */
__attribute__((target("avx2,fma")))
static void sum_avx2(float *restrict acc, const float *restrict x0, const float *restrict h0, int count, int groups,
		int xs, int hs)
{
	__m256 r0 = _mm256_loadu_ps(acc), r1 = _mm256_loadu_ps(acc + 8);
	__m256 i0 = _mm256_loadu_ps(acc + C), i1 = _mm256_loadu_ps(acc + C + 8);
	__m256 r0b = _mm256_setzero_ps(), r1b = _mm256_setzero_ps(), i0b = _mm256_setzero_ps(), i1b = _mm256_setzero_ps();
	for (int g = 0; g < groups; g++) {
		const float *x = x0 + (size_t)g * xs * 2 * C, *h = h0 + (size_t)g * hs * 2 * C;
		for (int p = 0; p < count; p++, x += 2 * C, h += 2 * C) {
			__m256 a = _mm256_loadu_ps(x), b = _mm256_loadu_ps(x + C);
			__m256 c = _mm256_loadu_ps(h), d = _mm256_loadu_ps(h + C);
			r0 = _mm256_fmadd_ps(a, c, r0);
			r0b = _mm256_fnmadd_ps(b, d, r0b);
			i0 = _mm256_fmadd_ps(a, d, i0);
			i0b = _mm256_fmadd_ps(b, c, i0b);
			a = _mm256_loadu_ps(x + 8);
			b = _mm256_loadu_ps(x + C + 8);
			c = _mm256_loadu_ps(h + 8);
			d = _mm256_loadu_ps(h + C + 8);
			r1 = _mm256_fmadd_ps(a, c, r1);
			r1b = _mm256_fnmadd_ps(b, d, r1b);
			i1 = _mm256_fmadd_ps(a, d, i1);
			i1b = _mm256_fmadd_ps(b, c, i1b);
		}
	}
	_mm256_storeu_ps(acc, _mm256_add_ps(r0, r0b));
	_mm256_storeu_ps(acc + 8, _mm256_add_ps(r1, r1b));
	_mm256_storeu_ps(acc + C, _mm256_add_ps(i0, i0b));
	_mm256_storeu_ps(acc + C + 8, _mm256_add_ps(i1, i1b));
}

/* One chunk is one vector: two products per step into separate chains (eight in all). */
__attribute__((target("avx512f")))
static void sum_avx512(float *restrict acc, const float *restrict x0, const float *restrict h0, int count,
		int groups, int xs, int hs)
{
	__m512 r = _mm512_loadu_ps(acc), i = _mm512_loadu_ps(acc + C);
	__m512 rb = _mm512_setzero_ps(), ib = _mm512_setzero_ps();
	__m512 r2 = _mm512_setzero_ps(), rb2 = _mm512_setzero_ps(), i2 = _mm512_setzero_ps(), ib2 = _mm512_setzero_ps();
	for (int g = 0; g < groups; g++) {
		const float *x = x0 + (size_t)g * xs * 2 * C, *h = h0 + (size_t)g * hs * 2 * C;
		int p = 0;
		for (; p + 2 <= count; p += 2, x += 4 * C, h += 4 * C) {
			__m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + C);
			__m512 c = _mm512_loadu_ps(h), d = _mm512_loadu_ps(h + C);
			r = _mm512_fmadd_ps(a, c, r);
			rb = _mm512_fnmadd_ps(b, d, rb);
			i = _mm512_fmadd_ps(a, d, i);
			ib = _mm512_fmadd_ps(b, c, ib);
			a = _mm512_loadu_ps(x + 2 * C);
			b = _mm512_loadu_ps(x + 3 * C);
			c = _mm512_loadu_ps(h + 2 * C);
			d = _mm512_loadu_ps(h + 3 * C);
			r2 = _mm512_fmadd_ps(a, c, r2);
			rb2 = _mm512_fnmadd_ps(b, d, rb2);
			i2 = _mm512_fmadd_ps(a, d, i2);
			ib2 = _mm512_fmadd_ps(b, c, ib2);
		}
		if (p < count) {
			__m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + C);
			__m512 c = _mm512_loadu_ps(h), d = _mm512_loadu_ps(h + C);
			r = _mm512_fmadd_ps(a, c, r);
			rb = _mm512_fnmadd_ps(b, d, rb);
			i = _mm512_fmadd_ps(a, d, i);
			ib = _mm512_fmadd_ps(b, c, ib);
		}
	}
	_mm512_storeu_ps(acc, _mm512_add_ps(_mm512_add_ps(r, rb), _mm512_add_ps(r2, rb2)));
	_mm512_storeu_ps(acc + C, _mm512_add_ps(_mm512_add_ps(i, ib), _mm512_add_ps(i2, ib2)));
}
#endif

#ifdef SS_NEON
static void sum_neon(float *restrict acc, const float *restrict x0, const float *restrict h0, int count, int groups,
		int xs, int hs)
{
	float32x4_t r[4], i[4];
	for (int v = 0; v < 4; v++) {
		r[v] = vld1q_f32(acc + 4 * v);
		i[v] = vld1q_f32(acc + C + 4 * v);
	}
	for (int g = 0; g < groups; g++) {
		const float *x = x0 + (size_t)g * xs * 2 * C, *h = h0 + (size_t)g * hs * 2 * C;
		for (int p = 0; p < count; p++, x += 2 * C, h += 2 * C)
			for (int v = 0; v < 4; v++) {
				float32x4_t a = vld1q_f32(x + 4 * v), b = vld1q_f32(x + C + 4 * v);
				float32x4_t c = vld1q_f32(h + 4 * v), d = vld1q_f32(h + C + 4 * v);
				r[v] = vfmsq_f32(vfmaq_f32(r[v], a, c), b, d);
				i[v] = vfmaq_f32(vfmaq_f32(i[v], a, d), b, c);
			}
	}
	for (int v = 0; v < 4; v++) {
		vst1q_f32(acc + 4 * v, r[v]);
		vst1q_f32(acc + C + 4 * v, i[v]);
	}
}
#endif

static const char *const names[SS_CMAC_N] = { "c", "sse2", "avx2", "avx512", "neon" };

const char *ss_cmac_name(enum ss_cmac_kind kind)
{
	return kind >= 0 && kind < SS_CMAC_N ? names[kind] : "?";
}

ss_cmac_fn ss_cmac_kernel(enum ss_cmac_kind kind)
{
	switch (kind) {
	case SS_CMAC_C:
		return sum_c;
#ifdef SS_X86
	case SS_CMAC_SSE2:
		return __builtin_cpu_supports("sse2") ? sum_sse2 : NULL;
	case SS_CMAC_AVX2:
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? sum_avx2 : NULL;
	case SS_CMAC_AVX512:
		return __builtin_cpu_supports("avx512f") ? sum_avx512 : NULL;
#endif
#ifdef SS_NEON
	case SS_CMAC_NEON:
		return sum_neon;
#endif
	default:
		return NULL;
	}
}

enum ss_cmac_kind ss_cmac_select(void)
{
	const char *want = getenv("SOUNDSTAGE_SIMD");
	if (want != NULL)
		for (int k = 0; k < SS_CMAC_N; k++)
			if (strcmp(want, names[k]) == 0 && ss_cmac_kernel((enum ss_cmac_kind)k) != NULL)
				return (enum ss_cmac_kind)k;
	static const enum ss_cmac_kind order[] = { SS_CMAC_AVX512, SS_CMAC_AVX2, SS_CMAC_NEON, SS_CMAC_SSE2 };
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (ss_cmac_kernel(order[i]) != NULL)
			return order[i];
	return SS_CMAC_C;
}
