/* Unit tests for src/proxy/backend.c (the set, smooth WRR, draining,
 * counters) and the pure parts of src/proxy/admin.c (the PUT body and the
 * JSON answers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/admin.h"
#include "proxy/backend.h"

static void test_backend_parse_addr(void **state)
{
    struct sockaddr_storage sa;
    socklen_t len;

    (void)state;
    assert_int_equal(backend_parse_addr("127.0.0.1:80", &sa, &len, NULL),
                     FERR_OK);
    assert_int_equal(sa.ss_family, AF_INET);
    assert_int_equal(backend_parse_addr("[::1]:8080", &sa, &len, NULL),
                     FERR_OK);
    assert_int_equal(sa.ss_family, AF_INET6);
    assert_int_equal(backend_parse_addr("localhost:1", &sa, &len, NULL),
                     FERR_OK);
    assert_int_equal(backend_parse_addr("example.com:80", &sa, &len, NULL),
                     FERR_INVALID);
    assert_int_equal(backend_parse_addr("127.0.0.1:0", &sa, &len, NULL),
                     FERR_INVALID);
    assert_int_equal(backend_parse_listen("127.0.0.1:0", &sa, &len, NULL),
                     FERR_OK);
    assert_int_equal(backend_parse_addr("127.0.0.1:65536", &sa, &len, NULL),
                     FERR_INVALID);
    assert_int_equal(backend_parse_addr("127.0.0.1", &sa, &len, NULL),
                     FERR_INVALID);
    assert_int_equal(backend_parse_addr("::1:80", &sa, &len, NULL),
                     FERR_INVALID);
    assert_int_equal(backend_parse_addr("[::1:80", &sa, &len, NULL),
                     FERR_INVALID);
    assert_int_equal(backend_parse_addr(":80", &sa, &len, NULL),
                     FERR_INVALID);
}

static void test_backend_swrr_is_smooth(void **state)
{
    struct backend_reg reg;
    struct backend_spec s[] = { { "a", "127.0.0.1:1", 5 },
                                { "b", "127.0.0.1:2", 1 },
                                { "c", "127.0.0.1:3", 1 } };
    char seq[8];

    (void)state;
    backend_reg_init(&reg);
    assert_int_equal(backend_reg_replace(&reg, s, 3, NULL), FERR_OK);
    for (int i = 0; i < 7; i++)
        seq[i] = backend_pick(&reg, NULL, 0)->name[0];
    seq[7] = '\0';
    /* nginx's example: { a, a, b, a, c, a, a } */
    assert_string_equal(seq, "aabacaa");
    backend_reg_release(&reg);
}

static void test_backend_weights_90_10(void **state)
{
    struct backend_reg reg;
    struct backend_spec s[] = { { "a", "127.0.0.1:1", 90 },
                                { "b", "127.0.0.1:2", 10 } };
    int na = 0;

    (void)state;
    backend_reg_init(&reg);
    assert_int_equal(backend_reg_replace(&reg, s, 2, NULL), FERR_OK);
    for (int i = 0; i < 100; i++)
        na += backend_pick(&reg, NULL, 0)->name[0] == 'a';
    assert_int_equal(na, 90);
    s[1].weight = 0;
    s[0].weight = 100;
    assert_int_equal(backend_reg_replace(&reg, s, 2, NULL), FERR_OK);
    for (int i = 0; i < 50; i++)
        assert_string_equal(backend_pick(&reg, NULL, 0)->name, "a");
    backend_reg_release(&reg);
}

static void test_backend_pick_excludes(void **state)
{
    struct backend_reg reg;
    struct backend_spec s[] = { { "a", "127.0.0.1:1", 1 },
                                { "b", "127.0.0.1:2", 1 } };
    uint64_t ex[2];

    (void)state;
    backend_reg_init(&reg);
    assert_int_equal(backend_reg_replace(&reg, s, 2, NULL), FERR_OK);
    ex[0] = reg.set[0]->id;
    for (int i = 0; i < 5; i++)
        assert_string_equal(backend_pick(&reg, ex, 1)->name, "b");
    ex[1] = reg.set[1]->id;
    assert_null(backend_pick(&reg, ex, 2));
    backend_reg_release(&reg);
}

static void test_backend_replace_keeps_counters(void **state)
{
    struct backend_reg reg;
    struct backend_spec s1[] = { { "a", "127.0.0.1:1", 1 },
                                 { "b", "127.0.0.1:2", 1 } };
    struct backend_spec s2[] = { { "a", "127.0.0.1:1", 3 },
                                 { "c", "127.0.0.1:3", 1 } };
    struct backend *a;
    struct backend *b;

    (void)state;
    backend_reg_init(&reg);
    assert_int_equal(backend_reg_replace(&reg, s1, 2, NULL), FERR_OK);
    a = reg.set[0];
    b = reg.set[1];
    a->requests = 7;
    b->active = 1; /* in flight: b must stay known while draining */
    assert_int_equal(backend_reg_replace(&reg, s2, 2, NULL), FERR_OK);
    assert_ptr_equal(reg.set[0], a);
    assert_int_equal(a->requests, 7);
    assert_int_equal(a->weight, 3);
    assert_false(b->in_set);
    assert_true(backend_listed(b));
    backend_reg_gc(&reg);
    assert_false(b->in_set); /* still there: active */
    b->active = 0;
    assert_false(backend_listed(b));
    backend_reg_gc(&reg);
    for (struct backend *x = reg.all; x; x = x->next)
        assert_string_not_equal(x->name, "b");
    backend_reg_release(&reg);
}

static void test_backend_replace_validates_atomically(void **state)
{
    struct backend_reg reg;
    struct backend_spec good[] = { { "a", "127.0.0.1:1", 1 } };
    struct backend_spec dup[] = { { "x", "127.0.0.1:1", 1 },
                                  { "x", "127.0.0.1:2", 1 } };
    struct backend_spec badname[] = { { "a b", "127.0.0.1:1", 1 } };
    struct backend_spec badaddr[] = { { "ok", "127.0.0.1:1", 1 },
                                      { "z", "nowhere", 1 } };
    struct backend_spec heavy[] = { { "h", "127.0.0.1:1",
                                      BACKEND_MAX_WEIGHT + 1 } };
    struct ferr err;

    (void)state;
    backend_reg_init(&reg);
    assert_int_equal(backend_reg_replace(&reg, good, 1, NULL), FERR_OK);
    ferr_clear(&err);
    assert_int_equal(backend_reg_replace(&reg, dup, 2, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "twice"));
    assert_int_equal(backend_reg_replace(&reg, badname, 1, NULL),
                     FERR_INVALID);
    assert_int_equal(backend_reg_replace(&reg, badaddr, 2, NULL),
                     FERR_INVALID);
    assert_int_equal(backend_reg_replace(&reg, heavy, 1, NULL),
                     FERR_INVALID);
    /* nothing changed */
    assert_int_equal(reg.nset, 1);
    assert_string_equal(reg.set[0]->name, "a");
    assert_true(reg.set[0]->in_set);
    backend_reg_release(&reg);
}

static void test_backend_drain(void **state)
{
    struct backend_reg reg;
    struct backend_spec s[] = { { "a", "127.0.0.1:1", 1 },
                                { "b", "127.0.0.1:2", 1 } };
    struct backend *b;

    (void)state;
    backend_reg_init(&reg);
    assert_int_equal(backend_reg_replace(&reg, s, 2, NULL), FERR_OK);
    b = backend_reg_drain(&reg, "b");
    assert_non_null(b);
    assert_false(b->in_set);
    assert_int_equal(reg.nset, 1);
    for (int i = 0; i < 5; i++)
        assert_string_equal(backend_pick(&reg, NULL, 0)->name, "a");
    /* draining again finds it; unknown is NULL */
    assert_ptr_equal(backend_reg_drain(&reg, "b"), b);
    assert_null(backend_reg_drain(&reg, "nope"));
    /* PUT back with the same name and address revives it */
    assert_int_equal(backend_reg_replace(&reg, s, 2, NULL), FERR_OK);
    assert_ptr_equal(reg.set[1], b);
    assert_true(b->in_set);
    backend_reg_release(&reg);
}

static void test_backend_observe_histogram(void **state)
{
    struct backend be;

    (void)state;
    memset(&be, 0, sizeof(be));
    backend_observe(&be, 200, 500);        /* 0.5 ms */
    backend_observe(&be, 503, 2000000);    /* 2 s */
    backend_observe(&be, 200, 60000000);   /* 60 s: +Inf */
    assert_int_equal(be.errors_5xx, 1);
    assert_int_equal(be.hist[0], 1);
    assert_int_equal(be.hist[10], 1);      /* le 2.5 */
    assert_int_equal(be.hist[BACKEND_BUCKETS - 1], 1);
    assert_int_equal(be.lat_count, 3);
    assert_int_equal(be.lat_sum_us, 62000500);
}

static void test_admin_parse_backends(void **state)
{
    const char *s = "{\"backends\":[{\"name\":\"a\",\"addr\":\"127.0.0.1:1\","
                    "\"weight\":90},{\"name\":\"b\",\"addr\":\"[::1]:2\","
                    "\"state\":\"ready\"}]}";
    struct backend_spec *specs;
    size_t n;

    (void)state;
    assert_int_equal(admin_parse_backends(s, strlen(s), &specs, &n, NULL),
                     FERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(specs[0].name, "a");
    assert_string_equal(specs[0].addr, "127.0.0.1:1");
    assert_int_equal(specs[0].weight, 90);
    assert_string_equal(specs[1].addr, "[::1]:2");
    assert_int_equal(specs[1].weight, 1);
    free(specs);
}

static void test_admin_parse_backends_errors(void **state)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"backends\":{}}",
        "{\"backends\":[1]}",
        "{\"backends\":[{\"name\":\"a\"}]}",
        "{\"backends\":[{\"name\":1,\"addr\":\"127.0.0.1:1\"}]}",
        "{\"backends\":[{\"name\":\"a\",\"addr\":\"127.0.0.1:1\","
        "\"weight\":-1}]}",
        "{\"backends\":[{\"name\":\"a\",\"addr\":\"127.0.0.1:1\","
        "\"weight\":1.5}]}",
    };
    struct backend_spec *specs;
    size_t n;
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(admin_parse_backends(bad[i], strlen(bad[i]), &specs,
                                              &n, &err),
                         FERR_PARSE);
        assert_null(specs);
        assert_int_equal(n, 0);
        assert_true(err.msg[0] != '\0');
    }
}

static void test_admin_backends_json(void **state)
{
    struct backend_reg reg;
    struct backend_spec s[] = { { "a", "127.0.0.1:1", 2 },
                                { "b", "127.0.0.1:2", 1 } };
    json_t *j;
    json_t *arr;
    json_t *lat;

    (void)state;
    backend_reg_init(&reg);
    assert_int_equal(backend_reg_replace(&reg, s, 2, NULL), FERR_OK);
    reg.set[1]->active = 2;
    backend_observe(reg.set[0], 200, 3000);
    assert_non_null(backend_reg_drain(&reg, "b"));
    j = admin_backends_json(&reg, true);
    arr = json_object_get(j, "backends");
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(arr, 1), "state")),
                        "draining");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(arr, 1), "active")),
                     2);
    lat = json_object_get(json_array_get(arr, 0), "latency");
    assert_int_equal(json_integer_value(json_object_get(lat, "count")), 1);
    assert_int_equal(json_array_size(json_object_get(lat, "buckets")),
                     BACKEND_BUCKETS);
    /* cumulative: 3 ms is in le 0.005 and every later bucket */
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(lat, "buckets"), 1),
                         "count")),
                     0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(lat, "buckets"), 2),
                         "count")),
                     1);
    json_decref(j);
    backend_reg_release(&reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_parse_addr),
        cmocka_unit_test(test_backend_swrr_is_smooth),
        cmocka_unit_test(test_backend_weights_90_10),
        cmocka_unit_test(test_backend_pick_excludes),
        cmocka_unit_test(test_backend_replace_keeps_counters),
        cmocka_unit_test(test_backend_replace_validates_atomically),
        cmocka_unit_test(test_backend_drain),
        cmocka_unit_test(test_backend_observe_histogram),
        cmocka_unit_test(test_admin_parse_backends),
        cmocka_unit_test(test_admin_parse_backends_errors),
        cmocka_unit_test(test_admin_backends_json),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
