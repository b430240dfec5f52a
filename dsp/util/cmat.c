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
