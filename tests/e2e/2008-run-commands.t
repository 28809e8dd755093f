#!/usr/bin/env bash
# ferry run: workflow commands on stdout — ::group::, ::error/warning/
# notice::, ::debug::, ::stop-commands::, ::set-output::.
. "$(dirname "$0")/lib.sh"

plan 11

PY=/usr/bin/python3

# jq-like queries over --json output: print the events selected by a
# python expression over e (one JSON per line, sorted keys)
events() {
    $PY -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if eval(sys.argv[2]):
        print(json.dumps(e, sort_keys=True))
' "$T/out" "$1"
}

R=$T/repo
mkdir -p "$R"
workflow "$R" c.yml <<'EOF'
name: Cmd
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - name: groups
        run: |
          echo "before group"
          echo "::group::My Group"
          echo "inside group"
          echo "::endgroup::"
          echo "after group"
      - name: annotations
        run: |
          echo "::error file=a.py,line=3,col=7::broken thing"
          echo "::warning::careful now"
          echo "::notice::for your information"
          echo "::error file=a%2Cb.py::100%25 sure"
      - name: debug
        run: |
          echo "::debug::debug-detail-here"
          echo "after debug"
      - name: stop-commands
        run: |
          echo "::stop-commands::pause-token-1"
          echo "::add-mask::not-a-mask-value"
          echo "::error::not-an-annotation"
          echo "::pause-token-1::"
          echo "value: not-a-mask-value"
          echo "::warning::resumed-warning"
      - id: legacy
        name: set-output
        run: echo "::set-output name=legacy::old-style-value"
      - run: echo "legacy output=${{ steps.legacy.outputs.legacy }}"
EOF
mkrepo "$R"

run_ferry run -C "$R" --json
cp "$T/out" "$T/json.out"
cp "$T/status" "$T/json.status"
use_json() { cp "$T/json.out" "$T/out"; cp "$T/json.status" "$T/status"; }

t_group() {
    use_json
    local inside before after
    inside=$(events 'e.get("type") == "log" and e.get("line") == "inside group"')
    before=$(events 'e.get("type") == "log" and e.get("line") == "before group"')
    after=$(events 'e.get("type") == "log" and e.get("line") == "after group"')
    status_is 0 && echo "$inside" | grep -qF '"group": "My Group"' &&
        ! echo "$before" | grep -qF '"group"' &&
        ! echo "$after" | grep -qF '"group"' &&
        [ -n "$before" ] && [ -n "$after" ] ||
        { printf '%s\n' "$before" "$inside" "$after"; return 1; }
}
ok "::group::/::endgroup:: set the json group field of the lines inside" \
    t_group

t_group_lines_hidden() {
    use_json
    events 'e.get("type") == "log"' | grep -q . &&
        [ -z "$(events 'e.get("type") == "log" and ("::group::" in e["line"] or "::endgroup::" in e["line"])')" ]
}
ok "the ::group:: and ::endgroup:: lines are not log lines" \
    t_group_lines_hidden

t_error() {
    use_json
    local a
    a=$(events 'e.get("type") == "annotation" and e.get("message") == "broken thing"')
    echo "$a" | grep -qF '"level": "error"' &&
        echo "$a" | grep -qF '"file": "a.py"' &&
        echo "$a" | grep -qF '"line": 3' &&
        echo "$a" | grep -qF '"col": 7' &&
        echo "$a" | grep -qF '"step": 1' || { echo "got: $a"; return 1; }
}
ok "::error file=a.py,line=3,col=7::msg is an error annotation" t_error

t_warning_notice() {
    use_json
    events 'e.get("type") == "annotation" and e.get("level") == "warning" and e.get("message") == "careful now"' | grep -q . &&
        events 'e.get("type") == "annotation" and e.get("level") == "notice" and e.get("message") == "for your information"' | grep -q . &&
        [ -z "$(events 'e.get("type") == "log" and "careful now" in e.get("line", "")')" ]
}
ok "::warning:: and ::notice:: are annotations, not log lines" \
    t_warning_notice

t_escapes() {
    use_json
    events 'e.get("type") == "annotation" and e.get("file") == "a,b.py" and e.get("message") == "100% sure"' | grep -q . ||
        { events 'e.get("type") == "annotation"'; return 1; }
}
ok "command data and properties are unescaped (%25, %2C)" t_escapes

t_debug_hidden() {
    use_json
    ! grep -qF "debug-detail-here" "$T/out" &&
        events 'e.get("type") == "log" and e.get("line") == "after debug"' | grep -q .
}
ok "::debug:: is hidden by default" t_debug_hidden

t_debug_shown() {
    run_ferry run -C "$R" --var ACTIONS_STEP_DEBUG=true
    status_is 0 && out_has "debug-detail-here" || return 1
    run_ferry run -C "$R" -s ACTIONS_STEP_DEBUG=true
    status_is 0 && out_has "debug-detail-here"
}
ok "::debug:: shows with var or secret ACTIONS_STEP_DEBUG=true" \
    t_debug_shown

t_stop_commands() {
    use_json
    events 'e.get("type") == "log" and e.get("line") == "::add-mask::not-a-mask-value"' | grep -q . &&
        events 'e.get("type") == "log" and e.get("line") == "::error::not-an-annotation"' | grep -q . &&
        [ -z "$(events 'e.get("type") == "annotation" and "not-an-annotation" in e.get("message", "")')" ]
}
ok "::stop-commands:: prints commands instead of running them" \
    t_stop_commands

t_stop_commands_mask() {
    use_json
    events 'e.get("type") == "log" and e.get("line") == "value: not-a-mask-value"' | grep -q . ||
        { grep -F "not-a-mask" "$T/out"; return 1; }
}
ok "an ::add-mask:: inside stop-commands is not applied" \
    t_stop_commands_mask

t_resume() {
    use_json
    events 'e.get("type") == "annotation" and e.get("message") == "resumed-warning"' | grep -q . &&
        [ -z "$(events 'e.get("type") == "log" and "pause-token-1" in e.get("line", "")')" ]
}
ok "::TOKEN:: resumes commands" t_resume

t_set_output() {
    use_json
    events 'e.get("type") == "log" and e.get("line") == "legacy output=old-style-value"' | grep -q . ||
        { grep legacy "$T/out"; return 1; }
}
ok "the deprecated ::set-output name=x::v still sets an output" \
    t_set_output
