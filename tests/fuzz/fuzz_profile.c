/* Fuzz target for the profile parser: any bytes given as a profile file are parsed, validated, their "auto" values
 * resolved and the design's cost and latency estimated (everything the module does synchronously at load, before any
 * design). The contract checked beside the sanitizers: every failure fills the error message, names the file and
 * returns a negative errno; a profile that parses also validates and resolves or fails with a message.
 *
 * Built two ways: with clang -fsanitize=fuzzer (meson -Dfuzz=true) it is a libFuzzer target; otherwise main() below
 * replays the files or directories given (the shipped profiles, the test profiles and every input the fuzzer ever
 * found, tests/fuzz/regressions) as the meson test "fuzz-regressions". */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "design/defaults.h"
#include "design/design.h"
#include "profile.h"

#define FUZZ_NAME "fuzz.conf"

static void require(int ok, const char *what, const struct ss_error *err)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz-profile: contract broken: %s (message: \"%s\")\n", what, err ? err->msg : "");
	abort();
}

static void check_failure(int r, const struct ss_error *err)
{
	require(r < 0 && r > -4096, "a failure is a negative errno", err);
	require(err->msg[0] != '\0', "a failure has a message", err);
	require(strstr(err->msg, FUZZ_NAME) != NULL || strcmp(err->file, FUZZ_NAME) == 0,
			"a failure names the file", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ss_profile p, resolved;
	struct ss_error err;
	/* the error is filled on failure whatever it held before */
	memset(&err, 0x5a, sizeof(err));
	err.msg[sizeof(err.msg) - 1] = '\0';
	err.msg[0] = '\0';
	int r = ss_profile_parse(&p, FUZZ_NAME, (const char *)data, size, &err);
	if (r < 0) {
		check_failure(r, &err);
		return 0;
	}
	memset(&err, 0, sizeof(err));
	r = ss_profile_validate(&p, &err);
	require(r == 0, "a parsed profile validates (parse validates)", &err);
	r = ss_defaults_resolve(&p, &resolved, NULL, &err);
	if (r < 0) {
		check_failure(r, &err);
		return 0;
	}
	const double rates[] = { 44100.0, 48000.0, 96000.0 };
	for (int i = 0; i < 3; i++) {
		memset(&err, 0, sizeof(err));
		r = ss_design_check_cost(&resolved, rates[i], &err);
		if (r < 0)
			check_failure(r, &err);
		int latency = ss_design_latency_estimate(&resolved, rates[i]);
		require(latency > 0 && latency < (int)rates[i], "a latency estimate under a second", NULL);
	}
	return 0;
}

#ifndef SS_LIBFUZZER
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "fuzz-profile: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	size_t n;
	while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *b = realloc(buf, cap *= 2);
			if (b == NULL)
				free(buf);
			buf = b;
		}
	}
	fclose(f);
	if (buf == NULL) {
		fprintf(stderr, "fuzz-profile: %s: out of memory\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

/* Replays each file named, or each regular file in each directory named; fails if nothing was replayed. */
int main(int argc, char **argv)
{
	int files = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fuzz-profile: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) < 0)
				return 1;
			files++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (e->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			if (run_file(path) < 0)
				return 1;
			files++;
		}
		if (d)
			closedir(d);
	}
	printf("fuzz-profile: %d inputs replayed, every contract held\n", files);
	return files > 0 ? 0 : 1;
}
#endif
