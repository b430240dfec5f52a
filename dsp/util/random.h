/* Soundstage: the project's one pseudo-random generator (xorshift64*, Vigna 2016), for test signals, noise
 * programmes and benchmarks. Deterministic for a seed; not for anything secret. Real-time safe (no state but the
 * caller's).
 */
#ifndef SS_RANDOM_H
#define SS_RANDOM_H

#include <math.h>
#include <stdint.h>

struct ss_rng {
	uint64_t s;   /**< never 0 */
};

static inline void ss_rng_seed(struct ss_rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9E3779B97F4A7C15ull;
}

static inline uint64_t ss_rng_next(struct ss_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1Dull;
}

/** Uniform in [0, 1), 53 bits. */
static inline double ss_rng_uniform(struct ss_rng *r)
{
	return (double)(ss_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/** Standard normal (Box-Muller; one of the pair is discarded, which keeps the generator stateless). */
static inline double ss_rng_gauss(struct ss_rng *r)
{
	double u = ss_rng_uniform(r), v = ss_rng_uniform(r);
	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

#endif
