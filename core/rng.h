/* rng.h - the one seeded generator every simulated randomness draws from
 * (xoshiro256**, seeded through splitmix64). Same seed, same run. */
#ifndef TV_RNG_H
#define TV_RNG_H

#include <stdint.h>

typedef struct tv_rng {
	uint64_t s[4];
} tv_rng;

static inline uint64_t tv_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void tv_rng_seed(tv_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = tv_splitmix64(&seed);
}

static inline uint64_t tv_rng_next(tv_rng *r)
{
	uint64_t *s = r->s;
	uint64_t x = s[1] * 5, result = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return result;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias < 2^-32 for n < 2^32). */
static inline uint32_t tv_rng_below(tv_rng *r, uint32_t n)
{
	return (uint32_t)(((tv_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform double in [0, 1). */
static inline double tv_rng_unit(tv_rng *r)
{
	return (double)(tv_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
