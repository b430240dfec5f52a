/* Soundstage: the one bisection the design uses to choose a regularisation.
 *
 * Every regularised solve in the design (crosstalk cancellation, ctc.c; the centre beam, beam.c twice) picks its
 * regularisation the same way: the least that keeps the drivers' effort under a cap, or (ctc.c) the most whose
 * error is still within a tolerance. Both are a monotone yes/no over a range of regularisations spanning many
 * decades, bisected on the logarithm. The caller checks the two ends first (what to do when the answer is at or
 * beyond an end differs between callers) and gives a range whose ends answer differently.
 *
 * Design time only (double precision, no allocation); not for the real-time thread.
 */
#ifndef SS_BISECT_H
#define SS_BISECT_H

#include <math.h>
#include <stdbool.h>

/** `ok(ctx, x)` is monotone in x on [lo, hi] and ok(lo) != ok(hi); both > 0. Bisects log(x) `steps` times and returns
 * the end of the final bracket on which `ok` holds, within a factor (hi/lo)^(2^-steps) of the boundary. Which end
 * that is follows from ok(lo): the largest x found ok if ok(lo), else the smallest. `ok` is called `steps` times
 * and may leave its solution in ctx; the last call is not necessarily at the returned x. */
static inline double ss_bisect_log(bool (*ok)(void *ctx, double x), void *ctx, double lo, double hi, int steps,
		bool ok_at_lo)
{
	double a = log(lo), b = log(hi);   /* ok(a) == ok_at_lo, ok(b) != ok_at_lo */
	for (int i = 0; i < steps; i++) {
		const double mid = 0.5 * (a + b);
		if (ok(ctx, exp(mid)) == ok_at_lo)
			a = mid;
		else
			b = mid;
	}
	return exp(ok_at_lo ? a : b);
}

#endif
