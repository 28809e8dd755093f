/* linebuf_test: line assembly from reads of any size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/linebuf.h"
#include "util/limits.h"
#include "util/xalloc.h"

/* Collected lines: each as "<len>:" + bytes + "\n" so that pieces, empty
 * lines and embedded newlines-free content are all distinguishable. */
struct lines {
    struct buf all;
    size_t n;
    int stop_at;       /* return 7 from the callback on this line; 0 never */
};

static int collect(void *ud, struct span line)
{
    struct lines *l = ud;

    l->n++;
    assert_int_equal(buf_addf(&l->all, "%zu:", line.len), FERR_OK);
    assert_int_equal(buf_addspan(&l->all, line), FERR_OK);
    assert_int_equal(buf_addch(&l->all, '\n'), FERR_OK);
    if (l->stop_at && (int)l->n == l->stop_at)
        return 7;
    return 0;
}

static void lines_init(struct lines *l)
{
    buf_init(&l->all, 64u * 1024 * 1024);
    l->n = 0;
    l->stop_at = 0;
}

/* Feed @text in chunks chosen by @next_chunk, then finish. */
static void feed_chunks(struct lines *l, const char *text, size_t n,
                        size_t (*next_chunk)(size_t left))
{
    struct linebuf lb;
    size_t off = 0;

    linebuf_init(&lb);
    while (off < n) {
        size_t c = next_chunk(n - off);

        if (c > n - off)
            c = n - off;
        assert_int_equal(linebuf_feed(&lb, text + off, c, collect, l), 0);
        off += c;
    }
    assert_int_equal(linebuf_finish(&lb, collect, l), 0);
    assert_int_equal(lb.pending.len, 0);
    linebuf_release(&lb);
}

static size_t all_at_once(size_t left)
{
    return left;
}

static size_t one_byte(size_t left)
{
    (void)left;
    return 1;
}

static size_t random_size(size_t left)
{
    size_t r = (size_t)rand();

    /* mostly small reads, sometimes big ones */
    return r % 4 ? 1 + r % 97 : 1 + r % (left + 1);
}

static void check_one(const char *text, const char *want)
{
    struct lines l;

    lines_init(&l);
    feed_chunks(&l, text, strlen(text), all_at_once);
    assert_string_equal(buf_cstr(&l.all), want);
    buf_release(&l.all);
}

static void test_linebuf_basic_lines(void **state)
{
    (void)state;
    check_one("one\ntwo\n", "3:one\n3:two\n");
    check_one("", "");
    check_one("\n", "0:\n");
    check_one("\n\n", "0:\n0:\n");
}

static void test_linebuf_strips_one_cr(void **state)
{
    (void)state;
    check_one("a\r\nb\r\r\n\r\n", "1:a\n2:b\r\n0:\n");
    check_one("mid\rdle\n", "7:mid\rdle\n");
}

static void test_linebuf_finish_delivers_rest(void **state)
{
    (void)state;
    check_one("a\nrest", "1:a\n4:rest\n");
    check_one("a\nrest\r", "1:a\n4:rest\n");
}

static void test_linebuf_finish_resets(void **state)
{
    struct lines l;
    struct linebuf lb;

    (void)state;
    lines_init(&l);
    linebuf_init(&lb);
    assert_int_equal(linebuf_feed(&lb, "abc", 3, collect, &l), 0);
    assert_int_equal(linebuf_finish(&lb, collect, &l), 0);
    assert_int_equal(linebuf_finish(&lb, collect, &l), 0);
    assert_int_equal(linebuf_feed(&lb, "de\n", 3, collect, &l), 0);
    assert_string_equal(buf_cstr(&l.all), "3:abc\n2:de\n");
    linebuf_release(&lb);
    buf_release(&l.all);
}

static void test_linebuf_binary_bytes(void **state)
{
    static const char text[] = "a\0b\n\xff\xfe\n";
    struct lines l;

    (void)state;
    lines_init(&l);
    feed_chunks(&l, text, sizeof(text) - 1, one_byte);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.all.len, 11);
    assert_memory_equal(l.all.p, "3:a\0b\n2:\xff\xfe\n", 11);
    buf_release(&l.all);
}

/* A text with long lines around the piece size, CRs and empty lines. */
static char *long_text(size_t *out_n)
{
    const size_t lim = LIM_LOG_LINE;
    const size_t sizes[] = { 0,       1,           lim - 1, lim,
                             lim + 1, lim + 2,     2 * lim, 2 * lim + 1,
                             3 * lim + 5, 10,      lim - 1, lim };
    struct buf b;

    buf_init(&b, 16u * 1024 * 1024);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (size_t k = 0; k < sizes[i]; k++)
            assert_int_equal(buf_addch(&b, (char)('a' + (i + k) % 26)),
                             FERR_OK);
        /* odd lines end in CRLF, the last one has no newline */
        if (i % 2)
            assert_int_equal(buf_addch(&b, '\r'), FERR_OK);
        if (i + 1 < sizeof(sizes) / sizeof(sizes[0]))
            assert_int_equal(buf_addch(&b, '\n'), FERR_OK);
    }
    return buf_take(&b, out_n);
}

static void test_linebuf_long_lines_in_pieces(void **state)
{
    struct lines l;
    size_t n;
    char *text = long_text(&n);
    const char *p;
    size_t count = 0;

    (void)state;
    lines_init(&l);
    feed_chunks(&l, text, n, all_at_once);
    /* no piece is longer than the limit; count the pieces */
    p = l.all.p;
    while (p < l.all.p + l.all.len) {
        char *end;
        unsigned long len = strtoul(p, &end, 10);

        assert_true(len <= LIM_LOG_LINE);
        p = end + 1 + len + 1;
        count++;
    }
    /* 0,1,lim-1,lim,lim+1(2),lim+2(2),2lim(2),2lim+1(3),3lim+5(4),10,
     * lim-1,lim */
    assert_int_equal(count, 1 + 1 + 1 + 1 + 2 + 2 + 2 + 3 + 4 + 1 + 1 + 1);
    assert_int_equal(l.n, count);
    free(text);
    buf_release(&l.all);
}

static void test_linebuf_any_split_gives_same_lines(void **state)
{
    struct lines once;
    struct lines bytes;
    size_t n;
    char *text = long_text(&n);

    (void)state;
    lines_init(&once);
    feed_chunks(&once, text, n, all_at_once);
    lines_init(&bytes);
    feed_chunks(&bytes, text, n, one_byte);
    assert_int_equal(bytes.all.len, once.all.len);
    assert_memory_equal(bytes.all.p, once.all.p, once.all.len);
    for (unsigned seed = 1; seed <= 10; seed++) {
        struct lines r;

        srand(seed);
        lines_init(&r);
        feed_chunks(&r, text, n, random_size);
        assert_int_equal(r.all.len, once.all.len);
        assert_memory_equal(r.all.p, once.all.p, once.all.len);
        buf_release(&r.all);
    }
    free(text);
    buf_release(&once.all);
    buf_release(&bytes.all);
}

static void test_linebuf_small_text_random_splits(void **state)
{
    static const char text[] = "first\r\n\nsecond line\rx\r\n\r\r\n"
                               "::add-mask::abc\nlast";
    struct lines once;

    (void)state;
    lines_init(&once);
    feed_chunks(&once, text, sizeof(text) - 1, all_at_once);
    assert_string_equal(buf_cstr(&once.all),
                        "5:first\n0:\n13:second line\rx\n1:\r\n"
                        "15:::add-mask::abc\n4:last\n");
    for (unsigned seed = 1; seed <= 50; seed++) {
        struct lines r;

        srand(seed);
        lines_init(&r);
        feed_chunks(&r, text, sizeof(text) - 1, random_size);
        assert_string_equal(buf_cstr(&r.all), buf_cstr(&once.all));
        buf_release(&r.all);
    }
    buf_release(&once.all);
}

static void test_linebuf_callback_stops(void **state)
{
    struct lines l;
    struct linebuf lb;

    (void)state;
    lines_init(&l);
    l.stop_at = 2;
    linebuf_init(&lb);
    assert_int_equal(linebuf_feed(&lb, "a\nb\nc\n", 6, collect, &l), 7);
    assert_int_equal(l.n, 2);
    linebuf_release(&lb);
    buf_release(&l.all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linebuf_basic_lines),
        cmocka_unit_test(test_linebuf_strips_one_cr),
        cmocka_unit_test(test_linebuf_finish_delivers_rest),
        cmocka_unit_test(test_linebuf_finish_resets),
        cmocka_unit_test(test_linebuf_binary_bytes),
        cmocka_unit_test(test_linebuf_long_lines_in_pieces),
        cmocka_unit_test(test_linebuf_any_split_gives_same_lines),
        cmocka_unit_test(test_linebuf_small_text_random_splits),
        cmocka_unit_test(test_linebuf_callback_stops),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
