/* Soundstage: plots, drawn by gnuplot (a Debian package: gnuplot-nox) driven through a pipe.
 *
 * A plot is a gnuplot script body (what to draw, from data files the caller wrote into `dir`); this writes
 * DIR/NAME.png (pngcairo) and DIR/NAME.svg from it, keeping DIR/NAME.gp (the whole script) so that a person can
 * change and redraw it. Not real-time code.
 */
#ifndef SS_TOOL_PLOT_H
#define SS_TOOL_PLOT_H

#include <stdio.h>

/** Open DIR/NAME.dat for the caller's data (its path in `path`, 1024 bytes). NULL with a message on failure. */
FILE *ss_plot_data(const char *dir, const char *name, char *path);

/** Draw `body` (gnuplot commands that plot, using the data files) titled `title` into DIR/NAME.png and .svg.
 * 0, or -1 with a message on stderr (no gnuplot: what to install). */
int ss_plot(const char *dir, const char *name, const char *title, const char *body);

/** Make `dir` (and its parents) if missing. 0 or -1 with a message. */
int ss_plot_dir(const char *dir);

/** n frequencies from lo to hi Hz, evenly in log frequency. */
void ss_plot_log_freqs(double lo, double hi, int n, double *f);

#endif
