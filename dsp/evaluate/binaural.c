/* Soundstage: figures from binaural responses (see binaural.h). */
#include "binaural.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/dft.h"

#define ITD_FROM_HZ 100.0

int ss_binaural_figures(const double *h[2][2], int len, double rate, struct ss_binaural_figures *out)
{
	if (len < 16 || !(rate > 0.0) || out == NULL)
		return -EINVAL;
	int N = 1;
	while (N < len)
		N *= 2;
	const int K = N / 2 + 1;
	struct ss_dft *dft = ss_dft_new(N);
	double *buf = calloc((size_t)N, sizeof(double)), *f = malloc(sizeof(double) * (size_t)K);
	double complex *H = malloc(sizeof(double complex) * (size_t)K * 4);
	int r = 0;
	if (dft == NULL || buf == NULL || f == NULL || H == NULL) {
		r = -ENOMEM;
		goto done;
	}
	for (int in = 0; in < 2; in++)
		for (int e = 0; e < 2; e++) {
			memset(buf, 0, sizeof(double) * (size_t)N);
			memcpy(buf, h[in][e], sizeof(double) * (size_t)len);
			ss_dft_r2c(dft, buf, H + (size_t)(in * 2 + e) * (size_t)K);
		}
	for (int k = 0; k < K; k++)
		f[k] = k * rate / N;
	memset(out, 0, sizeof(*out));
	for (int b = 0; b < SS_SEP_BANDS; b++) {
		for (int in = 0; in < 2; in++) {
			const double complex *ipsi = H + (size_t)(in * 2 + in) * (size_t)K,
					     *contra = H + (size_t)(in * 2 + 1 - in) * (size_t)K;
			double pi = 0.0, pc = 0.0;
			for (int k = 1; k < K; k++)
				if (f[k] >= ss_sep_band_edges[b][0] && f[k] < ss_sep_band_edges[b][1]) {
					pi += creal(ipsi[k] * conj(ipsi[k]));
					pc += creal(contra[k] * conj(contra[k]));
				}
			out->separation_side_db[in][b] = 10.0 * log10((pi + 1e-30) / (pc + 1e-30));
		}
		out->separation_db[b] = fmin(out->separation_side_db[0][b], out->separation_side_db[1][b]);
	}
	/* the interaural phase is unwrapped from the grid's bottom: start at 100 Hz, inside any probe's band (below it a
	 * measurement holds the deconvolution's noise) and low enough that no real ITD has turned the phase by pi */
	int k0 = 1;
	while (k0 < K - 1 && f[k0] < ITD_FROM_HZ)
		k0++;
	for (int in = 0; in < 2; in++) {
		const double complex *l = H + (size_t)(in * 2) * (size_t)K + k0, *rr = H + (size_t)(in * 2 + 1) * (size_t)K + k0;
		out->itd_us[in] = ss_interaural_itd(K - k0, f + k0, l, rr) * 1e6;
		ss_interaural_ild(K - k0, f + k0, l, rr, out->ild_db[in]);
	}
done:
	ss_dft_free(dft);
	free(buf);
	free(f);
	free(H);
	return r;
}

int ss_binaural_separation_curve(const double *h[2][2], int len, double rate, int nf, const double *freqs,
		double *sep_db)
{
	if (len < 16 || !(rate > 0.0))
		return -EINVAL;
	int N = 16384;   /* zero-padded: a short window's spectrum, drawn smoothly */
	while (N < len)
		N *= 2;
	const int K = N / 2 + 1;
	struct ss_dft *dft = ss_dft_new(N);
	double *buf = calloc((size_t)N, sizeof(double));
	double complex *H = malloc(sizeof(double complex) * (size_t)K * 4);
	int r = 0;
	if (dft == NULL || buf == NULL || H == NULL) {
		r = -ENOMEM;
		goto done;
	}
	for (int in = 0; in < 2; in++)
		for (int e = 0; e < 2; e++) {
			memset(buf, 0, sizeof(double) * (size_t)N);
			memcpy(buf, h[in][e], sizeof(double) * (size_t)len);
			ss_dft_r2c(dft, buf, H + (size_t)(in * 2 + e) * (size_t)K);
		}
	for (int j = 0; j < nf; j++) {
		const double lo = freqs[j] * pow(2.0, -1.0 / 12.0), hi = freqs[j] * pow(2.0, 1.0 / 12.0);
		double worst = INFINITY;
		for (int in = 0; in < 2; in++) {
			const double complex *ipsi = H + (size_t)(in * 2 + in) * (size_t)K,
					     *contra = H + (size_t)(in * 2 + 1 - in) * (size_t)K;
			double pi = 0.0, pc = 0.0;
			/* at least the nearest bin: a short window's bins are wider than a sixth of an octave */
			int k0 = (int)floor(lo * N / rate), k1 = (int)ceil(hi * N / rate);
			if (k1 <= k0)
				k1 = k0 + 1;
			for (int k = k0 < 1 ? 1 : k0; k < k1 && k < K; k++) {
				pi += creal(ipsi[k] * conj(ipsi[k]));
				pc += creal(contra[k] * conj(contra[k]));
			}
			worst = fmin(worst, 10.0 * log10((pi + 1e-30) / (pc + 1e-30)));
		}
		sep_db[j] = worst;
	}
done:
	ss_dft_free(dft);
	free(buf);
	free(H);
	return r;
}
