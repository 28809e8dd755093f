/* mask: replace registered secrets in output lines with "***".
 * Secrets of 4 bytes or more are found with a sampled 4-gram filter: one
 * hashed bitmap probe every k bytes (k up to the shortest secret - 3),
 * so a line with no candidate costs a few probes and one copy.  Shorter secrets
 * force a probe at every byte (slower, still correct).  Candidates longer
 * than CMP_MAX are confirmed by a hash of the line (a collision can only
 * mask too much), which keeps crafted secrets and lines from costing
 * line length x secret length.  It does not mask encoded forms (base64,
 * URL or JSON escapes) of a secret. */
#include "exec/mask.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/limits.h"
#include "util/xalloc.h"

#define Q 4u                  /* gram width of the long-secret filter */
#define MAX_WIN 64u           /* longest sampling window used */
#define FILTER_BITS 17u       /* 2^17-bit bitmaps: 16 KiB each */
#define FILTER_WORDS ((1u << FILTER_BITS) / 64u)
#define FILTER_BUDGET 8192u   /* bits set in the gram filter, at most */
#define CMP_MAX 32u           /* longer candidates are compared by hash */
#define M61 ((UINT64_C(1) << 61) - 1) /* the hash's prime modulus */
#define BASE UINT64_C(0x1f3a5c7e9b2d4) /* any base < M61 (see hash_at) */

struct secret {
    char *p;                  /* owned, not NUL-terminated */
    size_t len;
    uint64_t hash;            /* polynomial hash of the value, mod M61 */
    uint64_t pw;              /* BASE^len mod M61 */
};

struct entry {
    uint32_t pre;             /* first 4 bytes (long) or first byte (short) */
    uint32_t len;
    const char *p;            /* borrowed from struct secret */
    uint64_t hash;            /* as in struct secret */
    uint64_t pw;
};

struct mask {
    struct secret *sec;       /* registered values, in order */
    size_t n;
    size_t cap;
    struct entry *lng;        /* len >= Q, by pre then longest first */
    size_t nl;
    size_t lmin;              /* shortest in lng */
    size_t win;               /* sampling window, Q <= win <= lmin */
    struct entry *shr;        /* len < Q, by first byte then longest first */
    size_t ns;
    uint16_t sfirst[256];     /* 1 + index in shr of a first byte; 0 none */
    uint64_t grams[FILTER_WORDS]; /* any 4-gram of a long window prefix */
    uint64_t heads[FILTER_WORDS]; /* the first 4-gram of each long */
};

struct mask *mask_new(void)
{
    struct mask *m = xcalloc(1, sizeof(*m));

    return m;
}

void mask_free(struct mask *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->sec[i].p);
    free(m->sec);
    free(m->lng);
    free(m->shr);
    free(m);
}

size_t mask_count(const struct mask *m)
{
    return m->n;
}

static inline uint32_t load4(const unsigned char *p)
{
    uint32_t x;

    memcpy(&x, p, sizeof(x));
    return x;
}

static inline uint32_t hash4(uint32_t x)
{
    return (uint32_t)(x * 0x9e3779b1u) >> (32u - FILTER_BITS);
}

static inline bool bit_test(const uint64_t *bits, uint32_t h)
{
    return (bits[h >> 6] >> (h & 63u)) & 1u;
}

static inline void bit_set(uint64_t *bits, uint32_t h)
{
    bits[h >> 6] |= (uint64_t)1 << (h & 63u);
}

/* a * b mod M61 for a, b < M61, in 64-bit arithmetic: 2^61 = 1 (mod M61) */
static uint64_t mulmod(uint64_t a, uint64_t b)
{
    uint64_t a1 = a >> 32;
    uint64_t a0 = a & 0xffffffffu;
    uint64_t b1 = b >> 32;
    uint64_t b0 = b & 0xffffffffu;
    uint64_t mid = a1 * b0 + a0 * b1;     /* < 2^62 */
    uint64_t lo = a0 * b0;
    uint64_t r = ((a1 * b1) << 3) + (mid >> 29) +
                 ((mid & 0x1fffffffu) << 32) + (lo >> 61) + (lo & M61);

    r = (r & M61) + (r >> 61);
    return r >= M61 ? r - M61 : r;
}

static uint64_t addmod(uint64_t a, uint64_t b)
{
    uint64_t r = a + b;

    return r >= M61 ? r - M61 : r;
}

/* Polynomial hash step: bytes map to 1..256 so that NULs count. */
static uint64_t hash_step(uint64_t h, unsigned char c)
{
    return addmod(mulmod(h, BASE), (uint64_t)c + 1);
}

static int by_pre_then_longest(const void *a, const void *b)
{
    const struct entry *x = a;
    const struct entry *y = b;

    if (x->pre != y->pre)
        return x->pre < y->pre ? -1 : 1;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return 0;
}

/* Recompute both tiers and the filters.  Called once per mask_add that
 * added something: registration is rare, scanning is not. */
static void rebuild(struct mask *m)
{
    size_t nl = 0;
    size_t ns = 0;

    m->lng = xrealloc(m->lng, (m->n ? m->n : 1) * sizeof(*m->lng));
    m->shr = xrealloc(m->shr, (m->n ? m->n : 1) * sizeof(*m->shr));
    m->lmin = SIZE_MAX;
    for (size_t i = 0; i < m->n; i++) {
        const struct secret *s = &m->sec[i];
        const unsigned char *u = (const unsigned char *)s->p;

        if (s->len >= Q) {
            m->lng[nl++] = (struct entry){ load4(u), (uint32_t)s->len, s->p,
                                           s->hash, s->pw };
            if (s->len < m->lmin)
                m->lmin = s->len;
        } else {
            m->shr[ns++] = (struct entry){ u[0], (uint32_t)s->len, s->p,
                                           s->hash, s->pw };
        }
    }
    m->nl = nl;
    m->ns = ns;
    qsort(m->lng, nl, sizeof(*m->lng), by_pre_then_longest);
    qsort(m->shr, ns, sizeof(*m->shr), by_pre_then_longest);

    memset(m->sfirst, 0, sizeof(m->sfirst));
    for (size_t i = ns; i-- > 0;)
        m->sfirst[m->shr[i].pre] = (uint16_t)(i + 1);

    /* a wider window means sparser probes but a denser filter */
    m->win = nl ? m->lmin : Q;
    if (m->win > MAX_WIN)
        m->win = MAX_WIN;
    if (nl && m->win - Q + 1 > FILTER_BUDGET / nl)
        m->win = Q - 1 + (FILTER_BUDGET / nl ? FILTER_BUDGET / nl : 1);
    memset(m->grams, 0, sizeof(m->grams));
    memset(m->heads, 0, sizeof(m->heads));
    for (size_t i = 0; i < nl; i++) {
        const unsigned char *u = (const unsigned char *)m->lng[i].p;

        bit_set(m->heads, hash4(m->lng[i].pre));
        for (size_t d = 0; d + Q <= m->win; d++)
            bit_set(m->grams, hash4(load4(u + d)));
    }
}

static bool blank(struct span s)
{
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
            c != '\v')
            return false;
    }
    return true;
}

static bool known(const struct mask *m, struct span s)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->sec[i].len == s.len && memcmp(m->sec[i].p, s.p, s.len) == 0)
            return true;
    return false;
}

/* The next line of @rest (without '\n' and one trailing '\r'). */
static struct span next_line(struct span *rest)
{
    const char *nl = memchr(rest->p, '\n', rest->len);
    size_t len = nl ? (size_t)(nl - rest->p) : rest->len;
    struct span line = { rest->p, len };

    rest->p += nl ? len + 1 : len;
    rest->len -= nl ? len + 1 : len;
    if (line.len && line.p[line.len - 1] == '\r')
        line.len--;
    return line;
}

enum ferr_code mask_add(struct mask *m, struct span secret)
{
    struct span rest = secret;
    size_t lines = 0;
    size_t added = 0;

    if (secret.len > LIM_SECRET_BYTES)
        return FERR_LIMIT;
    while (rest.len) {
        struct span line = next_line(&rest);

        if (!blank(line))
            lines++;
    }
    if (m->n + lines > m->cap) {
        m->cap = m->n + lines > 2 * m->cap ? m->n + lines : 2 * m->cap;
        m->sec = xrealloc(m->sec, m->cap * sizeof(*m->sec));
    }
    rest = secret;
    while (rest.len) {
        struct span line = next_line(&rest);

        if (blank(line) || known(m, line))
            continue;
        if (m->n >= LIM_SECRETS) {
            /* all or nothing: drop what this call added */
            while (added--)
                free(m->sec[--m->n].p);
            return FERR_LIMIT;
        }
        struct secret *sc = &m->sec[m->n++];

        *sc = (struct secret){ xmemdup(line.p, line.len), line.len, 0, 1 };
        for (size_t i = 0; i < line.len; i++) {
            sc->hash = hash_step(sc->hash, (unsigned char)line.p[i]);
            sc->pw = mulmod(sc->pw, BASE);
        }
        added++;
    }
    if (added)
        rebuild(m);
    return FERR_OK;
}

/* Find the range of long secrets starting with @pre (binary search). */
static const struct entry *long_bucket(const struct mask *m, uint32_t pre)
{
    size_t lo = 0;
    size_t hi = m->nl;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (m->lng[mid].pre < pre)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nl && m->lng[lo].pre == pre ? &m->lng[lo] : NULL;
}

/* One line being masked; regions arrive in increasing order. */
struct out {
    struct buf *b;
    const unsigned char *s;
    size_t copied;            /* s[0 .. copied) is in b or hidden */
    size_t rstart;            /* current region [rstart, rend); */
    size_t rend;              /* rend == 0: no region yet */
    enum ferr_code rc;
    uint64_t *ph;             /* prefix hashes of s, made on first need */
};

/* Whether s[p .. p + e->len) hashes like @e.  Equal text always does, so
 * no occurrence is missed; unequal text collides with odds ~len / 2^61,
 * which masks a little too much (never too little). */
static bool hash_at(struct out *o, size_t n, size_t p, const struct entry *e)
{
    if (!o->ph) {
        o->ph = xmalloc((n + 1) * sizeof(*o->ph));
        o->ph[0] = 0;
        for (size_t i = 0; i < n; i++)
            o->ph[i + 1] = hash_step(o->ph[i], o->s[i]);
    }
    return addmod(o->ph[p + e->len], M61 - mulmod(o->ph[p], e->pw)) ==
           e->hash;
}

/* Length of the longest long secret at @p that ends past @cover (bytes
 * before @cover are masked already), or 0.  Needs p + Q <= n. */
static size_t long_at(const struct mask *m, struct out *o, size_t n,
                      size_t p, size_t cover)
{
    const unsigned char *s = o->s;
    uint32_t pre = load4(s + p);
    const struct entry *e;
    const struct entry *end = m->lng + m->nl;

    if (!bit_test(m->heads, hash4(pre)))
        return 0;
    e = long_bucket(m, pre);
    for (; e && e < end && e->pre == pre; e++) {
        if (e->len > n - p)
            continue;
        if (p + e->len <= cover)
            break; /* this and every shorter one add nothing */
        if (e->len <= CMP_MAX ? memcmp(s + p + Q, e->p + Q, e->len - Q) == 0
                              : hash_at(o, n, p, e))
            return e->len;
    }
    return 0;
}

static size_t short_at(const struct mask *m, const unsigned char *s,
                       size_t n, size_t p, size_t cover)
{
    size_t k = m->sfirst[s[p]];

    if (!k)
        return 0;
    for (k--; k < m->ns && m->shr[k].pre == s[p]; k++) {
        const struct entry *e = &m->shr[k];

        if (e->len > n - p)
            continue;
        if (p + e->len <= cover)
            break;
        if (memcmp(s + p, e->p, e->len) == 0)
            return e->len;
    }
    return 0;
}

static void flush(struct out *o)
{
    if (!o->rend || o->rc)
        return;
    o->rc = buf_add(o->b, o->s + o->copied, o->rstart - o->copied);
    if (!o->rc)
        o->rc = buf_add(o->b, "***", 3);
    o->copied = o->rend;
}

static void hit(struct out *o, size_t p, size_t len)
{
    if (o->rend && p <= o->rend) {
        if (p + len > o->rend)
            o->rend = p + len;
        return;
    }
    flush(o);
    o->rstart = p;
    o->rend = p + len;
}

/* Every position, for the short secrets; long ones still only where the
 * probe of the position's tile (see scan_sampled) hits. */
static void scan_each(const struct mask *m, struct out *o, size_t n)
{
    const unsigned char *s = o->s;
    const size_t k = m->win - Q + 1;

    for (size_t t = 0; t < n; t += k) {
        size_t j = t + k - 1;
        size_t end = t + k < n ? t + k : n;
        bool probe = m->nl && n >= m->lmin && j + Q <= n &&
                     bit_test(m->grams, hash4(load4(s + j)));

        for (size_t p = t; p < end; p++) {
            size_t len = 0;

            if (probe && p <= n - m->lmin)
                len = long_at(m, o, n, p, o->rend);
            if (!len)
                len = short_at(m, s, n, p, o->rend);
            if (len)
                hit(o, p, len);
        }
    }
}

/* One probe every k bytes.  An occurrence at p covers the grams starting
 * at p .. p + win - Q, k consecutive positions, so exactly one probe lands
 * in it; a probe at j that hits checks the starts j - k + 1 .. j. */
static void scan_sampled(const struct mask *m, struct out *o, size_t n)
{
    const unsigned char *s = o->s;
    const size_t k = m->win - Q + 1;
    const size_t plast = n - m->lmin; /* n >= lmin here */

    for (size_t j = k - 1; j + Q <= n; j += k) {
        if (!bit_test(m->grams, hash4(load4(s + j))))
            continue;
        size_t hi = j < plast ? j : plast;
        for (size_t p = j + 1 - k; p <= hi; p++) {
            size_t len = long_at(m, o, n, p, o->rend);

            if (len)
                hit(o, p, len);
        }
    }
}

enum ferr_code mask_line(const struct mask *m, struct span line,
                         struct buf *out)
{
    struct out o = { out, (const unsigned char *)line.p, 0, 0, 0, FERR_OK,
                     NULL };
    size_t orig = out->len;

    if (line.len == 0)
        return FERR_OK; /* nothing to append; line.p may be NULL */
    if (m->ns)
        scan_each(m, &o, line.len);
    else if (m->nl && line.len >= m->lmin)
        scan_sampled(m, &o, line.len);
    flush(&o);
    free(o.ph);
    if (!o.rc)
        o.rc = buf_add(out, o.s + o.copied, line.len - o.copied);
    if (o.rc) {
        out->len = orig;
        if (out->p)
            out->p[orig] = '\0';
    }
    return o.rc;
}
