/* The PipeWire module end to end, each test in its own private daemon: what reaches the driver array equals
 * `soundstage render` offline, at several quanta, with and without WirePlumber; the enabled toggle crossfades
 * without steps; the design follows the graph rate; profile hot reload keeps playing and reports errors; a
 * broken profile refuses to load with its FILE:LINE:COL message; ProcessLatency equals the engine's latency. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sndfile.h>

#include "measure/sweep.h"
#include "pwdaemon.h"
#include "util/random.h"

#define SOUNDSTAGE SOUNDSTAGE_EXE
#define ARRAY_POS "AUX0 AUX1 AUX2 AUX3 AUX4"

/* Stereo test signal: `lead` s of silence, then tones and noise (different in L and R) peaking at `peak` (1.0 = full
 * scale, where the effort governor and the limiter work: the render must hold there too), then 0.3 s silence. */
static void write_input(const char *path, int rate, double lead, double seconds, float peak_to)
{
	SF_INFO info = { .samplerate = rate, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	assert_non_null(f);
	long n0 = (long)(lead * rate), n1 = n0 + (long)(seconds * rate), n = n1 + (long)(0.3 * rate);
	float *x = calloc((size_t)n * 2, sizeof(float));
	struct ss_rng rng;
	ss_rng_seed(&rng, 12345);
	for (long t = n0; t < n1; t++) {
		double tt = (double)(t - n0) / rate, env = fmin(1.0, tt / 0.01) * fmin(1.0, (double)(n1 - t) / rate / 0.01);
		double noise = (ss_rng_uniform(&rng) - 0.5) * 0.2;
		x[2 * t] = (float)(env * (0.25 * sin(2 * M_PI * 220.0 * tt) + 0.1 * sin(2 * M_PI * 3100.0 * tt) + noise));
		x[2 * t + 1] = (float)(env * (0.25 * sin(2 * M_PI * 330.0 * tt) + 0.5 * noise));
	}
	float peak = 0.0f;
	for (long i = 0; i < 2 * n; i++)
		peak = fmaxf(peak, fabsf(x[i]));
	for (long i = 0; i < 2 * n; i++)
		x[i] *= peak_to / peak;
	sf_writef_float(f, x, n);
	sf_close(f);
	free(x);
}

/* Render offline; returns the latency the command reports. */
static int render(const char *profile, const char *in, const char *out, const char *extra)
{
	char text[1024];
	int r = pwd_capture(text, sizeof(text), "'%s' render --profile '%s' %s '%s' '%s' 2>&1", SOUNDSTAGE, profile,
			extra ? extra : "", in, out);
	assert_int_equal(r, 0);
	const char *p = strstr(text, "latency ");
	assert_non_null(p);
	return atoi(p + 8);
}

static const char *profile_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s.conf", PROFILE_DIR, name);
	return buf;
}

/* The daemon fragment: the driver array (a null sink, or an ALSA PCM writing to a file) and the module. */
static void fragment(char *out, size_t size, const char *profile, int rate, bool wp, const char *alsa_file)
{
	char pc_arr[512], pc_cap[512], pc_play[512], array[1400];
	if (alsa_file) {
		snprintf(array, sizeof(array),
				"{ factory = adapter args = { factory.name = api.alsa.pcm.sink node.name = array "
				"media.class = Audio/Sink api.alsa.path = \"file:FILE=%s,FORMAT=raw\" "
				"audio.format = F32LE audio.rate = %d audio.channels = 5 audio.position = [ " ARRAY_POS " ] "
				"node.always-process = true alsa.card_name = \"Soundstage test array\" %s } }",
				alsa_file, rate, wp ? "" : pwd_port_config("Input", rate, ARRAY_POS, pc_arr, sizeof(pc_arr)));
	} else {
		snprintf(array, sizeof(array),
				"{ factory = adapter args = { factory.name = support.null-audio-sink node.name = array "
				"media.class = Audio/Sink audio.channels = 5 audio.position = [ " ARRAY_POS " ] "
				"object.linger = true %s } }",
				wp ? "" : pwd_port_config("Input", rate, ARRAY_POS, pc_arr, sizeof(pc_arr)));
	}
	snprintf(out, size,
			"context.objects = [ %s ]\n"
			"context.modules = [ { name = libpipewire-module-soundstage args = {\n"
			"  profile = \"%s\"\n  target.object = array\n"
			"  capture.props = { %s }\n  playback.props = { %s }\n} } ]\n",
			array, profile, wp ? "" : pwd_port_config("Input", rate, "FL FR", pc_cap, sizeof(pc_cap)),
			wp ? "" : pwd_port_config("Output", rate, ARRAY_POS, pc_play, sizeof(pc_play)));
}

/* Record the array's monitor while playing `in` into soundstage.sink (or the default sink with WirePlumber).
 * `during` (if set) runs after `at` seconds of playback. */
static void play_and_record(struct pwd *d, const char *in, const char *rec, int rate, bool wp,
		void (*during)(struct pwd *, void *), void *arg, double at)
{
	char pc[512];
	/* with WirePlumber, stream.capture.sink asks for the sink's monitor (else it looks for a source) */
	pid_t r = pwd_spawn("exec '" RT_STREAM "' record --rate %d --channels 5 --positions '" ARRAY_POS "' "
			"--props '{ node.name = rec target.object = array node.dont-fallback = true %s }' '%s'", rate,
			wp ? "stream.capture.sink = true" : pwd_port_config("Input", rate, ARRAY_POS, pc, sizeof(pc)), rec);
	assert_true(pwd_wait_node("rec", 5.0));
	if (!wp) {
		/* without a session manager nothing links: the module's output to the array, the array to us */
		pwd_sh("pw-link soundstage.output array 2>/dev/null");
		assert_true(pwd_wait_output("soundstage.output:output_AUX4", 5.0, "pw-link -l"));
		assert_int_equal(pwd_sh("pw-link array rec"), 0);
	}
	if (wp)
		assert_true(pwd_wait_output("array:monitor_AUX4\n  |-> rec:input_AUX4", 5.0, "pw-link -l"));
	pwd_sleep(0.3);
	pid_t p;
	if (wp)
		p = pwd_spawn("exec '" RT_STREAM "' play --props '{ node.name = play }' '%s'", in); /* the default sink */
	else
		p = pwd_spawn("exec '" RT_STREAM "' play --props '{ node.name = play target.object = soundstage.sink "
				"node.dont-fallback = true %s }' '%s'", pwd_port_config("Output", rate, "FL FR", pc, sizeof(pc)), in);
	assert_true(pwd_wait_node("play", 5.0));
	if (!wp)
		assert_int_equal(pwd_sh("pw-link play soundstage.sink"), 0);
	if (during) {
		pwd_sleep(at);
		during(d, arg);
	}
	assert_int_equal(pwd_wait_timeout(p, 20.0), 0);
	pwd_sleep(0.4);
	pwd_interrupt(r);
}

static int process_latency(void)
{
	char out[4096];
	pwd_capture(out, sizeof(out), "pw-cli enum-params soundstage.sink ProcessLatency");
	const char *p = strstr(out, "ProcessLatency:rate");
	if (!p || !(p = strstr(p, "Int ")))
		return -1;
	return atoi(p + 4);
}

static void render_match(bool wp, int quantum, bool alsa)
{
	struct pwd d;
	char frag[4096], profile[512], in[512], rec[512], ref[512], raw[512];
	pwd_init(&d, "render");
	profile_path("studio-5", profile, sizeof(profile));
	snprintf(in, sizeof(in), "%s/in.wav", d.root);
	snprintf(rec, sizeof(rec), "%s/rec.wav", d.root);
	snprintf(ref, sizeof(ref), "%s/ref.wav", d.root);
	snprintf(raw, sizeof(raw), "%s/array.raw", d.root);
	write_input(in, 48000, 0.3, 1.5, 1.0f);
	int latency = render(profile, in, ref, "--quantum 1000");
	fragment(frag, sizeof(frag), profile, 48000, wp, alsa ? raw : NULL);
	assert_int_equal(pwd_start(&d, frag, quantum, 48000, wp), 0);
	assert_true(pwd_wait_node("soundstage.sink", 5.0));
	assert_true(pwd_wait_designed("soundstage.sink", 1, 20.0));
	if (wp) /* the policy makes soundstage.sink the default sink */
		assert_true(pwd_wait_output("soundstage.sink", 5.0,
				"pw-metadata 0 default.audio.sink 2>/dev/null"));
	struct pwd_xruns xr;
	pwd_xruns_begin(&d, &xr);
	play_and_record(&d, in, rec, 48000, wp, pwd_count_xruns, &xr, 0.2); /* pw-top samples for ~1 s */
	int pl = process_latency();
	pwd_stop(&d);

	struct wav a, b;
	assert_int_equal(wav_load(ref, &a), 0);
	if (alsa) {
		/* the raw file holds exactly what reached "the hardware": interleaved F32LE, 5 channels */
		assert_int_equal(wav_load_raw_f32(raw, 5, 48000, &b), 0);
	} else {
		assert_int_equal(wav_load(rec, &b), 0);
	}
	print_message("%s, quantum %d%s: ProcessLatency %d, engine %d\n", wp ? "WirePlumber" : "no session manager",
			quantum, alsa ? ", ALSA file PCM" : "", pl, latency);
	assert_int_equal(pl, latency);
	double md = pwd_compare(&d, &xr, &a, &b, 0.05, alsa ? "array file vs render" : "recording vs render");
	assert_true(md <= 1e-4);
	pwd_cleanup(&d);
}

static void render_match_q64(void **state) { render_match(false, 64, false); }
static void render_match_q256(void **state) { render_match(false, 256, false); }
static void render_match_q1024(void **state) { render_match(false, 1024, false); }
static void render_match_wireplumber(void **state) { render_match(true, 256, false); }
static void render_match_alsa_file(void **state) { render_match(false, 256, true); }

static void set_enabled(struct pwd *d, void *arg)
{
	const char *value = arg;
	assert_int_equal(pwd_sh("pw-cli set-param soundstage.sink Props '{ params = [ \"soundstage.enabled\" %s ] }' "
			"> /dev/null", value), 0);
}

/* Off, a second or more of plain feed (xruns counted meanwhile), on again. */
static void toggle_both(struct pwd *d, void *arg)
{
	set_enabled(d, "false");
	pwd_sleep(1.0);
	set_enabled(d, "true");
	/* pw-top's ERR after both switches, while pw-play is still playing (~1 s); the log is read again at the end */
	pwd_sleep(0.5);
	pwd_count_xruns(d, arg);
}


/* Toggling soundstage.enabled during playback: the middle of the recording is the plain feed, the rest the
 * processed one, and no sample-to-sample step exceeds the larger of the two renders' own. */
static void enabled_toggle(void **state)
{
	struct pwd d;
	char frag[4096], profile[512], in[512], rec[512], on[512], off[512];
	pwd_init(&d, "toggle");
	profile_path("studio-5", profile, sizeof(profile));
	snprintf(in, sizeof(in), "%s/in.wav", d.root);
	snprintf(rec, sizeof(rec), "%s/rec.wav", d.root);
	snprintf(on, sizeof(on), "%s/on.wav", d.root);
	snprintf(off, sizeof(off), "%s/off.wav", d.root);
	write_input(in, 48000, 0.3, 3.2, 0.1f);   /* the toggle, not the governor (whose state a plain-feed
	                                                 * spell leaves behind the render's) */
	render(profile, in, on, NULL);
	render(profile, in, off, "--set soundstage.enabled=false");
	fragment(frag, sizeof(frag), profile, 48000, false, NULL);
	assert_int_equal(pwd_start(&d, frag, 256, 48000, false), 0);
	assert_true(pwd_wait_node("soundstage.sink", 5.0));
	assert_true(pwd_wait_designed("soundstage.sink", 1, 20.0));
	struct pwd_xruns xr;
	pwd_xruns_begin(&d, &xr);
	play_and_record(&d, in, rec, 48000, false, toggle_both, &xr, 1.1);
	pwd_stop(&d);

	struct wav a, b, c;
	double md, pk;
	assert_int_equal(wav_load(on, &a), 0);
	assert_int_equal(wav_load(off, &b), 0);
	assert_int_equal(wav_load(rec, &c), 0);
	long o = wav_compare(&a, &c, 0, &md, &pk);
	assert_true(o >= 0);
	/* classify 100 ms windows: which render does the recording match? */
	const long win = 4800, start = (long)(0.35 * 48000), end = (long)(3.4 * 48000);
	int n_on = 0, n_off = 0, n_mixed = 0, first_off = -1, last_off = -1;
	for (long t = start; t + win <= end; t += win) {
		double eon = wav_rms_diff(&a, &c, o, t, t + win), eoff = wav_rms_diff(&b, &c, o, t, t + win);
		if (eon < 1e-5) {
			n_on++;
		} else if (eoff < 1e-5) {
			n_off++;
			if (first_off < 0)
				first_off = (int)(t / 48);
			last_off = (int)(t / 48);
		} else {
			n_mixed++;
		}
	}
	double step = wav_max_step(&c, o, o + end), step_on = wav_max_step(&a, 0, end), step_off = wav_max_step(&b, 0, end);
	print_message("toggle: %d windows processed, %d plain (%d..%d ms), %d crossfading; max step %.4f (renders' own "
			"%.4f / %.4f)\n", n_on, n_off, first_off, last_off, n_mixed, step, step_on, step_off);
	if (pwd_measurement_spoiled(&d, &xr, !(n_off >= 5 && n_on >= 10 && n_mixed <= 4 &&
			step <= fmax(step_on, step_off) * 1.01))) {
		wav_free(&a);
		wav_free(&b);
		wav_free(&c);
		pwd_cleanup(&d);
		skip();
	}
	assert_true(n_off >= 5 && n_on >= 10);
	assert_true(n_mixed <= 4);
	assert_true(step <= fmax(step_on, step_off) * 1.01);
	wav_free(&a);
	wav_free(&b);
	wav_free(&c);
	pwd_cleanup(&d);
}

/* The graph at 44.1 kHz: the module designs at 44.1 kHz and a 44.1 kHz file matches the offline render at that
 * rate. Then the graph is forced to 48 kHz: the design follows and a 48 kHz file matches too. */
static void follows_graph_rate(void **state)
{
	struct pwd d;
	char frag[4096], profile[512], in[512], rec[512], ref[512], want[32];
	pwd_init(&d, "rate");
	profile_path("studio-5", profile, sizeof(profile));
	snprintf(in, sizeof(in), "%s/in.wav", d.root);
	snprintf(rec, sizeof(rec), "%s/rec.wav", d.root);
	snprintf(ref, sizeof(ref), "%s/ref.wav", d.root);
	fragment(frag, sizeof(frag), profile, 44100, false, NULL);
	assert_int_equal(pwd_start(&d, frag, 256, 44100, false), 0);
	assert_true(pwd_wait_node("soundstage.sink", 5.0));
	assert_true(pwd_wait_designed("soundstage.sink", 1, 20.0));
	const int rates[2] = { 44100, 48000 };
	for (int i = 0; i < 2; i++) {
		write_input(in, rates[i], 0.3, 1.0, 1.0f);
		int latency = render(profile, in, ref, NULL);
		if (i == 1) {
			/* streams negotiate at the new rate when they next start */
			assert_int_equal(pwd_sh("pw-metadata -n settings 0 clock.force-rate 48000 > /dev/null"), 0);
		}
		/* prime the graph at this rate so the streams renegotiate, then wait for the design to follow: it goes live
		 * when it lands, during the prime or, if that ended first (a slow machine, the sanitizer build), at once
		 * because the sink is idle (before the idle swap, this needed a second prime) */
		snprintf(want, sizeof(want), "soundstage.designs = \"%d\"", i + 2);
		char pc[512];
		pid_t p = pwd_spawn("exec '" RT_STREAM "' play --props '{ node.name = prime target.object = "
				"soundstage.sink %s }' '%s'", pwd_port_config("Output", rates[i], "FL FR", pc, sizeof(pc)), in);
		assert_true(pwd_wait_node("prime", 5.0));
		pwd_sh("pw-link prime soundstage.sink");
		pwd_wait_timeout(p, 20.0);
		/* designs: the first at load (48 kHz, the profile's rate), one when the graph ran at 44.1 kHz, one when it
		 * was forced to 48 kHz; wait until that design is the one playing */
		/* (a design under ASan on a loaded 2-core machine, FFTW measuring its plans with no wisdom yet, has taken
		 * over 20 s) */
		const bool ok = pwd_wait_output(want, 90.0, "pw-cli info soundstage.sink");
		print_message("graph at %d Hz: waiting for design %d to go live: %s\n", rates[i], i + 2,
				ok ? "seen" : "NOT seen");
		assert_true(ok);
		struct pwd_xruns xr;
		pwd_xruns_begin(&d, &xr);
		play_and_record(&d, in, rec, rates[i], false, pwd_count_xruns, &xr, 0.2);
		struct wav a, b;
		char label[64];
		assert_int_equal(wav_load(ref, &a), 0);
		assert_int_equal(wav_load(rec, &b), 0);
		snprintf(label, sizeof(label), "%d Hz, ProcessLatency %d", rates[i], process_latency());
		double md = pwd_compare(&d, &xr, &a, &b, 0.05, label);
		assert_true(md <= 1e-4);
		assert_int_equal(process_latency(), latency);
	}
	pwd_stop(&d);
	pwd_cleanup(&d);
}

struct reload {
	char profile[512], good[512], broken[512];
	bool error_seen, error_cleared, redesigned;
	struct pwd_xruns xr;
	char error_text[1024];
};

static void copy_file(const char *from, const char *to)
{
	assert_int_equal(pwd_sh("cp '%s' '%s.tmp' && mv '%s.tmp' '%s'", from, to, to, to), 0);
}

static void edit_during_playback(struct pwd *d, void *arg)
{
	struct reload *r = arg;
	char out[16384], needle[600];
	copy_file(r->broken, r->profile);
	snprintf(needle, sizeof(needle), "soundstage.profile.error = \"%s:", r->profile);
	r->error_seen = pwd_wait_output(needle, 3.0, "pw-cli info soundstage.sink");
	pwd_capture(out, sizeof(out), "pw-cli info soundstage.sink | grep soundstage.profile.error");
	snprintf(r->error_text, sizeof(r->error_text), "%.1000s", out);
	copy_file(r->good, r->profile);
	r->error_cleared = pwd_wait_output("soundstage.profile.error = \"\"", 3.0, "pw-cli info soundstage.sink");
	/* the first design was at load; the fixed profile's design is the second to go live */
	r->redesigned = pwd_wait_output("soundstage.designs = \"2\"", 5.0, "pw-cli info soundstage.sink");
	pwd_count_xruns(d, &r->xr);   /* pw-top's ERR, while the clients exist; the log is read again at the end */
}

/* Hot reload during playback: good -> broken -> good. The broken edit shows its FILE:LINE:COL error on the
 * sink and keeps the last design playing; the fixed edit clears it and is designed; audio never stops. */
static void hot_reload(void **state)
{
	struct pwd d;
	struct reload r;
	char frag[4096], in[512], rec[512];
	pwd_init(&d, "reload");
	snprintf(r.profile, sizeof(r.profile), "%s/speaker.conf", d.root);
	snprintf(r.good, sizeof(r.good), "%s/good.conf", d.root);
	snprintf(r.broken, sizeof(r.broken), "%s/broken.conf", d.root);
	snprintf(in, sizeof(in), "%s/in.wav", d.root);
	snprintf(rec, sizeof(rec), "%s/rec.wav", d.root);
	char src[512];
	profile_path("studio-5", src, sizeof(src));
	copy_file(src, r.profile);
	/* the good edit moves the listener; the broken one has a typo in a key */
	assert_int_equal(pwd_sh("sed 's/distance = 2.0/distance = 2.4/' '%s' > '%s'", src, r.good), 0);
	assert_int_equal(pwd_sh("sed 's/distance = 2.0/distanse = 2.4/' '%s' > '%s'", src, r.broken), 0);
	assert_int_equal(pwd_sh("! cmp -s '%s' '%s' && ! cmp -s '%s' '%s'", src, r.good, src, r.broken), 0);
	write_input(in, 48000, 0.3, 4.0, 1.0f);
	fragment(frag, sizeof(frag), r.profile, 48000, false, NULL);
	assert_int_equal(pwd_start(&d, frag, 256, 48000, false), 0);
	assert_true(pwd_wait_node("soundstage.sink", 5.0));
	assert_true(pwd_wait_designed("soundstage.sink", 1, 20.0));
	pwd_xruns_begin(&d, &r.xr);
	play_and_record(&d, in, rec, 48000, false, edit_during_playback, &r, 0.8);
	pwd_stop(&d);
	char expect[1024];
	pwd_capture(expect, sizeof(expect), "'%s' profile --json '%s' 2>&1 | head -1", SOUNDSTAGE, r.broken);
	print_message("hot reload: error shown: %s; cleared: %s; CLI says: %s", r.error_text[0] ? r.error_text :
			"(nothing)\n", r.error_cleared ? "yes" : "no", expect);
	assert_true(r.error_seen);
	assert_true(r.error_cleared);
	assert_true(r.redesigned);
	assert_non_null(strstr(r.error_text, "distanse"));
	struct wav w;
	assert_int_equal(wav_load(rec, &w), 0);
	long first = -1;
	for (long t = 0; t < w.frames && first < 0; t++)
		if (fabsf(w.data[t * w.channels]) > 1e-3f)
			first = t;
	assert_true(first >= 0);
	long gap = wav_longest_silence(&w, first, first + (long)(3.8 * 48000));
	print_message("hot reload: longest all-zero run during the programme: %ld samples\n", gap);
	if (pwd_measurement_spoiled(&d, &r.xr, gap >= 8)) {
		wav_free(&w);
		pwd_cleanup(&d);
		skip();
	}
	assert_true(gap < 8);
	wav_free(&w);
	pwd_cleanup(&d);
}

/* State never leaks from one playback into the next: play A (loud: the effort governor and the limiter at work),
 * stop, leave the sink idle for 2 s, play B (the built-in programme at -20 dBFS). B's recording equals B's render by a
 * fresh engine from its first sample (before, the first 0.4 s of each playback was shaped by what played before).
 * The profile is edited during the idle gap (the listener moves): the new design goes live while nothing plays and B
 * is the new design's render from its first sample (before, a design that landed while idle waited for audio, and
 * B's first ~100 ms were the old design's, then a crossfade). */
static void playback_after_idle(void **state)
{
	struct pwd d;
	char frag[4096], profile[512], a_in[512], b_in[512], rec[512], ref[512], pc[512], moved[512];
	pwd_init(&d, "idle");
	profile_path("studio-5", moved, sizeof(moved));
	snprintf(profile, sizeof(profile), "%s/speaker.conf", d.root);
	copy_file(moved, profile);
	snprintf(moved, sizeof(moved), "%s/moved.conf", d.root);
	assert_int_equal(pwd_sh("sed 's/distance = 2.0/distance = 2.6/' '%s' > '%s'", profile, moved), 0);
	snprintf(a_in, sizeof(a_in), "%s/a.wav", d.root);
	snprintf(b_in, sizeof(b_in), "%s/b.wav", d.root);
	snprintf(rec, sizeof(rec), "%s/rec.wav", d.root);
	snprintf(ref, sizeof(ref), "%s/ref.wav", d.root);
	write_input(a_in, 48000, 0.1, 1.5, 1.0f);
	assert_int_equal(pwd_sh("'%s' programme --seconds 2 '%s' > /dev/null", SOUNDSTAGE, b_in), 0);
	/* B at -20 dBFS: scale the programme, then render it with a fresh engine */
	{
		struct wav w;
		assert_int_equal(wav_load(b_in, &w), 0);
		for (long i = 0; i < w.frames * w.channels; i++)
			w.data[i] *= 0.1f;
		assert_int_equal(wav_save(b_in, &w, -1), 0);
		wav_free(&w);
	}
	render(moved, b_in, ref, NULL);
	fragment(frag, sizeof(frag), profile, 48000, false, NULL);
	assert_int_equal(pwd_start(&d, frag, 256, 48000, false), 0);
	assert_true(pwd_wait_node("soundstage.sink", 5.0));
	assert_true(pwd_wait_designed("soundstage.sink", 1, 20.0));
	/* A is recorded by an ordinary (active) recorder on the array; it goes with A, and then only passive links are
	 * left (the output is passive), so the graph stops: the sink is idle as it is on a real box with nothing playing.
	 * B's recorder is passive: linked before B, it records from the first quantum B starts the graph with. */
	const char *ins[2] = { a_in, b_in };
	struct pwd_xruns xr;
	pid_t r = 0;
	for (int k = 0; k < 2; k++) {
		r = pwd_spawn("exec '" RT_STREAM "' record --rate 48000 --channels 5 --positions '" ARRAY_POS "' "
				"--props '{ node.name = rec%d target.object = array node.dont-fallback = true %s %s }' '%s'",
				k, k == 1 ? "node.passive = true" : "", pwd_port_config("Input", 48000, ARRAY_POS, pc, sizeof(pc)),
				rec);
		char name[16];
		snprintf(name, sizeof(name), "rec%d", k);
		assert_true(pwd_wait_node(name, 5.0));
		pwd_sh("pw-link soundstage.output array 2>/dev/null");
		assert_true(pwd_wait_output("soundstage.output:output_AUX4", 5.0, "pw-link -l"));
		assert_int_equal(pwd_sh("pw-link array %s", name), 0);
		pwd_sleep(0.3);
		if (k == 1)
			pwd_xruns_begin(&d, &xr);
		pid_t p = pwd_spawn("exec '" RT_STREAM "' play --props '{ node.name = play%d target.object = soundstage.sink "
				"node.dont-fallback = true %s }' '%s'", k, pwd_port_config("Output", 48000, "FL FR", pc, sizeof(pc)),
				ins[k]);
		snprintf(name, sizeof(name), "play%d", k);
		assert_true(pwd_wait_node(name, 5.0));
		assert_int_equal(pwd_sh("pw-link %s soundstage.sink", name), 0);
		assert_int_equal(pwd_wait_timeout(p, 20.0), 0);
		if (k == 0) {
			pwd_interrupt(r);
			/* idle: the listener moves; the new design must go live with nothing playing */
			pwd_sleep(0.5);
			copy_file(moved, profile);
			bool live = pwd_wait_designed("soundstage.sink", 2, 20.0);
			print_message("profile edited while idle: the new design %s live before B\n", live ? "went" : "did NOT go");
			assert_true(live);
			pwd_sleep(0.5);
		}
	}
	pwd_count_xruns(&d, &xr);
	pwd_sleep(0.4);
	pwd_interrupt(r);
	pwd_stop(&d);
	struct wav a, b;
	assert_int_equal(wav_load(ref, &a), 0);
	assert_int_equal(wav_load(rec, &b), 0);
	double md = pwd_compare(&d, &xr, &a, &b, 0.005, "B after A, idle and a redesign vs B's render by the new design");
	assert_true(md <= 1e-5);
	pwd_cleanup(&d);
}

/* An edit that changes no filter is not designed again, and says what it did: a comment and moved lines change
 * nothing; a new name and description are applied to the sink; a new output.target is reported (here target.object,
 * a module argument, overrides it). Only then a real change redesigns. Before the schema's diff, any byte changed
 * redesigned and name, description and output.target edits were silently ignored. */
static void edits_without_redesign(void **state)
{
	struct pwd d;
	char frag[4096], profile[512], src[512];
	pwd_init(&d, "edits");
	profile_path("studio-5", src, sizeof(src));
	snprintf(profile, sizeof(profile), "%s/speaker.conf", d.root);
	copy_file(src, profile);
	fragment(frag, sizeof(frag), profile, 48000, false, NULL);
	assert_int_equal(pwd_start(&d, frag, 256, 48000, false), 0);
	assert_true(pwd_wait_node("soundstage.sink", 5.0));
	assert_true(pwd_wait_designed("soundstage.sink", 1, 20.0));
	/* a comment and a blank line at the top: every key moves down two lines */
	assert_int_equal(pwd_sh("{ printf '# a comment\\n\\n'; cat '%s'; } > '%s.new' && mv '%s.new' '%s'", src, profile,
			profile, profile), 0);
	assert_true(pwd_wait_file_contains(d.log, "saved without changes: nothing to redesign", 10.0));
	/* a new name and description */
	assert_int_equal(pwd_sh("sed -i 's/^name = .*/name = \"my-box\"/; s/^description = .*/description = \"My box\"/' '%s'",
			profile), 0);
	assert_true(pwd_wait_output("node.description = \"My box\"", 10.0, "pw-cli info soundstage.sink"));
	assert_true(pwd_wait_output("soundstage.profile.name = \"my-box\"", 10.0, "pw-cli info soundstage.sink"));
	assert_true(pwd_file_contains(d.log, "changed (name, description): nothing to redesign"));
	/* a new output.target: reported, the module argument wins */
	assert_int_equal(pwd_sh("printf 'output = { target = \"elsewhere\" }\\n' >> '%s'", profile), 0);
	assert_true(pwd_wait_file_contains(d.log, "output.target is now \"elsewhere\", but the module's target.object "
			"(array) overrides it", 10.0));
	pwd_sleep(0.5);
	assert_true(pwd_wait_designed("soundstage.sink", 1, 0.5));   /* still the first design */
	/* a real change */
	assert_int_equal(pwd_sh("sed -i 's/distance = 2.0/distance = 2.2/' '%s'", profile), 0);
	assert_true(pwd_wait_file_contains(d.log, "changed (listener.distance): redesigned", 20.0));
	pwd_stop(&d);
	pwd_cleanup(&d);
}

/* Measuring through a real PipeWire graph (issue 12's virtual rig, first form): a filter-chain plays the part of a box
 * in a room with two ears — two "drivers" in, each through its own known response to each ear (PipeWire's builtin
 * convolvers and mixers) into a 3-channel "microphone" device (a null sink, recorded from its monitor), plus an
 * electrical loopback of driver 0's feed, as a measurement interface has. The sweep
 * of each driver in turn is played into it and the "microphones" recorded, on real-time streams; the sweep
 * deconvolution (dsp/measure/sweep.c) must recover every driver-to-ear response within -40 dB of relative error
 * energy over the swept band, with the common start found from the loopback channel. */
#define RIG_IR 1024
static void rig_response(int drv, int ear, double *h)
{
	/* a delayed, filtered direct sound and a reflection; different for every path (not any model of the design) */
	memset(h, 0, sizeof(double) * RIG_IR);
	const int delay = 20 + 13 * drv + (drv == ear ? 0 : 9), refl = 300 + 57 * drv + 31 * ear;
	const double g = drv == ear ? 0.5 : 0.3, a = 0.55 + 0.1 * drv - 0.05 * ear;
	for (int n = delay; n < RIG_IR; n++)
		h[n] += g * (1 - a) * pow(a, n - delay);   /* one-pole low-pass: a head shadow's dull */
	h[refl] += drv == ear ? 0.12 : -0.08;
}

#define RIG_WINDOW 8192   /* the recovered responses' window: the swept band's edges ring longer than RIG_IR */
#define RIG_PRE 4096      /* and it starts this much before time 0: the band edge's ringing is two-sided */
static double rig_band_error_db(const double *est, const double *ref, double f1, double f2)
{
	const int N = 2 * RIG_WINDOW;
	double e = 0, r = 0;
	for (int k = 1; k < N / 2; k++) {
		const double f = k * 48000.0 / N;
		if (f < f1 || f > f2)
			continue;
		double er = 0, ei = 0, rr = 0, ri = 0;
		for (int n = 0; n < RIG_WINDOW; n++) {
			const double c = cos(2 * M_PI * k * n / N), s = -sin(2 * M_PI * k * n / N);
			er += est[n] * c; ei += est[n] * s;
			if (n >= RIG_PRE && n - RIG_PRE < RIG_IR) {
				rr += ref[n - RIG_PRE] * c;
				ri += ref[n - RIG_PRE] * s;
			}
		}
		e += (er - rr) * (er - rr) + (ei - ri) * (ei - ri);
		r += rr * rr + ri * ri;
	}
	return 10 * log10(e / r);
}

static void sweep_through_rig(void **state)
{
	struct pwd d;
	char frag[8192], nodes[4096], pc_in[512], pc_out[512], pc_rec[512], play_path[512], rec_path[512];
	pwd_init(&d, "rig");
	/* the rig's responses as WAV files for the convolvers: one 2-channel file (left ear, right ear) per driver */
	double h[2][2][RIG_IR];
	for (int drv = 0; drv < 2; drv++) {
		struct wav w = { .rate = 48000, .channels = 2, .frames = RIG_IR };
		w.data = calloc(2 * RIG_IR, sizeof(float));
		for (int ear = 0; ear < 2; ear++) {
			rig_response(drv, ear, h[drv][ear]);
			for (int n = 0; n < RIG_IR; n++) {
				w.data[2 * n + ear] = (float)h[drv][ear][n];
				h[drv][ear][n] = w.data[2 * n + ear];   /* what the rig really holds: float */
			}
		}
		char path[600];
		snprintf(path, sizeof(path), "%s/rig-d%d.wav", d.root, drv);
		assert_int_equal(wav_save(path, &w, -1), 0);
		wav_free(&w);
	}
	snprintf(nodes, sizeof(nodes),
			"{ type = builtin name = in0 label = copy } { type = builtin name = in1 label = copy }\n"
			"{ type = builtin name = loop label = copy }\n"
			"{ type = builtin name = c00 label = convolver config = { filename = \"%s/rig-d0.wav\" channel = 0 } }\n"
			"{ type = builtin name = c01 label = convolver config = { filename = \"%s/rig-d0.wav\" channel = 1 } }\n"
			"{ type = builtin name = c10 label = convolver config = { filename = \"%s/rig-d1.wav\" channel = 0 } }\n"
			"{ type = builtin name = c11 label = convolver config = { filename = \"%s/rig-d1.wav\" channel = 1 } }\n"
			"{ type = builtin name = earL label = mixer } { type = builtin name = earR label = mixer }",
			d.root, d.root, d.root, d.root);
	/* the "microphones" are a null sink (it also clocks the graph, as a sound card would), recorded from its monitor */
	char pc_mic[512];
	snprintf(frag, sizeof(frag),
			"context.objects = [ { factory = adapter args = { factory.name = support.null-audio-sink node.name = mic "
			"media.class = Audio/Sink audio.channels = 3 audio.position = [ AUX0 AUX1 AUX2 ] object.linger = true %s } } ]\n"
			"context.modules = [ { name = libpipewire-module-filter-chain args = { node.description = \"virtual rig\"\n"
			"  filter.graph = { nodes = [ %s ]\n"
			"    links = [ { output = \"in0:Out\" input = \"c00:In\" } { output = \"in0:Out\" input = \"c01:In\" }\n"
			"      { output = \"in0:Out\" input = \"loop:In\" }\n"
			"      { output = \"in1:Out\" input = \"c10:In\" } { output = \"in1:Out\" input = \"c11:In\" }\n"
			"      { output = \"c00:Out\" input = \"earL:In 1\" } { output = \"c10:Out\" input = \"earL:In 2\" }\n"
			"      { output = \"c01:Out\" input = \"earR:In 1\" } { output = \"c11:Out\" input = \"earR:In 2\" } ]\n"
			"    inputs = [ \"in0:In\" \"in1:In\" ] outputs = [ \"earL:Out\" \"earR:Out\" \"loop:Out\" ] }\n"
			"  capture.props = { node.name = rig.in media.class = Audio/Sink audio.position = [ AUX0 AUX1 ] %s }\n"
			"  playback.props = { node.name = rig.out target.object = mic audio.position = [ AUX0 AUX1 AUX2 ] %s } } } ]\n",
			pwd_port_config("Input", 48000, "AUX0 AUX1 AUX2", pc_mic, sizeof(pc_mic)),
			nodes, pwd_port_config("Input", 48000, "AUX0 AUX1", pc_in, sizeof(pc_in)),
			pwd_port_config("Output", 48000, "AUX0 AUX1 AUX2", pc_out, sizeof(pc_out)));
	assert_int_equal(pwd_start(&d, frag, 256, 48000, false), 0);
	assert_true(pwd_wait_node("rig.out", 5.0));
	pwd_sh("pw-link rig.out mic 2>/dev/null");
	assert_true(pwd_wait_output("rig.out:output_AUX2", 5.0, "pw-link -l"));

	/* the plan: driver 0's sweep, then driver 1's, each -12 dBFS, 1.5 s, 20 Hz..20 kHz, 0.5 s apart */
	struct ss_sweep s;
	assert_int_equal(ss_sweep_make(&s, 48000, 10.0, 20000.0, 3.0), 0);
	const double level = 0.25;
	const long lead = 12000, gap = 24000, slot = s.n + gap;
	struct wav plan = { .rate = 48000, .channels = 2, .frames = lead + 2 * slot };
	plan.data = calloc((size_t)plan.frames * 2, sizeof(float));
	for (int drv = 0; drv < 2; drv++)
		for (long i = 0; i < s.n; i++)
			plan.data[2 * (lead + drv * slot + i) + drv] = (float)(level * s.signal[i]);
	snprintf(play_path, sizeof(play_path), "%s/sweeps.wav", d.root);
	snprintf(rec_path, sizeof(rec_path), "%s/mic.wav", d.root);
	assert_int_equal(wav_save(play_path, &plan, -1), 0);
	wav_free(&plan);

	pid_t r = pwd_spawn("exec '" RT_STREAM "' record --rate 48000 --channels 3 --positions 'AUX0 AUX1 AUX2' "
			"--props '{ node.name = rec target.object = mic node.dont-fallback = true %s }' '%s'",
			pwd_port_config("Input", 48000, "AUX0 AUX1 AUX2", pc_rec, sizeof(pc_rec)), rec_path);
	assert_true(pwd_wait_node("rec", 5.0));
	assert_int_equal(pwd_sh("pw-link mic rec"), 0);
	pid_t p = pwd_spawn("exec '" RT_STREAM "' play --props '{ node.name = play audio.position = [ AUX0 AUX1 ] %s }' '%s'",
			pwd_port_config("Output", 48000, "AUX0 AUX1", pc_out, sizeof(pc_out)), play_path);
	assert_true(pwd_wait_node("play", 5.0));
	assert_int_equal(pwd_sh("pw-link play rig.in"), 0);
	struct pwd_xruns xr;
	pwd_xruns_begin(&d, &xr);
	assert_int_equal(pwd_wait_timeout(p, 30.0), 0);
	pwd_sleep(0.5);
	pwd_interrupt(r);
	pwd_count_xruns(&d, &xr);
	pwd_stop(&d);

	struct wav rec;
	assert_int_equal(wav_load(rec_path, &rec), 0);
	assert_int_equal(rec.channels, 3);
	float *ch[3];
	for (int c = 0; c < 3; c++) {
		ch[c] = malloc(sizeof(float) * (size_t)rec.frames);
		for (long t = 0; t < rec.frames; t++)
			ch[c][t] = rec.data[t * 3 + c];
	}
	/* where driver 0's sweep starts in the recording, from the loopback: roughly at its onset, then exactly from
	 * the loopback's own deconvolution (a delta at the start) */
	long onset = -1;
	for (long t = 0; t < rec.frames && onset < 0; t++)
		if (fabsf(ch[2][t]) > 1e-3f)
			onset = t;
	assert_true(onset >= 0);
	const long guess = onset > 2400 ? onset - 2400 : 0;
	double loopir[4800];
	assert_int_equal(ss_sweep_deconvolve(&s, level, ch[2], rec.frames, guess, loopir, 4800, 0), 0);
	int peak = 0;
	for (int i = 1; i < 4800; i++)
		if (fabs(loopir[i]) > fabs(loopir[peak]))
			peak = i;
	const long start0 = guess + peak;
	print_message("rig: driver 0's sweep starts at frame %ld of the recording (loopback peak %.4f)\n", start0,
			loopir[peak]);
	/* a delta limited to the swept band (up to 20 of 24 kHz) peaks near 20/24; less when a lost quantum broke the
	 * recording (judged with the xruns below) */
	const bool loop_ok = loopir[peak] > 0.7 && loopir[peak] < 1.0;
	double worst = -999;
	for (int drv = 0; drv < 2 && loop_ok; drv++)
		for (int ear = 0; ear < 2; ear++) {
			double ir[RIG_WINDOW];
			if (ss_sweep_deconvolve(&s, level, ch[ear], rec.frames, start0 + drv * slot, ir, RIG_WINDOW, RIG_PRE) < 0) {
				print_message("  driver %d: its sweep is not in the recording\n", drv);
				worst = 0.0;
				break;
			}
			const double err = rig_band_error_db(ir, h[drv][ear], 20.0 * 1.26, 20000.0 / 1.26);

			print_message("  driver %d -> %s ear: response error %.1f dB over 25 Hz..16 kHz (25-100 Hz %.1f, "
					"0.1-1 kHz %.1f, 1-8 kHz %.1f, 8-16 kHz %.1f)\n", drv, ear ? "right" : "left", err,
					rig_band_error_db(ir, h[drv][ear], 25, 100), rig_band_error_db(ir, h[drv][ear], 100, 1000),
					rig_band_error_db(ir, h[drv][ear], 1000, 8000), rig_band_error_db(ir, h[drv][ear], 8000, 16000));
			worst = fmax(worst, err);
		}
	for (int c = 0; c < 3; c++)
		free(ch[c]);
	wav_free(&rec);
	ss_sweep_free(&s);
	if (pwd_measurement_spoiled(&d, &xr, !(loop_ok && worst <= -40.0))) {
		pwd_cleanup(&d);
		skip();
	}
	assert_true(loop_ok);
	assert_true(worst <= -40.0);
	pwd_cleanup(&d);
}

/* The first design does not hold up the host: a profile that takes seconds to design (array-16 at 96 kHz) loads, its
 * sink appears and the daemon answers at once, while the sink plays silence until the design goes live. */
static void first_design_off_main_loop(void **state)
{
	struct pwd d;
	char frag[4096], profile[512], out[4096];
	pwd_init(&d, "async");
	profile_path("array-16", profile, sizeof(profile));
	snprintf(frag, sizeof(frag),
			"context.objects = [ { factory = adapter args = { factory.name = support.null-audio-sink "
			"node.name = array media.class = Audio/Sink audio.channels = 16 object.linger = true } } ]\n"
			"context.modules = [ { name = libpipewire-module-soundstage args = { profile = \"%s\" "
			"target.object = array } } ]\n", profile);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pwd_start(&d, frag, 1024, 96000, false), 0);
	assert_true(pwd_wait_node("soundstage.sink", 5.0));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double up = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
	pwd_capture(out, sizeof(out), "pw-cli info soundstage.sink");
	bool designing = strstr(out, "soundstage.designs = \"0\"") != NULL;
	print_message("array-16: sink up %.2f s after the daemon started, design still running then: %s\n", up,
			designing ? "yes" : "no");
	assert_true(designing);
	assert_int_equal(pwd_sh("pw-cli info 0 > /dev/null"), 0);
	assert_true(pwd_wait_designed("soundstage.sink", 1, 60.0));
	pwd_stop(&d);
	pwd_cleanup(&d);
}

/* A broken profile at start-up: the module refuses to load (the daemon, for which it is mandatory, exits) and
 * the log carries the same FILE:LINE:COL message the command-line parser prints. */
static void broken_profile_refuses(void **state)
{
	struct pwd d;
	char frag[4096], bad[512], msg[1024];
	pwd_init(&d, "broken");
	snprintf(bad, sizeof(bad), "%s/broken.conf", d.root);
	FILE *f = fopen(bad, "w");
	fputs("name = \"broken\"\nlistener = { distance = 2.0 }\ndrivers = [\n"
	      "  { name = left channel = AUX0 position = [ 0 0.1 0 ] axis = [ -1 0 0 ] band = [ 200 20000 ] }\n"
	      "  { name = right channel = AUX1 position = [ 0 -0.1 0 ] axis = [ -1 0 0 ] band = [ 200 \"high\" ] }\n"
	      "]\n", f);
	fclose(f);
	pwd_capture(msg, sizeof(msg), "'%s' profile --json '%s' 2>&1 | head -1", SOUNDSTAGE, bad);
	msg[strcspn(msg, "\n")] = '\0';
	fragment(frag, sizeof(frag), bad, 48000, false, NULL);
	int r = pwd_start(&d, frag, 256, 48000, false);
	bool exited = r < 0 || pwd_exits(&d, 10.0);
	pwd_stop(&d);
	print_message("broken profile: pwd_start %d, daemon exited: %s; expecting in the log: %s\n", r,
			exited ? "yes" : "no", msg);
	assert_true(exited);
	assert_non_null(strstr(msg, "broken.conf:5:"));
	assert_true(pwd_file_contains(d.log, msg));
	pwd_cleanup(&d);
}

static int teardown(void **state)
{
	pwd_kill_all();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(broken_profile_refuses, teardown),
		cmocka_unit_test_teardown(render_match_q64, teardown),
		cmocka_unit_test_teardown(render_match_q256, teardown),
		cmocka_unit_test_teardown(render_match_q1024, teardown),
		cmocka_unit_test_teardown(render_match_wireplumber, teardown),
		cmocka_unit_test_teardown(render_match_alsa_file, teardown),
		cmocka_unit_test_teardown(enabled_toggle, teardown),
		cmocka_unit_test_teardown(hot_reload, teardown),
		cmocka_unit_test_teardown(follows_graph_rate, teardown),
		cmocka_unit_test_teardown(playback_after_idle, teardown),
		cmocka_unit_test_teardown(first_design_off_main_loop, teardown),
		cmocka_unit_test_teardown(edits_without_redesign, teardown),
		cmocka_unit_test_teardown(sweep_through_rig, teardown),
	};
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* SS_TEST_FILTER=name (cmocka's wildcards) runs only the matching tests, for working on one */
	if (getenv("SS_TEST_FILTER"))
		cmocka_set_test_filter(getenv("SS_TEST_FILTER"));
	return pwd_run_verdict(cmocka_run_group_tests(tests, NULL, NULL));
}
