/* mask_test: the secret masker, plus linebuf + mask together (a secret
 * split across two reads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/linebuf.h"
#include "exec/mask.h"
#include "util/limits.h"
#include "util/xalloc.h"

/* Mask @line with the NUL-separated secrets in @secrets; returns a heap
 * C string the caller frees. */
static char *masked(const char *const *secrets, size_t nsec,
                    struct span line)
{
    struct mask *m = mask_new();
    struct buf out;

    buf_init(&out, 1 << 20);
    for (size_t i = 0; i < nsec; i++)
        assert_int_equal(mask_add(m, span_cstr(secrets[i])), FERR_OK);
    assert_int_equal(mask_line(m, line, &out), FERR_OK);
    mask_free(m);
    return buf_take(&out, NULL);
}

static void check(const char *const *secrets, size_t nsec, const char *line,
                  const char *want)
{
    char *got = masked(secrets, nsec, span_cstr(line));

    assert_string_equal(got, want);
    free(got);
}

#define CHECK(line, want, ...)                                         \
    do {                                                               \
        const char *const sec_[] = { __VA_ARGS__ };                    \
        check(sec_, sizeof(sec_) / sizeof(sec_[0]), (line), (want));   \
    } while (0)

static void test_mask_basic(void **state)
{
    (void)state;
    CHECK("token is hunter22 ok", "token is *** ok", "hunter22");
    CHECK("nothing here", "nothing here", "hunter22");
}

static void test_mask_no_secrets_copies(void **state)
{
    struct mask *m = mask_new();
    struct buf out;

    (void)state;
    buf_init(&out, 100);
    assert_int_equal(mask_count(m), 0);
    assert_int_equal(mask_line(m, SPAN_LIT("plain text"), &out), FERR_OK);
    assert_string_equal(buf_cstr(&out), "plain text");
    assert_int_equal(mask_line(m, SPAN_LIT(""), &out), FERR_OK);
    assert_string_equal(buf_cstr(&out), "plain text");
    assert_int_equal(mask_add(m, SPAN_LIT("#")), FERR_OK);
    assert_int_equal(mask_line(m, span_of(NULL, 0), &out), FERR_OK);
    assert_string_equal(buf_cstr(&out), "plain text");
    buf_release(&out);
    mask_free(m);
}

static void test_mask_appends_to_out(void **state)
{
    struct mask *m = mask_new();
    struct buf out;

    (void)state;
    buf_init(&out, 100);
    assert_int_equal(mask_add(m, SPAN_LIT("secret")), FERR_OK);
    assert_int_equal(buf_adds(&out, "[x] "), FERR_OK);
    assert_int_equal(mask_line(m, SPAN_LIT("a secret"), &out), FERR_OK);
    assert_string_equal(buf_cstr(&out), "[x] a ***");
    buf_release(&out);
    mask_free(m);
}

static void test_mask_multiple_occurrences(void **state)
{
    (void)state;
    CHECK("pw pw1234 x pw1234pw1234 y pw1234", "pw *** x *** y ***",
          "pw1234");
    CHECK("alpha1 beta22 alpha1", "*** *** ***", "alpha1", "beta22");
}

static void test_mask_overlapping_secrets_merge(void **state)
{
    (void)state;
    CHECK("abcd", "***", "abc", "bcd");
    CHECK("xabcdx", "x***x", "abc", "bcd");
    CHECK("0123456789", "***", "01234567", "3456789");
    CHECK("aaaaaaaaaa", "***", "aaaa");
}

static void test_mask_adjacent_secrets_merge(void **state)
{
    (void)state;
    CHECK("[abcdef]", "[***]", "abc", "def");
    CHECK("[secret1secret1]", "[***]", "secret1");
    CHECK("[secret1 secret1]", "[*** ***]", "secret1");
}

static void test_mask_longest_wins(void **state)
{
    (void)state;
    /* a shorter secret that is a prefix must not leave the tail visible */
    CHECK("key=abcdef123!", "key=***!", "abcd", "abcdef123");
    CHECK("key=abcdef123!", "key=***!", "abcdef123", "abcd");
    CHECK("key=abcdefgh!", "key=***!", "abcdefgh", "ab");
    CHECK("key=abcdX", "key=***X", "abcdefgh", "abcd");
}

static void test_mask_multi_line_secret(void **state)
{
    struct mask *m = mask_new();
    struct buf out;

    (void)state;
    buf_init(&out, 1000);
    assert_int_equal(
        mask_add(m, SPAN_LIT("-----BEGIN KEY-----\r\nMIIEvQIBADANBg\n\n"
                             "   \nqhkiG9w0BAQEFAASC\r\n-----END KEY-----")),
        FERR_OK);
    /* the two BEGIN/END lines, two body lines; blank ones skipped */
    assert_int_equal(mask_count(m), 4);
    assert_int_equal(mask_line(m, SPAN_LIT("x MIIEvQIBADANBg y"), &out),
                     FERR_OK);
    assert_string_equal(buf_cstr(&out), "x *** y");
    buf_reset(&out);
    assert_int_equal(mask_line(m, SPAN_LIT("-----END KEY-----"), &out),
                     FERR_OK);
    assert_string_equal(buf_cstr(&out), "***");
    buf_release(&out);
    mask_free(m);
}

static void test_mask_ignores_blank_and_duplicate(void **state)
{
    struct mask *m = mask_new();

    (void)state;
    assert_int_equal(mask_add(m, SPAN_LIT("")), FERR_OK);
    assert_int_equal(mask_add(m, SPAN_LIT("  \t ")), FERR_OK);
    assert_int_equal(mask_add(m, SPAN_LIT("\n\r\n")), FERR_OK);
    assert_int_equal(mask_count(m), 0);
    assert_int_equal(mask_add(m, SPAN_LIT("dup-value")), FERR_OK);
    assert_int_equal(mask_add(m, SPAN_LIT("dup-value")), FERR_OK);
    assert_int_equal(mask_add(m, SPAN_LIT("dup-value\ndup-value\r\n")),
                     FERR_OK);
    assert_int_equal(mask_count(m), 1);
    mask_free(m);
}

static void test_mask_at_start_and_end(void **state)
{
    (void)state;
    CHECK("s3cr3tval middle s3cr3tval", "*** middle ***", "s3cr3tval");
    CHECK("s3cr3tval", "***", "s3cr3tval");
    CHECK("s3cr3tva", "s3cr3tva", "s3cr3tval");
    CHECK("xs3cr3tval", "x***", "s3cr3tval");
}

static void test_mask_one_byte_secret(void **state)
{
    (void)state;
    CHECK("a#b##c", "a***b***c", "#");
    CHECK("#", "***", "#");
    CHECK("x#y token123 z", "x***y *** z", "#", "token123");
    CHECK("ab abc", "*** ***", "a", "b", "abc");
}

static void test_mask_short_secrets_with_long(void **state)
{
    (void)state;
    CHECK("xy longsecret xyz", "*** *** ***", "xy", "longsecret", "xyz");
    CHECK("no", "***", "no");
    CHECK("n", "n", "no");
}

static void test_mask_binary_and_nul(void **state)
{
    static const char line[] = "a\0b\xff\x01secret\0\xfe" "end";
    static const char want[] = "a\0b***\xfe" "end";
    static const char line2[] = "xxab\0cd\0efyy\0";
    static const char want2[] = "xx***yy\0";
    struct mask *m = mask_new();
    struct mask *m2 = mask_new();
    struct buf out;

    (void)state;
    buf_init(&out, 1000);
    assert_int_equal(mask_add(m, span_of("\x01secret\0", 8)), FERR_OK);
    assert_int_equal(mask_add(m, span_of("\xff", 1)), FERR_OK);
    assert_int_equal(mask_line(m, span_of(line, sizeof(line) - 1), &out),
                     FERR_OK);
    /* "\xff" and "\x01secret\0" are adjacent: one region */
    assert_int_equal(out.len, sizeof(want) - 1);
    assert_memory_equal(out.p, want, sizeof(want) - 1);

    buf_reset(&out);
    assert_int_equal(mask_add(m2, span_of("ab\0cd\0ef", 8)), FERR_OK);
    assert_int_equal(mask_line(m2, span_of(line2, sizeof(line2) - 1), &out),
                     FERR_OK);
    assert_int_equal(out.len, sizeof(want2) - 1);
    assert_memory_equal(out.p, want2, sizeof(want2) - 1);
    buf_release(&out);
    mask_free(m);
    mask_free(m2);
}

static void test_mask_limit_secret_bytes(void **state)
{
    struct mask *m = mask_new();
    char *big = xmalloc(LIM_SECRET_BYTES + 1);

    (void)state;
    memset(big, 'k', LIM_SECRET_BYTES + 1);
    assert_int_equal(mask_add(m, span_of(big, LIM_SECRET_BYTES + 1)),
                     FERR_LIMIT);
    assert_int_equal(mask_count(m), 0);
    assert_int_equal(mask_add(m, span_of(big, LIM_SECRET_BYTES)), FERR_OK);
    assert_int_equal(mask_count(m), 1);
    free(big);
    mask_free(m);
}

static void test_mask_limit_secret_count(void **state)
{
    struct mask *m = mask_new();
    char tok[32];

    (void)state;
    for (unsigned i = 0; i < LIM_SECRETS - 1; i++) {
        snprintf(tok, sizeof(tok), "tok-%05u-xyz", i);
        assert_int_equal(mask_add(m, span_cstr(tok)), FERR_OK);
    }
    /* two new lines where one fits: all or nothing */
    assert_int_equal(mask_add(m, SPAN_LIT("last-one-a\nlast-one-b")),
                     FERR_LIMIT);
    assert_int_equal(mask_count(m), LIM_SECRETS - 1);
    assert_int_equal(mask_add(m, SPAN_LIT("last-one-a")), FERR_OK);
    assert_int_equal(mask_add(m, SPAN_LIT("tok-00007-xyz")), FERR_OK);
    assert_int_equal(mask_add(m, SPAN_LIT("one-too-many")), FERR_LIMIT);
    assert_int_equal(mask_count(m), LIM_SECRETS);
    {
        struct buf out;

        buf_init(&out, 1000);
        assert_int_equal(
            mask_line(m, SPAN_LIT("a tok-01000-xyz b last-one-a c"), &out),
            FERR_OK);
        assert_string_equal(buf_cstr(&out), "a *** b *** c");
        buf_release(&out);
    }
    mask_free(m);
}

static void test_mask_out_limit_leaves_out_unchanged(void **state)
{
    struct mask *m = mask_new();
    struct buf out;

    (void)state;
    buf_init(&out, 8);
    assert_int_equal(mask_add(m, SPAN_LIT("#")), FERR_OK);
    assert_int_equal(buf_adds(&out, "ab"), FERR_OK);
    /* "#x#" grows to "***x***" (7 bytes): over the limit with "ab" */
    assert_int_equal(mask_line(m, SPAN_LIT("#x#"), &out), FERR_LIMIT);
    assert_string_equal(buf_cstr(&out), "ab");
    assert_int_equal(out.len, 2);
    buf_release(&out);
    mask_free(m);
}

static void test_mask_long_secrets_and_window(void **state)
{
    char sec[200];
    char line[600];

    (void)state;
    for (size_t i = 0; i < sizeof(sec) - 1; i++)
        sec[i] = (char)('A' + (i * 7) % 26);
    sec[sizeof(sec) - 1] = '\0';
    snprintf(line, sizeof(line), "<%s>", sec);
    CHECK(line, "<***>", sec);
    /* almost the secret: one byte differs at the end */
    line[sizeof(sec) - 1] = 'z';
    {
        char *got = masked((const char *const[]){ sec }, 1,
                           span_cstr(line));

        assert_string_equal(got, line);
        free(got);
    }
}

static void test_mask_crafted_long_secret_is_fast(void **state)
{
    /* a periodic secret against a line of near misses and of overlapping
     * matches: compared by hash, not byte by byte at every position */
    size_t n = LIM_LOG_LINE;
    char *line = xmalloc(n);
    char *sec = xmalloc(LIM_SECRET_BYTES);
    struct mask *m = mask_new();
    struct buf out;

    (void)state;
    buf_init(&out, 4 * (size_t)n);
    memset(sec, 'a', LIM_SECRET_BYTES);
    sec[LIM_SECRET_BYTES / 2 - 1] = 'b';
    memset(line, 'a', n);
    assert_int_equal(mask_add(m, span_of(sec, LIM_SECRET_BYTES / 2)),
                     FERR_OK);
    for (int i = 0; i < 20; i++) {
        buf_reset(&out);
        assert_int_equal(mask_line(m, span_of(line, n), &out), FERR_OK);
        assert_int_equal(out.len, n);
    }
    mask_free(m);
    m = mask_new();
    assert_int_equal(mask_add(m, span_of(sec, LIM_SECRET_BYTES / 2 - 1)),
                     FERR_OK);
    for (int i = 0; i < 20; i++) {
        buf_reset(&out);
        assert_int_equal(mask_line(m, span_of(line, n), &out), FERR_OK);
        assert_string_equal(buf_cstr(&out), "***");
    }
    line[n / 2] = 'b';
    buf_reset(&out);
    assert_int_equal(mask_line(m, span_of(line, n), &out), FERR_OK);
    assert_string_equal(buf_cstr(&out), "***b***");
    buf_release(&out);
    mask_free(m);
    free(sec);
    free(line);
}

/* Reference: mark every byte covered by any occurrence, then replace each
 * marked run by "***". */
static size_t naive(char **sec, const size_t *slen, size_t nsec,
                    const char *s, size_t n, char *out)
{
    char *mark = xcalloc(n + 1, 1);
    size_t o = 0;

    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nsec; k++)
            if (slen[k] <= n - i && memcmp(s + i, sec[k], slen[k]) == 0)
                memset(mark + i, 1, slen[k]);
    for (size_t i = 0; i < n;) {
        if (!mark[i]) {
            out[o++] = s[i++];
            continue;
        }
        memcpy(out + o, "***", 3);
        o += 3;
        while (i < n && mark[i])
            i++;
    }
    free(mark);
    return o;
}

static void random_round(unsigned seed, size_t minlen, size_t maxlen,
                         size_t nsec)
{
    char *sec[64];
    size_t slen[64];
    char line[400];
    char want[1300];
    struct mask *m = mask_new();
    struct buf out;

    srand(seed);
    buf_init(&out, 4096);
    for (size_t k = 0; k < nsec; k++) {
        slen[k] = minlen + (size_t)rand() % (maxlen - minlen + 1);
        sec[k] = xmalloc(slen[k]);
        /* a small alphabet makes overlaps and near misses common */
        for (size_t i = 0; i < slen[k]; i++)
            sec[k][i] = "abc"[rand() % 3];
        if (slen[k] == 0 || span_trim(span_of(sec[k], slen[k])).len == 0)
            continue;
        assert_int_equal(mask_add(m, span_of(sec[k], slen[k])), FERR_OK);
    }
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)rand() % sizeof(line);

        for (size_t i = 0; i < n; i++)
            line[i] = "abcd"[rand() % 4];
        buf_reset(&out);
        assert_int_equal(mask_line(m, span_of(line, n), &out), FERR_OK);
        size_t wn = naive(sec, slen, nsec, line, n, want);
        assert_int_equal(out.len, wn);
        assert_memory_equal(out.p, want, wn);
    }
    for (size_t k = 0; k < nsec; k++)
        free(sec[k]);
    buf_release(&out);
    mask_free(m);
}

static void test_mask_matches_reference_long(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 20; seed++)
        random_round(seed, 4, 12, 1 + seed % 12);
}

static void test_mask_matches_reference_short(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 20; seed++)
        random_round(100 + seed, 1, 9, 1 + seed % 8);
}

static void test_mask_matches_reference_many(void **state)
{
    (void)state;
    random_round(7, 6, 40, 64);
    random_round(8, 2, 70, 64);
}

struct collect {
    const struct mask *m;
    struct buf out;
};

static int mask_cb(void *ud, struct span line)
{
    struct collect *c = ud;

    if (mask_line(c->m, line, &c->out) || buf_addch(&c->out, '\n'))
        return -1;
    return 0;
}

static void test_mask_secret_split_across_reads(void **state)
{
    static const char text[] = "build ok\r\nusing token ghp_SeCrEt42 now\n"
                               "done\n";
    struct mask *m = mask_new();

    (void)state;
    assert_int_equal(mask_add(m, SPAN_LIT("ghp_SeCrEt42")), FERR_OK);
    /* every split point, including inside the secret */
    for (size_t cut = 0; cut <= sizeof(text) - 1; cut++) {
        struct collect c = { m, { 0 } };
        struct linebuf lb;

        buf_init(&c.out, 1000);
        linebuf_init(&lb);
        assert_int_equal(linebuf_feed(&lb, text, cut, mask_cb, &c), 0);
        assert_int_equal(
            linebuf_feed(&lb, text + cut, sizeof(text) - 1 - cut, mask_cb, &c),
            0);
        assert_int_equal(linebuf_finish(&lb, mask_cb, &c), 0);
        assert_string_equal(buf_cstr(&c.out),
                            "build ok\nusing token *** now\ndone\n");
        linebuf_release(&lb);
        buf_release(&c.out);
    }
    mask_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_basic),
        cmocka_unit_test(test_mask_no_secrets_copies),
        cmocka_unit_test(test_mask_appends_to_out),
        cmocka_unit_test(test_mask_multiple_occurrences),
        cmocka_unit_test(test_mask_overlapping_secrets_merge),
        cmocka_unit_test(test_mask_adjacent_secrets_merge),
        cmocka_unit_test(test_mask_longest_wins),
        cmocka_unit_test(test_mask_multi_line_secret),
        cmocka_unit_test(test_mask_ignores_blank_and_duplicate),
        cmocka_unit_test(test_mask_at_start_and_end),
        cmocka_unit_test(test_mask_one_byte_secret),
        cmocka_unit_test(test_mask_short_secrets_with_long),
        cmocka_unit_test(test_mask_binary_and_nul),
        cmocka_unit_test(test_mask_limit_secret_bytes),
        cmocka_unit_test(test_mask_limit_secret_count),
        cmocka_unit_test(test_mask_out_limit_leaves_out_unchanged),
        cmocka_unit_test(test_mask_long_secrets_and_window),
        cmocka_unit_test(test_mask_crafted_long_secret_is_fast),
        cmocka_unit_test(test_mask_matches_reference_long),
        cmocka_unit_test(test_mask_matches_reference_short),
        cmocka_unit_test(test_mask_matches_reference_many),
        cmocka_unit_test(test_mask_secret_split_across_reads),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
