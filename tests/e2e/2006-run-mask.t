#!/usr/bin/env bash
# ferry run: secrets and ::add-mask:: values never reach the output —
# -s, -s from the environment, --secret-file (multi-line), values split
# across writes, child processes, --json, step names.
. "$(dirname "$0")/lib.sh"

plan 10

S1=hunter2-s1-$$
S_ENV=envtok-9f8e7d-$$
SPLIT=splitsecret-abcdef-0123456789
ML1=multi-line-one-$$
ML2=multi-line-two-$$
DYN=dynamic-mask-77-$$

# no_leak VALUE: VALUE appears neither in stdout nor stderr
no_leak() {
    ! grep -qF -- "$1" "$T/out" "$T/err" ||
        { echo "leaked '$1':"; grep -F -- "$1" "$T/out" "$T/err"; return 1; }
}

R=$T/repo
mkdir -p "$R"
workflow "$R" m.yml <<'EOF'
name: Mask
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    env:
      S1: ${{ secrets.S1 }}
      SENV: ${{ secrets.S_ENV }}
      SPLIT: ${{ secrets.SPLIT }}
      ML: ${{ secrets.ML }}
    steps:
      - name: plain
        run: |
          echo "s1 is $S1."
          echo "senv is $SENV"
      - name: multi-line
        run: |
          printf '%s\n' "$ML" | sed 's/^/ml: /'
          echo "inline ${{ secrets.ML }} end"
      - name: split
        run: |
          printf 'split: %s' "${SPLIT:0:11}"
          sleep 0.3
          printf '%s\n' "${SPLIT:11}"
      - name: children
        run: |
          bash -c 'echo "child bash: $S1"'
          python3 -c 'import os; print("child python:", os.environ["S1"])'
          echo "to stderr: $S1" >&2
          sh -c 'printf "%s\n" "$SENV"' | cat
          echo "::warning::warning with $S1"
      - name: add-mask
        run: |
          echo "::add-mask::$DYN"
          echo "dyn now: $DYN"
        env:
          DYN: ${{ vars.DYN_SOURCE }}
      - name: after add-mask
        run: |
          echo "dyn later: ${{ vars.DYN_SOURCE }}-suffix"
EOF
mkrepo "$R"
printf 'SPLIT=%s\nML<<EOS\n%s\n%s\nEOS\n' "$SPLIT" "$ML1" "$ML2" >"$T/secrets.env"

run_mask() {
    S_ENV=$S_ENV run_ferry run -C "$R" "$@" -s "S1=$S1" -s S_ENV \
        --secret-file "$T/secrets.env" --var "DYN_SOURCE=$DYN"
}

t_s_value() {
    run_mask
    status_is 0 && out_has "[Mask/j]   | s1 is ***." && no_leak "$S1"
}
ok "-s NAME=VALUE is masked as ***" t_s_value

t_s_env() {
    out_has "[Mask/j]   | senv is ***" && no_leak "$S_ENV"
}
ok "-s NAME takes the value from the environment, masked" t_s_env

t_secret_file() {
    out_has "[Mask/j]   | ml: ***" && no_leak "$ML1" && no_leak "$ML2" &&
        [ "$(grep -cF '| ml: ***' "$T/out")" = 2 ]
}
ok "--secret-file: a multi-line value is masked line by line" \
    t_secret_file

t_split() {
    out_has "[Mask/j]   | split: ***" && no_leak "$SPLIT" &&
        no_leak "${SPLIT:0:11}" && no_leak "${SPLIT:11}"
}
ok "a secret written in two halves 0.3 s apart is still masked" t_split

t_children() {
    out_has "| child bash: ***" && out_has "| child python: ***" &&
        out_has "| to stderr: ***" && out_has "warning with ***" &&
        no_leak "$S1" && no_leak "$S_ENV"
}
ok "values printed by child processes and on stderr are masked" \
    t_children

t_add_mask() {
    out_has "[Mask/j]   | dyn now: ***" &&
        out_has "[Mask/j]   | dyn later: ***-suffix" && no_leak "$DYN"
}
ok "::add-mask:: masks later output, also in later steps" t_add_mask

t_add_mask_line() {
    # the ::add-mask:: command line itself is not printed with the value
    out_has "[Mask/j]   | dyn now: " && out_lacks "::add-mask::$DYN"
}
ok "the ::add-mask:: line does not print the value" t_add_mask_line

t_json() {
    run_mask --json
    status_is 0 && grep -qF '"line":"s1 is ***."' "$T/out" &&
        no_leak "$S1" && no_leak "$S_ENV" && no_leak "$SPLIT" &&
        no_leak "${SPLIT:11}" && no_leak "$ML1" && no_leak "$ML2" &&
        no_leak "$DYN" || { cat "$T/out"; return 1; }
}
ok "--json output never holds a secret" t_json

N=$T/names
mkdir -p "$N"
workflow "$N" n.yml <<'EOF'
name: Names
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - name: deploy with ${{ secrets.TOKEN }}
        run: echo "step ran"
      - name: fail with it
        run: |
          echo "::error file=x.py,line=1::bad token ${{ secrets.TOKEN }}"
          echo "::notice title=t ${{ secrets.TOKEN }}::notice"
          exit 1
EOF
mkrepo "$N"
TOKEN=tok-in-name-5a5a-$$

t_step_name() {
    run_ferry run -C "$N" -s "TOKEN=$TOKEN"
    status_is 1 && out_has "| step ran" && no_leak "$TOKEN"
}
ok "a secret in a step name or annotation is masked" t_step_name

t_step_name_json() {
    run_ferry run -C "$N" -s "TOKEN=$TOKEN" --json
    status_is 1 && no_leak "$TOKEN"
}
ok "a secret in a step name is masked in --json too" t_step_name_json
