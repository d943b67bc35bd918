/*
 * forgetnote.h: the newest snapshot seen (newest.h) after snapshots were
 * forgotten on purpose.  The note only moves forward, so that a rollback
 * is noticed; but forgetting the newest snapshot is no rollback, and the
 * note must then move back to what is left, or pk-index --check would
 * report one.
 */
#ifndef PK_FORGETNOTE_H
#define PK_FORGETNOTE_H

#include "newest.h"

/*
 * When place's line of the note file at path still names was, replaces it
 * by now, or drops it when now is NULL; the other places' lines stay.  A
 * note that names anything else, a missing file or a missing line are left
 * as they are: 0.  Another process that noted a newer snapshot meanwhile
 * wins.
 */
int pk_forget_note(const char *path, const char *place,
    const struct pk_newest *was, const struct pk_newest *now);

#endif
