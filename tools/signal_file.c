/* See signal_file.h. */
#include "signal_file.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

int wav_load(const char *path, struct wav *w)
{
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	memset(w, 0, sizeof(*w));
	if (!f)
		return -1;
	w->rate = info.samplerate;
	w->channels = info.channels;
	w->frames = (long)info.frames;
	w->data = malloc(sizeof(float) * (size_t)(w->frames > 0 ? w->frames : 1) * (size_t)w->channels);
	if (!w->data) {
		sf_close(f);
		memset(w, 0, sizeof(*w));
		return -1;
	}
	w->frames = (long)sf_readf_float(f, w->data, info.frames);
	sf_close(f);
	return 0;
}

int wav_load_raw_f32(const char *path, int channels, int rate, struct wav *w)
{
	FILE *f = fopen(path, "rb");
	long bytes;
	memset(w, 0, sizeof(*w));
	if (!f || channels < 1)
		goto fail;
	if (fseek(f, 0, SEEK_END) != 0 || (bytes = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	w->rate = rate;
	w->channels = channels;
	w->frames = bytes / (4L * channels);
	w->data = malloc(sizeof(float) * (size_t)(w->frames > 0 ? w->frames : 1) * (size_t)channels);
	if (!w->data || fread(w->data, 4u * (size_t)channels, (size_t)w->frames, f) != (size_t)w->frames)
		goto fail;
	for (long i = 0; i < w->frames * channels; i++) {   /* the file is little-endian */
		uint8_t *b = (uint8_t *)&w->data[i];
		uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		memcpy(&w->data[i], &u, 4);
	}
	fclose(f);
	return 0;
fail:
	if (f)
		fclose(f);
	wav_free(w);
	memset(w, 0, sizeof(*w));
	return -1;
}

int wav_save(const char *path, const struct wav *w, int channel)
{
	int nc = channel < 0 ? w->channels : 1;
	SF_INFO info = { .samplerate = w->rate, .channels = nc, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	if (!f)
		return -1;
	sf_count_t done;
	if (channel < 0) {
		done = sf_writef_float(f, w->data, w->frames);
	} else {
		float *mono = malloc(sizeof(float) * (size_t)(w->frames > 0 ? w->frames : 1));
		if (!mono) {
			sf_close(f);
			return -1;
		}
		for (long t = 0; t < w->frames; t++)
			mono[t] = w->data[t * w->channels + channel];
		done = sf_writef_float(f, mono, w->frames);
		free(mono);
	}
	sf_close(f);
	return done == w->frames ? 0 : -1;
}

void wav_free(struct wav *w)
{
	free(w->data);
	w->data = NULL;
}

long wav_onset(const struct wav *w)
{
	for (long t = 0; t < w->frames; t++)
		for (int c = 0; c < w->channels; c++)
			if (fabsf(w->data[t * w->channels + c]) > 1e-3f)
				return t;
	return -1;
}

/* Sum over frames t in [from, to) of ref and all channels of (ref[t] - rec[t + off])^2, skipping frames rec does
 * not have; *n (if set) gets the number of frames summed. */
static double sq_diff(const struct wav *ref, const struct wav *rec, long off, long from, long to, long *n)
{
	const int nc = ref->channels;
	double acc = 0.0;
	long k = 0;
	for (long t = from < 0 ? 0 : from; t < to && t < ref->frames; t++) {
		long u = t + off;
		if (u < 0 || u >= rec->frames)
			continue;
		for (int c = 0; c < nc; c++) {
			double d = (double)ref->data[t * nc + c] - rec->data[u * nc + c];
			acc += d * d;
		}
		k++;
	}
	if (n)
		*n = k;
	return acc;
}

double wav_rms_diff(const struct wav *a, const struct wav *b, long offset, long from, long to)
{
	long n;
	double acc = sq_diff(a, b, offset, from, to, &n);
	return n ? sqrt(acc / ((double)n * a->channels)) : INFINITY;
}

long wav_compare(const struct wav *ref, const struct wav *rec, long from, double *max_diff, double *peak)
{
	long a = wav_onset(ref), b = wav_onset(rec);
	*max_diff = INFINITY;
	*peak = 0.0;
	if (a < 0 || b < 0 || ref->channels != rec->channels)
		return -1;
	const int nc = ref->channels;
	long best = -1;
	double best_err = INFINITY;
	for (long off = b - a - 256; off <= b - a + 256; off++) {
		double err = sq_diff(ref, rec, off, a, a + 4800, NULL);
		if (err < best_err) {
			best_err = err;
			best = off;
		}
	}
	double md = 0.0, pk = 0.0;
	for (long t = from; t < ref->frames; t++) {
		long u = t + best;
		if (u < 0)
			continue;   /* rec starts later than ref's frame 0 (a negative offset): compare from its start */
		if (u >= rec->frames)
			break;
		for (int c = 0; c < nc; c++) {
			double x = ref->data[t * nc + c], d = fabs(x - rec->data[u * nc + c]);
			md = d > md ? d : md;
			pk = fabs(x) > pk ? fabs(x) : pk;
		}
	}
	*max_diff = md;
	*peak = pk;
	return best;
}


long wav_describe_mismatch(const struct wav *ref, const struct wav *rec, long off, double tol, char *buf, int size)
{
	const int nc = ref->channels;
	long first = -1;
	snprintf(buf, (size_t)size, "no frame differs by more than %.3g", tol);
	for (long t = 0; t < ref->frames && first < 0; t++) {
		long u = t + off;
		if (u < 0)
			continue;
		if (u >= rec->frames)
			break;
		for (int c = 0; c < nc; c++)
			if (fabs((double)ref->data[t * nc + c] - rec->data[u * nc + c]) > tol) {
				first = t;
				break;
			}
	}
	if (first < 0)
		return -1;
	long zeros = 0;
	for (long u = first + off; u < rec->frames; u++, zeros++) {
		int all = 1;
		for (int c = 0; c < nc; c++)
			all &= rec->data[u * nc + c] == 0.0f;
		if (!all)
			break;
	}
	double er = 0.0, ec = 0.0;
	for (long t = first; t < first + 256 && t < ref->frames && t + off < rec->frames; t++)   /* t + off >= 0 */
		for (int c = 0; c < nc; c++) {
			er += (double)ref->data[t * nc + c] * ref->data[t * nc + c];
			ec += (double)rec->data[(t + off) * nc + c] * rec->data[(t + off) * nc + c];
		}
	long best = 0;
	double best_err = INFINITY;
	long t0 = first + zeros + 256;
	for (long s = -2048; s <= 2048; s++) {
		long n;
		double err = sq_diff(ref, rec, off + s, t0, t0 + 4800, &n);
		if (n > 0 && err < best_err) {
			best_err = err;
			best = s;
		}
	}
	double after = 0.0;   /* max difference once re-aligned, from the first difference on */
	for (long t = first; t < ref->frames; t++) {
		long u = t + off + best;
		if (u < 0)
			continue;
		if (u >= rec->frames)
			break;
		for (int c = 0; c < nc; c++)
			after = fmax(after, fabs((double)ref->data[t * nc + c] - rec->data[u * nc + c]));
	}
	snprintf(buf, (size_t)size, "first differs at frame %ld (%.3f s); %ld exact-zero frames from there; "
			"level rec/ref %.2f dB over 256 frames; best re-alignment after it: %+ld frames, then max "
			"|difference| %.3g", first, first / (double)(ref->rate > 0 ? ref->rate : 48000), zeros,
			10.0 * log10((ec + 1e-30) / (er + 1e-30)), best, after);
	return first;
}
