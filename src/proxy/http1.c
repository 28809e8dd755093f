/* http1: HTTP/1.1 heads for the proxy (RFC 9112).  Parsing is strict
 * where lenience lets two parties frame a message differently (both
 * Content-Length and Transfer-Encoding, obs-fold, bare CR, bad chunk
 * lines) and lenient where it costs nothing (bare LF ends a head line).
 * It does not decode bodies beyond chunk framing, and it never allocates:
 * heads are parsed in place and rewritten into the caller's buffer. */
#include "proxy/http1.h"

#include <stdio.h>
#include <string.h>

#define CHUNK_LINE_MAX 4096u /* a chunk-size line with its extensions */

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(struct span s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_tchar((unsigned char)s.p[i]))
            return false;
    return true;
}

/* field-value bytes: VCHAR, obs-text, SP, HTAB */
static bool is_vbyte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static struct span ows_trim(struct span s)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.len--;
    }
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    return s;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The line starting at @pos: its bytes without CR LF (or LF) in *line,
 * the offset after its LF in *next.  False when no LF is buffered. */
static bool next_line(const char *p, size_t n, size_t pos, struct span *line,
                      size_t *next)
{
    const char *lf = memchr(p + pos, '\n', n - pos);
    size_t end;

    if (!lf)
        return false;
    end = (size_t)(lf - p);
    *next = end + 1;
    if (end > pos && p[end - 1] == '\r')
        end--;
    *line = span_of(p + pos, end - pos);
    return true;
}

/* The parts of a head common to requests and responses. */
struct fields {
    struct http1_header *hdr;
    size_t *nhdr;
    struct span *conn;
    size_t *nconn;
    bool te;            /* Transfer-Encoding seen */
    bool te_chunked;    /* its last coding is chunked */
    bool te_bad;        /* chunked is not the last coding */
    bool cl;            /* Content-Length seen */
    bool cl_bad;        /* unparsable or conflicting values */
    uint64_t cl_value;
    bool close;         /* Connection: close */
    bool ka;            /* Connection: keep-alive */
    unsigned hosts;     /* Host fields */
    struct span host;
    bool expect_continue;
};

/* Call @fn for each non-empty element of a comma-separated list. */
static void list_each(struct span v, void (*fn)(struct fields *, struct span),
                      struct fields *f)
{
    struct span head;
    struct span tail;

    for (;;) {
        bool more = span_cut(v, ',', &head, &tail);

        head = ows_trim(head);
        if (head.len)
            fn(f, head);
        if (!more)
            break;
        v = tail;
    }
}

static void on_te(struct fields *f, struct span coding)
{
    struct span name;
    struct span params;

    (void)span_cut(coding, ';', &name, &params);
    name = ows_trim(name);
    if (f->te_chunked)
        f->te_bad = true; /* something follows chunked */
    f->te_chunked = span_eq_nocase(name, SPAN_LIT("chunked"));
    f->te = true;
}

static void on_cl(struct fields *f, struct span v)
{
    uint64_t n;

    if (span_to_u64(v, &n)) {
        f->cl_bad = true;
        return;
    }
    if (f->cl && n != f->cl_value)
        f->cl_bad = true;
    f->cl = true;
    f->cl_value = n;
}

static void on_conn(struct fields *f, struct span opt)
{
    if (span_eq_nocase(opt, SPAN_LIT("close")))
        f->close = true;
    else if (span_eq_nocase(opt, SPAN_LIT("keep-alive")))
        f->ka = true;
    if (*f->nconn < HTTP1_MAX_CONN_TOKENS)
        f->conn[*f->nconn] = opt;
    (*f->nconn)++; /* counted past the array: the caller rejects that */
}

/* Parse header lines from @pos up to the empty line.  Returns HTTP1_OK
 * with *end after the empty line, HTTP1_AGAIN, or HTTP1_BAD with
 * *status and *why. */
static enum http1_rc parse_fields(const char *p, size_t n, size_t pos,
                                  struct fields *f, size_t *end, int *status,
                                  const char **why)
{
    struct span line;
    size_t next;

    for (;;) {
        struct span name;
        struct span value;
        const char *colon;

        if (pos > LIM_PROXY_HEAD) {
            *status = 431;
            *why = "head too large";
            return HTTP1_BAD;
        }
        if (!next_line(p, n, pos, &line, &next)) {
            if (n > LIM_PROXY_HEAD) {
                *status = 431;
                *why = "head too large";
                return HTTP1_BAD;
            }
            return HTTP1_AGAIN;
        }
        if (line.len == 0) {
            if (next > LIM_PROXY_HEAD) {
                *status = 431;
                *why = "head too large";
                return HTTP1_BAD;
            }
            *end = next;
            return HTTP1_OK;
        }
        *status = 400;
        if (line.p[0] == ' ' || line.p[0] == '\t') {
            *why = "obsolete line folding";
            return HTTP1_BAD;
        }
        colon = memchr(line.p, ':', line.len);
        if (!colon) {
            *why = "header line without a colon";
            return HTTP1_BAD;
        }
        name = span_of(line.p, (size_t)(colon - line.p));
        if (!is_token(name)) {
            *why = "bad header name";
            return HTTP1_BAD;
        }
        value = span_of(colon + 1, line.len - name.len - 1);
        for (size_t i = 0; i < value.len; i++)
            if (!is_vbyte((unsigned char)value.p[i])) {
                *why = "bad byte in a header value";
                return HTTP1_BAD;
            }
        value = ows_trim(value);
        if (*f->nhdr >= LIM_PROXY_HEADERS) {
            *status = 431;
            *why = "too many header fields";
            return HTTP1_BAD;
        }
        f->hdr[*f->nhdr].name = name;
        f->hdr[*f->nhdr].value = value;
        (*f->nhdr)++;
        if (span_eq_nocase(name, SPAN_LIT("transfer-encoding"))) {
            list_each(value, on_te, f);
            if (value.len == 0)
                f->te_bad = f->te = true;
        } else if (span_eq_nocase(name, SPAN_LIT("content-length"))) {
            list_each(value, on_cl, f);
            if (!f->cl)
                f->cl_bad = true; /* an empty value */
        } else if (span_eq_nocase(name, SPAN_LIT("connection"))) {
            list_each(value, on_conn, f);
            if (*f->nconn > HTTP1_MAX_CONN_TOKENS) {
                *why = "too many connection options";
                return HTTP1_BAD;
            }
        } else if (span_eq_nocase(name, SPAN_LIT("host"))) {
            f->hosts++;
            f->host = value;
        } else if (span_eq_nocase(name, SPAN_LIT("expect"))) {
            f->expect_continue =
                span_eq_nocase(value, SPAN_LIT("100-continue"));
        }
        pos = next;
    }
}

static enum http1_rc bad(struct http1_req *r, int status, const char *why)
{
    r->error_status = status;
    r->error = why;
    return HTTP1_BAD;
}

/* "HTTP/1.1" -> 1; -1 malformed, -2 not major version 1 */
static int parse_version(struct span v)
{
    if (v.len != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[6] != '.' ||
        v.p[5] < '0' || v.p[5] > '9' || v.p[7] < '0' || v.p[7] > '9')
        return -1;
    if (v.p[5] != '1')
        return -2;
    return v.p[7] == '0' ? 0 : 1;
}

static bool method_idempotent(struct span m)
{
    static const char *const ok[] = { "GET", "HEAD", "PUT", "DELETE",
                                      "OPTIONS", "TRACE" };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (span_eq_cstr(m, ok[i]))
            return true;
    return false;
}

/* The request line in @line; sets method, target, host (absolute-form)
 * and minor. */
static enum http1_rc parse_request_line(struct span line, struct http1_req *r)
{
    const char *sp1 = memchr(line.p, ' ', line.len);
    const char *sp2;
    struct span target;
    int minor;

    if (!sp1)
        return bad(r, 400, "malformed request line");
    r->method = span_of(line.p, (size_t)(sp1 - line.p));
    if (!is_token(r->method))
        return bad(r, 400, "bad method");
    sp2 = memchr(sp1 + 1, ' ', line.len - r->method.len - 1);
    if (!sp2)
        return bad(r, 400, "malformed request line");
    target = span_of(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    minor = parse_version(span_of(sp2 + 1, line.len - (size_t)(sp2 + 1 -
                                                                line.p)));
    if (minor == -1)
        return bad(r, 400, "malformed request line");
    if (minor == -2)
        return bad(r, 505, "only HTTP/1.x is supported");
    r->minor = (unsigned)minor;
    if (target.len == 0)
        return bad(r, 400, "empty request target");
    for (size_t i = 0; i < target.len; i++) {
        unsigned char c = (unsigned char)target.p[i];

        if (c <= 0x20 || c == 0x7f)
            return bad(r, 400, "bad byte in the request target");
    }
    if (span_eq_cstr(r->method, "CONNECT"))
        return bad(r, 501, "CONNECT is not supported");
    if (target.p[0] == '/') {
        r->target = target;
    } else if (span_eq_cstr(target, "*") &&
               span_eq_cstr(r->method, "OPTIONS")) {
        r->target = target;
    } else {
        size_t skip = 0;
        size_t a;

        if (target.len > 7 &&
            span_eq_nocase(span_of(target.p, 7), SPAN_LIT("http://")))
            skip = 7;
        else if (target.len > 8 &&
                 span_eq_nocase(span_of(target.p, 8), SPAN_LIT("https://")))
            skip = 8;
        if (!skip)
            return bad(r, 400, "bad request target");
        for (a = skip; a < target.len; a++)
            if (target.p[a] == '/' || target.p[a] == '?' ||
                target.p[a] == '#')
                break;
        if (a == skip || (a < target.len && target.p[a] != '/'))
            return bad(r, 400, "bad request target");
        r->host = span_of(target.p + skip, a - skip);
        r->target = a < target.len ? span_of(target.p + a, target.len - a)
                                   : SPAN_LIT("/");
    }
    return HTTP1_OK;
}

enum http1_rc http1_parse_request(const char *p, size_t n, uint64_t max_body,
                                  struct http1_req *out)
{
    struct fields f;
    struct span line;
    size_t pos = 0;
    size_t next;
    enum http1_rc rc;
    bool absolute;

    memset(out, 0, offsetof(struct http1_req, hdr));
    out->nconn = 0;
    out->framing = HTTP1_NONE;
    out->content_length = 0;
    out->keep_alive = out->is_head = out->idempotent = false;
    out->expect_continue = false;
    out->error_status = 0;
    out->error = NULL;
    /* RFC 9112 §2.2: empty lines before the request line are ignored */
    while (pos < n && (p[pos] == '\r' || p[pos] == '\n') && pos < 64)
        pos++;
    /* reject garbage before a whole line arrives: the method is a token */
    for (size_t i = pos; i < n && p[i] != ' '; i++)
        if (!is_tchar((unsigned char)p[i]) && p[i] != '\r' && p[i] != '\n')
            return bad(out, 400, "bad method");
    if (!next_line(p, n, pos, &line, &next)) {
        if (n > LIM_PROXY_HEAD)
            return bad(out, 431, "request line too long");
        return HTTP1_AGAIN;
    }
    if (next > LIM_PROXY_HEAD)
        return bad(out, 431, "request line too long");
    rc = parse_request_line(line, out);
    if (rc)
        return rc;
    absolute = out->host.len > 0;
    memset(&f, 0, sizeof(f));
    f.hdr = out->hdr;
    f.nhdr = &out->nhdr;
    f.conn = out->conn;
    f.nconn = &out->nconn;
    rc = parse_fields(p, n, next, &f, &out->head_len, &out->error_status,
                      &out->error);
    if (rc)
        return rc;
    if (out->nconn > HTTP1_MAX_CONN_TOKENS)
        return bad(out, 400, "too many connection options");
    if (f.hosts > 1)
        return bad(out, 400, "more than one Host field");
    if (f.hosts == 0 && out->minor == 1 && !absolute)
        return bad(out, 400, "HTTP/1.1 request without Host");
    if (!absolute)
        out->host = f.host;
    if (f.te && f.cl)
        return bad(out, 400, "both Content-Length and Transfer-Encoding");
    if (f.te && out->minor == 0)
        return bad(out, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (f.te && (f.te_bad || !f.te_chunked))
        return bad(out, 400, "Transfer-Encoding does not end in chunked");
    if (f.cl_bad)
        return bad(out, 400, "bad Content-Length");
    if (f.cl && f.cl_value > max_body)
        return bad(out, 413, "request body too large");
    if (f.te) {
        out->framing = HTTP1_CHUNKED;
    } else if (f.cl && f.cl_value > 0) {
        out->framing = HTTP1_LENGTH;
        out->content_length = f.cl_value;
    }
    out->keep_alive = out->minor == 1 ? !f.close : (f.ka && !f.close);
    out->is_head = span_eq_cstr(out->method, "HEAD");
    out->idempotent = method_idempotent(out->method);
    out->expect_continue = f.expect_continue;
    return HTTP1_OK;
}

static enum http1_rc rbad(struct http1_resp *r, const char *why)
{
    r->error = why;
    return HTTP1_BAD;
}

enum http1_rc http1_parse_response(const char *p, size_t n,
                                   bool head_request, struct http1_resp *out)
{
    struct fields f;
    struct span line;
    size_t next;
    enum http1_rc rc;
    int minor;
    int status = 0;
    const char *why = NULL;

    out->status = 0;
    out->reason = span_of("", 0);
    out->minor = 0;
    out->head_len = 0;
    out->nhdr = 0;
    out->nconn = 0;
    out->framing = HTTP1_NONE;
    out->content_length = 0;
    out->keep_alive = false;
    out->error = NULL;
    if (n >= 5 && memcmp(p, "HTTP/", 5) != 0)
        return rbad(out, "not an HTTP response");
    if (!next_line(p, n, 0, &line, &next))
        return n > LIM_PROXY_HEAD ? rbad(out, "status line too long")
                                  : HTTP1_AGAIN;
    /* HTTP/1.1 SP 3DIGIT [SP reason] */
    if (line.len < 12 || line.p[8] != ' ')
        return rbad(out, "malformed status line");
    minor = parse_version(span_of(line.p, 8));
    if (minor < 0)
        return rbad(out, "malformed status line");
    for (int i = 9; i < 12; i++) {
        if (line.p[i] < '0' || line.p[i] > '9')
            return rbad(out, "malformed status line");
        status = status * 10 + (line.p[i] - '0');
    }
    if (status < 100 || status > 599)
        return rbad(out, "bad status code");
    if (line.len > 12) {
        if (line.p[12] != ' ')
            return rbad(out, "malformed status line");
        out->reason = span_of(line.p + 13, line.len - 13);
        for (size_t i = 0; i < out->reason.len; i++)
            if (!is_vbyte((unsigned char)out->reason.p[i]))
                return rbad(out, "bad byte in the reason phrase");
    }
    out->status = (unsigned)status;
    out->minor = (unsigned)minor;
    memset(&f, 0, sizeof(f));
    f.hdr = out->hdr;
    f.nhdr = &out->nhdr;
    f.conn = out->conn;
    f.nconn = &out->nconn;
    rc = parse_fields(p, n, next, &f, &out->head_len, &status, &why);
    if (rc == HTTP1_BAD)
        return rbad(out, why);
    if (rc)
        return rc;
    if (out->nconn > HTTP1_MAX_CONN_TOKENS)
        return rbad(out, "too many connection options");
    out->keep_alive = out->minor == 1 ? !f.close : (f.ka && !f.close);
    if (out->status < 200 || out->status == 204 || out->status == 304 ||
        head_request) {
        out->framing = HTTP1_NONE;
        return HTTP1_OK;
    }
    if (f.te) {
        /* RFC 9112 §6.3: Transfer-Encoding wins; never reuse after */
        if (f.cl)
            out->keep_alive = false;
        if (f.te_chunked && !f.te_bad) {
            out->framing = HTTP1_CHUNKED;
        } else {
            out->framing = HTTP1_CLOSE;
            out->keep_alive = false;
        }
        return HTTP1_OK;
    }
    if (f.cl_bad)
        return rbad(out, "bad Content-Length");
    if (f.cl) {
        out->framing = f.cl_value ? HTTP1_LENGTH : HTTP1_NONE;
        out->content_length = f.cl_value;
        return HTTP1_OK;
    }
    out->framing = HTTP1_CLOSE;
    out->keep_alive = false;
    return HTTP1_OK;
}

enum chunk_state {
    CS_SIZE0 = 0, /* the first hex digit of a chunk size */
    CS_SIZE,      /* more digits, BWS, ';' or CR */
    CS_EXT,       /* chunk extensions up to CR */
    CS_SIZE_LF,   /* LF after the size line */
    CS_DATA,      /* payload */
    CS_DATA_CR,   /* CR after the payload */
    CS_DATA_LF,   /* LF after the payload */
    CS_TRL_START, /* start of a trailer line or of the final CRLF */
    CS_TRL,       /* a trailer line up to CR */
    CS_TRL_LF,    /* LF after a trailer line */
    CS_END_LF,    /* LF of the final CRLF */
    CS_DONE,
};

static enum http1_rc cbad(struct http1_chunked *c)
{
    c->state = CS_DONE;
    return HTTP1_BAD;
}

enum http1_rc http1_chunked_feed(struct http1_chunked *c, const char *p,
                                 size_t n, size_t *used, size_t *data)
{
    size_t i = 0;

    *used = 0;
    *data = 0;
    if (c->state == CS_DONE)
        return n ? HTTP1_BAD : HTTP1_OK;
    if (c->state == CS_DATA) {
        size_t k = n < c->left ? n : (size_t)c->left;

        c->left -= k;
        if (c->left == 0)
            c->state = CS_DATA_CR;
        *used = *data = k;
        return HTTP1_AGAIN;
    }
    for (; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        int h;

        switch ((enum chunk_state)c->state) {
        case CS_SIZE0:
        case CS_SIZE:
            h = hexval(ch);
            if (h >= 0) {
                if (c->left > (UINT64_MAX >> 4) || ++c->line > 16)
                    return cbad(c);
                c->left = c->left * 16 + (uint64_t)h;
                c->state = CS_SIZE;
                break;
            }
            if (c->state == CS_SIZE0)
                return cbad(c);
            if (ch == '\r')
                c->state = CS_SIZE_LF;
            else if (ch == ' ' || ch == '\t' || ch == ';')
                c->state = CS_EXT;
            else
                return cbad(c);
            break;
        case CS_EXT:
            if (++c->line > CHUNK_LINE_MAX)
                return cbad(c);
            if (ch == '\r')
                c->state = CS_SIZE_LF;
            else if (!is_vbyte(ch))
                return cbad(c);
            break;
        case CS_SIZE_LF:
            if (ch != '\n')
                return cbad(c);
            c->line = 0;
            if (c->max && (c->left > c->max || c->total > c->max - c->left)) {
                c->over_limit = true;
                return cbad(c);
            }
            c->total += c->left;
            if (c->left == 0) {
                c->state = CS_TRL_START;
                break;
            }
            c->state = CS_DATA;
            *used = i + 1;
            return HTTP1_AGAIN; /* payload comes in its own run */
        case CS_DATA:
            break; /* not reached: payload returns above */
        case CS_DATA_CR:
            if (ch != '\r')
                return cbad(c);
            c->state = CS_DATA_LF;
            break;
        case CS_DATA_LF:
            if (ch != '\n')
                return cbad(c);
            c->state = CS_SIZE0;
            c->left = 0;
            c->line = 0;
            break;
        case CS_TRL_START:
            if (ch == '\r') {
                c->state = CS_END_LF;
                break;
            }
            c->state = CS_TRL;
            /* fall through */
        case CS_TRL:
            if (++c->trailers > LIM_PROXY_HEAD)
                return cbad(c);
            if (ch == '\r')
                c->state = CS_TRL_LF;
            else if (!is_vbyte(ch))
                return cbad(c);
            break;
        case CS_TRL_LF:
            if (ch != '\n')
                return cbad(c);
            c->state = CS_TRL_START;
            break;
        case CS_END_LF:
            if (ch != '\n')
                return cbad(c);
            c->state = CS_DONE;
            *used = i + 1;
            return HTTP1_OK;
        case CS_DONE:
            return cbad(c);
        }
    }
    *used = n;
    return HTTP1_AGAIN;
}

/* ---------- writers ---------- */

struct out {
    char *p;
    size_t len;
    size_t cap;
    bool full; /* something did not fit */
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || n > o->cap - o->len) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putspan(struct out *o, struct span s)
{
    put(o, s.p, s.len);
}

static void putfield(struct out *o, struct span name, struct span value)
{
    putspan(o, name);
    put(o, ": ", 2);
    putspan(o, value);
    put(o, "\r\n", 2);
}

static bool name_is(struct span name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (span_eq_nocase(name, span_cstr(list[i])))
            return true;
    return false;
}

/* RFC 9110 §7.6.1: Connection, the fields it names, and the fields that
 * are hop-by-hop whether named or not.  Framing fields and Host stay:
 * dropping them because a peer named them would change the message. */
static bool hop_by_hop(struct span name, const struct span *conn,
                       size_t nconn)
{
    static const char *const always[] = { "connection", "keep-alive", "te",
                                          "trailer", "upgrade",
                                          "proxy-connection" };
    static const char *const keep[] = { "content-length",
                                        "transfer-encoding", "host" };

    if (name_is(name, always, sizeof(always) / sizeof(always[0])))
        return true;
    if (nconn > HTTP1_MAX_CONN_TOKENS)
        nconn = HTTP1_MAX_CONN_TOKENS;
    for (size_t i = 0; i < nconn; i++)
        if (span_eq_nocase(name, conn[i]))
            return !name_is(name, keep, sizeof(keep) / sizeof(keep[0]));
    return false;
}

size_t http1_request_head(const struct http1_req *r, const struct http1_fwd *f,
                          char *out, size_t cap)
{
    static const char *const replaced[] = { "host", "x-forwarded-for",
                                            "x-forwarded-proto",
                                            "x-forwarded-host" };
    struct out o = { out, 0, cap, false };
    struct span host = r->host.len ? r->host : f->default_host;
    bool xff = false;

    putspan(&o, r->method);
    put(&o, " ", 1);
    putspan(&o, r->target);
    puts_(&o, " HTTP/1.1\r\n");
    putfield(&o, SPAN_LIT("Host"), host);
    for (size_t i = 0; i < r->nhdr; i++) {
        struct span name = r->hdr[i].name;

        if (hop_by_hop(name, r->conn, r->nconn) ||
            name_is(name, replaced, sizeof(replaced) / sizeof(replaced[0])))
            continue;
        putfield(&o, name, r->hdr[i].value);
    }
    puts_(&o, "X-Forwarded-For: ");
    for (size_t i = 0; i < r->nhdr; i++) {
        if (!span_eq_nocase(r->hdr[i].name, SPAN_LIT("x-forwarded-for")) ||
            r->hdr[i].value.len == 0)
            continue;
        if (xff)
            put(&o, ", ", 2);
        putspan(&o, r->hdr[i].value);
        xff = true;
    }
    if (xff)
        put(&o, ", ", 2);
    putspan(&o, f->client_ip);
    put(&o, "\r\n", 2);
    putfield(&o, SPAN_LIT("X-Forwarded-Proto"), f->proto);
    if (host.len)
        putfield(&o, SPAN_LIT("X-Forwarded-Host"), host);
    put(&o, "\r\n", 2);
    return o.full ? 0 : o.len;
}

size_t http1_response_head(const struct http1_resp *r, unsigned client_minor,
                           bool keep_alive, bool dechunk, char *out,
                           size_t cap)
{
    struct out o = { out, 0, cap, false };
    char status[8];
    bool te = false;

    /* RFC 9112 §6.3: with Transfer-Encoding, Content-Length is wrong and
     * must not be forwarded (an HTTP/1.0 client would believe it) */
    for (size_t i = 0; i < r->nhdr; i++)
        te |= span_eq_nocase(r->hdr[i].name, SPAN_LIT("transfer-encoding"));
    snprintf(status, sizeof(status), "%u", r->status);
    puts_(&o, "HTTP/1.1 ");
    puts_(&o, status);
    put(&o, " ", 1);
    putspan(&o, r->reason);
    put(&o, "\r\n", 2);
    for (size_t i = 0; i < r->nhdr; i++) {
        struct span name = r->hdr[i].name;

        if (hop_by_hop(name, r->conn, r->nconn))
            continue;
        if (dechunk && span_eq_nocase(name, SPAN_LIT("transfer-encoding")))
            continue;
        if (te && span_eq_nocase(name, SPAN_LIT("content-length")))
            continue;
        putfield(&o, name, r->hdr[i].value);
    }
    if (!keep_alive)
        puts_(&o, "Connection: close\r\n");
    else if (client_minor == 0)
        puts_(&o, "Connection: keep-alive\r\n");
    put(&o, "\r\n", 2);
    return o.full ? 0 : o.len;
}

const char *http1_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

size_t http1_error_response(int status, bool keep_alive, char *out,
                            size_t cap)
{
    const char *reason = http1_reason(status);
    int body = (int)strlen(reason) + 5; /* "NNN " reason "\n" */
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: text/plain\r\n"
                     "Content-Length: %d\r\n"
                     "%s"
                     "\r\n"
                     "%d %s\n",
                     status, reason, body,
                     keep_alive ? "" : "Connection: close\r\n", status,
                     reason);

    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}
