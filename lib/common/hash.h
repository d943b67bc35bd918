/*
 * hash.h: chunk ids (SHA-256 of the chunk's bytes, pk-stream(5)) and hex.
 * SHA-256 comes from libcrypto, which uses the CPU's SHA extensions.
 */
#ifndef PK_HASH_H
#define PK_HASH_H

#include <stddef.h>
#include <stdint.h>

#define PK_HASH_BYTES 32

/* out = SHA-256(p[0..n)). */
void pk_hash_id(uint8_t out[PK_HASH_BYTES], const void *p, size_t n);

/* Writes 2n hex digits and a NUL to out. */
void pk_hex(char *out, const uint8_t *p, size_t n);
/* Parses exactly 2n hex digits; returns 0 or -EINVAL. */
int pk_unhex(uint8_t *out, size_t n, const char *hex);

#endif
