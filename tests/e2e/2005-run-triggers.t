#!/usr/bin/env bash
# ferry run: which workflows an event triggers — push branches/tags/paths
# filters, pull_request base branches, workflow_dispatch typed inputs,
# -e event payloads, schedule.
. "$(dirname "$0")/lib.sh"

# python steps: Debian's python3 first (a pyenv shim on PATH costs seconds
# per start)
PATH=/usr/bin:$PATH

plan 20

# a workflow DIR/FILE on: ON that prints "ran NAME ref=... event=..."
trig() {
    local dir=$1 file=$2 on=$3
    workflow "$dir" "$file" <<EOF
name: ${file%.yml}
on:
$on
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: echo "ran ${file%.yml} ref=\$GITHUB_REF name=\${{ github.ref_name }} type=\${{ github.ref_type }} event=\${{ github.event_name }}"
EOF
}

R=$T/repo
mkdir -p "$R"
trig "$R" br-main.yml "  push:
    branches: [main]"
trig "$R" br-release.yml "  push:
    branches: ['release/**']"
trig "$R" ign-main.yml "  push:
    branches-ignore: [main]"
trig "$R" ign-dev.yml "  push:
    branches-ignore: ['dev*']"
trig "$R" tags.yml "  push:
    tags: ['v*']"
mkrepo "$R"

t_branch_match() {
    run_ferry run -C "$R"
    status_is 0 &&
        out_has "| ran br-main ref=refs/heads/main name=main type=branch event=push" &&
        out_lacks "| ran br-release"
}
ok "on.push.branches: a matching branch runs, another does not" \
    t_branch_match

t_branch_reason() {
    out_has "[.github/workflows/br-release.yml] skipped: branch 'main' does not match on.push.branches"
}
ok "the skip message says why (branch does not match)" t_branch_reason

t_branches_ignore() {
    out_lacks "| ran ign-main" && out_has "| ran ign-dev" &&
        out_has "[.github/workflows/ign-main.yml] skipped: branch 'main' matches on.push.branches-ignore"
}
ok "on.push.branches-ignore" t_branches_ignore

t_tag_filter_on_branch() {
    out_lacks "| ran tags" && out_has "[.github/workflows/tags.yml] skipped:"
}
ok "a tags-only workflow does not run for a branch push" \
    t_tag_filter_on_branch

t_branch_glob() {
    git -C "$R" checkout -q -b release/1.0
    run_ferry run -C "$R"
    git -C "$R" checkout -q main
    status_is 0 &&
        out_has "| ran br-release ref=refs/heads/release/1.0 name=release/1.0" &&
        out_lacks "| ran br-main" && out_has "| ran ign-main"
}
ok "branch globs: release/** matches release/1.0" t_branch_glob

t_tag_checkout() {
    git -C "$R" tag v1.2.3
    git -C "$R" checkout -q v1.2.3
    run_ferry run -C "$R"
    git -C "$R" checkout -q main
    status_is 0 &&
        out_has "| ran tags ref=refs/tags/v1.2.3 name=v1.2.3 type=tag event=push" &&
        out_lacks "| ran br-main"
}
ok "on.push.tags runs on a tag checkout with GITHUB_REF=refs/tags/..." \
    t_tag_checkout

# paths filters look at the files the last commit changed
P=$T/paths
mkdir -p "$P/src" "$P/docs"
echo a >"$P/src/app.c"
echo a >"$P/docs/guide.md"
trig "$P" p-src.yml "  push:
    paths: ['src/**']"
trig "$P" p-docs.yml "  push:
    paths: ['docs/**']"
trig "$P" pi-docs.yml "  push:
    paths-ignore: ['docs/**']"
trig "$P" pi-txt.yml "  push:
    paths-ignore: ['**.txt']"
trig "$P" p-neg.yml "  push:
    paths: ['docs/**', '!docs/*.md']"
mkrepo "$P"
echo b >"$P/docs/guide.md"
commit "$P" "docs only"

t_paths() {
    run_ferry run -C "$P"
    status_is 0 && out_has "| ran p-docs" && out_lacks "| ran p-src" &&
        out_has "[.github/workflows/p-src.yml] skipped: no changed path matches on.push.paths"
}
ok "on.push.paths: only workflows matching the changed files run" t_paths

t_paths_ignore() {
    out_lacks "| ran pi-docs" && out_has "| ran pi-txt" &&
        out_has "[.github/workflows/pi-docs.yml] skipped:"
}
ok "on.push.paths-ignore" t_paths_ignore

t_paths_negation() {
    out_lacks "| ran p-neg" && out_has "[.github/workflows/p-neg.yml] skipped:"
}
ok "a '!' pattern in paths excludes what an earlier pattern matched" \
    t_paths_negation

t_paths_src() {
    echo b >"$P/src/app.c"
    commit "$P" "src only"
    run_ferry run -C "$P"
    status_is 0 && out_has "| ran p-src" && out_lacks "| ran p-docs" &&
        out_has "| ran pi-docs"
}
ok "paths filters follow the last commit (src change)" t_paths_src

# pull_request: the base branch filter
Q=$T/pr
mkdir -p "$Q"
trig "$Q" pr-main.yml "  pull_request:
    branches: [main]"
trig "$Q" pr-release.yml "  pull_request:
    branches: ['release/**']"
trig "$Q" push-only.yml "  push:"
mkrepo "$Q"
git -C "$Q" checkout -q -b feature/x

t_pr() {
    run_ferry run pull_request -C "$Q"
    status_is 0 && out_has "| ran pr-main" && out_has "event=pull_request" &&
        out_lacks "| ran pr-release" && out_lacks "| ran push-only" &&
        out_has "[.github/workflows/pr-release.yml] skipped: base branch 'main' does not match on.pull_request.branches"
}
ok "pull_request: on.pull_request.branches filters the base branch" t_pr

t_pr_event_file() {
    cat >"$T/pr.json" <<'EOF'
{"action": "opened", "number": 7,
 "pull_request": {"number": 7, "title": "from a file",
                  "head": {"ref": "feature/x", "sha": "1111111111111111111111111111111111111111"},
                  "base": {"ref": "release/2", "sha": "2222222222222222222222222222222222222222"}}}
EOF
    run_ferry run pull_request -C "$Q" -e "$T/pr.json"
    status_is 0 && out_has "| ran pr-release ref=refs/pull/7/merge" &&
        out_lacks "| ran pr-main"
}
ok "pull_request with -e: the payload's base ref decides" t_pr_event_file

# workflow_dispatch with typed inputs
D=$T/dispatch
mkdir -p "$D"
workflow "$D" d.yml <<'EOF'
name: D
on:
  workflow_dispatch:
    inputs:
      who:
        required: true
        type: string
      flag:
        type: boolean
        default: false
      count:
        type: number
        default: 3
      level:
        type: choice
        options: [low, high]
        default: low
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "who=${{ inputs.who }} flag=${{ toJSON(inputs.flag) }} count=${{ toJSON(inputs.count) }} level=${{ inputs.level }}"
          echo "typed flag-is-true=${{ inputs.flag == true }} count-gt-4=${{ inputs.count > 4 }}"
          echo "event who=${{ github.event.inputs.who }} name=${{ github.event_name }}"
EOF
trig "$D" on-push.yml "  push:"
mkrepo "$D"

t_dispatch() {
    run_ferry run workflow_dispatch -C "$D" --input who=me --input flag=true \
        --input count=5 --input level=high
    status_is 0 &&
        out_has "| who=me flag=true count=5 level=high" &&
        out_has "| typed flag-is-true=true count-gt-4=true" &&
        out_has "| event who=me name=workflow_dispatch" &&
        out_lacks "| ran on-push"
}
ok "workflow_dispatch: --input values, typed (boolean, number, choice)" \
    t_dispatch

t_dispatch_defaults() {
    run_ferry run workflow_dispatch -C "$D" --input who=you
    status_is 0 &&
        out_has "| who=you flag=false count=3 level=low" &&
        out_has "| typed flag-is-true=false count-gt-4=false"
}
ok "workflow_dispatch: defaults for inputs not given" t_dispatch_defaults

t_dispatch_errors() {
    run_ferry run workflow_dispatch -C "$D"
    status_is 2 && err_has "who" && out_lacks "| who=" || return 1
    run_ferry run workflow_dispatch -C "$D" --input who=x --input level=medium
    status_is 2 && err_has "medium" && out_lacks "| who=" || return 1
    run_ferry run workflow_dispatch -C "$D" --input who=x --input flag=maybe
    status_is 2 && err_has "maybe" || return 1
    run_ferry run workflow_dispatch -C "$D" --input who=x --input count=lots
    status_is 2 && err_has "lots"
}
ok "workflow_dispatch: missing required, bad choice/boolean/number exit 2" \
    t_dispatch_errors

# -e: the payload is github.event; the event name is the argument
E=$T/ev
mkdir -p "$E"
workflow "$E" e.yml <<'EOF'
name: E
on: [push, issues]
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "event=${{ github.event_name }} custom=${{ github.event.custom.x }} msg=${{ github.event.head_commit.message }}"
          echo "file custom=$(python3 -c 'import json,os; print(json.load(open(os.environ["GITHUB_EVENT_PATH"]))["custom"]["x"])')"
EOF
trig "$E" rel.yml "  push:
    branches: ['release/**']"
mkrepo "$E"
cat >"$T/push.json" <<'EOF'
{"ref": "refs/heads/release/9", "custom": {"x": "from-file"},
 "head_commit": {"message": "custom message"}}
EOF

t_event_file() {
    run_ferry run push -C "$E" -e "$T/push.json"
    status_is 0 &&
        out_has "| event=push custom=from-file msg=custom message" &&
        out_has "| file custom=from-file"
}
ok "-e event.json sets github.event.* and GITHUB_EVENT_PATH" t_event_file

t_event_file_ref() {
    out_has "| ran rel ref=refs/heads/release/9 name=release/9"
}
ok "-e: the payload's ref decides branch filters and GITHUB_REF" \
    t_event_file_ref

t_event_name() {
    echo '{"action": "opened", "custom": {"x": "issue"}}' >"$T/issue.json"
    run_ferry run issues -C "$E" -e "$T/issue.json"
    status_is 0 && out_has "| event=issues custom=issue" &&
        out_lacks "| ran rel"
}
ok "any event name: github.event_name is the event given" t_event_name

S=$T/sched
mkdir -p "$S"
trig "$S" nightly.yml "  schedule:
    - cron: '0 2 * * *'"
trig "$S" push.yml "  push:"
mkrepo "$S"

t_schedule() {
    run_ferry run schedule -C "$S"
    status_is 0 && out_has "| ran nightly" && out_has "event=schedule" &&
        out_lacks "| ran push"
}
ok "schedule runs the workflows with on.schedule" t_schedule

t_schedule_not_on_push() {
    run_ferry run -C "$S"
    status_is 0 && out_has "| ran push" && out_lacks "| ran nightly"
}
ok "a schedule-only workflow does not run on push" t_schedule_not_on_push
