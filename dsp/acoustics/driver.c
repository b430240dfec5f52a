/* Soundstage: driver radiation model. */
#include "driver.h"

#include <math.h>

double ss_driver_directivity(const struct ss_driver *d, double f, double cos_psi, double c)
{
	if (d->directivity == SS_DIRECTIVITY_POINT)
		return 1.0;
	double ka = 2.0 * M_PI * f / c * d->radius;
	double cp = cos_psi > 1.0 ? 1.0 : (cos_psi < -1.0 ? -1.0 : cos_psi);
	double sp = sqrt(1.0 - cp * cp);
	if (cp < 0.0)
		sp = 1.0; /* behind the baffle plane: start from the 90 degree value */
	double u = ka * sp;
	double front = u < 1e-6 ? 1.0 : 2.0 * j1(u) / u;
	front = fabs(front);
	if (front < 1e-3)
		front = 1e-3; /* real drivers have no exact nulls: cone break-up and the box fill them in */
	if (cp >= 0.0)
		return front;
	/* behind: linear taper in angle, up to -14 dB straight behind once ka >= 1 */
	double depth = 0.8 * (ka < 1.0 ? ka : 1.0);
	double t = acos(cp) / M_PI * 2.0 - 1.0; /* 0 at 90 deg, 1 at 180 deg */
	return front * (1.0 - depth * t);
}

void ss_driver_world_position(const struct ss_driver *d, const double device[3], double out[3])
{
	for (int i = 0; i < 3; i++)
		out[i] = device[i] + d->position[i];
}

double complex ss_driver_field(const struct ss_driver *d, const double device[3], double f, const double point[3],
		double c)
{
	double pos[3], v[3], r;
	ss_driver_world_position(d, device, pos);
	for (int i = 0; i < 3; i++)
		v[i] = point[i] - pos[i];
	r = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
	double cos_psi = (v[0] * d->axis[0] + v[1] * d->axis[1] + v[2] * d->axis[2]) / r;
	double k = 2.0 * M_PI * f / c;
	return ss_driver_directivity(d, f, cos_psi, c) * cexp(-I * k * r) / r;
}
