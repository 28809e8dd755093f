/* backend: the backend registry of `ferry proxy`.  The set is an array
 * rebuilt whole and swapped in one assignment, so a request never sees a
 * half-applied change; backends that leave it stay known (draining)
 * until nothing refers to them.  No sockets here, no JSON. */
#include "proxy/backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/span.h"
#include "util/xalloc.h"

const double backend_bucket_le[BACKEND_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,  0.5,    1,     2.5,  5,     10,   0 /* +Inf */
};

void backend_reg_init(struct backend_reg *reg)
{
    memset(reg, 0, sizeof(*reg));
}

void backend_reg_release(struct backend_reg *reg)
{
    struct backend *be = reg->all;

    while (be) {
        struct backend *next = be->next;

        free(be);
        be = next;
    }
    free(reg->set);
    memset(reg, 0, sizeof(*reg));
}

static enum ferr_code parse_addr(const char *addr, bool port0,
                                 struct sockaddr_storage *out,
                                 socklen_t *out_len, struct ferr *err)
{
    const char *colon = strrchr(addr, ':');
    char host[64];
    size_t hlen;
    uint64_t port;

    memset(out, 0, sizeof(*out));
    *out_len = 0;
    if (!colon || colon == addr)
        goto bad;
    hlen = (size_t)(colon - addr);
    if (span_to_u64(span_cstr(colon + 1), &port) || (port < 1 && !port0) ||
        port > 65535)
        goto bad;
    if (addr[0] == '[') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;

        if (hlen < 3 || addr[hlen - 1] != ']' || hlen - 2 >= sizeof(host))
            goto bad;
        memcpy(host, addr + 1, hlen - 2);
        host[hlen - 2] = '\0';
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            goto bad;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *out_len = sizeof(*s6);
        return FERR_OK;
    }
    if (hlen >= sizeof(host))
        goto bad;
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    {
        struct sockaddr_in *s4 = (struct sockaddr_in *)out;

        if (strcmp(host, "localhost") == 0)
            s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            goto bad;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *out_len = sizeof(*s4);
    }
    return FERR_OK;
bad:
    memset(out, 0, sizeof(*out));
    {
        char q[72];

        return ferr_set(err, FERR_INVALID, NULL,
                        "bad address '%s': expected HOST:PORT with an IPv4 "
                        "or [IPv6] literal or localhost",
                        span_quote(addr, strlen(addr), q));
    }
}

enum ferr_code backend_parse_addr(const char *addr,
                                  struct sockaddr_storage *out,
                                  socklen_t *out_len, struct ferr *err)
{
    return parse_addr(addr, false, out, out_len, err);
}

enum ferr_code backend_parse_listen(const char *addr,
                                    struct sockaddr_storage *out,
                                    socklen_t *out_len, struct ferr *err)
{
    return parse_addr(addr, true, out, out_len, err);
}

static bool good_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > LIM_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static struct backend *find_known(struct backend_reg *reg, const char *name,
                                  const char *addr)
{
    struct backend *found = NULL;

    /* a set member first, else any draining one */
    for (struct backend *be = reg->all; be; be = be->next) {
        if (strcmp(be->name, name) != 0 || strcmp(be->addr, addr) != 0)
            continue;
        if (be->in_set)
            return be;
        if (!found)
            found = be;
    }
    return found;
}

enum ferr_code backend_reg_replace(struct backend_reg *reg,
                                   const struct backend_spec *specs, size_t n,
                                   struct ferr *err)
{
    struct backend **set;
    char q[72];

    if (n > LIM_PROXY_BACKENDS)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "too many backends: %zu, at most %u", n,
                        LIM_PROXY_BACKENDS);
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_storage sa;
        socklen_t len;
        const char *name = specs[i].name ? specs[i].name : "";
        const char *addr = specs[i].addr ? specs[i].addr : "";

        if (!good_name(name))
            return ferr_set(err, FERR_INVALID, NULL,
                            "bad backend name '%s': 1 to %u of "
                            "[A-Za-z0-9._-]",
                            span_quote(name, strlen(name), q), LIM_NAME);
        if (strlen(addr) >= sizeof(((struct backend *)0)->addr))
            return ferr_set(err, FERR_INVALID, NULL,
                            "backend '%s': address too long", name);
        enum ferr_code rc = backend_parse_addr(addr, &sa, &len, err);

        if (rc) {
            ferr_prefix(err, "backend '%s'", name);
            return rc;
        }
        if (specs[i].weight > BACKEND_MAX_WEIGHT)
            return ferr_set(err, FERR_INVALID, NULL,
                            "backend '%s': weight %u over %u", name,
                            specs[i].weight, BACKEND_MAX_WEIGHT);
        for (size_t j = 0; j < i; j++)
            if (strcmp(specs[j].name, name) == 0)
                return ferr_set(err, FERR_INVALID, NULL,
                                "backend name '%s' appears twice", name);
    }
    /* validated: build the new set, then swap */
    set = n ? xcalloc(n, sizeof(*set)) : NULL;
    for (size_t i = 0; i < n; i++) {
        struct backend *be = find_known(reg, specs[i].name, specs[i].addr);

        if (!be) {
            be = xcalloc(1, sizeof(*be));
            be->id = ++reg->next_id;
            snprintf(be->name, sizeof(be->name), "%s", specs[i].name);
            snprintf(be->addr, sizeof(be->addr), "%s", specs[i].addr);
            if (backend_parse_addr(be->addr, &be->sa, &be->salen, NULL))
                be->salen = 0; /* not reached: validated above */
            be->next = reg->all;
            reg->all = be;
        }
        be->weight = specs[i].weight;
        set[i] = be;
    }
    for (size_t i = 0; i < reg->nset; i++)
        reg->set[i]->in_set = false;
    for (size_t i = 0; i < n; i++) {
        set[i]->in_set = true;
        set[i]->cur = 0;
    }
    free(reg->set);
    reg->set = set;
    reg->nset = n;
    return FERR_OK;
}

struct backend *backend_reg_drain(struct backend_reg *reg, const char *name)
{
    for (size_t i = 0; i < reg->nset; i++) {
        struct backend *be = reg->set[i];

        if (strcmp(be->name, name) != 0)
            continue;
        be->in_set = false;
        memmove(reg->set + i, reg->set + i + 1,
                (reg->nset - i - 1) * sizeof(*reg->set));
        reg->nset--;
        for (size_t j = 0; j < reg->nset; j++)
            reg->set[j]->cur = 0;
        return be;
    }
    for (struct backend *be = reg->all; be; be = be->next)
        if (!be->in_set && strcmp(be->name, name) == 0)
            return be;
    return NULL;
}

struct backend *backend_pick(struct backend_reg *reg, const uint64_t *exclude,
                             size_t nexclude)
{
    struct backend *best = NULL;
    int64_t total = 0;

    for (size_t i = 0; i < reg->nset; i++) {
        struct backend *be = reg->set[i];
        bool skip = be->weight == 0;

        for (size_t j = 0; j < nexclude && !skip; j++)
            skip = exclude[j] == be->id;
        if (skip)
            continue;
        be->cur += be->weight;
        total += be->weight;
        if (!best || be->cur > best->cur)
            best = be;
    }
    if (best)
        best->cur -= total;
    return best;
}

void backend_observe(struct backend *be, int status, uint64_t latency_us)
{
    double s = (double)latency_us / 1e6;
    unsigned i;

    if (status >= 500 && status <= 599)
        be->errors_5xx++;
    for (i = 0; i + 1 < BACKEND_BUCKETS; i++)
        if (s <= backend_bucket_le[i])
            break;
    be->hist[i]++;
    be->lat_sum_us += latency_us;
    be->lat_count++;
}

void backend_reg_gc(struct backend_reg *reg)
{
    struct backend **pp = &reg->all;

    while (*pp) {
        struct backend *be = *pp;

        if (!be->in_set && be->active == 0 && be->nconns == 0 && !be->idle) {
            *pp = be->next;
            free(be);
        } else {
            pp = &be->next;
        }
    }
}

bool backend_listed(const struct backend *be)
{
    return be->in_set || be->active > 0;
}
