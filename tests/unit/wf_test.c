/* wf_test: loading every form of the workflow syntax into the model, and
 * the errors and warnings (with exact positions) for structural mistakes;
 * plus action.yml metadata. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/wf.h"
#include "util/buf.h"
#include "util/limits.h"

struct fx {
    struct arena *a;
    struct wf *wf;
    struct wf_action *act;
    struct diags d;
    struct ferr err;
    char out[8192];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    f->a = arena_new(4096);
    diags_init(&f->d);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    diags_release(&f->d);
    arena_free(f->a);
    free(f);
    return 0;
}

/* Every diagnostic as "file:line:col: level: msg", one per line. */
static const char *dump(struct fx *f)
{
    size_t off = 0;

    f->out[0] = '\0';
    for (size_t i = 0; i < f->d.n && off < sizeof(f->out); i++) {
        const struct diag *g = &f->d.v[i];
        int n = snprintf(f->out + off, sizeof(f->out) - off,
                         "%s:%u:%u: %s: %s\n", g->pos.file ? g->pos.file : "-",
                         (unsigned)g->pos.line, (unsigned)g->pos.col,
                         g->level == DIAG_ERROR ? "error" : "warning", g->msg);

        if (n < 0)
            break;
        off += (size_t)n;
    }
    return f->out;
}

static enum ferr_code load_span(struct fx *f, struct span src)
{
    diags_release(&f->d);
    ferr_clear(&f->err);
    return wf_load(f->a, "w.yml", src, &f->wf, &f->d, &f->err);
}

static enum ferr_code load(struct fx *f, const char *src)
{
    return load_span(f, span_cstr(src));
}

static enum ferr_code load_action(struct fx *f, const char *src)
{
    diags_release(&f->d);
    ferr_clear(&f->err);
    return wf_load_action(f->a, "action.yml", span_cstr(src), &f->act, &f->d,
                          &f->err);
}

static char *fmt_pos(struct pos p, char *out, size_t n)
{
    snprintf(out, n, "%s:%u:%u", p.file, (unsigned)p.line, (unsigned)p.col);
    return out;
}

#define assert_pos(p, want)                                                 \
    do {                                                                    \
        char b_[64];                                                        \
        assert_string_equal(fmt_pos((p), b_, sizeof(b_)), (want));          \
    } while (0)

/* A minimal valid job, for tests about other keys. */
#define JOB "jobs:\n  b:\n    runs-on: x\n    steps:\n      - run: make\n"

static const char full[] =
    "name: CI\n"                                          /* 1 */
    "run-name: CI for ${{ github.ref }}\n"
    "on:\n"
    "  push:\n"
    "    branches: [main, 'releases/**']\n"                /* 5 */
    "    tags: ['v*']\n"
    "    paths-ignore: ['docs/**']\n"
    "  pull_request:\n"
    "    types: [opened, synchronize]\n"
    "    paths: ['src/**']\n"                              /* 10 */
    "  schedule:\n"
    "    - cron: '0 3 * * 1'\n"
    "    - cron: '*/15 * * * *'\n"
    "  workflow_dispatch:\n"
    "    inputs:\n"                                        /* 15 */
    "      level:\n"
    "        description: Log level\n"
    "        required: true\n"
    "        default: warning\n"
    "        type: choice\n"                               /* 20 */
    "        options: [info, warning]\n"
    "env:\n"
    "  CI: true\n"
    "  NAME: ferry\n"
    "defaults:\n"                                         /* 25 */
    "  run:\n"
    "    shell: bash\n"
    "    working-directory: src\n"
    "concurrency:\n"
    "  group: ci-${{ github.ref }}\n"                     /* 30 */
    "  cancel-in-progress: true\n"
    "permissions:\n"
    "  contents: read\n"
    "jobs:\n"
    "  build:\n"                                          /* 35 */
    "    name: Build ${{ matrix.os }}\n"
    "    runs-on: ${{ matrix.os }}\n"
    "    timeout-minutes: 30\n"
    "    continue-on-error: false\n"
    "    env:\n"                                          /* 40 */
    "      GOFLAGS: -mod=vendor\n"
    "    defaults:\n"
    "      run:\n"
    "        shell: sh\n"
    "    outputs:\n"                                      /* 45 */
    "      version: ${{ steps.ver.outputs.version }}\n"
    "    strategy:\n"
    "      fail-fast: false\n"
    "      max-parallel: 2\n"
    "      matrix:\n"                                     /* 50 */
    "        os: [ubuntu-latest, macos-latest]\n"
    "        go: ['1.21', '1.22']\n"
    "        include:\n"
    "          - os: ubuntu-latest\n"
    "            experimental: true\n"                    /* 55 */
    "        exclude:\n"
    "          - os: macos-latest\n"
    "            go: '1.21'\n"
    "    container:\n"
    "      image: golang:1.22\n"                          /* 60 */
    "      options: --cpus 2\n"
    "    services:\n"
    "      redis:\n"
    "        image: redis:7\n"
    "        ports: ['6379:6379']\n"                      /* 65 */
    "    steps:\n"
    "      - uses: actions/checkout@v4\n"
    "        with:\n"
    "          fetch-depth: 0\n"
    "      - id: ver\n"                                   /* 70 */
    "        name: Version\n"
    "        run: echo \"version=1.0\" >> \"$GITHUB_OUTPUT\"\n"
    "        shell: bash\n"
    "        working-directory: .\n"
    "        env:\n"                                      /* 75 */
    "          X: 1\n"
    "        continue-on-error: true\n"
    "        timeout-minutes: 5\n"
    "        if: github.event_name == 'push'\n"
    "  deploy:\n"                                         /* 80 */
    "    needs: build\n"
    "    if: ${{ github.ref == 'refs/heads/main' }}\n"
    "    runs-on: [self-hosted, linux]\n"
    "    environment:\n"
    "      name: production\n"                            /* 85 */
    "      url: https://example.com\n"
    "    concurrency: deploy\n"
    "    steps:\n"
    "      - run: ./deploy.sh ${{ needs.build.outputs.version }}\n";

static void test_wf_load_full_workflow(void **state)
{
    struct fx *f = *state;
    const struct wf *wf;
    const struct wf_trigger *t;

    assert_int_equal(load(f, full), FERR_OK);
    assert_string_equal(dump(f), "");
    wf = f->wf;
    assert_string_equal(wf->path, "w.yml");
    assert_string_equal(wf->name, "CI");
    assert_string_equal(wf->run_name, "CI for ${{ github.ref }}");
    assert_int_equal(wf->ntriggers, 4);
    assert_string_equal(wf->defaults_shell, "bash");
    assert_string_equal(wf->defaults_wd, "src");
    assert_string_equal(node_get(wf->env, "NAME", NULL)->str, "ferry");
    assert_int_equal(wf->concurrency->kind, NODE_MAP);

    t = wf_trigger_find(wf, "push");
    assert_non_null(t);
    assert_int_equal(t->branches.n, 2);
    assert_string_equal(t->branches.v[1], "releases/**");
    assert_pos(t->branches.nodes[1]->pos, "w.yml:5:22");
    assert_int_equal(t->tags.n, 1);
    assert_true(t->paths_ignore.set);
    assert_false(t->paths.set);
    t = wf_trigger_find(wf, "pull_request");
    assert_int_equal(t->types.n, 2);
    assert_string_equal(t->types.v[0], "opened");
    assert_string_equal(t->paths.v[0], "src/**");
    t = wf_trigger_find(wf, "schedule");
    assert_int_equal(t->crons.n, 2);
    assert_string_equal(t->crons.v[1], "*/15 * * * *");
    assert_pos(t->crons.nodes[0]->pos, "w.yml:12:13");
    t = wf_trigger_find(wf, "workflow_dispatch");
    assert_non_null(t->inputs);
    assert_non_null(node_get(t->inputs, "level", NULL));
    assert_null(wf_trigger_find(wf, "release"));
}

static void test_wf_load_full_jobs(void **state)
{
    struct fx *f = *state;
    const struct wf_job *j;
    const struct wf_step *s;

    assert_int_equal(load(f, full), FERR_OK);
    assert_int_equal(f->wf->njobs, 2);
    j = wf_job_find(f->wf, "build");
    assert_ptr_equal(j, &f->wf->jobs[0]);
    assert_pos(j->pos, "w.yml:35:3");
    assert_string_equal(j->name, "Build ${{ matrix.os }}");
    assert_false(j->needs.set);
    assert_null(j->if_expr);
    assert_string_equal(j->runs_on->str, "${{ matrix.os }}");
    assert_string_equal(j->timeout_minutes->str, "30");
    assert_string_equal(j->continue_on_error->str, "false");
    assert_string_equal(j->defaults_shell, "sh");
    assert_null(j->defaults_wd);
    assert_non_null(node_get(j->outputs, "version", NULL));
    assert_int_equal(j->matrix->kind, NODE_MAP);
    assert_int_equal(node_get(j->matrix, "os", NULL)->n, 2);
    assert_string_equal(j->fail_fast->str, "false");
    assert_string_equal(j->max_parallel->str, "2");
    assert_non_null(node_get(j->container, "image", NULL));
    assert_non_null(node_get(j->services, "redis", NULL));
    assert_null(j->uses);
    assert_int_equal(j->nsteps, 2);

    s = &j->steps[0];
    assert_string_equal(s->uses, "actions/checkout@v4");
    assert_null(s->run);
    assert_null(s->id);
    assert_string_equal(node_get(s->with, "fetch-depth", NULL)->str, "0");
    assert_pos(s->pos, "w.yml:67:9");
    s = &j->steps[1];
    assert_int_equal(s->index, 1);
    assert_string_equal(s->id, "ver");
    assert_string_equal(s->name, "Version");
    assert_string_equal(s->run, "echo \"version=1.0\" >> \"$GITHUB_OUTPUT\"");
    assert_string_equal(s->shell, "bash");
    assert_string_equal(s->working_directory, ".");
    assert_string_equal(node_get(s->env, "X", NULL)->str, "1");
    assert_string_equal(s->continue_on_error->str, "true");
    assert_string_equal(s->timeout_minutes->str, "5");
    assert_string_equal(s->if_expr, "github.event_name == 'push'");
    assert_pos(s->if_node->pos, "w.yml:79:13");

    j = wf_job_find(f->wf, "deploy");
    assert_int_equal(j->needs.n, 1);
    assert_string_equal(j->needs.v[0], "build");
    assert_pos(j->needs.nodes[0]->pos, "w.yml:81:12");
    assert_string_equal(j->if_expr, "${{ github.ref == 'refs/heads/main' }}");
    assert_int_equal(j->runs_on->kind, NODE_SEQ);
    assert_string_equal(node_get(j->environment, "name", NULL)->str,
                        "production");
    assert_string_equal(j->concurrency->str, "deploy");
    assert_null(wf_job_find(f->wf, "nope"));
}

static void test_wf_on_string(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n" JOB), FERR_OK);
    assert_int_equal(f->wf->ntriggers, 1);
    assert_string_equal(f->wf->triggers[0].event, "push");
    assert_null(f->wf->triggers[0].node);
    assert_false(f->wf->triggers[0].branches.set);
}

static void test_wf_on_list(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: [push, pull_request, workflow_dispatch]\n"
                             JOB), FERR_OK);
    assert_int_equal(f->wf->ntriggers, 3);
    assert_string_equal(f->wf->triggers[1].event, "pull_request");
    assert_non_null(wf_trigger_find(f->wf, "workflow_dispatch"));
}

static void test_wf_on_list_duplicate_warns(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: [push, push]\n" JOB), FERR_OK);
    assert_string_equal(dump(f),
                        "w.yml:1:12: warning: event 'push' is listed twice\n");
    assert_int_equal(f->wf->ntriggers, 1);
}

static void test_wf_on_mapping_filters(void **state)
{
    struct fx *f = *state;
    const struct wf_trigger *t;

    assert_int_equal(load(f, "on:\n"
                             "  push:\n"
                             "    branches: main\n"
                             "    tags-ignore: ['v0.*']\n"
                             "    paths: ['**.c', '!docs/**']\n"
                             "  pull_request_target:\n"
                             "    branches-ignore: [wip]\n"
                             "  release:\n"
                             "    types: [published]\n"
                             "  workflow_run:\n"
                             "    workflows: [CI]\n"
                             "    types: [completed]\n"
                             "    branches: [main]\n"
                             "  fork:\n" JOB),
                     FERR_OK);
    assert_string_equal(dump(f), "");
    t = wf_trigger_find(f->wf, "push");
    assert_int_equal(t->branches.n, 1);
    assert_string_equal(t->branches.v[0], "main");
    assert_pos(t->branches.nodes[0]->pos, "w.yml:3:15");
    assert_int_equal(t->tags_ignore.n, 1);
    assert_int_equal(t->paths.n, 2);
    assert_string_equal(t->paths.v[1], "!docs/**");
    t = wf_trigger_find(f->wf, "pull_request_target");
    assert_string_equal(t->branches_ignore.v[0], "wip");
    t = wf_trigger_find(f->wf, "release");
    assert_string_equal(t->types.v[0], "published");
    t = wf_trigger_find(f->wf, "workflow_run");
    assert_string_equal(t->branches.v[0], "main");
    t = wf_trigger_find(f->wf, "fork");
    assert_null(t->node);
}

static void test_wf_on_filter_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on:\n"
                             "  push:\n"
                             "    branches: [main]\n"
                             "    branches-ignore: [x]\n"
                             "    paths: {a: b}\n"
                             "    types: [opened]\n"
                             "    branch: main\n"
                             "  pull_request: yes-please\n" JOB),
                     FERR_INVALID);
    assert_string_equal(
        dump(f),
        "w.yml:6:5: warning: unknown key 'types' in 'on.push'\n"
        "w.yml:7:5: warning: unknown key 'branch' in 'on.push' (did you mean "
        "'branches'?)\n"
        "w.yml:5:12: error: 'paths' must be a string or a sequence of "
        "strings, got a mapping\n"
        "w.yml:4:5: error: 'branches' and 'branches-ignore' cannot both be "
        "used for 'push'\n"
        "w.yml:8:17: error: 'on.pull_request' must be a mapping, got a "
        "string\n");
    assert_null(f->wf);
    assert_int_equal(f->err.code, FERR_INVALID);
    assert_int_equal(f->err.pos.line, 5);
}

static void test_wf_on_schedule(void **state)
{
    struct fx *f = *state;
    const struct wf_trigger *t;

    assert_int_equal(load(f, "on:\n  schedule:\n    - cron: \"30 5 * * 1-5\"\n"
                             JOB), FERR_OK);
    t = wf_trigger_find(f->wf, "schedule");
    assert_int_equal(t->crons.n, 1);
    assert_string_equal(t->crons.v[0], "30 5 * * 1-5");
    assert_pos(t->crons.nodes[0]->pos, "w.yml:3:13");
}

static void test_wf_on_schedule_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on:\n  schedule:\n    cron: '* * * * *'\n" JOB),
                     FERR_INVALID);
    assert_string_equal(dump(f), "w.yml:3:5: error: 'on.schedule' must be a "
                                 "sequence of '- cron: ...' entries, got a "
                                 "mapping\n");
    assert_int_equal(load(f, "on:\n  schedule:\n    - crn: '* * * * *'\n"
                             "    - cron: [1]\n" JOB),
                     FERR_INVALID);
    assert_string_equal(dump(f),
                        "w.yml:3:7: warning: unknown key 'crn' in "
                        "'on.schedule' (did you mean 'cron'?)\n"
                        "w.yml:3:7: error: 'on.schedule' entry is missing "
                        "'cron'\n"
                        "w.yml:4:13: error: 'cron' must be a string, got a "
                        "sequence\n");
}

static void test_wf_on_unknown_event_warns(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: [pushh, totally_new]\n" JOB), FERR_OK);
    assert_string_equal(dump(f),
                        "w.yml:1:6: warning: unknown event 'pushh' (did you "
                        "mean 'push'?)\n"
                        "w.yml:1:13: warning: unknown event 'totally_new'\n");
    assert_int_equal(f->wf->ntriggers, 2);
}

static void test_wf_on_empty_is_error(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on:\n" JOB), FERR_INVALID);
    /* the empty value sits right after the colon */
    assert_string_equal(dump(f), "w.yml:1:4: error: 'on' must name at least "
                                 "one event\n");
}

static void test_wf_workflow_dispatch_inputs(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on:\n"
                             "  workflow_dispatch:\n"
                             "    inputs:\n"
                             "      env:\n"
                             "        type: environment\n"
                             "      dry:\n"
                             "        type: boolean\n"
                             "        default: false\n"
                             "      n:\n" JOB),
                     FERR_OK);
    assert_string_equal(dump(f), "");
    assert_int_equal(load(f, "on:\n"
                             "  workflow_dispatch:\n"
                             "    inputs:\n"
                             "      a:\n"
                             "        type: text\n"
                             "      b:\n"
                             "        type: choice\n"
                             "      9c:\n"
                             "        descripton: x\n" JOB),
                     FERR_INVALID);
    assert_string_equal(
        dump(f),
        "w.yml:5:15: error: input 'a' has unknown type 'text' (expected "
        "string, boolean, choice, number or environment)\n"
        "w.yml:7:9: error: input 'b' of type 'choice' needs 'options' (a "
        "non-empty sequence)\n"
        "w.yml:8:7: error: invalid input id '9c': must start with a letter "
        "or '_' and contain only letters, digits, '-' and '_'\n"
        "w.yml:9:9: warning: unknown key 'descripton' in input '9c' (did you "
        "mean 'description'?)\n");
}

static void test_wf_workflow_call(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on:\n"
                             "  workflow_call:\n"
                             "    inputs:\n"
                             "      tag:\n"
                             "        type: string\n"
                             "        required: true\n"
                             "    outputs:\n"
                             "      v:\n"
                             "        value: ${{ jobs.b.outputs.v }}\n"
                             "    secrets:\n"
                             "      token:\n"
                             "        required: true\n"
                             "      other:\n" JOB),
                     FERR_OK);
    assert_string_equal(dump(f), "");
    assert_non_null(wf_trigger_find(f->wf, "workflow_call")->inputs);
    assert_int_equal(load(f, "on:\n"
                             "  workflow_call:\n"
                             "    inputs:\n"
                             "      tag:\n"
                             "        required: maybe\n"
                             "    outputs:\n"
                             "      v:\n"
                             "        description: x\n" JOB),
                     FERR_INVALID);
    assert_string_equal(
        dump(f),
        "w.yml:5:19: error: 'required' must be a boolean or an expression, "
        "got a string\n"
        "w.yml:5:9: error: input 'tag' is missing 'type'\n"
        "w.yml:8:9: error: output 'v' is missing 'value'\n");
}

static void test_wf_needs_forms(void **state)
{
    struct fx *f = *state;
    const struct wf_job *j;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    runs-on: x\n"
                             "    steps: [{run: a}]\n"
                             "  b:\n"
                             "    needs: a\n"
                             "    runs-on: x\n"
                             "    steps: [{run: b}]\n"
                             "  c:\n"
                             "    needs: [a, b]\n"
                             "    runs-on: x\n"
                             "    steps: [{run: c}]\n"),
                     FERR_OK);
    j = wf_job_find(f->wf, "b");
    assert_true(j->needs.set);
    assert_int_equal(j->needs.n, 1);
    assert_pos(j->needs.nodes[0]->pos, "w.yml:7:12");
    j = wf_job_find(f->wf, "c");
    assert_int_equal(j->needs.n, 2);
    assert_string_equal(j->needs.v[1], "b");
    assert_pos(j->needs.nodes[1]->pos, "w.yml:11:16");
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    needs: [{x: y}]\n"
                             "    runs-on: x\n"
                             "    steps: [{run: a}]\n"),
                     FERR_INVALID);
    assert_string_equal(dump(f), "w.yml:4:13: error: 'needs' entries must be "
                                 "strings, got a mapping\n");
}

static void test_wf_if_keeps_plain_scalar_text(void **state)
{
    struct fx *f = *state;
    const struct wf_job *j;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  b:\n"
                             "    if: false\n"
                             "    runs-on: x\n"
                             "    steps:\n"
                             "      - run: a\n"
                             "        if: 1\n"
                             "      - run: b\n"
                             "        if: ${{ always() }}\n"),
                     FERR_OK);
    j = &f->wf->jobs[0];
    assert_string_equal(j->if_expr, "false");
    assert_int_equal(j->if_node->style, NODE_PLAIN);
    assert_string_equal(j->steps[0].if_expr, "1");
    assert_string_equal(j->steps[1].if_expr, "${{ always() }}");
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  b:\n"
                             "    if: [a]\n"
                             "    runs-on: x\n"
                             "    steps: [{run: a}]\n"),
                     FERR_INVALID);
    assert_string_equal(dump(f), "w.yml:4:9: error: 'if' must be a string, "
                                 "got a sequence\n");
}

static void test_wf_type_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  b:\n"
                             "    runs-on: x\n"
                             "    timeout-minutes:\n"
                             "      a: 1\n"
                             "    continue-on-error: sometimes\n"
                             "    steps:\n"
                             "      - run: a\n"
                             "        timeout-minutes: '5'\n"
                             "        env: [A=1]\n"
                             "        with: {x: [1]}\n"),
                     FERR_INVALID);
    assert_string_equal(
        dump(f),
        "w.yml:7:24: error: 'continue-on-error' must be a boolean or an "
        "expression, got a string\n"
        "w.yml:6:7: error: 'timeout-minutes' must be a number or an "
        "expression, got a mapping\n"
        "w.yml:11:14: error: 'env' must be a mapping, got a sequence\n"
        "w.yml:12:19: error: 'with.x' must be a string, got a sequence\n"
        "w.yml:10:26: error: 'timeout-minutes' must be a number or an "
        "expression, got a string\n"
        "w.yml:12:15: warning: 'with' is ignored in a 'run' step; use "
        "'env'\n");
    /* expressions are accepted for typed keys */
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  b:\n"
                             "    runs-on: x\n"
                             "    timeout-minutes: ${{ inputs.t }}\n"
                             "    continue-on-error: ${{ matrix.x }}\n"
                             "    steps: [{run: a}]\n"),
                     FERR_OK);
}

static void test_wf_unknown_keys_warn_with_suggestion(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "nmae: x\n"
                             "frobnicate: 1\n"
                             "jobs:\n"
                             "  build:\n"
                             "    runs-on: x\n"
                             "    stpes: []\n"),
                     FERR_INVALID);
    assert_string_equal(
        dump(f),
        "w.yml:2:1: warning: unknown key 'nmae' in workflow (did you mean "
        "'name'?)\n"
        "w.yml:3:1: warning: unknown key 'frobnicate' in workflow\n"
        "w.yml:7:5: warning: unknown key 'stpes' in job 'build' (did you "
        "mean 'steps'?)\n"
        "w.yml:5:3: error: job 'build' has no 'steps'\n");
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  b:\n"
                             "    runs-on: x\n"
                             "    steps:\n"
                             "      - run: a\n"
                             "        working_directory: x\n"),
                     FERR_OK);
    assert_string_equal(dump(f), "w.yml:7:9: warning: unknown key "
                                 "'working_directory' in step 1 of job 'b' "
                                 "(did you mean 'working-directory'?)\n");
}

static void test_wf_job_id_rule(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  _build-2_x:\n"
                             "    runs-on: x\n"
                             "    steps: [{run: a}]\n"),
                     FERR_OK);
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  2build:\n"
                             "    runs-on: x\n"
                             "    steps: [{run: a}]\n"
                             "  'a b':\n"
                             "    runs-on: x\n"
                             "    steps: [{run: a}]\n"),
                     FERR_INVALID);
    assert_string_equal(
        dump(f),
        "w.yml:3:3: error: invalid job id '2build': must start with a letter "
        "or '_' and contain only letters, digits, '-' and '_'\n"
        "w.yml:6:3: error: invalid job id 'a b': must start with a letter "
        "or '_' and contain only letters, digits, '-' and '_'\n");
}

static void test_wf_job_shape_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a: hello\n"
                             "  b:\n"
                             "    steps: [{run: a}]\n"
                             "  c:\n"
                             "    runs-on: x\n"
                             "    steps: []\n"),
                     FERR_INVALID);
    assert_string_equal(dump(f),
                        "w.yml:3:6: error: job 'a' must be a mapping, got a "
                        "string\n"
                        "w.yml:4:3: error: job 'b' is missing 'runs-on'\n"
                        "w.yml:8:12: error: job 'c' has no steps\n");
}

static void test_wf_step_ids_unique(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  b:\n"
                             "    runs-on: x\n"
                             "    steps:\n"
                             "      - id: one\n"
                             "        run: a\n"
                             "      - id: two\n"
                             "        run: a\n"
                             "      - id: one\n"
                             "        run: a\n"
                             "      - id: 'bad id'\n"
                             "        run: a\n"),
                     FERR_INVALID);
    assert_string_equal(
        dump(f),
        "w.yml:10:13: error: step id 'one' is already used by step 1 of job "
        "'b'\n"
        "w.yml:12:13: error: invalid step id 'bad id': must start with a "
        "letter or '_' and contain only letters, digits, '-' and '_'\n");
    /* the same id in two jobs is fine */
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    runs-on: x\n"
                             "    steps: [{id: s, run: a}]\n"
                             "  b:\n"
                             "    runs-on: x\n"
                             "    steps: [{id: s, run: a}]\n"),
                     FERR_OK);
}

static void test_wf_step_needs_one_of_run_uses(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  b:\n"
                             "    runs-on: x\n"
                             "    steps:\n"
                             "      - run: a\n"
                             "        uses: actions/checkout@v4\n"
                             "      - name: nothing\n"
                             "      - run:\n"
                             "      - hello\n"),
                     FERR_INVALID);
    assert_string_equal(
        dump(f),
        "w.yml:6:9: error: step 1 of job 'b' has both 'run' and 'uses'\n"
        "w.yml:8:9: error: step 2 of job 'b' must have 'run' or 'uses'\n"
        "w.yml:9:13: error: 'run' must not be empty\n"
        "w.yml:10:9: error: step 4 of job 'b' must be a mapping, got a "
        "string\n");
}

static void test_wf_matrix_forms(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    strategy:\n"
                             "      matrix: ${{ fromJSON(inputs.m) }}\n"
                             "    runs-on: x\n"
                             "    steps: [{run: a}]\n"
                             "  b:\n"
                             "    strategy:\n"
                             "      matrix:\n"
                             "        os: ${{ fromJSON(inputs.os) }}\n"
                             "        node: [{v: 1}, {v: 2}]\n"
                             "        include: ${{ fromJSON(inputs.inc) }}\n"
                             "    runs-on: x\n"
                             "    steps: [{run: a}]\n"),
                     FERR_OK);
    assert_int_equal(f->wf->jobs[0].matrix->kind, NODE_SCALAR);
    assert_int_equal(f->wf->jobs[1].matrix->kind, NODE_MAP);
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    strategy:\n"
                             "      matrix:\n"
                             "        os: ubuntu\n"
                             "        include: {os: x}\n"
                             "        exclude: [a]\n"
                             "      fail-fast: no\n"
                             "      max-parallel: two\n"
                             "    runs-on: x\n"
                             "    steps: [{run: a}]\n"
                             "  b:\n"
                             "    strategy:\n"
                             "      matrix: ubuntu\n"
                             "    runs-on: x\n"
                             "    steps: [{run: a}]\n"),
                     FERR_INVALID);
    assert_string_equal(
        dump(f),
        "w.yml:6:13: error: matrix 'os' must be a sequence or an expression, "
        "got a string\n"
        "w.yml:7:18: error: 'include' must be a sequence of mappings or an "
        "expression, got a mapping\n"
        "w.yml:8:19: error: 'exclude' entries must be mappings, got a "
        "string\n"
        "w.yml:9:18: error: 'fail-fast' must be a boolean or an expression, "
        "got a string\n"
        "w.yml:10:21: error: 'max-parallel' must be a number or an "
        "expression, got a string\n"
        "w.yml:15:15: error: 'matrix' must be a mapping or an expression, "
        "got a string\n");
}

static void test_wf_reusable_workflow_job(void **state)
{
    struct fx *f = *state;
    const struct wf_job *j;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  call:\n"
                             "    uses: ./.github/workflows/build.yml\n"
                             "    with:\n"
                             "      level: 3\n"
                             "    secrets: inherit\n"
                             "    permissions: read-all\n"),
                     FERR_OK);
    j = &f->wf->jobs[0];
    assert_string_equal(j->uses, "./.github/workflows/build.yml");
    assert_string_equal(node_get(j->with, "level", NULL)->str, "3");
    assert_string_equal(j->secrets->str, "inherit");
    assert_int_equal(j->nsteps, 0);
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  call:\n"
                             "    uses: o/r/.github/workflows/b.yml@v1\n"
                             "    runs-on: x\n"
                             "    secrets: [a]\n"
                             "  plain:\n"
                             "    runs-on: x\n"
                             "    with: {a: 1}\n"
                             "    steps: [{run: a}]\n"),
                     FERR_INVALID);
    assert_string_equal(
        dump(f),
        "w.yml:5:5: error: 'runs-on' cannot be used in job 'call', which "
        "calls a reusable workflow\n"
        "w.yml:6:14: error: 'secrets' must be 'inherit' or a mapping, got a "
        "sequence\n"
        "w.yml:9:5: error: 'with' can only be used in a job that calls a "
        "reusable workflow ('uses')\n");
}

static void test_wf_missing_on_and_jobs(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "name: x\n"), FERR_INVALID);
    assert_string_equal(dump(f),
                        "w.yml:1:1: error: workflow is missing 'on' (the "
                        "events that trigger it)\n"
                        "w.yml:1:1: error: workflow is missing 'jobs'\n");
    assert_int_equal(load(f, "on: push\njobs: {}\n"), FERR_INVALID);
    assert_string_equal(dump(f), "w.yml:2:7: error: 'jobs' must define at "
                                 "least one job\n");
}

static void test_wf_root_must_be_mapping(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "- on\n- jobs\n"), FERR_INVALID);
    assert_string_equal(dump(f), "w.yml:1:1: error: workflow must be a "
                                 "mapping, got a sequence\n");
    assert_int_equal(load(f, ""), FERR_INVALID);
    assert_string_equal(dump(f), "w.yml:1:1: error: workflow is empty\n");
}

static void test_wf_yaml_error_is_reported(void **state)
{
    struct fx *f = *state;
    char msg[600];

    assert_int_equal(load(f, "on: push\njobs:\n  b:\n    runs-on: x\n"
                             "    steps: [\n"),
                     FERR_PARSE);
    assert_int_equal(f->d.n, 1);
    assert_int_equal(f->d.nerrors, 1);
    assert_int_equal(f->err.pos.line, 6);
    ferr_format(&f->err, msg, sizeof(msg));
    assert_non_null(strstr(msg, "w.yml:6:1: "));
    assert_int_equal(load(f, "on: push\non: pull_request\n"), FERR_PARSE);
    assert_string_equal(dump(f), "w.yml:2:1: error: duplicate key 'on' "
                                 "(first at line 1)\n");
}

static void test_wf_env_values_must_be_scalars(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "env:\n"
                             "  A: 1\n"
                             "  B: [x]\n" JOB),
                     FERR_INVALID);
    assert_string_equal(dump(f), "w.yml:4:6: error: 'env.B' must be a "
                                 "string, number or boolean, got a "
                                 "sequence\n");
}

static void test_wf_concurrency_forms(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\nconcurrency: ci\n" JOB), FERR_OK);
    assert_string_equal(f->wf->concurrency->str, "ci");
    assert_int_equal(load(f, "on: push\n"
                             "concurrency:\n"
                             "  cancel-in-progress: ${{ true }}\n" JOB),
                     FERR_INVALID);
    assert_string_equal(dump(f), "w.yml:3:3: error: 'concurrency' of the "
                                 "workflow is missing 'group'\n");
}

static void test_wf_runs_on_forms(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    runs-on: {group: big, labels: [linux]}\n"
                             "    steps: [{run: a}]\n"
                             "  b:\n"
                             "    runs-on: [self-hosted, x64]\n"
                             "    steps: [{run: a}]\n"),
                     FERR_OK);
    assert_string_equal(dump(f), "");
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    runs-on:\n"
                             "    steps: [{run: a}]\n"
                             "  b:\n"
                             "    runs-on: [[x]]\n"
                             "    steps: [{run: a}]\n"),
                     FERR_INVALID);
    assert_string_equal(dump(f),
                        "w.yml:4:13: error: 'runs-on' must name a runner\n"
                        "w.yml:7:15: error: 'runs-on' entries must be "
                        "strings, got a sequence\n");
}

static void test_wf_container_and_services(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    runs-on: x\n"
                             "    container: node:20\n"
                             "    services:\n"
                             "      pg:\n"
                             "        image: postgres:16\n"
                             "        env: {POSTGRES_PASSWORD: x}\n"
                             "        credentials: {username: u, password: "
                             "p}\n"
                             "    steps: [{run: a}]\n"),
                     FERR_OK);
    assert_string_equal(f->wf->jobs[0].container->str, "node:20");
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    runs-on: x\n"
                             "    services: ${{ fromJSON(inputs.svc) }}\n"
                             "    steps: [{run: a, shell: '${{ env.SH }}'}]\n"),
                     FERR_OK);
    assert_int_equal(f->wf->jobs[0].services->kind, NODE_SCALAR);
    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    runs-on: x\n"
                             "    container:\n"
                             "      options: --rm\n"
                             "    services:\n"
                             "      pg: postgres\n"
                             "    steps: [{run: a}]\n"),
                     FERR_INVALID);
    assert_string_equal(dump(f),
                        "w.yml:6:7: error: 'container' is missing 'image'\n"
                        "w.yml:8:11: error: service 'pg' must be a mapping, "
                        "got a string\n");
}

static void test_wf_anchors_share_steps(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load(f, "on: push\n"
                             "jobs:\n"
                             "  a:\n"
                             "    runs-on: x\n"
                             "    steps: &steps\n"
                             "      - run: make\n"
                             "  b:\n"
                             "    runs-on: y\n"
                             "    steps: *steps\n"),
                     FERR_OK);
    assert_int_equal(f->wf->jobs[1].nsteps, 1);
    assert_string_equal(f->wf->jobs[1].steps[0].run, "make");
}

static void test_wf_size_limits(void **state)
{
    struct fx *f = *state;
    struct buf b;
    char *big = calloc(1, LIM_WORKFLOW_BYTES + 2);

    memset(big, ' ', LIM_WORKFLOW_BYTES + 1);
    assert_int_equal(load_span(f, span_of(big, LIM_WORKFLOW_BYTES + 1)),
                     FERR_LIMIT);
    assert_string_equal(dump(f), "w.yml:1:1: error: workflow is larger than "
                                 "1048576 bytes\n");
    free(big);
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_adds(&b, "on: push\njobs:\n"), FERR_OK);
    for (unsigned i = 0; i <= LIM_JOBS; i++)
        assert_int_equal(buf_addf(&b, "  j%u: {runs-on: x, steps: "
                                      "[{run: a}]}\n", i),
                         FERR_OK);
    assert_int_equal(load(f, buf_cstr(&b)), FERR_LIMIT);
    assert_string_equal(dump(f), "w.yml:3:3: error: workflow has more than "
                                 "1000 jobs\n");
    buf_release(&b);
}

static void test_wf_alias_repetition_is_bounded(void **state)
{
    struct fx *f = *state;
    struct buf b;

    /* one 1000-entry env named by 999 jobs: small file, much work */
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_adds(&b, "on: push\njobs:\n  j0:\n    runs-on: x\n"
                                  "    steps: [{run: a}]\n    env: &e\n"),
                     FERR_OK);
    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(buf_addf(&b, "      V%u: x\n", i), FERR_OK);
    for (unsigned i = 1; i < 1000; i++)
        assert_int_equal(buf_addf(&b, "  j%u: {runs-on: x, env: *e, steps: "
                                      "[{run: a}]}\n", i),
                         FERR_OK);
    assert_int_equal(load(f, buf_cstr(&b)), FERR_LIMIT);
    assert_null(f->wf);
    assert_non_null(strstr(dump(f), "error: workflow is too large to load: "
                                    "aliases repeat more than 800000 "
                                    "entries\n"));
    assert_int_equal(f->d.nerrors, 1);
    buf_release(&b);
}

static void test_wf_action_composite(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load_action(f, "name: Greet\n"
                                    "description: says hi\n"
                                    "inputs:\n"
                                    "  who:\n"
                                    "    description: whom\n"
                                    "    default: world\n"
                                    "outputs:\n"
                                    "  said:\n"
                                    "    value: ${{ steps.s.outputs.x }}\n"
                                    "runs:\n"
                                    "  using: composite\n"
                                    "  steps:\n"
                                    "    - id: s\n"
                                    "      run: echo hi ${{ inputs.who }}\n"
                                    "      shell: bash\n"),
                     FERR_OK);
    assert_string_equal(dump(f), "");
    assert_string_equal(f->act->name, "Greet");
    assert_string_equal(f->act->using, "composite");
    assert_int_equal(f->act->nsteps, 1);
    assert_string_equal(f->act->steps[0].shell, "bash");
    assert_non_null(node_get(f->act->inputs, "who", NULL));
    assert_int_equal(load_action(f, "name: x\n"
                                    "runs:\n"
                                    "  using: composite\n"
                                    "  steps:\n"
                                    "    - run: echo hi\n"),
                     FERR_INVALID);
    assert_null(f->act);
    assert_string_equal(dump(f), "action.yml:5:12: error: step 1 of the "
                                 "action has 'run' but no 'shell' (composite "
                                 "actions require one)\n");
}

static void test_wf_action_node_and_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load_action(f, "name: n\n"
                                    "runs:\n"
                                    "  using: node20\n"
                                    "  main: dist/index.js\n"
                                    "  post: dist/post.js\n"
                                    "  post-if: success()\n"),
                     FERR_OK);
    assert_string_equal(f->act->main, "dist/index.js");
    assert_string_equal(f->act->post, "dist/post.js");
    assert_string_equal(f->act->post_if, "success()");
    assert_int_equal(load_action(f, "name: n\n"
                                    "runs:\n"
                                    "  using: node20\n"),
                     FERR_INVALID);
    assert_string_equal(dump(f), "action.yml:3:3: error: 'runs' of a "
                                 "'node20' action is missing 'main'\n");
    assert_int_equal(load_action(f, "runs:\n  using: java\n"), FERR_INVALID);
    assert_string_equal(dump(f),
                        "action.yml:1:1: warning: action has no 'name'\n"
                        "action.yml:2:10: error: unknown 'using' value 'java' "
                        "(expected composite, docker or node20)\n");
}

static void test_wf_suggest(void **state)
{
    static const char *const words[] = { "steps", "needs", "runs-on", NULL };

    (void)state;
    assert_string_equal(wf_suggest("stpes", 5, words), "steps");
    assert_string_equal(wf_suggest("Needs", 5, words), "needs");
    assert_string_equal(wf_suggest("runs_on", 7, words), "runs-on");
    assert_null(wf_suggest("xyz", 3, words));
    assert_null(wf_suggest("", 0, words));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_wf_load_full_workflow),
        T(test_wf_load_full_jobs),
        T(test_wf_on_string),
        T(test_wf_on_list),
        T(test_wf_on_list_duplicate_warns),
        T(test_wf_on_mapping_filters),
        T(test_wf_on_filter_errors),
        T(test_wf_on_schedule),
        T(test_wf_on_schedule_errors),
        T(test_wf_on_unknown_event_warns),
        T(test_wf_on_empty_is_error),
        T(test_wf_workflow_dispatch_inputs),
        T(test_wf_workflow_call),
        T(test_wf_needs_forms),
        T(test_wf_if_keeps_plain_scalar_text),
        T(test_wf_type_errors),
        T(test_wf_unknown_keys_warn_with_suggestion),
        T(test_wf_job_id_rule),
        T(test_wf_job_shape_errors),
        T(test_wf_step_ids_unique),
        T(test_wf_step_needs_one_of_run_uses),
        T(test_wf_matrix_forms),
        T(test_wf_reusable_workflow_job),
        T(test_wf_missing_on_and_jobs),
        T(test_wf_root_must_be_mapping),
        T(test_wf_yaml_error_is_reported),
        T(test_wf_env_values_must_be_scalars),
        T(test_wf_concurrency_forms),
        T(test_wf_runs_on_forms),
        T(test_wf_container_and_services),
        T(test_wf_anchors_share_steps),
        T(test_wf_size_limits),
        T(test_wf_alias_repetition_is_bounded),
        T(test_wf_action_composite),
        T(test_wf_action_node_and_errors),
        T(test_wf_suggest),
#undef T
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
