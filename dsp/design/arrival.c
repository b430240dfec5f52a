/* Soundstage: arrival time of a designed path (see arrival.h). */
#include "arrival.h"

#include <math.h>
#include <stdlib.h>

#include "../util/dft.h"

double ss_arrival_samples(const double complex *resp, int L, double rate)
{
	const int N = 2 * L;
	struct ss_dft *dft = ss_dft_new(N);
	double complex *spec = malloc(sizeof(double complex) * (size_t)(L + 1));
	double *ir = malloc(sizeof(double) * (size_t)N * 2), *hi = ir + N;
	double t = NAN;
	if (dft == NULL || spec == NULL || ir == NULL)
		goto done;
	for (int k = 0; k <= L; k++) {
		double f = k * rate / N;
		double w = 0.0;
		if (f > 300.0 && f < 6000.0)
			w = sin(M_PI * log(f / 300.0) / log(6000.0 / 300.0));
		spec[k] = resp[k] * w * w;
	}
	ss_dft_c2r(dft, spec, ir);
	/* the Hilbert transform (-j on positive frequencies): with the response, the analytic signal's envelope */
	for (int k = 0; k <= L; k++)
		spec[k] *= -I;
	ss_dft_c2r(dft, spec, hi);
	for (int i = 0; i < N; i++)
		ir[i] = sqrt(ir[i] * ir[i] + hi[i] * hi[i]);
	int best = 0;
	for (int i = 0; i < N; i++)
		if (ir[i] > ir[best])
			best = i;
	t = best;
	if (best > 0 && best < N - 1) {
		double a = ir[best - 1], b = ir[best], c = ir[best + 1];
		double den = a - 2 * b + c;
		if (fabs(den) > 1e-300)
			t += 0.5 * (a - c) / den;
	}
	if (t > N / 2)
		t -= N;
done:
	ss_dft_free(dft);
	free(spec);
	free(ir);
	return t;
}
