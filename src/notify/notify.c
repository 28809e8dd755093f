/* notify: the notifier's configuration, routing and delivery loop.  The
 * server only inserts outbox rows and pokes our stdin; here they become
 * one send per channel, tried when due and retried with backoff until
 * they get through.  It never drops a send and never talks to the server:
 * the store is the only shared state.  The formats are chan.c's. */
#include "notify/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/span.h"
#include "util/xalloc.h"

#define BACKOFF_FIRST_MS   1000
#define BACKOFF_MAX_MS     (5 * 60 * 1000)
#define BATCH              200
#define STORE_RETRY_MS     1000
/* with nothing due, look at the outbox this often anyway (the default of
 * "recheck"): alerts written by another process come without a wake-up
 * byte, and a wake-up can be lost */
#define RECHECK_DEFAULT_S  30
#define RECHECK_MAX_S      3600
#define UNKNOWN_CHANNEL_MS BACKOFF_MAX_MS

static const char *const level_names[NOTIFY_LEVELS] = {"info", "warning",
                                                       "error", "critical"};

bool notify_level_parse(const char *s, enum notify_level *out)
{
    for (int i = 0; i < NOTIFY_LEVELS; i++) {
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (enum notify_level)i;
            return true;
        }
    }
    return false;
}

int64_t notify_backoff_ms(int64_t attempts)
{
    int64_t d = BACKOFF_FIRST_MS;

    for (int64_t i = 1; i < attempts && d < BACKOFF_MAX_MS; i++)
        d *= 2;
    return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

/* ---------- configuration ---------- */

void notify_config_free(struct notify_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_chans; i++)
        chan_release(&c->chans[i]);
    free(c->chans);
    for (int l = 0; l < NOTIFY_LEVELS; l++)
        free(c->routes[l]);
    free(c);
}

const struct chan *notify_config_channel(const struct notify_config *c,
                                         const char *name)
{
    for (size_t i = 0; i < c->n_chans; i++)
        if (strcmp(c->chans[i].name, name) == 0)
            return &c->chans[i];
    return NULL;
}

static bool good_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > LIM_NAME)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
            !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

static enum ferr_code parse_channels(json_t *chans, struct notify_config *c,
                                     struct ferr *err)
{
    const char *name;
    json_t *v;
    size_t n;
    enum ferr_code rc;

    if (!chans)
        return FERR_OK;
    if (!json_is_object(chans))
        return ferr_set(err, FERR_INVALID, NULL,
                        "'channels' must be an object of named channels");
    n = json_object_size(chans);
    if (n > LIM_NOTIFY_CHANNELS)
        return ferr_set(err, FERR_LIMIT, NULL, "more than %u channels",
                        LIM_NOTIFY_CHANNELS);
    c->chans = xcalloc(n ? n : 1, sizeof(*c->chans));
    json_object_foreach(chans, name, v) {
        char q[72];

        if (!good_name(name))
            return ferr_set(err, FERR_INVALID, NULL,
                            "channel name '%s' must be 1 to %u of "
                            "[A-Za-z0-9._-]",
                            span_quote(name, strlen(name), q), LIM_NAME);
        rc = chan_parse(name, v, &c->chans[c->n_chans], err);
        c->n_chans++;
        if (rc)
            return rc;
    }
    return FERR_OK;
}

static enum ferr_code parse_route(const char *level, json_t *names,
                                  struct notify_config *c, size_t *route,
                                  size_t *out_n, struct ferr *err)
{
    size_t n = 0;

    if (!json_is_array(names))
        return ferr_set(err, FERR_INVALID, NULL,
                        "routes: '%s' must be an array of channel names",
                        level);
    for (size_t i = 0; i < json_array_size(names); i++) {
        const char *name = json_string_value(json_array_get(names, i));
        const struct chan *ch;
        char q[72];

        if (!name)
            return ferr_set(err, FERR_INVALID, NULL,
                            "routes: '%s'[%zu] must be a channel name",
                            level, i);
        ch = notify_config_channel(c, name);
        if (!ch)
            return ferr_set(err, FERR_INVALID, NULL,
                            "routes: '%s' names channel '%s', which is not "
                            "defined in 'channels'",
                            level, span_quote(name, strlen(name), q));
        for (size_t j = 0; j < n; j++)
            if (route[j] == (size_t)(ch - c->chans))
                return ferr_set(err, FERR_INVALID, NULL,
                                "routes: '%s' names channel '%s' twice",
                                level, name);
        route[n++] = (size_t)(ch - c->chans);
    }
    *out_n = n;
    return FERR_OK;
}

static enum ferr_code parse_routes(json_t *routes, struct notify_config *c,
                                   struct ferr *err)
{
    const char *level;
    json_t *v;

    if (!routes)
        return FERR_OK;
    if (!json_is_object(routes))
        return ferr_set(err, FERR_INVALID, NULL,
                        "'routes' must be an object of levels (info, "
                        "warning, error, critical)");
    json_object_foreach(routes, level, v) {
        enum notify_level l;
        enum ferr_code rc;
        char q[72];

        if (!notify_level_parse(level, &l))
            return ferr_set(err, FERR_INVALID, NULL,
                            "routes: unknown level '%s' (info, warning, "
                            "error or critical)",
                            span_quote(level, strlen(level), q));
        /* names are known and never repeated: at most n_chans of them */
        c->routes[l] = xcalloc(c->n_chans ? c->n_chans : 1, sizeof(size_t));
        rc = parse_route(level, v, c, c->routes[l], &c->n_routes[l], err);
        if (rc)
            return rc;
    }
    return FERR_OK;
}

enum ferr_code notify_config_parse(const char *file, const char *text,
                                   size_t len, struct notify_config **out,
                                   struct ferr *err)
{
    struct notify_config *c = NULL;
    struct pos where = {file, 0, 0};
    json_error_t je;
    json_t *root;
    const char *k;
    json_t *v;
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    if (len > LIM_NOTIFY_CONFIG)
        return ferr_set(err, FERR_LIMIT, &where, "over %u bytes",
                        LIM_NOTIFY_CONFIG);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        struct pos at = {file, je.line > 0 ? (uint32_t)je.line : 1,
                         je.column > 0 ? (uint32_t)je.column : 1};

        return ferr_set(err, FERR_PARSE, &at, "not valid JSON: %s", je.text);
    }
    if (!json_is_object(root)) {
        rc = ferr_set(err, FERR_INVALID, &where,
                      "the configuration must be a JSON object with "
                      "'channels' and 'routes'");
        goto done;
    }
    json_object_foreach(root, k, v) {
        char q[72];

        (void)v;
        if (strcmp(k, "channels") != 0 && strcmp(k, "routes") != 0 &&
            strcmp(k, "recheck") != 0) {
            rc = ferr_set(err, FERR_INVALID, &where,
                          "unknown key '%s' (channels, routes, recheck)",
                          span_quote(k, strlen(k), q));
            goto done;
        }
    }
    v = json_object_get(root, "recheck");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
              json_integer_value(v) > RECHECK_MAX_S)) {
        rc = ferr_set(err, FERR_INVALID, &where,
                      "'recheck' must be whole seconds from 1 to %d",
                      RECHECK_MAX_S);
        goto done;
    }
    c = xcalloc(1, sizeof(*c));
    c->recheck_ms = (v ? (int)json_integer_value(v) : RECHECK_DEFAULT_S) * 1000;
    rc = parse_channels(json_object_get(root, "channels"), c, err);
    if (!rc)
        rc = parse_routes(json_object_get(root, "routes"), c, err);
    if (rc && err && err->pos.file == NULL)
        err->pos = where;
done:
    json_decref(root);
    if (rc) {
        notify_config_free(c);
        return rc;
    }
    *out = c;
    return FERR_OK;
}

enum ferr_code notify_config_load(const char *path, struct notify_config **out,
                                  struct ferr *err)
{
    struct pos where = {path, 0, 0};
    struct buf b;
    struct stat st;
    char chunk[8192];
    ssize_t n;
    enum ferr_code rc = FERR_OK;
    int fd;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ferr_set(err, FERR_IO, &where, "cannot open: %s",
                        strerror(errno));
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return ferr_set(err, FERR_IO, &where, "is a directory");
    }
    buf_init(&b, LIM_NOTIFY_CONFIG);
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ferr_set(err, FERR_IO, &where, "cannot read: %s",
                          strerror(errno));
            break;
        }
        if (buf_add(&b, chunk, (size_t)n)) {
            rc = ferr_set(err, FERR_LIMIT, &where, "over %u bytes",
                          LIM_NOTIFY_CONFIG);
            break;
        }
    }
    close(fd);
    if (!rc)
        rc = notify_config_parse(path, b.p ? b.p : "", b.len, out, err);
    buf_release(&b);
    return rc;
}

/* ---------- the notifier ---------- */

struct notify {
    const struct notify_config *cfg; /* borrowed */
    struct store *store;             /* borrowed */
    int64_t *down_until;             /* per channel: wall ms, 0 = up */
};

struct notify *notify_new(const struct notify_config *cfg, struct store *store)
{
    struct notify *n = xcalloc(1, sizeof(*n));

    n->cfg = cfg;
    n->store = store;
    n->down_until = xcalloc(cfg->n_chans ? cfg->n_chans : 1,
                            sizeof(*n->down_until));
    return n;
}

void notify_free(struct notify *n)
{
    if (!n)
        return;
    free(n->down_until);
    free(n);
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void add_unique(const char **names, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(names[i], name) == 0)
            return;
    names[(*n)++] = name;
}

/* Route outbox entry @e: its level's channels, plus where what it
 * resolves went (those still configured). */
static enum ferr_code route_one(struct notify *n, json_t *e,
                                struct ferr *err)
{
    const struct notify_config *c = n->cfg;
    const char *level = json_string_value(json_object_get(e, "level"));
    const char *resolves = json_string_value(
        json_object_get(json_object_get(e, "payload"), "resolves"));
    json_int_t id = json_integer_value(json_object_get(e, "id"));
    const char **names = xcalloc(c->n_chans ? c->n_chans : 1,
                                 sizeof(*names));
    json_t *got = NULL;
    enum notify_level l;
    size_t k = 0;
    enum ferr_code rc = FERR_OK;

    if (notify_level_parse(level, &l)) {
        for (size_t i = 0; i < c->n_routes[l]; i++)
            add_unique(names, &k, c->chans[c->routes[l][i]].name);
    } else {
        log_warn("notify: alert has an unknown level, not routed id=%" PRId64
                 " level='%s'",
                 (int64_t)id, level ? level : "");
    }
    if (resolves && *resolves)
        rc = store_outbox_channels_of(n->store, resolves, &got, err);
    for (size_t i = 0; !rc && i < json_array_size(got); i++) {
        const char *name = json_string_value(json_array_get(got, i));
        const struct chan *ch = name ? notify_config_channel(c, name) : NULL;

        if (ch)
            add_unique(names, &k, ch->name);
    }
    if (!rc)
        rc = store_outbox_route(n->store, (int64_t)id, names, k, err);
    if (!rc)
        log_info("notify: alert routed id=%" PRId64 " level='%s' channels=%zu",
                 (int64_t)id, level ? level : "", k);
    json_decref(got);
    free(names);
    return rc;
}

static enum ferr_code route_new(struct notify *n, struct ferr *err)
{
    for (;;) {
        json_t *list = NULL;
        size_t count;
        enum ferr_code rc = store_outbox_unrouted(n->store, BATCH, &list, err);

        for (size_t i = 0; !rc && i < json_array_size(list); i++)
            rc = route_one(n, json_array_get(list, i), err);
        count = json_array_size(list);
        json_decref(list);
        if (rc || count < BATCH)
            return rc;
    }
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* @a's fields borrowed from the due row @row. */
static void alert_of(json_t *row, struct chan_alert *a)
{
    json_t *p = json_object_get(row, "payload");
    json_t *r = json_object_get(row, "resolved");
    const char *resolves = jstr(p, "resolves");

    memset(a, 0, sizeof(*a));
    a->id = (int64_t)json_integer_value(json_object_get(row, "outbox_id"));
    a->level = jstr(row, "level");
    a->kind = jstr(row, "kind");
    a->dedup_key = jstr(row, "dedup_key");
    a->created_at = (int64_t)json_integer_value(json_object_get(row,
                                                                "created_at"));
    a->payload = json_is_object(p) ? p : NULL;
    a->summary = jstr(p, "summary");
    a->repo = jstr(p, "repo");
    a->environment = jstr(p, "environment");
    a->deployment = (int64_t)json_integer_value(json_object_get(p,
                                                                "deployment"));
    a->resolves = resolves && *resolves ? resolves : NULL;
    if (a->resolves && json_is_object(r)) {
        a->resolved_level = jstr(r, "level");
        a->resolved_kind = jstr(r, "kind");
        a->resolved_created_at =
            (int64_t)json_integer_value(json_object_get(r, "created_at"));
    }
}

/* Try the due send @row once, or put it off when its channel is down. */
static enum ferr_code deliver_one(struct notify *n, json_t *row,
                                  struct ferr *err)
{
    const char *name = jstr(row, "channel");
    int64_t attempts = (int64_t)json_integer_value(json_object_get(row,
                                                                   "attempts"));
    const struct chan *ch = notify_config_channel(n->cfg, name ? name : "");
    struct chan_alert a;
    struct ferr serr;
    int64_t now = wall_ms();
    int64_t next;
    size_t ci;
    char why[600];

    alert_of(row, &a);
    if (!ch) {
        snprintf(why, sizeof(why),
                 "channel '%s' is not in the configuration", name ? name : "");
        log_warn("notify: alert held id=%" PRId64 " reason='%s'", a.id, why);
        return store_outbox_retry(n->store, a.id, name ? name : "", false,
                                  now + UNKNOWN_CHANNEL_MS, why, err);
    }
    ci = (size_t)(ch - n->cfg->chans);
    if (n->down_until[ci] > now)
        return store_outbox_retry(n->store, a.id, ch->name, false,
                                  n->down_until[ci], NULL, err);
    ferr_clear(&serr);
    if (chan_send(ch, &a, now, &serr) == FERR_OK) {
        n->down_until[ci] = 0;
        log_info("notify: alert sent id=%" PRId64 " channel='%s' kind='%s'"
                 " attempt=%" PRId64,
                 a.id, ch->name, a.kind ? a.kind : "", attempts + 1);
        return store_outbox_sent(n->store, a.id, ch->name, err);
    }
    next = wall_ms() + notify_backoff_ms(attempts + 1);
    n->down_until[ci] = next;
    log_warn("notify: alert not sent id=%" PRId64 " channel='%s'"
             " attempt=%" PRId64 " retry_in_ms=%" PRId64 " err='%s'",
             a.id, ch->name, attempts + 1, next - wall_ms(), serr.msg);
    return store_outbox_retry(n->store, a.id, ch->name, true, next, serr.msg,
                              err);
}

enum ferr_code notify_pass(struct notify *n, int64_t *out_next_ms,
                           struct ferr *err)
{
    enum ferr_code rc;

    *out_next_ms = -1;
    rc = route_new(n, err);
    /* every due send leaves the due set (sent or put off), so this ends */
    while (!rc) {
        json_t *due = NULL;
        size_t count;

        rc = store_outbox_due(n->store, wall_ms(), BATCH, &due, err);
        for (size_t i = 0; !rc && i < json_array_size(due); i++)
            rc = deliver_one(n, json_array_get(due, i), err);
        count = json_array_size(due);
        json_decref(due);
        if (count == 0)
            break;
    }
    if (!rc)
        rc = store_outbox_next_due(n->store, out_next_ms, err);
    return rc;
}

/* Wait for a wake-up byte, a stop signal or @timeout_ms (-1: forever).
 * *@out_stop is set on EOF or signal. */
static enum ferr_code wait_for(int wake_fd, int stop_fd, int timeout_ms,
                               bool *out_stop, struct ferr *err)
{
    struct pollfd p[2] = {{.fd = wake_fd, .events = POLLIN},
                          {.fd = stop_fd, .events = POLLIN}};
    int r;

    *out_stop = false;
    r = poll(p, stop_fd >= 0 ? 2 : 1, timeout_ms);
    if (r < 0 && errno == EINTR)
        return FERR_OK;
    if (r < 0)
        return ferr_set(err, FERR_IO, NULL, "poll: %s", strerror(errno));
    if (stop_fd >= 0 && (p[1].revents & POLLIN)) {
        *out_stop = true;
        return FERR_OK;
    }
    if (p[0].revents & POLLNVAL) {
        *out_stop = true;
        return FERR_OK;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        char drain[256];
        ssize_t got = read(wake_fd, drain, sizeof(drain));

        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
            *out_stop = true;
    }
    return FERR_OK;
}

enum ferr_code notify_run(struct notify *n, int wake_fd, int stop_fd,
                          struct ferr *err)
{
    for (;;) {
        struct ferr perr;
        int64_t next = -1;
        int timeout = -1;
        /* a configuration not from the parser has no recheck: never
         * poll with 0 in a loop */
        int recheck = n->cfg->recheck_ms > 0 ? n->cfg->recheck_ms
                                             : RECHECK_DEFAULT_S * 1000;
        bool stop = false;
        enum ferr_code rc;

        ferr_clear(&perr);
        if (notify_pass(n, &next, &perr)) {
            log_err("notify: pass failed, trying again err='%s'", perr.msg);
            next = wall_ms() + STORE_RETRY_MS;
        }
        if (next >= 0) {
            int64_t d = next - wall_ms();

            timeout = d <= 0 ? 0 : d > recheck ? recheck : (int)d;
        } else {
            timeout = recheck;
        }
        rc = wait_for(wake_fd, stop_fd, timeout, &stop, err);
        if (rc || stop)
            return rc;
    }
}
