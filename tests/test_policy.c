/* The WirePlumber policy end to end, each test in its own private PipeWire + WirePlumber running the shipped
 * config/wireplumber fragment and script, with a fake speaker: a real ALSA PCM node (api.alsa.pcm.sink writing
 * raw frames to a file) made by tests/fake_alsa_device, whose properties a shipped rule matches. Killing that
 * process is the unplug.
 *   - a matching device appears: Soundstage starts with the rule's profile, plays into it, is the default sink,
 *     the raw device is hidden from applications, and what reaches its file equals `soundstage render`;
 *   - volume and mute on the Soundstage sink: software volume (the file scales by exactly the set volume), the
 *     raw device's own volume stays pinned, mute gives silence (and never NaN);
 *   - unplugged during playback: Soundstage goes, the default and the playing stream move to the other sink,
 *     nothing crashes; plugged again: Soundstage is back and default;
 *   - a device no rule matches: no Soundstage, its properties and visibility untouched;
 *   - bad rules (a misspelt key, a profile that does not exist): a log line naming the rule, the device stays a
 *     plain sink that plays;
 *   - two matching devices: one Soundstage each;
 *   - tools/demo (the main job) runs to completion with a short programme. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pwdaemon.h"

#define STUDIO_CARD "Soundstage Virtual Array (studio-5)"
/* Where the fake devices write: short, because PipeWire 1.4.2's ALSA node keeps api.alsa.path in 64 bytes
 * ("file:FILE=<path>,FORMAT=raw" longer than 63 characters fails to open with a misleading "usage" error). */
static char raw_dir[] = "/tmp/ssXXXXXX";
#define BAR_CARD "Soundstage Virtual Array (soundbar-4)"

/* The graph's quantum in these tests. They are about the policy, not latency: 1024 (21 ms at 48 kHz) makes a late
 * cycle (a graph xrun, which spoils an exact comparison) rarer on a loaded 2-core machine than 256 does; the module's
 * tests cover small quanta. */
#define POLICY_QUANTUM 1024

/* Private PipeWire (with a plain stereo null sink "fallback", priority below Soundstage's) and WirePlumber with
 * the shipped policy; profile names resolve to the source tree's profiles. `extra_rules`: another WirePlumber
 * fragment (NULL for none). */
static void start(struct pwd *d, const char *name, const char *extra_rules)
{
	char path[600];
	pwd_init(d, name);
	strcpy(raw_dir, "/tmp/ssXXXXXX");
	assert_non_null(mkdtemp(raw_dir));
	setenv("SOUNDSTAGE_PROFILE_PATH", PROFILE_DIR, 1);
	assert_int_equal(pwd_sh("cp '%s/wireplumber/wireplumber.conf.d/50-soundstage.conf' "
			"'%s/config/wireplumber/wireplumber.conf.d/' && cp -r '%s/wireplumber/scripts/soundstage' "
			"'%s/wireplumber/scripts/lib' '%s/data/wireplumber/scripts/'", CONFIG_DIR, d->root, CONFIG_DIR, CONFIG_DIR,
			d->root), 0);
	if (extra_rules) {
		snprintf(path, sizeof(path), "%s/config/wireplumber/wireplumber.conf.d/60-test-rules.conf", d->root);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(extra_rules, f);
		fclose(f);
	}
	const char *frag =
		"context.objects = [\n"
		"  { factory = adapter args = { factory.name = support.null-audio-sink node.name = fallback\n"
		"    node.description = \"Fallback\" media.class = Audio/Sink audio.channels = 2 audio.position = [ FL FR ]\n"
		"    priority.session = 1000 object.linger = true } }\n"
		"]\n";
	assert_int_equal(pwd_start(d, frag, POLICY_QUANTUM, 48000, true), 0);
	assert_true(pwd_wait_output("fallback", 5.0, "pw-metadata 0 default.audio.sink 2>/dev/null"));
}

/* Plug a fake speaker: an ALSA PCM sink named `node` with alsa.card_name = `card`, writing to raw_dir/node.raw. */
static pid_t plug(struct pwd *d, const char *node, const char *card, int channels)
{
	char pos[128] = "";
	for (int c = 0; c < channels; c++)
		snprintf(pos + strlen(pos), sizeof(pos) - strlen(pos), "AUX%d ", c);
	return pwd_spawn("exec '%s' '{ node.name = %s node.description = \"Array %s\" "
			"api.alsa.path = \"file:FILE=%s/%s.raw,FORMAT=raw\" audio.format = F32LE audio.rate = 48000 "
			"audio.channels = %d audio.position = [ %s] alsa.card_name = \"%s\" "
			"session.suspend-timeout-seconds = 0 }' > '%s/%s.out' 2>&1",
			FAKE_DEVICE, node, node, raw_dir, node, channels, pos, card, d->root, node);
}

/* Plug the studio-5 virtual array "array" and wait until its Soundstage sink is up with its first design. */
static pid_t plug_studio(struct pwd *d)
{
	pid_t dev = plug(d, "array", STUDIO_CARD, 5);
	assert_true(pwd_wait_node("soundstage.sink.array", 10.0));
	assert_true(pwd_wait_designed("soundstage.sink.array", 1, 20.0));
	return dev;
}

static void unplug(pid_t device)
{
	pwd_interrupt(device);
}

/* The end of a test: the device goes, then the daemons and their folder. */
static void finish(struct pwd *d, pid_t device)
{
	unplug(device);
	pwd_stop(d);
	pwd_cleanup(d);
}

static bool default_is(const char *name, double timeout)
{
	char needle[256];
	snprintf(needle, sizeof(needle), "\"name\":\"%s\"", name);
	return pwd_wait_output(needle, timeout, "pw-metadata 0 default.audio.sink 2>/dev/null");
}

static void programme(struct pwd *d, const char *path, double seconds)
{
	assert_int_equal(pwd_sh("'%s' programme --seconds %g '%s'", SOUNDSTAGE_EXE, seconds, path), 0);
}

static void render(const char *profile, const char *in, const char *out)
{
	assert_int_equal(pwd_sh("'%s' render --profile '%s/%s.conf' '%s' '%s' > /dev/null", SOUNDSTAGE_EXE,
			PROFILE_DIR, profile, in, out), 0);
}

/* Compare a device's raw file with a reference (a render, or the programme for a plain sink) scaled by `gain`;
 * returns the max difference (or skips when the graph xrun and it does not match: pwd_compare). */
static double device_vs_render(struct pwd *d, const char *node, int channels, const char *ref_path, double gain,
		struct pwd_xruns *xr)
{
	char raw[600], label[300];
	struct wav ref, rec;
	snprintf(raw, sizeof(raw), "%s/%s.raw", raw_dir, node);
	assert_int_equal(wav_load(ref_path, &ref), 0);
	assert_int_equal(wav_load_raw_f32(raw, channels, 48000, &rec), 0);
	for (long i = 0; i < ref.frames * ref.channels; i++)
		ref.data[i] *= (float)gain;
	const char *name = strrchr(ref_path, '/');
	snprintf(label, sizeof(label), "%s vs %s x %.4g", node, name ? name + 1 : ref_path, gain);
	return pwd_compare(d, xr, &ref, &rec, 0.1 * gain, label);
}

static void play_default(struct pwd *d, const char *file)
{
	pid_t p = pwd_spawn("exec '" RT_STREAM "' play --props '{ node.name = play }' '%s'", file);
	assert_int_equal(pwd_wait_timeout(p, 20.0), 0);
	pwd_sleep(0.3);
}

static void teardown_common(void)
{
	pwd_kill_all();
	if (raw_dir[7] != 'X' && !getenv("SOUNDSTAGE_KEEP_TEST_DIRS"))
		pwd_sh("rm -rf '%s'", raw_dir);
}

static int teardown(void **state)
{
	teardown_common();
	return 0;
}

/* A matching device appears: Soundstage with the rule's profile, linked to it, the default sink, the raw device
 * hidden; played audio reaches the device's file exactly as rendered offline. */
static void matching_device(void **state)
{
	struct pwd d;
	char in[600], ref[600], out[8192];
	start(&d, "policy-match", NULL);
	pid_t dev = plug_studio(&d);
	assert_true(default_is("soundstage.sink.array", 5.0));
	assert_true(pwd_wait_output("soundstage.output.array:output_AUX4", 5.0, "pw-link -l"));
	/* hidden: applications (these pw-cli) do not list the raw node; WirePlumber linked to it. WirePlumber grants a new
	 * client its permissions (access-default.lua) and the policy revokes the raw node a few ms later, so a client
	 * whose registry was bound in between is sent the node and then its removal: pw-cli prints that as "removed
	 * global" before its prompt (an earlier version of this test took that notice for the listing). Only what the
	 * client lists after a second counts; how often the node was announced and withdrawn is printed. */
	int flashed = 0;
	for (int i = 0; i < 5; i++) {
		pwd_capture(out, sizeof(out), "(sleep 1; echo 'ls Node'; echo quit) | timeout 10 pw-cli 2>/dev/null");
		const char *listing = strstr(out, ">> ls Node");
		assert_non_null(listing);
		const char *removed = strstr(out, "removed global");
		if (removed && removed < listing && strstr(removed, "node.name = \"array\"") != NULL &&
				strstr(removed, "node.name = \"array\"") < listing)
			flashed++;
		if (strstr(listing, "node.name = \"array\"") != NULL)
			fail_msg("client %d lists the hidden raw device:\n%s", i, out);
	}
	print_message("raw device: listed by 0 of 5 new clients; announced and withdrawn at connect for %d\n", flashed);
	assert_true(pwd_file_contains(d.wp_log, "starting Soundstage with profile 'studio-5'"));
	/* every script of the policy compiled and loaded (WirePlumber only logs a script that did not: they are wanted,
	 * not required, so that a broken one leaves the session running) */
	assert_false(pwd_file_contains(d.wp_log, "failed to load"));

	snprintf(in, sizeof(in), "%s/programme.wav", d.root);
	snprintf(ref, sizeof(ref), "%s/ref.wav", d.root);
	programme(&d, in, 2.0);
	render("studio-5", in, ref);
	struct pwd_xruns xr;
	pwd_xruns_begin(&d, &xr);
	play_default(&d, in);
	pwd_count_xruns(&d, &xr);
	double md = device_vs_render(&d, "array", 5, ref, 1.0, &xr);
	assert_true(md <= 1e-4);
	finish(&d, dev);
}

/* wpctl's volume is cubic: set-volume 0.5 is a linear gain of 0.125 on soundstage.sink, applied in software before
 * the filter (the file equals the render of the programme x 0.125); the raw device's volume stays at the rule's 1.0; mute gives
 * exact silence, finite. */
static void volume_and_mute(void **state)
{
	struct pwd d;
	char in[600], ref[600];
	start(&d, "policy-volume", NULL);
	pid_t dev = plug_studio(&d);
	assert_true(default_is("soundstage.sink.array", 10.0));
	snprintf(in, sizeof(in), "%s/programme.wav", d.root);
	snprintf(ref, sizeof(ref), "%s/ref.wav", d.root);
	programme(&d, in, 1.5);
	/* the volume is a volume: the sink applies it before Soundstage, so the array plays the render of the programme
	 * at that volume (the effort governor may work on the programme at full volume, not at 0.125 of it) */
	{
		char quiet[600];
		struct wav w;
		snprintf(quiet, sizeof(quiet), "%s/programme-0.125.wav", d.root);
		assert_int_equal(wav_load(in, &w), 0);
		for (long i = 0; i < w.frames * w.channels; i++)
			w.data[i] *= 0.125f;
		assert_int_equal(wav_save(quiet, &w, -1), 0);
		wav_free(&w);
		render("studio-5", quiet, ref);
	}

	/* set before anything played (the sink's converter has no format yet: the module re-applies it when one is
	 * set; without that PipeWire 1.4.2 drops it and the first playback is loud) */
	assert_int_equal(pwd_sh("wpctl set-volume @DEFAULT_AUDIO_SINK@ 0.5"), 0);
	pwd_sleep(0.3);
	struct pwd_xruns xr;
	pwd_xruns_begin(&d, &xr);
	play_default(&d, in);
	pwd_count_xruns(&d, &xr);
	double md = device_vs_render(&d, "array", 5, ref, 1.0, &xr);
	assert_true(md <= 1e-4);
	assert_true(pwd_wait_output("\"channelVolumes\": [ 0.125000, 0.125000 ]", 5.0, "pw-dump soundstage.sink.array"));

	/* (the raw device is hidden from this client; that the file is exactly the render of the programme x 0.125 shows
	 * its own volume stage is at the rule's 1.0) */

	assert_true(pwd_wait_output("[MUTED]", 5.0,
			"wpctl set-mute @DEFAULT_AUDIO_SINK@ 1 && sleep 0.2 && wpctl get-volume @DEFAULT_AUDIO_SINK@"));
	pwd_sh("truncate -s 0 '%s/array.raw'", raw_dir);
	play_default(&d, in);
	struct wav rec;
	char raw[600];
	snprintf(raw, sizeof(raw), "%s/array.raw", raw_dir);
	assert_int_equal(wav_load_raw_f32(raw, 5, 48000, &rec), 0);
	long nonfinite = 0, nonzero = 0, first = -1, last = -1;
	double peak = 0.0;
	for (long i = 0; i < rec.frames * rec.channels; i++) {
		nonfinite += !isfinite(rec.data[i]);
		if (rec.data[i] != 0.0f) {
			nonzero++;
			last = i / rec.channels;
			first = first < 0 ? last : first;
			peak = fmax(peak, fabs(rec.data[i]));
		}
	}
	print_message("  muted: %ld frames reached the device, %ld non-zero samples (frames %ld..%ld, peak %.3g), "
			"%ld non-finite\n", rec.frames, nonzero, first, last, peak, nonfinite);
	assert_true(rec.frames > 48000);
	assert_int_equal(nonfinite, 0);
	/* muted: silence, except that PipeWire 1.4.2's converter (re-configured when the suspended sink starts
	 * again) lets its first ~60 ms through at a low level before the mute holds (seen: 11 quanta of 256, peak
	 * -54 dBFS; at quantum 1024, 2560 frames at -58 dBFS); anything longer or louder fails */
	assert_true(nonzero == 0 || (last - first < 4800 && peak < 0.01));
	wav_free(&rec);
	finish(&d, dev);
}

/* Unplugged while playing: Soundstage goes, the default moves to the fallback sink, the playing stream follows it
 * and finishes; PipeWire and WirePlumber live on. Plugged again: Soundstage is back and the default. */
static void unplug_and_replug(void **state)
{
	struct pwd d;
	char in[600];
	start(&d, "policy-unplug", NULL);
	pid_t dev = plug_studio(&d);
	assert_true(default_is("soundstage.sink.array", 10.0));
	snprintf(in, sizeof(in), "%s/programme.wav", d.root);
	programme(&d, in, 4.0);
	pid_t p = pwd_spawn("exec pw-play -P '{ node.name = play }' '%s'", in);
	assert_true(pwd_wait_output("play:output_FR\n  |-> soundstage.sink.array:playback_FR", 5.0, "pw-link -l"));
	pwd_sleep(1.0);
	unplug(dev);
	assert_true(default_is("fallback", 5.0));
	assert_true(pwd_wait_output("play:output_FR\n  |-> fallback:playback_FR", 5.0, "pw-link -l"));
	char out[4096];
	pwd_capture(out, sizeof(out), "pw-cli ls Node | grep -c soundstage || true");
	assert_int_equal(atoi(out), 0);
	assert_int_equal(pwd_wait_timeout(p, 20.0), 0);   /* the programme played to its end, on the fallback */
	assert_int_equal(pwd_sh("pw-cli info 0 > /dev/null"), 0);
	assert_true(pwd_file_contains(d.wp_log, "array went away: stopping soundstage.sink.array"));

	dev = plug_studio(&d);
	assert_true(default_is("soundstage.sink.array", 5.0));
	finish(&d, dev);
}

/* Soundstage as a service (`pipewire -c soundstage.conf`, its own process, no rule: the module's target.object names
 * the device), with WirePlumber's shipped fragment loaded as it is once installed:
 *   - the device is protected as soon as Soundstage plays into it (logged);
 *   - the device goes during playback: soundstage.sink closes (logged by the service), the default and the playing
 *     stream fall back instead of playing into nothing; it comes back: so does the sink;
 *   - the service is killed (SIGKILL: a crash): the raw device never becomes the default, and a stream that asks
 *     for it by name is linked to another sink, not to the bare drivers. */
static void service_mode(void **state)
{
	struct pwd d;
	char conf[600], log[600], in[600], out[8192];
	start(&d, "policy-service", NULL);
	pid_t dev = plug(&d, "dac", "Some USB DAC", 5);
	assert_true(pwd_wait_node("dac", 5.0));
	snprintf(conf, sizeof(conf), "%s/config/pipewire/ss-service.conf", d.root);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "context.properties = { log.level = 3 }\n"
			"context.spa-libs = { audio.convert.* = audioconvert/libspa-audioconvert support.* = support/libspa-support }\n"
			"context.modules = [\n"
			"  { name = libpipewire-module-protocol-native }\n"
			"  { name = libpipewire-module-client-node }\n"
			"  { name = libpipewire-module-adapter }\n"
			"  { name = libpipewire-module-soundstage args = { profile = \"%s/studio-5.conf\" target.object = dac } }\n"
			"]\n", PROFILE_DIR);
	fclose(f);
	snprintf(log, sizeof(log), "%s/service.log", d.root);
	pid_t svc = pwd_spawn("%sexec pipewire -c ss-service.conf > '%s' 2>&1", pwd_daemon_env(), log);
	assert_true(pwd_wait_node("soundstage.sink", 10.0));
	assert_true(pwd_wait_designed("soundstage.sink", 1, 20.0));
	assert_true(pwd_wait_output("soundstage.output:output_AUX4\n  |-> dac:playback_AUX4", 10.0, "pw-link -l"));
	assert_true(pwd_file_contains(d.wp_log, "dac is a driver array (Soundstage plays into it)"));

	/* the device goes during playback */
	snprintf(in, sizeof(in), "%s/programme.wav", d.root);
	programme(&d, in, 6.0);
	pid_t p = pwd_spawn("exec pw-play -P '{ node.name = play target.object = soundstage.sink }' '%s'", in);
	assert_true(pwd_wait_output("play:output_FR\n  |-> soundstage.sink:playback_FR", 5.0, "pw-link -l"));
	pwd_sleep(0.5);
	unplug(dev);
	assert_true(pwd_wait_output("went away", 5.0, "cat '%s'", log));
	assert_true(pwd_file_contains(log, "dac went away: soundstage.sink closed until it returns"));
	assert_true(pwd_wait_output("play:output_FR\n  |-> fallback:playback_FR", 5.0, "pw-link -l"));
	assert_true(default_is("fallback", 5.0));
	/* it comes back: the sink opens again, the output is linked to it again */
	dev = plug(&d, "dac", "Some USB DAC", 5);
	assert_true(pwd_wait_node("soundstage.sink", 10.0));
	assert_true(pwd_wait_output("soundstage.output:output_AUX4\n  |-> dac:playback_AUX4", 10.0, "pw-link -l"));
	assert_int_equal(pwd_wait_timeout(p, 20.0), 0);

	/* the service crashes */
	assert_false(pwd_sanitizer_report(log));   /* the sanitizer build: nothing in the service until it dies */
	kill(svc, SIGKILL);
	assert_int_equal(pwd_wait_timeout(svc, 5.0), 128 + SIGKILL);
	pwd_sleep(1.5);   /* WirePlumber has rescanned the defaults by now */
	pwd_capture(out, sizeof(out), "pw-metadata 0 default.audio.sink 2>/dev/null");
	print_message("after the service's crash: %s", out);
	assert_null(strstr(out, "\"name\":\"dac\""));
	p = pwd_spawn("exec pw-play -P '{ node.name = wants-dac target.object = dac }' '%s'", in);
	assert_true(pwd_wait_output("wants-dac:output_FR\n  |-> fallback:playback_FR", 5.0, "pw-link -l"));
	pwd_capture(out, sizeof(out), "pw-link -l");
	assert_null(strstr(out, "wants-dac:output_FL\n  |-> dac"));
	assert_true(pwd_file_contains(d.wp_log, "wants-dac: not linking to driver array dac"));
	pwd_interrupt(p);
	finish(&d, dev);
}

/* The default: Soundstage's sink wins by its priority, and a default the user chose stays theirs (the policy never
 * writes default.configured.audio.sink, WirePlumber's record of the user's choice). With the user's choice gone,
 * the Soundstage sink is the default. */
static void user_default_kept(void **state)
{
	struct pwd d;
	char out[4096];
	start(&d, "policy-default", NULL);
	pid_t mine = plug(&d, "mine", "Some USB Audio Interface", 2);
	assert_true(pwd_wait_node("mine", 5.0));
	assert_int_equal(pwd_sh("pw-metadata 0 default.configured.audio.sink '{ \"name\": \"mine\" }' Spa:String:JSON "
			"> /dev/null"), 0);
	assert_true(default_is("mine", 5.0));
	pid_t dev = plug_studio(&d);
	pwd_sleep(1.0);
	assert_true(default_is("mine", 1.0));
	/* (pw-metadata may quit before the metadata's properties reach it on a loaded machine: asked again) */
	if (!pwd_wait_output("\"mine\"", 3.0, "pw-metadata 0 default.configured.audio.sink 2>/dev/null")) {
		pwd_capture(out, sizeof(out), "pw-metadata 0 default.configured.audio.sink 2>/dev/null");
		fail_msg("default.configured.audio.sink is no longer the user's: %s", out);
	}
	/* the user's choice withdrawn: the highest priority wins, which is Soundstage's sink (1400; the plain device
	 * has none, the array is never a candidate) */
	assert_int_equal(pwd_sh("pw-metadata -d 0 default.configured.audio.sink > /dev/null"), 0);
	assert_true(default_is("soundstage.sink.array", 5.0));
	unplug(dev);
	finish(&d, mine);
}

/* A device no rule matches: no Soundstage; visible to applications; its properties exactly as created. */
static void non_matching_device(void **state)
{
	struct pwd d;
	char out[16384];
	start(&d, "policy-nomatch", NULL);
	pid_t dev = plug(&d, "other", "Some USB Audio Interface", 4);
	assert_true(pwd_wait_node("other", 5.0));
	pwd_sleep(1.5);   /* long enough for the policy to have acted, were it going to */
	pwd_capture(out, sizeof(out), "pw-cli ls Node");
	assert_null(strstr(out, "soundstage"));
	pwd_capture(out, sizeof(out), "pw-dump other");
	assert_non_null(strstr(out, "\"alsa.card_name\": \"Some USB Audio Interface\""));
	assert_null(strstr(out, "soundstage"));
	assert_null(strstr(out, "\"priority.session\""));   /* nobody set one */
	assert_non_null(strstr(out, "\"channelVolumes\": [ 1.000000, 1.000000, 1.000000, 1.000000 ]"));
	assert_false(pwd_file_contains(d.wp_log, "starting Soundstage"));
	finish(&d, dev);
}

/* Bad rules: a misspelt key, and a profile name that does not exist. Each gets a log line naming its rule; the
 * devices stay plain sinks that play (the audio reaches their files). */
static void bad_rules(void **state)
{
	struct pwd d;
	char in[600];
	start(&d, "policy-bad", "soundstage.rules = [\n"
		"  { matches = [ { alsa.card_name = \"Typo Speaker\" } ]\n"
		"    actions = { update-props = { soundstage.model = \"Typo speaker\" soundstage.profle = studio-5 } } }\n"
		"  { matches = [ { alsa.card_name = \"Missing Profile Speaker\" } ]\n"
		"    actions = { update-props = { soundstage.model = \"Missing profile speaker\"\n"
		"                                 soundstage.profile = studo-5 } } }\n"
		"]\n");
	assert_true(pwd_wait_output("soundstage.rules", 5.0, "cat '%s'", d.wp_log));
	pid_t a = plug(&d, "typo", "Typo Speaker", 2);
	pid_t b = plug(&d, "missing", "Missing Profile Speaker", 2);
	assert_true(pwd_wait_node("typo", 5.0));
	assert_true(pwd_wait_node("missing", 5.0));
	assert_true(pwd_wait_output("Soundstage did not start for missing", 10.0, "cat '%s'", d.wp_log));
	char log[600];
	snprintf(log, sizeof(log), "%s", d.wp_log);
	assert_true(pwd_file_contains(log, "soundstage.rules[3] (\"Typo speaker\"): unknown key 'soundstage.profle' "
			"(expected one of:"));
	assert_true(pwd_file_contains(log, "profile 'studo-5': no studo-5.conf in"));
	assert_true(pwd_file_contains(log, "soundstage.rules[4] (\"Missing profile speaker\"): Soundstage did not "
			"start for missing"));
	char out[8192];
	pwd_capture(out, sizeof(out), "pw-cli ls Node");
	assert_null(strstr(out, "soundstage"));
	/* plain sinks that play: stereo to each, the file gets it */
	snprintf(in, sizeof(in), "%s/programme.wav", d.root);
	programme(&d, in, 1.0);
	const char *nodes[2] = { "typo", "missing" };
	for (int i = 0; i < 2; i++) {
		struct pwd_xruns xr;
		pwd_xruns_begin(&d, &xr);
		pid_t p = pwd_spawn("exec '" RT_STREAM "' play --props '{ node.name = play target.object = %s "
				"node.dont-fallback = true }' '%s'", nodes[i], in);
		pwd_sleep(0.8);
		pwd_count_xruns(&d, &xr);   /* while the player is still there to be counted */
		assert_int_equal(pwd_wait_timeout(p, 20.0), 0);
		pwd_sleep(0.3);
		assert_true(device_vs_render(&d, nodes[i], 2, in, 1.0, &xr) <= 1e-4);   /* plain stereo, bit-exact */
	}
	unplug(a);
	finish(&d, b);
}

/* Two matching devices: one Soundstage each, with each rule's profile, each playing into its own device. */
static void two_devices(void **state)
{
	struct pwd d;
	char out[8192];
	start(&d, "policy-two", NULL);
	pid_t a = plug(&d, "studio", STUDIO_CARD, 5);
	pid_t b = plug(&d, "bar", BAR_CARD, 4);
	assert_true(pwd_wait_node("soundstage.sink.studio", 10.0));
	assert_true(pwd_wait_node("soundstage.sink.bar", 10.0));
	assert_true(pwd_wait_designed("soundstage.sink.studio", 1, 20.0));
	assert_true(pwd_wait_designed("soundstage.sink.bar", 1, 20.0));
	assert_true(pwd_wait_output("soundstage.output.studio:output_AUX4\n  |-> studio:playback_AUX4", 5.0,
			"pw-link -l"));
	assert_true(pwd_wait_output("soundstage.output.bar:output_AUX3\n  |-> bar:playback_AUX3", 5.0, "pw-link -l"));
	pwd_capture(out, sizeof(out), "pw-link -l");
	assert_null(strstr(out, "soundstage.output.studio:output_AUX0\n  |-> bar"));
	assert_true(pwd_file_contains(d.wp_log, "starting Soundstage with profile 'soundbar-4'"));
	unplug(a);
	assert_true(pwd_wait_output("soundstage.sink.bar", 5.0, "pw-metadata 0 default.audio.sink 2>/dev/null"));
	unplug(b);
	pwd_stop(&d);
	pwd_cleanup(&d);
}

/* The main job, as README's first command runs it, with a short programme and this build. */
static void demo_runs(void **state)
{
	char dir[] = "/tmp/soundstage-demo-XXXXXX", out[16384];
	assert_non_null(mkdtemp(dir));
	int r = pwd_capture(out, sizeof(out), "sh '%s/tools/demo' --build '%s' --seconds 2 --out '%s' 2>&1",
			SOURCE_DIR, BUILD_DIR, dir);
	print_message("%s", out);
	assert_int_equal(r, 0);
	assert_non_null(strstr(out, "default sink: soundstage.sink."));
	/* what reached the drivers is the offline render's (a run during which the graph xrun says nothing) */
	const char *md = strstr(out, "max |difference| "), *xr = strstr(out, "xruns) PipeWire logged: ");
	assert_non_null(md);
	assert_non_null(xr);
	const double diff = atof(md + strlen("max |difference| "));
	const int xruns = atoi(xr + strlen("xruns) PipeWire logged: "));
	print_message("demo: drivers vs render %.3g, %d graph xruns\n", diff, xruns);
	if (xruns == 0)
		assert_true(diff <= 1e-4);
	char path[600];
	snprintf(path, sizeof(path), "%s/drivers.wav", dir);
	struct wav w;
	assert_int_equal(wav_load(path, &w), 0);
	assert_int_equal(w.channels, 5);
	assert_true(w.frames > 48000);
	wav_free(&w);
	snprintf(path, sizeof(path), "%s/design.txt", dir);
	assert_true(pwd_file_contains(path, "studio-5"));
	/* the measured path on the virtual rig: a measurement, a verification (the ears, the centre beam), the plots */
	static const char *const made[] = { "box.sofa", "box.sofa.log", "verify.json", "verify-beam.json",
		"plots/measure-responses.png", "plots/verify-separation.svg", "plots/verify-beam.png", "plots/separation.png",
		"plots/sweetspot.png", "plots/beam.png", "plots/drivers.png", "plots/loudness.svg" };
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
		if (access(path, R_OK) != 0)
			fail_msg("the demo did not write %s", path);
	}
	assert_non_null(strstr(out, "Soundstage redesigned"));
	static const char *const logs[] = { "pipewire", "wireplumber", "pipewire-rig", "wireplumber-rig", "pipewire-beam",
		"wireplumber-beam" };
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.log", dir, logs[i]);
		assert_false(pwd_sanitizer_report(path));
	}
	pwd_sh("rm -rf '%s'", dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(matching_device, teardown),
		cmocka_unit_test_teardown(volume_and_mute, teardown),
		cmocka_unit_test_teardown(unplug_and_replug, teardown),
		cmocka_unit_test_teardown(service_mode, teardown),
		cmocka_unit_test_teardown(user_default_kept, teardown),
		cmocka_unit_test_teardown(non_matching_device, teardown),
		cmocka_unit_test_teardown(bad_rules, teardown),
		cmocka_unit_test_teardown(two_devices, teardown),
		cmocka_unit_test_teardown(demo_runs, teardown),
	};
	/* SS_TEST_FILTER=name (cmocka's wildcards) runs only the matching tests, for working on one */
	if (getenv("SS_TEST_FILTER"))
		cmocka_set_test_filter(getenv("SS_TEST_FILTER"));
	return pwd_run_verdict(cmocka_run_group_tests(tests, NULL, NULL));
}
