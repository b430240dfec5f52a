/* Soundstage: the population a design must hold on (see population.h). */
#include "population.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "../acoustics/head.h"

#define SS_POPULATION_OFFSET_M 0.015   /* the head to either side */
#define SS_POPULATION_OFFSET_WEIGHT 0.3
#define SS_POPULATION_FORWARD_DEG 45.0
#define SS_POPULATION_MAX_DRIVERS 8    /* auto: above this, the least-norm inverse */

static const struct member {
	const char *name;
	double offset, weight;
} members[] = {
	{ "design head", 0.0, 1.0 },
	{ "design head 1.5 cm left", SS_POPULATION_OFFSET_M, SS_POPULATION_OFFSET_WEIGHT },
	{ "design head 1.5 cm right", -SS_POPULATION_OFFSET_M, SS_POPULATION_OFFSET_WEIGHT },
};

bool ss_population_wants_position(const struct ss_profile *p)
{
	if (p->ctc.robust != SS_CTC_ROBUST_AUTO)
		return p->ctc.robust == SS_CTC_ROBUST_POSITION;
	if (p->n_drivers < 3 || p->n_drivers > SS_POPULATION_MAX_DRIVERS)
		return false;
	/* toward the listener is -x (profile.h); the axis is a unit vector */
	const double c = cos(SS_POPULATION_FORWARD_DEG * SS_RAD_PER_DEG);
	for (int i = 0; i < p->n_drivers; i++)
		if (-p->drivers[i].axis[0] < c)
			return false;
	return true;
}

void ss_population_free(struct ss_population *pop)
{
	for (int i = 0; i < pop->m; i++)
		ss_plant_free(pop->plants[i]);
	pop->m = 0;
}

int ss_population_new(const struct ss_profile *p, struct ss_population *pop)
{
	memset(pop, 0, sizeof(*pop));
	const int m = ss_population_wants_position(p) ? 3 : 1;
	for (int i = 0; i < m; i++) {
		struct ss_plant_model model = {
			.head = ss_listener_design,
			.radiation = ss_radiation_nominal,
			.offset = { 0.0, members[i].offset, 0.0 },
		};
		pop->plants[i] = ss_plant_new(p, &model);
		if (pop->plants[i] == NULL) {
			ss_population_free(pop);
			return -ENOMEM;
		}
		pop->names[i] = members[i].name;
		pop->weight[i] = members[i].weight;
		pop->m = i + 1;
	}
	return 0;
}

void ss_population_at(const struct ss_population *pop, double f, double complex (*C)[2][SS_MAX_DRIVERS])
{
	for (int i = 0; i < pop->m; i++)
		ss_plant_at(pop->plants[i], f, C[i]);
}
