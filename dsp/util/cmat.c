/* Soundstage: small dense complex solver. */
#include "cmat.h"

#include <math.h>

int ss_cmat_solve(int n, double complex *a, double complex *b)
{
	for (int col = 0; col < n; col++) {
		int piv = col;
		double best = cabs(a[col * n + col]);
		for (int r = col + 1; r < n; r++) {
			double v = cabs(a[r * n + col]);
			if (v > best) {
				best = v;
				piv = r;
			}
		}
		if (best < 1e-300)
			return -1;
		if (piv != col) {
			for (int c = 0; c < n; c++) {
				double complex t = a[col * n + c];
				a[col * n + c] = a[piv * n + c];
				a[piv * n + c] = t;
			}
			double complex t = b[col];
			b[col] = b[piv];
			b[piv] = t;
		}
		double complex inv = 1.0 / a[col * n + col];
		for (int r = col + 1; r < n; r++) {
			double complex f = a[r * n + col] * inv;
			if (f == 0.0)
				continue;
			for (int c = col; c < n; c++)
				a[r * n + c] -= f * a[col * n + c];
			b[r] -= f * b[col];
		}
	}
	for (int r = n - 1; r >= 0; r--) {
		double complex s = b[r];
		for (int c = r + 1; c < n; c++)
			s -= a[r * n + c] * b[c];
		b[r] = s / a[r * n + r];
	}
	return 0;
}

int ss_cmat_eigh(int n, double complex *a, double *lambda, double complex *u)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			u[i * n + j] = i == j ? 1.0 : 0.0;
	double scale = 0.0;
	for (int i = 0; i < n * n; i++)
		scale += creal(a[i] * conj(a[i]));
	const double eps = 1e-30 * (scale + 1e-300);
	for (int sweep = 0; sweep < 64; sweep++) {
		double off = 0.0;
		for (int p = 0; p < n; p++)
			for (int q = p + 1; q < n; q++)
				off += creal(a[p * n + q] * conj(a[p * n + q]));
		if (off <= eps)
			break;
		for (int p = 0; p < n; p++) {
			for (int q = p + 1; q < n; q++) {
				double complex apq = a[p * n + q];
				double m = cabs(apq);
				if (m * m <= eps / (n * n))
					continue;
				double complex ph = apq / m;   /* e^{i phi} */
				double app = creal(a[p * n + p]), aqq = creal(a[q * n + q]);
				double tau = (aqq - app) / (2.0 * m);
				double t = (tau >= 0.0 ? 1.0 : -1.0) / (fabs(tau) + sqrt(1.0 + tau * tau));
				double c = 1.0 / sqrt(1.0 + t * t), s = t * c;
				/* A <- A J, J = [c, s e^{i phi}; -s e^{-i phi}, c] on columns p, q */
				for (int k = 0; k < n; k++) {
					double complex akp = a[k * n + p], akq = a[k * n + q];
					a[k * n + p] = c * akp - s * conj(ph) * akq;
					a[k * n + q] = s * ph * akp + c * akq;
				}
				/* A <- J^H A on rows p, q */
				for (int k = 0; k < n; k++) {
					double complex apk = a[p * n + k], aqk = a[q * n + k];
					a[p * n + k] = c * apk - s * ph * aqk;
					a[q * n + k] = s * conj(ph) * apk + c * aqk;
				}
				a[p * n + q] = a[q * n + p] = 0.0;
				for (int k = 0; k < n; k++) {
					double complex ukp = u[k * n + p], ukq = u[k * n + q];
					u[k * n + p] = c * ukp - s * conj(ph) * ukq;
					u[k * n + q] = s * ph * ukp + c * ukq;
				}
			}
		}
	}
	for (int i = 0; i < n; i++)
		lambda[i] = creal(a[i * n + i]);
	return 0;
}
