/* lint_test: each lint rule with a case that triggers it and one that
 * must not, every finding checked with its exact file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/lint.h"
#include "util/buf.h"

struct fx {
    struct arena *a;
    struct diags d;
    char out[16384];
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

/* Load @src (which must load cleanly), lint it with @flags and return
 * every finding as "file:line:col: level: msg" lines. */
static const char *lint(struct fx *f, const char *src, unsigned flags)
{
    struct wf *wf = NULL;
    struct ferr err;
    size_t off = 0;

    diags_release(&f->d);
    ferr_clear(&err);
    if (wf_load(f->a, "l.yml", span_cstr(src), &wf, &f->d, &err)) {
        char msg[600];

        print_error("wf_load failed: %s\n",
                    ferr_format(&err, msg, sizeof(msg)));
        fail();
    }
    diags_release(&f->d);
    lint_wf(wf, flags, &f->d);
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

#define HEAD "on: push\njobs:\n"

static const char clean[] =
    "name: CI\n"
    "run-name: CI for ${{ github.ref_name }} by ${{ github.actor }}\n"
    "on:\n"
    "  push:\n"
    "    branches: [main, 'releases/**', '!releases/old']\n"
    "    paths-ignore: ['docs/**', '*.md']\n"
    "  pull_request:\n"
    "    types: [opened, synchronize]\n"
    "  schedule:\n"
    "    - cron: '0 3 * * 1-5'\n"
    "  workflow_dispatch:\n"
    "    inputs:\n"
    "      level:\n"
    "        type: choice\n"
    "        options: [info, debug]\n"
    "env:\n"
    "  REGISTRY: ghcr.io\n"
    "  TOKEN: ${{ secrets.TOKEN }}\n"
    "concurrency:\n"
    "  group: ci-${{ github.ref }}\n"
    "  cancel-in-progress: ${{ github.event_name == 'pull_request' }}\n"
    "jobs:\n"
    "  build:\n"
    "    name: build (${{ matrix.os }}, go ${{ matrix.go }})\n"
    "    runs-on: ${{ matrix.os }}\n"
    "    timeout-minutes: ${{ inputs.level == 'debug' && 60 || 30 }}\n"
    "    env:\n"
    "      CGO: ${{ matrix.cgo }}\n"
    "    outputs:\n"
    "      version: ${{ steps.ver.outputs.version }}\n"
    "    strategy:\n"
    "      fail-fast: ${{ github.event_name != 'push' }}\n"
    "      matrix:\n"
    "        os: [ubuntu-latest, macos-latest]\n"
    "        go: ['1.21', '1.22']\n"
    "        include:\n"
    "          - os: ubuntu-latest\n"
    "            cgo: 1\n"
    "        exclude:\n"
    "          - os: macos-latest\n"
    "            go: '1.21'\n"
    "    steps:\n"
    "      - uses: actions/checkout@v4\n"
    "      - uses: actions/cache@v4\n"
    "        with:\n"
    "          path: ~/.cache/go-build\n"
    "          key: go-${{ runner.os }}-${{ hashFiles('**/go.sum') }}\n"
    "      - id: ver\n"
    "        run: echo \"version=$(git describe)\" >> \"$GITHUB_OUTPUT\"\n"
    "      - name: Test on ${{ runner.os }}\n"
    "        if: success() && steps.ver.outputs.version != ''\n"
    "        run: go test ./... -v=${{ inputs.level == 'debug' }}\n"
    "        env:\n"
    "          TITLE: ${{ github.event.pull_request.title }}\n"
    "          V: ${{ steps.ver.outputs.version }}\n"
    "      - run: echo \"$TITLE\"\n"
    "        env:\n"
    "          TITLE: ${{ github.event.head_commit.message }}\n"
    "  deploy:\n"
    "    needs: [build]\n"
    "    if: ${{ always() && needs.build.result == 'success' }}\n"
    "    runs-on: ubuntu-latest\n"
    "    environment:\n"
    "      name: production\n"
    "      url: ${{ steps.dep.outputs.url }}\n"
    "    steps:\n"
    "      - id: dep\n"
    "        run: ./deploy.sh ${{ needs.build.outputs.version }}\n"
    "      - uses: actions/github-script@v7\n"
    "        with:\n"
    "          script: console.log(process.env.TITLE)\n"
    "        env:\n"
    "          TITLE: ${{ github.event.issue.title }}\n"
    "  call:\n"
    "    needs: deploy\n"
    "    uses: ./.github/workflows/notify.yml\n"
    "    with:\n"
    "      ref: ${{ github.ref }}\n"
    "    secrets: inherit\n";

static void test_lint_clean_workflow_has_no_diagnostics(void **state)
{
    struct fx *f = *state;

    assert_string_equal(lint(f, clean, LINT_SECURITY), "");
    assert_string_equal(lint(f, clean, 0), "");
}

static void test_lint_expression_syntax_error(void **state)
{
    struct fx *f = *state;

    assert_string_equal(lint(f, HEAD "  b:\n"
                                     "    runs-on: x\n"
                                     "    steps:\n"
                                     "      - run: echo ${{ github.sha == }}\n",
                             0),
                        "l.yml:6:37: error: unexpected end of expression\n");
}

static void test_lint_unterminated_expression(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  b:\n"
                     "    runs-on: x\n"
                     "    steps:\n"
                     "      - run: |\n"
                     "          echo ${{ github.sha }}\n"
                     "          echo ${{ github.ref\n",
             0),
        "l.yml:8:16: error: expression '${{' is not closed with '}}'\n");
    assert_string_equal(lint(f, HEAD "  b:\n"
                                     "    runs-on: x\n"
                                     "    steps:\n"
                                     "      - run: echo '${ {x}}'\n",
                             0),
                        "");
}

static void test_lint_job_if_contexts(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  b:\n"
                     "    if: ${{ env.DEPLOY == 'yes' }}\n"
                     "    runs-on: x\n"
                     "    steps:\n"
                     "      - run: a\n"
                     "        if: env.DEPLOY == 'yes' && "
                     "runner.os == 'Linux'\n",
             0),
        "l.yml:4:13: error: named-value 'env' is not allowed here "
        "('jobs.<job_id>.if' can use github, vars, needs, inputs)\n");
}

static void test_lint_secrets_not_in_step_if(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  b:\n"
                     "    runs-on: x\n"
                     "    steps:\n"
                     "      - run: deploy --token ${{ secrets.T }}\n"
                     "        if: secrets.T != ''\n",
             0),
        "l.yml:7:13: error: named-value 'secrets' is not allowed here "
        "('jobs.<job_id>.steps.if' can use github, env, vars, job, steps, "
        "runner, strategy, matrix, needs, inputs)\n");
}

static void test_lint_special_functions_by_key(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  b:\n"
                     "    name: n-${{ hashFiles('go.sum') }}\n"
                     "    runs-on: x\n"
                     "    if: always()\n"
                     "    steps:\n"
                     "      - run: echo ${{ failure() }}\n"
                     "      - run: echo ${{ hashFiles('go.sum') }}\n"
                     "        if: cancelled() || hashFiles('x') != ''\n",
             0),
        "l.yml:4:17: error: function 'hashFiles' is not allowed here\n"
        "l.yml:8:23: error: function 'failure' is not allowed here\n");
}

static void test_lint_workflow_level_contexts(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, "run-name: deploy ${{ secrets.X }}\n"
                "env:\n"
                "  A: ${{ secrets.X }}\n"
                "  B: ${{ matrix.x }}\n" HEAD "  b:\n"
                "    runs-on: x\n"
                "    steps: [{run: a}]\n",
             0),
        "l.yml:1:22: error: named-value 'secrets' is not allowed here "
        "('run-name' can use github, vars, inputs)\n"
        "l.yml:4:10: error: named-value 'matrix' is not allowed here "
        "('env' can use github, vars, secrets, inputs)\n");
}

static void test_lint_strategy_contexts(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  b:\n"
                     "    strategy:\n"
                     "      matrix:\n"
                     "        v: ['${{ inputs.v }}', '${{ matrix.w }}']\n"
                     "    runs-on: x\n"
                     "    steps: [{run: a}]\n",
             0),
        "l.yml:6:37: error: named-value 'matrix' is not allowed here "
        "('jobs.<job_id>.strategy' can use github, vars, needs, inputs)\n");
}

static void test_lint_container_contexts(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  b:\n"
                     "    runs-on: x\n"
                     "    container:\n"
                     "      image: ${{ runner.os }}\n"
                     "      env: {A: '${{ runner.os }}'}\n"
                     "      credentials: {password: '${{ secrets.P }}'}\n"
                     "    steps: [{run: a}]\n",
             0),
        "l.yml:6:18: error: named-value 'runner' is not allowed here "
        "('jobs.<job_id>.container' can use github, vars, strategy, matrix, "
        "needs, inputs)\n");
}

static void test_lint_needs_unknown_job(void **state)
{
    struct fx *f = *state;

    assert_string_equal(lint(f, HEAD "  build:\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n"
                                     "  test:\n"
                                     "    needs: [build, biuld, nothing]\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n",
                             0),
                        "l.yml:7:20: error: job 'test' needs unknown job "
                        "'biuld' (did you mean 'build'?)\n"
                        "l.yml:7:27: error: job 'test' needs unknown job "
                        "'nothing'\n");
}

static void test_lint_needs_itself(void **state)
{
    struct fx *f = *state;

    assert_string_equal(lint(f, HEAD "  a:\n"
                                     "    needs: a\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n",
                             0),
                        "l.yml:4:12: error: job 'a' needs itself\n");
}

static void test_lint_needs_cycle_is_named(void **state)
{
    struct fx *f = *state;

    assert_string_equal(lint(f, HEAD "  a:\n"
                                     "    needs: b\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n"
                                     "  b:\n"
                                     "    needs: [c]\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n"
                                     "  c:\n"
                                     "    needs: [a]\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n"
                                     "  d:\n"
                                     "    needs: [a, c]\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n",
                             0),
                        "l.yml:12:13: error: cycle in needs: a -> b -> c -> "
                        "a\n");
    /* a diamond is not a cycle */
    assert_string_equal(lint(f, HEAD "  a:\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n"
                                     "  b:\n"
                                     "    needs: a\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n"
                                     "  c:\n"
                                     "    needs: a\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n"
                                     "  d:\n"
                                     "    needs: [b, c]\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n",
                             0),
                        "");
}

static void test_lint_needs_reference_not_listed(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  a:\n"
                     "    runs-on: x\n"
                     "    steps: [{run: a}]\n"
                     "  b:\n"
                     "    runs-on: x\n"
                     "    steps: [{run: a}]\n"
                     "  c:\n"
                     "    needs: a\n"
                     "    if: needs.b.result == 'success'\n"
                     "    runs-on: x\n"
                     "    steps:\n"
                     "      - run: echo ${{ needs.a.outputs.v }} "
                     "${{ needs.b.outputs.v }}\n",
             0),
        "l.yml:11:9: warning: 'needs.b' is used but job 'c' does not list "
        "'b' in 'needs'\n"
        "l.yml:14:44: warning: 'needs.b' is used but job 'c' does not list "
        "'b' in 'needs'\n");
}

static void test_lint_steps_reference_must_be_earlier(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  a:\n"
                     "    runs-on: x\n"
                     "    outputs:\n"
                     "      v: ${{ steps.late.outputs.v }}\n"
                     "      w: ${{ steps.nope.outputs.v }}\n"
                     "    steps:\n"
                     "      - id: early\n"
                     "        run: echo ${{ steps.late.outputs.v }}\n"
                     "      - id: late\n"
                     "        run: echo ${{ steps.early.outputs.v }}\n",
             0),
        "l.yml:7:10: warning: 'steps.nope' refers to no step with id 'nope' "
        "in job 'a'\n"
        "l.yml:10:19: warning: 'steps.late' refers to no step with id 'late' "
        "before this in job 'a'\n");
}

static void test_lint_cron(void **state)
{
    struct fx *f = *state;
    const char *out;

    out = lint(f, "on:\n"
                  "  schedule:\n"
                  "    - cron: '0 3 * * *'\n"
                  "    - cron: '0 25 * * *'\n"
                  "jobs:\n"
                  "  b:\n"
                  "    runs-on: x\n"
                  "    steps: [{run: a}]\n",
               0);
    assert_non_null(strstr(out, "l.yml:4:16: error: "));
    assert_null(strstr(out, "l.yml:3:"));
    assert_int_equal(f->d.n, 1);
}

static void test_lint_filter_patterns(void **state)
{
    struct fx *f = *state;
    const char *out;

    out = lint(f, "on:\n"
                  "  push:\n"
                  "    branches: ['feature/**', 'fix/[abc']\n"
                  "    paths: ['!src/[x']\n"
                  "jobs:\n"
                  "  b:\n"
                  "    runs-on: x\n"
                  "    steps: [{run: a}]\n",
               0);
    assert_int_equal(f->d.n, 2);
    assert_non_null(strstr(out, "l.yml:3:35: error: invalid filter pattern "
                                "'fix/[abc'"));
    assert_non_null(strstr(out, "l.yml:4:19: error: invalid filter pattern "
                                "'src/[x'"));
}

static void test_lint_matrix_must_expand(void **state)
{
    struct fx *f = *state;
    const char *out;

    assert_string_equal(lint(f, HEAD "  b:\n"
                                     "    strategy:\n"
                                     "      matrix:\n"
                                     "        os: []\n"
                                     "        go: [1]\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n",
                             0),
                        "l.yml:6:13: error: matrix 'os' of job 'b' has no "
                        "values\n");
    assert_string_equal(lint(f, HEAD "  b:\n"
                                     "    strategy:\n"
                                     "      matrix:\n"
                                     "        exclude: [{os: x}]\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n",
                             0),
                        "l.yml:5:7: error: matrix of job 'b' defines no "
                        "values\n");
    out = lint(f, HEAD "  b:\n"
                       "    strategy:\n"
                       "      matrix:\n"
                       "        os: [a, b]\n"
                       "        exclude: [{arch: x}]\n"
                       "    runs-on: x\n"
                       "    steps: [{run: a}]\n",
               0);
    assert_int_equal(f->d.n, 1);
    assert_non_null(strstr(out, "l.yml:5:7: error: matrix exclude key "
                                "'arch'"));
    /* an expression matrix is not expanded here */
    assert_string_equal(lint(f, HEAD "  b:\n"
                                     "    strategy:\n"
                                     "      matrix:\n"
                                     "        os: ${{ fromJSON(inputs.os) }}\n"
                                     "        exclude: [{arch: x}]\n"
                                     "    runs-on: x\n"
                                     "    steps: [{run: a}]\n",
                             0),
                        "");
}

static void test_lint_matrix_references(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  a:\n"
                     "    strategy:\n"
                     "      matrix:\n"
                     "        os: [x]\n"
                     "        include: [{os: x, extra: 1}]\n"
                     "    runs-on: ${{ matrix.os }}-${{ matrix.extra }}\n"
                     "    steps:\n"
                     "      - run: echo ${{ matrix.oss }}\n"
                     "  b:\n"
                     "    runs-on: x\n"
                     "    steps:\n"
                     "      - run: echo ${{ matrix.os }}\n",
             0),
        "l.yml:10:19: warning: 'matrix.oss' is not defined in the matrix of "
        "job 'a'\n"
        "l.yml:14:19: warning: 'matrix.os' is used but job 'b' has no "
        "matrix\n");
}

static void test_lint_script_injection_in_run(void **state)
{
    struct fx *f = *state;
    static const char src[] =
        HEAD "  b:\n"
             "    runs-on: x\n"
             "    steps:\n"
             "      - run: |\n"
             "          echo \"${{ github.event.issue.title }}\"\n"
             "          git checkout ${{ github.head_ref }}\n"
             "          echo ${{ github.sha }} ${{ github.event.number }}\n";

    assert_string_equal(
        lint(f, src, LINT_SECURITY),
        "l.yml:7:17: error: script injection: untrusted "
        "'github.event.issue.title' is expanded into 'run'; pass it through "
        "an environment variable instead (env: VALUE: ${{ "
        "github.event.issue.title }}, then use \"$VALUE\")\n"
        "l.yml:8:24: error: script injection: untrusted 'github.head_ref' is "
        "expanded into 'run'; pass it through an environment variable "
        "instead (env: VALUE: ${{ github.head_ref }}, then use \"$VALUE\")\n");
    /* ferry run does not ask for the security checks */
    assert_string_equal(lint(f, src, 0), "");
}

static void test_lint_script_injection_paths(void **state)
{
    struct fx *f = *state;
    const char *out;

    out = lint(f, HEAD "  b:\n"
                       "    runs-on: x\n"
                       "    steps:\n"
                       "      - run: >\n"
                       "          echo ${{ github.event.pull_request."
                       "head.ref }}\n"
                       "          ${{ github.event.commits[0].message }}\n"
                       "          ${{ github.event.pages.*.page_name }}\n"
                       "          ${{ github.event.comment.body }}\n"
                       "          ${{ github.event.workflow_run."
                       "head_branch }}\n"
                       "          ${{ github.event.head_commit.author."
                       "email }}\n"
                       "          ${{ github.event.pull_request.head.repo."
                       "default_branch }}\n"
                       "          ${{ github.event.pull_request.head.sha }}\n"
                       "          ${{ github.event.issue.number }}\n",
               LINT_SECURITY);
    assert_int_equal(f->d.n, 7);
    assert_non_null(strstr(out, "l.yml:7:16: error: script injection: "
                                "untrusted 'github.event.pull_request.head."
                                "ref'"));
    assert_non_null(strstr(out, "'github.event.commits.0.message'"));
    assert_non_null(strstr(out, "'github.event.pages.*.page_name'"));
    assert_non_null(strstr(out, "l.yml:10:11: error: script injection: "
                                "untrusted 'github.event.comment.body'"));
    assert_null(strstr(out, "head.sha"));
    assert_null(strstr(out, "issue.number"));
}

static void test_lint_script_injection_github_script(void **state)
{
    struct fx *f = *state;
    static const char src[] =
        HEAD "  b:\n"
             "    runs-on: x\n"
             "    steps:\n"
             "      - uses: actions/github-script@v7\n"
             "        with:\n"
             "          github-token: ${{ github.event.issue.title }}\n"
             "          script: console.log('${{ "
             "github.event.issue.body }}')\n";

    assert_string_equal(
        lint(f, src, LINT_SECURITY),
        "l.yml:9:32: error: script injection: untrusted "
        "'github.event.issue.body' is expanded into 'with.script'; pass it "
        "through an environment variable instead (env: VALUE: ${{ "
        "github.event.issue.body }}, then use \"$VALUE\")\n");
}

static void test_lint_if_with_text_outside_expression(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  b:\n"
                     "    runs-on: x\n"
                     "    steps:\n"
                     "      - run: a\n"
                     "        if: ${{ false }} && true\n"
                     "      - run: a\n"
                     "        if: '  ${{ github.ref == 1 }}  '\n",
             0),
        "l.yml:7:13: warning: 'if' has text outside ${{ }}, so it is a "
        "non-empty string and always true; put the whole condition inside "
        "one ${{ }}\n");
}

static void test_lint_uses_checks(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, HEAD "  b:\n"
                     "    runs-on: x\n"
                     "    steps:\n"
                     "      - uses: actions/checkout\n"
                     "      - uses: actions/cache@${{ inputs.v }}\n"
                     "      - uses: ./local/action\n"
                     "      - uses: docker://alpine:3\n"
                     "      - uses: org/repo/sub/dir@main\n",
             0),
        "l.yml:6:15: error: 'uses' must be 'owner/repo@ref', "
        "'owner/repo/path@ref', './path' or 'docker://image', got "
        "'actions/checkout'\n"
        "l.yml:7:29: error: expressions are not allowed in 'uses'\n");
}

static void test_lint_workflow_call_outputs_jobs(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, "on:\n"
                "  workflow_call:\n"
                "    outputs:\n"
                "      a:\n"
                "        value: ${{ jobs.b.outputs.v }}\n"
                "      c:\n"
                "        value: ${{ jobs.nope.outputs.v }}\n"
                "jobs:\n"
                "  b:\n"
                "    runs-on: x\n"
                "    steps: [{run: a}]\n",
             0),
        "l.yml:7:16: warning: 'jobs.nope' refers to a job that does not "
        "exist\n");
}

static void test_lint_shared_alias_reported_once(void **state)
{
    struct fx *f = *state;

    assert_string_equal(lint(f, HEAD "  a:\n"
                                     "    runs-on: x\n"
                                     "    env: &e {A: '${{ runner.os }}'}\n"
                                     "    steps: [{run: a}]\n"
                                     "  b:\n"
                                     "    runs-on: x\n"
                                     "    env: *e\n"
                                     "    steps: [{run: a}]\n",
                             0),
                        "l.yml:5:22: error: named-value 'runner' is not "
                        "allowed here ('jobs.<job_id>.env' can use github, "
                        "vars, secrets, strategy, matrix, needs, inputs)\n");
}

static void test_lint_alias_bomb_is_bounded(void **state)
{
    struct fx *f = *state;
    const char *out;

    out = lint(f, HEAD "  b:\n"
                       "    strategy:\n"
                       "      matrix:\n"
                       "        a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "        f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "        g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                       "        h: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                       "    runs-on: x\n"
                       "    steps: [{run: a}]\n",
               0);
    assert_non_null(strstr(out, "aliases expand to more than 200000 "
                                "values"));
    assert_non_null(strstr(out, "too many values to check"));
}

static void test_lint_repeated_big_value_is_bounded(void **state)
{
    struct fx *f = *state;
    struct buf b;

    /* one 256 KiB value named by 999 jobs: lint charges its bytes each
     * time and gives up with one warning instead of crawling */
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_adds(&b, HEAD "  j0:\n    runs-on: x\n"
                                       "    steps: [{run: a}]\n"
                                       "    env: &e\n      A: "),
                     FERR_OK);
    for (unsigned i = 0; i < 256 * 1024; i++)
        assert_int_equal(buf_addch(&b, 'x'), FERR_OK);
    assert_int_equal(buf_addch(&b, '\n'), FERR_OK);
    for (unsigned i = 1; i < 1000; i++)
        assert_int_equal(buf_addf(&b, "  j%u: {runs-on: x, env: *e, steps: "
                                      "[{run: a}]}\n", i),
                         FERR_OK);
    assert_string_equal(lint(f, buf_cstr(&b), LINT_SECURITY),
                        "l.yml:1:1: warning: workflow has too many values to "
                        "check (aliases repeat them); the rest was "
                        "skipped\n");
    buf_release(&b);
}

/* ---- ferry's own actions ---- */

#define STEPS HEAD "  j:\n    runs-on: x\n    steps:\n"

static void test_lint_ferry_report_unknown_input_suggests(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/report@v1\n"
                   "        with:\n"
                   "          coverage: cov.xml\n"
                   "          min-covrage: 80\n",
             0),
        "l.yml:9:11: error: unknown input 'min-covrage' for ferry/report "
        "(did you mean 'min-coverage'?)\n");
}

static void test_lint_ferry_unknown_input_lists_valid_ones(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/gate@v1\n"
                   "        with:\n"
                   "          sarif: x.sarif\n"
                   "          colour: red\n",
             0),
        "l.yml:9:11: error: unknown input 'colour' for ferry/gate (valid "
        "inputs: sarif, bandit, severity, max-findings, name)\n");
}

static void test_lint_ferry_long_input_list_points_at_docs(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/deploy@v1\n"
                   "        with:\n"
                   "          environment: s\n"
                   "          command: ./app\n"
                   "          wibble: 1\n",
             0),
        "l.yml:10:11: error: unknown input 'wibble' for ferry/deploy (its "
        "inputs are in docs/deploy.md)\n");
}

static void test_lint_ferry_inputs_are_case_insensitive(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/report@v1\n"
                   "        with:\n"
                   "          JUnit: junit.xml\n"
                   "          Min-Coverage: 80\n"
                   "          COVERAGE: cov.xml\n",
             0),
        "");
}

static void test_lint_ferry_deploy_required_inputs(void **state)
{
    struct fx *f = *state;

    /* no environment; target process (the default) needs command */
    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/deploy@v1\n"
                   "        with:\n"
                   "          strategy: canary\n",
             0),
        "l.yml:6:15: error: missing input 'environment' required by "
        "ferry/deploy\n"
        "l.yml:6:15: error: missing input 'command' required by "
        "ferry/deploy with target 'process' (the default)\n"
        "l.yml:6:15: error: missing input 'proxy' required by ferry/deploy "
        "with strategy 'canary'\n");
    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/deploy@v1\n"
                   "        with:\n"
                   "          environment: s\n"
                   "          target: script\n",
             0),
        "l.yml:6:15: error: missing input 'deploy' required by "
        "ferry/deploy with target 'script'\n");
    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/deploy@v1\n"
                   "        with:\n"
                   "          environment: s\n"
                   "          target: container\n"
                   "          image: r/app@sha256:00\n"
                   "          username: u\n",
             0),
        "l.yml:6:15: error: missing input 'password' required by "
        "ferry/deploy with input 'username'\n");
}

static void test_lint_ferry_no_with_at_all(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f, STEPS "      - uses: ferry/image@v1\n", 0),
        "l.yml:6:15: error: missing input 'name' required by ferry/image\n");
    assert_string_equal(
        lint(f, STEPS "      - uses: ferry/report@v1\n", 0),
        "l.yml:6:15: error: missing input 'junit' or 'coverage' required by "
        "ferry/report\n");
}

static void test_lint_ferry_blank_input_is_not_given(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/image@v1\n"
                   "        with:\n"
                   "          name: ''\n"
                   "          tags:\n",
             0),
        "l.yml:6:15: error: missing input 'name' required by ferry/image\n");
}

static void test_lint_ferry_expression_values_are_fine(void **state)
{
    struct fx *f = *state;

    /* an expression gives the input; one that decides the target leaves
     * the target's own requirement to the step */
    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/deploy@v1\n"
                   "        with:\n"
                   "          environment: ${{ github.ref_name }}\n"
                   "          target: ${{ github.event_name }}\n"
                   "          strategy: ${{ github.event_name }}\n"
                   "      - uses: ferry/report@v1\n"
                   "        with:\n"
                   "          junit: ${{ github.workspace }}/junit.xml\n"
                   "          min-coverage: ${{ 70 }}\n"
                   "          coverage: ${{ github.workspace }}/c.xml\n",
             0),
        "");
    /* the values' expressions are still checked */
    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/image@v1\n"
                   "        with:\n"
                   "          name: ${{ nope.x }}\n",
             0),
        "l.yml:8:21: error: unrecognized named-value 'nope' "
        "('jobs.<job_id>.steps.with' can use github, env, vars, job, "
        "steps, runner, secrets, strategy, matrix, needs, inputs)\n");
}

static void test_lint_ferry_uses_expression_not_checked(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/${{ matrix.a }}@v1\n"
                   "        with:\n"
                   "          anything: 1\n",
             0),
        "l.yml:6:21: error: expressions are not allowed in 'uses'\n");
}

static void test_lint_ferry_unknown_action_and_version(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/deplo@v1\n"
                   "        with:\n"
                   "          environment: s\n"
                   "      - uses: ferry/deploy@v2\n"
                   "        with:\n"
                   "          environment: s\n"
                   "      - uses: ferry/xyz@v1\n"
                   "      - uses: Ferry/Gate@v1\n",
             0),
        "l.yml:6:15: error: unknown action 'ferry/deplo' (did you mean "
        "'ferry/deploy'?)\n"
        "l.yml:9:15: error: 'ferry/deploy' has no version 'v2' (use "
        "'ferry/deploy@v1')\n"
        "l.yml:12:15: error: unknown action 'ferry/xyz': ferry's own "
        "actions are ferry/deploy, ferry/report, ferry/gate and "
        "ferry/image\n"
        "l.yml:13:15: error: unknown action 'Ferry/Gate' (did you mean "
        "'ferry/gate'?)\n");
}

static void test_lint_ferry_valid_steps_are_clean(void **state)
{
    struct fx *f = *state;

    assert_string_equal(
        lint(f,
             STEPS "      - uses: ferry/deploy@v1\n"
                   "        with:\n"
                   "          environment: staging\n"
                   "          command: ./app\n"
                   "          strategy: blue-green\n"
                   "          proxy: ferry:127.0.0.1:9001\n"
                   "      - uses: ferry/deploy@v1\n"
                   "        with:\n"
                   "          environment: x\n"
                   "          target: script\n"
                   "          deploy: ./deploy.sh\n"
                   "      - uses: ferry/gate@v1\n"
                   "        with:\n"
                   "          bandit: b.json\n"
                   "      - uses: ferry/image@v1\n"
                   "        with:\n"
                   "          name: localhost/app\n"
                   "          push: true\n"
                   "          username: u\n"
                   "          password: ${{ secrets.P }}\n"
                   "      - uses: someone/deploy@v1\n"
                   "        with:\n"
                   "          whatever: 1\n",
             0),
        "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_lint_clean_workflow_has_no_diagnostics),
        T(test_lint_expression_syntax_error),
        T(test_lint_unterminated_expression),
        T(test_lint_job_if_contexts),
        T(test_lint_secrets_not_in_step_if),
        T(test_lint_special_functions_by_key),
        T(test_lint_workflow_level_contexts),
        T(test_lint_strategy_contexts),
        T(test_lint_container_contexts),
        T(test_lint_needs_unknown_job),
        T(test_lint_needs_itself),
        T(test_lint_needs_cycle_is_named),
        T(test_lint_needs_reference_not_listed),
        T(test_lint_steps_reference_must_be_earlier),
        T(test_lint_cron),
        T(test_lint_filter_patterns),
        T(test_lint_matrix_must_expand),
        T(test_lint_matrix_references),
        T(test_lint_script_injection_in_run),
        T(test_lint_script_injection_paths),
        T(test_lint_script_injection_github_script),
        T(test_lint_if_with_text_outside_expression),
        T(test_lint_uses_checks),
        T(test_lint_workflow_call_outputs_jobs),
        T(test_lint_shared_alias_reported_once),
        T(test_lint_alias_bomb_is_bounded),
        T(test_lint_repeated_big_value_is_bounded),
        T(test_lint_ferry_report_unknown_input_suggests),
        T(test_lint_ferry_unknown_input_lists_valid_ones),
        T(test_lint_ferry_long_input_list_points_at_docs),
        T(test_lint_ferry_inputs_are_case_insensitive),
        T(test_lint_ferry_deploy_required_inputs),
        T(test_lint_ferry_no_with_at_all),
        T(test_lint_ferry_blank_input_is_not_given),
        T(test_lint_ferry_expression_values_are_fine),
        T(test_lint_ferry_uses_expression_not_checked),
        T(test_lint_ferry_unknown_action_and_version),
        T(test_lint_ferry_valid_steps_are_clean),
#undef T
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
