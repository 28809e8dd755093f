#!/usr/bin/env bash
# ferry serve: the webhook routes.  GitHub, Gitea and GitLab deliveries
# with real payloads and real HMACs (openssl) start runs whose context is
# the payload's; bad or missing signatures change nothing; pings, unhandled
# events, malformed and oversize bodies and unknown repositories get their
# documented answers; every delivery is listed by GET /api/v1/deliveries.
. "$(dirname "$0")/lib.sh"
plan 40

SECRET='hook-secret-0123456789abcdef'
ZERO=0000000000000000000000000000000000000000

# ---------- the source repository: main and a feature branch ----------

mkdir -p "$T/src"
workflow "$T/src" ci.yml <<'YML'
name: hooks
on: [push, pull_request]
jobs:
  show:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "event=${{ github.event_name }}"
          echo "ref=${{ github.ref }}"
          echo "sha=${{ github.sha }}"
          echo "head_ref=${{ github.head_ref }}"
          echo "base_ref=${{ github.base_ref }}"
          echo "actor=${{ github.actor }}"
YML
echo "hello" >"$T/src/README.md"
mkrepo "$T/src"
SHA=$(git -C "$T/src" rev-parse HEAD)
(cd "$T/src" && git checkout -q -b feature/x && echo more >>README.md &&
    git commit -qam "feature work" && git checkout -q main)
FSHA=$(git -C "$T/src" rev-parse feature/x)
bare_repo "$T/src" "$T/app.git"

# ---------- helpers ----------

# pyj FILE EXPR: EXPR (python, the JSON of FILE is `d`) is true
pyj() {
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" && return 0
    echo "false: $2"
    echo "--- $1:"
    cat "$1"
    echo
    return 1
}

# sig FILE: the hex HMAC-SHA256 of FILE with the repository's secret
sig() { openssl dgst -sha256 -hmac "$SECRET" -r "$1" | cut -d' ' -f1; }

# nruns: how many runs the server has
nruns() {
    api GET '/api/v1/runs?limit=200' |
        /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))'
}

# send SOURCE[?QUERY] WANT FILE [curl args]: POST FILE to /hooks/SOURCE with
# a unique delivery id; the answer in $T/hook.json; true when the status is
# WANT.  Each delivery is appended to $T/expect ("source status id", the
# status the sender saw) for the deliveries check at the end.
_dn=0
send() {
    local src=$1 want=$2 file=$3 dh got
    shift 3
    _dn=$((_dn + 1))
    DELIVERY="d-$_dn-$RANDOM"
    case ${src%%\?*} in
    github) dh=X-GitHub-Delivery ;;
    gitea) dh=X-Gitea-Delivery ;;
    gitlab) dh=X-Gitlab-Event-UUID ;;
    *) dh=X-Unused-Delivery ;; # /hooks/git deliveries carry no id
    esac
    got=$(curl -sS -o "$T/hook.json" -w '%{http_code}' \
        -H 'Content-Type: application/json' -H "$dh: $DELIVERY" "$@" \
        --data-binary @"$file" "$URL/hooks/$src")
    [ "$dh" = X-Unused-Delivery ] && DELIVERY=-
    # only authenticated deliveries for a known repository are recorded
    # (nobody may grow the table from outside): not a 401 or a 404, nor a
    # 400 that never named its repository
    case "$got:$src" in
    401:* | 404:*) ;;
    400:*\?repo=*) echo "${src%%\?*} $got $DELIVERY" >>"$T/expect" ;;
    400:*) ;;
    *) echo "${src%%\?*} $got $DELIVERY" >>"$T/expect" ;;
    esac
    [ "$got" = "$want" ] && return 0
    echo "status $got, want $want"
    cat "$T/hook.json"
    echo
    return 1
}

# github EVENT WANT FILE [curl args]: a GitHub delivery signed right
github() {
    local ev=$1 want=$2 file=$3
    shift 3
    send github "$want" "$file" -H "X-GitHub-Event: $ev" \
        -H "X-Hub-Signature-256: sha256=$(sig "$file")" "$@"
}

is_error() { pyj "$T/hook.json" 'isinstance(d.get("error"), str) and d["error"] != ""'; }
runs_count_is() { [ "$(nruns)" = "$1" ] || { echo "runs: $(nruns), want $1"; return 1; }; }
# the run's log holds each of the lines given
log_has() {
    local id=$1 l
    shift
    api GET "/api/v1/runs/$id/logs" >"$T/log.$id"
    for l in "$@"; do
        grep -qxF "[show] $l" "$T/log.$id" || { echo "log lacks: $l"; cat "$T/log.$id"; return 1; }
    done
}
run_succeeds() { local c; c=$(wait_run "$1" 30); [ "$c" = success ] || { echo "run $1: $c"; return 1; }; }

# ---------- the server and the repository ----------

ok "the server starts" serve_start
register() {
    api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\",\"webhook_secret\":\"$SECRET\"}" >/dev/null
    [ "$(cat "$T/http_status")" = 201 ] || { echo "status $(cat "$T/http_status")"; cat "$T/api.body"; return 1; }
    pyj "$T/api.body" "d['name'] == 'app' and d['hook_key'] == '$SECRET'"
}
ok "the repository is registered with a known webhook secret" register

# ---------- GitHub push ----------
# A correct HMAC queues exactly one run whose context comes from the
# payload: if the payload were not parsed (or another sha used) the log's
# event/ref/sha lines would differ.

cat >"$T/push.json" <<JSON
{
  "ref": "refs/heads/main",
  "before": "$ZERO",
  "after": "$SHA",
  "created": true,
  "deleted": false,
  "forced": false,
  "compare": "https://github.example/acme/app/compare/$SHA",
  "commits": [{"id": "$SHA", "message": "initial commit",
               "timestamp": "2026-11-23T10:00:00Z",
               "author": {"name": "Alice", "email": "alice@example.com"}}],
  "head_commit": {"id": "$SHA", "message": "initial commit",
                  "timestamp": "2026-11-23T10:00:00Z",
                  "author": {"name": "Alice", "email": "alice@example.com"}},
  "repository": {"id": 42, "name": "app", "full_name": "acme/app",
                 "clone_url": "https://github.example/acme/app.git",
                 "default_branch": "main"},
  "pusher": {"name": "alice", "email": "alice@example.com"},
  "sender": {"login": "alice"}
}
JSON

ok "GitHub push with a correct signature: 200 with one run id" \
    eval 'github push 200 "$T/push.json" && pyj "$T/hook.json" "len(d[\"runs\"]) == 1 and d[\"outcome\"] == \"1 run queued\""'
GH_RUN=$(jget runs.0 <"$T/hook.json")
ok "the GitHub push run succeeds" run_succeeds "$GH_RUN"
api GET "/api/v1/runs/$GH_RUN" >"$T/ghrun.json"
ok "the run is a push of refs/heads/main at the payload's sha by the pusher" \
    pyj "$T/ghrun.json" "d['event'] == 'push' and d['ref'] == 'refs/heads/main' and d['sha'] == '$SHA' and d['actor'] == 'alice' and d['repo'] == 'app'"
ok "its log shows event, ref and sha from the payload" \
    log_has "$GH_RUN" "event=push" "ref=refs/heads/main" "sha=$SHA" "head_ref=" "base_ref=" "actor=alice"

# ---------- bad signatures change nothing ----------
# Each of these would queue a run (the body is the good push) if the
# signature were not checked: the run count before and after would differ
# and the status would be 200, not 401.

N=$(nruns)
ok "the same body with a wrong signature: 401" \
    eval 'send github 401 "$T/push.json" -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$(printf %064d 0)" && is_error'
ok "a signature made with another secret: 401" \
    eval 'send github 401 "$T/push.json" -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac wrong-secret-0123456789 -r "$T/push.json" | cut -d" " -f1)" && is_error'
ok "no signature: 401" \
    eval 'send github 401 "$T/push.json" -H "X-GitHub-Event: push" && is_error'
sed 's/"alice"/"mallory"/' "$T/push.json" >"$T/push2.json"
ok "the signature of a different body: 401" \
    eval 'send github 401 "$T/push2.json" -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$(sig "$T/push.json")" && is_error'
ok "the right HMAC without the sha256= prefix: 401" \
    eval 'send github 401 "$T/push.json" -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: $(sig "$T/push.json")" && is_error'
ok "the right HMAC as X-Hub-Signature (SHA-1 header name): 401" \
    eval 'send github 401 "$T/push.json" -H "X-GitHub-Event: push" -H "X-Hub-Signature: sha256=$(sig "$T/push.json")" && is_error'
ok "none of the rejected deliveries queued a run" runs_count_is "$N"

# ---------- other GitHub answers ----------

cat >"$T/ping.json" <<'JSON'
{"zen": "Keep it logically awesome.", "hook_id": 7,
 "hook": {"type": "Repository", "id": 7, "events": ["push", "pull_request"]},
 "repository": {"name": "app", "full_name": "acme/app"},
 "sender": {"login": "alice"}}
JSON
ok "ping: 202" eval 'github ping 202 "$T/ping.json" && pyj "$T/hook.json" "d[\"runs\"] == []"'
cat >"$T/issues.json" <<'JSON'
{"action": "opened", "issue": {"number": 3, "title": "bug"},
 "repository": {"name": "app", "full_name": "acme/app"},
 "sender": {"login": "alice"}}
JSON
# The repository named by the payload (no ?repo) and by ?repo: both are
# documented ways to name it, so an ignored event is a 200 either way.
ok "an unhandled event (issues): 200, outcome ignored, no run" \
    eval 'github issues 200 "$T/issues.json" && pyj "$T/hook.json" "d[\"runs\"] == [] and d[\"outcome\"].startswith(\"ignored\")"'
ok "an unhandled event (issues) with ?repo=app: 200, outcome ignored" \
    eval 'send "github?repo=app" 200 "$T/issues.json" -H "X-GitHub-Event: issues" -H "X-Hub-Signature-256: sha256=$(sig "$T/issues.json")" && pyj "$T/hook.json" "d[\"runs\"] == [] and d[\"outcome\"].startswith(\"ignored\")"'
ok "an unhandled event with a bad signature: 401" \
    eval 'send "github?repo=app" 401 "$T/issues.json" -H "X-GitHub-Event: issues" -H "X-Hub-Signature-256: sha256=$(sig "$T/push.json")" && is_error'
printf '{"ref": "refs/heads/main", "after": ' >"$T/bad.json"
ok "malformed JSON with a good signature: 400" \
    eval 'github push 400 "$T/bad.json" && is_error'
ok "a push without 'after', signed: 400" \
    eval 'sed "/\"after\"/d" "$T/push.json" >"$T/noafter.json" && github push 400 "$T/noafter.json" && is_error'
ok "an unknown repository (?repo=nope): 404" \
    eval 'send "github?repo=nope" 404 "$T/push.json" -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$(sig "$T/push.json")" && is_error'
ok "none of these queued a run" runs_count_is "$N"

# over LIM_HOOK_BODY (25 MiB): refused on its Content-Length, before the
# body is read (so it is not a recorded delivery)
head -c $((25 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$T/big.json"
big() {
    local got
    got=$(curl -sS -o "$T/hook.json" -w '%{http_code}' \
        -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
        -H "X-Hub-Signature-256: sha256=$(sig "$T/big.json")" \
        --data-binary @"$T/big.json" "$URL/hooks/github?repo=app")
    [ "$got" = 413 ] || { echo "status $got"; return 1; }
}
ok "a body over 25 MiB: 413" eval 'big && is_error'
rm -f "$T/big.json"

# form-encoded (GitHub's application/x-www-form-urlencoded content type):
# payload=<percent-encoded JSON>, signed over the form body
/usr/bin/python3 -c '
import sys, urllib.parse
sys.stdout.write("payload=" + urllib.parse.quote_plus(open(sys.argv[1]).read()))' \
    "$T/push.json" >"$T/push.form"
ok "a form-encoded push with a good signature: 200, one run" \
    eval 'github push 200 "$T/push.form" -H "Content-Type: application/x-www-form-urlencoded" && pyj "$T/hook.json" "len(d[\"runs\"]) == 1"'
FORM_RUN=$(jget runs.0 <"$T/hook.json")

# ---------- GitHub pull_request ----------
# head_ref/base_ref exist only for pull_request events; they come from
# pull_request.head.ref / base.ref, so the log lines prove the payload
# reached the run's context.

cat >"$T/pr.json" <<JSON
{
  "action": "opened",
  "number": 5,
  "pull_request": {
    "number": 5, "state": "open", "title": "Feature X",
    "head": {"ref": "feature/x", "sha": "$FSHA", "label": "acme:feature/x",
             "repo": {"name": "app", "full_name": "acme/app"}},
    "base": {"ref": "main", "sha": "$SHA", "label": "acme:main",
             "repo": {"name": "app", "full_name": "acme/app"}},
    "user": {"login": "bob"}
  },
  "repository": {"name": "app", "full_name": "acme/app",
                 "clone_url": "https://github.example/acme/app.git"},
  "sender": {"login": "bob"}
}
JSON
ok "GitHub pull_request opened: 200 with one run" \
    eval 'github pull_request 200 "$T/pr.json" && pyj "$T/hook.json" "len(d[\"runs\"]) == 1"'
PR_RUN=$(jget runs.0 <"$T/hook.json")
ok "the pull_request run succeeds" run_succeeds "$PR_RUN"
api GET "/api/v1/runs/$PR_RUN" >"$T/prrun.json"
ok "the run's event is pull_request at the head sha" \
    pyj "$T/prrun.json" "d['event'] == 'pull_request' and d['sha'] == '$FSHA' and d['actor'] == 'bob'"
ok "its log shows event, the PR merge ref, sha, head_ref and base_ref" \
    log_has "$PR_RUN" "event=pull_request" "ref=refs/pull/5/merge" "sha=$FSHA" \
        "head_ref=feature/x" "base_ref=main" "actor=bob"

# ---------- Gitea ----------
# X-Gitea-Signature is the bare hex HMAC; a wrong one must leave the run
# count unchanged.

cat >"$T/gitea.json" <<JSON
{
  "secret": "",
  "ref": "refs/heads/main",
  "before": "$ZERO",
  "after": "$SHA",
  "compare_url": "https://gitea.example/acme/app/compare/$SHA",
  "commits": [{"id": "$SHA", "message": "initial commit\n",
               "url": "https://gitea.example/acme/app/commit/$SHA",
               "author": {"name": "Carol", "email": "carol@example.com", "username": "carol"},
               "committer": {"name": "Carol", "email": "carol@example.com", "username": "carol"},
               "timestamp": "2026-11-23T10:00:00Z"}],
  "total_commits": 1,
  "repository": {"id": 9, "name": "app", "full_name": "acme/app",
                 "clone_url": "https://gitea.example/acme/app.git",
                 "default_branch": "main"},
  "pusher": {"id": 1, "login": "carol", "username": "carol", "email": "carol@example.com"},
  "sender": {"id": 1, "login": "carol", "username": "carol"}
}
JSON
N=$(nruns)
ok "Gitea push with a correct X-Gitea-Signature: 200, one run" \
    eval 'send gitea 200 "$T/gitea.json" -H "X-Gitea-Event: push" -H "X-Gitea-Signature: $(sig "$T/gitea.json")" && pyj "$T/hook.json" "len(d[\"runs\"]) == 1"'
GT_RUN=$(jget runs.0 <"$T/hook.json")
ok "the Gitea run is a push at the payload's sha by its pusher" \
    eval 'api GET "/api/v1/runs/$GT_RUN" >"$T/gtrun.json" && pyj "$T/gtrun.json" "d[\"event\"] == \"push\" and d[\"sha\"] == \"$SHA\" and d[\"actor\"] == \"carol\""'
ok "Gitea push with a bad signature: 401, no run" \
    eval 'send gitea 401 "$T/gitea.json" -H "X-Gitea-Event: push" -H "X-Gitea-Signature: $(printf %064d 1)" && is_error && runs_count_is $((N + 1))'

# ---------- GitLab ----------
# The token is compared whole: a wrong (or prefix of the) token is a 401
# and no run.

cat >"$T/gitlab.json" <<JSON
{
  "object_kind": "push",
  "event_name": "push",
  "before": "$ZERO",
  "after": "$SHA",
  "ref": "refs/heads/main",
  "checkout_sha": "$SHA",
  "user_id": 4,
  "user_name": "Dave",
  "user_username": "dave",
  "user_email": "dave@example.com",
  "project_id": 15,
  "project": {"id": 15, "name": "app", "path_with_namespace": "acme/app",
              "namespace": "acme", "default_branch": "main",
              "git_http_url": "https://gitlab.example/acme/app.git",
              "git_ssh_url": "git@gitlab.example:acme/app.git",
              "web_url": "https://gitlab.example/acme/app",
              "visibility_level": 0},
  "commits": [{"id": "$SHA", "message": "initial commit",
               "timestamp": "2026-11-23T10:00:00+00:00",
               "url": "https://gitlab.example/acme/app/-/commit/$SHA",
               "author": {"name": "Dave", "email": "dave@example.com"},
               "added": ["README.md"], "modified": [], "removed": []}],
  "total_commits_count": 1,
  "repository": {"name": "app", "url": "git@gitlab.example:acme/app.git",
                 "homepage": "https://gitlab.example/acme/app"}
}
JSON
N=$(nruns)
ok "GitLab Push Hook with the right X-Gitlab-Token: 200, one run" \
    eval 'send gitlab 200 "$T/gitlab.json" -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: $SECRET" && pyj "$T/hook.json" "len(d[\"runs\"]) == 1"'
GL_RUN=$(jget runs.0 <"$T/hook.json")
ok "the GitLab run succeeds and its log shows push, ref, sha and user" \
    eval 'run_succeeds "$GL_RUN" && log_has "$GL_RUN" "event=push" "ref=refs/heads/main" "sha=$SHA" "actor=dave"'
ok "GitLab with a wrong token: 401" \
    eval 'send gitlab 401 "$T/gitlab.json" -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: not-the-secret-at-all" && is_error'
ok "GitLab with a prefix of the token: 401, no run" \
    eval 'send gitlab 401 "$T/gitlab.json" -H "X-Gitlab-Event: Push Hook" -H "X-Gitlab-Token: ${SECRET%?}" && is_error && runs_count_is $((N + 1))'

# ---------- ferry's post-receive hook (/hooks/git) ----------
# The same HMAC over the hook's stdin, in X-Ferry-Signature-256.

printf '%s %s refs/heads/main\n' "$ZERO" "$SHA" >"$T/git.txt"
N=$(nruns)
ok "/hooks/git with a correct X-Ferry-Signature-256: 200, one run" \
    eval 'send "git?repo=app" 200 "$T/git.txt" -H "X-Ferry-Signature-256: sha256=$(sig "$T/git.txt")" && pyj "$T/hook.json" "len(d[\"runs\"]) == 1"'
GIT_RUN=$(jget runs.0 <"$T/hook.json")
ok "/hooks/git signed with another secret: 401, no run" \
    eval 'send "git?repo=app" 401 "$T/git.txt" -H "X-Ferry-Signature-256: sha256=$(openssl dgst -sha256 -hmac other-secret-0123456789 -r "$T/git.txt" | cut -d" " -f1)" && is_error && runs_count_is $((N + 1))'

# ---------- a branch deletion ----------

cat >"$T/delete.json" <<JSON
{"ref": "refs/heads/feature/x", "before": "$FSHA", "after": "$ZERO",
 "created": false, "deleted": true, "forced": false,
 "commits": [], "head_commit": null,
 "repository": {"name": "app", "full_name": "acme/app"},
 "pusher": {"name": "alice"}, "sender": {"login": "alice"}}
JSON
N=$(nruns)
ok "a branch deletion push: 200 and no run" \
    eval 'github push 200 "$T/delete.json" && pyj "$T/hook.json" "d[\"runs\"] == []" && runs_count_is "$N"'

all_succeed() { local r; for r in "$@"; do run_succeeds "$r" || return 1; done; }
ok "every other run a webhook queued succeeded" all_succeed "$FORM_RUN" "$GT_RUN" "$GIT_RUN"

# ---------- the deliveries ----------
# Every delivery above, newest first, with its source, the status its
# sender saw and the delivery id it gave (the 413 never reached the
# handler).  A delivery not recorded, or recorded with another status,
# breaks the comparison.

api GET /api/v1/deliveries >"$T/deliveries.json"
tac "$T/expect" >"$T/expect.rev"
ok "GET /api/v1/deliveries lists every delivery, newest first" \
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["deliveries"]
got = [(x["source"], str(x["status"]), x["delivery"] or "-") for x in d if x["status"] != 413]
want = [tuple(l.split()) for l in open(sys.argv[2])]
if got != want:
    print("got: ", got); print("want:", want); sys.exit(1)
ids = [x["id"] for x in d]
sys.exit(0 if ids == sorted(ids, reverse=True) else 1)' "$T/deliveries.json" "$T/expect.rev"
ok "the deliveries carry their outcomes" \
    pyj "$T/deliveries.json" '(
[x for x in d["deliveries"] if x["status"] == 202][0]["outcome"] == "pong" and
[x for x in d["deliveries"] if x["event"] == "issues" and x["status"] == 200][0]["outcome"].startswith("ignored") and
not any(x["status"] == 401 for x in d["deliveries"]) and
d["deliveries"][-1]["outcome"] == "1 run queued" and d["deliveries"][-1]["event"] == "push" and
d["deliveries"][-1]["repo"] == "app")'
exit $_failed
