/* fuzz_http_route: the input (up to its first NUL) is a raw request path,
 * matched against every route of docs/api.md plus some '*' routes; what
 * follows its first '?' is also parsed as a query.
 * Oracles: at most one API route matches; captures are non-empty,
 * '/'-free and not dot segments; a capture re-encoded as %XX and put
 * back into its pattern matches again with the same captures; route_id
 * accepts exactly the canonical decimal ids; a parsed query re-encoded
 * parses back to the same parameters. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/route.h"

static const char *const api_routes[] = {
    "/healthz",
    "/readyz",
    "/api/v1/whoami",
    "/api/v1/repos",
    "/api/v1/repos/:name",
    "/api/v1/runs",
    "/api/v1/runs/:id",
    "/api/v1/runs/:id/cancel",
    "/api/v1/runs/:id/rerun",
    "/api/v1/runs/:id/jobs",
    "/api/v1/jobs/:id",
    "/api/v1/runs/:id/logs",
    "/api/v1/jobs/:id/logs",
    "/api/v1/runs/:id/artifacts",
    "/api/v1/runs/:id/artifacts/:name",
    "/api/v1/repos/:name/workflows/:file/dispatches",
    "/api/v1/repos/:name/secrets",
    "/api/v1/repos/:name/secrets/:secret",
    "/api/v1/schedules",
    "/api/v1/tokens",
    "/api/v1/tokens/:id",
    "/api/v1/deliveries",
    "/api/v1/audit",
    "/hooks/github",
    "/hooks/gitea",
    "/hooks/gitlab",
    "/hooks/git",
};

static const char *const rest_routes[] = {"/", "/*", "/web/*",
                                          "/api/v1/runs/:id/*"};

static void check_id(const char *cap)
{
    int64_t v;
    char back[32];

    if (!route_id(cap, &v))
        return;
    snprintf(back, sizeof(back), "%" PRId64, v);
    if (v < 1 || strcmp(back, cap) != 0)
        abort(); /* accepted a non-canonical id */
}

/* @pattern with each ':name' (and a final '*') replaced by the capture,
 * every byte %XX-encoded ('/' kept inside a '*' capture). */
static char *reencode(const char *pattern, const char **caps, size_t n)
{
    size_t cap = strlen(pattern) + 1;
    size_t k = 0;
    const char *p = pattern;
    char *out;
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        cap += 3 * strlen(caps[i]) + 1;
    out = malloc(cap);
    if (!out)
        abort();
    while (*p) {
        bool seg_start = p == pattern || p[-1] == '/';

        if (seg_start && (*p == ':' || (p[0] == '*' && p[1] == '\0'))) {
            bool rest = *p == '*';
            const char *c = caps[k++];

            if (rest && c[0] == '\0' && len > 1)
                len--; /* "/web/" "*" with "" -> "/web" */
            for (; *c; c++) {
                if (rest && *c == '/')
                    out[len++] = '/';
                else
                    len += (size_t)snprintf(out + len, cap - len, "%%%02X",
                                            (unsigned char)*c);
            }
            while (*p && *p != '/')
                p++;
            continue;
        }
        out[len++] = *p++;
    }
    out[len] = '\0';
    return out;
}

static void check(const char *pattern, const char *path, bool *matched)
{
    struct arena *a = arena_new(1024);
    const char *caps[ROUTE_MAX_CAPS];
    const char *again[ROUTE_MAX_CAPS];
    size_t n = 0;
    size_t n2 = 0;
    char *path2;

    *matched = route_match(a, pattern, path, caps, &n);
    if (!*matched) {
        if (n != 0 || arena_used(a) != 0)
            abort();
        arena_free(a);
        return;
    }
    if (path[0] != '/' || strstr(path, "//") || strstr(path, "/./") ||
        strstr(path, "/../"))
        abort(); /* a path with a bad segment matched */
    for (size_t i = 0; i < n; i++) {
        bool rest = i + 1 == n && pattern[strlen(pattern) - 1] == '*';

        if (!rest && (caps[i][0] == '\0' || strchr(caps[i], '/') ||
                      strcmp(caps[i], ".") == 0 || strcmp(caps[i], "..") == 0))
            abort();
        check_id(caps[i]);
    }
    path2 = reencode(pattern, caps, n);
    if (!route_match(a, pattern, path2, again, &n2) || n2 != n)
        abort(); /* the re-encoded path must match the same way */
    for (size_t i = 0; i < n; i++)
        if (strcmp(caps[i], again[i]) != 0)
            abort();
    free(path2);
    arena_free(a);
}

static void add_encoded(char *out, size_t *len, const char *s)
{
    for (; *s; s++) {
        snprintf(out + *len, 4, "%%%02X", (unsigned char)*s);
        *len += 3;
    }
}

static void check_query(const char *query)
{
    struct arena *a = arena_new(1024);
    struct route_arg *args;
    struct route_arg *again;
    size_t amps = 0;
    size_t n = route_parse_query(a, query, &args);
    size_t n2;
    size_t cap = 1;
    size_t len = 0;
    char *q;

    for (const char *p = query; *p; p++)
        amps += *p == '&';
    if (n > amps + 1 || (n == 0) != (args == NULL))
        abort();
    for (size_t i = 0; i < n; i++)
        cap += 3 * (strlen(args[i].key) + strlen(args[i].value)) + 2;
    q = malloc(cap);
    if (!q)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            q[len++] = '&';
        add_encoded(q, &len, args[i].key);
        q[len++] = '=';
        add_encoded(q, &len, args[i].value);
    }
    q[len] = '\0';
    n2 = route_parse_query(a, q, &again);
    if (n2 != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (strcmp(args[i].key, again[i].key) != 0 ||
            strcmp(args[i].value, again[i].value) != 0)
            abort(); /* encoding and decoding must round-trip */
    free(q);
    arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = malloc(size + 1);
    size_t hits = 0;
    bool m;
    int64_t v;

    if (!path)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';
    for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
        check(api_routes[i], path, &m);
        hits += m;
    }
    if (hits > 1)
        abort(); /* the API's routes must not overlap */
    for (size_t i = 0; i < sizeof(rest_routes) / sizeof(rest_routes[0]); i++)
        check(rest_routes[i], path, &m);
    (void)route_id(path, &v);
    check_id(path);
    if (strchr(path, '?'))
        check_query(strchr(path, '?') + 1);
    free(path);
    return 0;
}
