/* The designs with their defaults, judged on heads and drivers they were not designed on: every shipped profile and
 * five arrays the project does not ship (tests/profiles, written with only positions, axes, bands, radius and
 * distance). The design's own head is a rigid sphere with its ears at +-100 degrees; the second head is the same
 * sphere with its ears at +-90 degrees (the ear angle alone moves the contralateral paths by up to 30 us), the third
 * the measured KEMAR head libmysofa ships (printed, and held to the virtual-source targets; its crosstalk figures are
 * reported in the README, not asserted: see the notes there). The centre beam is also judged with the drivers
 * radiating as in a small box (acoustics/driver.h: ss_radiation_wide). Targets from the automatic-design issue. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "acoustics/hrtf.h"
#include "acoustics/plant.h"
#include "design/design.h"
#include "design/predict.h"
#include "filterset.h"
#include "profile.h"

static const char *const profiles[] = {
	PROFILE_DIR "/compact-pair.conf", PROFILE_DIR "/studio-5.conf", PROFILE_DIR "/soundbar-4.conf",
	PROFILE_DIR "/array-16.conf", PROFILE_DIR "/stereo-pair.conf",
	MAKER_PROFILE_DIR "/pair-15cm.conf", MAKER_PROFILE_DIR "/cylinder.conf", MAKER_PROFILE_DIR "/line-4.conf",
	MAKER_PROFILE_DIR "/asymmetric-3.conf", MAKER_PROFILE_DIR "/desktop-12cm.conf",
};
#define N_PROFILES (int)(sizeof(profiles) / sizeof(profiles[0]))

struct figures {
	double ctc, ctc2, itd_err[2], itd_asym, ild[2], colour;
};

static void figures_of(const struct ss_filterset *fs, const struct ss_filterset *fc, const struct ss_listener *head,
		struct figures *f)
{
	struct ss_prediction pr, pc;
	struct ss_predict_options o = { .head = head };
	assert_int_equal(ss_predict_with(fs, &o, &pr), 0);
	assert_int_equal(ss_predict_with(fc, &o, &pc), 0);
	f->ctc = pc.separation_db[1][2];
	f->ctc2 = fmin(pc.separation_db[1][1], pc.separation_db[1][3]);
	f->itd_err[0] = pr.itd_us - pr.itd_real_us;
	f->itd_err[1] = pr.itd_right_us - pr.itd_right_real_us;
	f->itd_asym = fabs(pr.itd_us + pr.itd_right_us);
	f->ild[0] = pr.ild_rms_err_db;
	f->ild[1] = pr.ild_rms_err_right_db;
	f->colour = pr.colouration_db;
}

static void print_figures(const char *name, const char *head, const struct figures *f)
{
	print_message("%-14s %-32s CTC 1-4k %5.1f dB, +-2 cm %5.1f | ITD err %+4.0f/%+4.0f us (images differ %2.0f us) | "
			"ILD rms %.2f/%.2f dB | colouration %.1f dB\n", name, head, f->ctc, f->ctc2, f->itd_err[0],
			f->itd_err[1], f->itd_asym, f->ild[0], f->ild[1], f->colour);
}

static void design_pair(const char *path, struct ss_profile *p, struct ss_filterset **fs, struct ss_filterset **fc)
{
	struct ss_error err;
	struct ss_design_options ctc_only = { .ctc_only = true };
	if (ss_profile_load(p, path, &err) < 0)
		fail_msg("%s", err.msg);
	if (ss_design(p, 48000.0, NULL, fs, &err) < 0)
		fail_msg("%s", err.msg);
	if (!p->virtualizer.enabled)
		*fc = NULL;
	else if (ss_design(p, 48000.0, &ctc_only, fc, &err) < 0)
		fail_msg("%s", err.msg);
}

/* The virtual source and the crosstalk canceller, on the design head, the +-90 degree sphere and KEMAR. */
static void virtual_source_and_ctc(void **state)
{
	(void)state;
	struct ss_error err;
	struct ss_hrtf *kemar = ss_hrtf_open(SS_HRTF_DEFAULT_PATH, 48000.0, &err);
	if (!kemar)
		print_message("no measured head (%s): KEMAR rows left out\n", err.msg);
	struct ss_listener measured = { "KEMAR", 0.0, 0.0, kemar };
	for (int i = 0; i < N_PROFILES; i++) {
		struct ss_profile p;
		struct ss_filterset *fs, *fc;
		struct figures own, other, km;
		design_pair(profiles[i], &p, &fs, &fc);
		const struct ss_filterset *ctc = fc ? fc : fs;
		figures_of(fs, ctc, &ss_listener_design, &own);
		figures_of(fs, ctc, &ss_listener_sphere90, &other);
		print_figures(p.name, ss_listener_design.name, &own);
		print_figures(p.name, ss_listener_sphere90.name, &other);
		if (kemar) {
			figures_of(fs, ctc, &measured, &km);
			print_figures(p.name, "KEMAR (measured)", &km);
		}
		if (p.virtualizer.enabled) {
			for (int s = 0; s < 2; s++) {
				assert_true(fabs(own.itd_err[s]) <= 30.0);
				assert_true(own.ild[s] <= 2.0);
				assert_true(fabs(other.itd_err[s]) <= 60.0);
				assert_true(other.ild[s] <= 3.0);
				if (kemar)
					assert_true(fabs(km.itd_err[s]) <= 60.0);
			}
			assert_true(own.itd_asym <= 20.0);
			assert_true(other.itd_asym <= 20.0);
			assert_true(own.colour <= 6.0);
			assert_true(other.colour <= 6.0);
			if (kemar)
				assert_true(km.colour <= 6.0);
			/* the crosstalk canceller alone on the second head; a +-30 degree pair of loudspeakers 2.5 m away
			 * (stereo-pair, virtualizer off) is not a compact array: its separation on another head is printed
			 * (README) but its paths differ by a metre, so that 10 degrees of ear angle move them by whole
			 * cycles at 4 kHz */
			assert_true(other.ctc >= 22.0);
			assert_true(other.ctc2 >= 16.0);
		}
		ss_filterset_free(fs);
		ss_filterset_free(fc);
	}
	ss_hrtf_free(kemar);
}

/* The centre beam with the drivers radiating as the design assumes and as in a small box: front-to-side >= 15 dB
 * under both, directivity index not below the equal feed's, first side-wall reflections >= 3 dB below the equal
 * feed's. */
static void beam_under_directivity_uncertainty(void **state)
{
	(void)state;
	for (int i = 0; i < N_PROFILES; i++) {
		struct ss_profile p;
		struct ss_error err;
		struct ss_filterset *fs;
		if (ss_profile_load(&p, profiles[i], &err) < 0 || ss_design(&p, 48000.0, NULL, &fs, &err) < 0)
			fail_msg("%s", err.msg);
		const struct ss_radiation *models[2] = { &ss_radiation_nominal, &ss_radiation_wide };
		const char *names[2] = { "nominal drivers", "drivers in a small box" };
		for (int m = 0; m < 2; m++) {
			struct ss_prediction pr;
			struct ss_predict_options o = { .radiation = models[m] };
			assert_int_equal(ss_predict_with(fs, &o, &pr), 0);
			if (!pr.beam_valid) {
				if (m == 0)
					print_message("%-14s no centre beam (%s)\n", p.name,
							p.beam.enabled ? "the geometry cannot steer one" : "off");
				break;
			}
			print_message("%-14s %-24s beam %4.0f-%4.0f Hz: front-to-side %5.1f dB, DI %4.1f dB (equal feed "
					"%4.1f), side-wall reflections %+5.1f dB against the equal feed\n", p.name, names[m],
					fs->profile.beam.band[0], fs->profile.beam.band[1], pr.beam_fsr_db, pr.beam_di_db,
					pr.equal_di_db, pr.room_reflection_db);
			assert_true(pr.beam_fsr_db >= 15.0);
			if (m == 0) {
				assert_true(pr.beam_di_db >= pr.equal_di_db - 0.05);
				assert_true(pr.room_reflection_db <= -3.0);
			} else {
				/* under the small box's radiation the beam's DI stays within 0.5 dB of that equal feed's (it
				 * is 0.1 dB below on soundbar-4, whose beam is the equal feed with nulls), and its side-wall
				 * reflections stay below the equal feed's */
				assert_true(pr.beam_di_db >= pr.equal_di_db - 0.5);
				assert_true(pr.room_reflection_db <= -3.0);
			}
		}
		ss_filterset_free(fs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(virtual_source_and_ctc),
		cmocka_unit_test(beam_under_directivity_uncertainty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
