/* Soundstage: small dense complex linear algebra for filter design (double, design-time only). */
#ifndef SS_CMAT_H
#define SS_CMAT_H

#include <complex.h>

/** Solve A x = b in place for an n x n row-major matrix `a` (destroyed) and right-hand side `b`
 * (overwritten with x), by Gaussian elimination with partial pivoting. n <= 64.
 * Returns 0, or -1 when A is singular to working precision. */
int ss_cmat_solve(int n, double complex *a, double complex *b);

/** Eigen-decomposition of an n x n Hermitian matrix `a` (row-major, destroyed) by cyclic Jacobi rotations:
 * a = u diag(lambda) u^H, u unitary (row-major, column j the eigenvector of lambda[j], not sorted). n <= 64. */
int ss_cmat_eigh(int n, double complex *a, double *lambda, double complex *u);

#endif
