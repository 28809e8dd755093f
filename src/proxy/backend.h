/* backend: the proxy's backends — the current set (replaced whole, by
 * pointer swap), the draining ones that left it, smooth weighted round
 * robin over the set, and each backend's counters and latency histogram.
 * No I/O: connections to a backend are the proxy module's business. */
#ifndef FERRY_PROXY_BACKEND_H
#define FERRY_PROXY_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/ferr.h"
#include "util/limits.h"

#define BACKEND_BUCKETS 14u    /* latency buckets, +Inf included */
#define BACKEND_MAX_WEIGHT 1000000u

/** Upper bounds of the latency buckets in seconds (the last is +Inf). */
extern const double backend_bucket_le[BACKEND_BUCKETS];

struct backend {
    uint64_t id;               /* unique for the process's lifetime */
    char name[LIM_NAME + 1];   /* [A-Za-z0-9._-], unique in the set */
    char addr[80];             /* "HOST:PORT" as given */
    struct sockaddr_storage sa; /* addr resolved (literal or localhost) */
    socklen_t salen;
    unsigned weight;           /* 0..BACKEND_MAX_WEIGHT */
    int64_t cur;               /* smooth WRR current weight */
    bool in_set;               /* false: draining (no new requests) */
    uint64_t requests;         /* attempts sent (or tried) to it */
    uint64_t errors_5xx;       /* 500-599 + the proxy's 502/504 */
    uint64_t connect_errors;   /* connections refused or failed */
    uint32_t active;           /* requests in flight */
    uint64_t hist[BACKEND_BUCKETS]; /* non-cumulative counts */
    uint64_t lat_sum_us;       /* sum of latencies, microseconds */
    uint64_t lat_count;
    /* owned by the proxy module */
    void *idle;                /* idle keep-alive connections */
    uint32_t nidle;            /* connections in idle */
    uint32_t nconns;           /* open connections (idle or busy) */
    struct backend *next;      /* in backend_reg.all */
};

/** A backend as named in PUT /backends or the state file. */
struct backend_spec {
    const char *name;
    const char *addr;
    unsigned weight;
};

/** Every backend the proxy knows: the set plus the draining ones. */
struct backend_reg {
    struct backend *all;  /* owned list, set members and draining */
    struct backend **set; /* the current set (owned array, borrowed
                             entries), replaced whole on change */
    size_t nset;
    uint64_t next_id;     /* the id of the next backend made */
};

/** An empty registry in caller storage. */
void backend_reg_init(struct backend_reg *reg);
/** Free every backend and the set; @reg can be init'ed again. */
void backend_reg_release(struct backend_reg *reg);

/**
 * Parse "HOST:PORT" (IPv4 literal, "[IPv6]" literal or localhost; port
 * 1..65535) into *@out / *@out_len.  Errors: FERR_INVALID naming @addr.
 * Pure; any thread.
 */
enum ferr_code backend_parse_addr(const char *addr,
                                  struct sockaddr_storage *out,
                                  socklen_t *out_len,
                                  struct ferr *err) FERR_MUST_CHECK;

/** backend_parse_addr for a listening address: port 0 (any) allowed. */
enum ferr_code backend_parse_listen(const char *addr,
                                    struct sockaddr_storage *out,
                                    socklen_t *out_len,
                                    struct ferr *err) FERR_MUST_CHECK;

/**
 * Make @specs[0..@n) the set, atomically: everything is validated first
 * (names 1..LIM_NAME of [A-Za-z0-9._-] and unique, addresses as
 * backend_parse_addr, weights 0..BACKEND_MAX_WEIGHT, n <=
 * LIM_PROXY_BACKENDS) and only then is the set pointer swapped.  A spec
 * with the name and address of a known backend (in the set or draining)
 * keeps that backend and its counters; backends left out stay in the
 * registry with in_set false until backend_reg_gc.  Smooth WRR restarts.
 * Errors: FERR_INVALID / FERR_LIMIT; nothing changes.
 */
enum ferr_code backend_reg_replace(struct backend_reg *reg,
                                   const struct backend_spec *specs, size_t n,
                                   struct ferr *err) FERR_MUST_CHECK;

/**
 * Take the set member named @name out of the set (it drains).  Returns
 * it, or a draining backend of that name, or NULL if none is known.
 */
struct backend *backend_reg_drain(struct backend_reg *reg, const char *name);

/**
 * Pick the next backend by smooth weighted round robin (nginx's: each
 * eligible backend's cur grows by its weight, the largest wins and loses
 * the total) among set members with weight > 0 whose id is not in
 * @exclude[0..@nexclude) (ids, not pointers: an excluded backend may be
 * freed meanwhile).  NULL when none is eligible.
 */
struct backend *backend_pick(struct backend_reg *reg, const uint64_t *exclude,
                             size_t nexclude);

/** Record a finished request: its status (5xx counts as an error) and
 *  latency in microseconds. */
void backend_observe(struct backend *be, int status, uint64_t latency_us);

/**
 * Free the backends that left the set and have nothing in flight and no
 * open connection (active == 0, nconns == 0, idle == NULL).
 */
void backend_reg_gc(struct backend_reg *reg);

/** True when @be should be listed: in the set, or draining with
 *  requests in flight. */
bool backend_listed(const struct backend *be);

#endif
