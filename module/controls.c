/* Soundstage: the live controls on soundstage.sink (see module.h). One table says each control's name,
 * description, range and default and where it lives in struct ss_controls; PropInfo, Props and the parser are all
 * made from it, so that a control is added in one place. */
#include <math.h>
#include <stddef.h>

#include <spa/param/props.h>
#include <spa/pod/parser.h>
#include <spa/utils/string.h>

#include "module.h"

static const struct control_def {
	const char *name, *description;
	bool is_bool;
	float min, max, def;
	size_t offset;                   /* of the bool or float in struct ss_controls */
} controls[] = {
	{ "soundstage.enabled", "Spatial processing on (false: plain stereo feed)", true, 0, 1, 1,
		offsetof(struct ss_controls, enabled) },
	{ "soundstage.width", "Width: side level of the upmixed pair (0 mono .. 2)", false, 0, 2, 1,
		offsetof(struct ss_controls, width) },
	{ "soundstage.centre", "Centre level, dB", false, -24, 12, 0, offsetof(struct ss_controls, centre_db) },
	{ "soundstage.bass", "Bass shelf at 120 Hz, dB", false, -12, 12, 0, offsetof(struct ss_controls, bass_db) },
};
#define N_CONTROLS (int)(sizeof(controls) / sizeof(controls[0]))

int ss_controls_count(void)
{
	return N_CONTROLS;
}

static float get_value(const struct ss_controls *c, const struct control_def *d)
{
	const char *base = (const char *)c + d->offset;
	return d->is_bool ? (*(const bool *)base ? 1.0f : 0.0f) : *(const float *)base;
}

static void set_value(struct ss_controls *c, const struct control_def *d, float v)
{
	char *base = (char *)c + d->offset;
	if (d->is_bool)
		*(bool *)base = v > 0.5f;
	else
		*(float *)base = v;
}

struct spa_pod *ss_controls_build_info(struct spa_pod_builder *b, int id)
{
	const struct control_def *d = &controls[id];
	struct spa_pod_frame f[2];
	spa_pod_builder_push_object(b, &f[0], SPA_TYPE_OBJECT_PropInfo, SPA_PARAM_PropInfo);
	spa_pod_builder_add(b, SPA_PROP_INFO_name, SPA_POD_String(d->name),
			SPA_PROP_INFO_description, SPA_POD_String(d->description), 0);
	spa_pod_builder_prop(b, SPA_PROP_INFO_type, 0);
	if (d->is_bool) {
		spa_pod_builder_push_choice(b, &f[1], SPA_CHOICE_Enum, 0);
		spa_pod_builder_bool(b, d->def > 0.0f);
		spa_pod_builder_bool(b, false);
		spa_pod_builder_bool(b, true);
	} else {
		spa_pod_builder_push_choice(b, &f[1], SPA_CHOICE_Range, 0);
		spa_pod_builder_float(b, d->def);
		spa_pod_builder_float(b, d->min);
		spa_pod_builder_float(b, d->max);
	}
	spa_pod_builder_pop(b, &f[1]);
	spa_pod_builder_add(b, SPA_PROP_INFO_params, SPA_POD_Bool(true), 0);
	return spa_pod_builder_pop(b, &f[0]);
}

struct spa_pod *ss_controls_build_props(struct spa_pod_builder *b, const struct ss_controls *c)
{
	struct spa_pod_frame f[2];
	spa_pod_builder_push_object(b, &f[0], SPA_TYPE_OBJECT_Props, SPA_PARAM_Props);
	spa_pod_builder_prop(b, SPA_PROP_params, 0);
	spa_pod_builder_push_struct(b, &f[1]);
	for (int i = 0; i < N_CONTROLS; i++) {
		spa_pod_builder_string(b, controls[i].name);
		if (controls[i].is_bool)
			spa_pod_builder_bool(b, get_value(c, &controls[i]) > 0.5f);
		else
			spa_pod_builder_float(b, get_value(c, &controls[i]));
	}
	spa_pod_builder_pop(b, &f[1]);
	return spa_pod_builder_pop(b, &f[0]);
}

static void log_unknown(const char *name)
{
	char known[256];
	size_t len = 0;
	for (int i = 0; i < N_CONTROLS && len < sizeof(known); i++)
		len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "", controls[i].name);
	pw_log_warn("unknown control '%s' (known: %s)", name, known);
}

/* Props on soundstage.sink: a `params` struct of name/value pairs. Values are clamped to their PropInfo ranges (and
 * the clamping logged); unknown names in our namespace are logged (the sink's adapter sees the same Props: other
 * names are not ours to judge). */
int ss_controls_parse(const struct spa_pod *param, struct ss_controls *c)
{
	const struct spa_pod_prop *prop;
	const struct spa_pod_object *obj = (const struct spa_pod_object *)param;
	int changed = 0;

	if (!spa_pod_is_object_type(param, SPA_TYPE_OBJECT_Props))
		return 0;
	SPA_POD_OBJECT_FOREACH(obj, prop) {
		struct spa_pod_parser prs;
		struct spa_pod_frame f;
		if (prop->key != SPA_PROP_params)
			continue;
		spa_pod_parser_pod(&prs, &prop->value);
		if (spa_pod_parser_push_struct(&prs, &f) < 0)
			continue;
		while (true) {
			const char *name;
			float fv = 0.0f;
			double dv;
			int32_t iv;
			bool bv, have = true;
			struct spa_pod *other;
			int id;
			if (spa_pod_parser_get_string(&prs, &name) < 0)
				break;
			if (spa_pod_parser_get_float(&prs, &fv) >= 0)
				;
			else if (spa_pod_parser_get_double(&prs, &dv) >= 0)
				fv = (float)dv;
			else if (spa_pod_parser_get_int(&prs, &iv) >= 0)
				fv = (float)iv;
			else if (spa_pod_parser_get_bool(&prs, &bv) >= 0)
				fv = bv ? 1.0f : 0.0f;
			else {
				have = false;
				if (spa_pod_parser_get_pod(&prs, &other) < 0)
					break;
			}
			for (id = 0; id < N_CONTROLS; id++)
				if (spa_streq(name, controls[id].name))
					break;
			if (id == N_CONTROLS) {
				if (spa_strstartswith(name, "soundstage."))
					log_unknown(name);
				continue;
			}
			const struct control_def *d = &controls[id];
			if (!have || !isfinite(fv)) {
				pw_log_warn("control '%s': expected a %s, ignored", name, d->is_bool ? "boolean" : "number");
				continue;
			}
			float v = fv < d->min ? d->min : fv > d->max ? d->max : fv;
			if (v != fv)
				pw_log_warn("control '%s': %g is out of range [%g, %g], clamped to %g", name, fv, d->min,
						d->max, v);
			set_value(c, d, v);
			pw_log_info("control '%s' = %g", name, v);
			changed++;
		}
	}
	return changed;
}
