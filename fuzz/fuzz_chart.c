/* fuzz_chart: the input is a chart as JSON — {"kind": "line"|"bars",
 * "unit": "count"|"percent"|"seconds", "id", "title", "labels": [...],
 * "target", "target_label", "series": [{"name", "color", "values":
 * [...]}]} — or, when "series" holds objects without "values", the
 * DORA series (days), drawn as the dashboard draws them.  No input may
 * crash; every chart must be one <svg> made of the expected elements
 * only (all text escaped), and every coordinate a finite number. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/chart.h"

static const char *const tags[] = {
    "svg ",  "/svg>",  "title>", "/title>", "g ",       "/g>",   "line ",
    "text ", "/text>", "path ",  "circle ", "/circle>", "rect ", "/rect>",
};

static const char *const numeric[] = {"x",  "y",  "x1", "y1",    "x2",    "y2",
                                      "cx", "cy", "r",  "width", "height"};

/* A number attribute's value: a finite decimal, nothing else. */
static void check_number(const char *p, const char *end)
{
    char *e;
    double v = strtod(p, &e);

    if (e != end || !isfinite(v) || e == p)
        abort();
}

/* A path's d: "M x y L x y M ..." with finite numbers. */
static void check_path(const char *p, const char *end)
{
    while (p < end) {
        char *e;
        double v;

        if (*p == 'M' || *p == 'L' || *p == ' ') {
            p++;
            continue;
        }
        v = strtod(p, &e);
        if (e == p || e > end || !isfinite(v))
            abort();
        p = e;
    }
}

static void check_markup(const char *s, size_t len)
{
    size_t svgs = 0;

    if (strlen(s) != len)
        abort(); /* no NUL inside */
    for (const char *p = s; (p = strchr(p, '<')) != NULL; p++) {
        bool known = false;

        for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
            if (strncmp(p + 1, tags[i], strlen(tags[i])) == 0)
                known = true;
        if (!known)
            abort(); /* markup the chart does not write: bad escaping */
        svgs += strncmp(p + 1, "svg ", 4) == 0;
    }
    if (svgs != 1)
        abort();
    /* attributes: name="value" inside tags */
    for (const char *p = s; (p = strstr(p, "=\"")) != NULL; p += 2) {
        const char *name = p;
        const char *val = p + 2;
        const char *end = strchr(val, '"');
        size_t nlen;

        if (!end)
            abort();
        while (name > s && name[-1] != ' ')
            name--;
        nlen = (size_t)(p - name);
        for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++)
            if (nlen == strlen(numeric[i]) &&
                strncmp(name, numeric[i], nlen) == 0)
                check_number(val, end);
        if (nlen == 1 && *name == 'd')
            check_path(val, end);
        p = end - 1;
    }
}

static double num(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void draw(const struct chart *c, bool bars)
{
    struct buf b;
    enum ferr_code rc;

    buf_init(&b, 8u * 1024 * 1024);
    rc = bars ? chart_bars(&b, c) : chart_line(&b, c);
    if (rc == FERR_OK)
        check_markup(buf_cstr(&b), b.len);
    else if (rc != FERR_LIMIT || b.len != 0)
        abort(); /* only a limit, and then nothing written */
    buf_release(&b);
}

/* The explicit form. */
static void explicit_chart(json_t *in, json_t *series)
{
    struct chart c;
    struct chart_series s[CHART_MAX_SERIES + 1];
    double *vals[CHART_MAX_SERIES + 1];
    const char **labels;
    json_t *lab = json_object_get(in, "labels");
    const char *unit = json_string_value(json_object_get(in, "unit"));
    size_t ns = json_array_size(series);
    size_t n = 0;

    if (ns > CHART_MAX_SERIES + 1)
        ns = CHART_MAX_SERIES + 1;
    for (size_t i = 0; i < ns; i++) {
        size_t k = json_array_size(
            json_object_get(json_array_get(series, i), "values"));

        n = k > n ? k : n;
    }
    if (json_array_size(lab) > n)
        n = json_array_size(lab);
    if (n > CHART_MAX_POINTS + 1)
        n = CHART_MAX_POINTS + 1;
    labels = calloc(n + 1, sizeof(*labels));
    for (size_t i = 0; i < n; i++)
        labels[i] = json_string_value(json_array_get(lab, i));
    for (size_t i = 0; i < ns; i++) {
        json_t *e = json_array_get(series, i);
        json_t *v = json_object_get(e, "values");

        vals[i] = calloc(n + 1, sizeof(double));
        for (size_t k = 0; k < n; k++)
            vals[i][k] = num(json_array_get(v, k));
        s[i].name = json_string_value(json_object_get(e, "name"));
        s[i].color = json_string_value(json_object_get(e, "color"));
        s[i].v = vals[i];
    }
    memset(&c, 0, sizeof(c));
    c.id = json_string_value(json_object_get(in, "id"));
    c.title = json_string_value(json_object_get(in, "title"));
    c.unit = unit && strcmp(unit, "percent") == 0   ? CHART_PERCENT
             : unit && strcmp(unit, "seconds") == 0 ? CHART_SECONDS
                                                    : CHART_COUNT;
    c.labels = json_is_array(lab) ? labels : NULL;
    c.n = n;
    c.series = s;
    c.nseries = ns;
    c.has_target = json_is_number(json_object_get(in, "target"));
    c.target = num(json_object_get(in, "target"));
    c.target_label = json_string_value(json_object_get(in, "target_label"));
    draw(&c, json_is_string(json_object_get(in, "kind")) &&
                 strcmp(json_string_value(json_object_get(in, "kind")),
                        "bars") == 0);
    for (size_t i = 0; i < ns; i++)
        free(vals[i]);
    free(labels);
}

/* The DORA series, drawn as the /dora page does. */
static void dora_charts(json_t *rows)
{
    size_t n = json_array_size(rows);
    const char **labels;
    double *d;
    double *f;
    double *lt;
    double *rs;

    if (n > CHART_MAX_POINTS)
        n = CHART_MAX_POINTS;
    labels = calloc(n + 1, sizeof(*labels));
    d = calloc(n + 1, sizeof(double));
    f = calloc(n + 1, sizeof(double));
    lt = calloc(n + 1, sizeof(double));
    rs = calloc(n + 1, sizeof(double));
    for (size_t i = 0; i < n; i++)
        labels[i] =
            json_string_value(json_object_get(json_array_get(rows, i), "day"));
    chart_values_json(rows, "deployments", 1, d, n);
    chart_values_json(rows, "failed_deployments", 1, f, n);
    chart_values_json(rows, "lead_time_median_s", 1, lt, n);
    chart_values_json(rows, "restore_median_s", 1, rs, n);
    for (size_t i = 0; i < n; i++)
        d[i] -= isfinite(f[i]) ? f[i] : 0;
    {
        const struct chart_series bars[2] = {{"succeeded", "#2da44e", d},
                                             {"failed", "#d1242f", f}};
        const struct chart_series lines[2] = {{"lead time", NULL, lt},
                                              {"time to restore", NULL, rs}};
        struct chart c = {"dora-deploys",
                          "deployments per day",
                          CHART_COUNT,
                          labels,
                          n,
                          bars,
                          2,
                          false,
                          0,
                          NULL};

        draw(&c, true);
        c.unit = CHART_SECONDS;
        c.series = lines;
        c.has_target = true;
        c.target = 86400;
        draw(&c, false);
    }
    free(labels);
    free(d);
    free(f);
    free(lt);
    free(rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    json_t *series = json_object_get(in, "series");
    char out[64];

    if (!in)
        return 0;
    if (json_is_number(in)) {
        for (int u = CHART_COUNT; u <= CHART_SECONDS; u++)
            if (strstr(chart_fmt(out, sizeof(out), json_number_value(in),
                                 (enum chart_unit)u),
                       "nan"))
                abort();
    }
    if (json_is_array(series)) {
        json_t *first = json_array_get(series, 0);

        if (json_is_object(first) && !json_object_get(first, "values"))
            dora_charts(series);
        else
            explicit_chart(in, series);
    }
    json_decref(in);
    return 0;
}
