/* Soundstage: test programmes. */
#include "programme.h"

#include <math.h>
#include <stddef.h>

#include "../util/random.h"

void ss_programme_normalise(float *x, float *y, long n, float peak)
{
	float m = 0.0f;
	for (long i = 0; i < n; i++) {
		m = fmaxf(m, fabsf(x[i]));
		if (y)
			m = fmaxf(m, fabsf(y[i]));
	}
	if (m <= 0.0f)
		return;
	float g = peak / m;
	for (long i = 0; i < n; i++) {
		x[i] *= g;
		if (y)
			y[i] *= g;
	}
}

void ss_programme_pink(uint64_t seed, float *x, long n, float peak)
{
	struct ss_rng r;
	double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
	ss_rng_seed(&r, seed);
	for (long i = 0; i < n; i++) {
		double w = ss_rng_gauss(&r);
		b0 = 0.99886 * b0 + w * 0.0555179;
		b1 = 0.99332 * b1 + w * 0.0750759;
		b2 = 0.96900 * b2 + w * 0.1538520;
		b3 = 0.86650 * b3 + w * 0.3104856;
		b4 = 0.55000 * b4 + w * 0.5329522;
		b5 = -0.7616 * b5 - w * 0.0168980;
		x[i] = (float)(b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362);
		b6 = w * 0.115926;
	}
	/* the filter's DC gain is large: take the mean out, so that the programme is pink, not pink plus a drift */
	double mean = 0.0;
	for (long i = 0; i < n; i++)
		mean += x[i];
	mean /= n > 0 ? (double)n : 1.0;
	for (long i = 0; i < n; i++)
		x[i] -= (float)mean;
	ss_programme_normalise(x, NULL, n, peak);
}

void ss_programme_sweep(float *x, long n, double rate, double f0, double f1, float amp)
{
	const double T = n / rate, k = log(f1 / f0);
	for (long i = 0; i < n; i++) {
		double t = i / rate;
		x[i] = amp * (float)sin(2.0 * M_PI * f0 * T / k * (exp(t / T * k) - 1.0));
	}
}

void ss_programme_square(float *x, long n, double rate, double freq, float amp)
{
	for (long i = 0; i < n; i++) {
		double ph = fmod(i * freq / rate, 1.0);
		x[i] = ph < 0.5 ? amp : -amp;
	}
}

void ss_programme_smpte(float *x, long n, double rate, double f_lo, double f_hi, float peak)
{
	for (long i = 0; i < n; i++)
		x[i] = (float)(0.8 * sin(2.0 * M_PI * f_lo * i / rate) + 0.2 * sin(2.0 * M_PI * f_hi * i / rate)) * peak;
}

void ss_programme_clipped(uint64_t seed, float *x, long n, float peak, double drive_db)
{
	ss_programme_pink(seed, x, n, peak);
	const float g = (float)pow(10.0, drive_db / 20.0);
	for (long i = 0; i < n; i++) {
		float v = x[i] * g;
		x[i] = v > peak ? peak : (v < -peak ? -peak : v);
	}
}

void ss_programme_notes(uint64_t seed, float *x, long n, double rate, float peak)
{
	struct ss_rng r;
	ss_rng_seed(&r, seed);
	for (long i = 0; i < n; i++)
		x[i] = 0.0f;
	long start = 0;
	while (start < n) {
		const long len = (long)((0.15 + 0.35 * ss_rng_uniform(&r)) * rate);
		const double f0 = 100.0 * pow(8.0, ss_rng_uniform(&r));   /* 100-800 Hz */
		const double phase = 2.0 * M_PI * ss_rng_uniform(&r);
		for (long j = 0; j < len && start + j < n; j++) {
			const double t = j / rate;
			/* 5 ms attack, exponential decay to -35 dB over the note */
			const double env = fmin(1.0, t / 0.005) * exp(-4.0 * (double)j / (double)len);
			double v = 0.0;
			for (int h = 1; h <= 10 && h * f0 < 0.4 * rate; h++)
				v += sin(2.0 * M_PI * h * f0 * t + h * phase) / h;
			x[start + j] += (float)(env * (v + 0.01 * ss_rng_gauss(&r)));
		}
		/* the next note starts before this one has died away: notes overlap */
		start += (long)(len * (0.6 + 0.3 * ss_rng_uniform(&r)));
	}
	ss_programme_normalise(x, NULL, n, peak);
}
