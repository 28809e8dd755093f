/* chart: line and stacked bar charts as inline SVG for the dashboard,
 * with nice ticks (1, 2 or 5 times a power of ten) and every number
 * checked before it is printed, so no NaN or inf ever reaches the markup
 * and every piece of text is escaped.  It does not fetch or aggregate
 * data and needs no stylesheet or script: colours are attributes. */
#include "web/chart.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/span.h"

/* the plot area inside the viewBox */
#define PL 62.0  /* left: value labels */
#define PR 628.0 /* right */
#define PT 28.0  /* top: the legend above */
#define PB 190.0 /* bottom: x labels below */

#define LABEL_MAX 40u /* bytes of a label kept (then "…") */
#define XLABELS   6u  /* x labels at most */

static const char *const palette[] = {"#1f6feb", "#d1242f", "#2da44e",
                                      "#bf8700", "#8250df", "#0a7b83",
                                      "#e16f24", "#57606a"};

/* Appends that remember the first failure, so drawing code stays flat. */
struct out {
    struct buf *b;
    size_t start; /* b->len before the chart: restored on failure */
    enum ferr_code rc;
};

static void put(struct out *o, const char *s)
{
    if (!o->rc)
        o->rc = buf_adds(o->b, s);
}

static void putf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void putf(struct out *o, const char *fmt, ...)
{
    va_list ap;

    if (o->rc)
        return;
    va_start(ap, fmt);
    o->rc = buf_vaddf(o->b, fmt, ap);
    va_end(ap);
}

/* A coordinate: finite by construction, checked all the same. */
static double fin(double x)
{
    return isfinite(x) ? x : 0.0;
}

/* Text escaped for element content and attribute values: & < > " '
 * as entities, control bytes as spaces, invalid UTF-8 as U+FFFD, at
 * most LABEL_MAX bytes of @s (then an ellipsis). */
static void put_esc(struct out *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    size_t used = 0;

    for (size_t i = 0; i < n && !o->rc;) {
        size_t l = span_utf8_len(p + i, n - i);

        if (used >= LABEL_MAX) {
            put(o, "\xe2\x80\xa6");
            return;
        }
        if (l == 0) {
            put(o, "\xef\xbf\xbd");
            i++;
            used++;
            continue;
        }
        if (l > 1) {
            if (!o->rc)
                o->rc = buf_add(o->b, p + i, l);
        } else if (p[i] == '&') {
            put(o, "&amp;");
        } else if (p[i] == '<') {
            put(o, "&lt;");
        } else if (p[i] == '>') {
            put(o, "&gt;");
        } else if (p[i] == '"') {
            put(o, "&quot;");
        } else if (p[i] == '\'') {
            put(o, "&#39;");
        } else if (p[i] < 0x20 || p[i] == 0x7f) {
            put(o, " ");
        } else if (!o->rc) {
            o->rc = buf_addch(o->b, (char)p[i]);
        }
        i += l;
        used += l;
    }
}

/* A series' colour: the caller's with anything but [#a-zA-Z0-9]
 * dropped, else the palette's. */
static void put_color(struct out *o, const char *c, size_t i)
{
    char v[33];
    size_t n = 0;

    for (; c && *c && n < sizeof(v) - 1; c++)
        if (*c == '#' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
            (*c >= '0' && *c <= '9'))
            v[n++] = *c;
    v[n] = '\0';
    put(o, n ? v : palette[i % (sizeof(palette) / sizeof(palette[0]))]);
}

/* ---------- numbers ---------- */

static double clampv(double v)
{
    if (v > CHART_MAX_ABS)
        return CHART_MAX_ABS;
    if (v < -CHART_MAX_ABS)
        return -CHART_MAX_ABS;
    return v;
}

/* A value worth drawing, clamped; false for NaN and ±inf. */
static bool value(const struct chart_series *s, size_t i, double *out)
{
    double v = s->v ? s->v[i] : NAN;

    if (!isfinite(v)) {
        *out = 0;
        return false;
    }
    *out = clampv(v);
    return true;
}

/* 1, 2, 5 or 10 times a power of ten near @x (above it unless @round). */
static double nice(double x, bool round)
{
    double e;
    double f;
    double nf;

    if (!(x > 0) || !isfinite(x))
        return 1;
    e = floor(log10(x));
    f = x / pow(10, e);
    if (round)
        nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10, e);
}

size_t chart_ticks(double lo, double hi, size_t want,
                   double out[CHART_MAX_TICKS])
{
    const double lim = CHART_MAX_ABS * 100;
    double step;
    double k0;
    double k1;
    size_t n;

    if (!isfinite(lo))
        lo = 0;
    if (!isfinite(hi))
        hi = 0;
    if (lo > hi) {
        double t = lo;

        lo = hi;
        hi = t;
    }
    lo = lo < -lim ? -lim : lo > lim ? lim : lo;
    hi = hi < -lim ? -lim : hi > lim ? lim : hi;
    /* a range too thin for doubles to step through evenly is widened */
    if (hi - lo < 1e-6 * fmax(1, fmax(fabs(lo), fabs(hi)))) {
        double m = (lo + hi) / 2;
        double w = fabs(m) * 0.1 > 1e-6 ? fabs(m) * 0.1 : 1e-6;

        if (m == 0) {
            lo = 0;
            hi = 1;
        } else if (lo >= 0 && m - w < 0) {
            lo = 0;
            hi = m + w;
        } else {
            lo = m - w;
            hi = m + w;
        }
    }
    if (want < 2)
        want = 2;
    if (want > CHART_MAX_TICKS)
        want = CHART_MAX_TICKS;
    step = nice(nice(hi - lo, false) / (double)(want - 1), true);
    for (int guard = 0;; guard++) {
        k0 = floor(lo / step);
        k1 = ceil(hi / step);
        if (k1 * step < hi)
            k1 += 1;
        if (k1 - k0 + 1 <= (double)want || guard > 8)
            break;
        step = nice(step * 1.5, false);
    }
    n = (size_t)(k1 - k0) + 1;
    if (n > CHART_MAX_TICKS)
        n = CHART_MAX_TICKS;
    if (n < 2)
        n = 2;
    for (size_t i = 0; i < n; i++)
        out[i] = (k0 + (double)i) * step;
    if (out[0] == 0)
        out[0] = 0; /* never "-0" */
    return n;
}

/* Drop trailing zeros of a "%.Nf" number ("2.50" -> "2.5", "3.0" -> "3"). */
static void trim(char *s)
{
    char *dot = strchr(s, '.');
    size_t n;

    if (!dot)
        return;
    n = strlen(s);
    while (n > 0 && s[n - 1] == '0')
        s[--n] = '\0';
    if (n > 0 && s[n - 1] == '.')
        s[--n] = '\0';
}

/* @v with an SI suffix chosen by @mag (the largest |value| shown with
 * it; plain up to 9999): decimals from @step (a tick axis' step) when it
 * is positive, else about three significant digits. */
static void fmt_num(char *out, size_t size, double v, double mag, double step)
{
    static const struct {
        double from;
        double f;
        const char *s;
    } si[] = {
        {1e12, 1e12, "T"}, {1e9, 1e9, "G"}, {1e6, 1e6, "M"}, {1e4, 1e3, "k"}};
    const char *suffix = "";
    char num[64];
    int dec;

    for (size_t i = 0; i < sizeof(si) / sizeof(si[0]); i++)
        if (mag >= si[i].from) {
            v /= si[i].f;
            step /= si[i].f;
            suffix = si[i].s;
            break;
        }
    if (step > 0) {
        dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    } else {
        double a = fabs(v);

        dec = a >= 100 || a == floor(a) ? 0 : a >= 10 ? 1 : 2;
    }
    if (dec > 6)
        dec = 6;
    snprintf(num, sizeof(num), "%.*f", dec, v);
    trim(num);
    if (strcmp(num, "-0") == 0)
        snprintf(num, sizeof(num), "0");
    snprintf(out, size, "%s%s", num, suffix);
}

/* The divisor and name a duration axis or figure is shown in. */
static double time_unit(double mag, const char **name)
{
    if (mag < 120) {
        *name = "s";
        return 1;
    }
    if (mag < 7200) {
        *name = "min";
        return 60;
    }
    if (mag < 172800) {
        *name = "h";
        return 3600;
    }
    *name = "d";
    return 86400;
}

const char *chart_fmt(char *out, size_t size, double v, enum chart_unit unit)
{
    char num[64];
    const char *name;
    double d;

    if (size == 0)
        return out;
    if (!isfinite(v)) {
        snprintf(out, size, "\xe2\x80\x94");
        return out;
    }
    v = clampv(v);
    switch (unit) {
    case CHART_PERCENT:
        fmt_num(num, sizeof(num), v, fabs(v), fabs(v) < 1e4 ? 0.1 : 0);
        snprintf(out, size, "%s %%", num);
        break;
    case CHART_SECONDS:
        d = time_unit(fabs(v), &name);
        fmt_num(num, sizeof(num), v / d, fabs(v / d),
                fabs(v / d) < 1e4 ? 0.1 : 0);
        snprintf(out, size, "%s %s", num, name);
        break;
    case CHART_COUNT:
    default:
        fmt_num(num, sizeof(num), v, fabs(v), 0);
        snprintf(out, size, "%s", num);
        break;
    }
    return out;
}

/* ---------- the frame ---------- */

/* What the value axis maps: [t[0], t[nt-1]] in display units, which are
 * the chart's units divided by div (seconds shown as hours...). */
struct axis {
    double t[CHART_MAX_TICKS];
    size_t nt;
    double div;       /* chart unit per display unit */
    const char *name; /* display unit: "s", "min", "%", "" */
    double step;      /* between ticks, in display units */
    double mag;       /* the largest |tick| (SI suffix choice) */
};

static void axis_make(struct axis *a, const struct chart *c, double lo,
                      double hi)
{
    double mag = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
    a->div = 1;
    a->name = c->unit == CHART_PERCENT ? "%" : "";
    if (c->unit == CHART_SECONDS)
        a->div = time_unit(mag, &a->name);
    a->nt = chart_ticks(lo / a->div, hi / a->div, 6, a->t);
    a->step = a->t[1] - a->t[0];
    a->mag = fabs(a->t[0]) > fabs(a->t[a->nt - 1]) ? fabs(a->t[0])
                                                   : fabs(a->t[a->nt - 1]);
}

/* The y of @v (in the chart's unit). */
static double ypos(const struct axis *a, double v)
{
    double lo = a->t[0];
    double hi = a->t[a->nt - 1];
    double y;

    if (!(hi > lo))
        return PB;
    y = PB - (v / a->div - lo) / (hi - lo) * (PB - PT);
    if (y < PT - 2)
        y = PT - 2;
    if (y > PB + 2)
        y = PB + 2;
    return fin(y);
}

static void begin(struct out *o, const struct chart *c, const char *kind)
{
    put(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart ");
    put(o, kind);
    put(o, "\"");
    if (c->id) {
        put(o, " id=\"");
        put_esc(o, c->id);
        put(o, "\"");
    }
    putf(o,
         " viewBox=\"0 0 %d %d\" role=\"img\" "
         "preserveAspectRatio=\"xMidYMid meet\" "
         "style=\"width:100%%;max-width:%dpx;height:auto\" "
         "font-family=\"sans-serif\" font-size=\"11\"><title>",
         CHART_W, CHART_H, CHART_W);
    put_esc(o, c->title ? c->title : "chart");
    put(o, "</title>\n");
}

static void frame(struct out *o, const struct chart *c, const struct axis *a,
                  bool bars)
{
    char lab[64];

    put(o, "<g class=\"grid\" stroke=\"#e1e4e8\" stroke-width=\"1\">");
    for (size_t i = 0; i < a->nt; i++) {
        double y = ypos(a, a->t[i] * a->div);

        putf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", PL,
             y, PR, y);
    }
    put(o, "</g>\n<g class=\"yaxis\" fill=\"#57606a\" text-anchor=\"end\">");
    for (size_t i = 0; i < a->nt; i++) {
        double y = ypos(a, a->t[i] * a->div);

        fmt_num(lab, sizeof(lab), a->t[i], a->mag, a->step);
        putf(o, "<text x=\"%.1f\" y=\"%.1f\">%s%s%s</text>", PL - 6, y + 4, lab,
             *a->name ? " " : "", a->name);
    }
    put(o, "</g>\n");
    putf(o,
         "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
         "y2=\"%.1f\" stroke=\"#8c959f\"/>\n",
         PL, ypos(a, 0), PR, ypos(a, 0));
    if (c->n > 0 && c->labels) {
        size_t every = (c->n + XLABELS - 1) / XLABELS;
        double band = (PR - PL) / (double)c->n;

        put(o, "<g class=\"xaxis\" fill=\"#57606a\" text-anchor=\"middle\">");
        for (size_t i = 0; i < c->n; i += every) {
            double x;
            double half;

            if (!c->labels[i])
                continue;
            if (bars)
                x = PL + band * ((double)i + 0.5);
            else
                x = c->n == 1 ? (PL + PR) / 2
                              : PL + (PR - PL) * (double)i / (double)(c->n - 1);
            /* a label that would stick out of the viewBox is anchored
             * at its end (or start) instead of its middle */
            half = 3.2 * (double)(strlen(c->labels[i]) < LABEL_MAX
                                      ? strlen(c->labels[i])
                                      : LABEL_MAX);
            putf(o, "<text x=\"%.1f\" y=\"%.1f\"%s>", fin(x), PB + 16,
                 x + half > CHART_W - 2 ? " text-anchor=\"end\""
                 : x - half < 2         ? " text-anchor=\"start\""
                                        : "");
            put_esc(o, c->labels[i]);
            put(o, "</text>");
        }
        put(o, "</g>\n");
    }
}

static void legend(struct out *o, const struct chart *c)
{
    double x = PL;

    put(o, "<g class=\"legend\" fill=\"#24292f\">");
    for (size_t s = 0; s < c->nseries; s++) {
        const char *name = c->series[s].name;
        size_t len;

        if (!name || !*name)
            continue;
        len = strlen(name);
        if (len > LABEL_MAX)
            len = LABEL_MAX;
        putf(o, "<rect x=\"%.1f\" y=\"6\" width=\"10\" height=\"10\" fill=\"",
             x);
        put_color(o, c->series[s].color, s);
        putf(o, "\"/><text x=\"%.1f\" y=\"15\">", x + 14);
        put_esc(o, name);
        put(o, "</text>");
        x += 14 + 6.5 * (double)len + 14;
        if (x > PR - 40)
            break;
    }
    put(o, "</g>\n");
}

static void target(struct out *o, const struct chart *c, const struct axis *a)
{
    char lab[64];
    double y;

    if (!c->has_target || !isfinite(c->target))
        return;
    y = ypos(a, clampv(c->target));
    putf(o,
         "<g class=\"target\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
         "y2=\"%.1f\" stroke=\"#6e7781\" stroke-width=\"1.5\" "
         "stroke-dasharray=\"6 4\"/><text x=\"%.1f\" y=\"%.1f\" "
         "text-anchor=\"end\" fill=\"#57606a\">",
         PL, y, PR, y, PR - 2, y - 4 < PT - 2 ? y + 12 : y - 4);
    if (c->target_label) {
        put_esc(o, c->target_label);
    } else {
        put(o, "target ");
        put(o, chart_fmt(lab, sizeof(lab), c->target, c->unit));
    }
    put(o, "</text></g>\n");
}

static void no_data(struct out *o)
{
    putf(o,
         "<text class=\"nodata\" x=\"%.1f\" y=\"%.1f\" "
         "text-anchor=\"middle\" fill=\"#57606a\">no data</text>\n",
         (PL + PR) / 2, (PT + PB) / 2);
}

/* A point's tooltip: "LABEL · NAME: VALUE". */
static void tooltip(struct out *o, const struct chart *c, size_t s, size_t i,
                    double v)
{
    char num[64];

    put(o, "<title>");
    if (c->labels && c->labels[i]) {
        put_esc(o, c->labels[i]);
        put(o, " \xc2\xb7 ");
    }
    if (c->series[s].name && *c->series[s].name) {
        put_esc(o, c->series[s].name);
        put(o, ": ");
    }
    put(o, chart_fmt(num, sizeof(num), v, c->unit));
    put(o, "</title>");
}

static enum ferr_code finish(struct out *o)
{
    put(o, "</svg>\n");
    if (o->rc && o->b->len > o->start) {
        o->b->len = o->start;
        o->b->p[o->start] = '\0';
    }
    return o->rc;
}

static bool too_big(const struct chart *c)
{
    return c->n > CHART_MAX_POINTS || c->nseries > CHART_MAX_SERIES ||
           (c->nseries > 0 && !c->series);
}

/* ---------- the charts ---------- */

enum ferr_code chart_line(struct buf *b, const struct chart *c)
{
    struct out o = {b, b->len, FERR_OK};
    struct axis a;
    double lo = 0;
    double hi = 0;
    size_t seen = 0;

    if (too_big(c))
        return FERR_LIMIT;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; i < c->n; i++) {
            double v;

            if (!value(&c->series[s], i, &v))
                continue;
            seen++;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    if (c->has_target && isfinite(c->target)) {
        double t = clampv(c->target);

        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
    }
    axis_make(&a, c, lo, hi);
    begin(&o, c, "line");
    frame(&o, c, &a, false);
    target(&o, c, &a);
    for (size_t s = 0; s < c->nseries && seen; s++) {
        bool pen = false;

        putf(&o, "<g class=\"series s%zu\"><path fill=\"none\" stroke=\"", s);
        put_color(&o, c->series[s].color, s);
        put(&o, "\" stroke-width=\"2\" stroke-linejoin=\"round\" d=\"");
        for (size_t i = 0; i < c->n; i++) {
            double v;
            double x = c->n == 1
                           ? (PL + PR) / 2
                           : PL + (PR - PL) * (double)i / (double)(c->n - 1);

            if (!value(&c->series[s], i, &v)) {
                pen = false;
                continue;
            }
            putf(&o, "%s%.1f %.1f", pen ? " L" : (i ? " M" : "M"), fin(x),
                 ypos(&a, v));
            pen = true;
        }
        put(&o, "\"/>");
        for (size_t i = 0; i < c->n; i++) {
            double v;
            double x = c->n == 1
                           ? (PL + PR) / 2
                           : PL + (PR - PL) * (double)i / (double)(c->n - 1);

            if (!value(&c->series[s], i, &v))
                continue;
            putf(&o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"",
                 fin(x), ypos(&a, v));
            put_color(&o, c->series[s].color, s);
            put(&o, "\">");
            tooltip(&o, c, s, i, v);
            put(&o, "</circle>");
        }
        put(&o, "</g>\n");
    }
    if (!seen)
        no_data(&o);
    legend(&o, c);
    return finish(&o);
}

enum ferr_code chart_bars(struct buf *b, const struct chart *c)
{
    struct out o = {b, b->len, FERR_OK};
    struct axis a;
    double hi = 0;
    double band;
    double bw;
    size_t seen = 0;

    if (too_big(c))
        return FERR_LIMIT;
    for (size_t i = 0; i < c->n; i++) {
        double sum = 0;

        for (size_t s = 0; s < c->nseries; s++) {
            double v;

            if (!value(&c->series[s], i, &v))
                continue;
            seen++;
            sum += v > 0 ? v : 0;
        }
        hi = sum > hi ? sum : hi;
    }
    if (c->has_target && isfinite(c->target) && clampv(c->target) > hi)
        hi = clampv(c->target);
    axis_make(&a, c, 0, hi);
    begin(&o, c, "bars");
    frame(&o, c, &a, true);
    band = c->n ? (PR - PL) / (double)c->n : 0;
    bw = band * 0.7;
    for (size_t s = 0; s < c->nseries && seen; s++) {
        putf(&o, "<g class=\"series s%zu\" fill=\"", s);
        put_color(&o, c->series[s].color, s);
        put(&o, "\">");
        for (size_t i = 0; i < c->n; i++) {
            double base = 0;
            double v;
            double y0;
            double y1;

            if (!value(&c->series[s], i, &v) || !(v > 0))
                continue;
            for (size_t k = 0; k < s; k++) {
                double u;

                if (value(&c->series[k], i, &u) && u > 0)
                    base += u;
            }
            y0 = ypos(&a, base);
            y1 = ypos(&a, base + v);
            putf(&o,
                 "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
                 "height=\"%.1f\">",
                 fin(PL + band * (double)i + (band - bw) / 2), y1, fin(bw),
                 fin(y0 - y1 > 0 ? y0 - y1 : 0));
            tooltip(&o, c, s, i, v);
            put(&o, "</rect>");
        }
        put(&o, "</g>\n");
    }
    target(&o, c, &a);
    if (!seen)
        no_data(&o);
    legend(&o, c);
    return finish(&o);
}

size_t chart_values_json(const json_t *rows, const char *key, double scale,
                         double *out, size_t n)
{
    size_t got = 0;

    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(json_array_get(rows, i), key);

        out[i] = NAN;
        if (json_is_number(v) && isfinite(json_number_value(v) * scale)) {
            out[i] = json_number_value(v) * scale;
            got++;
        }
    }
    return got;
}
