#!/usr/bin/env bash
# ferry run: what steps see and do — runner files (GITHUB_OUTPUT, ENV,
# PATH, STEP_SUMMARY), step if:, continue-on-error, env precedence,
# working directories, shells, default variables, per-job workspaces.
. "$(dirname "$0")/lib.sh"

# python steps: Debian's python3 first (a pyenv shim on PATH costs seconds
# per start)
PATH=/usr/bin:$PATH

plan 20

R=$T/repo
mkdir -p "$R/sub/inner" "$R/other"
echo "repo-file" >"$R/README"
workflow "$R" steps.yml <<EOF
name: Steps
on: push
env:
  A: wf-a
  B: wf-b
  C: wf-c
  EV: event-\${{ github.event_name }}
jobs:
  files:
    runs-on: ubuntu-latest
    steps:
      - id: o
        run: |
          echo "single=one" >> "\$GITHUB_OUTPUT"
          { echo "multi<<EOF_X"; echo "line1"; echo "line two"; echo "EOF_X"; } >> "\$GITHUB_OUTPUT"
      - env:
          M: \${{ steps.o.outputs.multi }}
        run: |
          echo "single is \${{ steps.o.outputs.single }}"
          printf '%s\n' "\$M" | sed 's/^/multi:/'
          echo "multi-lines:\$(printf '%s\n' "\$M" | wc -l)"
      - run: |
          echo "FOO=bar" >> "\$GITHUB_ENV"
          { echo "ML<<DELIM"; echo "env-a"; echo "env-b"; echo "DELIM"; } >> "\$GITHUB_ENV"
          echo "same-step FOO=\${FOO:-unset}"
      - run: |
          echo "next-step FOO=\$FOO ctx=\${{ env.FOO }}"
          printf '%s\n' "\$ML" | sed 's/^/ml:/'
      - run: |
          mkdir -p "\$RUNNER_TEMP/bin"
          printf '#!/bin/sh\necho mytool-ran\n' > "\$RUNNER_TEMP/bin/mytool"
          chmod +x "\$RUNNER_TEMP/bin/mytool"
          echo "\$RUNNER_TEMP/bin" >> "\$GITHUB_PATH"
          command -v mytool >/dev/null || echo "mytool not yet on PATH"
      - run: |
          mytool
          [ "\${PATH%%:*}" = "\$RUNNER_TEMP/bin" ] && echo "path prepended"
      - run: |
          [ -n "\$GITHUB_STEP_SUMMARY" ]
          echo "### summary" >> "\$GITHUB_STEP_SUMMARY"
          echo "summary written"

  cond:
    runs-on: ubuntu-latest
    steps:
      - id: f
        continue-on-error: true
        run: exit 4
      - if: steps.f.outcome == 'failure' && steps.f.conclusion == 'success'
        run: echo "saw outcome=\${{ steps.f.outcome }} conclusion=\${{ steps.f.conclusion }}"
      - if: steps.f.outcome == 'success'
        name: only-if-f-succeeded
        run: echo "should be skipped"
      - id: g
        run: echo "g"
      - if: \${{ steps.g.conclusion == 'success' && success() }}
        run: echo "after-g status=\${{ job.status }}"

  env:
    runs-on: ubuntu-latest
    env:
      B: job-b
      C: job-c
      JOBEXPR: job-\${{ github.ref_name }}
    steps:
      - env:
          C: step-c
          D: \${{ env.B }}-plus
        run: |
          echo "env A=\$A B=\$B C=\$C D=\$D"
          echo "expr EV=\$EV JOBEXPR=\$JOBEXPR"
          echo "ctx C=\${{ env.C }}"
      - run: echo "later C=\$C"

  wd:
    runs-on: ubuntu-latest
    defaults:
      run:
        working-directory: sub
    steps:
      - run: echo "wd-default=\$(basename "\$PWD")"
      - working-directory: sub/inner
        run: echo "wd-step=\$(basename "\$PWD")"
      - working-directory: other
        run: echo "wd-other=\$(basename "\$PWD") root=\$([ "\$(dirname "\$PWD")" = "\$GITHUB_WORKSPACE" ] && echo yes)"

  shells:
    runs-on: ubuntu-latest
    steps:
      - name: default shell
        run: |
          false | true
          echo "default shell continued after false|true"
          case "\$-" in *e*) echo "default has -e";; esac
      - shell: sh
        run: |
          if [ -n "\${BASH_VERSION:-}" ]; then echo "sh is bash"; else echo "sh is not bash"; fi
      - shell: python
        run: |
          import sys
          print("python", sys.version_info[0])
      - shell: perl {0}
        run: |
          print "perl says ", 6 * 7, "\n";
      - shell: bash -x {0}
        run: echo traced-echo
      - shell: bash
        run: |
          true | true
          echo "bash ok"

  defaults:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "CI=\$CI"
          echo "RUNNER_OS=\$RUNNER_OS"
          echo "FERRY=\$FERRY"
          echo "SHA=\$GITHUB_SHA"
          echo "REF=\$GITHUB_REF"
          echo "EVENT=\$GITHUB_EVENT_NAME"
          [ "\$PWD" = "\$GITHUB_WORKSPACE" ] && echo "cwd is workspace"
          [ -f "\$GITHUB_WORKSPACE/README" ] && echo "workspace has README"
          [ -d "\$RUNNER_TEMP" ] && [ -w "\$RUNNER_TEMP" ] && echo "runner temp ok"
          python3 -c 'import json,os; e=json.load(open(os.environ["GITHUB_EVENT_PATH"])); print("event ref", e["ref"])'
EOF
mkrepo "$R"
HEAD_SHA=$(git -C "$R" rev-parse HEAD)

run_ferry run -C "$R"
cp "$T/out" "$T/main.out"
cp "$T/err" "$T/main.err"
cp "$T/status" "$T/main.status"
main() { cp "$T/main.out" "$T/out"; cp "$T/main.err" "$T/err"; cp "$T/main.status" "$T/status"; }

t_status() { main; status_is 0; }
ok "the workflow succeeds" t_status

t_output() {
    main
    out_has "[Steps/files]   | single is one" &&
        out_has "[Steps/files]   | multi:line1" &&
        out_has "[Steps/files]   | multi:line two" &&
        out_has "[Steps/files]   | multi-lines:2"
}
ok "GITHUB_OUTPUT: name=value and name<<DELIM multi-line values" t_output

t_env_file() {
    main
    out_has "[Steps/files]   | same-step FOO=unset" &&
        out_has "[Steps/files]   | next-step FOO=bar ctx=bar" &&
        out_has "[Steps/files]   | ml:env-a" &&
        out_has "[Steps/files]   | ml:env-b"
}
ok "GITHUB_ENV: later steps see it (also multi-line), not the same step" \
    t_env_file

t_path() {
    main
    out_has "[Steps/files]   | mytool not yet on PATH" &&
        out_has "[Steps/files]   | mytool-ran" &&
        out_has "[Steps/files]   | path prepended"
}
ok "GITHUB_PATH: prepended to PATH for later steps" t_path

t_summary() {
    main
    out_has "[Steps/files]   | summary written" &&
        out_matches '^\[Steps/files\] ✓ job success'
}
ok "GITHUB_STEP_SUMMARY is a writable file" t_summary

t_coe() {
    main
    out_matches '^\[Steps/cond\] ✓ Run exit 4 \(failure, continue-on-error, [0-9.]+s\)$' &&
        out_has "[Steps/cond]   | saw outcome=failure conclusion=success" &&
        out_matches '^\[Steps/cond\] ✓ job success'
}
ok "continue-on-error: outcome failure, conclusion success, job success" \
    t_coe

t_step_if() {
    main
    out_has "[Steps/cond] - only-if-f-succeeded (skipped)" &&
        out_lacks "| should be skipped" &&
        out_has "[Steps/cond]   | after-g status=success"
}
ok "step if: with steps.X.outcome / conclusion and success()" t_step_if

t_env_prec() {
    main
    out_has "[Steps/env]   | env A=wf-a B=job-b C=step-c D=job-b-plus" &&
        out_has "[Steps/env]   | ctx C=step-c" &&
        out_has "[Steps/env]   | later C=job-c"
}
ok "env precedence: workflow < job < step; step env sees env context" \
    t_env_prec

t_env_expr() {
    main
    out_has "[Steps/env]   | expr EV=event-push JOBEXPR=job-main"
}
ok "workflow and job env values can use expressions" t_env_expr

t_wd() {
    main
    out_has "[Steps/wd]   | wd-default=sub" &&
        out_has "[Steps/wd]   | wd-step=inner" &&
        out_has "[Steps/wd]   | wd-other=other root=yes"
}
ok "defaults.run.working-directory and step working-directory" t_wd

t_default_shell() {
    main
    out_has "[Steps/shells]   | default shell continued after false|true" &&
        out_has "[Steps/shells]   | default has -e"
}
ok "the default shell is bash -e without pipefail" t_default_shell

t_sh_python() {
    main
    out_has "[Steps/shells]   | sh is not bash" &&
        out_has "[Steps/shells]   | python 3"
}
ok "shell: sh and shell: python" t_sh_python

t_custom_shell() {
    main
    out_has "[Steps/shells]   | perl says 42" &&
        out_has "[Steps/shells]   | + echo traced-echo" &&
        out_has "[Steps/shells]   | traced-echo" &&
        out_has "[Steps/shells]   | bash ok"
}
ok "custom shells: 'perl {0}' and 'bash -x {0}'" t_custom_shell

t_defaults_vars() {
    main
    out_has "[Steps/defaults]   | CI=true" &&
        out_has "[Steps/defaults]   | RUNNER_OS=Linux" &&
        out_has "[Steps/defaults]   | FERRY=true" &&
        out_has "[Steps/defaults]   | REF=refs/heads/main" &&
        out_has "[Steps/defaults]   | EVENT=push" &&
        out_has "[Steps/defaults]   | runner temp ok"
}
ok "default variables CI, RUNNER_OS, FERRY, GITHUB_REF, EVENT_NAME, RUNNER_TEMP" \
    t_defaults_vars

t_sha() {
    main
    out_has "[Steps/defaults]   | SHA=$HEAD_SHA"
}
ok "GITHUB_SHA is the repository's HEAD" t_sha

t_workspace() {
    main
    out_has "[Steps/defaults]   | cwd is workspace" &&
        out_has "[Steps/defaults]   | workspace has README" &&
        out_has "[Steps/defaults]   | event ref refs/heads/main"
}
ok "GITHUB_WORKSPACE holds the repo; GITHUB_EVENT_PATH is the event JSON" \
    t_workspace

# failures: shell: bash has pipefail; a missing working directory fails
F=$T/fail
mkdir -p "$F"
workflow "$F" f.yml <<'EOF'
name: F
on: push
jobs:
  pipefail:
    runs-on: ubuntu-latest
    steps:
      - shell: bash
        run: |
          false | true
          echo "bash continued after false|true"
  nowd:
    runs-on: ubuntu-latest
    steps:
      - working-directory: does/not/exist
        run: echo "ran in a missing dir"
  badshell:
    runs-on: ubuntu-latest
    steps:
      - shell: python
        run: |
          import sys
          sys.exit(5)
EOF
mkrepo "$F"

t_pipefail() {
    run_ferry run -C "$F"
    status_is 1 && out_lacks "| bash continued after false|true" &&
        out_matches '^\[F/pipefail\] ✗ job failure'
}
ok "shell: bash uses pipefail: 'false | true' fails the step" t_pipefail

t_nowd() {
    out_lacks "| ran in a missing dir" &&
        out_matches '^\[F/nowd\] ✗ job failure'
}
ok "a missing working-directory fails the step" t_nowd

t_python_exit() {
    out_has "exit code 5" && out_matches '^\[F/badshell\] ✗ job failure'
}
ok "a python step's exit status fails the step" t_python_exit

# each job has its own workspace: the repository files are there, but a
# file a parallel job writes into its workspace is not
W=$T/ws
mkdir -p "$W" "$T/meet"
echo "shared" >"$W/README"
workflow "$W" w.yml <<EOF
name: W
on: push
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - run: |
          cat README
          echo from-one > made-by-one
          touch "$T/meet/one"
          for i in \$(seq 100); do [ -e "$T/meet/two" ] && break; sleep 0.1; done
          [ -e "$T/meet/two" ] || { echo "no rendezvous"; exit 1; }
          if [ -e made-by-two ]; then echo "one sees two's file"; else echo "one does not see two's file"; fi
          echo "one ws=\$GITHUB_WORKSPACE"
  two:
    runs-on: ubuntu-latest
    steps:
      - run: |
          cat README
          echo from-two > made-by-two
          touch "$T/meet/two"
          for i in \$(seq 100); do [ -e "$T/meet/one" ] && break; sleep 0.1; done
          [ -e "$T/meet/one" ] || { echo "no rendezvous"; exit 1; }
          if [ -e made-by-one ]; then echo "two sees one's file"; else echo "two does not see one's file"; fi
          echo "two ws=\$GITHUB_WORKSPACE"
EOF
mkrepo "$W"

t_workspaces() {
    run_ferry run -C "$W" --slots 2
    local w1 w2
    w1=$(sed -n 's/.*| one ws=//p' "$T/out")
    w2=$(sed -n 's/.*| two ws=//p' "$T/out")
    status_is 0 &&
        out_has "[W/one]   | shared" && out_has "[W/two]   | shared" &&
        out_has "| one does not see two's file" &&
        out_has "| two does not see one's file" &&
        [ -n "$w1" ] && [ "$w1" != "$w2" ] ||
        { echo "workspaces: '$w1' '$w2'"; return 1; }
}
ok "each job has its own workspace holding the repository files" \
    t_workspaces
