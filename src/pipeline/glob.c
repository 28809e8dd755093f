/* glob: GitHub Actions filter patterns (branches, tags, paths).  A pattern
 * compiles to a small token list that is run as a Thompson NFA, so a match
 * costs O(pattern * subject) whatever the pattern: no backtracking.  It does
 * not read the file system and knows nothing of refs/heads/ prefixes; the
 * caller passes the branch name or repository-relative path. */
#include "pipeline/glob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

enum tok_kind {
    TK_CLASS, /* one byte from set */
    TK_SKIP,  /* epsilon to the next token, or past the next n tokens */
};

enum tok_rep {
    REP_ONE,  /* exactly once */
    REP_OPT,  /* zero or one ('?') */
    REP_MANY, /* zero or more ('*', and the tail of '+') */
};

struct tok {
    enum tok_kind kind;
    enum tok_rep rep;    /* TK_CLASS only */
    size_t skip;         /* TK_SKIP: tokens jumped over on the bypass */
    uint8_t set[32];     /* TK_CLASS: bit b set when byte b matches */
};

struct prog {
    struct tok *t;
    size_t n;
    size_t cap;
};

static void set_add(uint8_t *set, unsigned char c)
{
    set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static bool set_has(const uint8_t *set, unsigned char c)
{
    return (set[c >> 3] >> (c & 7)) & 1u;
}

static struct tok *push(struct prog *p, enum tok_kind kind)
{
    struct tok *t;

    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->t = xrealloc(p->t, p->cap * sizeof(*p->t));
    }
    t = &p->t[p->n++];
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    t->rep = REP_ONE;
    return t;
}

static void push_any(struct prog *p, enum tok_rep rep, bool slash)
{
    struct tok *t = push(p, TK_CLASS);

    memset(t->set, 0xff, sizeof(t->set));
    if (!slash)
        t->set['/' >> 3] &= (uint8_t)~(1u << ('/' & 7));
    t->rep = rep;
}

/* Parse "[...]" starting at s[i] == '['.  Returns the index after ']', or
 * 0 with *why set when the class is malformed. */
static size_t parse_class(struct span s, size_t i, uint8_t *set,
                          const char **why)
{
    size_t start;

    i++;
    start = i;
    while (i < s.len && s.p[i] != ']') {
        unsigned char lo = (unsigned char)s.p[i];

        if (lo == '\\') {
            if (i + 1 >= s.len) {
                *why = "missing character after '\\'";
                return 0;
            }
            lo = (unsigned char)s.p[++i];
        }
        if (i + 2 < s.len && s.p[i + 1] == '-' && s.p[i + 2] != ']') {
            unsigned char hi = (unsigned char)s.p[i + 2];

            if (hi < lo) {
                *why = "reversed range in '[...]'";
                return 0;
            }
            for (unsigned c = lo; c <= hi; c++)
                set_add(set, (unsigned char)c);
            i += 3;
            continue;
        }
        set_add(set, lo);
        i++;
    }
    if (i >= s.len) {
        *why = "missing ']' after '['";
        return 0;
    }
    if (i == start) {
        *why = "empty brackets '[]'";
        return 0;
    }
    return i + 1;
}

/* Compile @s into @p.  On a syntax error returns false with *why and
 * *where (byte offset) set; @p is then partially filled. */
static bool compile(struct span s, struct prog *p, const char **why,
                    size_t *where)
{
    size_t i = 0;
    bool quantifiable = false; /* last token may take '?' or '+' */

    while (i < s.len) {
        char c = s.p[i];
        struct tok *t;

        if (c == '*') {
            if (i + 1 < s.len && s.p[i + 1] == '*') {
                if (i + 2 < s.len && s.p[i + 2] == '/') {
                    /* "**" + "/": zero directories, or ".+/" */
                    push(p, TK_SKIP)->skip = 3;
                    push_any(p, REP_ONE, true);
                    push_any(p, REP_MANY, true);
                    t = push(p, TK_CLASS);
                    set_add(t->set, '/');
                    i += 3;
                } else {
                    push_any(p, REP_MANY, true);
                    i += 2;
                }
            } else {
                push_any(p, REP_MANY, false);
                i++;
            }
            quantifiable = false;
            continue;
        }
        if ((c == '?' || c == '+') && i > 0) {
            /* a quantifier after a star or another quantifier adds
             * nothing: the star already matches zero or more */
            if (quantifiable) {
                struct tok *last = &p->t[p->n - 1];

                if (c == '?') {
                    last->rep = REP_OPT;
                } else {
                    struct tok *more = push(p, TK_CLASS);

                    memcpy(more->set, p->t[p->n - 2].set, sizeof(more->set));
                    more->rep = REP_MANY;
                }
            }
            quantifiable = false;
            i++;
            continue;
        }
        t = push(p, TK_CLASS);
        if (c == '[') {
            size_t next = parse_class(s, i, t->set, why);

            if (!next) {
                *where = i;
                return false;
            }
            i = next;
        } else if (c == '\\') {
            if (i + 1 >= s.len) {
                *why = "missing character after '\\'";
                *where = i;
                return false;
            }
            set_add(t->set, (unsigned char)s.p[i + 1]);
            i += 2;
        } else {
            set_add(t->set, (unsigned char)c);
            i++;
        }
        quantifiable = true;
    }
    return true;
}

static void mark(size_t i, bool *on, size_t *list, size_t *n)
{
    if (!on[i]) {
        on[i] = true;
        list[(*n)++] = i;
    }
}

/* Add state @i and its epsilon closure to the set @on, which is also kept
 * as the list @list so that a step costs O(active states).  The list is
 * its own work queue: no recursion, whatever the pattern. */
static void add_state(const struct prog *p, size_t i, bool *on, size_t *list,
                      size_t *n)
{
    size_t k = *n;

    mark(i, on, list, n);
    for (; k < *n; k++) {
        size_t st = list[k];
        const struct tok *t;

        if (st == p->n)
            continue;
        t = &p->t[st];
        if (t->kind == TK_SKIP) {
            mark(st + 1, on, list, n);
            mark(st + 1 + t->skip, on, list, n);
        } else if (t->rep != REP_ONE) {
            mark(st + 1, on, list, n);
        }
    }
}

static bool run(const struct prog *p, struct span s)
{
    size_t m = p->n + 1;
    bool *on = xcalloc(2 * m, sizeof(*on));
    size_t *lists = xmalloc(2 * m * sizeof(*lists));
    bool *cur_on = on;
    bool *nxt_on = on + m;
    size_t *cur = lists;
    size_t *nxt = lists + m;
    size_t ncur = 0;
    bool ok;

    add_state(p, 0, cur_on, cur, &ncur);
    for (size_t k = 0; k < s.len && ncur > 0; k++) {
        unsigned char c = (unsigned char)s.p[k];
        size_t nnxt = 0;

        for (size_t j = 0; j < ncur; j++) {
            size_t st = cur[j];
            const struct tok *t;

            if (st == p->n)
                continue;
            t = &p->t[st];
            if (t->kind != TK_CLASS || !set_has(t->set, c))
                continue;
            if (t->rep == REP_MANY)
                add_state(p, st, nxt_on, nxt, &nnxt);
            else
                add_state(p, st + 1, nxt_on, nxt, &nnxt);
        }
        for (size_t j = 0; j < ncur; j++)
            cur_on[cur[j]] = false;
        {
            bool *tb = cur_on;
            size_t *tl = cur;

            cur_on = nxt_on;
            nxt_on = tb;
            cur = nxt;
            nxt = tl;
        }
        ncur = nnxt;
    }
    ok = cur_on[p->n];
    free(on);
    free(lists);
    return ok;
}

bool glob_match(struct span pattern, struct span s)
{
    struct prog p = { 0 };
    const char *why = NULL;
    size_t where = 0;
    bool ok = false;

    if (compile(pattern, &p, &why, &where))
        ok = run(&p, s);
    free(p.t);
    return ok;
}

bool glob_match_list(const char *const *patterns, size_t n, struct span s)
{
    bool included = false;

    for (size_t i = 0; i < n; i++) {
        struct span pat = span_cstr(patterns[i]);
        bool neg = pat.len > 0 && pat.p[0] == '!';

        if (neg) {
            pat.p++;
            pat.len--;
        }
        if (glob_match(pat, s))
            included = !neg;
    }
    return included;
}

enum ferr_code glob_check(struct span pattern, const struct pos *pos,
                          struct ferr *err)
{
    struct prog p = { 0 };
    struct span body = pattern;
    const char *why = NULL;
    size_t where = 0;
    struct pos at;
    bool ok;

    if (body.len > 0 && body.p[0] == '!') {
        body.p++;
        body.len--;
    }
    if (body.len == 0)
        return ferr_set(err, FERR_PARSE, pos, "empty filter pattern '%.*s'",
                        SPAN_ARGS(pattern));
    ok = compile(body, &p, &why, &where);
    free(p.t);
    if (ok)
        return FERR_OK;
    if (pos) {
        at = *pos;
        where += (size_t)(body.p - pattern.p);
        if (at.line > 0 && where < UINT32_MAX - at.col)
            at.col += (uint32_t)where;
        pos = &at;
    }
    return ferr_set(err, FERR_PARSE, pos, "invalid filter pattern '%.*s': %s",
                    SPAN_ARGS(pattern), why);
}
