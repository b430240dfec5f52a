/* Soundstage: side-over-front level of a source at two microphones (see directivity.h). */
#include "directivity.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "../util/dft.h"

/* |FFT|^2 of both responses, zero-padded to N; *K bins each. */
static int power_spectra(const double *front, const double *side, int len, double **pf, double **ps, int *N)
{
	int n = 4096;
	while (n < len)
		n *= 2;
	const int K = n / 2 + 1;
	double *buf = calloc((size_t)n, sizeof(double));
	double complex *spec = malloc(sizeof(double complex) * (size_t)K);
	*pf = malloc(sizeof(double) * (size_t)K);
	*ps = malloc(sizeof(double) * (size_t)K);
	struct ss_dft *dft = ss_dft_new(n);
	int r = buf && spec && *pf && *ps && dft ? 0 : -ENOMEM;
	for (int m = 0; m < 2 && r == 0; m++) {
		const double *h = m ? side : front;
		double *p = m ? *ps : *pf;
		for (int t = 0; t < n; t++)
			buf[t] = t < len ? h[t] : 0.0;
		ss_dft_r2c(dft, buf, spec);
		for (int k = 0; k < K; k++)
			p[k] = creal(spec[k] * conj(spec[k]));
	}
	ss_dft_free(dft);
	free(buf);
	free(spec);
	if (r < 0) {
		free(*pf);
		free(*ps);
		*pf = *ps = NULL;
	}
	*N = n;
	return r;
}

static int band_ratio(const double *pf, const double *ps, int N, double rate, double lo, double hi, double *db)
{
	const int K = N / 2 + 1;
	int k0 = (int)ceil(lo * N / rate), k1 = (int)floor(hi * N / rate);
	if (k0 > k1) {   /* narrower than a bin: the nearest one */
		k0 = k1 = (int)lround(0.5 * (lo + hi) * N / rate);
	}
	if (k0 < 1 || k1 >= K)
		return -EINVAL;
	double f = 0.0, s = 0.0;
	for (int k = k0; k <= k1; k++) {
		f += pf[k];
		s += ps[k];
	}
	if (!(f > 0.0))
		return -EINVAL;
	*db = 10.0 * log10((s + 1e-300) / f);
	return 0;
}

int ss_directivity_ratio_bands(const double *front, const double *side, int len, double rate, int n,
		const double *lo_hz, const double *hi_hz, double *db)
{
	double *pf, *ps;
	int N;
	int r = power_spectra(front, side, len, &pf, &ps, &N);
	for (int j = 0; j < n && r == 0; j++)
		r = band_ratio(pf, ps, N, rate, lo_hz[j], hi_hz[j], db + j);
	free(pf);
	free(ps);
	return r;
}
