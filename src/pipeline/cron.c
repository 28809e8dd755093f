/* cron: parse 5-field POSIX/Vixie cron expressions into bit sets, test a
 * minute against them and find the next matching minute in UTC.  Time zones,
 * seconds, years and the @daily-style macros are deliberately absent: GitHub
 * schedules are UTC and five fields.  Civil dates are computed here, not
 * with gmtime/timegm, so any time_t is safe. */
#include "pipeline/cron.h"

#include <stdio.h>
#include <string.h>

enum field_id { F_MIN, F_HOUR, F_MDAY, F_MON, F_WDAY, F_COUNT };

struct field_def {
    const char *name; /* as used in messages */
    unsigned lo;
    unsigned hi;      /* largest accepted value (7 for day-of-week) */
    unsigned star_hi; /* largest value '*' stands for */
};

static const struct field_def fields[F_COUNT] = {
    { "minute", 0, 59, 59 },
    { "hour", 0, 23, 23 },
    { "day-of-month", 1, 31, 31 },
    { "month", 1, 12, 12 },
    { "day-of-week", 0, 7, 6 },
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr",
                                           "may", "jun", "jul", "aug",
                                           "sep", "oct", "nov", "dec" };
static const char *const wday_names[] = { "sun", "mon", "tue", "wed",
                                          "thu", "fri", "sat" };

struct ctx {
    struct span src;      /* the whole expression, for messages */
    const struct pos *pos;
    struct ferr *err;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static enum ferr_code fail(const struct ctx *cx, enum field_id f,
                           struct span text, size_t col, const char *why)
{
    struct pos at;
    const struct pos *p = NULL;

    if (cx->pos) {
        at = *cx->pos;
        if (at.line > 0 && col < UINT32_MAX - at.col)
            at.col += (uint32_t)col;
        p = &at;
    }
    return ferr_set(cx->err, FERR_PARSE, p,
                    "invalid %s '%.*s' in cron '%.*s': %s", fields[f].name,
                    SPAN_ARGS(text), SPAN_ARGS(cx->src), why);
}

static bool lookup_name(enum field_id f, struct span s, unsigned *out)
{
    const char *const *names = NULL;
    unsigned n = 0;
    unsigned base = 0;

    if (f == F_MON) {
        names = month_names;
        n = 12;
        base = 1;
    } else if (f == F_WDAY) {
        names = wday_names;
        n = 7;
    }
    for (unsigned i = 0; i < n; i++) {
        if (span_eq_nocase(s, span_cstr(names[i]))) {
            *out = i + base;
            return true;
        }
    }
    return false;
}

/* A number or (month, day-of-week) name at the start of *s; consumes it.
 * Returns a reason on failure, NULL on success. */
static const char *parse_value(enum field_id f, struct span *s,
                               unsigned *out)
{
    size_t n = 0;
    uint64_t v;

    while (n < s->len && s->p[n] >= '0' && s->p[n] <= '9')
        n++;
    if (n > 0) {
        if (n > 9 || span_to_u64(span_of(s->p, n), &v))
            return "value out of range";
        if (v < fields[f].lo || v > fields[f].hi) {
            return f == F_WDAY ? "value out of range 0-7"
                 : f == F_MIN  ? "value out of range 0-59"
                 : f == F_HOUR ? "value out of range 0-23"
                 : f == F_MDAY ? "value out of range 1-31"
                               : "value out of range 1-12";
        }
        *out = (unsigned)v;
        s->p += n;
        s->len -= n;
        return NULL;
    }
    while (n < s->len && ((s->p[n] >= 'a' && s->p[n] <= 'z') ||
                          (s->p[n] >= 'A' && s->p[n] <= 'Z')))
        n++;
    if (n == 0)
        return "expected a number";
    if (!lookup_name(f, span_of(s->p, n), out))
        return f == F_MON || f == F_WDAY ? "unknown name" : "expected a number";
    s->p += n;
    s->len -= n;
    return NULL;
}

/* One list item: '*', 'a', 'a-b', each optionally followed by '/step'. */
static const char *parse_item(enum field_id f, struct span s, uint64_t *bits)
{
    const struct field_def *d = &fields[f];
    unsigned lo;
    unsigned hi;
    unsigned step = 1;
    const char *why;

    if (s.len == 0)
        return "empty list item";
    if (s.p[0] == '*') {
        lo = d->lo;
        hi = d->star_hi;
        s.p++;
        s.len--;
    } else {
        if ((why = parse_value(f, &s, &lo)))
            return why;
        hi = lo;
        if (s.len > 0 && s.p[0] == '-') {
            s.p++;
            s.len--;
            if ((why = parse_value(f, &s, &hi)))
                return why;
            if (hi < lo)
                return "reversed range";
        } else if (s.len > 0 && s.p[0] == '/') {
            hi = d->hi; /* 'a/n': from a to the end of the range */
        }
    }
    if (s.len > 0 && s.p[0] == '/') {
        uint64_t v;

        s.p++;
        s.len--;
        if (s.len == 0)
            return "missing step after '/'";
        if (s.len > 9 || span_to_u64(s, &v))
            return "step is not a number";
        if (v == 0)
            return "step must be at least 1";
        if (v > d->hi - d->lo + 1)
            return "step out of range";
        step = (unsigned)v;
        s.len = 0;
    }
    if (s.len > 0)
        return "unexpected characters";
    for (unsigned v = lo; v <= hi; v += step)
        *bits |= 1ull << (f == F_WDAY && v == 7 ? 0 : v);
    return NULL;
}

static enum ferr_code parse_field(const struct ctx *cx, enum field_id f,
                                  struct span text, size_t col,
                                  uint64_t *bits)
{
    struct span rest = text;
    struct span item;
    const char *why;

    *bits = 0;
    for (;;) {
        bool more = span_cut(rest, ',', &item, &rest);

        if ((why = parse_item(f, item, bits)))
            return fail(cx, f, text, col, why);
        if (!more)
            break;
    }
    return FERR_OK;
}

enum ferr_code cron_parse(struct span src, const struct pos *pos,
                          struct cron *out, struct ferr *err)
{
    struct ctx cx = { src, pos, err };
    struct span text[F_COUNT];
    size_t col[F_COUNT];
    uint64_t bits[F_COUNT];
    size_t n = 0;
    size_t i = 0;
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    while (i < src.len) {
        size_t start;

        while (i < src.len && is_space(src.p[i]))
            i++;
        if (i == src.len)
            break;
        start = i;
        while (i < src.len && !is_space(src.p[i]))
            i++;
        if (n < F_COUNT) {
            text[n] = span_of(src.p + start, i - start);
            col[n] = start;
        }
        n++;
    }
    if (n != F_COUNT)
        return ferr_set(err, FERR_PARSE, pos,
                        "invalid cron '%.*s': %zu fields, expected 5 (minute "
                        "hour day-of-month month day-of-week)",
                        SPAN_ARGS(src), n);
    for (enum field_id f = F_MIN; f < F_COUNT; f++) {
        rc = parse_field(&cx, f, text[f], col[f], &bits[f]);
        if (rc)
            return rc;
    }
    out->minute = bits[F_MIN];
    out->hour = (uint32_t)bits[F_HOUR];
    out->mday = (uint32_t)bits[F_MDAY];
    out->month = (uint16_t)bits[F_MON];
    out->wday = (uint8_t)bits[F_WDAY];
    out->mday_star = text[F_MDAY].p[0] == '*';
    out->wday_star = text[F_WDAY].p[0] == '*';
    return FERR_OK;
}

/* Civil date from days since 1970-01-01 (H. Hinnant's algorithm, valid for
 * any int64 day count that time_t can produce). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    int64_t yoe;
    int64_t doy;
    int64_t doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool day_matches(const struct cron *c, int64_t days, unsigned mday)
{
    /* 1970-01-01 was a Thursday (4) */
    unsigned wday = (unsigned)(((days % 7) + 7 + 4) % 7);
    bool dm = (c->mday >> mday) & 1u;
    bool wm = (c->wday >> wday) & 1u;

    if (c->mday_star || c->wday_star)
        return dm && wm;
    return dm || wm;
}

bool cron_matches(const struct cron *c, time_t t)
{
    int64_t days = (int64_t)t / 86400;
    int64_t sec = (int64_t)t % 86400;
    unsigned hour;
    unsigned minute;
    int64_t y;
    unsigned m;
    unsigned d;

    if (sec < 0) { /* floor, without overflowing near INT64_MIN */
        sec += 86400;
        days--;
    }
    hour = (unsigned)(sec / 3600);
    minute = (unsigned)(sec % 3600 / 60);
    civil(days, &y, &m, &d);
    return ((c->month >> m) & 1u) && day_matches(c, days, d) &&
           ((c->hour >> hour) & 1u) && ((c->minute >> minute) & 1ull);
}

/* The first set bit at or after @from in @bits (below @limit), or -1. */
static int next_bit(uint64_t bits, unsigned from, unsigned limit)
{
    for (unsigned i = from; i < limit; i++)
        if ((bits >> i) & 1ull)
            return (int)i;
    return -1;
}

#define FIVE_YEARS_DAYS (5 * 365 + 2)

time_t cron_next(const struct cron *c, time_t after)
{
    /* keep every intermediate well inside int64 */
    const int64_t lo = -(INT64_C(1) << 52);
    const int64_t hi = INT64_C(1) << 52;
    int64_t start;
    int64_t day;
    int64_t last;
    unsigned hour;
    unsigned minute;

    if ((int64_t)after < lo || (int64_t)after > hi)
        return -1;
    start = floor_div((int64_t)after, 60) * 60 + 60;
    day = floor_div(start, 86400);
    last = day + FIVE_YEARS_DAYS;
    hour = (unsigned)((start - day * 86400) / 3600);
    minute = (unsigned)((start - day * 86400) % 3600 / 60);
    while (day <= last) {
        int64_t y;
        unsigned m;
        unsigned d;
        int h;
        int mi = -1;

        civil(day, &y, &m, &d);
        if (!((c->month >> m) & 1u)) {
            /* jump to the first day of the next month */
            day = m == 12 ? days_from_civil(y + 1, 1, 1)
                          : days_from_civil(y, m + 1, 1);
            hour = minute = 0;
            continue;
        }
        if (day_matches(c, day, d)) {
            for (h = next_bit(c->hour, hour, 24); h >= 0;
                 h = next_bit(c->hour, (unsigned)h + 1, 24)) {
                mi = next_bit(c->minute, (unsigned)h == hour ? minute : 0,
                              60);
                if (mi >= 0)
                    break;
            }
            if (h >= 0 && mi >= 0)
                return (time_t)(day * 86400 + h * 3600 + mi * 60);
        }
        day++;
        hour = minute = 0;
    }
    return -1;
}
