/* chan: the alert channels — parsing one channel's options, rendering an
 * alert in each receiver's format (Slack-compatible text, a generic
 * webhook signed like GitHub's, PagerDuty Events v2, Alertmanager API v2,
 * a plain-text e-mail) and sending it once.  It keeps no state and does
 * not retry: routing, dedup and backoff are notify.c's. */
#include "notify/chan.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/crypto.h"
#include "util/httpc.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

#define DEFAULT_TIMEOUT_MS   10000L
#define MAX_TIMEOUT_MS       300000L
#define PAGERDUTY_URL        "https://events.pagerduty.com/v2/enqueue"
#define PD_SUMMARY_MAX       1024 /* PagerDuty's limit, bytes */
#define SUBJECT_MAX          200  /* bytes of summary in a Subject */
#define BODY_LINE_MAX        900  /* SMTP allows 998 */
#define ANSWER_MAX           (64u * 1024u)
#define ANSWER_SHOWN         200
#define ADDRESS_MAX          320

static const char *const type_names[] = {"smtp", "slack", "webhook",
                                         "pagerduty", "alertmanager"};

bool chan_type_parse(const char *s, enum chan_type *out)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
        if (strcmp(s, type_names[i]) == 0) {
            *out = (enum chan_type)i;
            return true;
        }
    }
    return false;
}

const char *chan_type_name(enum chan_type t)
{
    if ((size_t)t < sizeof(type_names) / sizeof(type_names[0]))
        return type_names[t];
    return "?";
}

/* ---------- options ---------- */

void chan_release(struct chan *c)
{
    free(c->name);
    free(c->url);
    free(c->secret);
    free(c->routing_key);
    free(c->from);
    for (size_t i = 0; i < c->n_to; i++)
        free(c->to[i]);
    free(c->to);
    free(c->username);
    free(c->password);
    memset(c, 0, sizeof(*c));
}

/* No control byte, no space: what may go into a URL or an address. */
static bool plain(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c <= 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* Option @key of channel @name as a non-empty string without NUL (its
 * jansson length equals its C length), into *@out (a copy; NULL when
 * absent and not @required). */
static enum ferr_code opt_str(const char *name, json_t *o, const char *key,
                              bool required, size_t max, char **out,
                              struct ferr *err)
{
    json_t *v = json_object_get(o, key);
    const char *s;

    *out = NULL;
    if (!v) {
        if (required)
            return ferr_set(err, FERR_INVALID, NULL,
                            "channel '%s': '%s' is required", name, key);
        return FERR_OK;
    }
    s = json_string_value(v);
    if (!s)
        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s': '%s' must be a string", name, key);
    if (!*s || strlen(s) != json_string_length(v))
        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s': '%s' must be a non-empty string "
                        "without NUL",
                        name, key);
    if (strlen(s) > max)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "channel '%s': '%s' is over %zu bytes", name, key,
                        max);
    *out = xstrdup(s);
    return FERR_OK;
}

static bool has_scheme(const char *url, const char *const *schemes)
{
    for (; *schemes; schemes++) {
        size_t n = strlen(*schemes);

        if (strncasecmp(url, *schemes, n) == 0 && url[n])
            return true;
    }
    return false;
}

static enum ferr_code check_url(const char *name, const char *url,
                                enum chan_type t, struct ferr *err)
{
    static const char *const mail[] = {"smtp://", "smtps://", NULL};
    static const char *const web[] = {"http://", "https://", NULL};

    if (!plain(url))
        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s': 'url' has a space or a control "
                        "character",
                        name);
    if (t == CHAN_SMTP && !has_scheme(url, mail))
        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s': 'url' must start with smtp:// or "
                        "smtps://",
                        name);
    if (t != CHAN_SMTP && !has_scheme(url, web))
        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s': 'url' must start with http:// or "
                        "https://",
                        name);
    return FERR_OK;
}

static bool good_address(const char *s)
{
    const char *at = strchr(s, '@');

    if (!plain(s) || !at || at == s || !at[1] || strchr(at + 1, '@'))
        return false;
    return strpbrk(s, "<>,;:\"()[]\\") == NULL;
}

static enum ferr_code parse_to(const char *name, json_t *o, struct chan *c,
                               struct ferr *err)
{
    json_t *v = json_object_get(o, "to");
    size_t n;

    if (!v)
        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s': 'to' is required", name);
    if (!json_is_array(v) || json_array_size(v) == 0)
        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s': 'to' must be a non-empty array of "
                        "addresses",
                        name);
    n = json_array_size(v);
    if (n > LIM_NOTIFY_RECIPIENTS)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "channel '%s': more than %u recipients", name,
                        LIM_NOTIFY_RECIPIENTS);
    c->to = xcalloc(n, sizeof(*c->to));
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        const char *s = json_string_value(e);

        if (!s || strlen(s) != json_string_length(e) ||
            strlen(s) > ADDRESS_MAX || !good_address(s))
            return ferr_set(err, FERR_INVALID, NULL,
                            "channel '%s': 'to'[%zu] is not an e-mail "
                            "address",
                            name, i);
        c->to[i] = xstrdup(s);
        c->n_to = i + 1;
    }
    return FERR_OK;
}

static bool allowed_key(enum chan_type t, const char *k)
{
    if (strcmp(k, "type") == 0 || strcmp(k, "url") == 0 ||
        strcmp(k, "timeout_ms") == 0)
        return true;
    switch (t) {
    case CHAN_SMTP:
        return strcmp(k, "from") == 0 || strcmp(k, "to") == 0 ||
               strcmp(k, "username") == 0 || strcmp(k, "password") == 0;
    case CHAN_WEBHOOK:
        return strcmp(k, "secret") == 0;
    case CHAN_PAGERDUTY:
        return strcmp(k, "routing_key") == 0;
    case CHAN_SLACK:
    case CHAN_ALERTMANAGER:
        break;
    }
    return false;
}

static enum ferr_code parse_timeout(const char *name, json_t *o,
                                    struct chan *c, struct ferr *err)
{
    json_t *v = json_object_get(o, "timeout_ms");
    json_int_t n;

    c->timeout_ms = DEFAULT_TIMEOUT_MS;
    if (!v)
        return FERR_OK;
    n = json_is_integer(v) ? json_integer_value(v) : 0;
    if (n < 1 || n > MAX_TIMEOUT_MS)
        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s': 'timeout_ms' must be an integer from "
                        "1 to %ld",
                        name, MAX_TIMEOUT_MS);
    c->timeout_ms = (long)n;
    return FERR_OK;
}

static enum ferr_code parse_smtp(const char *name, json_t *o, struct chan *c,
                                 struct ferr *err)
{
    enum ferr_code rc = opt_str(name, o, "from", true, ADDRESS_MAX, &c->from,
                                err);

    if (!rc && !good_address(c->from))
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "channel '%s': 'from' is not an e-mail address", name);
    if (!rc)
        rc = parse_to(name, o, c, err);
    if (!rc)
        rc = opt_str(name, o, "username", false, LIM_NAME * 4, &c->username,
                     err);
    if (!rc)
        rc = opt_str(name, o, "password", false, LIM_URL, &c->password, err);
    if (!rc && !c->username != !c->password)
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "channel '%s': 'username' and 'password' go together",
                      name);
    return rc;
}

enum ferr_code chan_parse(const char *name, json_t *o, struct chan *out,
                          struct ferr *err)
{
    const char *type;
    const char *k;
    json_t *v;
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    out->name = xstrdup(name);
    out->timeout_ms = DEFAULT_TIMEOUT_MS;
    if (!json_is_object(o))
        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s' must be an object", name);
    type = json_string_value(json_object_get(o, "type"));
    if (!type)
        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s': 'type' is required (smtp, slack, "
                        "webhook, pagerduty or alertmanager)",
                        name);
    if (!chan_type_parse(type, &out->type)) {
        char q[72];

        return ferr_set(err, FERR_INVALID, NULL,
                        "channel '%s': unknown type '%s' (smtp, slack, "
                        "webhook, pagerduty or alertmanager)",
                        name, span_quote(type, strlen(type), q));
    }
    json_object_foreach(o, k, v) {
        char q[72];

        (void)v;
        if (!allowed_key(out->type, k))
            return ferr_set(err, FERR_INVALID, NULL,
                            "channel '%s': unknown key '%s' for type %s",
                            name, span_quote(k, strlen(k), q), type);
    }
    rc = opt_str(name, o, "url", out->type != CHAN_PAGERDUTY, LIM_URL,
                 &out->url, err);
    if (!rc && !out->url)
        out->url = xstrdup(PAGERDUTY_URL);
    if (!rc)
        rc = check_url(name, out->url, out->type, err);
    if (!rc)
        rc = parse_timeout(name, o, out, err);
    if (rc)
        return rc;
    switch (out->type) {
    case CHAN_SMTP:
        return parse_smtp(name, o, out, err);
    case CHAN_WEBHOOK:
        return opt_str(name, o, "secret", false, LIM_URL, &out->secret, err);
    case CHAN_PAGERDUTY:
        return opt_str(name, o, "routing_key", true, LIM_NAME * 4,
                       &out->routing_key, err);
    case CHAN_SLACK:
    case CHAN_ALERTMANAGER:
        break;
    }
    return FERR_OK;
}

/* ---------- rendering ---------- */

void chan_msg_init(struct chan_msg *m)
{
    memset(m, 0, sizeof(*m));
    buf_init(&m->body, LIM_NOTIFY_MSG);
}

void chan_msg_release(struct chan_msg *m)
{
    buf_release(&m->body);
    free(m->url);
    for (size_t i = 0; i < sizeof(m->headers) / sizeof(m->headers[0]); i++)
        free(m->headers[i]);
    memset(m, 0, sizeof(*m));
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* RFC 3339 UTC with milliseconds from ms since the epoch. */
static void rfc3339(int64_t ms, char out[32])
{
    time_t t;
    struct tm tm;
    char sec[24];

    if (ms < 0)
        ms = 0;
    t = (time_t)(ms / 1000);
    if (!gmtime_r(&t, &tm) ||
        strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(sec, sizeof(sec), "1970-01-01T00:00:00");
    snprintf(out, 32, "%.23s.%03uZ", sec, (unsigned)(ms % 1000));
}

void chan_alertname(const char *kind, char *out, size_t n)
{
    size_t j = 0;
    bool up = true;

    if (n == 0)
        return;
    for (const char *p = "Ferry"; *p && j + 1 < n; p++)
        out[j++] = *p;
    for (; kind && *kind && j + 1 < n; kind++) {
        unsigned char c = (unsigned char)*kind;

        if (!isalnum(c)) {
            up = true;
            continue;
        }
        out[j++] = (char)(up ? toupper(c) : c);
        up = false;
    }
    out[j] = '\0';
}

/* Dump @v (stolen) into @out's body. */
static enum ferr_code put_json(json_t *v, struct chan_msg *out,
                               struct ferr *err)
{
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    enum ferr_code rc;

    json_decref(v);
    if (!s)
        return ferr_set(err, FERR_INVALID, NULL,
                        "the alert cannot be rendered as JSON");
    rc = buf_adds(&out->body, s);
    free(s);
    if (rc)
        return ferr_set(err, rc, NULL, "the alert message is over %u bytes",
                        LIM_NOTIFY_MSG);
    return FERR_OK;
}

/* A string field, set only when @s is not NULL. */
static void set_str(json_t *o, const char *k, const char *s)
{
    if (s)
        json_object_set_new(o, k, json_string(s));
}

/* Slack's mrkdwn needs &, < and > escaped. */
static enum ferr_code add_escaped(struct buf *b, const char *s)
{
    enum ferr_code rc = FERR_OK;

    for (; s && *s && !rc; s++) {
        if (*s == '&')
            rc = buf_adds(b, "&amp;");
        else if (*s == '<')
            rc = buf_adds(b, "&lt;");
        else if (*s == '>')
            rc = buf_adds(b, "&gt;");
        else
            rc = buf_addch(b, *s);
    }
    return rc;
}

static enum ferr_code render_slack(const struct chan_alert *a,
                                   struct chan_msg *out, struct ferr *err)
{
    struct buf t;
    enum ferr_code rc;
    json_t *o;

    buf_init(&t, LIM_NOTIFY_MSG / 2);
    rc = buf_addf(&t, "*[ferry %s]* ", or_empty(a->level));
    if (!rc)
        rc = add_escaped(&t, a->summary ? a->summary : a->kind);
    if (!rc && a->repo)
        rc = buf_adds(&t, "\n");
    if (!rc && a->repo)
        rc = add_escaped(&t, a->repo);
    if (!rc && a->environment)
        rc = buf_adds(&t, " \xc2\xb7 ");
    if (!rc && a->environment)
        rc = add_escaped(&t, a->environment);
    if (!rc && a->deployment > 0)
        rc = buf_addf(&t, " \xc2\xb7 deployment %" PRId64, a->deployment);
    if (!rc)
        rc = buf_adds(&t, " \xc2\xb7 ");
    if (!rc)
        rc = add_escaped(&t, a->kind);
    if (rc) {
        buf_release(&t);
        return ferr_set(err, rc, NULL, "the alert message is over %u bytes",
                        LIM_NOTIFY_MSG / 2);
    }
    o = json_object();
    json_object_set_new(o, "text", json_lossy_stringn(t.p, t.len));
    buf_release(&t);
    return put_json(o, out, err);
}

static enum ferr_code render_webhook(const struct chan *c,
                                     const struct chan_alert *a,
                                     struct chan_msg *out, struct ferr *err)
{
    json_t *o = json_is_object(a->payload) ? json_deep_copy(a->payload)
                                           : json_object();
    char ts[32];
    enum ferr_code rc;
    size_t h = 0;

    rfc3339(a->created_at, ts);
    json_object_set_new(o, "id", json_integer(a->id));
    set_str(o, "level", a->level);
    set_str(o, "kind", a->kind);
    set_str(o, "dedup_key", a->dedup_key);
    json_object_set_new(o, "created_at", json_string(ts));
    rc = put_json(o, out, err);
    if (rc)
        return rc;
    out->headers[h++] = xstrdup("Content-Type: application/json");
    out->headers[h++] = xasprintf("X-Ferry-Event: %s", or_empty(a->kind));
    if (c->secret) {
        unsigned char mac[32];
        char hex[65];

        crypto_hmac_sha256(c->secret, strlen(c->secret), out->body.p,
                           out->body.len, mac);
        for (size_t i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        out->headers[h++] = xasprintf("X-Ferry-Signature-256: sha256=%s", hex);
    }
    return FERR_OK;
}

/* At most @max bytes of @s, cut at a UTF-8 character boundary. */
static json_t *cut_string(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    return json_lossy_stringn(s, n);
}

static enum ferr_code render_pagerduty(const struct chan *c,
                                       const struct chan_alert *a,
                                       struct chan_msg *out,
                                       struct ferr *err)
{
    json_t *o = json_object();
    json_t *p;
    char ts[32];
    char *source;

    json_object_set_new(o, "routing_key", json_string(c->routing_key));
    if (a->resolves) {
        json_object_set_new(o, "event_action", json_string("resolve"));
        json_object_set_new(o, "dedup_key", cut_string(a->resolves, 255));
        return put_json(o, out, err);
    }
    json_object_set_new(o, "event_action", json_string("trigger"));
    if (a->dedup_key && *a->dedup_key)
        json_object_set_new(o, "dedup_key", cut_string(a->dedup_key, 255));
    else
        json_object_set_new(o, "dedup_key",
                            json_sprintf("ferry-alert-%" PRId64, a->id));
    p = json_object();
    json_object_set_new(
        p, "summary",
        cut_string(a->summary ? a->summary : or_empty(a->kind), PD_SUMMARY_MAX));
    source = a->repo ? xasprintf("ferry %s%s%s", a->repo,
                                 a->environment ? "/" : "",
                                 or_empty(a->environment))
                     : xstrdup("ferry");
    json_object_set_new(p, "source", json_lossy_stringn(source, strlen(source)));
    free(source);
    /* ferry's levels are PagerDuty's severities */
    json_object_set_new(p, "severity", json_string(or_empty(a->level)));
    rfc3339(a->created_at, ts);
    json_object_set_new(p, "timestamp", json_string(ts));
    set_str(p, "component", a->environment);
    set_str(p, "group", a->repo);
    set_str(p, "class", a->kind);
    if (json_is_object(a->payload))
        json_object_set(p, "custom_details", a->payload);
    json_object_set_new(o, "payload", p);
    json_object_set_new(o, "client", json_string("ferry"));
    return put_json(o, out, err);
}

static enum ferr_code render_alertmanager(const struct chan_alert *a,
                                          int64_t now_ms,
                                          struct chan_msg *out,
                                          struct ferr *err)
{
    const char *kind = a->resolves && a->resolved_kind ? a->resolved_kind
                                                       : a->kind;
    const char *level = a->resolves && a->resolved_level ? a->resolved_level
                                                         : a->level;
    int64_t starts = a->resolves && a->resolved_created_at
                         ? a->resolved_created_at
                         : a->created_at;
    json_t *al = json_object();
    json_t *labels = json_object();
    json_t *ann = json_object();
    char name[128];
    char ts[32];

    chan_alertname(kind, name, sizeof(name));
    json_object_set_new(labels, "alertname", json_string(name));
    set_str(labels, "severity", level);
    set_str(labels, "kind", kind);
    set_str(labels, "repo", a->repo);
    set_str(labels, "environment", a->environment);
    if (a->deployment > 0)
        json_object_set_new(labels, "deployment",
                            json_sprintf("%" PRId64, a->deployment));
    json_object_set_new(al, "labels", labels);
    set_str(ann, "summary", a->summary);
    if (a->resolves)
        json_object_set_new(ann, "resolved_by", json_string(or_empty(a->kind)));
    json_object_set_new(al, "annotations", ann);
    rfc3339(starts, ts);
    json_object_set_new(al, "startsAt", json_string(ts));
    if (a->resolves) {
        rfc3339(now_ms, ts);
        json_object_set_new(al, "endsAt", json_string(ts));
    }
    return put_json(json_pack("[o]", al), out, err);
}

/* ---- e-mail ---- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static enum ferr_code add_base64(struct buf *b, const unsigned char *p,
                                 size_t n)
{
    enum ferr_code rc = FERR_OK;

    for (size_t i = 0; i < n && !rc; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        char q[4];

        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = b64[(v >> 18) & 63];
        q[1] = b64[(v >> 12) & 63];
        q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? b64[v & 63] : '=';
        rc = buf_add(b, q, 4);
    }
    return rc;
}

/* @s made fit for one header line: controls as spaces, valid UTF-8 only
 * (others as '?'), at most @max bytes.  *@ascii tells whether it is. */
static char *header_text(const char *s, size_t max, bool *ascii)
{
    size_t n = strlen(s);
    char *t = xmalloc((n < max ? n : max) + 1);
    size_t j = 0;

    *ascii = true;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = c < 0x80 ? 1 : span_utf8_len((const unsigned char *)s + i,
                                                n - i);

        if (l == 0) {
            c = '?';
            l = 1;
        } else if (l > 1) {
            if (j + l > max)
                break;
            memcpy(t + j, s + i, l);
            j += l;
            i += l;
            *ascii = false;
            continue;
        }
        if (j + 1 > max)
            break;
        t[j++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
        i += l;
    }
    t[j] = '\0';
    return t;
}

/* "Subject: [ferry LEVEL] SUMMARY", RFC 2047 words when not ASCII. */
static enum ferr_code add_subject(struct buf *b, const struct chan_alert *a)
{
    char *full = xasprintf("[ferry %s] %s", or_empty(a->level),
                           a->summary ? a->summary : or_empty(a->kind));
    bool ascii;
    char *t = header_text(full, SUBJECT_MAX, &ascii);
    enum ferr_code rc = buf_adds(b, "Subject: ");
    size_t n = strlen(t);

    free(full);
    if (!rc && ascii)
        rc = buf_adds(b, t);
    /* encoded words of at most 45 bytes (60 in base64): lines under 78 */
    for (size_t i = 0; !rc && !ascii && i < n;) {
        size_t l = n - i < 45 ? n - i : 45;

        while (i + l < n && ((unsigned char)t[i + l] & 0xc0) == 0x80)
            l--;
        rc = buf_adds(b, i ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
        if (!rc)
            rc = add_base64(b, (const unsigned char *)t + i, l);
        if (!rc)
            rc = buf_adds(b, "?=");
        i += l;
    }
    free(t);
    if (!rc)
        rc = buf_adds(b, "\r\n");
    return rc;
}

/* @s as body text: CRLF line ends, controls other than tab as spaces,
 * lines cut at BODY_LINE_MAX bytes. */
static enum ferr_code add_body_text(struct buf *b, const char *s)
{
    enum ferr_code rc = FERR_OK;
    size_t col = 0;

    for (; *s && !rc; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '\n' || col >= BODY_LINE_MAX) {
            rc = buf_adds(b, "\r\n");
            col = 0;
            if (c == '\n')
                continue;
        }
        if (!rc && c == '\r')
            continue;
        if (!rc)
            rc = buf_addch(b, c < 0x20 && c != '\t' ? ' ' : (char)c);
        col++;
    }
    if (!rc)
        rc = buf_adds(b, "\r\n");
    return rc;
}

static enum ferr_code add_field(struct buf *b, const char *label,
                                const char *v)
{
    enum ferr_code rc;

    if (!v)
        return FERR_OK;
    rc = buf_addf(b, "%-13s", label);
    if (!rc)
        rc = add_body_text(b, v);
    return rc;
}

static enum ferr_code render_mail(const struct chan *c,
                                  const struct chan_alert *a, int64_t now_ms,
                                  struct chan_msg *out, struct ferr *err)
{
    struct buf *b = &out->body;
    time_t t = (time_t)(now_ms / 1000);
    char date[64];
    char ts[32];
    char dep[32];
    struct tm tm;
    enum ferr_code rc;

    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    rc = buf_addf(b, "Date: %s\r\nFrom: ferry <%s>\r\nTo: ", date, c->from);
    for (size_t i = 0; !rc && i < c->n_to; i++)
        rc = buf_addf(b, "%s<%s>", i ? ",\r\n " : "", c->to[i]);
    if (!rc)
        rc = buf_adds(b, "\r\n");
    if (!rc)
        rc = add_subject(b, a);
    if (!rc)
        rc = buf_addf(b,
                      "Message-ID: <ferry.%" PRId64 ".%s.%" PRId64
                      "@ferry.invalid>\r\n"
                      "MIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: 8bit\r\n"
                      "Auto-Submitted: auto-generated\r\n\r\n",
                      a->id, c->name, now_ms);
    if (!rc)
        rc = add_body_text(b, a->summary ? a->summary : or_empty(a->kind));
    if (!rc)
        rc = buf_adds(b, "\r\n");
    if (!rc)
        rc = add_field(b, "Level:", a->level);
    if (!rc)
        rc = add_field(b, "Kind:", a->kind);
    if (!rc)
        rc = add_field(b, "Repository:", a->repo);
    if (!rc)
        rc = add_field(b, "Environment:", a->environment);
    snprintf(dep, sizeof(dep), "%" PRId64, a->deployment);
    if (!rc && a->deployment > 0)
        rc = add_field(b, "Deployment:", dep);
    rfc3339(a->created_at, ts);
    if (!rc)
        rc = add_field(b, "Raised at:", ts);
    if (!rc)
        rc = add_field(b, "Resolves:", a->resolves);
    if (!rc)
        rc = buf_adds(b, "\r\n-- \r\nferry\r\n");
    if (rc)
        return ferr_set(err, rc, NULL, "the alert message is over %u bytes",
                        LIM_NOTIFY_MSG);
    return FERR_OK;
}

enum ferr_code chan_render(const struct chan *c, const struct chan_alert *a,
                           int64_t now_ms, struct chan_msg *out,
                           struct ferr *err)
{
    enum ferr_code rc = FERR_OK;

    switch (c->type) {
    case CHAN_SMTP:
        return render_mail(c, a, now_ms, out, err);
    case CHAN_SLACK:
        rc = render_slack(a, out, err);
        break;
    case CHAN_WEBHOOK:
        rc = render_webhook(c, a, out, err);
        break;
    case CHAN_PAGERDUTY:
        rc = render_pagerduty(c, a, out, err);
        break;
    case CHAN_ALERTMANAGER:
        rc = render_alertmanager(a, now_ms, out, err);
        break;
    }
    free(out->url);
    if (c->type == CHAN_ALERTMANAGER) {
        size_t n = strlen(c->url);

        while (n > 0 && c->url[n - 1] == '/')
            n--;
        out->url = xasprintf("%.*s/api/v2/alerts", (int)n, c->url);
    } else {
        out->url = xstrdup(c->url);
    }
    if (!rc && !out->headers[0])
        out->headers[0] = xstrdup("Content-Type: application/json");
    return rc;
}

/* ---------- sending ---------- */

static enum ferr_code send_http(const struct chan *c, struct chan_msg *m,
                                struct ferr *err)
{
    struct httpc_req req = {
        .method = "POST",
        .url = m->url,
        .headers = (const char *const *)m->headers,
        .body = m->body.p,
        .body_len = m->body.len,
        .timeout_ms = c->timeout_ms,
    };
    struct ferr herr;
    struct buf ans;
    long status = 0;
    enum ferr_code rc;

    ferr_clear(&herr);
    buf_init(&ans, ANSWER_MAX);
    rc = httpc_do(&req, &status, &ans, &herr);
    if (rc == FERR_LIMIT && status >= 200 && status < 300)
        rc = FERR_OK; /* a long answer to a delivered message */
    if (rc) {
        rc = ferr_set(err, rc, NULL, "%s", herr.msg);
    } else if (status < 200 || status > 299) {
        char shown[ANSWER_SHOWN + 1];
        size_t n = ans.len < ANSWER_SHOWN ? ans.len : ANSWER_SHOWN;

        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)ans.p[i];

            shown[i] = ch < 0x20 || ch >= 0x7f ? ' ' : (char)ch;
        }
        shown[n] = '\0';
        rc = ferr_set(err, FERR_IO, NULL, "HTTP %ld from %s%s%s", status,
                      chan_type_name(c->type), n ? ": " : "", shown);
    }
    buf_release(&ans);
    return rc;
}

enum ferr_code chan_send(const struct chan *c, const struct chan_alert *a,
                         int64_t now_ms, struct ferr *err)
{
    struct chan_msg m;
    enum ferr_code rc;

    chan_msg_init(&m);
    rc = chan_render(c, a, now_ms, &m, err);
    if (!rc && c->type == CHAN_SMTP) {
        struct httpc_mail mail = {
            .url = c->url,
            .from = c->from,
            .to = (const char *const *)c->to,
            .n_to = c->n_to,
            .username = c->username,
            .password = c->password,
            .msg = m.body.p,
            .msg_len = m.body.len,
            .timeout_ms = c->timeout_ms,
        };

        rc = httpc_smtp_send(&mail, err);
    } else if (!rc) {
        rc = send_http(c, &m, err);
    }
    chan_msg_release(&m);
    return rc;
}
