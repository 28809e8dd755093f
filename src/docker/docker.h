/* docker: a client of the Docker Engine API over its Unix socket, through
 * libcurl (util/httpc.h loads it).  It works against Docker and against
 * Podman's `podman system service`.  Calls are blocking: the event loops
 * of `ferry run`/`ferry serve` never call them directly; processes that
 * may block do (`ferry __cexec`, `ferry __image`, the deploy step).
 * Everything ferry creates carries the labels of docker_labels(), so
 * what a killed ferry left behind can be found and removed. */
#ifndef FERRY_DOCKER_DOCKER_H
#define FERRY_DOCKER_DOCKER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ferr.h"

/* The API version ferry speaks; docker_open negotiates down to the
 * engine's when it is older (never below 1.24). */
#define DOCKER_API_VERSION "1.41"

/* Labels on every container, network and volume ferry creates. */
#define DOCKER_LABEL_MANAGED "io.ferry.managed" /* "1" */
#define DOCKER_LABEL_OWNER "io.ferry.owner"     /* "HOST:PID:START" of the
                                                   ferry process that owns
                                                   it (see docker_owner) */
#define DOCKER_LABEL_RUN "io.ferry.run"         /* the run id */
#define DOCKER_LABEL_JOB "io.ferry.job"         /* the job key */

struct docker;

/**
 * Connect to the engine at @host: "unix:///path/to.sock" (NULL: the
 * DOCKER_HOST variable when it is a unix:// URL, else
 * unix:///var/run/docker.sock), ping it and negotiate the API version.
 * Ownership: *@out is the caller's (docker_close).
 * Errors: FERR_NOTFOUND "no container engine at unix:///x.sock: …
 * (start one: scripts/podman.sh start)" when the socket is absent or
 * refuses; FERR_USAGE for a host that is not unix://; FERR_UNSUPPORTED
 * when libcurl is missing or the engine's API is older than 1.24;
 * *@out is NULL.
 */
enum ferr_code docker_open(const char *host, struct docker **out,
                           struct ferr *err) FERR_MUST_CHECK;

/** Close @d; NULL is a no-op. */
void docker_close(struct docker *d);

/** The negotiated API version ("1.41"), borrowed from @d. */
const char *docker_api_version(const struct docker *d);

/**
 * One API call: @method on @path ("/containers/create?name=x", without
 * the version prefix, which is added), with @body as JSON (NULL: none).
 * *@out_json gets the decoded response when there is one (NULL for an
 * empty body; @out_json may be NULL to ignore it).
 * Errors: a status >= 400 becomes FERR_NOTFOUND (404), FERR_INVALID
 * (400, 409) or FERR_IO (others), with the engine's "message" in
 * err->msg ("no such container: abc"); transport failures are FERR_IO.
 */
enum ferr_code docker_call(struct docker *d, const char *method,
                           const char *path, const json_t *body,
                           json_t **out_json,
                           struct ferr *err) FERR_MUST_CHECK;

/* ---------- images ---------- */

/** Inspect image @ref into *@out (a new reference).  FERR_NOTFOUND when
 *  the engine does not have it. */
enum ferr_code docker_image_inspect(struct docker *d, const char *ref,
                                    json_t **out,
                                    struct ferr *err) FERR_MUST_CHECK;

/** Progress lines of long operations (pull, build, push), one call per
 *  line of the engine's JSON stream rendered as text; may be NULL. */
typedef void (*docker_progress_fn)(void *ud, const char *line);

/**
 * Pull @ref ("127.0.0.1:5000/app:v1", "busybox"), with @auth (the
 * X-Registry-Auth value, base64url JSON; NULL: anonymous).  An error
 * object in the stream fails the call with its message; when the
 * registry said no (docker_auth_refused) it is FERR_INVALID "pull failed:
 * the registry wants credentials for 'REF' and none were given (it said:
 * …)", or "… refused the credentials given for 'REF' …" when @auth was
 * given.
 */
enum ferr_code docker_image_pull(struct docker *d, const char *ref,
                                 const char *auth, docker_progress_fn cb,
                                 void *ud, struct ferr *err) FERR_MUST_CHECK;

/** What to build (all borrowed). */
struct docker_build {
    const char *context_dir; /* sent as a tar; .dockerignore honoured */
    const char *dockerfile;  /* relative to the context; NULL: Dockerfile
                                (or Containerfile when only it exists) */
    const json_t *buildargs; /* name -> string, or NULL */
    const json_t *labels;    /* name -> string, or NULL */
    const char *const *tags; /* full references, NULL-terminated */
    const char *target;      /* multi-stage target or NULL */
    bool no_cache;
    const char *registry_config; /* X-Registry-Config for the build's
                                    pulls (docker_registry_config), or
                                    NULL: anonymous */
};

/**
 * Build an image with POST /build (X-Registry-Config from
 * @b->registry_config).  *@out_id gets its image id ("sha256:…", the
 * caller's).  Errors: FERR_INVALID with the build's own error ("RUN
 * false: exit status 1"; a pull the registry refused says "build failed:
 * the registry wants credentials for an image the build pulls, and none
 * were given (it said: …)" or "… refused the credentials given …"),
 * FERR_LIMIT when the context is over LIM_BUILD_CONTEXT, FERR_IO.
 */
enum ferr_code docker_image_build(struct docker *d,
                                  const struct docker_build *b,
                                  docker_progress_fn cb, void *ud,
                                  char **out_id,
                                  struct ferr *err) FERR_MUST_CHECK;

/** Tag image @src as @repo:@tag. */
enum ferr_code docker_image_tag(struct docker *d, const char *src,
                                const char *repo, const char *tag,
                                struct ferr *err) FERR_MUST_CHECK;

/**
 * Push @repo:@tag with @auth (as in pull; NULL: anonymous, sent as "{}"
 * since Docker wants the header; a refusal is worded as pull's).
 * *@out_digest gets the manifest digest the registry stored ("sha256:…",
 * the caller's), read from the stream's aux/status, or NULL when the
 * engine did not say.
 */
enum ferr_code docker_image_push(struct docker *d, const char *repo,
                                 const char *tag, const char *auth,
                                 docker_progress_fn cb, void *ud,
                                 char **out_digest,
                                 struct ferr *err) FERR_MUST_CHECK;

/** Remove image @ref (force when @force).  FERR_NOTFOUND when absent. */
enum ferr_code docker_image_remove(struct docker *d, const char *ref,
                                   bool force,
                                   struct ferr *err) FERR_MUST_CHECK;

/** The X-Registry-Auth value for @user/@password at @server (all may be
 *  NULL: "{}" encoded), the caller's: zero it before free, it holds the
 *  password (explicit_bzero(p, strlen(p))). */
char *docker_auth_header(const char *user, const char *password,
                         const char *server);

/**
 * The X-Registry-Config value of a build (POST /build) that may pull
 * from @server with @user/@password: base64url JSON of {SERVER:
 * {"username","password"}}.  @server is a registry host
 * ("127.0.0.1:5000", "ghcr.io"); NULL or "docker.io" means Docker Hub,
 * keyed both "https://index.docker.io/v1/" (Docker) and "docker.io"
 * (Podman).  The caller's, to zero before free like docker_auth_header's.
 */
char *docker_registry_config(const char *user, const char *password,
                             const char *server);

/**
 * Whether the engine's error message @msg (of a pull, push or build) says
 * that the registry wanted credentials or refused the ones given
 * ("unauthorized: authentication required", "denied", 401/403).
 */
bool docker_auth_refused(const char *msg);

/* ---------- containers ---------- */

/**
 * Create a container named @name (NULL: the engine picks) from @config,
 * the API's create body ({"Image","Cmd","Env","Labels","HostConfig",
 * "NetworkingConfig",…}; borrowed).  The managed and owner labels are
 * added to it.  *@out_id gets the id (the caller's).
 */
enum ferr_code docker_container_create(struct docker *d, const char *name,
                                       const json_t *config, char **out_id,
                                       struct ferr *err) FERR_MUST_CHECK;
enum ferr_code docker_container_start(struct docker *d, const char *id,
                                      struct ferr *err) FERR_MUST_CHECK;
/** Stop @id: SIGTERM, then SIGKILL after @timeout_s. */
enum ferr_code docker_container_stop(struct docker *d, const char *id,
                                     int timeout_s,
                                     struct ferr *err) FERR_MUST_CHECK;
/** Wait for @id to exit; *@out_status gets its exit code. */
enum ferr_code docker_container_wait(struct docker *d, const char *id,
                                     int *out_status,
                                     struct ferr *err) FERR_MUST_CHECK;
/** Remove @id with its anonymous volumes (force: kill it first).
 *  FERR_NOTFOUND when it is already gone. */
enum ferr_code docker_container_remove(struct docker *d, const char *id,
                                       bool force,
                                       struct ferr *err) FERR_MUST_CHECK;
enum ferr_code docker_container_inspect(struct docker *d, const char *id,
                                        json_t **out,
                                        struct ferr *err) FERR_MUST_CHECK;
/** Containers (running or not when @all) whose labels match every
 *  "key=value" or "key" of @labels (NULL-terminated), as the API lists
 *  them. */
enum ferr_code docker_container_list(struct docker *d,
                                     const char *const *labels, bool all,
                                     json_t **out,
                                     struct ferr *err) FERR_MUST_CHECK;
/**
 * The container's output so far (stdout and stderr demultiplexed, or
 * raw for a Tty container) through @cb; with @follow it streams until
 * the container exits.
 */
enum ferr_code docker_container_logs(struct docker *d, const char *id,
                                     bool follow,
                                     void (*cb)(void *ud, int stream,
                                                const char *p, size_t n),
                                     void *ud,
                                     struct ferr *err) FERR_MUST_CHECK;

/* ---------- exec ---------- */

/** What to run in a container (all borrowed). */
struct docker_exec {
    const char *const *cmd;  /* argv, NULL-terminated */
    const char *const *env;  /* "NAME=value", NULL-terminated, or NULL */
    const char *workdir;     /* or NULL */
    const char *user;        /* or NULL */
};

/**
 * Run @x in running container @id and wait for it, streaming its output
 * demultiplexed: stream 1 (stdout) and 2 (stderr) through @cb as the
 * bytes arrive.  *@out_code gets the exit code.
 * Errors: FERR_NOTFOUND (no such container), FERR_IO; the command
 * failing is not an error (see *@out_code; 126/127 when it cannot run).
 */
enum ferr_code docker_exec_run(struct docker *d, const char *id,
                               const struct docker_exec *x,
                               void (*cb)(void *ud, int stream,
                                          const char *p, size_t n),
                               void *ud, int *out_code,
                               struct ferr *err) FERR_MUST_CHECK;

/* ---------- networks and volumes ---------- */

/** Create a bridge network @name with the managed/owner labels and
 *  @labels ("k=v", NULL-terminated, or NULL); *@out_id the caller's. */
enum ferr_code docker_network_create(struct docker *d, const char *name,
                                     const char *const *labels,
                                     char **out_id,
                                     struct ferr *err) FERR_MUST_CHECK;
/** FERR_NOTFOUND when it is already gone. */
enum ferr_code docker_network_remove(struct docker *d, const char *id,
                                     struct ferr *err) FERR_MUST_CHECK;
enum ferr_code docker_network_list(struct docker *d,
                                   const char *const *labels, json_t **out,
                                   struct ferr *err) FERR_MUST_CHECK;
enum ferr_code docker_volume_remove(struct docker *d, const char *name,
                                    struct ferr *err) FERR_MUST_CHECK;

/* ---------- owners and orphans ---------- */

/** The owner label's value for this process ("HOST:PID:STARTTIME",
 *  start time from /proc/self/stat), borrowed static storage. */
const char *docker_owner(void);

/** True when the process @owner (a label value) still runs on this
 *  host (same pid and start time); false for another host's owner is
 *  never said: other hosts' owners count as alive. */
bool docker_owner_alive(const char *owner);

/**
 * Remove every managed container, then network, whose owner is no
 * longer alive (a ferry that was killed).  *@out_removed (may be NULL)
 * gets how many objects went.  Errors from the engine are returned
 * after trying the rest.
 */
enum ferr_code docker_reap_orphans(struct docker *d, unsigned *out_removed,
                                   struct ferr *err) FERR_MUST_CHECK;

/* ---------- the multiplexed stream (pure) ---------- */

/** Demultiplexer of the engine's attach/logs/exec stream: frames of an
 *  8-byte header (stream 0/1/2, 3 zero bytes, big-endian length) and a
 *  payload, which may arrive split anywhere. */
struct docker_demux {
    unsigned char hdr[8];
    size_t have;     /* header bytes collected */
    uint32_t left;   /* payload bytes left of the current frame */
    int stream;      /* the current frame's stream */
};

/** Reset @m to expect a frame header. */
void docker_demux_init(struct docker_demux *m);

/**
 * Feed @n bytes; each payload piece goes to @cb with its stream (1
 * stdout, 2 stderr; 0 stdin is passed as 1).  Errors: FERR_PARSE for a
 * header with a stream above 2 or non-zero padding (the stream is not
 * multiplexed: the caller should treat it as raw); @m is then unusable
 * until docker_demux_init.
 */
enum ferr_code docker_demux_feed(struct docker_demux *m, const void *data,
                                 size_t n,
                                 void (*cb)(void *ud, int stream,
                                            const char *p, size_t n),
                                 void *ud) FERR_MUST_CHECK;

/** True when @m stopped inside a frame (a header or payload is
 *  incomplete): at the end of a stream, it was cut short. */
bool docker_demux_partial(const struct docker_demux *m);

#endif
