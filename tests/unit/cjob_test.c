/* cjob_test: how a job's container:, services: and runs-on mapping turn
 * into the plan `ferry __cexec --setup` carries out — images, create
 * bodies (env, ports, volumes, options, health checks, labels, the
 * job directory's bind mount), and the errors for what ferry refuses.
 * No engine is needed: planning never calls one. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "docker/docker.h"
#include "engine/cjob.h"
#include "pipeline/wf.h"

/* jansson's free, spied on while @spying: how many blocks freed still
 * held the secret */
static bool spying;
static unsigned freed_with_secret;

static void spy_free(void *p)
{
    if (p && spying && memmem(p, malloc_usable_size(p), "s3cret", 6))
        freed_with_secret++;
    free(p);
}

struct fx {
    struct arena *a;
    struct wf *wf;
    struct diags d;
    struct ferr err;
    struct cjob *c;
    json_t *ctx;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    f->a = arena_new(4096);
    diags_init(&f->d);
    ferr_clear(&f->err);
    f->ctx = json_pack("{s:{s:s, s:s}, s:{s:s}}", "matrix", "img",
                       "localhost/from-matrix:1", "port", "9000", "secrets",
                       "PW", "s3cret");
    cjob_platforms_set(NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    cjob_free(f->c);
    json_decref(f->ctx);
    diags_release(&f->d);
    arena_free(f->a);
    cjob_platforms_set(NULL);
    free(f);
    return 0;
}

/* Load @yaml (one job, "j") and plan it with job directory @dir. */
static enum ferr_code plan_at(struct fx *f, const char *yaml, const char *dir)
{
    struct cjob_spec cs;
    struct expr_env e;
    enum ferr_code rc;

    rc = wf_load(f->a, "w.yml", span_cstr(yaml), &f->wf, &f->d, &f->err);
    assert_int_equal(rc, FERR_OK);
    memset(&e, 0, sizeof(e));
    e.contexts = f->ctx;
    cs.wj = &f->wf->jobs[0];
    cs.run_id = "42";
    cs.job_key = "0-wf-j";
    cs.job_dir = dir;
    cs.workspace = "/runs/42/0-wf-j/workspace";
    ferr_clear(&f->err);
    return cjob_new(&cs, &e, &f->c, &f->err);
}

/* Load @yaml (one job, "j") and plan it. */
static enum ferr_code plan(struct fx *f, const char *yaml)
{
    return plan_at(f, yaml, "/runs/42/0-wf-j");
}

/* Is the first of @hc's Mounts a bind of @dir at @dir? */
static bool mounts_dir(const json_t *hc, const char *dir)
{
    const json_t *m = json_array_get(json_object_get(hc, "Mounts"), 0);
    json_t *want = json_pack("{s:s, s:s, s:s}", "Type", "bind", "Source", dir,
                             "Target", dir);
    bool ok = json_equal((json_t *)m, want);

    json_decref(want);
    return ok;
}

static const json_t *job_create(struct fx *f)
{
    return json_object_get(json_object_get(cjob_plan(f->c), "job"), "create");
}

static const json_t *service(struct fx *f, size_t i)
{
    return json_array_get(json_object_get(cjob_plan(f->c), "services"), i);
}

static const char *str_at(const json_t *o, const char *k1, const char *k2)
{
    const json_t *v = json_object_get(o, k1);

    if (k2)
        v = json_object_get(v, k2);
    return json_string_value(v);
}

/* @s is @prefix then @hex lowercase hex digits (0: anything). */
static bool prefixed(const char *s, const char *prefix, size_t hex)
{
    size_t n = strlen(prefix);

    if (!s || strncmp(s, prefix, n) != 0)
        return false;
    if (!hex)
        return true;
    if (strlen(s + n) != hex)
        return false;
    return strspn(s + n, "0123456789abcdef") == hex;
}

static bool has_string(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach ((json_t *)arr, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

static void test_cjob_host_job_needs_nothing(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    assert_null(f->c);
}

static void test_cjob_container_image_idles_with_job_dir_mounted(void **state)
{
    struct fx *f = *state;
    const json_t *c;
    const json_t *hc;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container: localhost/base:1\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    assert_non_null(f->c);
    assert_true(cjob_has_container(f->c));
    c = job_create(f);
    hc = json_object_get(c, "HostConfig");
    assert_string_equal(str_at(c, "Image", NULL), "localhost/base:1");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(c, "Entrypoint"), 0)),
        "tail");
    assert_true(has_string(json_object_get(c, "Cmd"), "/dev/null"));
    assert_true(json_is_true(json_object_get(hc, "Init")));
    assert_true(has_string(json_object_get(hc, "Binds"),
                           "/runs/42/0-wf-j:/runs/42/0-wf-j"));
    assert_null(json_object_get(hc, "Mounts"));
    assert_string_equal(str_at(c, "WorkingDir", NULL),
                        "/runs/42/0-wf-j/workspace");
    assert_true(
        prefixed(str_at(hc, "NetworkMode", NULL), "ferry-42-0-wf-j-", 6));
    assert_string_equal(str_at(cjob_plan(f->c), "network", NULL),
                        str_at(hc, "NetworkMode", NULL));
    assert_string_equal(
        str_at(json_object_get(cjob_plan(f->c), "job"), "name", NULL),
        str_at(hc, "NetworkMode", NULL));
}

/* the set-up's report is written where the job container (which
 * writes its bind-mounted job directory) cannot plant a link or a FIFO */
static void test_cjob_result_is_outside_the_job_dir(void **state)
{
    struct fx *f = *state;
    const char *r;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container: alpine\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    r = str_at(cjob_plan(f->c), "result", NULL);
    assert_non_null(r);
    assert_false(prefixed(r, "/runs/42/0-wf-j/", 0));
    assert_true(prefixed(r, "/runs/42/", 0));
    assert_null(strchr(r + strlen("/runs/42/"), '/'));
}

/* a ':' in the job directory's path (FERRY_HOME) must not split a
 * "SRC:DST" bind into other paths */
static void test_cjob_job_dir_with_colon_is_mounted_exactly(void **state)
{
    struct fx *f = *state;
    const json_t *hc;
    size_t i;
    json_t *v;

    assert_int_equal(plan_at(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                                "    container: {image: a, volumes: "
                                "['/data:/data:ro']}\n"
                                "    steps:\n      - run: true\n",
                             "/srv/a:/etc/0-wf-j"),
                     FERR_OK);
    hc = json_object_get(job_create(f), "HostConfig");
    assert_true(mounts_dir(hc, "/srv/a:/etc/0-wf-j"));
    json_array_foreach (json_object_get(hc, "Binds"), i, v)
        assert_null(strstr(json_string_value(v), "/srv/a"));
    assert_true(has_string(json_object_get(hc, "Binds"), "/data:/data:ro"));
    cjob_free(f->c);
    f->c = NULL;
    /* Podman makes a ','-separated spec of a Mounts entry: refused */
    assert_int_equal(plan_at(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                                "    container: a\n"
                                "    steps:\n      - run: true\n",
                             "/srv/a:b,c/0-wf-j"),
                     FERR_UNSUPPORTED);
    assert_non_null(strstr(f->err.msg, "'/srv/a:b,c/0-wf-j'"));
}

static void test_cjob_labels_name_owner_run_and_job(void **state)
{
    struct fx *f = *state;
    const json_t *l;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container: {image: a, options: -l x=y}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    l = json_object_get(job_create(f), "Labels");
    assert_string_equal(str_at(l, DOCKER_LABEL_MANAGED, NULL), "1");
    assert_string_equal(str_at(l, DOCKER_LABEL_OWNER, NULL), docker_owner());
    assert_string_equal(str_at(l, DOCKER_LABEL_RUN, NULL), "42");
    assert_string_equal(str_at(l, DOCKER_LABEL_JOB, NULL), "0-wf-j");
    assert_string_equal(str_at(l, "x", NULL), "y");
    l = json_object_get(cjob_plan(f->c), "labels");
    assert_string_equal(str_at(l, DOCKER_LABEL_OWNER, NULL), docker_owner());
}

static void test_cjob_env_ports_volumes(void **state)
{
    struct fx *f = *state;
    const json_t *c;
    const json_t *pb;
    const json_t *b;

    assert_int_equal(
        plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                "    container:\n      image: a\n"
                "      env: {A: one, N: 3, T: true}\n"
                "      ports: ['8080:80', 5432, '0.0.0.0::53/udp',\n"
                "              '${{ matrix.port }}']\n"
                "      volumes: [/cache, 'named:/v', '/src:/dst:ro']\n"
                "    steps:\n      - run: true\n"),
        FERR_OK);
    c = job_create(f);
    assert_true(has_string(json_object_get(c, "Env"), "A=one"));
    assert_true(has_string(json_object_get(c, "Env"), "N=3"));
    assert_true(has_string(json_object_get(c, "Env"), "T=true"));
    pb = json_object_get(json_object_get(c, "HostConfig"), "PortBindings");
    b = json_array_get(json_object_get(pb, "80/tcp"), 0);
    assert_string_equal(str_at(b, "HostIp", NULL), "127.0.0.1");
    assert_string_equal(str_at(b, "HostPort", NULL), "8080");
    b = json_array_get(json_object_get(pb, "5432/tcp"), 0);
    assert_string_equal(str_at(b, "HostPort", NULL), "");
    b = json_array_get(json_object_get(pb, "53/udp"), 0);
    assert_string_equal(str_at(b, "HostIp", NULL), "0.0.0.0");
    assert_non_null(json_object_get(pb, "9000/tcp"));
    assert_non_null(
        json_object_get(json_object_get(c, "ExposedPorts"), "80/tcp"));
    assert_non_null(json_object_get(json_object_get(c, "Volumes"), "/cache"));
    b = json_object_get(json_object_get(c, "HostConfig"), "Binds");
    assert_true(has_string(b, "named:/v"));
    assert_true(has_string(b, "/src:/dst:ro"));
}

static void test_cjob_bad_port_is_an_error_at_its_key(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container:\n      image: a\n"
                             "      ports: ['99999']\n"
                             "    steps:\n      - run: true\n"),
                     FERR_INVALID);
    assert_null(f->c);
    assert_int_equal(f->err.pos.line, 7);
    assert_non_null(strstr(f->err.msg, "port '99999'"));
}

static void test_cjob_relative_volume_is_refused(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container: {image: a, volumes: [data]}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_INVALID);
    assert_non_null(strstr(f->err.msg, "absolute path"));
}

static void test_cjob_options_health_check_with_quotes(void **state)
{
    struct fx *f = *state;
    const json_t *s;
    const json_t *h;

    assert_int_equal(
        plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                "    services:\n      db:\n        image: pg\n"
                "        options: >-\n"
                "          --health-cmd \"pg_isready -U 'me'\"\n"
                "          --health-interval=1m30s --health-timeout 500ms\n"
                "          --health-retries 5 --health-start-period 2s\n"
                "    steps:\n      - run: true\n"),
        FERR_OK);
    assert_false(cjob_has_container(f->c));
    s = service(f, 0);
    h = json_object_get(json_object_get(s, "create"), "Healthcheck");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(h, "Test"), 0)),
        "CMD-SHELL");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(h, "Test"), 1)),
        "pg_isready -U 'me'");
    assert_int_equal(json_integer_value(json_object_get(h, "Interval")),
                     90000000000LL);
    assert_int_equal(json_integer_value(json_object_get(h, "Timeout")),
                     500000000LL);
    assert_int_equal(json_integer_value(json_object_get(h, "StartPeriod")),
                     2000000000LL);
    assert_int_equal(json_integer_value(json_object_get(h, "Retries")), 5);
    assert_true(json_equal(json_object_get(s, "health"), (json_t *)h));
}

static void test_cjob_options_resources_and_flags(void **state)
{
    struct fx *f = *state;
    const json_t *c;
    const json_t *hc;

    assert_int_equal(
        plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                "    container:\n      image: a\n"
                "      options: --cpus 1.5 -m 512m --privileged -e X=1\n"
                "        --user 1000 --hostname box --cap-add NET_ADMIN\n"
                "        --tmpfs /run:size=1m --no-healthcheck --init=true\n"
                "    steps:\n      - run: true\n"),
        FERR_OK);
    c = job_create(f);
    hc = json_object_get(c, "HostConfig");
    assert_int_equal(json_integer_value(json_object_get(hc, "NanoCpus")),
                     1500000000LL);
    assert_int_equal(json_integer_value(json_object_get(hc, "Memory")),
                     512LL * 1024 * 1024);
    assert_true(json_is_true(json_object_get(hc, "Privileged")));
    assert_true(has_string(json_object_get(c, "Env"), "X=1"));
    assert_string_equal(str_at(c, "User", NULL), "1000");
    assert_string_equal(str_at(c, "Hostname", NULL), "box");
    assert_true(has_string(json_object_get(hc, "CapAdd"), "NET_ADMIN"));
    assert_string_equal(str_at(hc, "Tmpfs", "/run"), "size=1m");
    assert_true(json_is_false(
        json_object_get(json_object_get(cjob_plan(f->c), "job"), "health")));
}

static void test_cjob_options_network_and_unknown_are_refused(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container: {image: a, options: "
                             "--network host}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_UNSUPPORTED);
    assert_non_null(strstr(f->err.msg, "--network"));
    cjob_free(f->c);
    f->c = NULL;
    arena_free(f->a);
    f->a = arena_new(4096);
    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container: {image: a, options: "
                             "--frobnicate}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_UNSUPPORTED);
    assert_non_null(strstr(f->err.msg, "'--frobnicate'"));
}

static void test_cjob_options_unterminated_quote(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container: {image: a, options: "
                             "\"--health-cmd 'x\"}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_INVALID);
    assert_non_null(strstr(f->err.msg, "unterminated"));
}

static void test_cjob_bad_duration(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container: {image: a, options: "
                             "--health-interval 10parsecs}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_INVALID);
    assert_non_null(strstr(f->err.msg, "--health-interval"));
}

/* retries * (interval + timeout) must stay in range: a health duration
 * over a day is refused (ferry waits an hour at most anyway) */
static void test_cjob_health_duration_over_a_day_is_refused(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    services:\n      db:\n        image: pg\n"
                             "        options: --health-cmd false "
                             "--health-interval 250000h "
                             "--health-timeout 250000h --health-retries 1000\n"
                             "    steps:\n      - run: true\n"),
                     FERR_INVALID);
    assert_non_null(strstr(f->err.msg, "--health-interval"));
    cjob_free(f->c);
    f->c = NULL;
    ferr_clear(&f->err);
    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    services:\n      db:\n        image: pg\n"
                             "        options: --health-cmd false "
                             "--health-start-period 24h\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
}

static void test_cjob_services_alias_and_empty_image(void **state)
{
    struct fx *f = *state;
    const json_t *s;
    const json_t *ep;
    const char *net;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container: a\n"
                             "    services:\n"
                             "      skipped: {image: ''}\n"
                             "      web: {image: httpd, env: {K: v}}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    assert_int_equal(
        json_array_size(json_object_get(cjob_plan(f->c), "services")), 1);
    s = service(f, 0);
    assert_string_equal(str_at(s, "key", NULL), "web");
    net = str_at(cjob_plan(f->c), "network", NULL);
    assert_true(prefixed(str_at(s, "name", NULL), net, 0));
    assert_string_equal(str_at(s, "name", NULL) + strlen(net), "-web");
    ep = json_object_get(
        json_object_get(json_object_get(s, "create"), "NetworkingConfig"),
        "EndpointsConfig");
    assert_true(has_string(json_object_get(json_object_get(ep, net), "Aliases"),
                           "web"));
    assert_null(json_object_get(json_object_get(s, "create"), "Entrypoint"));
    assert_true(has_string(json_object_get(json_object_get(s, "create"), "Env"),
                           "K=v"));
}

static void test_cjob_only_empty_services_run_on_the_host(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    services:\n      s: {image: ''}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    assert_null(f->c);
}

static void test_cjob_bad_service_id(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    services:\n      'a b': {image: x}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_INVALID);
    assert_non_null(strstr(f->err.msg, "'a b'"));
}

static void test_cjob_expressions_and_credentials(void **state)
{
    struct fx *f = *state;
    const json_t *j;
    const json_t *cr;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container:\n"
                             "      image: ${{ matrix.img }}\n"
                             "      credentials:\n"
                             "        username: me\n"
                             "        password: ${{ secrets.PW }}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    j = json_object_get(cjob_plan(f->c), "job");
    assert_string_equal(str_at(j, "image", NULL), "localhost/from-matrix:1");
    cr = json_object_get(j, "credentials");
    assert_string_equal(str_at(cr, "username", NULL), "me");
    assert_string_equal(str_at(cr, "password", NULL), "s3cret");
    assert_string_equal(str_at(cr, "server", NULL), "localhost");
    /* credentials never reach the create body */
    assert_null(json_object_get(job_create(f), "credentials"));
}

static void test_cjob_credentials_are_zeroed_when_freed(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container:\n"
                             "      image: localhost/a:1\n"
                             "      credentials:\n"
                             "        username: me\n"
                             "        password: ${{ secrets.PW }}\n"
                             "    services:\n"
                             "      db:\n"
                             "        image: localhost/db:1\n"
                             "        credentials:\n"
                             "          username: me\n"
                             "          password: s3cret\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    spying = true;
    freed_with_secret = 0;
    cjob_free(f->c);
    f->c = NULL;
    spying = false;
    assert_int_equal(freed_with_secret, 0);
    /* what the plan shared with the contexts is theirs: left intact */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(f->ctx, "secrets"),
                                          "PW")),
        "s3cret");
}

static void test_cjob_empty_image_runs_on_the_host(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container:\n"
                             "      image: ${{ matrix.none }}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    assert_null(f->c);
}

static void test_cjob_container_of_the_wrong_type(void **state)
{
    struct fx *f = *state;

    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n    runs-on: x\n"
                             "    container: ${{ fromJSON('[1]') }}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_INVALID);
    assert_null(f->c);
    assert_non_null(strstr(f->err.msg, "image name or a mapping"));
}

static void test_cjob_platform_maps_runs_on(void **state)
{
    struct fx *f = *state;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(cjob_platform_add("Ubuntu-Latest=localhost/u:1", &err),
                     FERR_OK);
    assert_int_equal(cjob_platform_add("self=-self-hosted", &err), FERR_OK);
    assert_int_equal(cjob_platform_add("nope", &err), FERR_USAGE);
    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n"
                             "    runs-on: [other, ubuntu-latest]\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    assert_non_null(f->c);
    assert_string_equal(
        str_at(json_object_get(cjob_plan(f->c), "job"), "image", NULL),
        "localhost/u:1");
}

static void test_cjob_platform_self_hosted_and_container_wins(void **state)
{
    struct fx *f = *state;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(cjob_platform_add("ubuntu-latest=localhost/u:1", &err),
                     FERR_OK);
    assert_int_equal(cjob_platform_add("self=-self-hosted", &err), FERR_OK);
    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n"
                             "    runs-on: {labels: [self, ubuntu-latest]}\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    assert_null(f->c);
    arena_free(f->a);
    f->a = arena_new(4096);
    assert_int_equal(plan(f, "on: push\njobs:\n  j:\n"
                             "    runs-on: ubuntu-latest\n"
                             "    container: mine\n"
                             "    steps:\n      - run: true\n"),
                     FERR_OK);
    assert_string_equal(
        str_at(json_object_get(cjob_plan(f->c), "job"), "image", NULL), "mine");
}

static void test_cjob_platforms_set_copies_strings(void **state)
{
    json_t *m = json_pack("{s:s, s:i, s:s}", "a", "img", "b", 3, "", "x");

    (void)state;
    cjob_platforms_set(m);
    json_decref(m);
    assert_int_equal(json_object_size(cjob_platforms()), 1);
    assert_string_equal(
        json_string_value(json_object_get(cjob_platforms(), "a")), "img");
}

static void test_cjob_names_are_engine_safe(void **state)
{
    struct fx *f = *state;
    struct cjob_spec cs;
    struct expr_env e;

    assert_int_equal(wf_load(f->a, "w.yml",
                             span_cstr("on: push\njobs:\n  j:\n"
                                       "    runs-on: x\n    container: a\n"
                                       "    steps:\n      - run: true\n"),
                             &f->wf, &f->d, &f->err),
                     FERR_OK);
    memset(&e, 0, sizeof(e));
    e.contexts = f->ctx;
    cs.wj = &f->wf->jobs[0];
    cs.run_id = "7";
    cs.job_key = "0-wf-t (a, b)";
    cs.job_dir = "/d";
    cs.workspace = "/d/w";
    assert_int_equal(cjob_new(&cs, &e, &f->c, &f->err), FERR_OK);
    assert_true(prefixed(str_at(cjob_plan(f->c), "network", NULL),
                         "ferry-7-0-wf-t--a--b--", 6));
}

static void test_cjob_long_keys_keep_their_difference(void **state)
{
    struct fx *f = *state;
    struct cjob_spec cs;
    struct expr_env e;
    char key[200];
    char *first;

    assert_int_equal(wf_load(f->a, "w.yml",
                             span_cstr("on: push\njobs:\n  j:\n"
                                       "    runs-on: x\n    container: a\n"
                                       "    steps:\n      - run: true\n"),
                             &f->wf, &f->d, &f->err),
                     FERR_OK);
    memset(&e, 0, sizeof(e));
    e.contexts = f->ctx;
    memset(key, 'k', sizeof(key) - 2);
    key[sizeof(key) - 2] = '1';
    key[sizeof(key) - 1] = '\0';
    cs.wj = &f->wf->jobs[0];
    cs.run_id = "7";
    cs.job_key = key;
    cs.job_dir = "/d";
    cs.workspace = "/d/w";
    assert_int_equal(cjob_new(&cs, &e, &f->c, &f->err), FERR_OK);
    first = strdup(str_at(cjob_plan(f->c), "network", NULL));
    assert_true(strlen(first) < 100);
    cjob_free(f->c);
    f->c = NULL;
    key[sizeof(key) - 2] = '2';
    assert_int_equal(cjob_new(&cs, &e, &f->c, &f->err), FERR_OK);
    assert_string_not_equal(first, str_at(cjob_plan(f->c), "network", NULL));
    free(first);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
        T(test_cjob_host_job_needs_nothing),
        T(test_cjob_container_image_idles_with_job_dir_mounted),
        T(test_cjob_labels_name_owner_run_and_job),
        T(test_cjob_env_ports_volumes),
        T(test_cjob_bad_port_is_an_error_at_its_key),
        T(test_cjob_relative_volume_is_refused),
        T(test_cjob_options_health_check_with_quotes),
        T(test_cjob_options_resources_and_flags),
        T(test_cjob_options_network_and_unknown_are_refused),
        T(test_cjob_options_unterminated_quote),
        T(test_cjob_bad_duration),
        T(test_cjob_job_dir_with_colon_is_mounted_exactly),
        T(test_cjob_result_is_outside_the_job_dir),
        T(test_cjob_health_duration_over_a_day_is_refused),
        T(test_cjob_services_alias_and_empty_image),
        T(test_cjob_only_empty_services_run_on_the_host),
        T(test_cjob_bad_service_id),
        T(test_cjob_expressions_and_credentials),
        T(test_cjob_credentials_are_zeroed_when_freed),
        T(test_cjob_empty_image_runs_on_the_host),
        T(test_cjob_container_of_the_wrong_type),
        T(test_cjob_platform_maps_runs_on),
        T(test_cjob_platform_self_hosted_and_container_wins),
        T(test_cjob_platforms_set_copies_strings),
        T(test_cjob_names_are_engine_safe),
        T(test_cjob_long_keys_keep_their_difference),
#undef T
    };

    json_set_alloc_funcs(malloc, spy_free);
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
