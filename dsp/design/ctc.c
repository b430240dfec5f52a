/* Soundstage: crosstalk cancellation solver. */
#include "ctc.h"

#include <math.h>

#define SS_CTC_CONTRA_WEIGHT 1.0 /* >1 was tried: at large beta it steers toward the far ear */

/* One regularised solve followed by the ipsilateral normalisation. Returns the effort. */
static double solve_once(int n, double complex C[2][SS_MAX_DRIVERS], const double *b, const double complex d[2],
		int ipsi, double beta, double complex *w)
{
	/* weighted least squares, ears weighted by q (the contralateral ear counts more: the ipsilateral one is
	 * fixed exactly by the normalisation below): w = Cb^H Q (Cb Cb^H Q + beta I)^-1 d, Q = diag(q) */
	double q[2];
	q[ipsi] = 1.0;
	q[1 - ipsi] = SS_CTC_CONTRA_WEIGHT;
	double complex g00 = 0, g01 = 0, g10 = 0, g11 = 0;
	for (int i = 0; i < n; i++) {
		double complex c0 = C[0][i] * b[i], c1 = C[1][i] * b[i];
		g00 += c0 * conj(c0);
		g01 += c0 * conj(c1);
		g10 += c1 * conj(c0);
		g11 += c1 * conj(c1);
	}
	double complex m00 = g00 * q[0] + beta, m01 = g01 * q[1], m10 = g10 * q[0], m11 = g11 * q[1] + beta;
	double complex det = m00 * m11 - m01 * m10;
	double complex y0 = (m11 * d[0] - m01 * d[1]) / det * q[0];
	double complex y1 = (-m10 * d[0] + m00 * d[1]) / det * q[1];
	double complex e = 0;
	for (int i = 0; i < n; i++) {
		double complex v = conj(C[0][i] * b[i]) * y0 + conj(C[1][i] * b[i]) * y1;
		w[i] = b[i] * v;
		e += C[ipsi][i] * w[i];
	}
	if (cabs(e) > 1e-12 * (cabs(d[ipsi]) + 1e-300)) {
		double complex g = d[ipsi] / e;
		for (int i = 0; i < n; i++)
			w[i] *= g;
	}
	double effort = 0.0;
	for (int i = 0; i < n; i++)
		if (cabs(w[i]) > effort)
			effort = cabs(w[i]);
	return effort;
}

void ss_ctc_solve(int n, double complex C[2][SS_MAX_DRIVERS], const double *band_w, const double complex target[2],
		int ipsi, double cap, double complex *w, struct ss_ctc_result *res)
{
	double tr = 0.0;
	for (int i = 0; i < n; i++) {
		double b2 = band_w[i] * band_w[i];
		tr += (creal(C[0][i] * conj(C[0][i])) + creal(C[1][i] * conj(C[1][i]))) * b2;
	}
	tr = tr / 2.0 + 1e-300;
	double lo = log(1e-7), hi = log(1e4);
	double eff = solve_once(n, C, band_w, target, ipsi, exp(lo) * tr, w);
	res->capped = false;
	if (eff <= cap) {
		res->effort = eff;
		res->beta = exp(lo);
		return;
	}
	double eff_hi = solve_once(n, C, band_w, target, ipsi, exp(hi) * tr, w);
	if (eff_hi > cap) {
		for (int i = 0; i < n; i++)
			w[i] *= cap / eff_hi;
		res->effort = cap;
		res->beta = exp(hi);
		res->capped = true;
		return;
	}
	for (int it = 0; it < 40; it++) {
		double mid = 0.5 * (lo + hi);
		eff = solve_once(n, C, band_w, target, ipsi, exp(mid) * tr, w);
		if (eff <= cap)
			hi = mid;
		else
			lo = mid;
	}
	res->effort = solve_once(n, C, band_w, target, ipsi, exp(hi) * tr, w);
	res->beta = exp(hi);
}
