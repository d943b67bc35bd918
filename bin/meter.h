/*
 * meter.h: the progress line of a long backup or restore: one line on
 * standard error, redrawn at most four times a second from a thread of
 * its own, with the files and bytes done, the rate, and, once the total is
 * known, the percentage and the time left:
 *
 *   pk-store: 1204/5410 files, 1.2 GiB of 4.0 GiB, 85.3 MiB/s, 30%, 0:34 left
 *
 * The engine counts in a struct pk_progress (progress.h) and never waits
 * for the line.  To show one around a run:
 *
 *   struct pk_progress count;
 *   struct pk_meter *m = NULL;
 *
 *   pk_progress_init(&count);
 *   if (pk_meter_wanted(opt, 1))
 *           m = pk_meter_start(&count);
 *   opts.progress = &count;              (the engine's counters)
 *   ... run the engine ...
 *   pk_meter_stop(m);                    (the last line, then a newline)
 *
 * A message printed while the line is up goes after pk_meter_break(m), so
 * that it starts a line of its own.  Every function takes a NULL meter.
 */
#ifndef PK_BIN_METER_H
#define PK_BIN_METER_H

#include "progress.h"

/* --progress, --no-progress, or neither (draw when on a terminal). */
enum pk_meter_opt { PK_METER_AUTO, PK_METER_ON, PK_METER_OFF };

/*
 * Whether to draw: always with PK_METER_ON, never with PK_METER_OFF;
 * otherwise when standard error is a terminal, and, when data_out is set
 * (the program writes its output to standard output), that output does
 * not go to the same terminal.
 */
int pk_meter_wanted(enum pk_meter_opt opt, int data_out);

/* Starts drawing c (borrowed until pk_meter_stop) on standard error.
 * NULL when the thread cannot start: the run goes on without a line. */
struct pk_meter *pk_meter_start(struct pk_progress *c);

/* Ends the current line, if one is drawn, before a message. */
void pk_meter_break(struct pk_meter *m);

/* Draws the last line, with the final counts, ends it and frees m. */
void pk_meter_stop(struct pk_meter *m);

#endif
