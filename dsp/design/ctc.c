/* Soundstage: crosstalk cancellation solver. */
#include "ctc.h"

#include <math.h>

#define SS_CTC_CONTRA_WEIGHT 1.0 /* >1 was tried: at large beta it steers toward the far ear */
#define SS_CTC_WORTH_DB 0.5      /* effort is only spent where it buys more separation than this */
#define SS_CTC_MLS_ITERATIONS 4  /* magnitude least-squares passes where the far ear's phase is free */
#define SS_CTC_BISECTIONS 24     /* over 25 nats of beta: 1.5e-6 of a nat */

/* The plant's band-weighted rows and their Gram matrix: what every solve at one frequency shares. */
struct problem {
	int n, ipsi;
	double complex c[2][SS_MAX_DRIVERS];   /* C diag(b) */
	const double *b;
	double complex g00, g01, g10, g11;     /* Cb Cb^H */
	double trace;                          /* trace(Cb Cb^H) / 2 */
};

static void problem_init(struct problem *pr, int n, double complex C[2][SS_MAX_DRIVERS], const double *b, int ipsi)
{
	pr->n = n;
	pr->ipsi = ipsi;
	pr->b = b;
	pr->g00 = pr->g01 = pr->g10 = pr->g11 = 0;
	for (int i = 0; i < n; i++) {
		double complex c0 = C[0][i] * b[i], c1 = C[1][i] * b[i];
		pr->c[0][i] = c0;
		pr->c[1][i] = c1;
		pr->g00 += c0 * conj(c0);
		pr->g01 += c0 * conj(c1);
		pr->g10 += c1 * conj(c0);
		pr->g11 += c1 * conj(c1);
	}
	pr->trace = (creal(pr->g00) + creal(pr->g11)) / 2.0 + 1e-300;
}

/* One regularised solve (beta relative to the trace) followed by the ipsilateral normalisation. Returns the effort,
 * max |w_i| / b_i: a driver's drive counts relative to its band weight (outside its band it may only be driven that
 * much less). */
static double solve_once(const struct problem *pr, const double complex d[2], double beta, double complex *w)
{
	/* weighted least squares, ears weighted by q (the contralateral ear counts more: the ipsilateral one is
	 * fixed exactly by the normalisation below): w = Cb^H Q (Cb Cb^H Q + beta I)^-1 d, Q = diag(q) */
	const int n = pr->n, ipsi = pr->ipsi;
	double q[2];
	q[ipsi] = 1.0;
	q[1 - ipsi] = SS_CTC_CONTRA_WEIGHT;
	beta *= pr->trace;
	double complex m00 = pr->g00 * q[0] + beta, m01 = pr->g01 * q[1], m10 = pr->g10 * q[0], m11 = pr->g11 * q[1] + beta;
	double complex det = m00 * m11 - m01 * m10;
	double complex inv = conj(det) / (creal(det) * creal(det) + cimag(det) * cimag(det));
	double complex y0 = (m11 * d[0] - m01 * d[1]) * inv * q[0];
	double complex y1 = (-m10 * d[0] + m00 * d[1]) * inv * q[1];
	double complex e = 0;
	for (int i = 0; i < n; i++) {
		double complex v = conj(pr->c[0][i]) * y0 + conj(pr->c[1][i]) * y1;
		w[i] = pr->b[i] * v;
		e += pr->c[ipsi][i] / pr->b[i] * w[i];
	}
	double e2 = creal(e) * creal(e) + cimag(e) * cimag(e), d2 = creal(d[ipsi] * conj(d[ipsi]));
	if (e2 > 1e-24 * (d2 + 1e-300)) {
		double complex g = d[ipsi] * conj(e) / e2;
		for (int i = 0; i < n; i++)
			w[i] *= g;
	}
	double effort2 = 0.0;
	for (int i = 0; i < n; i++) {
		double v = (creal(w[i]) * creal(w[i]) + cimag(w[i]) * cimag(w[i])) / (pr->b[i] * pr->b[i]);
		if (v > effort2)
			effort2 = v;
	}
	return sqrt(effort2);
}

/* How far the contralateral ear is from its target, relative to the ipsilateral target (after the normalisation the
 * ipsilateral ear is exact). */
static double contra_error(const struct problem *pr, const double complex d[2], const double complex *w)
{
	double complex e = 0;
	for (int i = 0; i < pr->n; i++)
		e += pr->c[1 - pr->ipsi][i] / pr->b[i] * w[i];
	return cabs(e - d[1 - pr->ipsi]) / (cabs(d[pr->ipsi]) + 1e-300);
}

static void solve_for(const struct problem *pr, const double complex target[2], double cap, double complex *w,
		struct ss_ctc_result *res);

void ss_ctc_solve(int n, double complex C[2][SS_MAX_DRIVERS], const double *band_w, const double complex target[2],
		int ipsi, double cap, bool free_phase, double complex *w, struct ss_ctc_result *res)
{
	struct problem pr;
	problem_init(&pr, n, C, band_w, ipsi);
	double complex d[2] = { target[0], target[1] };
	solve_for(&pr, d, cap, w, res);
	if (!free_phase)
		return;
	/* magnitude least squares (Kassakian 2005): the far ear's target phase follows what the solution gives it, so
	 * effort goes into the level difference the ear hears rather than a phase it does not */
	const double m = cabs(target[1 - ipsi]);
	for (int it = 0; it < SS_CTC_MLS_ITERATIONS; it++) {
		double complex e = 0;
		for (int i = 0; i < n; i++)
			e += C[1 - ipsi][i] * w[i];
		if (cabs(e) < 1e-300)
			break;
		d[1 - ipsi] = m * e / cabs(e);
		solve_for(&pr, d, cap, w, res);
	}
}

static void solve_for(const struct problem *pr, const double complex target[2], double cap, double complex *w,
		struct ss_ctc_result *res)
{
	const double top = log(1e4);
	double lo = log(1e-7), hi = top;
	res->capped = false;
	if (solve_once(pr, target, exp(lo), w) <= cap) {
		hi = lo;
	} else if (solve_once(pr, target, exp(hi), w) > cap) {
		/* no cancellation fits the cap here: the least effort that still gives the ipsilateral ear its target
		 * (the drivers adding up coherently at that ear), not a quieter ear */
		res->capped = true;
	} else {
		for (int it = 0; it < SS_CTC_BISECTIONS; it++) {
			double mid = 0.5 * (lo + hi);
			if (solve_once(pr, target, exp(mid), w) <= cap)
				hi = mid;
			else
				lo = mid;
		}
	}
	/* hi is now the least regularisation the cap allows. Effort that buys less than SS_CTC_WORTH_DB of separation is
	 * not spent: the most regularisation whose contralateral error is within that of the cap's. */
	solve_once(pr, target, exp(hi), w);
	const double worst = contra_error(pr, target, w) * pow(10.0, SS_CTC_WORTH_DB / 20.0);
	double a = hi, b = top;
	solve_once(pr, target, exp(b), w);
	if (contra_error(pr, target, w) <= worst) {
		a = b;
	} else {
		for (int it = 0; it < SS_CTC_BISECTIONS; it++) {
			double mid = 0.5 * (a + b);
			solve_once(pr, target, exp(mid), w);
			if (contra_error(pr, target, w) <= worst)
				a = mid;
			else
				b = mid;
		}
	}
	res->effort = solve_once(pr, target, exp(a), w);
	res->beta = exp(a);
}
