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

static void cmac_c(float *restrict ar, float *restrict ai, const float *restrict xr, const float *restrict xi,
		const float *restrict hr, const float *restrict hi, int n)
{
	for (int k = 0; k < n; k++) {
		ar[k] += xr[k] * hr[k] - xi[k] * hi[k];
		ai[k] += xr[k] * hi[k] + xi[k] * hr[k];
	}
}

#ifdef SS_X86
__attribute__((target("sse2")))
static void cmac_sse2(float *restrict ar, float *restrict ai, const float *restrict xr, const float *restrict xi,
		const float *restrict hr, const float *restrict hi, int n)
{
	int k = 0;
	for (; k + 4 <= n; k += 4) {
		__m128 a = _mm_loadu_ps(xr + k), b = _mm_loadu_ps(xi + k);
		__m128 c = _mm_loadu_ps(hr + k), d = _mm_loadu_ps(hi + k);
		__m128 re = _mm_sub_ps(_mm_mul_ps(a, c), _mm_mul_ps(b, d));
		__m128 im = _mm_add_ps(_mm_mul_ps(a, d), _mm_mul_ps(b, c));
		_mm_storeu_ps(ar + k, _mm_add_ps(_mm_loadu_ps(ar + k), re));
		_mm_storeu_ps(ai + k, _mm_add_ps(_mm_loadu_ps(ai + k), im));
	}
	cmac_c(ar + k, ai + k, xr + k, xi + k, hr + k, hi + k, n - k);
}

__attribute__((target("avx2,fma")))
static void cmac_avx2(float *restrict ar, float *restrict ai, const float *restrict xr, const float *restrict xi,
		const float *restrict hr, const float *restrict hi, int n)
{
	int k = 0;
	for (; k + 8 <= n; k += 8) {
		__m256 a = _mm256_loadu_ps(xr + k), b = _mm256_loadu_ps(xi + k);
		__m256 c = _mm256_loadu_ps(hr + k), d = _mm256_loadu_ps(hi + k);
		__m256 re = _mm256_fnmadd_ps(b, d, _mm256_fmadd_ps(a, c, _mm256_loadu_ps(ar + k)));
		__m256 im = _mm256_fmadd_ps(b, c, _mm256_fmadd_ps(a, d, _mm256_loadu_ps(ai + k)));
		_mm256_storeu_ps(ar + k, re);
		_mm256_storeu_ps(ai + k, im);
	}
	cmac_c(ar + k, ai + k, xr + k, xi + k, hr + k, hi + k, n - k);
}

__attribute__((target("avx512f")))
static void cmac_avx512(float *restrict ar, float *restrict ai, const float *restrict xr, const float *restrict xi,
		const float *restrict hr, const float *restrict hi, int n)
{
	int k = 0;
	for (; k + 16 <= n; k += 16) {
		__m512 a = _mm512_loadu_ps(xr + k), b = _mm512_loadu_ps(xi + k);
		__m512 c = _mm512_loadu_ps(hr + k), d = _mm512_loadu_ps(hi + k);
		__m512 re = _mm512_fnmadd_ps(b, d, _mm512_fmadd_ps(a, c, _mm512_loadu_ps(ar + k)));
		__m512 im = _mm512_fmadd_ps(b, c, _mm512_fmadd_ps(a, d, _mm512_loadu_ps(ai + k)));
		_mm512_storeu_ps(ar + k, re);
		_mm512_storeu_ps(ai + k, im);
	}
	if (k < n) {   /* the tail in one masked step */
		__mmask16 m = (__mmask16)((1u << (n - k)) - 1u);
		__m512 a = _mm512_maskz_loadu_ps(m, xr + k), b = _mm512_maskz_loadu_ps(m, xi + k);
		__m512 c = _mm512_maskz_loadu_ps(m, hr + k), d = _mm512_maskz_loadu_ps(m, hi + k);
		__m512 re = _mm512_fnmadd_ps(b, d, _mm512_fmadd_ps(a, c, _mm512_maskz_loadu_ps(m, ar + k)));
		__m512 im = _mm512_fmadd_ps(b, c, _mm512_fmadd_ps(a, d, _mm512_maskz_loadu_ps(m, ai + k)));
		_mm512_mask_storeu_ps(ar + k, m, re);
		_mm512_mask_storeu_ps(ai + k, m, im);
	}
}
#endif

#ifdef SS_NEON
static void cmac_neon(float *restrict ar, float *restrict ai, const float *restrict xr, const float *restrict xi,
		const float *restrict hr, const float *restrict hi, int n)
{
	int k = 0;
	for (; k + 4 <= n; k += 4) {
		float32x4_t a = vld1q_f32(xr + k), b = vld1q_f32(xi + k), c = vld1q_f32(hr + k), d = vld1q_f32(hi + k);
		float32x4_t re = vfmsq_f32(vfmaq_f32(vld1q_f32(ar + k), a, c), b, d);
		float32x4_t im = vfmaq_f32(vfmaq_f32(vld1q_f32(ai + k), a, d), b, c);
		vst1q_f32(ar + k, re);
		vst1q_f32(ai + k, im);
	}
	cmac_c(ar + k, ai + k, xr + k, xi + k, hr + k, hi + k, n - k);
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
		return cmac_c;
#ifdef SS_X86
	case SS_CMAC_SSE2:
		return __builtin_cpu_supports("sse2") ? cmac_sse2 : NULL;
	case SS_CMAC_AVX2:
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? cmac_avx2 : NULL;
	case SS_CMAC_AVX512:
		return __builtin_cpu_supports("avx512f") ? cmac_avx512 : NULL;
#endif
#ifdef SS_NEON
	case SS_CMAC_NEON:
		return cmac_neon;
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
