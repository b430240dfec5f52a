/* Soundstage: drivers-to-ears plant. */
#include "plant.h"

#include <math.h>

#include "driver.h"
#include "head.h"

void ss_device_centre(const struct ss_profile *p, double out[3])
{
	out[0] = p->listener_distance;
	out[1] = 0.0;
	out[2] = 0.0;
}

/* Ear pressures (relative to e^{-jk*ref}/ref) of a point source at `src` heard by a head centred at `head`. */
static void ears_of_point(const double src[3], const double head[3], double f, double ref, double gain,
		double complex out[2])
{
	double v[3], r, cosines[2];
	double complex h[2];
	const double k = 2.0 * M_PI * f / SS_SPEED_OF_SOUND;
	for (int i = 0; i < 3; i++)
		v[i] = src[i] - head[i];
	r = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
	for (int e = 0; e < 2; e++) {
		double ear[3];
		ss_ear_direction(e, SS_EAR_AZIMUTH_DEG, ear);
		cosines[e] = (ear[0] * v[0] + ear[1] * v[1] + ear[2] * v[2]) / r;
	}
	ss_sphere_pressure(f, r, SS_HEAD_RADIUS, SS_SPEED_OF_SOUND, 2, cosines, h);
	/* propagation relative to the reference path */
	double complex prop = cexp(-I * k * (r - ref)) * (ref / r);
	out[0] = gain * prop * h[0];
	out[1] = gain * prop * h[1];
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

void ss_real_source_ears(double az_deg, double r, double f, double reference_distance, double complex out[2])
{
	double az = az_deg * M_PI / 180.0;
	double src[3] = { r * cos(az), r * sin(az), 0.0 }, head[3] = { 0, 0, 0 };
	ears_of_point(src, head, f, reference_distance, 1.0, out);
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
