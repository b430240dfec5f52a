/* Soundstage: figures from binaural responses (see binaural.h). */
#include "binaural.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/dft.h"

#define ITD_FROM_HZ 100.0

/* The four responses' spectra, each zero-padded to N (a power of two, at least min_n and len): H[in * 2 + ear][K],
 * K = N / 2 + 1, malloc'd. 0 or -ENOMEM. */
static int spectra(const double *h[2][2], int len, int min_n, double complex **H, int *N)
{
	int n = min_n;
	while (n < len)
		n *= 2;
	const int K = n / 2 + 1;
	struct ss_dft *dft = ss_dft_new(n);
	double *buf = calloc((size_t)n, sizeof(double));
	*H = malloc(sizeof(double complex) * (size_t)K * 4);
	int r = dft && buf && *H ? 0 : -ENOMEM;
	for (int j = 0; j < 4 && r == 0; j++) {
		memset(buf, 0, sizeof(double) * (size_t)n);
		memcpy(buf, h[j / 2][j % 2], sizeof(double) * (size_t)len);
		ss_dft_r2c(dft, buf, *H + (size_t)j * (size_t)K);
	}
	ss_dft_free(dft);
	free(buf);
	if (r < 0) {
		free(*H);
		*H = NULL;
	}
	*N = n;
	return r;
}

int ss_binaural_figures(const double *h[2][2], int len, double rate, struct ss_binaural_figures *out)
{
	if (len < 16 || !(rate > 0.0) || out == NULL)
		return -EINVAL;
	double complex *H;
	int N;
	int r = spectra(h, len, 1, &H, &N);
	const int K = N / 2 + 1;
	double *f = r == 0 ? malloc(sizeof(double) * (size_t)K) : NULL;
	if (f == NULL) {
		r = -ENOMEM;
		goto done;
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
	free(f);
	free(H);
	return r;
}

int ss_binaural_separation_curve(const double *h[2][2], int len, double rate, int nf, const double *freqs,
		double *sep_db)
{
	if (len < 16 || !(rate > 0.0))
		return -EINVAL;
	/* zero-padded to 16384 at least: a short window's spectrum, drawn smoothly */
	double complex *H;
	int N;
	int r = spectra(h, len, 16384, &H, &N);
	const int K = N / 2 + 1;
	for (int j = 0; j < nf && r == 0; j++) {
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
	free(H);
	return r;
}
