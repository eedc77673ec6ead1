/*
 * util.h - small things every module needs
 */
#ifndef CLUBOS_UTIL_H
#define CLUBOS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

void   util_random_hex(char *out, size_t nbytes);
bool   util_is_hex(const char *s, size_t n);
char  *util_read_file(const char *path, size_t max, size_t *len);
size_t util_utf8_chars(const char *s, size_t len, bool *valid);
void   util_sha256_hex(const void *data, size_t len, char out[65]);

#endif
