/* Soundstage: shoebox image-source model. */
#include "room.h"

#include <math.h>
#include <stdlib.h>

double ss_sabine_rt60(const double size[3], double alpha, double c)
{
	double V = size[0] * size[1] * size[2];
	double S = 2.0 * (size[0] * size[1] + size[0] * size[2] + size[1] * size[2]);
	return 24.0 * log(10.0) / c * V / (S * alpha);
}

double ss_eyring_rt60(const double size[3], double alpha, double c)
{
	double V = size[0] * size[1] * size[2];
	double S = 2.0 * (size[0] * size[1] + size[0] * size[2] + size[1] * size[2]);
	return 24.0 * log(10.0) / c * V / (-S * log(1.0 - alpha));
}

double ss_eyring_alpha_for_rt60(const double size[3], double rt60, double c)
{
	double V = size[0] * size[1] * size[2];
	double S = 2.0 * (size[0] * size[1] + size[0] * size[2] + size[1] * size[2]);
	return 1.0 - exp(-24.0 * log(10.0) / c * V / (S * rt60));
}

void ss_room_mirror(const struct ss_room *room, int wall, const double p[3], double out[3])
{
	int axis = wall / 2, side = wall % 2;
	for (int i = 0; i < 3; i++)
		out[i] = p[i];
	out[axis] = side == 0 ? -p[axis] : 2.0 * room->size[axis] - p[axis];
}

void ss_room_images(const struct ss_room *room, const double src[3], int max_order, ss_image_fn fn, void *data)
{
	/* Allen & Berkley: image = (1 - 2q) src + 2 n L per axis, q in {0,1}, n integer; reflections per axis
	 * |n - q| + |n|. */
	/* |n - q| + |n| >= 2 |n| - 1 reflections on an axis: |n| beyond (max_order + 1) / 2 is always too many */
	const int nmax = (max_order + 1) / 2;
	for (int nx = -nmax; nx <= nmax; nx++)
	for (int ny = -nmax; ny <= nmax; ny++)
	for (int nz = -nmax; nz <= nmax; nz++) {
		int n[3] = { nx, ny, nz };
		if (2 * (abs(nx) + abs(ny) + abs(nz)) - 3 > max_order)
			continue;
		for (int q = 0; q < 8; q++) {
			double img[3];
			int order = 0, wall = -1;
			for (int a = 0; a < 3; a++) {
				int qa = (q >> a) & 1;
				img[a] = (1 - 2 * qa) * src[a] + 2.0 * n[a] * room->size[a];
				int refl = abs(n[a] - qa) + abs(n[a]);
				order += refl;
				if (refl == 1)
					wall = 2 * a + (n[a] == 0 ? 0 : 1);
			}
			if (order > max_order)
				continue;
			fn(data, img, pow(room->beta, order), order, order == 1 ? wall : -1);
		}
	}
}

struct ir_ctx {
	const double *rcv;
	double fs, c;
	double *ir;
	int len;
	long count;
};

static void add_image(void *data, const double img[3], double gain, int order, int wall)
{
	struct ir_ctx *x = data;
	double dx = img[0] - x->rcv[0], dy = img[1] - x->rcv[1], dz = img[2] - x->rcv[2];
	double r = sqrt(dx * dx + dy * dy + dz * dz);
	double t = r / x->c * x->fs;
	int i = (int)floor(t);
	double frac = t - i;
	if (i + 1 >= x->len || r < 1e-9)
		return;
	double a = gain / r;
	x->ir[i] += a * (1.0 - frac);
	x->ir[i + 1] += a * frac;
	x->count++;
}

long ss_room_ir(const struct ss_room *room, const double src[3], const double rcv[3], double fs, double *ir,
		int len, double c)
{
	struct ir_ctx x = { .rcv = rcv, .fs = fs, .c = c, .ir = ir, .len = len };
	/* every image within reach: along a direction u an image at distance r has about r sum |u_a| / L_a
	 * reflections, at most r sum 1 / L_a */
	double reach = len / fs * c, per_metre = 0.0;
	for (int a = 0; a < 3; a++)
		per_metre += 1.0 / room->size[a];
	int max_order = (int)ceil(reach * per_metre) + 2;
	for (int i = 0; i < len; i++)
		ir[i] = 0.0;
	ss_room_images(room, src, max_order, add_image, &x);
	return x.count;
}
