/* The `soundstage` command as users run it: render (output layout, --quantum independence, --tap upmix against
 * the engine's own upmix tap in process), profile --json and design --json (strict JSON, the keys the issue
 * lists), and its errors (a broken profile names FILE:LINE:COL; a missing input names the file). */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "design/design.h"
#include "filterset.h"
#include "engine/engine.h"
#include "profile.h"
#include "signal_file.h"

static char dir[] = "/tmp/soundstage-cli-XXXXXX";

/* Run a command, capture stdout+stderr; returns the exit status. */
static int run(char *out, size_t size, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- a strict JSON validator (RFC 8259 grammar; no extensions) ---- */
static const char *ws(const char *s) { while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++; return s; }
static const char *value(const char *s, int depth);
static const char *string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	while (*s && *s != '"') {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)s[i]))
						return NULL;
				s += 4;
			} else if (!strchr("\"\\/bfnrt", *s)) {
				return NULL;
			}
		}
		s++;
	}
	return *s == '"' ? s + 1 : NULL;
}
static const char *number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (isdigit((unsigned char)*s))
		while (isdigit((unsigned char)*s)) s++;
	else
		return NULL;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return NULL;
		while (isdigit((unsigned char)*s)) s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return NULL;
		while (isdigit((unsigned char)*s)) s++;
	}
	return s;
}
static const char *value(const char *s, int depth)
{
	s = ws(s);
	if (depth > 64)
		return NULL;
	if (*s == '{' || *s == '[') {
		char close = *s == '{' ? '}' : ']';
		bool obj = *s == '{';
		s = ws(s + 1);
		if (*s == close)
			return s + 1;
		for (;;) {
			if (obj) {
				if (!(s = string(ws(s))) || *(s = ws(s)) != ':')
					return NULL;
				s++;
			}
			if (!(s = value(s, depth + 1)))
				return NULL;
			s = ws(s);
			if (*s == ',')
				s++;
			else if (*s == close)
				return s + 1;
			else
				return NULL;
		}
	}
	if (*s == '"')
		return string(s);
	if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	return number(s);
}
static bool strict_json(const char *text)
{
	const char *end = value(text, 0);
	return end != NULL && *ws(end) == '\0';
}

static void json_validator_itself(void **state)
{
	assert_true(strict_json("{ \"a\": [1, -2.5e3, true, null, \"x\\n\"], \"b\": {} }"));
	assert_false(strict_json("{ a: 1 }"));           /* SPA-JSON, not JSON */
	assert_false(strict_json("[1, 2,]"));
	assert_false(strict_json("{ \"a\": nan }"));
	assert_false(strict_json("{ \"a\": 01 }"));
	assert_false(strict_json("{ \"a\": 1 } x"));
}

static void profile_and_design_json(void **state)
{
	static char out[1 << 16];
	const char *names[] = { "stereo-pair", "compact-pair", "studio-5", "soundbar-4" };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(run(out, sizeof(out), "'%s' profile --json '%s/%s.conf' 2>&1", SOUNDSTAGE_EXE, PROFILE_DIR,
				names[i]), 0);
		assert_true(strict_json(out));
		const char *keys[] = { "\"drivers\"", "\"position\"", "\"axis\"", "\"band\"", "\"sample-rate\"",
			"\"latency\"", "\"peak-effort-db\"", "\"upmix\"", "\"virtualizer\"", "\"ctc\"", "\"beam\"",
			"\"output\"", "\"design\"" };
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strstr(out, keys[k]))
				fail_msg("%s: profile --json has no %s", names[i], keys[k]);
		assert_int_equal(run(out, sizeof(out), "'%s' design --json '%s/%s.conf' 2>&1", SOUNDSTAGE_EXE, PROFILE_DIR,
				names[i]), 0);
		assert_true(strict_json(out));
		assert_non_null(strstr(out, "\"separation\""));
		assert_non_null(strstr(out, "\"virtual-source\""));
	}
	print_message("profile --json and design --json: strict JSON for the 4 reference profiles\n");
}

/* render: one channel per driver at the input's rate; --quantum 37 equals --quantum 1024; --tap upmix equals
 * the engine's upmix tap run here at the same quantum. */
static void render_outputs(void **state)
{
	static char out[8192];
	char in[600], a[600], b[600], tap[600], prof[600];
	snprintf(in, sizeof(in), "%s/in.wav", dir);
	snprintf(a, sizeof(a), "%s/a.wav", dir);
	snprintf(b, sizeof(b), "%s/b.wav", dir);
	snprintf(tap, sizeof(tap), "%s/tap.wav", dir);
	snprintf(prof, sizeof(prof), "%s/studio-5.conf", PROFILE_DIR);
	assert_int_equal(run(out, sizeof(out), "'%s' programme --seconds 1.5 --rate 44100 '%s' 2>&1", SOUNDSTAGE_EXE,
			in), 0);
	assert_int_equal(run(out, sizeof(out), "'%s' render --profile '%s' --quantum 1024 '%s' '%s' 2>&1",
			SOUNDSTAGE_EXE, prof, in, a), 0);
	assert_int_equal(run(out, sizeof(out), "'%s' render --profile '%s' --quantum 37 '%s' '%s' 2>&1",
			SOUNDSTAGE_EXE, prof, in, b), 0);
	assert_int_equal(run(out, sizeof(out), "'%s' render --profile '%s' --quantum 37 --tap upmix '%s' '%s' 2>&1",
			SOUNDSTAGE_EXE, prof, in, tap), 0);
	struct wav x, wa, wb, wt;
	assert_int_equal(wav_load(in, &x), 0);
	assert_int_equal(wav_load(a, &wa), 0);
	assert_int_equal(wav_load(b, &wb), 0);
	assert_int_equal(wav_load(tap, &wt), 0);
	assert_int_equal(wa.channels, 5);
	assert_int_equal(wa.rate, 44100);
	assert_int_equal(wt.channels, 3);
	assert_int_equal(wa.frames, x.frames);
	double md = 0, pk = 0;
	for (long i = 0; i < wa.frames * wa.channels; i++) {
		md = fmax(md, fabs(wa.data[i] - wb.data[i]));
		pk = fmax(pk, fabs(wa.data[i]));
	}
	print_message("render at 44.1 kHz: 5 channels; quantum 37 vs 1024 max difference %.3g (peak %.3f)\n", md, pk);
	assert_true(pk > 0.05 && md <= 1e-5);

	/* the same upmix tap in process */
	struct ss_profile p;
	struct ss_error err;
	struct ss_filterset *fs;
	assert_int_equal(ss_profile_load(&p, prof, &err), 0);
	assert_int_equal(ss_design(&p, 44100.0, NULL, &fs, &err), 0);
	struct ss_engine *e = ss_engine_new(fs);
	float *l = malloc(sizeof(float) * (size_t)x.frames), *r = malloc(sizeof(float) * (size_t)x.frames);
	float *y = malloc(sizeof(float) * 3 * (size_t)x.frames);
	for (long t = 0; t < x.frames; t++) {
		l[t] = x.data[2 * t];
		r[t] = x.data[2 * t + 1];
	}
	for (long t = 0; t < x.frames; t += 37) {
		uint32_t q = (uint32_t)(x.frames - t < 37 ? x.frames - t : 37);
		float *o[3] = { y + t, y + x.frames + t, y + 2 * x.frames + t };
		ss_engine_process_upmix(e, l + t, r + t, o, q);
	}
	md = 0;
	pk = 0;
	for (long t = 0; t < x.frames; t++)
		for (int c = 0; c < 3; c++) {
			md = fmax(md, fabs(wt.data[t * 3 + c] - y[c * x.frames + t]));
			pk = fmax(pk, fabs(y[c * x.frames + t]));
		}
	print_message("render --tap upmix: 3 channels, max difference from the engine's tap in process %.3g (peak %.3f)\n",
			md, pk);
	assert_true(pk > 0.05 && md <= 1e-6);
	ss_engine_free(e);
	ss_filterset_free(fs);
	free(l);
	free(r);
	free(y);
	wav_free(&x);
	wav_free(&wa);
	wav_free(&wb);
	wav_free(&wt);
}

/* One second of the same chirp on both channels at `rate` Hz: one microphone recorded twice. */
static void two_channels(const char *path, int rate)
{
	struct wav w = { .rate = rate, .channels = 2, .frames = rate };
	w.data = calloc(2 * (size_t)w.frames, sizeof(float));
	assert_non_null(w.data);
	for (long t = 0; t < w.frames; t++)
		w.data[2 * t] = w.data[2 * t + 1] = (float)(0.1 * sin(0.05 * (double)t * (double)t / w.frames));
	assert_int_equal(wav_save(path, &w, -1), 0);
	wav_free(&w);
}

static void errors_name_the_file(void **state)
{
	static char out[8192];
	char bad[600], in[600];
	snprintf(bad, sizeof(bad), "%s/broken.conf", dir);
	snprintf(in, sizeof(in), "%s/in.wav", dir);
	FILE *f = fopen(bad, "w");
	assert_non_null(f);
	fputs("listener = { distance = 2 }\ndrivers = [ { name = a channel = AUX0 position = [ 0 0 0 ] axis = [ -1 0 0 ] "
			"band = [ 100 \"high\" ] } ]\n", f);
	fclose(f);
	assert_int_not_equal(run(out, sizeof(out), "'%s' render --profile '%s' '%s' '%s/x.wav' 2>&1", SOUNDSTAGE_EXE,
			bad, in, dir), 0);
	print_message("broken profile: %s", out);
	assert_non_null(strstr(out, "broken.conf:2:"));
	assert_non_null(strstr(out, "drivers[0].band[1]"));
	assert_int_not_equal(run(out, sizeof(out), "'%s' render --profile '%s/studio-5.conf' '%s/missing.wav' "
			"'%s/x.wav' 2>&1", SOUNDSTAGE_EXE, PROFILE_DIR, dir, dir), 0);
	print_message("missing input: %s", out);
	assert_non_null(strstr(out, "missing.wav"));
	/* verify's options: a side microphone too close to the front one, a level out of range */
	assert_int_equal(run(out, sizeof(out), "'%s' verify --profile '%s/studio-5.conf' --beam 5 --probe-out '%s/p.wav' "
			"2>&1", SOUNDSTAGE_EXE, PROFILE_DIR, dir), 2);
	print_message("verify --beam 5: %s", out);
	assert_non_null(strstr(out, "--beam 5: expected the side microphone's azimuth"));
	assert_int_equal(run(out, sizeof(out), "'%s' verify --profile '%s/studio-5.conf' --level 3 --probe-out '%s/p.wav' "
			"2>&1", SOUNDSTAGE_EXE, PROFILE_DIR, dir), 2);
	assert_non_null(strstr(out, "expected --level auto or -60..0 dBFS"));
	/* a recording made at another rate than the probe's */
	char rec[600];
	snprintf(rec, sizeof(rec), "%s/ears-44k.wav", dir);
	two_channels(rec, 44100);
	assert_int_equal(run(out, sizeof(out), "'%s' verify --profile '%s/studio-5.conf' --recording '%s' 2>&1",
			SOUNDSTAGE_EXE, PROFILE_DIR, rec), 1);
	print_message("verify, a 44.1 kHz recording: %s", out);
	assert_non_null(strstr(out, "ears-44k.wav is at 44100 Hz, the probe at 48000 Hz (--rate)"));
	/* the beam from one microphone on both channels */
	snprintf(rec, sizeof(rec), "%s/one-mic.wav", dir);
	two_channels(rec, 48000);
	assert_int_equal(run(out, sizeof(out), "'%s' verify --profile '%s/studio-5.conf' --beam 90 --recording '%s' 2>&1",
			SOUNDSTAGE_EXE, PROFILE_DIR, rec), 1);
	print_message("verify --beam, one microphone: %s", out);
	assert_non_null(strstr(out, "--beam needs two microphones"));
}

/* A WAV cut off mid-data (its header promises three times what is there) renders what is there, and says so. */
static void truncated_input_warns(void **state)
{
	static char out[8192];
	char in[600], cut[600], rendered[600];
	snprintf(in, sizeof(in), "%s/whole.wav", dir);
	snprintf(cut, sizeof(cut), "%s/cut.wav", dir);
	snprintf(rendered, sizeof(rendered), "%s/cut-out.wav", dir);
	struct wav w = { 48000, 2, 24000, calloc(48000, sizeof(float)) };
	assert_non_null(w.data);
	for (long i = 0; i < 48000; i++)
		w.data[i] = (float)(0.3 * sin(0.05 * (double)i));
	assert_int_equal(wav_save(in, &w, -1), 0);
	wav_free(&w);
	/* the first third of the file: the whole header, a third of the data */
	assert_int_equal(run(out, sizeof(out), "head -c $(( $(stat -c %%s '%s') / 3 )) '%s' > '%s'", in, in, cut), 0);
	assert_int_equal(run(out, sizeof(out), "'%s' render --profile '%s/stereo-pair.conf' '%s' '%s' 2>&1",
			SOUNDSTAGE_EXE, PROFILE_DIR, cut, rendered), 0);
	print_message("truncated input: %s", out);
	assert_non_null(strstr(out, "cut.wav is truncated"));
	/* and a whole file says nothing of the kind */
	assert_int_equal(run(out, sizeof(out), "'%s' render --profile '%s/stereo-pair.conf' '%s' '%s' 2>&1",
			SOUNDSTAGE_EXE, PROFILE_DIR, in, rendered), 0);
	assert_null(strstr(out, "truncated"));
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/soundstage-cli-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_validator_itself),
		cmocka_unit_test(profile_and_design_json),
		cmocka_unit_test(render_outputs),
		cmocka_unit_test(errors_name_the_file),
		cmocka_unit_test(truncated_input_warns),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
