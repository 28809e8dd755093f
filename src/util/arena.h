/* arena: bump allocator for trees with one lifetime (a workflow AST, a
 * request, a run's expression values).  Nothing is freed one by one. */
#ifndef FERRY_UTIL_ARENA_H
#define FERRY_UTIL_ARENA_H

#include <stddef.h>

#include "util/span.h"

struct arena;

/** A new arena whose blocks are at least @block bytes.  Free with
 *  arena_free. */
struct arena *arena_new(size_t block);
/** Free every allocation of @a and @a itself.  NULL is a no-op. */
void arena_free(struct arena *a);
/** @n zeroed bytes, aligned for any type, owned by @a.  Aborts on OOM. */
void *arena_alloc(struct arena *a, size_t n);
/** NUL-terminated copies owned by @a. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_spandup(struct arena *a, struct span s);
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Bytes handed out so far (for limits). */
size_t arena_used(const struct arena *a);

#endif
