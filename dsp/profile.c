/* Soundstage: SPA-JSON profile parser and validator. */
#include "profile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spa/utils/json.h>

#include "profile-schema.h"
#include "util/units.h"


struct parser {
	const char *file;
	const char *text;
	size_t len;
	struct ss_error *err;
	struct ss_profile *p;
};

static void locate(const char *text, const char *at, int *line, int *col)
{
	int l = 1, c = 1;
	for (const char *s = text; s && at && s < at; s++) {
		if (*s == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static int verror(struct ss_error *err, const char *file, int line, int col, const char *key, const char *fmt,
		va_list ap)
{
	char what[400];
	vsnprintf(what, sizeof(what), fmt, ap);
	if (err == NULL)
		return -EINVAL;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "<profile>");
	snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
	err->line = line;
	err->col = col;
	if (line > 0)
		snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: %s: %s", err->file, line, col,
				key && *key ? key : "profile", what);
	else
		snprintf(err->msg, sizeof(err->msg), "%s: %s: %s", err->file, key && *key ? key : "profile", what);
	return -EINVAL;
}

static int fail_at(struct parser *ps, const char *at, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(struct parser *ps, const char *at, const char *key, const char *fmt, ...)
{
	int line = 0, col = 0, r;
	va_list ap;
	if (at)
		locate(ps->text, at, &line, &col);
	va_start(ap, fmt);
	r = verror(ps->err, ps->file, line, col, key, fmt, ap);
	va_end(ap);
	return r;
}

static int fail_pos(const struct ss_profile *p, struct ss_error *err, struct ss_srcpos pos, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail_pos(const struct ss_profile *p, struct ss_error *err, struct ss_srcpos pos, const char *key,
		const char *fmt, ...)
{
	int r;
	va_list ap;
	va_start(ap, fmt);
	r = verror(err, p->path[0] ? p->path : "<profile>", pos.line, pos.col, key, fmt, ap);
	va_end(ap);
	return r;
}

int ss_profile_error_at(const struct ss_profile *p, struct ss_error *err, struct ss_srcpos pos, const char *key,
		const char *fmt, ...)
{
	struct ss_error tmp;
	int r;
	va_list ap;
	va_start(ap, fmt);
	r = verror(err ? err : &tmp, p->path[0] ? p->path : "<profile>", pos.line, pos.col, key, fmt, ap);
	va_end(ap);
	return r;
}

void ss_profile_file_path(const struct ss_profile *p, const char *name, char *out, size_t size)
{
	const char *slash = strrchr(p->path, '/');
	if (name[0] == '/' || slash == NULL)
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "%.*s/%s", (int)(slash - p->path), p->path, name);
}

static int syntax_error(struct parser *ps, struct spa_json *it, const char *key)
{
	struct spa_error_location loc;
	if (spa_json_get_error(it, ps->text, &loc)) {
		struct ss_error *e = ps->err;
		if (e) {
			snprintf(e->file, sizeof(e->file), "%s", ps->file);
			snprintf(e->key, sizeof(e->key), "%s", key);
			e->line = loc.line;
			e->col = loc.col;
			snprintf(e->msg, sizeof(e->msg), "%s:%d:%d: %s: syntax error: %s", ps->file, loc.line, loc.col,
					*key ? key : "profile", loc.reason);
		}
		return -EINVAL;
	}
	return fail_at(ps, it->cur, key, "syntax error: unexpected end of input");
}

/* ---- token classification ---- */

static bool tok_is_object(const char *v, int len) { return len > 0 && v[0] == '{'; }
static bool tok_is_array(const char *v, int len) { return len > 0 && v[0] == '['; }

static const char *tok_kind(const char *v, int len)
{
	if (len <= 0)
		return "nothing";
	if (v[0] == '{')
		return "an object";
	if (v[0] == '[')
		return "an array";
	if (v[0] == '"')
		return "a string";
	if (spa_json_is_bool(v, len))
		return "a boolean";
	if (spa_json_is_null(v, len))
		return "null";
	if (spa_json_is_float(v, len))
		return "a number";
	return "a word";
}

/* The word `auto` (bare or quoted): a value left to the design (design/defaults.h). */
static bool is_auto(const char *v, int len)
{
	char buf[8];
	return len > 0 && len < (int)sizeof(buf) && spa_json_parse_stringn(v, len, buf, (int)sizeof(buf)) >= 0 &&
		strcmp(buf, "auto") == 0;
}

static int tok_number(const char *v, int len, double *out)
{
	char buf[64];
	char *end;
	if (len <= 0 || len >= (int)sizeof(buf) || v[0] == '"' || v[0] == '{' || v[0] == '[')
		return -EINVAL;
	memcpy(buf, v, (size_t)len);
	buf[len] = '\0';
	/* decimal only: strtod would also take 0x2, inf and nan */
	for (int i = 0; i < len; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') || buf[i] == '.' || buf[i] == '-' || buf[i] == '+' ||
				buf[i] == 'e' || buf[i] == 'E'))
			return -EINVAL;
	errno = 0;
	*out = strtod(buf, &end);
	if (end == buf || *end != '\0')
		return -EINVAL;
	if (errno == ERANGE || !isfinite(*out))
		return -ERANGE;
	return 0;
}

/* ---- typed readers: each checks the type and range and reports at the value ---- */

static int read_number(struct parser *ps, const char *key, const char *v, int len, double lo, double hi,
		const char *unit, double *out)
{
	double d;
	int r = tok_number(v, len, &d);
	if (r == -ERANGE)
		return fail_at(ps, v, key, "expected a number in %g..%g %s, got %.*s (out of range for a number)", lo,
				hi, unit, len < 32 ? len : 32, v);
	if (r < 0)
		return fail_at(ps, v, key, "expected a number in %g..%g %s, got %s", lo, hi, unit,
				spa_json_is_float(v, len) ? "a number written as this parser does not read (decimal only)" :
				tok_kind(v, len));
	if (d < lo || d > hi)
		return fail_at(ps, v, key, "expected a number in %g..%g %s, got %g", lo, hi, unit, d);
	*out = d;
	return 0;
}

static int read_bool(struct parser *ps, const char *key, const char *v, int len, bool *out)
{
	if (!spa_json_is_bool(v, len))
		return fail_at(ps, v, key, "expected true or false, got %s", tok_kind(v, len));
	return spa_json_parse_bool(v, len, out) < 0 ? fail_at(ps, v, key, "expected true or false") : 0;
}

static int read_string(struct parser *ps, const char *key, const char *v, int len, char *out, size_t max)
{
	if (tok_is_object(v, len) || tok_is_array(v, len) || spa_json_is_null(v, len))
		return fail_at(ps, v, key, "expected a string, got %s", tok_kind(v, len));
	if (spa_json_parse_stringn(v, len, out, (int)max) < 0)
		return fail_at(ps, v, key, "expected a string of at most %zu characters", max - 1);
	return 0;
}

/* Read a fixed-size numeric array `[a b c]`; `it` is positioned just after the '[' token. */
static int read_vector(struct parser *ps, struct spa_json *it, const char *key, const char *v, int len, int n,
		double lo, double hi, const char *unit, double *out)
{
	struct spa_json sub;
	const char *e;
	int elen, count = 0;
	if (!tok_is_array(v, len))
		return fail_at(ps, v, key, "expected an array of %d numbers (%s), got %s", n, unit, tok_kind(v, len));
	spa_json_enter(it, &sub);
	while ((elen = spa_json_next(&sub, &e)) > 0) {
		char ekey[192];
		snprintf(ekey, sizeof(ekey), "%.160s[%d]", key, count);
		if (count >= n)
			return fail_at(ps, e, key, "expected exactly %d numbers (%s), got more", n, unit);
		int r = read_number(ps, ekey, e, elen, lo, hi, unit, &out[count]);
		if (r < 0)
			return r;
		count++;
	}
	if (elen < 0)
		return syntax_error(ps, &sub, key);
	if (count != n)
		return fail_at(ps, v, key, "expected exactly %d numbers (%s), got %d", n, unit, count);
	return 0;
}

/* ---- object walking ---- */

struct member {
	char key[96];
	const char *kat;
	const char *val;
	int vlen;
};

/* Returns 1 with a member, 0 at the end of the object, <0 on error (reported). */
static int next_member(struct parser *ps, struct spa_json *it, const char *path, struct member *m)
{
	const char *k;
	int klen = spa_json_next(it, &k);
	if (klen == 0)
		return 0;
	if (klen < 0)
		return syntax_error(ps, it, path);
	if (tok_is_object(k, klen) || tok_is_array(k, klen))
		return fail_at(ps, k, path, "expected a key, got %s", tok_kind(k, klen));
	if (spa_json_parse_stringn(k, klen, m->key, sizeof(m->key)) < 0)
		return fail_at(ps, k, path, "key is too long (at most %zu characters)", sizeof(m->key) - 1);
	m->kat = k;
	m->vlen = spa_json_next(it, &m->val);
	if (m->vlen < 0)
		return syntax_error(ps, it, m->key);
	if (m->vlen == 0)
		return fail_at(ps, k, m->key, "expected a value after the key");
	return 1;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

static int unknown_key(struct parser *ps, const struct member *m, const char *path, const char *const *known)
{
	const char *best = NULL;
	size_t bestd = 3;
	char list[400] = "";
	char full[200];
	for (int i = 0; known[i]; i++) {
		size_t d = edit_distance(m->key, known[i]);
		if (d < bestd) {
			bestd = d;
			best = known[i];
		}
		if (strlen(list) + strlen(known[i]) + 3 < sizeof(list)) {
			if (i)
				strcat(list, ", ");
			strcat(list, known[i]);
		}
	}
	snprintf(full, sizeof(full), "%s%s%s", path, *path ? "." : "", m->key);
	if (best)
		return fail_at(ps, m->kat, full, "unknown key (did you mean '%s'?); expected one of: %s", best, list);
	return fail_at(ps, m->kat, full, "unknown key; expected one of: %s", list);
}

static int check_duplicate(struct parser *ps, const struct member *m, const char *path, unsigned *seen, int idx)
{
	if (*seen & (1u << idx)) {
		char full[200];
		snprintf(full, sizeof(full), "%s%s%s", path, *path ? "." : "", m->key);
		return fail_at(ps, m->kat, full, "key given twice; expected each key once");
	}
	*seen |= 1u << idx;
	return 0;
}

static int key_index(const char *key, const char *const *known)
{
	for (int i = 0; known[i]; i++)
		if (strcmp(key, known[i]) == 0)
			return i;
	return -1;
}

static struct ss_srcpos srcpos(struct parser *ps, const char *at)
{
	struct ss_srcpos s;
	locate(ps->text, at, &s.line, &s.col);
	return s;
}

static int enter_object(struct parser *ps, struct spa_json *it, struct spa_json *sub, const char *key,
		const struct member *m)
{
	if (!tok_is_object(m->val, m->vlen))
		return fail_at(ps, m->val, key, "expected an object { ... }, got %s", tok_kind(m->val, m->vlen));
	spa_json_enter(it, sub);
	return 0;
}

static int parse_curve(struct parser *ps, struct spa_json *it, const char *key, const char *v, int vlen,
		double dblo, double dbhi, struct ss_curve *c)
{
	struct spa_json sub;
	const char *e;
	int elen, n = 0;
	if (!tok_is_array(v, vlen))
		return fail_at(ps, v, key, "expected an array of [Hz dB] points, got %s", tok_kind(v, vlen));
	spa_json_enter(it, &sub);
	while ((elen = spa_json_next(&sub, &e)) > 0) {
		char ekey[192];
		double pt[2];
		snprintf(ekey, sizeof(ekey), "%.160s[%d]", key, n);
		if (n >= SS_MAX_CURVE_POINTS)
			return fail_at(ps, e, key, "expected at most %d points", SS_MAX_CURVE_POINTS);
		if (!tok_is_array(e, elen))
			return fail_at(ps, e, ekey, "expected a point [Hz dB], got %s", tok_kind(e, elen));
		int r = read_vector(ps, &sub, ekey, e, elen, 2, -1e9, 1e9, "Hz dB", pt);
		if (r < 0)
			return r;
		if (pt[0] < 10.0 || pt[0] > 40000.0)
			return fail_at(ps, e, ekey, "expected a frequency in 10..40000 Hz, got %g", pt[0]);
		if (pt[1] < dblo || pt[1] > dbhi)
			return fail_at(ps, e, ekey, "expected a level in %g..%g dB, got %g", dblo, dbhi, pt[1]);
		if (n > 0 && pt[0] <= c->freq[n - 1])
			return fail_at(ps, e, ekey, "expected frequencies in increasing order (%g Hz after %g Hz)",
					pt[0], c->freq[n - 1]);
		c->freq[n] = pt[0];
		c->db[n] = pt[1];
		n++;
	}
	if (elen < 0)
		return syntax_error(ps, &sub, key);
	if (n == 0)
		return fail_at(ps, v, key, "expected at least one [Hz dB] point");
	c->n = n;
	return 0;
}

/* ---- values and sections, as the schema (profile-schema.c) says ---- */

static int read_choice(struct parser *ps, const struct ss_profile_key *k, const char *key, const char *v, int len,
		void *at)
{
	char s[32], list[160] = "";
	int r = read_string(ps, key, v, len, s, sizeof(s));
	if (r < 0)
		return r;
	int n = 0;
	while (k->choices[n])
		n++;
	for (int i = 0; i < n; i++) {
		if (strcmp(s, k->choices[i]) == 0) {
			if (k->store_bool)
				*(bool *)at = i != 0;
			else
				*(int *)at = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"", i == 0 ? "" : i + 1 == n ?
				" or " : ", ", k->choices[i]);
	}
	return fail_at(ps, v, key, "expected %s, got \"%s\"", list, s);
}

static int read_pow2(struct parser *ps, const struct ss_profile_key *k, const char *key, const char *v, int len,
		int *out)
{
	double t;
	int r = read_number(ps, key, v, len, k->lo, k->hi, k->unit, &t);
	if (r < 0)
		return r;
	const int ti = (int)t;
	if ((double)ti != t || (ti & (ti - 1)) != 0)
		return fail_at(ps, v, key, "expected a power of two in %g..%g %s, got %g", k->lo, k->hi, k->unit, t);
	*out = ti;
	return 0;
}

/* One key's value into `base` (the profile, or a driver of it), then the key's own check. */
static int read_value(struct parser *ps, struct spa_json *it, const struct ss_profile_key *k, const char *key,
		const struct member *m, void *base, int driver_index)
{
	void *at = (char *)base + k->offset;
	char unit[64];
	int r = 0;
	snprintf(unit, sizeof(unit), "%s%s", k->unit ? k->unit : "", k->auto_ok ? " (or auto)" : "");
	if (k->src >= 0)
		((struct ss_srcpos *)(void *)((char *)ps->p + k->src))[driver_index >= 0 ? driver_index : 0] =
			srcpos(ps, m->val);
	switch (k->kind) {
	case SS_KEY_STRING:
		r = read_string(ps, key, m->val, m->vlen, at, k->size);
		break;
	case SS_KEY_NUMBER:
		if (k->auto_ok && is_auto(m->val, m->vlen)) {
			*(double *)at = NAN;
			return 0;
		}
		r = read_number(ps, key, m->val, m->vlen, k->lo, k->hi, unit, at);
		break;
	case SS_KEY_VECTOR:
		if (k->auto_ok && is_auto(m->val, m->vlen)) {
			for (int i = 0; i < k->n; i++)
				((double *)at)[i] = NAN;
			return 0;
		}
		r = read_vector(ps, it, key, m->val, m->vlen, k->n, k->lo, k->hi, unit, at);
		break;
	case SS_KEY_BOOL:
		r = read_bool(ps, key, m->val, m->vlen, at);
		break;
	case SS_KEY_CHOICE:
		r = read_choice(ps, k, key, m->val, m->vlen, at);
		break;
	case SS_KEY_POW2:
		r = read_pow2(ps, k, key, m->val, m->vlen, at);
		break;
	case SS_KEY_CURVE:
		r = parse_curve(ps, it, key, m->val, m->vlen, k->lo, k->hi, at);
		break;
	case SS_KEY_SECTION:
	case SS_KEY_DRIVERS:
		break;
	}
	if (r < 0)
		return r;
	switch (k->check) {
	case SS_CHECK_NONEMPTY:
		if (((const char *)at)[0] == '\0')
			return fail_at(ps, m->val, key, "expected %s", k->invalid);
		break;
	case SS_CHECK_DIRECTION: {
		double *v = at, n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
		if (n < 1e-6)
			return fail_at(ps, m->val, key, "expected a non-zero direction vector");
		for (int i = 0; i < 3; i++)
			v[i] /= n;
		break;
	}
	case SS_CHECK_ASCENDING: {
		const double *v = at;
		if (!(v[1] > v[0] * k->ratio))
			return fail_at(ps, m->val, key, "expected [lo hi] with hi above lo x %g, got [%g %g]", k->ratio, v[0],
					v[1]);
		break;
	}
	case SS_CHECK_NONE:
		break;
	}
	return 0;
}

static int parse_drivers(struct parser *ps, struct spa_json *it, const struct member *pm);

/* The members of an object whose keys are the schema's `section`, into `base`; `path` names it in messages and `at`
 * is where a missing key is reported (the object; NULL at the top level). */
static int parse_keys(struct parser *ps, struct spa_json *it, const char *section, const char *path, void *base,
		int driver_index, const char *at)
{
	const struct ss_profile_key *keys[32];
	const char *known[33];
	int nk = 0;
	for (const struct ss_profile_key *k = ss_profile_keys; k->name && nk < 32; k++)
		if (strcmp(k->section, section) == 0) {
			keys[nk] = k;
			known[nk++] = k->name;
		}
	known[nk] = NULL;
	struct member m;
	unsigned seen = 0;
	int r;
	while ((r = next_member(ps, it, path, &m)) > 0) {
		int idx = key_index(m.key, known);
		if (idx < 0)
			return unknown_key(ps, &m, path, known);
		if ((r = check_duplicate(ps, &m, path, &seen, idx)) < 0)
			return r;
		const struct ss_profile_key *k = keys[idx];
		char key[160];
		snprintf(key, sizeof(key), "%s%s%s", path, *path ? "." : "", m.key);
		if (k->kind == SS_KEY_SECTION) {
			struct spa_json sub;
			if ((r = enter_object(ps, it, &sub, key, &m)) == 0)
				r = parse_keys(ps, &sub, k->name, key, ps->p, -1, m.val);
		} else if (k->kind == SS_KEY_DRIVERS) {
			r = parse_drivers(ps, it, &m);
		} else {
			r = read_value(ps, it, k, key, &m, base, driver_index);
		}
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	for (int i = 0; i < nk; i++) {
		const struct ss_profile_key *k = keys[i];
		if (!k->required || (seen & (1u << i)))
			continue;
		char key[160];
		const struct ss_profile_key *first = NULL;
		if (k->kind == SS_KEY_SECTION)   /* name the key it needs, as in listener.distance */
			for (const struct ss_profile_key *q = ss_profile_keys; q->name && first == NULL; q++)
				if (strcmp(q->section, k->name) == 0 && q->required)
					first = q;
		snprintf(key, sizeof(key), "%s%s%s%s%s", path, *path ? "." : "", k->name, first ? "." : "",
				first ? first->name : "");
		return fail_at(ps, at, key, "missing; expected %s", k->missing);
	}
	return 0;
}

static int parse_driver(struct parser *ps, struct spa_json *it, const char *v, int vlen, int index)
{
	char path[32];
	struct spa_json sub;
	snprintf(path, sizeof(path), "drivers[%d]", index);
	if (!tok_is_object(v, vlen))
		return fail_at(ps, v, path, "expected a driver object { name = ... channel = ... position = [...] "
				"axis = [...] band = [...] }, got %s", tok_kind(v, vlen));
	spa_json_enter(it, &sub);
	return parse_keys(ps, &sub, "driver", path, &ps->p->drivers[index], index, v);
}

static int parse_drivers(struct parser *ps, struct spa_json *it, const struct member *pm)
{
	struct spa_json sub;
	const char *v;
	int vlen, n = 0;
	if (!tok_is_array(pm->val, pm->vlen))
		return fail_at(ps, pm->val, "drivers", "expected an array of driver objects [ { ... } ... ], got %s",
				tok_kind(pm->val, pm->vlen));
	ps->p->src_drivers = srcpos(ps, pm->val);
	spa_json_enter(it, &sub);
	while ((vlen = spa_json_next(&sub, &v)) > 0) {
		if (n >= SS_MAX_DRIVERS)
			return fail_at(ps, v, "drivers", "expected at most %d drivers", SS_MAX_DRIVERS);
		ss_driver_apply_defaults(&ps->p->drivers[n]);
		int r = parse_driver(ps, &sub, v, vlen, n);
		if (r < 0)
			return r;
		n++;
	}
	if (vlen < 0)
		return syntax_error(ps, &sub, "drivers");
	if (n == 0)
		return fail_at(ps, pm->val, "drivers", "expected at least one driver");
	ps->p->n_drivers = n;
	return 0;
}

int ss_profile_block(const struct ss_profile *p)
{
	if (p->design.block > 0)
		return p->design.block;
	return p->design.low_latency ? 64 : 256;
}

void ss_profile_defaults(struct ss_profile *p)
{
	memset(p, 0, sizeof(*p));
	ss_profile_apply_defaults(p);
}

int ss_profile_parse(struct ss_profile *p, const char *filename, const char *text, size_t len,
		struct ss_error *err)
{
	struct parser ps = { .file = filename ? filename : "<profile>", .text = text, .len = len, .err = err, .p = p };
	struct spa_json it;
	int r;

	ss_profile_defaults(p);
	snprintf(p->path, sizeof(p->path), "%s", ps.file);
	if (err)
		memset(err, 0, sizeof(*err));
	/* a UTF-8 byte-order mark (some Windows editors write one) is not part of the profile */
	if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
			(unsigned char)text[2] == 0xBF) {
		text += 3;
		len -= 3;
		ps.text = text;
		ps.len = len;
	}

	r = spa_json_begin_object_relax(&it, text, len);
	if (r < 0) {
		if (r == -EINVAL || r == -EPROTO)
			return fail_at(&ps, text, "", "expected the profile to be an object of key = value pairs");
		return syntax_error(&ps, &it, "");
	}
	if ((r = parse_keys(&ps, &it, "", "", p, -1, NULL)) < 0)
		return r;
	return ss_profile_validate(p, err);
}

/* A file-level failure (no line): the profile gets its defaults and the path, `err` the message. */
static int load_failure(struct ss_profile *p, const char *path, struct ss_error *err, int res, const char *fmt, ...)
{
	struct ss_error tmp;
	va_list ap;
	char what[512];
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	ss_profile_defaults(p);
	snprintf(p->path, sizeof(p->path), "%s", path);
	fail_pos(p, err ? err : &tmp, (struct ss_srcpos){ 0, 0 }, "", "%s", what);
	return res;
}

int ss_profile_load(struct ss_profile *p, const char *path, struct ss_error *err)
{
	/* O_NONBLOCK: a FIFO (or a device) at the path must not hang the caller in open(); only a regular file is read */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0) {
		int e = errno;
		return load_failure(p, path, err, -e, "cannot open: %s", strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return load_failure(p, path, err, -e, "cannot stat: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return load_failure(p, path, err, -EINVAL, "not a regular file (a %s); expected a profile file",
				S_ISDIR(st.st_mode) ? "directory" : S_ISFIFO(st.st_mode) ? "FIFO" : S_ISSOCK(st.st_mode) ?
				"socket" : "device");
	}
	if (st.st_size > (1 << 20)) {
		close(fd);
		return load_failure(p, path, err, -EFBIG, "%lld bytes; expected a profile of at most 1 MiB",
				(long long)st.st_size);
	}
	size_t n = (size_t)st.st_size, got = 0;
	char *buf = malloc(n + 1);
	if (buf == NULL) {
		close(fd);
		return load_failure(p, path, err, -ENOMEM, "out of memory reading %zu bytes", n);
	}
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return load_failure(p, path, err, -e, "read error: %s", r < 0 ? strerror(e) : "file shrank");
		}
		got += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	int r = ss_profile_parse(p, path, buf, n, err);
	free(buf);
	return r;
}

static double dist3(const double *a, const double *b)
{
	double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
	return sqrt(dx * dx + dy * dy + dz * dz);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int ss_profile_validate(const struct ss_profile *p, struct ss_error *err)
{
	char key[128];
	if (p->n_drivers < 1)
		return fail_pos(p, err, p->src_drivers, "drivers", "expected at least one driver");
	for (int i = 0; i < p->n_drivers; i++) {
		const struct ss_driver *d = &p->drivers[i];
		double head[3] = { -p->listener_distance, 0, 0 };
		/* the head centre relative to the device centre is [-D 0 0] */
		for (int j = 0; j < i; j++) {
			const struct ss_driver *e = &p->drivers[j];
			if (strcmp(d->name, e->name) == 0) {
				snprintf(key, sizeof(key), "drivers[%d].name", i);
				return fail_pos(p, err, p->src_driver_position[i], key,
						"expected a unique name; '%s' is also drivers[%d]", d->name, j);
			}
			if (strcmp(d->channel, e->channel) == 0) {
				snprintf(key, sizeof(key), "drivers[%d].channel", i);
				return fail_pos(p, err, p->src_driver_channel[i], key,
						"expected a unique channel; %s is also used by '%s'", d->channel, e->name);
			}
			if (dist3(d->position, e->position) < 0.01) {
				snprintf(key, sizeof(key), "drivers[%d].position", i);
				return fail_pos(p, err, p->src_driver_position[i], key,
						"coincident drivers: '%s' is %.1f mm from '%s'; expected at least 10 mm "
						"between driver centres", d->name, 1000.0 * dist3(d->position, e->position),
						e->name);
			}
		}
		if (d->band[0] >= 0.45 * p->sample_rate) {
			snprintf(key, sizeof(key), "drivers[%d].band", i);
			return fail_pos(p, err, p->src_driver_band[i], key,
					"the band starts at %g Hz, at or above what sample-rate = %g Hz can carry (%g Hz); "
					"expected a band below that, or a higher sample-rate", d->band[0], p->sample_rate,
					0.45 * p->sample_rate);
		}
		if (dist3(d->position, head) < 0.25 || d->position[0] <= -p->listener_distance + 0.15) {
			return fail_pos(p, err, p->src_listener_distance, "listener.distance",
					"listener inside the device: driver '%s' is %.2f m from the head centre; expected "
					"the listener in front of every driver, at least 0.25 m away", d->name,
					dist3(d->position, head));
		}
	}

	/* The drivers' bands, put together, must cover one contiguous range. */
	{
		double lo[SS_MAX_DRIVERS][2];
		int order[SS_MAX_DRIVERS];
		double reach;
		for (int i = 0; i < p->n_drivers; i++) {
			lo[i][0] = p->drivers[i].band[0];
			lo[i][1] = i;
		}
		qsort(lo, (size_t)p->n_drivers, sizeof(lo[0]), cmp_double);
		for (int i = 0; i < p->n_drivers; i++)
			order[i] = (int)lo[i][1];
		reach = p->drivers[order[0]].band[1];
		for (int i = 1; i < p->n_drivers; i++) {
			const struct ss_driver *d = &p->drivers[order[i]];
			if (d->band[0] > reach * 1.0001) {
				snprintf(key, sizeof(key), "drivers[%d].band", order[i]);
				return fail_pos(p, err, p->src_driver_band[order[i]], key,
						"no driver covers %g..%g Hz; expected the drivers' bands to join up", reach,
						d->band[0]);
			}
			if (d->band[1] > reach)
				reach = d->band[1];
		}
	}

	if (p->beam.enabled && !isnan(p->beam.band[0])) {
		int n = 0;
		double ys[SS_MAX_DRIVERS], gap = 0.0;
		for (int i = 0; i < p->n_drivers; i++) {
			const struct ss_driver *d = &p->drivers[i];
			if (d->band[0] <= p->beam.band[0] && d->band[1] >= p->beam.band[1])
				ys[n++] = d->position[1];
		}
		if (n < 2)
			return fail_pos(p, err, p->src_beam_band, "beam.band",
					"%d driver(s) cover all of %g..%g Hz; expected at least two for a beam (narrow the "
					"band or set beam = { enabled = false })", n, p->beam.band[0], p->beam.band[1]);
		qsort(ys, (size_t)n, sizeof(double), cmp_double);
		double span = ys[n - 1] - ys[0];
		for (int i = 1; i < n; i++)
			if (ys[i] - ys[i - 1] > gap)
				gap = ys[i] - ys[i - 1];
		if (span < 0.01)
			return fail_pos(p, err, p->src_beam_band, "beam.band",
					"the drivers covering %g..%g Hz have no lateral spread (all at y = %.3f m); "
					"expected drivers spread across y to steer nulls to the sides", p->beam.band[0],
					p->beam.band[1], ys[0]);
		double f_alias = SS_SPEED_OF_SOUND / (2.0 * gap);
		if (p->beam.band[1] > f_alias * 1.0001)
			return fail_pos(p, err, p->src_beam_band, "beam.band",
					"%g Hz is above the spatial-aliasing limit %.0f Hz of drivers %.3f m apart; "
					"expected hi <= %.0f Hz", p->beam.band[1], f_alias, gap, floor(f_alias));
	}
	return 0;
}

double ss_curve_eval(const struct ss_curve *c, double f)
{
	if (c->n <= 0)
		return 0.0;
	if (f <= c->freq[0])
		return c->db[0];
	if (f >= c->freq[c->n - 1])
		return c->db[c->n - 1];
	for (int i = 1; i < c->n; i++) {
		if (f <= c->freq[i]) {
			double t = log(f / c->freq[i - 1]) / log(c->freq[i] / c->freq[i - 1]);
			return c->db[i - 1] + t * (c->db[i] - c->db[i - 1]);
		}
	}
	return c->db[c->n - 1];
}

int ss_profile_find_channel(const struct ss_profile *p, const char *channel)
{
	for (int i = 0; i < p->n_drivers; i++)
		if (strcmp(p->drivers[i].channel, channel) == 0)
			return i;
	return -1;
}
