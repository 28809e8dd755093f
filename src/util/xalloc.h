/* xalloc: allocation that aborts on out-of-memory (git's spelling).
 * Out-of-memory is not bad input; sizes from input are checked against
 * util/limits.h before they reach these. */
#ifndef FERRY_UTIL_XALLOC_H
#define FERRY_UTIL_XALLOC_H

#include <stddef.h>

/** malloc/calloc/realloc that never return NULL (abort on OOM). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/** Fresh heap copies; the caller frees. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
/** Heap-formatted string; the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
