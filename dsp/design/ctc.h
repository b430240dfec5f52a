/* Soundstage: crosstalk cancellation for one input channel at one frequency.
 *
 * Regularised least squares (Kirkeby & Nelson): w = diag(b) Cb^H (Cb Cb^H + beta I)^-1 d with Cb = C diag(b),
 * where C (2 ears x N drivers) is the plant, b the drivers' band weights and d (2) the ear target. For two
 * drivers this is the 2x2 inversion; for more it is the minimum-norm null-steering solution.
 * The result is then put in relative-transfer-function form: the ratios between drivers (which carry the
 * cancellation) are kept and one common gain normalises the ipsilateral ear to exactly the target, so that
 * regularisation costs separation rather than tonal balance. beta is the smallest value for which every
 * driver's drive |w_i| stays within the effort cap (bisection); where even a large beta cannot meet the cap,
 * the common gain is lowered. Design-time, double.
 */
#ifndef SS_CTC_H
#define SS_CTC_H

#include <complex.h>
#include <stdbool.h>

#include "../profile.h"

struct ss_ctc_result {
	double effort;   /**< max_i |w_i| (linear) */
	double beta;     /**< regularisation used, relative to trace(Cb Cb^H)/2 */
	bool capped;     /**< the common gain had to be lowered to respect the cap */
};

/** Solve for `w[0..n-1]`. `target[ipsi]` is the ipsilateral ear target, `target[1-ipsi]` the contralateral. */
void ss_ctc_solve(int n, double complex C[2][SS_MAX_DRIVERS], const double *band_w, const double complex target[2],
		int ipsi, double cap, double complex *w, struct ss_ctc_result *res);

#endif
