/* fuzz_glob: input is "pattern NUL subject".  Runs glob_check and
 * glob_match, and for short inputs compares glob_match with a POSIX ERE
 * built from the same pattern (the regex translation act uses), so a
 * wrong answer aborts just like a crash does. */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/glob.h"
#include "util/buf.h"

#define ORACLE_MAX 48

static int add_lit(struct buf *re, unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z') || c == '/' || c == '_')
        return buf_addch(re, (char)c);
    if (c == '^')
        return buf_adds(re, "\\^");
    if (c == ']')
        return buf_adds(re, "[]]");
    if (buf_addch(re, '['))
        return 1;
    if (buf_addch(re, (char)c))
        return 1;
    return buf_addch(re, ']');
}

/* The class at p[i] == '[' as an ERE alternation; 0 on a bad class. */
static size_t add_class(struct buf *re, const char *p, size_t n, size_t i)
{
    unsigned char set[256] = { 0 };
    size_t start = ++i;
    int first = 1;

    while (i < n && p[i] != ']') {
        unsigned char lo = (unsigned char)p[i];

        if (lo == '\\') {
            if (i + 1 >= n)
                return 0;
            lo = (unsigned char)p[++i];
        }
        if (i + 2 < n && p[i + 1] == '-' && p[i + 2] != ']') {
            unsigned char hi = (unsigned char)p[i + 2];

            if (hi < lo)
                return 0;
            for (unsigned c = lo; c <= hi; c++)
                set[c] = 1;
            i += 3;
            continue;
        }
        set[lo] = 1;
        i++;
    }
    if (i >= n || i == start)
        return 0;
    if (buf_addch(re, '('))
        return 0;
    for (unsigned c = 1; c < 256; c++) {
        if (!set[c])
            continue;
        if ((!first && buf_addch(re, '|')) || add_lit(re, (unsigned char)c))
            return 0;
        first = 0;
    }
    if (buf_addch(re, ')'))
        return 0;
    return i + 1;
}

/* 1: translated; 0: the pattern is invalid; -1: too big to translate. */
static int translate(const char *p, size_t n, struct buf *re)
{
    size_t i = 0;
    int quantifiable = 0;

    if (buf_addch(re, '^'))
        return -1;
    while (i < n) {
        char c = p[i];
        int rc = 0;

        if (c == '*') {
            if (i + 2 < n && p[i + 1] == '*' && p[i + 2] == '/') {
                rc = buf_adds(re, "(.+/)?");
                i += 3;
            } else if (i + 1 < n && p[i + 1] == '*') {
                rc = buf_adds(re, ".*");
                i += 2;
            } else {
                rc = buf_adds(re, "[^/]*");
                i++;
            }
            quantifiable = 0;
        } else if ((c == '?' || c == '+') && i > 0) {
            if (quantifiable)
                rc = buf_addch(re, c);
            quantifiable = 0;
            i++;
        } else if (c == '[') {
            size_t next = add_class(re, p, n, i);

            if (!next)
                return re->len >= re->max ? -1 : 0;
            i = next;
            quantifiable = 1;
        } else if (c == '\\') {
            if (i + 1 >= n)
                return 0;
            rc = add_lit(re, (unsigned char)p[i + 1]);
            i += 2;
            quantifiable = 1;
        } else {
            rc = add_lit(re, (unsigned char)c);
            i++;
            quantifiable = 1;
        }
        if (rc)
            return -1;
    }
    return buf_addch(re, '$') ? -1 : 1;
}

static void oracle(struct span pat, struct span subj, int valid, int got)
{
    struct buf re;
    regex_t rx;
    char *s;
    int tr;

    if (pat.len > ORACLE_MAX || subj.len > ORACLE_MAX ||
        memchr(subj.p, '\0', subj.len))
        return;
    buf_init(&re, 64 * 1024);
    tr = translate(pat.p, pat.len, &re);
    if (tr == 0 && valid && pat.len > 0)
        abort(); /* glob_check accepted what the oracle rejects */
    if (tr == 1 && !valid && pat.len > 0)
        abort(); /* and the other way round */
    if (tr == 1 && regcomp(&rx, buf_cstr(&re), REG_EXTENDED | REG_NOSUB) == 0) {
        s = strndup(subj.p, subj.len);
        if (s && (regexec(&rx, s, 0, NULL, 0) == 0) != (got != 0))
            abort(); /* glob_match disagrees with the regex */
        free(s);
        regfree(&rx);
    }
    buf_release(&re);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul = memchr(data, '\0', size);
    struct span pat;
    struct span subj;
    struct ferr err;
    int valid;
    int got;

    if (nul) {
        pat = span_of(data, (size_t)(nul - (const char *)data));
        subj = span_of(nul + 1, size - pat.len - 1);
    } else {
        pat = span_of(data, size);
        subj = span_of(data, 0);
    }
    ferr_clear(&err);
    valid = glob_check(pat, NULL, &err) == FERR_OK;
    got = glob_match(pat, subj);
    if (pat.len == 0 || pat.p[0] != '!')
        oracle(pat, subj, valid, got);
    if (nul) {
        /* a one-pattern list must agree with glob_match */
        char *cpat = strndup(pat.p, pat.len);

        if (cpat) {
            const char *const list[] = { cpat };

            if (cpat[0] != '!' &&
                glob_match_list(list, 1, subj) != (got != 0))
                abort();
            free(cpat);
        }
    }
    return 0;
}
