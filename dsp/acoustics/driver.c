/* Soundstage: driver radiation model. */
#include "driver.h"

#include <math.h>

const struct ss_radiation ss_radiation_nominal = { 1.0, 0.8 };
const struct ss_radiation ss_radiation_wide = { 0.7, 0.5 };

double ss_driver_directivity(const struct ss_driver *d, double f, double cos_psi, double c)
{
	return ss_driver_directivity_as(d, f, cos_psi, c, &ss_radiation_nominal);
}

double ss_driver_directivity_as(const struct ss_driver *d, double f, double cos_psi, double c,
		const struct ss_radiation *rad)
{
	if (d->directivity == SS_DIRECTIVITY_POINT)
		return 1.0;
	double ka = 2.0 * M_PI * f / c * d->radius * rad->radius_scale;
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
	/* behind: linear taper in angle, down to (1 - back_depth) straight behind once ka >= 1 */
	double depth = rad->back_depth * (ka < 1.0 ? ka : 1.0);
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
	return ss_driver_field_as(d, device, f, point, c, &ss_radiation_nominal);
}

double complex ss_driver_field_as(const struct ss_driver *d, const double device[3], double f, const double point[3],
		double c, const struct ss_radiation *rad)
{
	double pos[3], v[3], r;
	ss_driver_world_position(d, device, pos);
	for (int i = 0; i < 3; i++)
		v[i] = point[i] - pos[i];
	r = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
	double cos_psi = (v[0] * d->axis[0] + v[1] * d->axis[1] + v[2] * d->axis[2]) / r;
	double k = 2.0 * M_PI * f / c;
	return ss_driver_directivity_as(d, f, cos_psi, c, rad) * cexp(-I * k * r) / r;
}
