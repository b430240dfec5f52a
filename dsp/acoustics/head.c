/* Soundstage: rigid-sphere head model. */
#include "head.h"

#include <math.h>

#define MAX_ORDER 400

void ss_sphere_pressure(double f, double r, double a, double c, int n, const double *cos_theta,
		double complex *h)
{
	if (f <= 0.0) {
		for (int i = 0; i < n; i++)
			h[i] = 1.0;
		return;
	}
	const double k = 2.0 * M_PI * f / c;
	const double x = k * r;  /* source radius */
	const double y = k * a;  /* sphere radius */
	double complex q[MAX_ORDER + 1];
	int m_used = 0;

	/* h_m^(2)(z) = j_m - i y_m by upward recurrence (stable: dominated by y_m for m > z). */
	double complex hx_prev = I * cexp(-I * x) / x;                 /* h_0(x) */
	double complex hx = -cexp(-I * x) / x * (1.0 - I / x);          /* h_1(x) */
	double complex hy_prev = I * cexp(-I * y) / y;
	double complex hy = -cexp(-I * y) / y * (1.0 - I / y);
	double qmax = 0.0;

	/* m = 0: h_0' = -h_1 */
	q[0] = hx_prev / (-hy);
	qmax = cabs(q[0]);
	m_used = 0;
	for (int m = 1; m <= MAX_ORDER; m++) {
		/* h_m'(y) = h_{m-1}(y) - (m+1)/y h_m(y) */
		double complex dy = hy_prev - (m + 1) / y * hy;
		double complex qm = hx / dy;
		if (!isfinite(creal(qm)) || !isfinite(cimag(qm)))
			break;
		q[m] = qm;
		m_used = m;
		double mag = cabs(qm) * (2 * m + 1);
		if (mag > qmax)
			qmax = mag;
		if (m > y + 8 && mag < 1e-13 * qmax)
			break;
		/* advance both recurrences */
		double complex nx = (2 * m + 1) / x * hx - hx_prev;
		double complex ny = (2 * m + 1) / y * hy - hy_prev;
		hx_prev = hx;
		hx = nx;
		hy_prev = hy;
		hy = ny;
	}

	const double complex scale = -(x / (y * y)) * cexp(I * x);
	for (int i = 0; i < n; i++) {
		double ct = cos_theta[i];
		double p0 = 1.0, p1 = ct;
		double complex s = q[0];
		if (m_used >= 1)
			s += 3.0 * p1 * q[1];
		for (int m = 2; m <= m_used; m++) {
			double p2 = ((2 * m - 1) * ct * p1 - (m - 1) * p0) / m;
			s += (2 * m + 1) * p2 * q[m];
			p0 = p1;
			p1 = p2;
		}
		h[i] = scale * s;
	}
}

double complex ss_sphere_pressure1(double f, double r, double a, double c, double cos_theta)
{
	double complex h;
	ss_sphere_pressure(f, r, a, c, 1, &cos_theta, &h);
	return h;
}

double ss_woodworth_itd(double az, double a, double c)
{
	return a / c * (az + sin(az));
}

void ss_ear_direction(int ear, double ear_az_deg, double out[3])
{
	double az = (ear == 0 ? 1.0 : -1.0) * ear_az_deg * SS_RAD_PER_DEG;
	out[0] = cos(az);
	out[1] = sin(az);
	out[2] = 0.0;
}
