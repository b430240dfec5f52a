/* Measured responses written as AES69 SOFA (dsp/measure/sofa-write.c, netCDF) read back by an independent reader,
 * libmysofa: dimensions, the GeneralFIR attributes, every position and every sample; a path that cannot be written
 * gets an error naming it. */
#include <errno.h>
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
#include <mysofa.h>

#include "measure/sofa.h"
#include "util/random.h"

static const char *attribute(const struct MYSOFA_ATTRIBUTE *a, const char *name)
{
	for (; a; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a->value;
	return NULL;
}

static void written_and_read_back(void **state)
{
	enum { M = 3, R = 2, N = 300 };
	static double ir[M * R * N];
	struct ss_rng rng;
	ss_rng_seed(&rng, 5);
	for (int i = 0; i < M * R * N; i++)
		ir[i] = 0.3 * ss_rng_gauss(&rng) * exp(-(i % N) / 60.0);
	const double emitter[M][3] = { { 0, 0.07, 0.02 }, { 0, -0.07, 0.02 }, { -0.08, 0, 0.03 } };
	const double receiver[R][3] = { { 0, 0.0875, 0 }, { 0, -0.0875, 0 } };
	struct ss_sofa_measurement m = {
		.rate = 48000, .m = M, .r = R, .n = N, .ir = ir, .emitter = emitter, .receiver = receiver,
		.source = { 2.0, 0, 0 }, .title = "test box, 3 drivers to both ears", .room = "reverberant",
		.comment = "written by test_sofa",
	};
	char path[] = "/tmp/soundstage-sofa-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct ss_error err;
	if (ss_sofa_write(path, &m, &err) < 0)
		fail_msg("%s", err.msg);
	int e = 0;
	struct MYSOFA_HRTF *h = mysofa_load(path, &e);
	if (h == NULL)
		fail_msg("libmysofa could not read %s back: error %d", path, e);
	assert_int_equal(h->M, M);
	assert_int_equal(h->R, R);
	assert_int_equal(h->N, N);
	assert_int_equal(h->E, 1);
	assert_int_equal(h->C, 3);
	assert_string_equal(attribute(h->attributes, "Conventions"), "SOFA");
	assert_string_equal(attribute(h->attributes, "SOFAConventions"), "GeneralFIR");
	assert_string_equal(attribute(h->attributes, "DataType"), "FIR");
	assert_string_equal(attribute(h->attributes, "RoomType"), "reverberant");
	assert_int_equal(h->DataSamplingRate.elements, 1);
	assert_true(h->DataSamplingRate.values[0] == 48000.0f);
	assert_int_equal(h->DataIR.elements, M * R * N);
	double md = 0;
	for (int i = 0; i < M * R * N; i++)
		md = fmax(md, fabs(h->DataIR.values[i] - ir[i]));
	assert_true(md <= 1e-7);   /* libmysofa reads into float */
	assert_int_equal(h->EmitterPosition.elements, 3 * M);
	for (int c = 0; c < 3; c++)
		for (int k = 0; k < M; k++)
			assert_true(fabs(h->EmitterPosition.values[c * M + k] - emitter[k][c]) < 1e-7);
	assert_int_equal(h->ReceiverPosition.elements, 3 * R);
	for (int r = 0; r < R; r++)
		for (int c = 0; c < 3; c++)
			assert_true(fabs(h->ReceiverPosition.values[r * 3 + c] - receiver[r][c]) < 1e-7);
	assert_true(h->SourcePosition.values[0] == 2.0f);
	assert_true(h->ListenerView.values[0] == 1.0f);
	assert_string_equal(attribute(h->EmitterPosition.attributes, "Type"), "cartesian");
	print_message("SOFA GeneralFIR: %u measurements x %u receivers x %u samples written with netCDF, read back by "
			"libmysofa, max |difference| %.2g\n", h->M, h->R, h->N, md);
	mysofa_free(h);
	unlink(path);

	/* a folder that does not exist */
	assert_int_equal(ss_sofa_write("/nonexistent-folder/box.sofa", &m, &err), -EIO);
	print_message("unwritable: %s\n", err.msg);
	assert_non_null(strstr(err.msg, "/nonexistent-folder/box.sofa"));
	m.m = 0;
	assert_int_equal(ss_sofa_write("/tmp/never.sofa", &m, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(written_and_read_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
