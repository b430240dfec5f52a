/* Soundstage: crosstalk cancellation for one input channel at one frequency.
 *
 * Regularised least squares (Kirkeby & Nelson): w = diag(b) Cb^H (Cb Cb^H + beta I)^-1 d with Cb = C diag(b),
 * where C (2 ears x N drivers) is the plant, b the drivers' band weights and d (2) the ear target. For two
 * drivers this is the 2x2 inversion; for more it is the minimum-norm null-steering solution.
 * The result is then put in relative-transfer-function form: the ratios between drivers (which carry the
 * cancellation) are kept and one common gain normalises the ipsilateral ear to exactly the target, so that
 * regularisation costs separation rather than tonal balance. beta is the smallest value for which every
 * driver's drive relative to its band weight, |w_i| / b_i, stays within the effort cap (bisection: a driver is
 * never driven hard outside its band); where even a large beta cannot meet the cap, the
 * most regularised solution is kept as it is (the least drive that still gives the ipsilateral ear its target):
 * the ear level never depends on the cap, only the separation does. Then effort that buys little is given back:
 * the most regularised solution whose contralateral error is within 1 dB of the capped one's is taken (where the
 * array cannot make the far ear's target anyway, as a compact array at low frequency, drive is not wasted on
 * trying). Design-time, double.
 */
#ifndef SS_CTC_H
#define SS_CTC_H

#include <complex.h>
#include <stdbool.h>

#include "../profile.h"

struct ss_ctc_result {
	double effort;   /**< max_i |w_i| / b_i (linear) */
	double beta;     /**< regularisation used, relative to trace(Cb Cb^H)/2 */
	bool capped;     /**< no solution met the cap: the least-effort one was taken (effort > cap) */
};

/** Solve for `w[0..n-1]`. `target[ipsi]` is the ipsilateral ear target, `target[1-ipsi]` the contralateral;
 * `band_w` the drivers' band weights (crossover.h). With `free_phase` (where the ear hears interaural level, not
 * phase: above about 1.5 kHz) only the contralateral target's magnitude counts: its phase is found by magnitude
 * least squares. */
void ss_ctc_solve(int n, double complex C[2][SS_MAX_DRIVERS], const double *band_w, const double complex target[2],
		int ipsi, double cap, bool free_phase, double complex *w, struct ss_ctc_result *res);

#endif
