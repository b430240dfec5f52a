/* Soundstage: exponential sine sweep measurement (see sweep.h). */
#include "sweep.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/dft.h"

#define FADE_IN_MAX_S 0.05
#define FADE_OUT_S 0.01
/* The regularisation rises outside the band over these widths (raised cosine in log-frequency): a steep edge rings
 * longer than the response window, and at the low edge (a few Hz wide in absolute terms) that ringing is what
 * limits the error within the band (one octave: -51 -> see test_measure); at the top a third of an octave is short. */
#define LOW_EDGE_OCTAVES 1.0
#define HIGH_EDGE_OCTAVES (1.0 / 3.0)
#define IN_BAND_EPS 1e-10          /* relative to the sweep's peak power: in band, practically no regularisation */

int ss_sweep_make(struct ss_sweep *s, double rate, double f1, double f2, double seconds)
{
	memset(s, 0, sizeof(*s));
	if (!(rate >= 8000.0 && rate <= 768000.0) || !(f1 >= 10.0) || !(f2 > f1) || !(f2 <= 0.48 * rate) ||
			!(seconds >= 0.1 && seconds <= 60.0))
		return -EINVAL;
	s->rate = rate;
	s->f1 = f1;
	s->f2 = f2;
	s->seconds = seconds;
	s->L = seconds / log(f2 / f1);
	s->n = (long)ceil(seconds * rate);
	s->signal = malloc(sizeof(float) * (size_t)s->n);
	if (s->signal == NULL)
		return -ENOMEM;
	const double fade_in = fmin(FADE_IN_MAX_S, 0.1 * seconds), fade_out = FADE_OUT_S;
	for (long i = 0; i < s->n; i++) {
		const double t = (double)i / rate;
		double g = 1.0;
		if (t < fade_in)
			g = 0.5 - 0.5 * cos(M_PI * t / fade_in);
		else if (t > seconds - fade_out)
			g = 0.5 - 0.5 * cos(M_PI * fmax(0.0, seconds - t) / fade_out);
		s->signal[i] = (float)(g * sin(2.0 * M_PI * f1 * s->L * (exp(t / s->L) - 1.0)));
	}
	return 0;
}

void ss_sweep_free(struct ss_sweep *s)
{
	free(s->signal);
	s->signal = NULL;
}

double ss_sweep_harmonic_advance(const struct ss_sweep *s, int k)
{
	return s->L * log((double)k);
}

static long next_pow2(long n)
{
	long p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

/* 0 inside the sweep's band, rising to 1 outside it (raised cosine in log-frequency) */
static double outside_band(const struct ss_sweep *s, double f)
{
	double oct = 0.0, width = 1.0;
	if (f < s->f1) {
		width = LOW_EDGE_OCTAVES;
		oct = f > 0.0 ? log2(s->f1 / f) : width;
	} else if (f > s->f2) {
		width = HIGH_EDGE_OCTAVES;
		oct = log2(f / s->f2);
	}
	if (oct >= width)
		return 1.0;
	return 0.5 - 0.5 * cos(M_PI * oct / width);
}

/* The whole circular deconvolution, time origin at index 0: d[N], allocated. */
static int deconvolve_all(const struct ss_sweep *s, double level, const float *rec, long n_rec, long start,
		double **out, long *out_n)
{
	if (s->signal == NULL || rec == NULL || start < 0 || start >= n_rec || !(level > 0.0))
		return -EINVAL;
	const long m = n_rec - start, N = next_pow2(m + s->n);
	if (N > (1L << 26))
		return -EINVAL;
	const long K = N / 2 + 1;
	double *buf = calloc((size_t)N, sizeof(double));
	double complex *X = malloc(sizeof(double complex) * (size_t)K), *Y = malloc(sizeof(double complex) * (size_t)K);
	struct ss_dft *dft = ss_dft_new((int)N);
	int res = 0;
	if (buf == NULL || X == NULL || Y == NULL || dft == NULL) {
		res = -ENOMEM;
		goto done;
	}
	for (long i = 0; i < s->n; i++)
		buf[i] = level * s->signal[i];
	ss_dft_r2c(dft, buf, X);
	memset(buf, 0, sizeof(double) * (size_t)N);
	for (long i = 0; i < m; i++)
		buf[i] = rec[start + i];
	ss_dft_r2c(dft, buf, Y);
	/* (maxima by comparison, not fmax: GCC 12.2 for aarch64 crashes vectorising fmax reductions at -O3) */
	double peak = 0.0;
	for (long k = 0; k < K; k++) {
		const double p = creal(X[k] * conj(X[k]));
		if (p > peak)
			peak = p;
	}
	for (long k = 0; k < K; k++) {
		const double f = (double)k * s->rate / (double)N;
		const double eps = peak * (IN_BAND_EPS + outside_band(s, f));
		Y[k] = Y[k] * conj(X[k]) / (creal(X[k] * conj(X[k])) + eps) / (double)N;
	}
	ss_dft_c2r(dft, Y, buf);
	*out = buf;
	*out_n = N;
	buf = NULL;
done:
	free(buf);
	free(X);
	free(Y);
	ss_dft_free(dft);
	return res;
}

int ss_sweep_deconvolve(const struct ss_sweep *s, double level, const float *rec, long n_rec, long start,
		double *ir, int ir_len, int pre)
{
	if (ir == NULL || ir_len <= 0 || pre < 0 || (double)(ir_len + pre) >= ss_sweep_harmonic_advance(s, 2) * s->rate ||
			ir_len + pre > n_rec - start)
		return -EINVAL;
	double *d;
	long N;
	int res = deconvolve_all(s, level, rec, n_rec, start, &d, &N);
	if (res < 0)
		return res;
	for (int i = 0; i < ir_len; i++)
		ir[i] = d[((long)i - pre + N) % N];
	free(d);
	return 0;
}

int ss_sweep_quality(const struct ss_sweep *s, double level, const float *rec, long n_rec, long start, int ir_len,
		struct ss_sweep_quality *q)
{
	if (q == NULL || ir_len <= 0 || rec == NULL || n_rec <= 0)
		return -EINVAL;
	double peak = 0.0, noise = 0.0;
	q->clipped = 0;
	for (long i = 0; i < n_rec; i++) {
		const double a = fabs((double)rec[i]);
		if (a > peak)
			peak = a;
		q->clipped += a >= 0.999;
	}
	for (long i = 0; i < start && i < n_rec; i++)
		noise += (double)rec[i] * rec[i];
	q->peak_dbfs = 20.0 * log10(peak + 1e-30);
	q->noise_dbfs = start > 0 ? 10.0 * log10(noise / (double)start + 1e-30) : NAN;
	double *d;
	long N;
	int res = deconvolve_all(s, level, rec, n_rec, start, &d, &N);
	if (res < 0)
		return res;
	double ir_peak = 0.0, acc = 0.0;
	for (long i = 0; i < ir_len && i < N; i++)
		if (fabs(d[i]) > ir_peak)
			ir_peak = fabs(d[i]);
	/* the noise: after the response window, before the harmonics' region (which wraps to the end) */
	const long from = ir_len, to = N - (long)ceil(ss_sweep_harmonic_advance(s, 2) * s->rate) - ir_len;
	long count = 0;
	for (long i = from; i < to; i++, count++)
		acc += d[i] * d[i];
	free(d);
	q->inr_db = count > 0 ? 20.0 * log10(ir_peak + 1e-30) - 10.0 * log10(acc / (double)count + 1e-60) : NAN;
	return 0;
}
