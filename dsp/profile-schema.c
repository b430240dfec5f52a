/* Soundstage: the profile's schema, as data (see profile-schema.h). */
#include "profile-schema.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json-write.h"

#define P(member) offsetof(struct ss_profile, member)
#define D(member) offsetof(struct ss_driver, member)
#define SRC(member) ((long)offsetof(struct ss_profile, member))

static const char *const directivities[] = { "point", "piston", NULL };  /* enum ss_directivity */
static const char *const robustness[] = { "auto", "none", "position", NULL };  /* enum ss_ctc_robust */
static const char *const latencies[] = { "normal", "low", NULL };  /* design.low_latency */

/* Separation target: modest at low frequency where inversion is expensive, high in the band where the ear relies on
 * level differences, relaxed at the top where the head itself separates. */
static const struct ss_curve default_target = {
	.n = 5,
	.freq = { 150.0, 600.0, 4000.0, 8000.0, 16000.0 },
	.db = { 6.0, 30.0, 30.0, 20.0, 10.0 },
};

const struct ss_profile_key ss_profile_keys[] = {
	{ .section = "", .name = "name", .kind = SS_KEY_STRING, .offset = P(name), .size = SS_NAME_MAX, .src = -1,
	  .def_string = "unnamed", .effect = SS_EFFECT_RENAME, .doc = "the speaker model's name (log lines, the sink)" },
	{ .section = "", .name = "description", .kind = SS_KEY_STRING, .offset = P(description),
	  .size = sizeof(((struct ss_profile *)0)->description), .src = -1, .def_string = "", .effect = SS_EFFECT_RENAME,
	  .doc = "one line about the speaker" },
	{ .section = "", .name = "sample-rate", .kind = SS_KEY_NUMBER, .lo = 32000, .hi = 384000, .unit = "Hz",
	  .offset = P(sample_rate), .src = -1, .def = { 48000 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "the design rate when the graph does not impose one" },
	{ .section = "", .name = "listener", .kind = SS_KEY_SECTION, .required = true, .src = -1,
	  .missing = "listener = { distance = <m> }", .effect = SS_EFFECT_REDESIGN, .doc = "where the listener sits" },
	{ .section = "listener", .name = "distance", .kind = SS_KEY_NUMBER, .lo = 0.3, .hi = 20.0, .unit = "m",
	  .required = true, .offset = P(listener_distance), .src = SRC(src_listener_distance), .def = { 2.0 },
	  .missing = "the listener distance in m (0.3..20)", .effect = SS_EFFECT_REDESIGN,
	  .doc = "listener's head centre to the device centre" },
	{ .section = "", .name = "drivers", .kind = SS_KEY_DRIVERS, .required = true, .src = SRC(src_drivers),
	  .missing = "drivers = [ { name = ... } ... ]", .effect = SS_EFFECT_REDESIGN,
	  .doc = "one object per driver, in any order" },
	{ .section = "driver", .name = "name", .kind = SS_KEY_STRING, .required = true, .offset = D(name),
	  .size = SS_NAME_MAX, .check = SS_CHECK_NONEMPTY, .src = -1, .missing = "a name string",
	  .invalid = "a non-empty name", .def_string = "", .effect = SS_EFFECT_REDESIGN, .doc = "the driver's name" },
	{ .section = "driver", .name = "channel", .kind = SS_KEY_STRING, .required = true, .offset = D(channel),
	  .size = sizeof(((struct ss_driver *)0)->channel), .check = SS_CHECK_NONEMPTY,
	  .src = SRC(src_driver_channel), .missing = "a channel name (AUX0, AUX1, ...)",
	  .invalid = "a channel name such as AUX0", .def_string = "", .effect = SS_EFFECT_REDESIGN,
	  .doc = "the device channel that feeds it (AUX0, AUX1, ... or FL, FR, ...)" },
	{ .section = "driver", .name = "position", .kind = SS_KEY_VECTOR, .n = 3, .lo = -2.0, .hi = 2.0, .unit = "m",
	  .required = true, .offset = D(position), .src = SRC(src_driver_position),
	  .missing = "[x y z] in m relative to the device centre", .effect = SS_EFFECT_REDESIGN,
	  .doc = "[x y z] from the device centre: +x away from the listener, +y to the listener's left, +z up" },
	{ .section = "driver", .name = "axis", .kind = SS_KEY_VECTOR, .n = 3, .lo = -1.0, .hi = 1.0,
	  .unit = "unit vector", .required = true, .offset = D(axis), .check = SS_CHECK_DIRECTION, .src = -1,
	  .missing = "[x y z] unit vector", .effect = SS_EFFECT_REDESIGN,
	  .doc = "the direction it fires (normalised; [-1 0 0] faces the listener)" },
	{ .section = "driver", .name = "band", .kind = SS_KEY_VECTOR, .n = 2, .lo = 10.0, .hi = 40000.0, .unit = "Hz",
	  .required = true, .offset = D(band), .check = SS_CHECK_ASCENDING, .ratio = 1.05,
	  .src = SRC(src_driver_band), .missing = "[lo hi] in Hz", .effect = SS_EFFECT_REDESIGN,
	  .doc = "[lo hi]: the band it plays" },
	{ .section = "driver", .name = "directivity", .kind = SS_KEY_CHOICE, .offset = D(directivity),
	  .choices = directivities, .src = -1, .def = { SS_DIRECTIVITY_PISTON }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "its radiation model: a baffled piston of `radius`, or a point" },
	{ .section = "driver", .name = "radius", .kind = SS_KEY_NUMBER, .lo = 0.003, .hi = 0.3, .unit = "m",
	  .offset = D(radius), .src = -1, .def = { 0.025 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "the piston's radius" },
	{ .section = "driver", .name = "gain", .kind = SS_KEY_NUMBER, .lo = -40.0, .hi = 12.0, .unit = "dB",
	  .offset = D(gain_db), .src = -1, .def = { 0.0 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "a trim for this driver's sensitivity" },
	{ .section = "driver", .name = "limit", .kind = SS_KEY_NUMBER, .lo = -40.0, .hi = 0.0, .unit = "dBFS",
	  .offset = D(limit_db), .src = -1, .def = { NAN }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "its true-peak ceiling (unset: output.limit)" },
	{ .section = "", .name = "upmix", .kind = SS_KEY_SECTION, .src = -1, .effect = SS_EFFECT_REDESIGN,
	  .doc = "stereo to left, right and centre" },
	{ .section = "upmix", .name = "enabled", .kind = SS_KEY_BOOL, .offset = P(upmix.enabled), .src = -1,
	  .def = { 1 }, .effect = SS_EFFECT_REDESIGN, .doc = "false: left and right pass, no centre" },
	{ .section = "upmix", .name = "smoothing", .kind = SS_KEY_NUMBER, .lo = 5.0, .hi = 2000.0, .unit = "ms",
	  .offset = P(upmix.smoothing_ms), .src = -1, .def = { 30.0 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "time constant of the spectral statistics the centre is estimated from" },
	{ .section = "", .name = "virtualizer", .kind = SS_KEY_SECTION, .src = -1, .effect = SS_EFFECT_REDESIGN,
	  .doc = "left and right as a virtual loudspeaker pair" },
	{ .section = "virtualizer", .name = "enabled", .kind = SS_KEY_BOOL, .offset = P(virtualizer.enabled),
	  .src = -1, .def = { 1 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "false: crosstalk cancellation alone, aiming at ctc.target" },
	{ .section = "virtualizer", .name = "angle", .kind = SS_KEY_NUMBER, .lo = 5.0, .hi = 90.0, .unit = "degrees",
	  .offset = P(virtualizer.angle_deg), .src = -1, .def = { 30.0 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "half-angle of the virtual pair (30: a +-30 degree pair)" },
	{ .section = "", .name = "ctc", .kind = SS_KEY_SECTION, .src = -1, .effect = SS_EFFECT_REDESIGN,
	  .doc = "crosstalk cancellation" },
	{ .section = "ctc", .name = "target", .kind = SS_KEY_CURVE, .lo = 0.0, .hi = 60.0, .unit = "dB",
	  .offset = P(ctc.target), .src = -1, .def_curve = &default_target, .effect = SS_EFFECT_REDESIGN,
	  .doc = "[ [Hz dB] ... ]: the separation to aim for over frequency" },
	{ .section = "ctc", .name = "effort", .kind = SS_KEY_NUMBER, .lo = 0.0, .hi = 30.0, .unit = "dB",
	  .auto_ok = true, .offset = P(ctc.effort_db), .src = -1, .def = { NAN }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "each driver's drive cap relative to one driver at the centre (auto: from the geometry)" },
	{ .section = "ctc", .name = "robust", .kind = SS_KEY_CHOICE, .offset = P(ctc.robust), .choices = robustness,
	  .src = -1, .def = { SS_CTC_ROBUST_AUTO }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "what the cancellation must hold on: the design head only, or the head 1.5 cm to either side" },
	{ .section = "", .name = "beam", .kind = SS_KEY_SECTION, .src = -1, .effect = SS_EFFECT_REDESIGN,
	  .doc = "the centre channel's beam" },
	{ .section = "beam", .name = "enabled", .kind = SS_KEY_BOOL, .offset = P(beam.enabled), .src = -1,
	  .def = { 1 }, .effect = SS_EFFECT_REDESIGN, .doc = "false: the centre plays through an equal feed" },
	{ .section = "beam", .name = "band", .kind = SS_KEY_VECTOR, .n = 2, .lo = 50.0, .hi = 20000.0, .unit = "Hz",
	  .auto_ok = true, .offset = P(beam.band), .check = SS_CHECK_ASCENDING, .ratio = 1.1,
	  .src = SRC(src_beam_band), .def = { NAN, NAN }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "[lo hi] where the centre is beamformed (auto: where the array's size allows)" },
	{ .section = "beam", .name = "null", .kind = SS_KEY_NUMBER, .lo = 30.0, .hi = 150.0, .unit = "degrees",
	  .offset = P(beam.null_deg), .src = -1, .def = { 90.0 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "nulls at +-this azimuth (0 = toward the listener)" },
	{ .section = "beam", .name = "lobe", .kind = SS_KEY_NUMBER, .lo = 10.0, .hi = 80.0, .unit = "degrees",
	  .offset = P(beam.lobe_deg), .src = -1, .def = { 45.0 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "half-width of the main lobe held at -6 dB or better" },
	{ .section = "beam", .name = "effort", .kind = SS_KEY_NUMBER, .lo = 0.0, .hi = 30.0, .unit = "dB",
	  .offset = P(beam.effort_db), .src = -1, .def = { 10.0 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "each driver's drive cap for the beam" },
	{ .section = "", .name = "output", .kind = SS_KEY_SECTION, .src = -1, .effect = SS_EFFECT_REDESIGN,
	  .doc = "the drivers' feed" },
	{ .section = "output", .name = "gain", .kind = SS_KEY_NUMBER, .lo = -60.0, .hi = 12.0, .unit = "dB",
	  .offset = P(output.gain_db), .src = -1, .def = { 0.0 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "master gain" },
	{ .section = "output", .name = "limit", .kind = SS_KEY_NUMBER, .lo = -40.0, .hi = 0.0, .unit = "dBFS",
	  .offset = P(output.limit_db), .src = -1, .def = { -0.1 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "every driver's true-peak ceiling unless its own limit says otherwise" },
	{ .section = "output", .name = "target", .kind = SS_KEY_STRING, .offset = P(output.target),
	  .size = sizeof(((struct ss_profile *)0)->output.target), .src = -1, .def_string = "",
	  .effect = SS_EFFECT_RECONNECT,
	  .doc = "node.name of the multichannel device to play into (\"\": the policy's choice; the module's "
		  "target.object argument overrides it)" },
	{ .section = "", .name = "room", .kind = SS_KEY_SECTION, .src = -1, .effect = SS_EFFECT_REDESIGN,
	  .doc = "the room the predictions assume" },
	{ .section = "room", .name = "size", .kind = SS_KEY_VECTOR, .n = 3, .lo = 1.5, .hi = 50.0, .unit = "m",
	  .offset = P(room.size), .src = -1, .def = { 5.0, 4.0, 2.7 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "[length width height] of a shoebox room" },
	{ .section = "room", .name = "rt60", .kind = SS_KEY_NUMBER, .lo = 0.1, .hi = 5.0, .unit = "s",
	  .offset = P(room.rt60), .src = -1, .def = { 0.4 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "reverberation time (sets the walls' absorption)" },
	{ .section = "room", .name = "wall-distance", .kind = SS_KEY_NUMBER, .lo = 0.05, .hi = 10.0, .unit = "m",
	  .offset = P(room.device_wall_distance), .src = -1, .def = { 0.3 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "device centre to the wall behind it" },
	{ .section = "", .name = "plant", .kind = SS_KEY_SECTION, .src = -1, .effect = SS_EFFECT_REDESIGN,
	  .doc = "what the design inverts: the model, or the box as measured" },
	{ .section = "plant", .name = "measured", .kind = SS_KEY_STRING, .offset = P(plant.measured),
	  .size = sizeof(((struct ss_profile *)0)->plant.measured), .src = SRC(src_plant_measured), .def_string = "",
	  .effect = SS_EFFECT_REDESIGN,
	  .doc = "a SOFA file from `soundstage measure` (drivers at the ears); used in each driver's band, the model "
		  "elsewhere (\"\": the model alone)" },
	{ .section = "plant", .name = "window", .kind = SS_KEY_NUMBER, .lo = 1.0, .hi = 50.0, .unit = "ms",
	  .offset = P(plant.window_ms), .src = -1, .def = { 2.5 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "how much of each measured response the design uses after its first arrival: less than the first "
		  "reflection's delay (measured below 2/window Hz gives way to the model)" },
	{ .section = "plant", .name = "head", .kind = SS_KEY_STRING, .offset = P(plant.head),
	  .size = sizeof(((struct ss_profile *)0)->plant.head), .src = SRC(src_plant_head), .def_string = "",
	  .effect = SS_EFFECT_REDESIGN,
	  .doc = "a SOFA head-related set (SimpleFreeFieldHRIR) for the head model (\"\": a rigid sphere)" },
	{ .section = "", .name = "design", .kind = SS_KEY_SECTION, .src = -1, .effect = SS_EFFECT_REDESIGN,
	  .doc = "filter sizes and latency" },
	{ .section = "design", .name = "taps", .kind = SS_KEY_POW2, .lo = 512, .hi = 16384, .unit = "taps",
	  .offset = P(design.taps), .src = -1, .def = { 2048 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "FIR length at 48 kHz (scaled with the rate)" },
	{ .section = "design", .name = "block", .kind = SS_KEY_POW2, .lo = 64, .hi = 1024,
	  .unit = "samples (at 48 kHz)", .offset = P(design.block), .src = -1, .def = { 0 },
	  .effect = SS_EFFECT_REDESIGN, .doc = "the engine's block: its latency against CPU (unset: from latency)" },
	{ .section = "design", .name = "latency", .kind = SS_KEY_CHOICE, .offset = P(design.low_latency),
	  .choices = latencies, .store_bool = true, .src = -1, .def = { 0 }, .effect = SS_EFFECT_REDESIGN,
	  .doc = "normal (block 256) or low (block 64: within 10 ms in all, at some CPU and separation)" },
	{ .name = NULL },
};

const struct ss_profile_key *ss_profile_key_find(const char *section, const char *name)
{
	for (const struct ss_profile_key *k = ss_profile_keys; k->name; k++)
		if (strcmp(k->section, section) == 0 && strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static void apply_default(const struct ss_profile_key *k, void *base)
{
	char *at = (char *)base + k->offset;
	switch (k->kind) {
	case SS_KEY_STRING:
		snprintf(at, k->size, "%s", k->def_string ? k->def_string : "");
		break;
	case SS_KEY_NUMBER:
		*(double *)(void *)at = k->def[0];
		break;
	case SS_KEY_VECTOR:
		for (int i = 0; i < k->n; i++)
			((double *)(void *)at)[i] = k->def[i];
		break;
	case SS_KEY_BOOL:
		*(bool *)(void *)at = k->def[0] != 0.0;
		break;
	case SS_KEY_CHOICE:
		if (k->store_bool)
			*(bool *)(void *)at = k->def[0] != 0.0;
		else
			*(int *)(void *)at = (int)k->def[0];
		break;
	case SS_KEY_POW2:
		*(int *)(void *)at = (int)k->def[0];
		break;
	case SS_KEY_CURVE:
		*(struct ss_curve *)(void *)at = *k->def_curve;
		break;
	case SS_KEY_SECTION:
	case SS_KEY_DRIVERS:
		break;
	}
}

void ss_profile_apply_defaults(struct ss_profile *p)
{
	for (const struct ss_profile_key *k = ss_profile_keys; k->name; k++)
		if (strcmp(k->section, "driver") != 0)
			apply_default(k, p);
}

void ss_driver_apply_defaults(struct ss_driver *d)
{
	memset(d, 0, sizeof(*d));
	for (const struct ss_profile_key *k = ss_profile_keys; k->name; k++)
		if (strcmp(k->section, "driver") == 0)
			apply_default(k, d);
}

/* ---- JSON ---- */

/* the shortest decimal that reads back to the same double */
static void json_number(FILE *f, double v)
{
	char buf[40];
	for (int digits = 10; digits <= 17; digits++) {
		snprintf(buf, sizeof(buf), "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

/* false: an unset optional value, not written */
static bool is_written(const struct ss_profile_key *k, const void *base)
{
	const char *at = (const char *)base + k->offset;
	if (k->kind == SS_KEY_NUMBER && !k->auto_ok)
		return !isnan(*(const double *)(const void *)at);
	if (k->kind == SS_KEY_POW2)
		return *(const int *)(const void *)at != 0;
	return true;
}

static void json_value(FILE *f, const struct ss_profile_key *k, const void *base)
{
	const char *at = (const char *)base + k->offset;
	switch (k->kind) {
	case SS_KEY_STRING:
		ss_json_write_string(f, at);
		break;
	case SS_KEY_NUMBER: {
		const double v = *(const double *)(const void *)at;
		if (isnan(v))
			fputs("\"auto\"", f);
		else
			json_number(f, v);
		break;
	}
	case SS_KEY_VECTOR: {
		const double *v = (const double *)(const void *)at;
		if (k->auto_ok && isnan(v[0])) {
			fputs("\"auto\"", f);
			break;
		}
		fputc('[', f);
		for (int i = 0; i < k->n; i++) {
			if (i)
				fputs(", ", f);
			json_number(f, v[i]);
		}
		fputc(']', f);
		break;
	}
	case SS_KEY_BOOL:
		fputs(*(const bool *)(const void *)at ? "true" : "false", f);
		break;
	case SS_KEY_CHOICE: {
		const int i = k->store_bool ? (int)*(const bool *)(const void *)at : *(const int *)(const void *)at;
		ss_json_write_string(f, k->choices[i]);
		break;
	}
	case SS_KEY_POW2:
		fprintf(f, "%d", *(const int *)(const void *)at);
		break;
	case SS_KEY_CURVE: {
		const struct ss_curve *c = (const struct ss_curve *)(const void *)at;
		fputc('[', f);
		for (int i = 0; i < c->n; i++) {
			fputs(i ? ", [" : "[", f);
			json_number(f, c->freq[i]);
			fputs(", ", f);
			json_number(f, c->db[i]);
			fputc(']', f);
		}
		fputc(']', f);
		break;
	}
	case SS_KEY_SECTION:
	case SS_KEY_DRIVERS:
		break;
	}
}

/* the keys of `section` as `"key": value` pairs, comma-separated, on one line */
static void json_members(FILE *f, const char *section, const void *base)
{
	bool first = true;
	for (const struct ss_profile_key *k = ss_profile_keys; k->name; k++) {
		if (strcmp(k->section, section) != 0 || !is_written(k, base))
			continue;
		fputs(first ? "" : ", ", f);
		first = false;
		ss_json_write_string(f, k->name);
		fputs(": ", f);
		json_value(f, k, base);
	}
}

void ss_profile_write_json(const struct ss_profile *p, FILE *f, int indent)
{
	bool first = true;
	fputs("{", f);
	for (const struct ss_profile_key *k = ss_profile_keys; k->name; k++) {
		if (k->section[0] != '\0')
			continue;
		fprintf(f, "%s\n%*s  ", first ? "" : ",", indent, "");
		first = false;
		ss_json_write_string(f, k->name);
		fputs(": ", f);
		if (k->kind == SS_KEY_SECTION) {
			fputs("{ ", f);
			json_members(f, k->name, p);
			fputs(" }", f);
		} else if (k->kind == SS_KEY_DRIVERS) {
			fputs("[", f);
			for (int i = 0; i < p->n_drivers; i++) {
				fprintf(f, "%s\n%*s    { ", i ? "," : "", indent, "");
				json_members(f, "driver", &p->drivers[i]);
				fputs(" }", f);
			}
			fprintf(f, "\n%*s  ]", indent, "");
		} else {
			json_value(f, k, p);
		}
	}
	fprintf(f, "\n%*s}", indent, "");
}

/* ---- the key list ---- */

static const char *effect_name(enum ss_profile_effect e)
{
	switch (e) {
	case SS_EFFECT_RENAME: return "renames";
	case SS_EFFECT_RECONNECT: return "reconnects";
	case SS_EFFECT_REDESIGN: return "redesigns";
	default: return "nothing";
	}
}

void ss_profile_write_keys(FILE *f)
{
	fputs("| key | value | default | a saved change | meaning |\n|---|---|---|---|---|\n", f);
	for (const struct ss_profile_key *k = ss_profile_keys; k->name; k++) {
		if (k->kind == SS_KEY_SECTION)
			continue;
		char key[96], value[160] = "", def[160] = "";
		if (k->kind == SS_KEY_DRIVERS)
			snprintf(key, sizeof(key), "`drivers`");
		else if (strcmp(k->section, "driver") == 0)
			snprintf(key, sizeof(key), "`drivers[].%s`", k->name);
		else
			snprintf(key, sizeof(key), "`%s%s%s`", k->section, k->section[0] ? "." : "", k->name);
		switch (k->kind) {
		case SS_KEY_STRING:
			snprintf(value, sizeof(value), "string");
			snprintf(def, sizeof(def), "\"%s\"", k->def_string ? k->def_string : "");
			break;
		case SS_KEY_NUMBER:
			snprintf(value, sizeof(value), "%g..%g %s%s", k->lo, k->hi, k->unit, k->auto_ok ? ", or auto" : "");
			if (isnan(k->def[0]))
				snprintf(def, sizeof(def), "%s", k->auto_ok ? "auto" : "unset");
			else
				snprintf(def, sizeof(def), "%g", k->def[0]);
			break;
		case SS_KEY_VECTOR:
			snprintf(value, sizeof(value), "[%d numbers] each %g..%g %s%s", k->n, k->lo, k->hi, k->unit,
					k->auto_ok ? ", or auto" : "");
			if (isnan(k->def[0]))
				snprintf(def, sizeof(def), "%s", k->auto_ok ? "auto" : "unset");
			else if (!k->required) {
				for (int i = 0; i < k->n; i++)
					snprintf(def + strlen(def), sizeof(def) - strlen(def), "%s%g", i ? " " : "[", k->def[i]);
				snprintf(def + strlen(def), sizeof(def) - strlen(def), "]");
			}
			break;
		case SS_KEY_BOOL:
			snprintf(value, sizeof(value), "true or false");
			snprintf(def, sizeof(def), "%s", k->def[0] != 0.0 ? "true" : "false");
			break;
		case SS_KEY_CHOICE:
			for (int i = 0; k->choices[i]; i++)
				snprintf(value + strlen(value), sizeof(value) - strlen(value), "%s%s", i ? ", " : "",
						k->choices[i]);
			snprintf(def, sizeof(def), "%s", k->choices[(int)k->def[0]]);
			break;
		case SS_KEY_POW2:
			snprintf(value, sizeof(value), "power of two, %g..%g %s", k->lo, k->hi, k->unit);
			snprintf(def, sizeof(def), k->def[0] != 0.0 ? "%g" : "unset", k->def[0]);
			break;
		case SS_KEY_CURVE:
			snprintf(value, sizeof(value), "[ [Hz dB] ... ], %g..%g dB", k->lo, k->hi);
			for (int i = 0; i < k->def_curve->n; i++)
				snprintf(def + strlen(def), sizeof(def) - strlen(def), "%s[%g %g]", i ? " " : "",
						k->def_curve->freq[i], k->def_curve->db[i]);
			break;
		case SS_KEY_DRIVERS:
			snprintf(value, sizeof(value), "[ { ... } ... ], 1..%d", SS_MAX_DRIVERS);
			break;
		case SS_KEY_SECTION:
			break;
		}
		if (k->required)
			snprintf(def, sizeof(def), "required");
		fprintf(f, "| %s | %s | %s | %s | %s |\n", key, value, def, effect_name(k->effect), k->doc);
	}
}

/* ---- diff ---- */

static bool same_value(const struct ss_profile_key *k, const void *a, const void *b)
{
	const char *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;
	switch (k->kind) {
	case SS_KEY_STRING:
		return strcmp(x, y) == 0;
	case SS_KEY_NUMBER:
	case SS_KEY_VECTOR: {
		const double *u = (const double *)(const void *)x, *v = (const double *)(const void *)y;
		for (int i = 0; i < (k->kind == SS_KEY_VECTOR ? k->n : 1); i++)
			if (!(u[i] == v[i] || (isnan(u[i]) && isnan(v[i]))))
				return false;
		return true;
	}
	case SS_KEY_BOOL:
		return *(const bool *)(const void *)x == *(const bool *)(const void *)y;
	case SS_KEY_CHOICE:
		if (k->store_bool)
			return *(const bool *)(const void *)x == *(const bool *)(const void *)y;
		return *(const int *)(const void *)x == *(const int *)(const void *)y;
	case SS_KEY_POW2:
		return *(const int *)(const void *)x == *(const int *)(const void *)y;
	case SS_KEY_CURVE: {
		const struct ss_curve *c = (const struct ss_curve *)(const void *)x;
		const struct ss_curve *d = (const struct ss_curve *)(const void *)y;
		if (c->n != d->n)
			return false;
		for (int i = 0; i < c->n; i++)
			if (c->freq[i] != d->freq[i] || c->db[i] != d->db[i])
				return false;
		return true;
	}
	case SS_KEY_SECTION:
	case SS_KEY_DRIVERS:
		return true;
	}
	return true;
}

static void note_change(char *changed, size_t size, const char *section, int index, const char *name)
{
	if (changed == NULL || size == 0)
		return;
	size_t len = strlen(changed);
	char key[96];
	if (index >= 0)
		snprintf(key, sizeof(key), "drivers[%d].%s", index, name);
	else if (index == -2)
		snprintf(key, sizeof(key), "drivers");
	else
		snprintf(key, sizeof(key), "%s%s%s", section, section[0] ? "." : "", name);
	if (len + strlen(key) + 3 < size)
		snprintf(changed + len, size - len, "%s%s", len ? ", " : "", key);
}

enum ss_profile_effect ss_profile_diff(const struct ss_profile *a, const struct ss_profile *b, char *changed,
		size_t size)
{
	enum ss_profile_effect effect = SS_EFFECT_NONE;
	if (changed && size)
		changed[0] = '\0';
	for (const struct ss_profile_key *k = ss_profile_keys; k->name; k++) {
		if (k->kind == SS_KEY_SECTION)
			continue;
		if (k->kind == SS_KEY_DRIVERS) {
			if (a->n_drivers != b->n_drivers) {
				note_change(changed, size, "", -2, "drivers");
				effect = SS_EFFECT_REDESIGN;
			}
			continue;
		}
		if (strcmp(k->section, "driver") == 0) {
			for (int i = 0; i < a->n_drivers && i < b->n_drivers; i++)
				if (!same_value(k, &a->drivers[i], &b->drivers[i])) {
					note_change(changed, size, k->section, i, k->name);
					if (k->effect > effect)
						effect = k->effect;
				}
			continue;
		}
		if (!same_value(k, a, b)) {
			note_change(changed, size, k->section, -1, k->name);
			if (k->effect > effect)
				effect = k->effect;
		}
	}
	return effect;
}
