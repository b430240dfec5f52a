/* Soundstage: plots through gnuplot (see plot.h). */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

int ss_plot_dir(const char *dir)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(buf, 0755);
			*p = '/';
		}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "soundstage: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

FILE *ss_plot_data(const char *dir, const char *name, char *path)
{
	snprintf(path, 1024, "%s/%s.dat", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		fprintf(stderr, "soundstage: %s: %s\n", path, strerror(errno));
	return f;
}

void ss_plot_log_freqs(double lo, double hi, int n, double *f)
{
	for (int i = 0; i < n; i++)
		f[i] = lo * pow(hi / lo, n > 1 ? (double)i / (n - 1) : 0.0);
}

int ss_plot(const char *dir, const char *name, const char *title, const char *body)
{
	char path[1024], cmd[1200];
	snprintf(path, sizeof(path), "%s/%s.gp", dir, name);
	FILE *gp = fopen(path, "w");
	if (gp == NULL) {
		fprintf(stderr, "soundstage: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(gp, "# Soundstage: %s (redraw: gnuplot %s.gp)\n"
			"set encoding utf8\nset title \"%s\" noenhanced\nset grid\nset key outside right top noenhanced\n"
			"set terminal pngcairo size 1000,640 font \"sans,10\"\nset output \"%s/%s.png\"\n%s\n"
			"set terminal svg size 1000,640 dynamic font \"sans,10\"\nset output \"%s/%s.svg\"\nreplot\n"
			"set output\n", title, name, title, dir, name, body, dir, name);
	fclose(gp);
	/* gnuplot through a pipe: the script on its standard input */
	snprintf(cmd, sizeof(cmd), "gnuplot 2>&1");
	FILE *p = popen(cmd, "w");
	if (p == NULL) {
		fprintf(stderr, "soundstage: cannot run gnuplot: %s\n", strerror(errno));
		return -1;
	}
	FILE *in = fopen(path, "r");
	char buf[4096];
	size_t n;
	while (in && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, p);
	if (in)
		fclose(in);
	int st = pclose(p);
	if (st != 0) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
			fprintf(stderr, "soundstage: plots need gnuplot: apt install gnuplot-nox\n");
		else
			fprintf(stderr, "soundstage: gnuplot failed on %s\n", path);
		return -1;
	}
	return 0;
}
