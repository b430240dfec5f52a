/* Soundstage: ear signals from driver signals (see ears.h). */
#include "ears.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../acoustics/plant.h"
#include "../acoustics/weighting.h"
#include "../util/dft.h"

void ss_design_plant_eval(void *data, double f, double complex C[2][SS_MAX_DRIVERS])
{
	const struct ss_design_plant *d = data;
	ss_plant_eval(d->profile, d->offset, f > 0.0 ? f : 1.0, C);
}

void ss_ear_psd_free(struct ss_ear_psd *psd)
{
	free(psd->ear[0]);
	free(psd->ear[1]);
	psd->ear[0] = psd->ear[1] = NULL;
}

int ss_ear_psd(int n_drivers, const float *const *y, long start, long len, double rate, int nfft,
		ss_plant_fn plant, void *data, struct ss_ear_psd *out)
{
	const int K = nfft / 2 + 1, hop = nfft / 2;
	memset(out, 0, sizeof(*out));
	if (len < nfft)
		return -EINVAL;
	out->nfft = nfft;
	out->bins = K;
	out->rate = rate;
	out->ear[0] = calloc((size_t)K, sizeof(double));
	out->ear[1] = calloc((size_t)K, sizeof(double));
	double complex (*C)[2][SS_MAX_DRIVERS] = malloc(sizeof(*C) * (size_t)K);
	double complex *X = malloc(sizeof(double complex) * (size_t)K * (size_t)n_drivers);
	double *frame = malloc(sizeof(double) * (size_t)nfft), *win = malloc(sizeof(double) * (size_t)nfft);
	struct ss_dft *dft = ss_dft_new(nfft);
	int r = 0;
	if (!out->ear[0] || !out->ear[1] || !C || !X || !frame || !win || !dft) {
		ss_ear_psd_free(out);
		r = -ENOMEM;
		goto done;
	}
	for (int k = 0; k < K; k++)
		plant(data, k * rate / nfft, C[k]);
	for (int t = 0; t < nfft; t++)
		win[t] = 0.5 - 0.5 * cos(2.0 * M_PI * t / nfft);
	for (long s = start; s + nfft <= start + len; s += hop) {
		for (int d = 0; d < n_drivers; d++) {
			for (int t = 0; t < nfft; t++)
				frame[t] = y[d][s + t] * win[t];
			ss_dft_r2c(dft, frame, X + (size_t)d * K);
		}
		for (int k = 0; k < K; k++)
			for (int ear = 0; ear < 2; ear++) {
				double complex e = 0;
				for (int d = 0; d < n_drivers; d++)
					e += C[k][ear][d] * X[(size_t)d * K + k];
				out->ear[ear][k] += creal(e * conj(e));
			}
		out->frames++;
	}
	for (int ear = 0; ear < 2; ear++)
		for (int k = 0; k < K; k++)
			out->ear[ear][k] /= (double)out->frames;
done:
	free(C);
	free(X);
	free(frame);
	free(win);
	ss_dft_free(dft);
	return r;
}

double ss_ear_power(const struct ss_ear_psd *psd, int ear, double f_lo, double f_hi, bool a_weighted)
{
	double acc = 0.0;
	for (int k = 0; k < psd->bins; k++) {
		double f = k * psd->rate / psd->nfft;
		if (f < f_lo || f >= f_hi)
			continue;
		double w = a_weighted ? ss_a_weight(f) * ss_a_weight(f) : 1.0;
		for (int e = 0; e < 2; e++)
			if (ear < 0 || ear == e)
				acc += w * psd->ear[e][k];
	}
	return acc;
}
