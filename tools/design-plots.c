/* Soundstage: a design's plots (see design-plots.h). */
#include "design-plots.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "design/predict.h"
#include "plot.h"

#define NF 200

static int separation(const struct ss_filterset *fc, const char *dir)
{
	static const double offsets_cm[] = { 0, 2, 5 };
	double f[NF], sep[3][NF];
	char path[1024], body[2048];
	ss_plot_log_freqs(100.0, 16000.0, NF, f);
	for (int o = 0; o < 3; o++) {
		const double off[3] = { 0, offsets_cm[o] / 100.0, 0 };
		if (ss_predict_separation_curve(fc, NULL, off, NF, f, sep[o]) < 0)
			return -1;
	}
	FILE *d = ss_plot_data(dir, "separation", path);
	if (d == NULL)
		return -1;
	fprintf(d, "# Hz, separation (dB) at 0, 2, 5 cm\n");
	for (int j = 0; j < NF; j++)
		fprintf(d, "%g %g %g %g\n", f[j], sep[0][j], sep[1][j], sep[2][j]);
	fclose(d);
	snprintf(body, sizeof(body),
			"set logscale x\nset xrange [100:16000]\nset xlabel \"frequency (Hz)\"\n"
			"set ylabel \"separation, ipsilateral over contralateral ear (dB)\"\nset yrange [-5:*]\n"
			"set object 1 rect from 1000,graph 0 to 4000,graph 1 behind fc rgb \"#eeeeee\" fs solid noborder\n"
			"plot \"%s\" u 1:2 w l lw 2 t \"head at the nominal position\", \"\" u 1:3 w l lw 1.5 t \"2 cm to the side\", "
			"\"\" u 1:4 w l lw 1 dt 2 t \"5 cm to the side\"", path);
	char title[256];
	snprintf(title, sizeof(title), "%s: crosstalk cancellation (virtualizer off), the design's plant",
			fc->profile.name);
	return ss_plot(dir, "separation", title, body);
}

static int sweetspot(const struct ss_filterset *fc, const char *dir)
{
	enum { NX = 21, NY = 11 };
	double (*off)[3] = malloc(sizeof(*off) * NX * NY), *sep = malloc(sizeof(double) * NX * NY);
	char path[1024], body[2048], title[256];
	int r = -1;
	if (off == NULL || sep == NULL)
		goto out;
	for (int y = 0; y < NY; y++)
		for (int x = 0; x < NX; x++) {
			/* lateral -10..10 cm (+y: to the listener's left), depth -20..20 cm (+x: toward the box) */
			off[y * NX + x][0] = (y - (NY - 1) / 2) * 0.04;
			off[y * NX + x][1] = (x - (NX - 1) / 2) * 0.01;
			off[y * NX + x][2] = 0.0;
		}
	if (ss_predict_separation_map(fc, NULL, 1000.0, 4000.0, NX * NY, (const double (*)[3])off, sep) < 0)
		goto out;
	FILE *d = ss_plot_data(dir, "sweetspot", path);
	if (d == NULL)
		goto out;
	fprintf(d, "# lateral (cm), toward the box (cm), separation 1-4 kHz (dB)\n");
	for (int y = 0; y < NY; y++) {
		for (int x = 0; x < NX; x++)
			fprintf(d, "%g %g %g\n", off[y * NX + x][1] * 100.0, off[y * NX + x][0] * 100.0, sep[y * NX + x]);
		fprintf(d, "\n");
	}
	fclose(d);
	snprintf(body, sizeof(body),
			"set view map\nset xlabel \"head to the listener's left (cm)\"\nset ylabel \"head toward the box (cm)\"\n"
			"set cblabel \"separation 1-4 kHz (dB)\"\nset cbrange [0:30]\nset palette rgbformulae 33,13,10\n"
			"set contour base\nset cntrparam levels discrete 6,10,15,20,25\nset pm3d at b interpolate 4,4\n"
			"unset key\nsplot \"%s\" u 1:2:3 w pm3d, \"\" u 1:2:3 w l lc rgb \"black\" nosurface", path);
	snprintf(title, sizeof(title), "%s: the sweet spot (crosstalk cancellation 1-4 kHz over head positions)",
			fc->profile.name);
	r = ss_plot(dir, "sweetspot", title, body);
out:
	free(off);
	free(sep);
	return r;
}

static int beam(const struct ss_filterset *fs, const char *dir)
{
	enum { NA = 361 };
	const struct ss_profile *p = &fs->profile;
	if (!p->beam.enabled || !(p->beam.band[1] > p->beam.band[0]))
		return 0;
	double az[NA], b[3][NA], e[NA], edge[4];
	char path[1024], body[2048], title[256];
	for (int j = 0; j < NA; j++)
		az[j] = j - 180.0;
	for (int i = 0; i < 4; i++)
		edge[i] = p->beam.band[0] * pow(p->beam.band[1] / p->beam.band[0], i / 3.0);
	double scratch[NA];
	for (int band = 0; band < 3; band++)
		if (ss_predict_beam_pattern(fs, edge[band], edge[band + 1] * 1.0001, NA, az, b[band], scratch) < 0)
			return -1;
	/* the equal feed over the whole beam band */
	if (ss_predict_beam_pattern(fs, edge[0], edge[3] * 1.0001, NA, az, scratch, e) < 0)
		return -1;
	FILE *d = ss_plot_data(dir, "beam", path);
	if (d == NULL)
		return -1;
	fprintf(d, "# azimuth (deg, 0 = toward the listener), beam in three bands and the equal feed (dB re max)\n");
	for (int j = 0; j < NA; j++)
		fprintf(d, "%g %g %g %g %g\n", az[j], fmax(b[0][j], -40.0), fmax(b[1][j], -40.0), fmax(b[2][j], -40.0),
				fmax(e[j], -40.0));
	fclose(d);
	snprintf(body, sizeof(body),
			"set polar\nset angles degrees\nset theta top clockwise\nset size square\nunset border\nunset xtics\n"
			"unset ytics\nset grid polar 30\nset rrange [-40:0]\nset rtics 10\nset ttics 0,30\n"
			"set key outside right top\n"
			"plot \"%s\" u 1:2 w l lw 2 t \"beam %.0f-%.0f Hz\", \"\" u 1:3 w l lw 2 t \"beam %.0f-%.0f Hz\", "
			"\"\" u 1:4 w l lw 2 t \"beam %.0f-%.0f Hz\", \"\" u 1:5 w l dt 2 lc rgb \"gray40\" t \"equal feed\"",
			path, edge[0], edge[1], edge[1], edge[2], edge[2], edge[3]);
	snprintf(title, sizeof(title), "%s: the centre beam, horizontal, dB (nulls aimed at +-%g deg)", p->name,
			p->beam.null_deg);
	return ss_plot(dir, "beam", title, body);
}

static int drivers(const struct ss_filterset *fs, const char *dir)
{
	const int n = fs->n_drivers;
	double f[NF], *g = malloc(sizeof(double) * (size_t)n * NF);
	char path[1024], body[8192], title[256];
	if (g == NULL)
		return -1;
	ss_plot_log_freqs(20.0, 20000.0, NF, f);
	if (ss_predict_driver_gains(fs, SS_IN_LEFT, NF, f, g) < 0) {
		free(g);
		return -1;
	}
	FILE *d = ss_plot_data(dir, "drivers", path);
	if (d == NULL) {
		free(g);
		return -1;
	}
	fprintf(d, "# Hz, then each driver's filter gain from the left input (dB)\n");
	for (int j = 0; j < NF; j++) {
		fprintf(d, "%g", f[j]);
		for (int i = 0; i < n; i++)
			fprintf(d, " %g", fmax(g[(size_t)i * NF + (size_t)j], -60.0));
		fprintf(d, "\n");
	}
	fclose(d);
	free(g);
	size_t used = (size_t)snprintf(body, sizeof(body),
			"set logscale x\nset xrange [20:20000]\nset xlabel \"frequency (Hz)\"\n"
			"set ylabel \"filter gain from the left input (dB)\"\nset yrange [-60:*]\nplot ");
	for (int i = 0; i < n && used < sizeof(body); i++)
		used += (size_t)snprintf(body + used, sizeof(body) - used, "%s\"%s\" u 1:%d w l lw 1.5 t \"%s (%s, effort "
				"%+.1f dB)\"", i ? ", " : "", path, i + 2, fs->profile.drivers[i].name,
				fs->profile.drivers[i].channel, fs->effort_db[i]);
	snprintf(title, sizeof(title), "%s: what each driver plays of the left input", fs->profile.name);
	return ss_plot(dir, "drivers", title, body);
}

static int loudness(const struct ss_filterset *fs, const struct ss_filterset *fc, const struct ss_loudness_report *ld,
		const char *dir)
{
	char path[1024], body[2048], title[256];
	FILE *d = ss_plot_data(dir, "loudness", path);
	if (d == NULL)
		return -1;
	fprintf(d, "# governor level, its effort cap (dB), separation 1-4 kHz (dB) of the crosstalk canceller there\n");
	const int steps = 4 * fc->n_levels;
	for (int s = 0; s <= steps; s++) {
		const double level = (double)s / 4.0;
		struct ss_prediction pr;
		if (ss_predict_at(fc, level, &pr) < 0) {
			fclose(d);
			return -1;
		}
		/* the governor moves both designs' levels together; its drive is the full design's */
		fprintf(d, "%g %g %g\n", level, ss_effort_index_db(fs, level), pr.separation_db[1][2]);
	}
	fclose(d);
	snprintf(body, sizeof(body),
			"set xlabel \"drive the effort governor allows (dB over one driver at the centre)\"\n"
			"set ylabel \"separation 1-4 kHz (dB)\"\nset xrange [*:*] reverse\nset key inside bottom left\n"
			"set arrow 1 from %g,graph 0 to %g,graph 1 nohead dt 2 lc rgb \"#2060c0\"\n"
			"set label 1 \"-20 dBFS: level %.2f\" at %g,graph 0.95 offset 0.5,0 tc rgb \"#2060c0\"\n"
			"set arrow 2 from %g,graph 0 to %g,graph 1 nohead dt 2 lc rgb \"#c02020\"\n"
			"set label 2 \"full scale: level %.2f, %+.1f dB vs plain stereo\" at %g,graph 0.85 offset 0.5,0 "
			"tc rgb \"#c02020\"\n"
			"plot \"%s\" u 2:3 w lp pt 7 ps 0.6 lw 2 t \"crosstalk cancellation at each governor level\"",
			ss_effort_index_db(fs, ld->quiet_effort_hi), ss_effort_index_db(fs, ld->quiet_effort_hi),
			ld->quiet_effort_hi, ss_effort_index_db(fs, ld->quiet_effort_hi),
			ss_effort_index_db(fs, ld->effort_mean), ss_effort_index_db(fs, ld->effort_mean), ld->effort_mean,
			ld->full_db, ss_effort_index_db(fs, ld->effort_mean), path);
	snprintf(title, sizeof(title), "%s: loudness against separation (the effort governor's levels)", fs->profile.name);
	return ss_plot(dir, "loudness", title, body);
}

int ss_design_plots(const struct ss_filterset *fs, const struct ss_filterset *fc, const struct ss_loudness_report *ld,
		const char *dir)
{
	if (fc == NULL)
		fc = fs;
	if (ss_plot_dir(dir) < 0)
		return -1;
	if (separation(fc, dir) < 0 || sweetspot(fc, dir) < 0 || beam(fs, dir) < 0 || drivers(fs, dir) < 0 ||
			loudness(fs, fc, ld, dir) < 0)
		return -1;
	printf("plots in %s: separation, sweetspot, beam, drivers, loudness (.png, .svg; .gp and .dat to redraw)\n", dir);
	return 0;
}
