/* Profile parser: the reference profiles load; broken ones give FILE:LINE:COL: key: expected ... */
#define _DEFAULT_SOURCE   /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "profile.h"
#include "profile-schema.h"

#ifndef PROFILE_DIR
#error PROFILE_DIR must be defined
#endif

static const char *const good_driver =
	"{ name = a channel = AUX0 position = [ 0 0.07 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] }\n"
	"{ name = b channel = AUX1 position = [ 0 -0.07 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] }\n";

static void load_reference(void **state)
{
	const char *names[] = { "stereo-pair", "compact-pair", "studio-5", "soundbar-4", "array-16" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[512];
		struct ss_profile p;
		struct ss_error err;
		snprintf(path, sizeof(path), "%s/%s.conf", PROFILE_DIR, names[i]);
		int r = ss_profile_load(&p, path, &err);
		if (r < 0)
			fail_msg("%s", err.msg);
		assert_string_equal(p.name, names[i]);
		assert_true(p.n_drivers >= 2);
	}
}

static void defaults_filled(void **state)
{
	char text[2048];
	struct ss_profile p;
	struct ss_error err;
	snprintf(text, sizeof(text), "listener = { distance = 2.0 }\ndrivers = [\n%s]\nbeam = { enabled = false }\n",
			good_driver);
	assert_int_equal(ss_profile_parse(&p, "t.conf", text, strlen(text), &err), 0);
	assert_true(p.upmix.enabled);
	assert_true(p.virtualizer.enabled);
	assert_float_equal(p.virtualizer.angle_deg, 30.0, 1e-12);
	assert_float_equal(p.ctc.effort_db, 10.0, 1e-12);
	assert_float_equal(p.sample_rate, 48000.0, 1e-12);
	assert_float_equal(p.drivers[1].position[1], -0.07, 1e-12);
	assert_float_equal(p.drivers[0].axis[0], -1.0, 1e-12);
}

struct broken {
	const char *what;
	const char *text;
	const char *expect; /* substring of the message, which starts with FILE:LINE:COL */
	int line, col;
};

static void broken_profiles(void **state)
{
	static char buf[20][2048];
	const struct broken cases[] = {
		{ "syntax: unclosed object", "listener = { distance = 2.0\n", "syntax error", 0, 0 },
		{ "typo in a key", "listener = { distanse = 2.0 }\n", "listener.distanse: unknown key (did you mean 'distance'?)", 1, 14 },
		{ "unknown top-level key", "listner = { distance = 2.0 }\n", "unknown key (did you mean 'listener'?)", 1, 1 },
		{ "wrong type", "listener = { distance = \"far\" }\n", "listener.distance: expected a number in 0.3..20 m, got a string", 1, 25 },
		{ "out of range", "listener = { distance = 55 }\n", "listener.distance: expected a number in 0.3..20 m, got 55", 1, 25 },
		{ "missing drivers", "listener = { distance = 2 }\n", "drivers: missing", 0, 0 },
		{ "vector too short", "listener = { distance = 2 }\ndrivers = [ { name = a channel = AUX0 position = [ 0 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] } ]\n",
			"drivers[0].position: expected exactly 3 numbers", 2, 50 },
		{ "band reversed", "listener = { distance = 2 }\ndrivers = [ { name = a channel = AUX0 position = [ 0 0 0 ] axis = [ -1 0 0 ] band = [ 2000 100 ] } ]\n",
			"drivers[0].band: expected [lo hi] with hi above lo", 2, 85 },
		{ "zero axis", "listener = { distance = 2 }\ndrivers = [ { name = a channel = AUX0 position = [ 0 0 0 ] axis = [ 0 0 0 ] band = [ 100 2000 ] } ]\n",
			"drivers[0].axis: expected a non-zero direction vector", 2, 67 },
		{ "missing band", "listener = { distance = 2 }\ndrivers = [ { name = a channel = AUX0 position = [ 0 0 0 ] axis = [ -1 0 0 ] } ]\n",
			"drivers[0].band: missing; expected [lo hi] in Hz", 2, 13 },
		{ "coincident drivers", "listener = { distance = 2 }\ndrivers = [\n{ name = a channel = AUX0 position = [ 0 0.05 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] }\n{ name = b channel = AUX1 position = [ 0 0.052 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] } ]\nbeam = { enabled = false }\n",
			"drivers[1].position: coincident drivers", 4, 38 },
		{ "listener inside the device", "listener = { distance = 0.3 }\ndrivers = [\n{ name = a channel = AUX0 position = [ -0.2 0.05 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] }\n{ name = b channel = AUX1 position = [ 0 -0.05 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] } ]\nbeam = { enabled = false }\n",
			"listener.distance: listener inside the device", 1, 25 },
		{ "band gap", "listener = { distance = 2 }\ndrivers = [\n{ name = a channel = AUX0 position = [ 0 0.05 0 ] axis = [ -1 0 0 ] band = [ 100 1000 ] }\n{ name = b channel = AUX1 position = [ 0 -0.05 0 ] axis = [ -1 0 0 ] band = [ 3000 20000 ] } ]\nbeam = { enabled = false }\n",
			"drivers[1].band: no driver covers 1000..3000 Hz", 4, 77 },
		{ "beam band above aliasing", "listener = { distance = 2 }\ndrivers = [\n{ name = a channel = AUX0 position = [ 0 0.2 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] }\n{ name = b channel = AUX1 position = [ 0 -0.2 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] } ]\nbeam = { band = [ 1000 4000 ] }\n",
			"beam.band: 4000 Hz is above the spatial-aliasing limit 429 Hz", 5, 17 },
		{ "duplicate channel", "listener = { distance = 2 }\ndrivers = [\n{ name = a channel = AUX0 position = [ 0 0.05 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] }\n{ name = b channel = AUX0 position = [ 0 -0.05 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] } ]\nbeam = { enabled = false }\n",
			"drivers[1].channel: expected a unique channel", 4, 22 },
		{ "bad directivity word", "listener = { distance = 2 }\ndrivers = [ { name = a channel = AUX0 position = [ 0 0 0 ] axis = [ -1 0 0 ] band = [ 100 2000 ] directivity = horn } ]\n",
			"drivers[0].directivity: expected \"point\" or \"piston\", got \"horn\"", 2, 112 },
		{ "engine block not a power of two", "listener = { distance = 2 }\ndesign = { block = 200 }\n",
			"design.block: expected a power of two in 64..1024 samples (at 48 kHz), got 200", 2, 20 },
		{ "a number too large for a double", "listener = { distance = 1e999 }\n",
			"listener.distance: expected a number in 0.3..20 m, got 1e999 (out of range for a number)", 1, 25 },
		{ "hexadecimal", "listener = { distance = 0x2 }\n",
			"listener.distance: expected a number in 0.3..20 m, got a", 1, 25 },
		{ "sample rate too low for speakers", "sample-rate = 8000\nlistener = { distance = 2 }\n",
			"sample-rate: expected a number in 32000..384000 Hz, got 8000", 1, 15 },
		{ "a band the sample rate cannot carry", "sample-rate = 32000\nlistener = { distance = 2 }\ndrivers = [ { name = a channel = AUX0 position = [ 0 0 0 ] axis = [ -1 0 0 ] band = [ 15000 20000 ] } ]\n",
			"drivers[0].band: the band starts at 15000 Hz, at or above what sample-rate = 32000 Hz can carry", 3, 85 },
		{ "robustness word", "listener = { distance = 2 }\nctc = { robust = always }\n",
			"ctc.robust: expected \"auto\", \"none\" or \"position\", got \"always\"", 2, 18 },
		{ "latency word", "listener = { distance = 2 }\ndesign = { latency = fast }\n",
			"design.latency: expected \"normal\" or \"low\", got \"fast\"", 2, 22 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_profile p;
		struct ss_error err;
		int r = ss_profile_parse(&p, "broken.conf", cases[i].text, strlen(cases[i].text), &err);
		if (r >= 0)
			fail_msg("case '%s' parsed without error", cases[i].what);
		if (strncmp(err.msg, "broken.conf:", 12) != 0 || strstr(err.msg, cases[i].expect) == NULL)
			fail_msg("case '%s': message '%s' lacks '%s'", cases[i].what, err.msg, cases[i].expect);
		if (cases[i].line > 0) {
			char pos[64];
			snprintf(pos, sizeof(pos), "broken.conf:%d:%d: ", cases[i].line, cases[i].col);
			if (strncmp(err.msg, pos, strlen(pos)) != 0)
				fail_msg("case '%s': message '%s' does not start with '%s'", cases[i].what, err.msg, pos);
		}
		(void)buf;
	}
}

static void missing_file(void **state)
{
	struct ss_profile p;
	struct ss_error err;
	assert_true(ss_profile_load(&p, "/nonexistent/dir/x.conf", &err) < 0);
	assert_non_null(strstr(err.msg, "/nonexistent/dir/x.conf"));
	assert_non_null(strstr(err.msg, "cannot open"));
}

/* A FIFO, a directory or a device at the profile path is refused at once (a FIFO used to hang the parser in
 * open() until someone wrote to it), with the path in the message. */
static void not_a_regular_file(void **state)
{
	char dir[] = "/tmp/soundstage-profile-XXXXXX", fifo[600];
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo.conf", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	const char *paths[] = { fifo, dir, "/dev/zero" };
	const char *expect[] = { "not a regular file (a FIFO)", "not a regular file (a directory)",
		"not a regular file (a device)" };
	for (int i = 0; i < 3; i++) {
		struct ss_profile p;
		struct ss_error err;
		/* a FIFO with no writer would block a blocking open() forever: the test would hang, not fail */
		assert_true(ss_profile_load(&p, paths[i], &err) < 0);
		print_message("%s\n", err.msg);
		assert_non_null(strstr(err.msg, paths[i]));
		assert_non_null(strstr(err.msg, expect[i]));
	}
	unlink(fifo);
	rmdir(dir);
}

/* A UTF-8 byte-order mark before the first key is skipped: the profile loads, and positions count from after it. */
static void byte_order_mark(void **state)
{
	struct ss_profile p;
	struct ss_error err;
	const char text[] = "\xEF\xBB\xBFlistener = { distance = 2.5 }\ndrivers = [ { name = a channel = AUX0 "
		"position = [ 0 0 0 ] axis = [ -1 0 0 ] band = [ 100 20000 ] } ]\nbeam = { enabled = false }\n";
	assert_int_equal(ss_profile_parse(&p, "bom.conf", text, strlen(text), &err), 0);
	assert_true(p.listener_distance == 2.5);
	const char bad[] = "\xEF\xBB\xBFlistener = { distanse = 2.5 }\n";
	assert_true(ss_profile_parse(&p, "bom.conf", bad, strlen(bad), &err) < 0);
	assert_non_null(strstr(err.msg, "bom.conf:1:14: listener.distanse"));
}

static char *json_of(const struct ss_profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	ss_profile_write_json(p, f, 0);
	fclose(f);
	return buf;
}

/* parse -> JSON -> parse gives the same profile, for every shipped and maker profile (JSON is SPA-JSON too): the JSON
 * written again is the same text, and the diff between the two profiles finds nothing. */
static void json_round_trip(void **state)
{
	const char *dirs[] = { PROFILE_DIR, MAKER_PROFILE_DIR };
	int n = 0;
	for (int d = 0; d < 2; d++) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "ls '%s'/*.conf", dirs[d]);
		FILE *ls = popen(cmd, "r");
		char path[512];
		while (fgets(path, sizeof(path), ls)) {
			path[strcspn(path, "\n")] = '\0';
			struct ss_profile a, b;
			struct ss_error err;
			if (ss_profile_load(&a, path, &err) < 0)
				fail_msg("%s", err.msg);
			char *ja = json_of(&a);
			if (ss_profile_parse(&b, "round-trip.json", ja, strlen(ja), &err) < 0)
				fail_msg("%s does not read back: %s\n%s", path, err.msg, ja);
			char *jb = json_of(&b);
			if (strcmp(ja, jb) != 0)
				fail_msg("%s: JSON differs after a round trip:\n%s\n---\n%s", path, ja, jb);
			char changed[512];
			assert_int_equal(ss_profile_diff(&a, &b, changed, sizeof(changed)), SS_EFFECT_NONE);
			assert_string_equal(changed, "");
			assert_int_equal(a.n_drivers, b.n_drivers);
			for (int i = 0; i < a.n_drivers; i++)
				assert_memory_equal(a.drivers[i].axis, b.drivers[i].axis, sizeof(a.drivers[i].axis));
			free(ja);
			free(jb);
			n++;
		}
		pclose(ls);
	}
	print_message("JSON round trip: %d profiles\n", n);
	assert_true(n >= 10);
}

/* What a saved edit needs: the largest effect among the keys that changed, and their names. */
static void diff_effects(void **state)
{
	struct ss_profile a, b;
	struct ss_error err;
	char path[512], changed[512];
	snprintf(path, sizeof(path), "%s/studio-5.conf", PROFILE_DIR);
	assert_int_equal(ss_profile_load(&a, path, &err), 0);
	b = a;
	assert_int_equal(ss_profile_diff(&a, &b, changed, sizeof(changed)), SS_EFFECT_NONE);
	snprintf(b.description, sizeof(b.description), "renamed");
	assert_int_equal(ss_profile_diff(&a, &b, changed, sizeof(changed)), SS_EFFECT_RENAME);
	assert_string_equal(changed, "description");
	snprintf(b.output.target, sizeof(b.output.target), "alsa_output.usb-Example");
	assert_int_equal(ss_profile_diff(&a, &b, changed, sizeof(changed)), SS_EFFECT_RECONNECT);
	assert_string_equal(changed, "description, output.target");
	b.drivers[1].band[0] = 300.0;
	b.ctc.effort_db = 12.0;
	assert_int_equal(ss_profile_diff(&a, &b, changed, sizeof(changed)), SS_EFFECT_REDESIGN);
	assert_string_equal(changed, "description, drivers[1].band, ctc.effort, output.target");
	b = a;
	b.n_drivers--;
	assert_int_equal(ss_profile_diff(&a, &b, changed, sizeof(changed)), SS_EFFECT_REDESIGN);
	assert_string_equal(changed, "drivers");
}

/* The README's key list is `soundstage profile --keys`, i.e. the schema: every row of one is in the other. */
static void readme_lists_the_keys(void **state)
{
	char *keys = NULL, readme_path[600];
	size_t len = 0;
	FILE *f = open_memstream(&keys, &len);
	ss_profile_write_keys(f);
	fclose(f);
	snprintf(readme_path, sizeof(readme_path), "%s/../../README.md", PROFILE_DIR);
	FILE *r = fopen(readme_path, "r");
	assert_non_null(r);
	static char readme[1 << 17];
	size_t n = fread(readme, 1, sizeof(readme) - 1, r);
	readme[n] = '\0';
	fclose(r);
	if (strstr(readme, keys) == NULL)
		fail_msg("README.md's profile key list is not `soundstage profile --keys`; paste it again:\n%s", keys);
	free(keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load_reference),
		cmocka_unit_test(defaults_filled),
		cmocka_unit_test(broken_profiles),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(not_a_regular_file),
		cmocka_unit_test(byte_order_mark),
		cmocka_unit_test(json_round_trip),
		cmocka_unit_test(diff_effects),
		cmocka_unit_test(readme_lists_the_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
