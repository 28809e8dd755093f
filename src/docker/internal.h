/* docker/internal.h: what docker.c, image.c and build.c share (the
 * request core, query building, the JSON-lines stream of long operations
 * and the .dockerignore matcher).  Not for other modules: they use
 * docker.h.  Declared here rather than static so unit tests reach the
 * pure parts. */
#ifndef FERRY_DOCKER_INTERNAL_H
#define FERRY_DOCKER_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "docker/docker.h"
#include "util/buf.h"
#include "util/ferr.h"

#define DOCKER__ANSWER_MAX  (64u * 1024u * 1024u) /* a JSON answer kept */
#define DOCKER__ERRBODY_MAX (64u * 1024u)         /* an error answer kept */
#define DOCKER__LINE_MAX    (1024u * 1024u) /* one line of a progress stream */
#define DOCKER__REF_MAX     512u            /* an image ref, id or name */

struct docker {
    char *sock;   /* the socket path */
    char *shown;  /* "unix:///…" for messages */
    char api[16]; /* negotiated version, "1.41" */
    void *h;      /* the CURL easy handle: one, so the connection stays */
};

/** One request to the engine (all borrowed for the call). */
struct docker__req {
    const char *method;         /* "GET", "POST", … */
    const char *path;           /* "/containers/json?all=1" */
    bool unversioned;           /* no "/v1.41" prefix (/_ping, /version) */
    const char *ctype;          /* body type; NULL: application/json */
    const char *const *headers; /* extra "Name: value", NULL-terminated */
    const char *body;           /* NULL: none (or body_fd) */
    size_t body_len;
    int body_fd;          /* > 0: send this file's bytes instead */
    uint64_t body_fd_len; /* bytes of body_fd, from offset 0 */
    long timeout_ms;      /* whole request; 0: none */
    /* A streamed answer (status < 300): each piece as it arrives; an
     * error stops the transfer and is returned. NULL: collected in
     * resp->body. */
    enum ferr_code (*on_data)(void *ud, const char *p, size_t n,
                              struct ferr *err);
    void *ud;
};

/** What came back. */
struct docker__resp {
    long status;          /* HTTP status; 0 before an answer */
    struct buf body;      /* the answer (not streamed), or an error's */
    char api_version[16]; /* the Api-Version header, "" when absent */
};

/** Empty @r (docker__request does it). */
void docker__resp_init(struct docker__resp *r);
/** Free what @r holds. */
void docker__resp_release(struct docker__resp *r);

/**
 * Send @rq to the engine of @d and fill @out (which it initialises; the
 * caller releases it even on error).  A status >= 400 is not an error
 * here (see docker__status_error).
 * Errors: FERR_NOTFOUND when the socket is absent or refuses ("no
 * container engine at unix:///…"), FERR_IO for other transport errors,
 * FERR_LIMIT when a collected answer is over DOCKER__ANSWER_MAX, or what
 * rq->on_data returned.
 */
enum ferr_code docker__request(struct docker *d, const struct docker__req *rq,
                               struct docker__resp *out,
                               struct ferr *err) FERR_MUST_CHECK;

/**
 * The error of an answer with status >= 400: FERR_NOTFOUND (404),
 * FERR_INVALID (400, 409, and Podman's 500 for a name "already in
 * use") or FERR_IO, with the engine's "message"
 * (first letter lowercased) or the body's first line.
 */
enum ferr_code docker__status_error(const struct docker__resp *r,
                                    struct ferr *err) FERR_MUST_CHECK;

/** docker__request, then docker__status_error for a status >= 400. */
enum ferr_code docker__do(struct docker *d, const struct docker__req *rq,
                          struct docker__resp *out,
                          struct ferr *err) FERR_MUST_CHECK;

/** Append "?key=value" or "&key=value" to @b, @val percent-encoded. */
enum ferr_code docker__qadd(struct buf *b, const char *key,
                            const char *val) FERR_MUST_CHECK;

/**
 * Check @s as an object reference put into a path: an id, a name or an
 * image ref ("127.0.0.1:5000/app:v1", "x@sha256:…"): 1..DOCKER__REF_MAX
 * bytes of [A-Za-z0-9._/:@+-], not starting with '/', '-' or '.', no
 * "..", no "//".  FERR_INVALID naming @what otherwise.
 */
enum ferr_code docker__check_ref(const char *s, const char *what,
                                 struct ferr *err) FERR_MUST_CHECK;

/** Set @m's first letter to lower case when the second is too ("No such
 *  container" → "no such container"; "OCI …" stays). */
void docker__lower_first(char *m);

/* ---------- the JSON-lines stream of pull, push and build ---------- */

/** Splits a stream into JSON objects, one per line (objects glued on a
 *  line are split too). */
struct docker__jsonl {
    struct buf line; /* the partial line; max DOCKER__LINE_MAX */
    enum ferr_code (*on_obj)(void *ud, json_t *obj, struct ferr *err);
    void *ud;
};

/** Start @j, calling @on_obj with each object (borrowed for the call). */
void docker__jsonl_init(struct docker__jsonl *j,
                        enum ferr_code (*on_obj)(void *ud, json_t *obj,
                                                 struct ferr *err),
                        void *ud);
/** Free what @j holds. */
void docker__jsonl_release(struct docker__jsonl *j);
/**
 * Feed @n bytes.  Errors: FERR_PARSE for a line that is not JSON
 * objects, FERR_LIMIT for a line over DOCKER__LINE_MAX, or what on_obj
 * returned.
 */
enum ferr_code docker__jsonl_feed(struct docker__jsonl *j, const char *p,
                                  size_t n, struct ferr *err) FERR_MUST_CHECK;
/** The last line when it had no newline. */
enum ferr_code docker__jsonl_finish(struct docker__jsonl *j,
                                    struct ferr *err) FERR_MUST_CHECK;

/**
 * Send @rq (its on_data and ud are set here) and hand each object of its
 * JSON-lines answer to @on_obj (borrowed for the call).  Errors: those of
 * docker__do, of the stream, or of @on_obj.
 */
enum ferr_code docker__streamed(struct docker *d, struct docker__req *rq,
                                enum ferr_code (*on_obj)(void *ud, json_t *obj,
                                                         struct ferr *err),
                                void *ud, struct ferr *err) FERR_MUST_CHECK;

/**
 * Render one progress object as text lines through @cb ("ID: status
 * progress", each line of "stream"); control characters become '?'.
 * Nothing for objects with neither.
 */
void docker__progress_text(const json_t *obj, docker_progress_fn cb, void *ud);

/** The "error" of a progress object (its errorDetail.message first), or
 *  NULL; borrowed from @obj. */
const char *docker__stream_error(const json_t *obj);

/* ---------- .dockerignore ---------- */

/** One cleaned pattern. */
struct docker__ignore_pat {
    char *pat;   /* cleaned: no leading '/', no "./", no trailing '/' */
    bool negate; /* a '!' pattern: re-includes */
};

/** The patterns of a .dockerignore file. */
struct docker__ignore {
    struct docker__ignore_pat *v;
    size_t n;
    bool has_negation; /* some pattern starts with '!' */
};

/**
 * Parse .dockerignore text @p/@n into @ig (which the caller releases):
 * one pattern a line, '#' lines and blank lines skipped, '!' negates,
 * surrounding spaces trimmed, the pattern cleaned as a path.
 * Errors: FERR_PARSE for a bad pattern (unclosed '['), FERR_LIMIT for
 * over 10000 patterns or a pattern over 4096 bytes; @ig is empty then.
 */
enum ferr_code docker__ignore_parse(const char *p, size_t n,
                                    struct docker__ignore *ig,
                                    struct ferr *err) FERR_MUST_CHECK;
/** Free what @ig holds; @ig is empty after. */
void docker__ignore_release(struct docker__ignore *ig);

/** Does the one cleaned pattern @pat match the whole of @path ('*' and
 *  '?' not crossing '/', "**" any number of directories, [classes],
 *  '\' escapes)? */
bool docker__ignore_match1(const char *pat, const char *path);

/**
 * Is @path (relative, '/'-separated, cleaned) excluded?  The last
 * pattern that matches it or one of its parent directories decides, as
 * Docker's patternmatcher does.
 */
bool docker__ignore_excluded(const struct docker__ignore *ig, const char *path);

/**
 * Write the build context of directory @rootfd (@dir for messages) as a
 * tar into a new unlinked temporary file: *@out_fd (the caller's, at its
 * end) holds *@out_len bytes.  .dockerignore is honoured, but
 * @dockerfile and .dockerignore are always sent.
 * Errors: FERR_LIMIT over LIM_BUILD_CONTEXT or LIM_TREE_DEPTH, FERR_PARSE
 * for a bad .dockerignore, FERR_IO; *@out_fd is -1 then.
 */
enum ferr_code docker__context_tar(int rootfd, const char *dir,
                                   const char *dockerfile, int *out_fd,
                                   uint64_t *out_len,
                                   struct ferr *err) FERR_MUST_CHECK;

#endif
