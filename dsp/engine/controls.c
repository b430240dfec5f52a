/* Soundstage: the live controls, as data (see controls.h). */
#include "controls.h"

#include <string.h>

const struct ss_control_desc ss_control_table[SS_N_CONTROLS] = {
	{ "soundstage.enabled", "Spatial processing on (false: plain stereo feed)", true, 0, 1, 1,
		offsetof(struct ss_controls, enabled) },
	{ "soundstage.width", "Width: side level of the upmixed pair (0 mono .. 2)", false, 0, 2, 1,
		offsetof(struct ss_controls, width) },
	{ "soundstage.centre", "Centre level, dB", false, -24, 12, 0, offsetof(struct ss_controls, centre_db) },
	{ "soundstage.bass", "Bass shelf at 120 Hz, dB", false, -12, 12, 0, offsetof(struct ss_controls, bass_db) },
};

const struct ss_control_desc *ss_control_find(const char *name)
{
	for (int i = 0; i < SS_N_CONTROLS; i++)
		if (strcmp(name, ss_control_table[i].name) == 0)
			return &ss_control_table[i];
	return NULL;
}

float ss_control_get(const struct ss_controls *c, const struct ss_control_desc *d)
{
	const char *base = (const char *)c + d->offset;
	return d->is_bool ? (*(const bool *)(const void *)base ? 1.0f : 0.0f) : *(const float *)(const void *)base;
}

void ss_control_set(struct ss_controls *c, const struct ss_control_desc *d, float v)
{
	char *base = (char *)c + d->offset;
	if (d->is_bool)
		*(bool *)(void *)base = v > 0.5f;
	else
		*(float *)(void *)base = v;
}

void ss_controls_default(struct ss_controls *c)
{
	for (int i = 0; i < SS_N_CONTROLS; i++)
		ss_control_set(c, &ss_control_table[i], ss_control_table[i].def);
}

int ss_controls_clamp(struct ss_controls *c)
{
	int changed = 0;
	for (int i = 0; i < SS_N_CONTROLS; i++) {
		const struct ss_control_desc *d = &ss_control_table[i];
		if (d->is_bool)
			continue;
		const float v = ss_control_get(c, d);
		const float r = v != v ? d->def : v < d->min ? d->min : v > d->max ? d->max : v;
		if (!(r == v))
			changed++;
		ss_control_set(c, d, r);
	}
	return changed;
}
