/* Soundstage: the filter set's lifetime and sizes. */
#include "filterset.h"

#include <math.h>
#include <stdlib.h>

void ss_filterset_free(struct ss_filterset *fs)
{
	if (fs == NULL)
		return;
	free(fs->fir);
	free(fs->plain_fir);
	free(fs);
}

void ss_filterset_sizes(double rate, int taps48, int block48, int *block, int *taps, int *hop)
{
	double r = rate / 48000.0;
	int e = (int)lround(log2(r));
	if (e < -2)
		e = -2;
	double scale = ldexp(1.0, e);
	*hop = (int)(128 * scale);
	if (*hop < 16)
		*hop = 16;
	*block = (int)(block48 * scale);
	if (*block < 16)
		*block = 16;
	if (*hop > *block)
		*hop = *block;
	*taps = (int)(taps48 * scale);
	if (*taps < 4 * *block)
		*taps = 4 * *block;
}

int ss_lookahead_samples(double rate)
{
	return (int)lround(SS_LOOKAHEAD_MS * 1e-3 * rate) + SS_TRUEPEAK_HALF;
}

int ss_filterset_latency(const struct ss_filterset *fs)
{
	return fs->block + (SS_UPMIX_FRAME_HOPS - 1) * fs->upmix_hop + (int)lround(fs->arrival) +
		ss_lookahead_samples(fs->rate);
}
