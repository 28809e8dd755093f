/* httpc: one blocking HTTP request through a libcurl that is loaded with
 * dlopen at first use, and the one loader of that library for the whole
 * program (the CLI's client uses the same table).  Linking libcurl would
 * cost `ferry serve` and `ferry proxy`, which never need it, ~7 MB of RSS.
 * It keeps no connection between calls, follows no redirect and does not
 * retry: the callers decide what a failure means. */
#include <curl/curl.h>

#include "util/httpc.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/limits.h"

#define CURL_SONAME        "libcurl.so.4"
#define DEFAULT_TIMEOUT_MS 30000L
#define URL_SHOWN          200 /* bytes of a URL quoted in a message */

static struct httpc_curl cu;
static bool cu_loaded;

/* ---- loading libcurl ---- */

static void *resolve(void *lib, const char *name, bool *ok)
{
    void *p = dlsym(lib, name);

    if (!p)
        *ok = false;
    return p;
}

#define RESOLVE(api, lib, field, name, ok)                                     \
    ((api).field = (__typeof__((api).field))resolve((lib), (name), (ok)))

enum ferr_code httpc_load(const char *soname, struct ferr *err)
{
    struct httpc_curl api;
    bool ok = true;
    void *lib;

    if (cu_loaded)
        return FERR_OK;
    lib = dlopen(soname ? soname : CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return ferr_set(err, FERR_UNSUPPORTED, NULL,
                        "libcurl is not installed (apt-get install "
                        "libcurl4)");
    RESOLVE(api, lib, global_init, "curl_global_init", &ok);
    RESOLVE(api, lib, easy_init, "curl_easy_init", &ok);
    RESOLVE(api, lib, easy_setopt, "curl_easy_setopt", &ok);
    RESOLVE(api, lib, easy_perform, "curl_easy_perform", &ok);
    RESOLVE(api, lib, easy_getinfo, "curl_easy_getinfo", &ok);
    RESOLVE(api, lib, easy_reset, "curl_easy_reset", &ok);
    RESOLVE(api, lib, easy_cleanup, "curl_easy_cleanup", &ok);
    RESOLVE(api, lib, easy_strerror, "curl_easy_strerror", &ok);
    RESOLVE(api, lib, slist_append, "curl_slist_append", &ok);
    RESOLVE(api, lib, slist_free_all, "curl_slist_free_all", &ok);
    if (!ok) {
        dlclose(lib);
        return ferr_set(err, FERR_UNSUPPORTED, NULL,
                        "libcurl is not installed (apt-get install "
                        "libcurl4): '%s' lacks a function ferry needs",
                        soname ? soname : CURL_SONAME);
    }
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        dlclose(lib);
        return ferr_set(err, FERR_UNSUPPORTED, NULL,
                        "libcurl failed to initialise");
    }
    cu = api;
    cu_loaded = true; /* the library stays mapped for the process */
    return FERR_OK;
}

const struct httpc_curl *httpc_curl(void)
{
    return cu_loaded ? &cu : NULL;
}

/* ---- one request ---- */

struct sink {
    struct buf *out;
    bool over; /* out's max was reached; what fit is kept */
};

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *k = ud;
    size_t n = size * nmemb;
    size_t room = k->out->max - k->out->len;

    if (n <= room && buf_add(k->out, p, n) == FERR_OK)
        return n;
    if (room && buf_add(k->out, p, room) != FERR_OK)
        room = 0; /* cannot happen: room is within max */
    k->over = true;
    return 0;
}

/* @url for a message: at most URL_SHOWN bytes, controls as '?'. */
static void shown_url(const char *url, char *out, size_t n)
{
    size_t i;

    for (i = 0; url[i] && i + 1 < n && i < URL_SHOWN; i++) {
        unsigned char c = (unsigned char)url[i];

        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[i] = '\0';
}

static bool good_url(const char *url)
{
    size_t skip;

    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return false;
    if (url[skip] == '\0' || url[skip] == '/')
        return false;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

static bool good_method(const char *m)
{
    if (!*m)
        return false;
    for (; *m; m++)
        if (!((*m >= 'A' && *m <= 'Z') || (*m >= 'a' && *m <= 'z') ||
              *m == '-' || *m == '_'))
            return false;
    return true;
}

static enum ferr_code check_req(const struct httpc_req *req, struct ferr *err)
{
    char shown[URL_SHOWN + 1];

    if (!req->url)
        return ferr_set(err, FERR_USAGE, NULL, "no URL to request");
    shown_url(req->url, shown, sizeof(shown));
    if (strlen(req->url) > LIM_URL)
        return ferr_set(err, FERR_USAGE, NULL, "bad URL '%s': over %u bytes",
                        shown, LIM_URL);
    if (!good_url(req->url))
        return ferr_set(err, FERR_USAGE, NULL,
                        "bad URL '%s': expected http://HOST[:PORT]/PATH or "
                        "https://…",
                        shown);
    if (req->method && !good_method(req->method))
        return ferr_set(err, FERR_USAGE, NULL, "bad request method");
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        if (strpbrk(req->headers[i], "\r\n") || !strchr(req->headers[i], ':'))
            return ferr_set(err, FERR_USAGE, NULL,
                            "bad request header: not one 'Name: value' "
                            "line");
    if (req->unix_socket && strlen(req->unix_socket) > LIM_URL)
        return ferr_set(err, FERR_USAGE, NULL,
                        "bad unix socket path: over %u bytes", LIM_URL);
    return FERR_OK;
}

static bool takes_body(const char *method, const char *body)
{
    return body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

/* Append @h to @l; on failure free @l and give NULL. */
static struct curl_slist *add_header(struct curl_slist *l, const char *h)
{
    struct curl_slist *n;

    if (!l)
        return NULL;
    n = cu.slist_append(l, h);
    if (!n)
        cu.slist_free_all(l);
    return n;
}

static enum ferr_code transport_error(CURL *h, const struct httpc_req *req,
                                      CURLcode res, const char *errbuf,
                                      long timeout_ms, struct ferr *err)
{
    const char *why = errbuf[0] ? errbuf : cu.easy_strerror(res);
    char shown[URL_SHOWN + 1];
    char via[URL_SHOWN + 32];
    long oserr = 0;
    curl_off_t connected = 0;

    shown_url(req->url, shown, sizeof(shown));
    via[0] = '\0';
    if (req->unix_socket) {
        char sock[URL_SHOWN + 1];

        shown_url(req->unix_socket, sock, sizeof(sock));
        snprintf(via, sizeof(via), " (unix socket '%s')", sock);
    }
    cu.easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
    cu.easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected);
    if (res == CURLE_COULDNT_CONNECT && oserr > 0)
        why = strerror((int)oserr);
    if (res == CURLE_OPERATION_TIMEDOUT)
        return ferr_set(err, FERR_IO, NULL, "%s %s%s timed out after %ld ms",
                        connected ? "no answer from" : "cannot reach", shown,
                        via, timeout_ms);
    if (res == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
        return ferr_set(err, FERR_NOTFOUND, NULL, "cannot reach %s%s: %s",
                        shown, via, why);
    if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST ||
        res == CURLE_COULDNT_RESOLVE_PROXY || res == CURLE_SSL_CONNECT_ERROR ||
        res == CURLE_PEER_FAILED_VERIFICATION)
        return ferr_set(err, FERR_IO, NULL, "cannot reach %s%s: %s", shown, via,
                        why);
    return ferr_set(err, FERR_IO, NULL, "%s%s: %s", shown, via, why);
}

enum ferr_code httpc_do(const struct httpc_req *req, long *out_status,
                        struct buf *out, struct ferr *err)
{
    const char *method = req->method ? req->method : "GET";
    long timeout_ms =
        req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *hl = NULL;
    struct sink k = {out, false};
    CURLcode res;
    CURL *h = NULL;
    enum ferr_code rc;

    *out_status = 0;
    rc = check_req(req, err);
    if (rc)
        return rc;
    rc = httpc_load(NULL, err);
    if (rc)
        return rc;
    h = cu.easy_init();
    if (!h)
        return ferr_set(err, FERR_IO, NULL, "libcurl cannot start a handle");
    errbuf[0] = '\0';
    cu.easy_setopt(h, CURLOPT_URL, req->url);
    cu.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    cu.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cu.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    cu.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    cu.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    cu.easy_setopt(h, CURLOPT_USERAGENT, "ferry");
    cu.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    cu.easy_setopt(h, CURLOPT_WRITEDATA, &k);
    if (req->unix_socket)
        cu.easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
    /* no "Expect: 100-continue" round trip */
    hl = cu.slist_append(NULL, "Expect:");
    for (size_t i = 0; hl && req->headers && req->headers[i]; i++)
        hl = add_header(hl, req->headers[i]);
    /* an empty POST is not a form: drop curl's default content type */
    if (!req->body && takes_body(method, req->body))
        hl = add_header(hl, "Content-Type:");
    if (!hl) {
        rc = ferr_set(err, FERR_IO, NULL, "libcurl is out of memory");
        goto done;
    }
    cu.easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (strcmp(method, "GET") == 0 && !req->body) {
        cu.easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        cu.easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        cu.easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (takes_body(method, req->body)) {
            /* not copied: the body outlives the transfer */
            cu.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                           (curl_off_t)(req->body ? req->body_len : 0));
            cu.easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        }
    }
    res = cu.easy_perform(h);
    cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, out_status);
    if (res == CURLE_OK) {
        rc = FERR_OK;
    } else if (res == CURLE_WRITE_ERROR && k.over) {
        char shown[URL_SHOWN + 1];

        shown_url(req->url, shown, sizeof(shown));
        rc = ferr_set(err, FERR_LIMIT, NULL,
                      "the answer of %s is over %zu bytes", shown, out->max);
    } else {
        rc = transport_error(h, req, res, errbuf, timeout_ms, err);
        *out_status = 0;
    }
done:
    cu.easy_cleanup(h);
    if (hl)
        cu.slist_free_all(hl);
    return rc;
}

/* ---- one e-mail ---- */

struct mail_src {
    const char *p;
    size_t left;
};

static size_t on_read(char *p, size_t size, size_t nmemb, void *ud)
{
    struct mail_src *m = ud;
    size_t n = size * nmemb;

    if (n > m->left)
        n = m->left;
    memcpy(p, m->p, n);
    m->p += n;
    m->left -= n;
    return n;
}

enum ferr_code httpc_smtp_send(const struct httpc_mail *m, struct ferr *err)
{
    long timeout_ms = m->timeout_ms > 0 ? m->timeout_ms : DEFAULT_TIMEOUT_MS;
    struct httpc_req shown = {.url = m->url};
    struct mail_src src = {m->msg, m->msg_len};
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *rcpt = NULL;
    char from[LIM_URL + 3];
    CURLcode res;
    CURL *h;
    enum ferr_code rc;

    if (!m->url || (strncasecmp(m->url, "smtp://", 7) != 0 &&
                    strncasecmp(m->url, "smtps://", 8) != 0))
        return ferr_set(err, FERR_USAGE, NULL,
                        "a mail server URL starts with smtp:// or smtps://");
    if (m->n_to == 0 || !m->from || strlen(m->from) > LIM_URL)
        return ferr_set(err, FERR_USAGE, NULL,
                        "an e-mail needs a sender and a recipient");
    rc = httpc_load(NULL, err);
    if (rc)
        return rc;
    snprintf(from, sizeof(from), "<%s>", m->from);
    for (size_t i = 0; i < m->n_to; i++) {
        char to[LIM_URL + 3];
        struct curl_slist *n;

        snprintf(to, sizeof(to), "<%s>", m->to[i]);
        n = cu.slist_append(rcpt, to);
        if (!n) {
            if (rcpt)
                cu.slist_free_all(rcpt);
            return ferr_set(err, FERR_IO, NULL, "libcurl is out of memory");
        }
        rcpt = n;
    }
    h = cu.easy_init();
    if (!h) {
        cu.slist_free_all(rcpt);
        return ferr_set(err, FERR_IO, NULL, "libcurl cannot start a handle");
    }
    errbuf[0] = '\0';
    cu.easy_setopt(h, CURLOPT_URL, m->url);
    cu.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    cu.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cu.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    cu.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    cu.easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    cu.easy_setopt(h, CURLOPT_MAIL_FROM, from);
    cu.easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    if (m->username) {
        cu.easy_setopt(h, CURLOPT_USERNAME, m->username);
        cu.easy_setopt(h, CURLOPT_PASSWORD, m->password ? m->password : "");
    }
    cu.easy_setopt(h, CURLOPT_UPLOAD, 1L);
    cu.easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->msg_len);
    cu.easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    cu.easy_setopt(h, CURLOPT_READDATA, &src);
    res = cu.easy_perform(h);
    if (res == CURLE_OK)
        rc = FERR_OK;
    else
        rc = transport_error(h, &shown, res, errbuf, timeout_ms, err);
    cu.easy_cleanup(h);
    cu.slist_free_all(rcpt);
    return rc;
}
