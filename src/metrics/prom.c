/* prom: the metrics registry behind GET /metrics and its text exposition
 * (format 0.0.4).  Each series keeps its label block pre-rendered, and a
 * metric's series sit in one array sorted by label values: a scrape is a
 * run of copies, an update a binary search.  No timestamps, exemplars,
 * summaries, protobuf or OpenMetrics; no locks (one thread per registry). */
#include "metrics/prom.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

/* the longest series key: every value at its cap plus a separator */
#define KEY_MAX (PROM_MAX_LABELS * (LIM_PROM_LABEL_VALUE + 1))
/* the cap of a pre-rendered label block or HELP/TYPE head */
#define TEXT_MAX (1u << 20)

struct series {
    char *key;         /* label values joined by '\0' (sanitised) */
    size_t key_len;    /* bytes of key, separators included */
    char *lbl;         /* rendered a="x",b="y" without braces; "" if none */
    size_t lbl_len;    /* bytes of lbl */
    double value;      /* counter/gauge value; histogram: the sum */
    uint64_t count;    /* histogram: observations */
    uint64_t bucket[]; /* histogram: nbounds + 1 per-bucket (not
                        * cumulative) counts; the last is +Inf's own */
};

struct prom_metric {
    struct prom *reg; /* the owner */
    char *name;       /* validated metric name */
    size_t name_len;
    enum prom_type type;
    char *head; /* "# HELP ...\n# TYPE ...\n" */
    size_t head_len;
    char **labels;          /* nlabels label names */
    size_t nlabels;         /* <= PROM_MAX_LABELS */
    double *bounds;         /* histogram: nbounds finite upper bounds */
    size_t nbounds;         /* <= PROM_MAX_BUCKETS */
    char **le;              /* histogram: bounds rendered for le="" */
    prom_gauge_cb fn;       /* gauge_fn gauges only, else NULL */
    void *fn_ctx;           /* borrowed */
    struct series **series; /* nseries, sorted by key */
    size_t nseries;         /* <= LIM_PROM_SERIES */
    size_t series_cap;      /* allocated slots */
};

struct prom {
    struct prom_metric **m; /* n metrics, sorted by name */
    size_t n;
    size_t cap;
    struct prom_metric *dropped; /* PROM_SERIES_DROPPED_TOTAL{metric} */
    prom_write_cb hook;          /* or NULL */
    void *hook_ctx;              /* borrowed */
};

/* ---------- names and values ---------- */

static bool name_ok(const char *s, bool colon)
{
    if (!s || !*s)
        return false;
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     c == '_' || (colon && c == ':');

        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static size_t count_list(const char *const *list)
{
    size_t n = 0;

    while (list && list[n])
        n++;
    return n;
}

/* Copy at most LIM_PROM_LABEL_VALUE bytes of @v to @out, whole UTF-8
 * characters only, each byte that starts no valid one as '?'. */
static size_t sanitise(const char *v, char *out)
{
    size_t n = strnlen(v, LIM_PROM_LABEL_VALUE + 4);
    size_t i = 0;
    size_t o = 0;

    while (i < n) {
        size_t l = span_utf8_len((const unsigned char *)v + i, n - i);

        if (l == 0) {
            if (o + 1 > LIM_PROM_LABEL_VALUE)
                break;
            out[o++] = '?';
            i++;
            continue;
        }
        if (o + l > LIM_PROM_LABEL_VALUE)
            break;
        memcpy(out + o, v + i, l);
        o += l;
        i += l;
    }
    return o;
}

/* The series key for @values into @key (KEY_MAX bytes). */
static enum ferr_code make_key(const struct prom_metric *m,
                               const char *const *values, char *key,
                               size_t *out_len)
{
    size_t len = 0;

    *out_len = 0;
    if (count_list(values) != m->nlabels)
        return FERR_INVALID;
    for (size_t i = 0; i < m->nlabels; i++) {
        len += sanitise(values[i], key + len);
        key[len++] = '\0';
    }
    *out_len = len;
    return FERR_OK;
}

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* Index of the series with @key, or where it would go (*found false). */
static size_t find(const struct prom_metric *m, const char *key, size_t len,
                   bool *found)
{
    size_t lo = 0;
    size_t hi = m->nseries;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct series *s = m->series[mid];
        int c = key_cmp(s->key, s->key_len, key, len);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Append @s (@n bytes) with @esc_quote: \ " and newline escaped as the
 * format wants for label values (HELP escapes \ and newline only). */
static void add_escaped(struct buf *b, const char *s, size_t n, bool esc_quote)
{
    enum ferr_code rc = FERR_OK;

    for (size_t i = 0; i < n && !rc; i++) {
        if (s[i] == '\\')
            rc = buf_add(b, "\\\\", 2);
        else if (s[i] == '\n')
            rc = buf_add(b, "\\n", 2);
        else if (s[i] == '"' && esc_quote)
            rc = buf_add(b, "\\\"", 2);
        else
            rc = buf_addch(b, s[i]);
    }
    /* only on TEXT_MAX buffers: label values are cut at
     * LIM_PROM_LABEL_VALUE and names and help come from the code */
    (void)rc;
}

/* Append @s as it is (a name or a literal); as add_escaped, only on
 * TEXT_MAX buffers. */
static void add_text(struct buf *b, const char *s)
{
    enum ferr_code rc = buf_adds(b, s);

    (void)rc;
}

static struct series *series_new(const struct prom_metric *m, const char *key,
                                 size_t key_len)
{
    size_t nb = m->type == PROM_HISTOGRAM ? m->nbounds + 1 : 0;
    struct series *s = xcalloc(1, sizeof(*s) + nb * sizeof(uint64_t));
    struct buf lbl;
    const char *v = key;

    s->key = xmemdup(key, key_len + 1);
    s->key_len = key_len;
    buf_init(&lbl, TEXT_MAX);
    for (size_t i = 0; i < m->nlabels; i++) {
        size_t vlen = strlen(v);

        if (i > 0)
            add_text(&lbl, ",");
        add_text(&lbl, m->labels[i]);
        add_text(&lbl, "=\"");
        add_escaped(&lbl, v, vlen, true);
        add_text(&lbl, "\"");
        v += vlen + 1;
    }
    s->lbl = buf_take(&lbl, &s->lbl_len);
    return s;
}

static void series_free(struct series *s)
{
    if (!s)
        return;
    free(s->key);
    free(s->lbl);
    free(s);
}

static void insert_series(struct prom_metric *m, size_t at, struct series *s)
{
    if (m->nseries == m->series_cap) {
        m->series_cap = m->series_cap ? m->series_cap * 2 : 4;
        m->series = xrealloc(m->series, m->series_cap * sizeof(*m->series));
    }
    memmove(m->series + at + 1, m->series + at,
            (m->nseries - at) * sizeof(*m->series));
    m->series[at] = s;
    m->nseries++;
}

/* The series of @m named by @values, created when new and allowed. */
static enum ferr_code lookup(struct prom_metric *m, const char *const *values,
                             bool create, struct series **out)
{
    char key[KEY_MAX + 1];
    size_t len;
    size_t at;
    bool found;
    enum ferr_code rc = make_key(m, values, key, &len);

    *out = NULL;
    if (rc)
        return rc;
    key[len] = '\0';
    at = find(m, key, len, &found);
    if (found) {
        *out = m->series[at];
        return FERR_OK;
    }
    if (!create)
        return FERR_NOTFOUND;
    if (m->nseries >= LIM_PROM_SERIES) {
        struct prom_metric *d = m->reg->dropped;

        if (d && d != m)
            (void)prom_inc(d, (const char *const[]){m->name, NULL}, 1);
        return FERR_LIMIT;
    }
    *out = series_new(m, key, len);
    insert_series(m, at, *out);
    return FERR_OK;
}

/* ---------- number formatting ---------- */

static size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* @v as Prometheus reads it: NaN, +Inf, -Inf, integers without a point,
 * else the shortest of %.15g and %.17g that reads back as @v. */
static size_t fmt_double(char out[40], double v)
{
    int n;

    if (isnan(v)) {
        memcpy(out, "NaN", 3);
        return 3;
    }
    if (isinf(v)) {
        memcpy(out, v > 0 ? "+Inf" : "-Inf", 4);
        return 4;
    }
    if (v > -1e15 && v < 1e15 && (double)(int64_t)v == v) {
        int64_t i = (int64_t)v;

        if (i < 0) {
            out[0] = '-';
            return 1 + fmt_u64(out + 1, (uint64_t)-i);
        }
        return fmt_u64(out, (uint64_t)i);
    }
    n = snprintf(out, 40, "%.15g", v);
    if (strtod(out, NULL) != v)
        n = snprintf(out, 40, "%.17g", v);
    return n > 0 ? (size_t)n : 0;
}

/* ---------- registration ---------- */

static void metric_free(struct prom_metric *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nseries; i++)
        series_free(m->series[i]);
    free(m->series);
    for (size_t i = 0; i < m->nlabels; i++)
        free(m->labels[i]);
    free(m->labels);
    for (size_t i = 0; m->le && i < m->nbounds; i++)
        free(m->le[i]);
    free(m->le);
    free(m->bounds);
    free(m->head);
    free(m->name);
    free(m);
}

static size_t find_metric(const struct prom *r, const char *name, bool *found)
{
    size_t lo = 0;
    size_t hi = r->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->m[mid]->name, name);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static enum ferr_code check_labels(const char *name, const char *const *labels,
                                   bool hist, struct ferr *err)
{
    size_t n = count_list(labels);

    if (n > PROM_MAX_LABELS)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "metric '%s' has %zu labels, more than %u", name, n,
                        PROM_MAX_LABELS);
    for (size_t i = 0; i < n; i++) {
        if (!name_ok(labels[i], false) || !strncmp(labels[i], "__", 2))
            return ferr_set(err, FERR_INVALID, NULL,
                            "metric '%s': bad label name '%s'", name,
                            labels[i]);
        if (hist && !strcmp(labels[i], "le"))
            return ferr_set(err, FERR_INVALID, NULL,
                            "metric '%s': label 'le' is reserved for "
                            "histograms",
                            name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(labels[i], labels[j]))
                return ferr_set(err, FERR_INVALID, NULL,
                                "metric '%s': label '%s' given twice", name,
                                labels[i]);
    }
    return FERR_OK;
}

static enum ferr_code check_buckets(const char *name, const double *b,
                                    size_t *n, struct ferr *err)
{
    if (*n > 0 && isinf(b[*n - 1]) && b[*n - 1] > 0)
        (*n)--;
    if (*n > PROM_MAX_BUCKETS)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "histogram '%s' has %zu buckets, more than %u", name,
                        *n, PROM_MAX_BUCKETS);
    for (size_t i = 0; i < *n; i++) {
        if (!isfinite(b[i]))
            return ferr_set(err, FERR_INVALID, NULL,
                            "histogram '%s': bucket %zu is not finite", name,
                            i + 1);
        if (i > 0 && !(b[i] > b[i - 1]))
            return ferr_set(err, FERR_INVALID, NULL,
                            "histogram '%s': buckets are not increasing at "
                            "%zu",
                            name, i + 1);
    }
    return FERR_OK;
}

static const char *type_name(enum prom_type t)
{
    return t == PROM_COUNTER ? "counter"
           : t == PROM_GAUGE ? "gauge"
                             : "histogram";
}

static enum ferr_code reg(struct prom *r, enum prom_type type, const char *name,
                          const char *help, const char *const *labels,
                          const double *buckets, size_t nbuckets,
                          prom_gauge_cb fn, void *ctx, struct prom_metric **out,
                          struct ferr *err)
{
    struct prom_metric *m;
    struct buf head;
    size_t at;
    size_t nl;
    bool found;
    enum ferr_code rc;

    *out = NULL;
    if (!name_ok(name, true))
        return ferr_set(err, FERR_INVALID, NULL, "bad metric name '%s'",
                        name ? name : "");
    if (type == PROM_COUNTER &&
        (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total")))
        return ferr_set(err, FERR_INVALID, NULL,
                        "counter '%s' does not end in '_total'", name);
    rc = check_labels(name, labels, type == PROM_HISTOGRAM, err);
    if (!rc && type == PROM_HISTOGRAM) {
        if (nbuckets && !buckets)
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "histogram '%s': no buckets given", name);
        else
            rc = check_buckets(name, buckets, &nbuckets, err);
    }
    if (rc)
        return rc;
    at = find_metric(r, name, &found);
    if (found)
        return ferr_set(err, FERR_INVALID, NULL,
                        "metric '%s' is already registered", name);

    m = xcalloc(1, sizeof(*m));
    m->reg = r;
    m->name = xstrdup(name);
    m->name_len = strlen(name);
    m->type = type;
    m->fn = fn;
    m->fn_ctx = ctx;
    nl = count_list(labels);
    m->labels = xcalloc(nl ? nl : 1, sizeof(*m->labels));
    for (size_t i = 0; i < nl; i++)
        m->labels[i] = xstrdup(labels[i]);
    m->nlabels = nl;
    if (type == PROM_HISTOGRAM) {
        m->nbounds = nbuckets;
        m->bounds =
            xmemdup(buckets, (nbuckets ? nbuckets : 1) * sizeof(double));
        m->le = xcalloc(nbuckets ? nbuckets : 1, sizeof(*m->le));
        for (size_t i = 0; i < nbuckets; i++) {
            char num[40];
            size_t k = fmt_double(num, buckets[i]);

            m->le[i] = xstrndup(num, k);
        }
    }
    buf_init(&head, TEXT_MAX);
    add_text(&head, "# HELP ");
    add_text(&head, name);
    add_text(&head, " ");
    add_escaped(&head, help ? help : "", help ? strlen(help) : 0, false);
    add_text(&head, "\n# TYPE ");
    add_text(&head, name);
    add_text(&head, " ");
    add_text(&head, type_name(type));
    add_text(&head, "\n");
    m->head = buf_take(&head, &m->head_len);
    if (nl == 0 && !fn)
        insert_series(m, 0, series_new(m, "", 0));

    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->m = xrealloc(r->m, r->cap * sizeof(*r->m));
    }
    memmove(r->m + at + 1, r->m + at, (r->n - at) * sizeof(*r->m));
    r->m[at] = m;
    r->n++;
    *out = m;
    return FERR_OK;
}

struct prom *prom_new(void)
{
    struct prom *r = xcalloc(1, sizeof(*r));
    static const char *const dl[] = {"metric", NULL};
    enum ferr_code rc;

    rc = reg(r, PROM_COUNTER, PROM_SERIES_DROPPED_TOTAL,
             PROM_SERIES_DROPPED_TOTAL_HELP, dl, NULL, 0, NULL, NULL,
             &r->dropped, NULL);
    (void)rc; /* a constant, valid name: cannot fail */
    return r;
}

void prom_free(struct prom *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        metric_free(r->m[i]);
    free(r->m);
    free(r);
}

enum ferr_code prom_counter(struct prom *r, const char *name, const char *help,
                            const char *const *labels, struct prom_metric **out,
                            struct ferr *err)
{
    return reg(r, PROM_COUNTER, name, help, labels, NULL, 0, NULL, NULL, out,
               err);
}

enum ferr_code prom_gauge(struct prom *r, const char *name, const char *help,
                          const char *const *labels, struct prom_metric **out,
                          struct ferr *err)
{
    return reg(r, PROM_GAUGE, name, help, labels, NULL, 0, NULL, NULL, out,
               err);
}

enum ferr_code prom_gauge_fn(struct prom *r, const char *name, const char *help,
                             prom_gauge_cb fn, void *ctx,
                             struct prom_metric **out, struct ferr *err)
{
    if (!fn) {
        *out = NULL;
        return ferr_set(err, FERR_INVALID, NULL, "gauge '%s' has no callback",
                        name ? name : "");
    }
    return reg(r, PROM_GAUGE, name, help, NULL, NULL, 0, fn, ctx, out, err);
}

enum ferr_code prom_histogram(struct prom *r, const char *name,
                              const char *help, const char *const *labels,
                              const double *buckets, size_t nbuckets,
                              struct prom_metric **out, struct ferr *err)
{
    return reg(r, PROM_HISTOGRAM, name, help, labels, buckets, nbuckets, NULL,
               NULL, out, err);
}

/* ---------- updates ---------- */

enum ferr_code prom_inc(struct prom_metric *m, const char *const *values,
                        double v)
{
    struct series *s;
    enum ferr_code rc;

    if (!m || m->type == PROM_HISTOGRAM || m->fn || isnan(v) ||
        (m->type == PROM_COUNTER && v < 0))
        return FERR_INVALID;
    rc = lookup(m, values, true, &s);
    if (rc)
        return rc;
    s->value += v;
    return FERR_OK;
}

enum ferr_code prom_set(struct prom_metric *m, const char *const *values,
                        double v)
{
    struct series *s;
    enum ferr_code rc;

    if (!m || m->type != PROM_GAUGE || m->fn)
        return FERR_INVALID;
    rc = lookup(m, values, true, &s);
    if (rc)
        return rc;
    s->value = v;
    return FERR_OK;
}

enum ferr_code prom_observe(struct prom_metric *m, const char *const *values,
                            double v)
{
    struct series *s;
    size_t lo = 0;
    size_t hi;
    enum ferr_code rc;

    if (!m || m->type != PROM_HISTOGRAM || isnan(v))
        return FERR_INVALID;
    rc = lookup(m, values, true, &s);
    if (rc)
        return rc;
    /* the first bound >= v; le is inclusive */
    hi = m->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (m->bounds[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    s->bucket[lo]++;
    s->count++;
    s->value += v;
    return FERR_OK;
}

enum ferr_code prom_get(struct prom_metric *m, const char *const *values,
                        double *out)
{
    struct series *s;
    enum ferr_code rc;

    *out = 0;
    if (!m)
        return FERR_INVALID;
    if (m->fn) {
        if (count_list(values) != 0)
            return FERR_INVALID;
        *out = m->fn(m->fn_ctx);
        return FERR_OK;
    }
    rc = lookup(m, values, false, &s);
    if (rc)
        return rc;
    *out = m->type == PROM_HISTOGRAM ? (double)s->count : s->value;
    return FERR_OK;
}

size_t prom_series_count(const struct prom_metric *m)
{
    return m->fn ? 1 : m->nseries;
}

void prom_on_write(struct prom *r, prom_write_cb fn, void *ctx)
{
    r->hook = fn;
    r->hook_ctx = fn ? ctx : NULL;
}

/* ---------- the exposition ---------- */

/* One sample line: NAME SUFFIX{LBL[,EXTRA]} NUM\n, braces only when
 * there is something inside. */
static enum ferr_code sample(struct buf *b, const struct prom_metric *m,
                             const char *suffix, size_t suffix_len,
                             const struct series *s, const char *extra,
                             size_t extra_len, const char *num, size_t num_len)
{
    size_t lbl_len = s ? s->lbl_len : 0;
    size_t need = m->name_len + suffix_len + lbl_len + extra_len + num_len + 5;
    char *p;
    enum ferr_code rc = buf_grow(b, need);

    if (rc)
        return rc;
    p = b->p + b->len;
    memcpy(p, m->name, m->name_len);
    p += m->name_len;
    memcpy(p, suffix, suffix_len);
    p += suffix_len;
    if (lbl_len || extra_len) {
        *p++ = '{';
        if (lbl_len) {
            memcpy(p, s->lbl, lbl_len);
            p += lbl_len;
        }
        if (lbl_len && extra_len)
            *p++ = ',';
        if (extra_len) {
            memcpy(p, extra, extra_len);
            p += extra_len;
        }
        *p++ = '}';
    }
    *p++ = ' ';
    memcpy(p, num, num_len);
    p += num_len;
    *p++ = '\n';
    b->len = (size_t)(p - b->p);
    b->p[b->len] = '\0';
    return FERR_OK;
}

static enum ferr_code write_histogram(struct buf *b,
                                      const struct prom_metric *m,
                                      const struct series *s)
{
    char le[64 + 8];
    char num[40];
    uint64_t cum = 0;
    enum ferr_code rc = FERR_OK;

    for (size_t i = 0; i <= m->nbounds && !rc; i++) {
        const char *bound = i < m->nbounds ? m->le[i] : "+Inf";
        size_t bl = strlen(bound);
        size_t ll;

        memcpy(le, "le=\"", 4);
        memcpy(le + 4, bound, bl);
        le[4 + bl] = '"';
        ll = 5 + bl;
        cum += s->bucket[i];
        rc = sample(b, m, "_bucket", 7, s, le, ll, num, fmt_u64(num, cum));
    }
    if (!rc)
        rc =
            sample(b, m, "_sum", 4, s, NULL, 0, num, fmt_double(num, s->value));
    if (!rc)
        rc = sample(b, m, "_count", 6, s, NULL, 0, num, fmt_u64(num, s->count));
    return rc;
}

static enum ferr_code write_metric(struct buf *b, const struct prom_metric *m)
{
    char num[40];
    enum ferr_code rc = buf_add(b, m->head, m->head_len);

    if (!rc && m->fn)
        rc = sample(b, m, "", 0, NULL, NULL, 0, num,
                    fmt_double(num, m->fn(m->fn_ctx)));
    for (size_t i = 0; i < m->nseries && !rc; i++) {
        const struct series *s = m->series[i];

        if (m->type == PROM_HISTOGRAM)
            rc = write_histogram(b, m, s);
        else
            rc =
                sample(b, m, "", 0, s, NULL, 0, num, fmt_double(num, s->value));
    }
    return rc;
}

enum ferr_code prom_write(struct prom *r, struct buf *out, struct ferr *err)
{
    size_t start = out->len;
    enum ferr_code rc = FERR_OK;

    if (r->hook)
        r->hook(r, r->hook_ctx);
    for (size_t i = 0; i < r->n && !rc; i++)
        rc = write_metric(out, r->m[i]);
    if (rc) {
        out->len = start;
        if (out->p)
            out->p[start] = '\0';
        return ferr_set(err, rc, NULL,
                        "metrics exposition is larger than %zu bytes",
                        out->max);
    }
    return FERR_OK;
}
