/* chan_test: the alert channels' options and formats — Slack text, the
 * signed generic webhook, PagerDuty Events v2 trigger and resolve,
 * Alertmanager API v2 active and resolved, and the e-mail's headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify/chan.h"
#include "util/crypto.h"

static void make_chan(const char *text, struct chan *c)
{
    json_t *o = json_loads(text, 0, NULL);
    struct ferr err;

    assert_non_null(o);
    ferr_clear(&err);
    assert_int_equal(chan_parse("c", o, c, &err), FERR_OK);
    json_decref(o);
}

/* A critical rollback alert; @resolving: the incident.resolved after it */
static void make_alert(bool resolving, struct chan_alert *a, json_t **payload)
{
    *payload = json_pack("{s:s, s:s, s:s, s:I, s:s}", "kind",
                         resolving ? "incident.resolved" : "rollback.started",
                         "repo", "app", "environment", "prod", "deployment",
                         (json_int_t)12, "summary",
                         resolving ? "rollback done" : "health failed");
    memset(a, 0, sizeof(*a));
    a->id = resolving ? 8 : 7;
    a->level = resolving ? "info" : "critical";
    a->kind = resolving ? "incident.resolved" : "rollback.started";
    a->dedup_key = resolving ? "app/prod/12/incident.resolved"
                             : "app/prod/12/rollback.started";
    a->summary = resolving ? "rollback done" : "health failed";
    a->repo = "app";
    a->environment = "prod";
    a->deployment = 12;
    a->created_at = 1700000000123;
    a->payload = *payload;
    if (resolving) {
        a->resolves = "app/prod/12/rollback.started";
        a->resolved_level = "critical";
        a->resolved_kind = "rollback.started";
        a->resolved_created_at = 1700000000000;
    }
}

/* Render @a on a channel of options @opts; the body parsed in *@out. */
static json_t *render(const char *opts, const struct chan_alert *a,
                      struct chan_msg *m)
{
    struct chan c;
    struct ferr err;
    json_t *v;

    make_chan(opts, &c);
    chan_msg_init(m);
    ferr_clear(&err);
    assert_int_equal(chan_render(&c, a, 1700000100000, m, &err), FERR_OK);
    chan_release(&c);
    v = json_loadb(m->body.p, m->body.len, 0, NULL);
    return v;
}

static void test_chan_slack_is_text(void **state)
{
    struct chan_alert a;
    struct chan_msg m;
    json_t *p, *v;
    const char *t;

    (void)state;
    make_alert(false, &a, &p);
    a.summary = "a <b> & c";
    v = render("{\"type\":\"slack\",\"url\":\"http://h/x\"}", &a, &m);
    assert_non_null(v);
    assert_int_equal(json_object_size(v), 1);
    t = json_string_value(json_object_get(v, "text"));
    assert_non_null(strstr(t, "*[ferry critical]* a &lt;b&gt; &amp; c"));
    assert_non_null(strstr(t, "deployment 12"));
    assert_string_equal(m.url, "http://h/x");
    json_decref(v);
    json_decref(p);
    chan_msg_release(&m);
}

static void test_chan_webhook_is_signed(void **state)
{
    struct chan_alert a;
    struct chan_msg m;
    json_t *p, *v;
    unsigned char mac[32];
    char want[128];
    const char *sig = NULL;

    (void)state;
    make_alert(false, &a, &p);
    v = render("{\"type\":\"webhook\",\"url\":\"http://h/x\",\"secret\":\"k\"}",
               &a, &m);
    assert_int_equal(json_integer_value(json_object_get(v, "id")), 7);
    assert_string_equal(json_string_value(json_object_get(v, "level")),
                        "critical");
    assert_string_equal(json_string_value(json_object_get(v, "created_at")),
                        "2023-11-14T22:13:20.123Z");
    assert_string_equal(json_string_value(json_object_get(v, "repo")), "app");
    crypto_hmac_sha256("k", 1, m.body.p, m.body.len, mac);
    snprintf(want, sizeof(want), "X-Ferry-Signature-256: sha256=");
    for (int i = 0; i < 32; i++)
        snprintf(want + strlen(want), 3, "%02x", mac[i]);
    for (int i = 0; m.headers[i]; i++)
        if (strncmp(m.headers[i], "X-Ferry-Signature-256", 21) == 0)
            sig = m.headers[i];
    assert_non_null(sig);
    assert_string_equal(sig, want);
    json_decref(v);
    json_decref(p);
    chan_msg_release(&m);
}

static void test_chan_webhook_unsigned_without_secret(void **state)
{
    struct chan_alert a;
    struct chan_msg m;
    json_t *p, *v;

    (void)state;
    make_alert(false, &a, &p);
    v = render("{\"type\":\"webhook\",\"url\":\"http://h/x\"}", &a, &m);
    for (int i = 0; m.headers[i]; i++)
        assert_null(strstr(m.headers[i], "Signature"));
    json_decref(v);
    json_decref(p);
    chan_msg_release(&m);
}

static void test_chan_pagerduty_trigger(void **state)
{
    struct chan_alert a;
    struct chan_msg m;
    json_t *p, *v, *pl;

    (void)state;
    make_alert(false, &a, &p);
    v = render("{\"type\":\"pagerduty\",\"routing_key\":\"RK\"}", &a, &m);
    assert_string_equal(m.url, "https://events.pagerduty.com/v2/enqueue");
    assert_string_equal(json_string_value(json_object_get(v, "routing_key")),
                        "RK");
    assert_string_equal(json_string_value(json_object_get(v, "event_action")),
                        "trigger");
    assert_string_equal(json_string_value(json_object_get(v, "dedup_key")),
                        "app/prod/12/rollback.started");
    pl = json_object_get(v, "payload");
    assert_string_equal(json_string_value(json_object_get(pl, "severity")),
                        "critical");
    assert_string_equal(json_string_value(json_object_get(pl, "summary")),
                        "health failed");
    assert_non_null(json_string_value(json_object_get(pl, "source")));
    json_decref(v);
    json_decref(p);
    chan_msg_release(&m);
}

static void test_chan_pagerduty_resolve_same_key(void **state)
{
    struct chan_alert a;
    struct chan_msg m;
    json_t *p, *v;

    (void)state;
    make_alert(true, &a, &p);
    v = render("{\"type\":\"pagerduty\",\"routing_key\":\"RK\"}", &a, &m);
    assert_string_equal(json_string_value(json_object_get(v, "event_action")),
                        "resolve");
    assert_string_equal(json_string_value(json_object_get(v, "dedup_key")),
                        "app/prod/12/rollback.started");
    assert_null(json_object_get(v, "payload"));
    json_decref(v);
    json_decref(p);
    chan_msg_release(&m);
}

static void test_chan_alertmanager_active(void **state)
{
    struct chan_alert a;
    struct chan_msg m;
    json_t *p, *v, *al, *l;

    (void)state;
    make_alert(false, &a, &p);
    v = render("{\"type\":\"alertmanager\",\"url\":\"http://am:9093/\"}", &a,
               &m);
    assert_string_equal(m.url, "http://am:9093/api/v2/alerts");
    assert_true(json_is_array(v));
    al = json_array_get(v, 0);
    l = json_object_get(al, "labels");
    assert_string_equal(json_string_value(json_object_get(l, "alertname")),
                        "FerryRollbackStarted");
    assert_string_equal(json_string_value(json_object_get(l, "severity")),
                        "critical");
    assert_string_equal(json_string_value(json_object_get(l, "deployment")),
                        "12");
    assert_string_equal(json_string_value(json_object_get(al, "startsAt")),
                        "2023-11-14T22:13:20.123Z");
    assert_null(json_object_get(al, "endsAt"));
    json_decref(v);
    json_decref(p);
    chan_msg_release(&m);
}

static void test_chan_alertmanager_resolve_ends_the_same_labels(void **state)
{
    struct chan_alert a;
    struct chan_msg m;
    json_t *p, *v, *al, *l;

    (void)state;
    make_alert(true, &a, &p);
    v = render("{\"type\":\"alertmanager\",\"url\":\"http://am:9093\"}", &a,
               &m);
    al = json_array_get(v, 0);
    l = json_object_get(al, "labels");
    assert_string_equal(json_string_value(json_object_get(l, "alertname")),
                        "FerryRollbackStarted");
    assert_string_equal(json_string_value(json_object_get(l, "severity")),
                        "critical");
    assert_string_equal(json_string_value(json_object_get(l, "kind")),
                        "rollback.started");
    assert_string_equal(json_string_value(json_object_get(al, "startsAt")),
                        "2023-11-14T22:13:20.000Z");
    assert_string_equal(json_string_value(json_object_get(al, "endsAt")),
                        "2023-11-14T22:15:00.000Z");
    json_decref(v);
    json_decref(p);
    chan_msg_release(&m);
}

static const char *const mail_opts =
    "{\"type\":\"smtp\",\"url\":\"smtp://127.0.0.1:25\",\"from\":"
    "\"ferry@example.com\",\"to\":[\"a@example.com\",\"b@example.com\"]}";

static void test_chan_mail_headers(void **state)
{
    struct chan_alert a;
    struct chan_msg m;
    json_t *p;

    (void)state;
    make_alert(false, &a, &p);
    assert_null(render(mail_opts, &a, &m)); /* not JSON */
    assert_non_null(strstr(m.body.p, "\r\nSubject: [ferry critical] health "
                                     "failed\r\n"));
    assert_non_null(strstr(m.body.p, "From: ferry <ferry@example.com>\r\n"));
    assert_non_null(
        strstr(m.body.p, "To: <a@example.com>,\r\n <b@example.com>\r\n"));
    assert_non_null(strstr(m.body.p, "\r\n\r\nhealth failed\r\n"));
    assert_non_null(strstr(m.body.p, "Kind:        rollback.started\r\n"));
    json_decref(p);
    chan_msg_release(&m);
}

static void test_chan_mail_summary_cannot_add_headers(void **state)
{
    struct chan_alert a;
    struct chan_msg m;
    json_t *p;
    const char *body_start;

    (void)state;
    make_alert(false, &a, &p);
    a.summary = "x\r\nBcc: evil@example.com\r\n\r\nhi";
    assert_null(render(mail_opts, &a, &m));
    body_start = strstr(m.body.p, "\r\n\r\n");
    assert_non_null(body_start);
    /* no header line starts with Bcc: the first one is in the body */
    assert_true(strstr(m.body.p, "\r\nBcc:") == NULL ||
                strstr(m.body.p, "\r\nBcc:") > body_start);
    assert_non_null(strstr(m.body.p, "Subject: [ferry critical] x  Bcc: "));
    json_decref(p);
    chan_msg_release(&m);
}

static void test_chan_mail_utf8_subject_is_encoded(void **state)
{
    struct chan_alert a;
    struct chan_msg m;
    json_t *p;

    (void)state;
    make_alert(false, &a, &p);
    a.summary = "d\xc3\xa9ploiement \xc3\xa9" "chou\xc3\xa9";
    assert_null(render(mail_opts, &a, &m));
    assert_non_null(strstr(m.body.p, "Subject: =?UTF-8?B?"));
    json_decref(p);
    chan_msg_release(&m);
}

static void expect_bad(const char *text, const char *msg)
{
    json_t *o = json_loads(text, 0, NULL);
    struct chan c;
    struct ferr err;

    assert_non_null(o);
    ferr_clear(&err);
    assert_int_not_equal(chan_parse("c", o, &c, &err), FERR_OK);
    if (!strstr(err.msg, msg))
        fail_msg("'%s' lacks '%s'", err.msg, msg);
    chan_release(&c);
    json_decref(o);
}

static void test_chan_parse_rejects_bad_options(void **state)
{
    (void)state;
    expect_bad("{\"type\":\"pagerduty\"}", "'routing_key' is required");
    expect_bad("{\"type\":\"slack\",\"url\":\"ftp://x\"}",
               "must start with http:// or https://");
    expect_bad("{\"type\":\"smtp\",\"url\":\"http://x\",\"from\":\"a@b\","
               "\"to\":[\"c@d\"]}",
               "smtp://");
    expect_bad("{\"type\":\"slack\",\"url\":\"http://x\",\"secret\":\"s\"}",
               "unknown key 'secret'");
    expect_bad("{\"type\":\"irc\"}", "unknown type 'irc'");
    expect_bad("{\"type\":\"smtp\",\"url\":\"smtp://x\",\"from\":\"a@b\","
               "\"to\":[]}",
               "'to' must be a non-empty array");
    expect_bad("{\"type\":\"smtp\",\"url\":\"smtp://x\",\"from\":\"a@b\","
               "\"to\":[\"x\\r\\nRCPT TO:<e@f>\"]}",
               "not an e-mail address");
    expect_bad("{\"type\":\"slack\",\"url\":\"http://x\",\"timeout_ms\":0}",
               "'timeout_ms'");
    expect_bad("{\"type\":\"slack\",\"url\":\"http://x y\"}", "space");
}

static void test_chan_alertname_camel_cases(void **state)
{
    char n[64];

    (void)state;
    chan_alertname("approval.timed_out", n, sizeof(n));
    assert_string_equal(n, "FerryApprovalTimedOut");
    chan_alertname("x", n, 4);
    assert_string_equal(n, "Fer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chan_slack_is_text),
        cmocka_unit_test(test_chan_webhook_is_signed),
        cmocka_unit_test(test_chan_webhook_unsigned_without_secret),
        cmocka_unit_test(test_chan_pagerduty_trigger),
        cmocka_unit_test(test_chan_pagerduty_resolve_same_key),
        cmocka_unit_test(test_chan_alertmanager_active),
        cmocka_unit_test(test_chan_alertmanager_resolve_ends_the_same_labels),
        cmocka_unit_test(test_chan_mail_headers),
        cmocka_unit_test(test_chan_mail_summary_cannot_add_headers),
        cmocka_unit_test(test_chan_mail_utf8_subject_is_encoded),
        cmocka_unit_test(test_chan_parse_rejects_bad_options),
        cmocka_unit_test(test_chan_alertname_camel_cases),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
