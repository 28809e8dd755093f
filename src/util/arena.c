/* arena: a list of blocks; big requests get a block of their own. */
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct block {
    struct block *next;
    size_t used;
    size_t cap;
    max_align_t data[];
};

struct arena {
    struct block *head;
    size_t block;
    size_t total;
};

struct arena *arena_new(size_t block)
{
    struct arena *a = xcalloc(1, sizeof(*a));

    a->block = block < 256 ? 256 : block;
    return a;
}

void arena_free(struct arena *a)
{
    struct block *b;

    if (!a)
        return;
    while ((b = a->head)) {
        a->head = b->next;
        free(b);
    }
    free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    struct block *b = a->head;
    void *p;

    if (n > SIZE_MAX / 2)
        abort(); /* no caller asks for this much; sizes are capped first */
    n = (n + align - 1) / align * align;
    if (n == 0)
        n = align;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > a->block ? n : a->block;

        b = xmalloc(sizeof(*b) + cap);
        b->used = 0;
        b->cap = cap;
        /* keep the partly used block at the head when the new one is a
         * one-off for a big request */
        if (a->head && n > a->block) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    p = (char *)b->data + b->used;
    b->used += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);

    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_spandup(struct arena *a, struct span s)
{
    return arena_strndup(a, s.p, s.len);
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t arena_used(const struct arena *a)
{
    return a->total;
}
