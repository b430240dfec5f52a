/* Soundstage: drivers-to-ears plant. */
#include "plant.h"

#include <stdbool.h>
#include <math.h>
#include <stdlib.h>

#include "driver.h"
#include "head.h"

const struct ss_listener ss_listener_design = { "sphere 8.75 cm, ears +-100 deg", SS_HEAD_RADIUS, SS_EAR_AZIMUTH_DEG,
	NULL };
const struct ss_listener ss_listener_sphere90 = { "sphere 8.75 cm, ears +-90 deg", SS_HEAD_RADIUS, 90.0, NULL };

void ss_device_centre(const struct ss_profile *p, double out[3])
{
	out[0] = p->listener_distance;
	out[1] = 0.0;
	out[2] = 0.0;
}

/* Ear pressures (relative to e^{-jk*ref}/ref) of a point source at `src` heard by a sphere of radius `a` with its
 * ears at +-`ear_az` degrees, centred at `head`. */
static void ears_of_point_on(const double src[3], const double head[3], double f, double ref, double gain, double a,
		double ear_az, double complex out[2])
{
	double v[3], r, cosines[2];
	double complex h[2];
	const double k = 2.0 * M_PI * f / SS_SPEED_OF_SOUND;
	for (int i = 0; i < 3; i++)
		v[i] = src[i] - head[i];
	r = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
	for (int e = 0; e < 2; e++) {
		double ear[3];
		ss_ear_direction(e, ear_az, ear);
		cosines[e] = (ear[0] * v[0] + ear[1] * v[1] + ear[2] * v[2]) / r;
	}
	ss_sphere_pressure(f, r, a, SS_SPEED_OF_SOUND, 2, cosines, h);
	/* propagation relative to the reference path */
	double complex prop = cexp(-I * k * (r - ref)) * (ref / r);
	out[0] = gain * prop * h[0];
	out[1] = gain * prop * h[1];
}

static void ears_of_point(const double src[3], const double head[3], double f, double ref, double gain,
		double complex out[2])
{
	ears_of_point_on(src, head, f, ref, gain, SS_HEAD_RADIUS, SS_EAR_AZIMUTH_DEG, out);
}

void ss_plant_eval(const struct ss_profile *p, const double head_offset[3], double f,
		double complex C[2][SS_MAX_DRIVERS])
{
	double device[3], head[3] = { head_offset[0], head_offset[1], head_offset[2] };
	ss_device_centre(p, device);
	for (int i = 0; i < p->n_drivers; i++) {
		const struct ss_driver *d = &p->drivers[i];
		double pos[3], v[3], r;
		double complex e[2];
		ss_driver_world_position(d, device, pos);
		for (int j = 0; j < 3; j++)
			v[j] = head[j] - pos[j];
		r = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
		double cos_psi = (v[0] * d->axis[0] + v[1] * d->axis[1] + v[2] * d->axis[2]) / r;
		double g = ss_driver_directivity(d, f, cos_psi, SS_SPEED_OF_SOUND);
		ears_of_point(pos, head, f, p->listener_distance, g, e);
		C[0][i] = e[0];
		C[1][i] = e[1];
	}
}

void ss_listener_point_ears(const struct ss_listener *head, double az_deg, double r, double f,
		double reference_distance, double complex out[2])
{
	double az = az_deg * SS_RAD_PER_DEG;
	double src[3] = { r * cos(az), r * sin(az), 0.0 }, centre[3] = { 0, 0, 0 };
	ears_of_point_on(src, centre, f, reference_distance, 1.0, head->radius, head->ear_az_deg, out);
}

void ss_real_source_ears(double az_deg, double r, double f, double reference_distance, double complex out[2])
{
	ss_listener_point_ears(&ss_listener_design, az_deg, r, f, reference_distance, out);
}

double ss_driver_extra_delay(const struct ss_profile *p, int i)
{
	double device[3], d = 0.0;
	ss_device_centre(p, device);
	for (int j = 0; j < 3; j++) {
		double v = device[j] + p->drivers[i].position[j];
		d += v * v;
	}
	return (sqrt(d) - p->listener_distance) / SS_SPEED_OF_SOUND;
}

/* ---- plant models ---- */

struct ss_plant {
	const struct ss_profile *p;
	struct ss_plant_model m;
	int hlen;               /* measured head: response length, and each driver's pair [n][2][hlen] */
	double hdelay, hrate;
	float *hir;
};

void ss_plant_free(struct ss_plant *pl)
{
	if (!pl)
		return;
	free(pl->hir);
	free(pl);
}

struct ss_plant *ss_plant_new(const struct ss_profile *p, const struct ss_plant_model *m)
{
	struct ss_plant *pl = calloc(1, sizeof(*pl));
	if (!pl)
		return NULL;
	pl->p = p;
	pl->m = *m;
	if (m->head.hrtf) {
		const int n = p->n_drivers;
		double device[3];
		pl->hlen = ss_hrtf_length(m->head.hrtf);
		pl->hdelay = ss_hrtf_delay(m->head.hrtf);
		pl->hrate = ss_hrtf_rate(m->head.hrtf);
		pl->hir = malloc(sizeof(float) * (size_t)n * 2 * (size_t)pl->hlen);
		if (!pl->hir) {
			free(pl);
			return NULL;
		}
		ss_device_centre(p, device);
		for (int i = 0; i < n; i++) {
			double pos[3], dir[3];
			ss_driver_world_position(&p->drivers[i], device, pos);
			for (int j = 0; j < 3; j++)
				dir[j] = pos[j] - m->offset[j];
			ss_hrtf_ir(m->head.hrtf, dir, pl->hir + ((size_t)i * 2) * (size_t)pl->hlen,
					pl->hir + ((size_t)i * 2 + 1) * (size_t)pl->hlen);
		}
	}
	return pl;
}

/* the model (no measurement) */
static void model_at(const struct ss_plant *pl, double f, double complex C[2][SS_MAX_DRIVERS])
{
	const struct ss_profile *p = pl->p;
	const struct ss_plant_model *m = &pl->m;
	double device[3];
	ss_device_centre(p, device);
	for (int i = 0; i < p->n_drivers; i++) {
		const struct ss_driver *d = &p->drivers[i];
		double pos[3], v[3], r;
		ss_driver_world_position(d, device, pos);
		for (int j = 0; j < 3; j++)
			v[j] = m->offset[j] - pos[j];
		r = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
		double cos_psi = (v[0] * d->axis[0] + v[1] * d->axis[1] + v[2] * d->axis[2]) / r;
		double g = ss_driver_directivity_as(d, f, cos_psi, SS_SPEED_OF_SOUND, &m->radiation);
		if (m->head.hrtf == NULL) {
			double complex e[2];
			ears_of_point_on(pos, m->offset, f, p->listener_distance, g, m->head.radius, m->head.ear_az_deg, e);
			C[0][i] = e[0];
			C[1][i] = e[1];
			continue;
		}
		/* a measured head: its responses for this direction (the set's own distance and delay taken out),
		 * times the propagation from this driver relative to the reference path */
		const double k = 2.0 * M_PI * f / SS_SPEED_OF_SOUND;
		double complex prop = cexp(-I * k * (r - p->listener_distance)) * (p->listener_distance / r) * g;
		for (int ear = 0; ear < 2; ear++) {
			const float *h = pl->hir + ((size_t)i * 2 + (size_t)ear) * (size_t)pl->hlen;
			const double w = -2.0 * M_PI * f / pl->hrate;
			double complex acc = 0, rot = cexp(I * w), ph = cexp(-I * w * -pl->hdelay);
			for (int t = 0; t < pl->hlen; t++) {
				acc += h[t] * ph;
				ph *= rot;
			}
			C[ear][i] = acc * prop;
		}
	}
}

#define MEASURED_CARRY_MAX_DB 6.0

void ss_plant_at(const struct ss_plant *pl, double f, double complex C[2][SS_MAX_DRIVERS])
{
	const struct ss_profile *p = pl->p;
	const struct ss_plant_model *m = &pl->m;
	if (f <= 0.0)
		f = 1.0;
	model_at(pl, f, C);
	if (m->measured == NULL)
		return;
	double complex M[2][SS_MAX_DRIVERS];
	double w[SS_MAX_DRIVERS], device[3];
	const bool displaced = m->offset[0] != 0.0 || m->offset[1] != 0.0 || m->offset[2] != 0.0;
	const double zero[3] = { 0, 0, 0 }, cap = pow(10.0, MEASURED_CARRY_MAX_DB / 20.0);
	ss_measured_at(m->measured, f, M, w);
	ss_device_centre(p, device);
	for (int i = 0; i < p->n_drivers; i++) {
		if (w[i] <= 0.0)
			continue;
		double complex carry[2] = { 1.0, 1.0 };
		if (displaced) {
			double pos[3];
			double complex at0[2], at[2];
			ss_driver_world_position(&p->drivers[i], device, pos);
			ears_of_point_on(pos, zero, f, p->listener_distance, 1.0, SS_HEAD_RADIUS, SS_EAR_AZIMUTH_DEG, at0);
			ears_of_point_on(pos, m->offset, f, p->listener_distance, 1.0, SS_HEAD_RADIUS, SS_EAR_AZIMUTH_DEG, at);
			for (int e = 0; e < 2; e++) {
				carry[e] = cabs(at0[e]) > 1e-12 ? at[e] / at0[e] : 1.0;
				double a = cabs(carry[e]);
				if (a > cap)
					carry[e] *= cap / a;
				else if (a < 1.0 / cap)
					carry[e] *= (1.0 / cap) / fmax(a, 1e-12);
			}
		}
		for (int e = 0; e < 2; e++)
			C[e][i] = w[i] * M[e][i] * carry[e] + (1.0 - w[i]) * C[e][i];
	}
}
