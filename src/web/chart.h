/* chart: the dashboard's charts as inline SVG drawn by the server — a
 * line chart (gaps where a value is missing, an optional dashed target
 * line) and a stacked bar chart, both with nicely rounded axis ticks in
 * a fixed viewBox.  Pure: it appends markup to a struct buf and does no
 * I/O; the pages decide what to draw. */
#ifndef FERRY_WEB_CHART_H
#define FERRY_WEB_CHART_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define CHART_W          640   /* the viewBox's width */
#define CHART_H          220   /* and height */
#define CHART_MAX_POINTS 1000u /* points per series */
#define CHART_MAX_SERIES 8u    /* series per chart */
#define CHART_MAX_TICKS  12u   /* ticks on the value axis */
#define CHART_MAX_ABS    1e15  /* larger magnitudes are drawn at this */

/** How values are shown on the axis and in the tooltips. */
enum chart_unit {
    CHART_COUNT = 0, /* plain numbers: "3", "2.5", "1.5k", "2M" */
    CHART_PERCENT,   /* percent (0..100): "70 %" */
    CHART_SECONDS,   /* durations in seconds: "45 s", "12 min", "3 h" */
};

/** One series of a chart (all borrowed). */
struct chart_series {
    const char *name;  /* legend and tooltip text (escaped); NULL: none */
    const char *color; /* a CSS colour like "#2e7d32" (only [#a-zA-Z0-9]
                          is kept); NULL: the next of the palette */
    const double *v;   /* chart.n values; NaN or ±inf is no value: a gap
                          in a line, nothing in a bar */
};

/** What to draw (all borrowed). */
struct chart {
    const char *id;    /* the <svg>'s id attribute or NULL */
    const char *title; /* its accessible name (<title>) or NULL */
    enum chart_unit unit;
    const char *const *labels; /* n labels along the x axis (dates, run
                                  numbers); NULL, or NULL entries: none */
    size_t n;                  /* points per series, <= CHART_MAX_POINTS */
    const struct chart_series *series;
    size_t nseries;           /* <= CHART_MAX_SERIES */
    bool has_target;          /* draw a dashed line at target */
    double target;            /* in the chart's unit */
    const char *target_label; /* "target 70 %"; NULL: "target" */
};

/**
 * Append an SVG line chart of @c to @b: one path per series, broken
 * where a value is missing (a lone value is a dot), a dot with a
 * tooltip per value, the value axis from 0 (or the lowest value when
 * negative) to a nice tick above the highest value and the target.
 * Every coordinate is finite whatever the values.  With no values at
 * all the frame says "no data".
 * Errors: FERR_LIMIT when @b's max is reached, or @c has more than
 * CHART_MAX_POINTS points or CHART_MAX_SERIES series; @b is then left
 * as it was.
 */
enum ferr_code chart_line(struct buf *b, const struct chart *c) FERR_MUST_CHECK;

/**
 * Append an SVG bar chart of @c to @b: one bar per point with the
 * series stacked in order (missing and negative values count as 0),
 * each part with a tooltip; the target, when set, as a dashed line.
 * Errors as chart_line.
 */
enum ferr_code chart_bars(struct buf *b, const struct chart *c) FERR_MUST_CHECK;

/**
 * Nice ticks covering [@lo, @hi] (swapped when reversed; non-finite
 * bounds count as 0; an empty range is widened): at most @want (2..
 * CHART_MAX_TICKS, clamped) values in @out, evenly spaced by 1, 2 or 5
 * times a power of ten, out[0] <= lo and out[last] >= hi.  Returns how
 * many (at least 2).
 */
size_t chart_ticks(double lo, double hi, size_t want,
                   double out[CHART_MAX_TICKS]);

/**
 * @v as a person reads it in @unit ("1.5k", "72.5 %", "12 min") into
 * @out (NUL-terminated, cut to @size); "—" for NaN or ±inf.  Returns @out.
 */
const char *chart_fmt(char *out, size_t size, double v, enum chart_unit unit);

/**
 * Fill @out[0..@n) from the @key member of the @n first objects of the
 * array @rows (borrowed) times @scale: NaN where @rows is shorter, the
 * member is missing or null, or not a number.  Returns how many values
 * are numbers.
 */
size_t chart_values_json(const json_t *rows, const char *key, double scale,
                         double *out, size_t n);

#endif
