/* chan: one alert channel — its options (parsed from the notifier's
 * configuration), the message an alert becomes on it (Slack text, a
 * signed generic webhook, PagerDuty Events v2, Alertmanager API v2, an
 * e-mail) and the one blocking send of that message. */
#ifndef FERRY_NOTIFY_CHAN_H
#define FERRY_NOTIFY_CHAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/ferr.h"

enum chan_type {
    CHAN_SMTP,
    CHAN_SLACK,
    CHAN_WEBHOOK,
    CHAN_PAGERDUTY,
    CHAN_ALERTMANAGER
};

/** A channel's options; every string is the struct's own (chan_release). */
struct chan {
    char *name;        /* [A-Za-z0-9._-]{1,64}, unique in the config */
    enum chan_type type;
    char *url;         /* smtp(s)://, or http(s):// for the others */
    char *secret;      /* webhook HMAC key, NULL = unsigned */
    char *routing_key; /* pagerduty */
    char *from;        /* smtp: envelope and From: address */
    char **to;         /* smtp: recipients (n_to >= 1) */
    size_t n_to;
    char *username;    /* smtp AUTH, NULL = none */
    char *password;
    long timeout_ms;   /* one send, 1..300000; default 10000 */
};

/**
 * An alert as a channel sees it.  Everything is borrowed (from the
 * outbox row); NULL strings are absent fields.
 */
struct chan_alert {
    int64_t id;              /* outbox id */
    const char *level;       /* info|warning|error|critical */
    const char *kind;        /* "deployment.failed" */
    const char *dedup_key;   /* "" or NULL when none */
    const char *summary;
    const char *repo;
    const char *environment;
    int64_t deployment;      /* 0 = none */
    int64_t created_at;      /* ms since the epoch */
    json_t *payload;         /* the outbox payload object, or NULL */
    const char *resolves;    /* dedup key this alert clears, or NULL */
    const char *resolved_level; /* of the alert it clears; NULL: unknown */
    const char *resolved_kind;
    int64_t resolved_created_at; /* ms; 0 = unknown */
};

/** The type named @s ("smtp", "slack", ...); false when unknown. */
bool chan_type_parse(const char *s, enum chan_type *out);
/** "smtp", "slack", "webhook", "pagerduty" or "alertmanager". */
const char *chan_type_name(enum chan_type t);

/**
 * Fill @out from the channel object @o of the configuration (borrowed),
 * named @name: "type" and the type's options (docs/operations.md).
 * Unknown keys, wrong types and bad URLs are errors, with messages that
 * name the channel ("channel 'pd': 'routing_key' is required").
 * Ownership: @out is the caller's (chan_release), also after an error.
 * Errors: FERR_INVALID, FERR_LIMIT.
 */
enum ferr_code chan_parse(const char *name, json_t *o, struct chan *out,
                          struct ferr *err) FERR_MUST_CHECK;
/** Free what @c owns; it may be chan_parse'd again. */
void chan_release(struct chan *c);

/** What one send is: the body and, for HTTP, the headers. */
struct chan_msg {
    struct buf body;      /* JSON, or the whole e-mail for smtp */
    char *url;            /* where to POST (http channels); the msg's own */
    char *headers[4];     /* "Name: value", NULL-terminated; owned */
};

/** Empty @m (with a body limit); chan_msg_release frees it. */
void chan_msg_init(struct chan_msg *m);
void chan_msg_release(struct chan_msg *m);

/**
 * Render @a for channel @c into @out (chan_msg_init'ed by the caller),
 * at wall-clock @now_ms (Alertmanager's endsAt of a resolve, the mail's
 * Date).  An alert with @a->resolves is a resolve on PagerDuty
 * (event_action "resolve", the resolved dedup key) and on Alertmanager
 * (the resolved alert's labels with endsAt now); the other channels show
 * it as a message like any other.
 * Errors: FERR_LIMIT (too big a message); @out is then partial.
 */
enum ferr_code chan_render(const struct chan *c, const struct chan_alert *a,
                           int64_t now_ms, struct chan_msg *out,
                           struct ferr *err) FERR_MUST_CHECK;

/**
 * Render and send @a to @c (blocking, at most c->timeout_ms).  An HTTP
 * answer other than 2xx is a failure ("HTTP 500: body…").
 * Errors: FERR_NOTFOUND (refused), FERR_IO (anything else that failed),
 * FERR_UNSUPPORTED (no libcurl).  Context: the notifier's thread.
 */
enum ferr_code chan_send(const struct chan *c, const struct chan_alert *a,
                         int64_t now_ms, struct ferr *err) FERR_MUST_CHECK;

/** "FerryRollbackStarted" from "rollback.started" into @out (size @n). */
void chan_alertname(const char *kind, char *out, size_t n);

#endif
