/* Soundstage: a measured head from a SOFA file (see hrtf.h). */
#include "hrtf.h"

/* mysofa.h names a struct member I: it comes before complex.h's macro */
#include <mysofa.h>

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ss_hrtf {
	struct MYSOFA_EASY *easy;
	pthread_mutex_t lock;   /* libmysofa's lookup writes into the set's scratch: one lookup at a time */
	int length;
	double rate;
	double delay;     /* samples: the frontal arrival, taken as the head centre's */
	float gain;       /* sets the frontal low-frequency level to 1 */
	char name[128];
};

static const char *mysofa_reason(int e)
{
	switch (e) {
	case MYSOFA_INVALID_FORMAT: return "not a SOFA (netCDF-4/HDF5) file";
	case MYSOFA_UNSUPPORTED_FORMAT: return "a SOFA variant libmysofa does not read";
	case MYSOFA_NO_MEMORY: return "out of memory";
	case MYSOFA_READ_ERROR: return "cannot read it";
	case MYSOFA_INVALID_ATTRIBUTES: return "missing or invalid SOFA attributes";
	case MYSOFA_INVALID_DIMENSIONS: return "invalid dimensions (expected two receivers and one emitter)";
	case MYSOFA_ONLY_THE_SAME_SAMPLING_RATE_SUPPORTED: return "more than one sampling rate";
	default: return "not a SimpleFreeFieldHRIR set libmysofa can use";
	}
}

void ss_hrtf_free(struct ss_hrtf *h)
{
	if (!h)
		return;
	if (h->easy)
		mysofa_close(h->easy);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* The raw interpolated pair (no delay or gain applied). */
static void raw_ir(const struct ss_hrtf *h, const double dir[3], float *l, float *r)
{
	float dl = 0.0f, dr = 0.0f;
	double n = sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
	pthread_mutex_lock((pthread_mutex_t *)&h->lock);
	mysofa_getfilter_float(h->easy, (float)(dir[0] / n), (float)(dir[1] / n), (float)(dir[2] / n), l, r, &dl, &dr);
	pthread_mutex_unlock((pthread_mutex_t *)&h->lock);
	/* sets with separate delays (minimum-phase filters): put them back in as whole samples */
	int sl = (int)lrintf(dl * (float)h->rate), sr = (int)lrintf(dr * (float)h->rate);
	if (sl > 0 && sl < h->length) {
		memmove(l + sl, l, sizeof(float) * (size_t)(h->length - sl));
		memset(l, 0, sizeof(float) * (size_t)sl);
	}
	if (sr > 0 && sr < h->length) {
		memmove(r + sr, r, sizeof(float) * (size_t)(h->length - sr));
		memset(r, 0, sizeof(float) * (size_t)sr);
	}
}

struct ss_hrtf *ss_hrtf_open(const char *path, double rate, struct ss_error *err)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (err) {
			memset(err, 0, sizeof(*err));
			snprintf(err->file, sizeof(err->file), "%s", path);
			snprintf(err->msg, sizeof(err->msg), "%s: %s", path,
					stat(path, &st) < 0 ? strerror(errno) : "not a regular file");
		}
		return NULL;
	}
	struct ss_hrtf *h = calloc(1, sizeof(*h));
	int e = 0;
	if (h == NULL)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	h->rate = rate;
	h->easy = mysofa_open_no_norm(path, (float)rate, &h->length, &e);
	if (h->easy == NULL || e != MYSOFA_OK) {
		if (err) {
			memset(err, 0, sizeof(*err));
			snprintf(err->file, sizeof(err->file), "%s", path);
			snprintf(err->msg, sizeof(err->msg), "%s: %s (libmysofa error %d)", path,
					e == MYSOFA_READ_ERROR || e == -ENOENT || e == ENOENT ? "cannot open or read it" :
					mysofa_reason(e), e);
		}
		ss_hrtf_free(h);
		return NULL;
	}
	const char *slash = strrchr(path, '/');
	snprintf(h->name, sizeof(h->name), "%s", slash ? slash + 1 : path);
	float *l = calloc((size_t)h->length, sizeof(float)), *r = calloc((size_t)h->length, sizeof(float));
	if (!l || !r) {
		free(l);
		free(r);
		ss_hrtf_free(h);
		return NULL;
	}
	/* the frontal arrival (the peak of both ears' sum) is the head centre's; its 300-600 Hz level is 1 */
	const double front[3] = { 1, 0, 0 };
	h->gain = 1.0f;
	raw_ir(h, front, l, r);
	int peak = 0;
	for (int t = 0; t < h->length; t++)
		if (fabsf(l[t] + r[t]) > fabsf(l[peak] + r[peak]))
			peak = t;
	h->delay = peak;
	double acc = 0.0;
	int count = 0;
	for (double f = 300.0; f <= 600.0; f += 25.0, count++) {
		double complex a = 0, b = 0;
		for (int t = 0; t < h->length; t++) {
			double complex ph = cexp(-I * 2.0 * M_PI * f * t / rate);
			a += l[t] * ph;
			b += r[t] * ph;
		}
		acc += 0.5 * (cabs(a) + cabs(b));
	}
	h->gain = acc > 0.0 ? (float)(count / acc) : 1.0f;
	free(l);
	free(r);
	return h;
}

int ss_hrtf_length(const struct ss_hrtf *h) { return h->length; }
double ss_hrtf_rate(const struct ss_hrtf *h) { return h->rate; }
double ss_hrtf_delay(const struct ss_hrtf *h) { return h->delay; }
const char *ss_hrtf_name(const struct ss_hrtf *h) { return h->name; }

void ss_hrtf_ir(const struct ss_hrtf *h, const double dir[3], float *left, float *right)
{
	raw_ir(h, dir, left, right);
	for (int t = 0; t < h->length; t++) {
		left[t] *= h->gain;
		right[t] *= h->gain;
	}
}
