/* Soundstage: the profile's schema, as data.
 *
 * One descriptor per key says where it sits (section, name), what it holds (kind, range, unit, vector length,
 * choices), where it lives in struct ss_profile (or struct ss_driver), its default, whether it is required, what a
 * change of it needs from a running Soundstage, and one line of what it means. Everything that knows the profile's
 * keys reads this table: the parser (profile.c: types, ranges, unknown and duplicate keys with "did you mean"),
 * the defaults, the JSON writer below (`soundstage profile --json`), the profile diff (what a saved edit needs), and
 * `soundstage profile --keys` (the key list in the README is its output).
 *
 * Design-time code: not real-time safe.
 */
#ifndef SS_PROFILE_SCHEMA_H
#define SS_PROFILE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "profile.h"
#include "util/export.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ss_key_kind {
	SS_KEY_STRING,    /**< char[size] */
	SS_KEY_NUMBER,    /**< double in lo..hi; with auto_ok, `auto` is NaN */
	SS_KEY_BOOL,      /**< bool */
	SS_KEY_VECTOR,    /**< double[n], each in lo..hi; with auto_ok, `auto` is all NaN */
	SS_KEY_CURVE,     /**< struct ss_curve: [ [Hz dB] ... ], levels in lo..hi dB */
	SS_KEY_CHOICE,    /**< one of `choices`, stored as its index (an enum, or a bool when store_bool) */
	SS_KEY_POW2,      /**< int, a power of two in lo..hi; 0 means unset (written nowhere) */
	SS_KEY_SECTION,   /**< an object whose keys have this key's name as their section */
	SS_KEY_DRIVERS,   /**< the array of driver objects, whose keys have section "driver" */
};

/** What a post-read check enforces (the value has already its type and range). */
enum ss_key_check {
	SS_CHECK_NONE,
	SS_CHECK_NONEMPTY,     /**< a string that is not "" ("expected <invalid>") */
	SS_CHECK_DIRECTION,    /**< a non-zero vector, normalised to unit length */
	SS_CHECK_ASCENDING,    /**< [lo hi] with hi > lo x ratio */
};

/** What a running Soundstage must do when a key's value changes in a saved profile, in increasing order. */
enum ss_profile_effect {
	SS_EFFECT_NONE = 0,
	SS_EFFECT_RENAME,      /**< only names shown to people (name, description): update them */
	SS_EFFECT_RECONNECT,   /**< where the output goes (output.target): connect elsewhere */
	SS_EFFECT_REDESIGN,    /**< anything the filters are made from */
};

struct ss_profile_key {
	const char *section;   /**< "" top level, "listener", "upmix", ..., "driver" for a key of each drivers[] entry */
	const char *name;
	enum ss_key_kind kind;
	double lo, hi;         /**< NUMBER, VECTOR (each element), POW2: the range; CURVE: the level range, dB */
	int n;                 /**< VECTOR: its length */
	const char *unit;      /**< "m", "dB", "Hz", ... (in errors and the key list) */
	bool required;
	bool auto_ok;          /**< `auto` accepted (NaN) */
	size_t offset;         /**< in struct ss_profile, or in struct ss_driver for section "driver" */
	size_t size;           /**< STRING: the buffer's size */
	const char *const *choices; /**< CHOICE: NULL-terminated names; the stored value is the index */
	bool store_bool;       /**< CHOICE stored in a bool (index 0 false, 1 true) */
	enum ss_key_check check;
	double ratio;          /**< SS_CHECK_ASCENDING */
	long src;              /**< offset of the struct ss_srcpos recording where it was read (for a driver key: of
	                            the [SS_MAX_DRIVERS] array), or -1 */
	double def[3];         /**< default: NUMBER/VECTOR values, BOOL 0/1, CHOICE index, POW2 value */
	const char *def_string;   /**< STRING default */
	const struct ss_curve *def_curve; /**< CURVE default */
	const char *missing;   /**< what a required key's "missing; expected ..." says */
	const char *invalid;   /**< SS_CHECK_NONEMPTY: what "expected ..." says */
	enum ss_profile_effect effect;
	const char *doc;       /**< one line: what it means */
};

/** The table, in the order keys are written and listed; ends with an entry whose name is NULL. */
SS_EXPORT extern const struct ss_profile_key ss_profile_keys[];

/** The descriptor of `section`.`name`, or NULL. */
SS_EXPORT const struct ss_profile_key *ss_profile_key_find(const char *section, const char *name);

/** Apply every key's default to `p` (the profile's sections and top level; drivers are left alone). */
SS_EXPORT void ss_profile_apply_defaults(struct ss_profile *p);
/** Apply every driver key's default to `d`. */
SS_EXPORT void ss_driver_apply_defaults(struct ss_driver *d);

/** Write the profile as strict JSON that ss_profile_parse reads back to the same profile: every key, `auto` where
 * it is auto, unset optional values (a driver's limit, design.block) left out. `indent` spaces before each line
 * after the first. */
SS_EXPORT void ss_profile_write_json(const struct ss_profile *p, FILE *f, int indent);

/** Write the key list (section.key, kind and range, default, what a change needs, meaning) as Markdown. */
SS_EXPORT void ss_profile_write_keys(FILE *f);

/** What going from profile `a` to `b` needs: the largest effect among the keys that differ. `changed` (may be
 * NULL) receives the differing keys' names, comma-separated. */
SS_EXPORT enum ss_profile_effect ss_profile_diff(const struct ss_profile *a, const struct ss_profile *b,
		char *changed, size_t size);

#ifdef __cplusplus
}
#endif
#endif
