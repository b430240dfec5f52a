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
	ss_measured_free(pop->measured);
	ss_hrtf_free(pop->head);
	pop->measured = NULL;
	pop->head = NULL;
}

int ss_population_new(const struct ss_profile *p, struct ss_population *pop, struct ss_error *err)
{
	char path[1024];
	memset(pop, 0, sizeof(*pop));
	pop->listener = ss_listener_design;
	if (p->plant.head[0]) {
		struct ss_error e;
		ss_profile_file_path(p, p->plant.head, path, sizeof(path));
		/* the head's responses are looked up at the design's directions; 48 kHz is ample for the lookup (the
		 * plant evaluates each response's spectrum at any frequency below its Nyquist) */
		pop->head = ss_hrtf_open(path, 48000.0, &e);
		if (pop->head == NULL)
			return ss_profile_error_at(p, err, p->src_plant_head, "plant.head", "%s", e.msg);
		pop->listener.name = ss_hrtf_name(pop->head);
		pop->listener.hrtf = pop->head;
	}
	if (p->plant.measured[0]) {
		ss_profile_file_path(p, p->plant.measured, path, sizeof(path));
		pop->measured = ss_measured_open(path, p, p->plant.window_ms, "plant.measured", p->src_plant_measured,
				err);
		if (pop->measured == NULL) {
			ss_population_free(pop);
			return -EINVAL;
		}
	}
	const int m = ss_population_wants_position(p) ? 3 : 1;
	for (int i = 0; i < m; i++) {
		struct ss_plant_model model = {
			.head = pop->listener,
			.radiation = ss_radiation_nominal,
			.offset = { 0.0, members[i].offset, 0.0 },
			.measured = pop->measured,
		};
		pop->plants[i] = ss_plant_new(p, &model);
		if (pop->plants[i] == NULL) {
			ss_population_free(pop);
			if (err)
				ss_profile_error_at(p, err, (struct ss_srcpos){ 0, 0 }, "", "out of memory for the plant");
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
