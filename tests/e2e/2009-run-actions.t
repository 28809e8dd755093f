#!/usr/bin/env bash
# ferry run: uses: — built-in checkout, upload/download-artifact, cache;
# local composite actions; remote and missing actions fail clearly.
. "$(dirname "$0")/lib.sh"

# python steps: Debian's python3 first (a pyenv shim on PATH costs seconds
# per start)
PATH=/usr/bin:$PATH

plan 14

R=$T/repo
mkdir -p "$R/.github/actions/greet" "$R/.github/actions/broken"
echo "repo readme" >"$R/README"
cat >"$R/.github/actions/greet/action.yml" <<'EOF'
name: Greet
description: say hello
inputs:
  who:
    description: whom to greet
    required: true
  greeting:
    description: the word
    default: Hello
outputs:
  message:
    description: what was said
    value: ${{ steps.say.outputs.msg }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: |
        echo "${{ inputs.greeting }}, ${{ inputs.who }}!"
        echo "msg=${{ inputs.greeting }}-${{ inputs.who }}" >> "$GITHUB_OUTPUT"
    - shell: python
      run: |
        import sys
        print("python", sys.version_info[0], "in composite")
    - shell: sh
      run: |
        if [ -n "${BASH_VERSION:-}" ]; then echo "composite sh is bash"; else echo "composite sh is sh"; fi
        echo "action dir: $(basename "$GITHUB_ACTION_PATH")"
EOF
cat >"$R/.github/actions/broken/action.yml" <<'EOF'
name: Broken
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        echo "broken inner step"
        exit 7
    - shell: bash
      run: echo "after broken inner"
EOF
workflow "$R" a.yml <<'EOF'
name: Act
on: push
jobs:
  producer:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: cat README
      - run: |
          mkdir -p dist/sub
          echo "artifact a" > dist/a.txt
          echo "artifact b" > dist/sub/b.txt
      - uses: actions/upload-artifact@v4
        with:
          name: dist
          path: dist/
  consumer:
    needs: producer
    runs-on: ubuntu-latest
    steps:
      - run: '[ ! -e dist ] && echo "no dist before download"'
      - uses: actions/download-artifact@v4
        with:
          name: dist
          path: got
      - run: |
          echo "got a: $(cat got/a.txt)"
          echo "got b: $(cat got/sub/b.txt)"
  composite:
    runs-on: ubuntu-latest
    steps:
      - id: g1
        uses: ./.github/actions/greet
        with:
          who: World
      - id: g2
        uses: ./.github/actions/greet
        with:
          who: Ferry
          greeting: Hi
      - run: |
          echo "out1=${{ steps.g1.outputs.message }}"
          echo "out2=${{ steps.g2.outputs.message }}"
EOF
mkrepo "$R"

run_ferry run -C "$R"
cp "$T/out" "$T/a.out"
cp "$T/status" "$T/a.status"
use_a() { cp "$T/a.out" "$T/out"; cp "$T/a.status" "$T/status"; }

t_checkout() {
    use_a
    status_is 0 && out_matches '^\[Act/producer\] ✓ Run actions/checkout@v4 \(success' &&
        out_has "[Act/producer]   | repo readme"
}
ok "actions/checkout is accepted; the workspace holds the repository" \
    t_checkout

t_artifacts() {
    use_a
    out_has "[Act/consumer]   | no dist before download" &&
        out_has "[Act/consumer]   | got a: artifact a" &&
        out_has "[Act/consumer]   | got b: artifact b" &&
        out_matches '^\[Act/consumer\] ✓ job success'
}
ok "upload-artifact in one job, download-artifact in a job needing it" \
    t_artifacts

t_composite_inputs() {
    use_a
    out_has "[Act/composite]   | Hello, World!" &&
        out_has "[Act/composite]   | Hi, Ferry!"
}
ok "a local composite action: input defaults and with:" t_composite_inputs

t_composite_outputs() {
    use_a
    out_has "[Act/composite]   | out1=Hello-World" &&
        out_has "[Act/composite]   | out2=Hi-Ferry"
}
ok "a composite action's outputs come from its inner steps" \
    t_composite_outputs

t_composite_shells() {
    use_a
    out_has "[Act/composite]   | python 3 in composite" &&
        out_has "[Act/composite]   | composite sh is sh" &&
        out_has "[Act/composite]   | action dir: greet"
}
ok "composite steps run in their own shell; GITHUB_ACTION_PATH is set" \
    t_composite_shells

F=$T/fail
mkdir -p "$F/.github/actions"
cp -r "$R/.github/actions/broken" "$F/.github/actions/"
workflow "$F" f.yml <<'EOF'
name: F
on: push
jobs:
  missing-error:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/upload-artifact@v4
        with:
          name: none
          path: nothing-here/
          if-no-files-found: error
      - run: echo "after upload error"
  missing-warn:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/upload-artifact@v4
        with:
          name: none2
          path: nothing-here/
      - run: echo "after upload warn"
  remote:
    runs-on: ubuntu-latest
    steps:
      - uses: some-org/some-action@v1
      - run: echo "after remote"
  nolocal:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/does-not-exist
  broken:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/broken
      - run: echo "after broken"
EOF
mkrepo "$F"

run_ferry run -C "$F"
cp "$T/out" "$T/f.out"
cp "$T/status" "$T/f.status"
use_f() { cp "$T/f.out" "$T/out"; cp "$T/f.status" "$T/status"; }

t_no_files_error() {
    use_f
    status_is 1 && out_matches '^\[F/missing-error\] ✗ Run actions/upload-artifact@v4 \(failure' &&
        out_lacks "| after upload error" &&
        out_matches '^\[F/missing-error\] ✗ job failure'
}
ok "upload-artifact with if-no-files-found: error fails the step" \
    t_no_files_error

t_no_files_warn() {
    use_f
    out_has "| after upload warn" && out_matches '^\[F/missing-warn\] ✓ job success'
}
ok "upload-artifact with no files only warns by default" t_no_files_warn

t_remote() {
    use_f
    out_has "not available offline" && out_lacks "| after remote" &&
        out_matches '^\[F/remote\] ✗ job failure'
}
ok "a remote action fails with 'not available offline'" t_remote

t_missing_local() {
    use_f
    grep -F '[F/nolocal]' "$T/out" | grep -qF 'does-not-exist' &&
        grep -F '[F/nolocal]' "$T/out" | grep -qiE 'no action\.yml|not found|does not exist' &&
        out_matches '^\[F/nolocal\] ✗ job failure' ||
        { grep -F '[F/nolocal]' "$T/out"; return 1; }
}
ok "a missing local action fails the step with a clear message" \
    t_missing_local

t_composite_fails() {
    use_f
    out_has "[F/broken]   | broken inner step" &&
        out_lacks "| after broken inner" && out_lacks "| after broken" &&
        out_matches '^\[F/broken\] ✗ job failure'
}
ok "a failing step inside a composite action fails the calling step" \
    t_composite_fails

# actions/cache: saved by the first run, restored by the second
C=$T/cache
mkdir -p "$C"
echo "lock v1" >"$C/lock.txt"
workflow "$C" c.yml <<'EOF'
name: C
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - id: c
        uses: actions/cache@v4
        with:
          path: .deps
          key: deps-${{ hashFiles('lock.txt') }}
      - run: echo "cache-hit=${{ steps.c.outputs.cache-hit }}"
      - if: steps.c.outputs.cache-hit != 'true'
        run: |
          mkdir -p .deps
          echo "built at run ${{ github.run_id }}" > .deps/file
          echo "built deps"
      - run: |
          echo "deps: $(cat .deps/file)"
EOF
mkrepo "$C"
mkdir -p "$T/home"

t_cache_save() {
    run_ferry run -C "$C" --home "$T/home"
    status_is 0 && out_has "| cache-hit=false" && out_has "| built deps"
}
ok "actions/cache: a first run misses and builds" t_cache_save

t_cache_restore() {
    local first
    first=$(sed -n 's/.*| deps: //p' "$T/out")
    sleep 1 # a different run id
    run_ferry run -C "$C" --home "$T/home"
    status_is 0 && out_has "| cache-hit=true" && out_lacks "| built deps" &&
        out_has "| deps: $first" ||
        { echo "first run had: $first"; return 1; }
}
ok "actions/cache: a second run with the same --home restores the files" \
    t_cache_restore

t_cache_key() {
    echo "lock v2" >"$C/lock.txt"
    commit "$C" "new lock"
    run_ferry run -C "$C" --home "$T/home"
    status_is 0 && out_has "| cache-hit=false" && out_has "| built deps"
}
ok "actions/cache: a changed hashFiles() key misses" t_cache_key

t_cache_no_home() {
    # without --home each run has a fresh store: no hit
    run_ferry run -C "$C"
    status_is 0 && out_has "| cache-hit=false"
}
ok "actions/cache without --home does not leak between runs" \
    t_cache_no_home
