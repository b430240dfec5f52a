/* Soundstage: crosstalk cancellation solver (see ctc.h). */
#include "ctc.h"

#include <math.h>
#include <string.h>

#include "../util/bisect.h"
#include "../util/cmat.h"

#define SS_CTC_WORTH_DB 0.5      /* effort is only spent where it buys more separation than this */
#define SS_CTC_MLS_ITERATIONS 4  /* magnitude least-squares passes where the far ear's phase is free */
#define SS_CTC_MEMBER_ITERATIONS 2 /* passes of each member's own ipsilateral gain */
#define SS_CTC_BISECTIONS 24     /* over 25 nats of beta: 1.5e-6 of a nat */
/* The regularisation's range, relative to the mean eigenvalue of the population's Gram matrix (pr->trace): at the
 * bottom, only directions weaker than 1e-7 of the mean are suppressed (practically the unregularised inverse); at the
 * top, beta exceeds every eigenvalue (at most SS_MAX_DRIVERS x the mean) by orders of magnitude and the solution is
 * the matched filter, scaled: the least effort any cancellation can have. The beam (beam.c) searches 1e-8 .. 1e3 of
 * its own Gram's mean diagonal; the two ranges are as they were written and every README figure was made with them:
 * making them one is a design change to measure, not a tidying. */
#define SS_CTC_BETA_MIN 1e-7
#define SS_CTC_BETA_MAX 1e4

void ss_ctc_prepare(struct ss_ctc_problem *pr, int n, int m, double complex (*C)[2][SS_MAX_DRIVERS],
		const double *weight, const double *band_w)
{
	double complex G[SS_MAX_DRIVERS * SS_MAX_DRIVERS] = { 0 };
	static _Thread_local double complex S[SS_POPULATION_MAX][SS_MAX_DRIVERS][2];
	memset(S, 0, sizeof(S));
	pr->n = n;
	pr->m = m;
	for (int i = 0; i < n; i++)
		pr->b[i] = band_w[i];
	for (int k = 0; k < m; k++) {
		memcpy(pr->c[k], C[k], sizeof(pr->c[k]));
		pr->weight[k] = weight ? weight[k] : 1.0;
		for (int ear = 0; ear < 2; ear++) {
			for (int i = 0; i < n; i++) {
				double complex ci = C[k][ear][i] * band_w[i] * pr->weight[k];
				S[k][i][ear] += conj(ci);
				for (int j = 0; j < n; j++)
					G[i * n + j] += conj(ci) * C[k][ear][j] * band_w[j];
			}
		}
	}
	pr->trace = 0.0;
	for (int i = 0; i < n; i++)
		pr->trace += creal(G[i * n + i]);
	pr->trace = pr->trace / n + 1e-300;
	ss_cmat_eigh(n, G, pr->lambda, pr->u);
	for (int k = 0; k < m; k++)
		for (int j = 0; j < n; j++)
			for (int ear = 0; ear < 2; ear++) {
				double complex s = 0;
				for (int i = 0; i < n; i++)
					s += conj(pr->u[i * n + j]) * S[k][i][ear];
				pr->us[k][j][ear] = s;
			}
}

/* One regularised solve (beta relative to the trace) followed by the ipsilateral normalisation on the design's own
 * plant. Returns the effort, max |w_i| / b_i. */
static double solve_once(const struct ss_ctc_problem *pr, const double complex d[2], const double complex *g,
		int ipsi, double beta, double complex *w)
{
	const int n = pr->n;
	double complex y[SS_MAX_DRIVERS];
	beta *= pr->trace;
	for (int j = 0; j < n; j++) {
		double complex r = 0;
		for (int k = 0; k < pr->m; k++)
			r += g[k] * (pr->us[k][j][0] * d[0] + pr->us[k][j][1] * d[1]);
		y[j] = r / (pr->lambda[j] + beta);
	}
	double complex e = 0;
	for (int i = 0; i < n; i++) {
		double complex v = 0;
		for (int j = 0; j < n; j++)
			v += pr->u[i * n + j] * y[j];
		w[i] = pr->b[i] * v;
		e += pr->c[0][ipsi][i] * w[i];
	}
	double e2 = creal(e) * creal(e) + cimag(e) * cimag(e), d2 = creal(d[ipsi] * conj(d[ipsi]));
	if (e2 > 1e-24 * (d2 + 1e-300)) {
		double complex scale = d[ipsi] * conj(e) / e2;
		for (int i = 0; i < n; i++)
			w[i] *= scale;
	}
	double effort2 = 0.0;
	for (int i = 0; i < n; i++) {
		double v = (creal(w[i]) * creal(w[i]) + cimag(w[i]) * cimag(w[i])) / (pr->b[i] * pr->b[i]);
		if (v > effort2)
			effort2 = v;
	}
	return sqrt(effort2);
}

/* How far the contralateral ear is from its target over the population (rms), relative to the ipsilateral
 * target. */
static double contra_error(const struct ss_ctc_problem *pr, const double complex d[2], const double complex *g,
		int ipsi, const double complex *w)
{
	double acc = 0.0, wsum = 0.0;
	for (int k = 0; k < pr->m; k++) {
		double complex e = 0;
		for (int i = 0; i < pr->n; i++)
			e += pr->c[k][1 - ipsi][i] * w[i];
		e -= g[k] * d[1 - ipsi];
		acc += pr->weight[k] * creal(e * conj(e));
		wsum += pr->weight[k];
	}
	return sqrt(acc / wsum) / (cabs(d[ipsi]) + 1e-300);
}

struct ctc_search {
	const struct ss_ctc_problem *pr;
	const double complex *target, *g;
	int ipsi;
	double cap, worst;
	double complex *w;
};

static bool effort_within_cap(void *ctx, double beta)
{
	struct ctc_search *s = ctx;
	return solve_once(s->pr, s->target, s->g, s->ipsi, beta, s->w) <= s->cap;
}

static bool contra_within_worst(void *ctx, double beta)
{
	struct ctc_search *s = ctx;
	solve_once(s->pr, s->target, s->g, s->ipsi, beta, s->w);
	return contra_error(s->pr, s->target, s->g, s->ipsi, s->w) <= s->worst;
}

static void solve_for(const struct ss_ctc_problem *pr, const double complex target[2], const double complex *g,
		int ipsi, double cap, double complex *w, struct ss_ctc_result *res)
{
	struct ctc_search s = { .pr = pr, .target = target, .g = g, .ipsi = ipsi, .cap = cap, .w = w };
	double least;   /* the least regularisation the cap allows */
	res->capped = false;
	if (effort_within_cap(&s, SS_CTC_BETA_MIN)) {
		least = SS_CTC_BETA_MIN;
	} else if (!effort_within_cap(&s, SS_CTC_BETA_MAX)) {
		/* no cancellation fits the cap here: the least effort that still gives the ipsilateral ear its target
		 * (the drivers adding up coherently at that ear), not a quieter ear */
		res->capped = true;
		least = SS_CTC_BETA_MAX;
	} else {
		least = ss_bisect_log(effort_within_cap, &s, SS_CTC_BETA_MIN, SS_CTC_BETA_MAX, SS_CTC_BISECTIONS, false);
	}
	/* Effort that buys less than SS_CTC_WORTH_DB of separation is not spent: the most regularisation whose
	 * contralateral error is within that of the cap's. */
	solve_once(pr, target, g, ipsi, least, w);
	s.worst = contra_error(pr, target, g, ipsi, w) * pow(10.0, SS_CTC_WORTH_DB / 20.0);
	double beta;
	if (contra_within_worst(&s, SS_CTC_BETA_MAX))
		beta = SS_CTC_BETA_MAX;
	else
		beta = ss_bisect_log(contra_within_worst, &s, least, SS_CTC_BETA_MAX, SS_CTC_BISECTIONS, true);
	res->effort = solve_once(pr, target, g, ipsi, beta, w);
	res->beta = beta;
}

/* Each member's own gain: what the solution gives its ipsilateral ear relative to the design plant's. */
static void member_gains(const struct ss_ctc_problem *pr, int ipsi, const double complex *w, double complex *g)
{
	double complex e0 = 0;
	for (int i = 0; i < pr->n; i++)
		e0 += pr->c[0][ipsi][i] * w[i];
	g[0] = 1.0;
	for (int k = 1; k < pr->m; k++) {
		double complex e = 0;
		for (int i = 0; i < pr->n; i++)
			e += pr->c[k][ipsi][i] * w[i];
		g[k] = cabs(e0) > 1e-300 ? e / e0 : 1.0;
	}
}

void ss_ctc_solve(const struct ss_ctc_problem *pr, const double complex target[2], int ipsi, double cap,
		bool free_phase, double complex *w, struct ss_ctc_result *res)
{
	double complex d[2] = { target[0], target[1] }, g[SS_POPULATION_MAX];
	const double mag = cabs(target[1 - ipsi]);
	for (int k = 0; k < pr->m; k++)
		g[k] = 1.0;
	solve_for(pr, d, g, ipsi, cap, w, res);
	/* Alternating: each member's target follows the gain and delay its own ipsilateral ear gets (the ratio between the
	 * ears is what is cancelled, not an absolute response every head cannot share), and where the phase is free
	 * (magnitude least squares, Kassakian 2005) the far ear's target phase follows what the design's own plant gets,
	 * so effort goes into the level difference the ear hears rather than a phase it does not. */
	const int iterations = (pr->m > 1 ? SS_CTC_MEMBER_ITERATIONS : 0) + (free_phase ? SS_CTC_MLS_ITERATIONS : 0);
	for (int it = 0; it < iterations; it++) {
		if (pr->m > 1)
			member_gains(pr, ipsi, w, g);
		if (free_phase) {
			double complex e = 0;
			for (int i = 0; i < pr->n; i++)
				e += pr->c[0][1 - ipsi][i] * w[i];
			if (cabs(e) > 1e-300)
				d[1 - ipsi] = mag * e / cabs(e);
		}
		solve_for(pr, d, g, ipsi, cap, w, res);
	}
}
