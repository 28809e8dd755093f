/* ctarget: the container target of `uses: ferry/deploy@v1` (`target:
 * container`).  Each instance is a container of the version's image, run
 * by the Docker Engine API (Docker, or Podman's service), with its port
 * published on 127.0.0.1:<free port> so that the health checks and
 * `ferry proxy` reach it like a process instance.  It plugs in below
 * target.h: a container release is ENVDIR/releases/VERSION-N holding
 * container.json (the image and how to run it), and target_start,
 * target_stop and target_list hand container releases and instances to
 * the functions here, so every strategy and the rollback work unchanged.
 * Instances are recorded in ENVDIR/containers/NAME.json.  Containers
 * outlive the deploy step: they carry io.ferry.deploy.* labels, never the
 * io.ferry.managed/owner labels whose orphans docker_reap_orphans
 * removes; `ferry __deploy --stop ENV` removes them. */
#ifndef FERRY_DEPLOY_CTARGET_H
#define FERRY_DEPLOY_CTARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "deploy/target.h"
#include "util/ferr.h"

#define CTARGET_SPEC_FILE    "container.json" /* in a container release */
#define CTARGET_DEFAULT_PORT 8080u            /* input 'container-port' */

/* Labels on every deployed container. */
#define CTARGET_LABEL_ENV      "io.ferry.deploy.environment"
#define CTARGET_LABEL_VERSION  "io.ferry.deploy.version"
#define CTARGET_LABEL_INSTANCE "io.ferry.deploy.instance"
#define CTARGET_LABEL_HOME     "io.ferry.deploy.envdir" /* its ENVDIR */

/** How to run one version's containers (borrowed). */
struct ctarget_spec {
    const char *image;       /* a reference; NAME@sha256:… preferred */
    unsigned container_port; /* where the application listens inside;
                                0: CTARGET_DEFAULT_PORT */
    const char *environment; /* for the labels */
    const char *host;        /* the engine, unix:///…; NULL: DOCKER_HOST
                                when it is unix://, else the default
                                socket (recorded, so later stops and
                                rollbacks use the same engine) */
};

/**
 * Credentials for the image pulls of ctarget_start in this process (the
 * deploy step's inputs 'username' and 'password'), sent to the registry
 * of the image being pulled.  Copied; never written to a release, a
 * record or the state (a later rollback in another step pulls only when
 * the engine lost the image, and then needs them given again).  NULL for
 * both forgets them, zeroing the copies first.
 */
void ctarget_set_credentials(const char *username, const char *password);

/**
 * Check input 'image': a reference with a repository and a tag or a
 * digest ("repo" alone means repo:latest and is accepted too).
 * Errors: FERR_INVALID "input 'image': …".
 */
enum ferr_code ctarget_check_image(const char *image,
                                   struct ferr *err) FERR_MUST_CHECK;

/**
 * Install a container release of @spec for @version: write its
 * container.json into a fresh directory and install that with
 * target_install_release (same numbering and pruning as the process
 * target's releases).  *@out is the release directory (the caller's).
 * Errors: those of target_install_release, FERR_IO; *@out NULL.
 */
enum ferr_code ctarget_install_release(const char *envdir,
                                       const struct ctarget_spec *spec,
                                       const char *version, unsigned keep,
                                       char **out,
                                       struct ferr *err) FERR_MUST_CHECK;

/** Whether @release (a release directory; NULL: no) is a container
 *  release: it holds CTARGET_SPEC_FILE. */
bool ctarget_is_release(const char *release);

/**
 * target_start for a container release: make sure the engine has the
 * image (pull it when missing), pick a free loopback port, create
 * container "ferry-NAME-HASH" (HASH from ENVDIR: two deploy homes never
 * clash) with the labels above, Env PORT (the container port),
 * FERRY_INSTANCE, FERRY_VERSION, FERRY_ENVIRONMENT and @p->env,
 * HostConfig.Init, RestartPolicy unless-stopped, and the port published
 * on 127.0.0.1; start it, and return once it has run ~300 ms, with
 * *@out filled (pid: the container's main process; restarts: the
 * engine's restart count).  A leftover container of the same name from
 * this ENVDIR is removed first.
 * Errors: FERR_NOTFOUND (no engine; an image it cannot pull),
 * FERR_INVALID (a name already running; a registry that wants the
 * credentials of ctarget_set_credentials, or refused them: "cannot pull
 * 'IMAGE': pull failed: the registry wants credentials … (give inputs
 * 'username' and 'password')"), FERR_EXEC (the container
 * exited at once: its status and the last lines of its log; it is
 * removed), FERR_IO.
 */
enum ferr_code ctarget_start(const char *envdir, const struct target_process *p,
                             const char *name, struct target_instance *out,
                             struct ferr *err) FERR_MUST_CHECK;

/** Whether ENVDIR/containers/@name.json exists. */
bool ctarget_has(const char *envdir, const char *name);

/**
 * Stop instance @name: stop its container (SIGTERM, SIGKILL after the
 * grace period), remove it, forget it.  A container already gone is
 * FERR_OK.  Errors: FERR_IO (the engine cannot be reached or refuses;
 * the record stays so that a later stop can finish).
 */
enum ferr_code ctarget_stop(const char *envdir, const char *name,
                            struct ferr *err) FERR_MUST_CHECK;

/**
 * Append the live container instances of @envdir to *@v / *@n
 * (reallocated; entries as target_list makes them).  A container that
 * is gone or has exited is removed with its record; when the engine
 * cannot be reached, the records are listed as they are.
 * Errors: FERR_IO reading the directory.
 */
enum ferr_code ctarget_list(const char *envdir, struct target_instance **v,
                            size_t *n, struct ferr *err) FERR_MUST_CHECK;

#endif
