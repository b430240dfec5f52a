/* Soundstage: small dense complex linear algebra for filter design (double, design-time only). */
#ifndef SS_CMAT_H
#define SS_CMAT_H

#include <complex.h>

/** Solve A x = b in place for an n x n row-major matrix `a` (destroyed) and right-hand side `b`
 * (overwritten with x), by Gaussian elimination with partial pivoting. n <= 64.
 * Returns 0, or -1 when A is singular to working precision. */
int ss_cmat_solve(int n, double complex *a, double complex *b);

#endif
