/*
 * json.h: JSON and time output for the tools that print --json (pk-index,
 * pk-forget, pk-store).
 */
#ifndef PK_BIN_JSON_H
#define PK_BIN_JSON_H

#include <stddef.h>
#include <stdint.h>

/* A JSON string on standard output; bytes that are not UTF-8 come out as
 * \u00XX. */
void pk_put_json(const uint8_t *p, size_t n);
void pk_put_jsonz(const char *s);
/* ,"key":["v0",...] */
void pk_put_json_strings(const char *key, char **v, uint32_t n);
/* A time: quoted RFC 3339 in UTC with nanoseconds when utc is set, else
 * "YYYY-MM-DD HH:MM:SS" in local time. */
void pk_put_time(int64_t sec, uint32_t nsec, int utc);

/* A snapshot as pk-index --json lists it: one object, no newline. */
struct pk_snapshot;
void pk_put_snapshot_json(const struct pk_snapshot *s);

#endif
