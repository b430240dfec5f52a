/* Soundstage: the live controls on soundstage.sink (see module.h). PropInfo, Props and their parser are made from
 * the engine's control table (dsp/engine/controls.h), so that a control is added in one place. */
#include <math.h>
#include <stddef.h>

#include <spa/param/props.h>
#include <spa/pod/parser.h>
#include <spa/utils/string.h>

#include "module.h"

int ss_controls_count(void)
{
	return SS_N_CONTROLS;
}

struct spa_pod *ss_controls_build_info(struct spa_pod_builder *b, int id)
{
	const struct ss_control_desc *d = &ss_control_table[id];
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
	for (int i = 0; i < SS_N_CONTROLS; i++) {
		spa_pod_builder_string(b, ss_control_table[i].name);
		if (ss_control_table[i].is_bool)
			spa_pod_builder_bool(b, ss_control_get(c, &ss_control_table[i]) > 0.5f);
		else
			spa_pod_builder_float(b, ss_control_get(c, &ss_control_table[i]));
	}
	spa_pod_builder_pop(b, &f[1]);
	return spa_pod_builder_pop(b, &f[0]);
}

static void log_unknown(const char *name)
{
	char known[256];
	size_t len = 0;
	for (int i = 0; i < SS_N_CONTROLS && len < sizeof(known); i++)
		len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "", ss_control_table[i].name);
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
			for (id = 0; id < SS_N_CONTROLS; id++)
				if (spa_streq(name, ss_control_table[id].name))
					break;
			if (id == SS_N_CONTROLS) {
				if (spa_strstartswith(name, "soundstage."))
					log_unknown(name);
				continue;
			}
			const struct ss_control_desc *d = &ss_control_table[id];
			if (!have || !isfinite(fv)) {
				pw_log_warn("control '%s': expected a %s, ignored", name, d->is_bool ? "boolean" : "number");
				continue;
			}
			float v = fv < d->min ? d->min : fv > d->max ? d->max : fv;
			if (v != fv)
				pw_log_warn("control '%s': %g is out of range [%g, %g], clamped to %g", name, fv, d->min,
						d->max, v);
			ss_control_set(c, d, v);
			pw_log_info("control '%s' = %g", name, v);
			changed++;
		}
	}
	return changed;
}
