/* notify_test: the notifier's configuration parser (shape, errors as
 * 'file: what is wrong'), the backoff, and routing over a real store:
 * per-level routes, dedup, a resolve following what it resolves, and a
 * failed send recorded with its attempt and error (a receiver that
 * refuses connections on 127.0.0.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "notify/notify.h"
#include "util/log.h"

static const char *const good =
    "{\"channels\": {"
    " \"chat\": {\"type\": \"slack\", \"url\": \"http://127.0.0.1:1/s\"},"
    " \"pd\": {\"type\": \"pagerduty\", \"url\": \"http://127.0.0.1:1/p\","
    "   \"routing_key\": \"k\"}},"
    " \"routes\": {\"info\": [\"chat\"], \"critical\": [\"chat\", \"pd\"]}}";

static struct notify_config *parse_ok(const char *text)
{
    struct notify_config *c = NULL;
    struct ferr err;

    ferr_clear(&err);
    if (notify_config_parse("n.json", text, strlen(text), &c, &err))
        fail_msg("%s", err.msg);
    return c;
}

/* @text is rejected with @msg in "n.json: MSG" or "n.json:L:C: MSG" */
static void expect_bad(const char *text, const char *msg)
{
    struct notify_config *c = (void *)1;
    struct ferr err;
    char out[700];

    ferr_clear(&err);
    assert_int_not_equal(
        notify_config_parse("n.json", text, strlen(text), &c, &err), FERR_OK);
    assert_null(c);
    ferr_format(&err, out, sizeof(out));
    if (strncmp(out, "n.json:", 7) != 0 || !strstr(out, msg))
        fail_msg("'%s' lacks 'n.json:' or '%s'", out, msg);
}

static void test_notify_config_parses_channels_and_routes(void **state)
{
    struct notify_config *c = parse_ok(good);

    (void)state;
    assert_int_equal(c->n_chans, 2);
    assert_int_equal(c->n_routes[NOTIFY_INFO], 1);
    assert_int_equal(c->n_routes[NOTIFY_WARNING], 0);
    assert_int_equal(c->n_routes[NOTIFY_CRITICAL], 2);
    assert_string_equal(c->chans[c->routes[NOTIFY_CRITICAL][1]].name, "pd");
    assert_int_equal(notify_config_channel(c, "pd")->type, CHAN_PAGERDUTY);
    assert_null(notify_config_channel(c, "nope"));
    notify_config_free(c);
}

static void test_notify_config_recheck(void **state)
{
    struct notify_config *c = parse_ok(good);

    (void)state;
    assert_int_equal(c->recheck_ms, 30000);
    notify_config_free(c);
    c = parse_ok("{\"channels\": {}, \"routes\": {}, \"recheck\": 2}");
    assert_int_equal(c->recheck_ms, 2000);
    notify_config_free(c);
    expect_bad("{\"recheck\": 0}", "'recheck' must be whole seconds from 1");
    expect_bad("{\"recheck\": 3601}", "'recheck' must be whole seconds");
    expect_bad("{\"recheck\": 1.5}", "'recheck' must be whole seconds");
    expect_bad("{\"recheck\": \"5\"}", "'recheck' must be whole seconds");
}

static void test_notify_config_not_json_has_a_position(void **state)
{
    (void)state;
    expect_bad("{\n  \"channels\": {,}\n}", "n.json:2:");
    expect_bad("", "not valid JSON");
}

static void test_notify_config_rejects_bad_shapes(void **state)
{
    (void)state;
    expect_bad("[]", "must be a JSON object");
    expect_bad("{\"chanels\": {}}", "unknown key 'chanels'");
    expect_bad("{\"channels\": {\"a b\": {\"type\": \"slack\"}}}",
               "channel name 'a b'");
    expect_bad("{\"channels\": {\"x\": {\"type\": \"slack\","
               "\"url\": \"http://h\"}}, \"routes\": {\"fatal\": [\"x\"]}}",
               "unknown level 'fatal'");
    expect_bad("{\"channels\": {}, \"routes\": {\"info\": [\"x\"]}}",
               "names channel 'x', which is not defined");
    expect_bad("{\"channels\": {\"x\": {\"type\": \"slack\","
               "\"url\": \"http://h\"}}, \"routes\": {\"info\": [\"x\", \"x\"]}}",
               "twice");
    expect_bad("{\"channels\": {\"x\": {\"type\": \"slack\","
               "\"url\": \"http://h\"}}, \"routes\": {\"info\": \"x\"}}",
               "must be an array");
    expect_bad("{\"channels\": {\"x\": {\"type\": \"slack\"}}}",
               "channel 'x': 'url' is required");
    expect_bad("{\"channels\": {}, \"channels\": {}}", "duplicate");
}

static void test_notify_config_empty_is_fine(void **state)
{
    struct notify_config *c = parse_ok("{}");

    (void)state;
    assert_int_equal(c->n_chans, 0);
    notify_config_free(c);
}

static void test_notify_config_load_missing_file(void **state)
{
    struct notify_config *c = NULL;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(notify_config_load("/nonexistent/n.json", &c, &err),
                     FERR_IO);
    assert_null(c);
    assert_string_equal(err.pos.file, "/nonexistent/n.json");
}

static void test_notify_backoff_doubles_to_five_minutes(void **state)
{
    (void)state;
    assert_int_equal(notify_backoff_ms(1), 1000);
    assert_int_equal(notify_backoff_ms(2), 2000);
    assert_int_equal(notify_backoff_ms(5), 16000);
    assert_int_equal(notify_backoff_ms(9), 256000);
    assert_int_equal(notify_backoff_ms(10), 300000);
    assert_int_equal(notify_backoff_ms(1000000), 300000);
}

/* ---------- over a store ---------- */

struct fx {
    char dir[64];
    char path[128];
    struct store *s;
    struct notify_config *cfg;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct ferr err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/notify_test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/ferry.db", f->dir);
    ferr_clear(&err);
    if (store_open(f->path, &f->s, &err))
        return -1;
    f->cfg = parse_ok(good);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char p[160];

    store_close(f->s);
    notify_config_free(f->cfg);
    unlink(f->path);
    snprintf(p, sizeof(p), "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void add(struct fx *f, const char *level, const char *kind,
                const char *key, const char *resolves)
{
    json_t *p = json_pack("{s:s, s:s, s:s}", "kind", kind, "summary", kind,
                          "repo", "app");
    struct ferr err;

    if (resolves)
        json_object_set_new(p, "resolves", json_string(resolves));
    ferr_clear(&err);
    assert_int_equal(store_outbox_add(f->s, level, kind, key, p, &err),
                     FERR_OK);
    json_decref(p);
}

/* The deliveries of the alert with @key, as "channel=state/attempts,…" */
static void deliveries(struct fx *f, const char *key, char *out, size_t n)
{
    json_t *list = NULL;
    struct ferr err;
    size_t i, j;
    json_t *a, *d;

    out[0] = '\0';
    ferr_clear(&err);
    assert_int_equal(store_outbox_list(f->s, 100, &list, &err), FERR_OK);
    json_array_foreach(list, i, a) {
        if (strcmp(json_string_value(json_object_get(a, "dedup_key")), key))
            continue;
        json_array_foreach(json_object_get(a, "deliveries"), j, d) {
            snprintf(out + strlen(out), n - strlen(out), "%s%s=%s/%d",
                     j ? "," : "",
                     json_string_value(json_object_get(d, "channel")),
                     json_string_value(json_object_get(d, "state")),
                     (int)json_integer_value(json_object_get(d, "attempts")));
        }
        break;
    }
    json_decref(list);
}

static void test_notify_routes_by_level_and_records_failures(void **state)
{
    struct fx *f = *state;
    struct notify *n = notify_new(f->cfg, f->s);
    struct ferr err;
    int64_t next = 0;
    char got[256];

    add(f, "info", "deployment.started", "k1", NULL);
    add(f, "critical", "rollback.started", "k2", NULL);
    add(f, "warning", "deployment.rejected", "k3", NULL);
    ferr_clear(&err);
    assert_int_equal(notify_pass(n, &next, &err), FERR_OK);
    deliveries(f, "k1", got, sizeof(got));
    assert_string_equal(got, "chat=pending/1");
    deliveries(f, "k2", got, sizeof(got));
    /* chat was down after k1 failed: k2's chat send is put off untried */
    assert_string_equal(got, "chat=pending/0,pd=pending/1");
    deliveries(f, "k3", got, sizeof(got));
    assert_string_equal(got, ""); /* no route for warning */
    assert_true(next > 0);
    notify_free(n);
}

static void test_notify_records_the_last_error(void **state)
{
    struct fx *f = *state;
    struct notify *n = notify_new(f->cfg, f->s);
    json_t *list = NULL;
    struct ferr err;
    int64_t next = 0;
    json_t *d;

    add(f, "info", "deployment.started", "k1", NULL);
    ferr_clear(&err);
    assert_int_equal(notify_pass(n, &next, &err), FERR_OK);
    assert_int_equal(store_outbox_list(f->s, 10, &list, &err), FERR_OK);
    d = json_array_get(json_object_get(json_array_get(list, 0), "deliveries"),
                       0);
    assert_non_null(strstr(json_string_value(json_object_get(d, "last_error")),
                           "cannot reach http://127.0.0.1:1/s"));
    assert_true(json_is_string(json_object_get(d, "next_at")));
    assert_true(json_is_null(json_object_get(json_array_get(list, 0),
                                             "delivered_at")));
    json_decref(list);
    notify_free(n);
}

static void test_notify_dedups_per_channel(void **state)
{
    struct fx *f = *state;
    struct notify *n = notify_new(f->cfg, f->s);
    struct ferr err;
    int64_t next;
    json_t *list = NULL;
    char got[256];

    add(f, "critical", "rollback.started", "same", NULL);
    add(f, "critical", "rollback.started", "same", NULL);
    ferr_clear(&err);
    assert_int_equal(notify_pass(n, &next, &err), FERR_OK);
    assert_int_equal(store_outbox_list(f->s, 10, &list, &err), FERR_OK);
    /* newest first: the second one is the duplicate */
    got[0] = '\0';
    for (size_t i = 0; i < 2; i++) {
        json_t *ds = json_object_get(json_array_get(list, i), "deliveries");

        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
                 i ? "|" : "",
                 json_string_value(json_object_get(json_array_get(ds, 0),
                                                   "state")));
    }
    assert_string_equal(got, "duplicate|pending");
    json_decref(list);
    notify_free(n);
}

static void test_notify_resolve_follows_what_it_resolves(void **state)
{
    struct fx *f = *state;
    struct notify *n = notify_new(f->cfg, f->s);
    struct ferr err;
    int64_t next;
    json_t *due = NULL;
    char got[256];

    add(f, "critical", "rollback.started", "app/e/1/rollback.started", NULL);
    add(f, "info", "incident.resolved", "app/e/1/incident.resolved",
        "app/e/1/rollback.started");
    ferr_clear(&err);
    assert_int_equal(notify_pass(n, &next, &err), FERR_OK);
    deliveries(f, "app/e/1/incident.resolved", got, sizeof(got));
    /* info routes to chat only; pd got what it resolves */
    assert_string_equal(got, "chat=pending/0,pd=pending/0");
    /* while the trigger is pending on pd, the resolve is not due there */
    assert_int_equal(store_outbox_due(f->s, INT64_MAX, 100, &due, &err),
                     FERR_OK);
    for (size_t i = 0; i < json_array_size(due); i++) {
        json_t *r = json_array_get(due, i);

        if (strcmp(json_string_value(json_object_get(r, "kind")),
                   "incident.resolved") == 0)
            assert_string_not_equal(
                json_string_value(json_object_get(r, "channel")), "pd");
    }
    json_decref(due);
    /* once it is sent, the resolve is due, with what it resolves */
    assert_int_equal(store_outbox_sent(f->s, 1, "pd", &err), FERR_OK);
    assert_int_equal(store_outbox_due(f->s, INT64_MAX, 100, &due, &err),
                     FERR_OK);
    {
        bool seen = false;

        for (size_t i = 0; i < json_array_size(due); i++) {
            json_t *r = json_array_get(due, i);

            if (strcmp(json_string_value(json_object_get(r, "channel")),
                       "pd") == 0) {
                json_t *rs = json_object_get(r, "resolved");

                assert_string_equal(
                    json_string_value(json_object_get(rs, "kind")),
                    "rollback.started");
                seen = true;
            }
        }
        assert_true(seen);
    }
    json_decref(due);
    notify_free(n);
}

static void test_notify_sent_settles_the_alert(void **state)
{
    struct fx *f = *state;
    struct ferr err;
    const char *chans[] = {"chat"};
    json_t *list = NULL;

    add(f, "info", "x", "k", NULL);
    ferr_clear(&err);
    assert_int_equal(store_outbox_route(f->s, 1, chans, 1, &err), FERR_OK);
    assert_int_equal(store_outbox_route(f->s, 1, chans, 1, &err), FERR_OK);
    assert_int_equal(store_outbox_sent(f->s, 1, "chat", &err), FERR_OK);
    assert_int_equal(store_outbox_sent(f->s, 1, "chat", &err), FERR_NOTFOUND);
    assert_int_equal(store_outbox_list(f->s, 10, &list, &err), FERR_OK);
    assert_true(json_is_string(
        json_object_get(json_array_get(list, 0), "delivered_at")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list,
                                                                       0),
                                                        "attempts")),
                     1);
    json_decref(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_config_parses_channels_and_routes),
        cmocka_unit_test(test_notify_config_recheck),
        cmocka_unit_test(test_notify_config_not_json_has_a_position),
        cmocka_unit_test(test_notify_config_rejects_bad_shapes),
        cmocka_unit_test(test_notify_config_empty_is_fine),
        cmocka_unit_test(test_notify_config_load_missing_file),
        cmocka_unit_test(test_notify_backoff_doubles_to_five_minutes),
        cmocka_unit_test_setup_teardown(
            test_notify_routes_by_level_and_records_failures, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_notify_records_the_last_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_dedups_per_channel, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_notify_resolve_follows_what_it_resolves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_sent_settles_the_alert,
                                        setup, teardown),
    };

    log_set_level(LL_ERR); /* the refused sends' warnings are expected */
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
