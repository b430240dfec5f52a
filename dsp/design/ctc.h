/* Soundstage: crosstalk cancellation for one input channel at one frequency, over a population of plants.
 *
 * Regularised least squares (Kirkeby & Nelson) summed over the plants C_m (2 ears x N drivers each: the design's
 * own and the others it must hold on, population.h):
 *     v = (sum_m Cb_m^H Cb_m + beta I)^-1 sum_m Cb_m^H d,   w = diag(b) v,   Cb_m = C_m diag(b)
 * where b are the drivers' band weights and d (2) the ear target. With one plant this is the 2x2 inversion (two
 * drivers) or the minimum-norm null-steering solution (more); with several it is the solution that holds best on all
 * of them. The Gram matrix is eigen-decomposed once per frequency (ss_ctc_prepare), so that every regularisation,
 * target and effort cap costs O(N^2).
 * The result is then put in relative-transfer-function form: the ratios between drivers (which carry the
 * cancellation) are kept and one common gain normalises the ipsilateral ear of the design's own plant (member 0) to
 * exactly the target, so that regularisation costs separation rather than tonal balance. beta is the smallest value
 * for which every driver's drive relative to its band weight, |w_i| / b_i, stays within the effort cap (bisection: a
 * driver is never driven hard outside its band); where even a large beta cannot meet the cap, the most regularised
 * solution is kept as it is (the least drive that still gives the ipsilateral ear its target): the ear level never
 * depends on the cap, only the separation does. Then effort that buys little is given back: the most regularised
 * solution whose contralateral error (over the population) is within 0.5 dB of the capped one's is taken. Above
 * about 1.5 kHz only the contralateral target's magnitude counts (magnitude least squares). Design-time, double.
 */
#ifndef SS_CTC_H
#define SS_CTC_H

#include <complex.h>
#include <stdbool.h>

#include "../profile.h"
#include "population.h"

/** One frequency's problem, prepared once and solved for any target, cap and ipsilateral ear. */
struct ss_ctc_problem {
	int n, m;
	double b[SS_MAX_DRIVERS];                      /* band weights */
	double lambda[SS_MAX_DRIVERS];                 /* eigenvalues of G = sum Cb^H Cb */
	double complex u[SS_MAX_DRIVERS * SS_MAX_DRIVERS];   /* its eigenvectors (columns) */
	double complex us[SS_POPULATION_MAX][SS_MAX_DRIVERS][2]; /* U^H Cb_m^H w_m: member m's right-hand side, d = e_ear */
	double complex c[SS_POPULATION_MAX][2][SS_MAX_DRIVERS];   /* the plants (unweighted) */
	double weight[SS_POPULATION_MAX];              /* each plant's weight in the sums */
	double trace;                                  /* trace(G) / N: the scale of beta */
};

struct ss_ctc_result {
	double effort;   /**< max_i |w_i| / b_i (linear) */
	double beta;     /**< regularisation used, relative to trace(G) / N */
	bool capped;     /**< no solution met the cap: the least-effort one was taken (effort > cap) */
};

/** Prepare the problem for `m` plants C[m] (member 0: the design's own) weighted by `weight` (NULL: equally) and
 * band weights `band_w`. */
void ss_ctc_prepare(struct ss_ctc_problem *pr, int n, int m, double complex (*C)[2][SS_MAX_DRIVERS],
		const double *weight, const double *band_w);

/** Solve for `w[0..n-1]`. `target[ipsi]` is the ipsilateral ear target, `target[1-ipsi]` the contralateral. With
 * `free_phase` (where the ear hears interaural level, not phase) the contralateral target's phase is found by
 * magnitude least squares. */
void ss_ctc_solve(const struct ss_ctc_problem *pr, const double complex target[2], int ipsi, double cap,
		bool free_phase, double complex *w, struct ss_ctc_result *res);

#endif
