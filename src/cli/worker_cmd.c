/* worker_cmd: `ferry __run` — the process `ferry serve` starts for one
 * attempt of one run.  It reads the run's spec (one line of JSON,
 * secrets included: never on argv or in the environment) from stdin,
 * runs the engine, and writes the event stream as JSON lines to stdout,
 * which the server persists.  After the spec, every byte on stdin is one
 * job slot the server grants.  Not for people: no flags, no output for
 * humans. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/cjob.h"
#include "engine/run.h"
#include "git/repo.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/limits.h"

static void emit(void *ud, const struct event *ev)
{
    json_t *o = event_to_json(ev);
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));

    (void)ud;
    if (s) {
        /* one write per event: the server reads whole lines */
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(s);
    json_decref(o);
}

/* Inputs as the engine takes them from the command line: strings (a
 * payload's typed inputs hold numbers and booleans). */
static json_t *input_strings(const json_t *in)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;

    json_object_foreach ((json_t *)in, k, v) {
        if (json_is_string(v)) {
            json_object_set(out, k, v);
        } else if (json_is_true(v) || json_is_false(v)) {
            json_object_set_new(
                out, k, json_string(json_is_true(v) ? "true" : "false"));
        } else if (json_is_number(v)) {
            char *t = json_dumps(v, JSON_ENCODE_ANY);

            json_object_set_new(out, k, json_string(t ? t : ""));
            free(t);
        }
    }
    return out;
}

static const char *str(const json_t *spec, const char *key)
{
    return json_string_value(json_object_get(spec, key));
}

static json_t *obj(json_t *spec, const char *key)
{
    json_t *v = json_object_get(spec, key);

    return json_is_object(v) ? v : NULL;
}

/* The spec is the first line on stdin; bytes after it are credits. */
static int read_spec(json_t **out, unsigned *credits, json_error_t *je)
{
    struct buf b;
    char chunk[65536];
    const char *nl = NULL;
    int rc = -1;

    *out = NULL;
    memset(je, 0, sizeof(*je));
    buf_init(&b, (size_t)LIM_EVENT_BYTES * 4);
    while (!nl) {
        ssize_t n = read(0, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || buf_add(&b, chunk, (size_t)n)) {
            snprintf(je->text, sizeof(je->text), "no complete spec line");
            goto done;
        }
        nl = memchr(b.p, '\n', b.len);
    }
    *credits = (unsigned)(b.len - (size_t)(nl - b.p) - 1);
    *out = json_loadb(b.p, (size_t)(nl - b.p), JSON_REJECT_DUPLICATES, je);
    if (json_is_object(*out))
        rc = 0;
    else {
        json_decref(*out);
        *out = NULL;
    }
done:
    explicit_bzero(b.p, b.len);
    buf_release(&b);
    return rc;
}

int cli_worker(int argc, char **argv)
{
    struct run_opts o;
    struct diags diags;
    struct ferr err;
    enum result res = RES_NONE;
    json_error_t je;
    json_t *spec;
    const char *wf;
    unsigned credits = 0;
    int status = 2;

    (void)argc;
    (void)argv;
    /* the server owns this process: when it dies, stop (its restart
     * kills what is left of the attempt) */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        return 2;
    /* a spare worker waits here: pay the start-up costs first */
    repo_warm_up();
    if (read_spec(&spec, &credits, &je)) {
        fprintf(stderr, "ferry __run: bad spec on stdin: %s\n", je.text);
        return 2;
    }
    memset(&o, 0, sizeof(o));
    diags_init(&diags);
    ferr_clear(&err);
    o.dir = str(spec, "dir");
    o.event = str(spec, "event");
    o.event_payload = obj(spec, "payload");
    wf = str(spec, "workflow");
    if (wf) {
        o.workflows = &wf;
        o.nworkflows = 1;
    }
    o.secrets = obj(spec, "secrets");
    o.vars = obj(spec, "vars");
    if (obj(spec, "inputs"))
        json_object_set_new(spec, "inputs_",
                            input_strings(obj(spec, "inputs")));
    o.inputs = obj(spec, "inputs_");
    o.home = str(spec, "home");
    o.run_id = str(spec, "run_id");
    o.run_number = str(spec, "run_number");
    o.run_attempt = str(spec, "run_attempt");
    o.repository = str(spec, "repository");
    o.actor = str(spec, "actor");
    o.reuse = obj(spec, "reuse");
    o.lazy_checkout = json_is_true(json_object_get(spec, "lazy_checkout"));
    o.remove_workspaces =
        json_is_true(json_object_get(spec, "remove_workspaces"));
    o.slots = (unsigned)json_integer_value(json_object_get(spec, "slots"));
    cjob_platforms_set(obj(spec, "platforms")); /* ferry serve --platform */
    o.sink.emit = emit;
    if (json_is_true(json_object_get(spec, "gated"))) {
        o.gated = true;
        o.gate_fd = 0;
        o.gate_credits = credits;
        fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    }
    if (run_workflows(&o, &diags, &res, &err)) {
        char msg[1200];
        json_t *e;
        char *s;

        /* the server records why the attempt could not run */
        diags_print(&diags, stderr);
        e = json_pack("{s:s, s:s}", "type", "run.error", "reason",
                      ferr_format(&err, msg, sizeof(msg)));
        s = json_dumps(e, JSON_COMPACT);
        if (s)
            printf("%s\n", s);
        fflush(stdout);
        free(s);
        json_decref(e);
        status = 2;
    } else {
        status = res == RES_FAILURE || res == RES_CANCELLED ? 1 : 0;
    }
    diags_release(&diags);
    json_decref(spec);
    return status;
}
