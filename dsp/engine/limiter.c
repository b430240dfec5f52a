/* Soundstage: protective limiter. */
#include "limiter.h"

#include <math.h>
#include <stdbool.h>

void ss_limiter_init(struct ss_limiter *l, float ceiling, double rate, double release_ms)
{
	l->ceiling = ceiling;
	l->release = (float)(1.0 - exp(-1.0 / (release_ms * 1e-3 * rate)));
	l->gain = 1.0f;
	l->min_gain = 1.0f;
}

int ss_limiter_process(struct ss_limiter *l, float *const *ch, int channels, int n)
{
	int bad = 0;
	float g = l->gain;
	const float c = l->ceiling, rel = l->release;
	for (int t = 0; t < n; t++) {
		float peak = 0.0f;
		bool finite = true;
		for (int k = 0; k < channels; k++) {
			float a = fabsf(ch[k][t]);
			finite &= a <= 3.4e38f;   /* NaN fails every comparison */
			peak = a > peak ? a : peak;
		}
		if (!finite) {
			for (int k = 0; k < channels; k++)
				ch[k][t] = 0.0f;
			bad++;
			continue;
		}
		g += (1.0f - g) * rel;
		if (peak * g > c)
			g = c / peak;
		if (g < l->min_gain)
			l->min_gain = g;
		for (int k = 0; k < channels; k++) {
			float v = ch[k][t] * g;
			ch[k][t] = v > c ? c : (v < -c ? -c : v);
		}
	}
	l->gain = g;
	return bad;
}
