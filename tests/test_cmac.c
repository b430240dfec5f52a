/* The SIMD sum-of-complex-products kernels (cmac.h) against a double-precision reference, and kernel selection
 * with its SOUNDSTAGE_SIMD override. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/cmac.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static float frand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* Every kernel against a double-precision sum: 0 to 17 products per run (both unrolled paths and their odd
 * remainders), 1 to 3 runs with different strides in x and h (the convolver's inputs), accumulation on top of
 * existing values, every operand misaligned by 0..3 floats; nothing written outside the 32 accumulator floats. */
static void kernels_match_reference(void **state)
{
	const int counts[] = { 0, 1, 2, 3, 4, 5, 7, 8, 16, 17 };
	enum { CH = SS_CMAC_CHUNK, CHF = 2 * SS_CMAC_CHUNK };
	int tested = 0;
	for (int kind = 0; kind < SS_CMAC_N; kind++) {
		ss_cmac_fn f = ss_cmac_kernel((enum ss_cmac_kind)kind);
		if (f == NULL) {
			print_message("%-7s not available on this CPU/build\n", ss_cmac_name((enum ss_cmac_kind)kind));
			continue;
		}
		double worst = 0.0;
		int cases = 0;
		for (size_t ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++)
			for (int groups = 1; groups <= 3; groups++)
				for (int misalign = 0; misalign < 4; misalign++) {
					const int count = counts[ci], xs = count + 3, hs = count + 1;
					const size_t nx = (size_t)groups * xs * CHF, nh = (size_t)groups * hs * CHF;
					float *xb = aligned_alloc(64, ((nx + 64) * sizeof(float) + 63) & ~(size_t)63);
					float *hb = aligned_alloc(64, ((nh + 64) * sizeof(float) + 63) & ~(size_t)63);
					float *ab = aligned_alloc(64, 256 * sizeof(float));
					for (size_t k = 0; k < nx + 64; k++)
						xb[k] = frand();
					for (size_t k = 0; k < nh + 64; k++)
						hb[k] = frand();
					for (int k = 0; k < 256; k++)
						ab[k] = frand();
					const float *x = xb + misalign, *h = hb + (misalign + 1) % 4;
					float *acc = ab + 16 + (misalign + 2) % 4;
					double ref[CHF], scale[CHF];
					for (int k = 0; k < CHF; k++) {
						ref[k] = acc[k];
						scale[k] = fabs(acc[k]) + 1e-30;
					}
					for (int g = 0; g < groups; g++)
						for (int p = 0; p < count; p++) {
							const float *xp = x + ((size_t)g * xs + p) * CHF, *hp = h + ((size_t)g * hs + p) * CHF;
							for (int k = 0; k < CH; k++) {
								double a = xp[k], b = xp[CH + k], c = hp[k], d = hp[CH + k];
								ref[k] += a * c - b * d;
								ref[CH + k] += a * d + b * c;
								scale[k] += fabs(a * c) + fabs(b * d);
								scale[CH + k] += fabs(a * d) + fabs(b * c);
							}
						}
					const float below = acc[-1], above = acc[CHF];
					f(acc, x, h, count, groups, xs, hs);
					for (int k = 0; k < CHF; k++)
						worst = fmax(worst, fabs(acc[k] - ref[k]) / scale[k]);
					assert_true(acc[-1] == below && acc[CHF] == above);
					free(xb);
					free(hb);
					free(ab);
					cases++;
				}
		print_message("%-7s worst error %.2g (relative to the sum of |terms|) over %d cases\n",
				ss_cmac_name((enum ss_cmac_kind)kind), worst, cases);
		assert_true(worst < 1e-6);   /* float accumulation over up to 51 products */
		tested++;
	}
#if defined(__x86_64__)
	assert_true(tested >= 2);   /* C and SSE2 at least on x86-64 */
#endif
}

static void selection(void **state)
{
	unsetenv("SOUNDSTAGE_SIMD");
	enum ss_cmac_kind best = ss_cmac_select();
	print_message("selected: %s\n", ss_cmac_name(best));
	assert_non_null(ss_cmac_kernel(best));
	setenv("SOUNDSTAGE_SIMD", "c", 1);
	assert_int_equal(ss_cmac_select(), SS_CMAC_C);
	setenv("SOUNDSTAGE_SIMD", "no-such-unit", 1);
	assert_int_equal(ss_cmac_select(), best);
	unsetenv("SOUNDSTAGE_SIMD");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kernels_match_reference),
		cmocka_unit_test(selection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
