/* The SIMD complex multiply-accumulate kernels against a double-precision reference and the plain C kernel: odd
 * lengths (every tail path), unaligned buffers (offsets of 1..3 floats from a 64-byte boundary), accumulation on
 * top of existing values; kernel selection and its SOUNDSTAGE_SIMD override. */
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

static void kernels_match_reference(void **state)
{
	const int lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 129, 257, 1000, 1025 };
	int tested = 0;
	for (int kind = 0; kind < SS_CMAC_N; kind++) {
		ss_cmac_fn f = ss_cmac_kernel((enum ss_cmac_kind)kind);
		if (f == NULL) {
			print_message("%-7s not available on this CPU/build\n", ss_cmac_name((enum ss_cmac_kind)kind));
			continue;
		}
		double worst = 0.0;
		for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
			for (int misalign = 0; misalign < 4; misalign++) {
				const int n = lens[li], pad = 16;
				float *buf[6];
				float *p[6];
				for (int b = 0; b < 6; b++) {
					buf[b] = aligned_alloc(64, (sizeof(float) * (size_t)(n + 2 * pad + 64) + 63) & ~(size_t)63);
					p[b] = buf[b] + pad + (misalign + b) % 4;   /* each buffer its own misalignment */
					for (int k = -pad; k < n + pad; k++)
						p[b][k] = frand();
				}
				float guard_lo[2] = { p[0][-1], p[1][-1] }, guard_hi[2] = { p[0][n], p[1][n] };
				double ref_r[1100], ref_i[1100], scale[1100];
				for (int k = 0; k < n; k++) {
					double xr = p[2][k], xi = p[3][k], hr = p[4][k], hi = p[5][k];
					ref_r[k] = p[0][k] + xr * hr - xi * hi;
					ref_i[k] = p[1][k] + xr * hi + xi * hr;
					scale[k] = fabs(p[0][k]) + fabs(p[1][k]) + fabs(xr * hr) + fabs(xi * hi) + fabs(xr * hi) +
						fabs(xi * hr);
				}
				f(p[0], p[1], p[2], p[3], p[4], p[5], n);
				for (int k = 0; k < n; k++) {
					double e = fmax(fabs(p[0][k] - ref_r[k]), fabs(p[1][k] - ref_i[k])) / scale[k];
					worst = fmax(worst, e);
				}
				/* nothing outside [0, n) written */
				assert_true(p[0][-1] == guard_lo[0] && p[1][-1] == guard_lo[1]);
				assert_true(p[0][n] == guard_hi[0] && p[1][n] == guard_hi[1]);
				for (int b = 0; b < 6; b++)
					free(buf[b]);
			}
		}
		print_message("%-7s worst error %.2g (relative to the operands' magnitude) over %zu lengths x 4 "
				"alignments\n", ss_cmac_name((enum ss_cmac_kind)kind), worst, sizeof(lens) / sizeof(lens[0]));
		assert_true(worst < 4e-7);   /* a few float ulp */
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
