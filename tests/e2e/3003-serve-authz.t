#!/usr/bin/env bash
# ferry serve: the authorization matrix.  Every route of the route table
# (src/server/api.c) is called by every kind of caller: no token, a
# malformed token, a well-formed unknown token, a revoked admin token and
# a token of each role.  Callers without a good token get 401, a role
# below the route's gets 403, a role at or above it gets the route's own
# answer; both refusals are {"error": ...}.  Plus: 404 and 405 before any
# token check, health routes open to all, webhooks closed to tokens, and
# refused calls leave no trace in the repositories, tokens and audit log.
. "$(dirname "$0")/lib.sh"

# ---------- the route table ----------
# METHOD PATH MINROLE OK BODY
#   MINROLE: none (anyone), sig (webhook: a bearer token never stands in
#   for the signature, so every caller gets 401), deploy (only a deploy
#   step's own token: 401 without a token, 403 with any user token), or
#   the least role.  A deployment that waits for nobody cannot be
#   approved (409) and an incident that does not exist is a 404: the
#   state, not the caller, answers those.
#   OK: the answer for a caller that may call it.  A cancel of a completed
#   run is a 409 (the state, not the caller, refuses it).
#   BODY: the JSON body, or - for none.
#   {repo} {run} {job} {file} {artifact} {newsecret} {url} are fixed
#   (the workflow file, its artifact, a secret to set); {who} is the caller;
#   {rerun} {token} {secret} are taken from pools of throwaway objects
#   (a re-run, a token revoke or a secret delete cannot be done twice the
#   same way): each caller allowed to call gets its own; a caller that
#   must be refused targets the object of the next allowed caller, so a
#   call let through by mistake also breaks that caller's point.
ROUTES=(
    'GET    /healthz                                           none      200 -'
    'GET    /readyz                                            none      200 -'
    'POST   /hooks/github?repo={repo}                          sig       401 -'
    'POST   /hooks/gitea?repo={repo}                           sig       401 -'
    'POST   /hooks/gitlab?repo={repo}                          sig       401 -'
    'POST   /hooks/git?repo={repo}                             sig       401 -'
    'GET    /metrics                                           viewer    200 -'
    'GET    /api/v1/whoami                                     viewer    200 -'
    'GET    /api/v1/repos                                      viewer    200 -'
    'POST   /api/v1/repos                                      admin     201 {"name":"tmp-{who}","url":"{url}"}'
    'GET    /api/v1/repos/{repo}                               viewer    200 -'
    'POST   /api/v1/repos/{repo}/workflows/{file}/dispatches   developer 201 {"ref":"main"}'
    'GET    /api/v1/repos/{repo}/secrets                       admin     200 -'
    'PUT    /api/v1/repos/{repo}/secrets/{newsecret}           admin     204 {"value":"v-{who}"}'
    'DELETE /api/v1/repos/{repo}/secrets/{secret}              admin     204 -'
    'GET    /api/v1/runs                                       viewer    200 -'
    'GET    /api/v1/runs/{run}                                 viewer    200 -'
    'POST   /api/v1/runs/{run}/cancel                          developer 409 -'
    'POST   /api/v1/runs/{rerun}/rerun                         developer 201 {"failed_only":false}'
    'GET    /api/v1/runs/{run}/jobs                            viewer    200 -'
    'GET    /api/v1/runs/{run}/logs                            viewer    200 -'
    'GET    /api/v1/runs/{run}/artifacts                       viewer    200 -'
    'GET    /api/v1/runs/{run}/artifacts/{artifact}            viewer    200 -'
    'GET    /api/v1/jobs/{job}                                 viewer    200 -'
    'GET    /api/v1/jobs/{job}/logs                            viewer    200 -'
    'GET    /api/v1/schedules                                  viewer    200 -'
    'GET    /api/v1/tokens                                     admin     200 -'
    'POST   /api/v1/tokens                                     admin     201 {"role":"viewer","name":"tmp-{who}"}'
    'DELETE /api/v1/tokens/{token}                             admin     204 -'
    'GET    /api/v1/environments                               viewer    200 -'
    'GET    /api/v1/repos/{repo}/environments/{env}            viewer    200 -'
    'PUT    /api/v1/repos/{repo}/environments/{newenv}         admin     201 {"reviewers":1}'
    'POST   /api/v1/repos/{repo}/environments/{env}/unlock     admin     200 -'
    'POST   /api/v1/repos/{repo}/environments/{env}/rollback   approver  202 {"reason":"matrix"}'
    'GET    /api/v1/deployments                                viewer    200 -'
    'GET    /api/v1/deployments/{deploy}                       viewer    200 -'
    'POST   /api/v1/deployments/{deploy}/approve               developer 409 -'
    'POST   /api/v1/deployments/{deploy}/reject                developer 409 -'
    'POST   /api/v1/deployments/{deploy}/events                deploy    403 {"phase":"x","status":"y"}'
    'GET    /api/v1/incidents                                  viewer    200 -'
    'GET    /api/v1/incidents/{incident}                       viewer    404 -'
    'GET    /api/v1/alerts                                     viewer    200 -'
    'GET    /api/v1/deliveries                                 admin     200 -'
    'GET    /api/v1/audit                                      admin     200 -'
    'GET    /api/v1/dora                                       viewer    200 -'
    'GET    /api/v1/runs/{run}/reports                         viewer    200 -'
    'GET    /api/v1/repos/{repo}/trends?kind=coverage          viewer    200 -'
)
CALLERS=(none malformed unknown revoked viewer developer approver admin)
declare -A RANK=([viewer]=1 [developer]=2 [approver]=3 [admin]=4)
EXTRA=19
plan $((${#ROUTES[@]} * ${#CALLERS[@]} + EXTRA))

# The table above must cover the server's: each {"METHOD", "/pattern"} of
# api.c's routes[] (":x" captures) has a line here ("{x}" placeholders).
covers_api() {
    local have=() r m p missing=0
    for r in "${ROUTES[@]}"; do
        read -r m p _ <<<"$r"
        p=${p%%\?*}
        have+=("$m $(sed 's/{[a-z]*}/*/g' <<<"$p")")
    done
    while read -r m p; do
        p=$(sed 's/:[a-z]*/*/g' <<<"$p")
        printf '%s\n' "${have[@]}" | grep -qxF "$m $p" ||
            { echo "not in the matrix: $m $p"; missing=1; }
    done < <(grep -oE '\{"[A-Z]+", "/[^"]*"' "$ROOT/src/server/api.c" | tr -d '{",')
    [ "$(grep -cE '\{"[A-Z]+", "/[^"]*"' "$ROOT/src/server/api.c")" -gt 20 ] || { echo "no route table found"; missing=1; }
    return $missing
}

# ---------- a repository and a server ----------

mkdir -p "$T/src"
workflow "$T/src" ci.yml <<'YML'
name: CI
on: [push, workflow_dispatch]
jobs:
  hello:
    runs-on: ubuntu-latest
    steps:
      - run: echo hello >out.txt
      - uses: actions/upload-artifact@v4
        with:
          name: out
          path: out.txt
YML
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"

# call CALLER METHOD PATH [BODY]: one request; the status in $CODE, the
# body in $T/resp, the headers in $T/hdr (one process per call: on a
# busy machine process starts are what the matrix costs)
call() {
    local who=$1 m=$2 p=$3 body=${4:--}
    local args=(-sS -o "$T/resp" -D "$T/hdr" -w '%{http_code}' -X "$m")
    [ -n "${AUTH[$who]:-}" ] && args+=(-H "Authorization: ${AUTH[$who]}")
    [ "$body" != - ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    curl "${args[@]}" "$URL$p" >"$T/code"
    read -r CODE <"$T/code"
    RESPF=$T/resp HDRF=$T/hdr
}

# field NAME: the first value of "NAME" in $T/setup.json (a string or a
# number; bash only, no process per call)
field() {
    local j
    IFS= read -r -d '' j <"$T/setup.json"
    [[ $j =~ \"$1\"[[:space:]]*:[[:space:]]*\"?([^\",}]*) ]] && echo "${BASH_REMATCH[1]}"
}

# setup_api WANT METHOD PATH [curl args]: a setup call as the --init
# admin; bail out on another status
setup_api() {
    local want=$1
    shift
    api "$@" >"$T/setup.json"
    [ "$(<"$T/http_status")" = "$want" ] && return 0
    echo "Bail out! setup: $* -> $(<"$T/http_status") $(<"$T/setup.json")"
    exit 1
}

serve_start || { echo "Bail out! the server did not start"; exit 1; }
setup_api 200 GET /api/v1/whoami
INIT_ID=$(field id)
setup_api 201 POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}"

# the completed runs (dispatched first: they run during the setup)
RUNS=()
for i in 0 1 2 3; do
    setup_api 201 POST /api/v1/repos/app/workflows/ci.yml/dispatches -d '{"ref":"main"}'
    RUNS+=("$(field id)")
done

# one token of each role, made by the --init admin
declare -A AUTH=() ID=()
for r in viewer developer approver admin; do
    setup_api 201 POST /api/v1/tokens -d "{\"role\":\"$r\",\"name\":\"t-$r\"}"
    AUTH[$r]="Bearer $(field token)"
    ID[$r]=$(field id)
done
# a revoked token was an admin: revoking must beat the role
setup_api 201 POST /api/v1/tokens -d '{"role":"admin","name":"t-revoked"}'
AUTH[revoked]="Bearer $(field token)"
REVOKED_ID=$(field id)
setup_api 204 DELETE "/api/v1/tokens/$REVOKED_ID"
AUTH[malformed]="Bearer not-a-token"
AUTH[unknown]="Bearer $(openssl rand -hex 32)"

# pools of throwaway objects, one per caller allowed to use it: tokens
# and secrets to delete (admin), completed runs to re-run (developer,
# approver, admin)
setup_api 201 POST /api/v1/tokens -d '{"role":"viewer","name":"pool0"}'
TOKEN_POOL=("$(field id)")
setup_api 204 PUT /api/v1/repos/app/secrets/DEL_0 -d '{"value":"x0"}'
SECRET_POOL=(DEL_0)
# an environment, and a deployment record (a rollback with nothing to
# roll back to: it ends at once, as failure)
setup_api 201 PUT /api/v1/repos/app/environments/staging -d '{}'
setup_api 202 POST /api/v1/repos/app/environments/staging/rollback -d '{}'
DEPLOY=$(field id)
# wait (30 s at most) until the server lists them all as completed
for i in $(seq 1 600); do
    setup_api 200 GET '/api/v1/runs?repo=app&status=completed'
    IFS= read -r -d '' j <"$T/setup.json"
    k=${j//'"workflow_name"'/}
    [ $(((${#j} - ${#k}) / 15)) -ge ${#RUNS[@]} ] && break
    sleep 0.05
done
setup_api 200 GET '/api/v1/runs?repo=app&conclusion=success'
IFS= read -r -d '' j <"$T/setup.json"
for r in "${RUNS[@]}"; do
    [[ $j == *"{\"id\":$r,"* ]] || {
        echo "Bail out! setup run $r did not succeed: $(api GET "/api/v1/runs/$r")"
        api GET "/api/v1/runs/$r/logs" | sed 's/^/# /'
        exit 1
    }
done
RUN=${RUNS[0]}
RERUN_POOL=("${RUNS[@]:1}")
setup_api 200 GET "/api/v1/runs/$RUN/jobs"
JOB=$(field id)
[ -n "$JOB" ] || { echo "Bail out! no job in run $RUN"; exit 1; }

# ---------- the matrix ----------
# Why it catches a broken check: a missing authentication would answer
# the none/malformed/unknown/revoked callers with the route's own status
# (never 401); a missing or lowered role check would answer a lower role
# with the route's status instead of 403; a raised one would answer a
# sufficient role with 403.  Every (route, caller) pair is a point, and
# the pools make each mutation's success observable (201/204, not 404).

want_for() { # MINROLE OK CALLER: sets WANT, the status this caller should get
    local min=$1 okst=$2 who=$3
    case $min in
    none) WANT=$okst ;;
    sig) WANT=401 ;;
    deploy) if [ "$who" = none ]; then WANT=401; else WANT=403; fi ;;
    *)
        if [ -z "${RANK[$who]:-}" ]; then WANT=401
        elif [ "${RANK[$who]}" -lt "${RANK[$min]}" ]; then WANT=403
        else WANT=$okst
        fi ;;
    esac
}

# the answer of the last call ($RESPF, $HDRF), read without a process
resp() { RESP=; IFS= read -r -d '' RESP <"$RESPF" 2>/dev/null; }
is_error_json() {
    resp
    [[ $RESP =~ ^[[:space:]]*\{[[:space:]]*\"error\"[[:space:]]*:[[:space:]]*\"[^\"] ]]
}
has_www_auth() {
    local h
    IFS= read -r -d '' h <"$HDRF" 2>/dev/null
    [[ ${h,,} == *$'\n'"www-authenticate: bearer"* ]]
}

point() { # DESC RESULT(0/1) [DIAG]
    _n=$((_n + 1))
    if [ "$2" = 0 ]; then
        echo "ok $_n - $1"
    else
        echo "not ok $_n - $1"
        [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
        _failed=1
    fi
}

covers_api >"$T/covers" 2>&1
point "the matrix covers every route of src/server/api.c" $? "$(cat "$T/covers")"

# fill TEMPLATE K: the path or body of a route for a caller; K: the pool
# index (how many callers before this one were allowed)
fill() {
    local x=$1 k=$2
    x=${x//\{repo\}/app}
    x=${x//\{run\}/$RUN}
    x=${x//\{job\}/$JOB}
    x=${x//\{file\}/ci.yml}
    x=${x//\{artifact\}/out}
    x=${x//\{newsecret\}/PUT_ME}
    x=${x//\{rerun\}/${RERUN_POOL[$k]:-0}}
    x=${x//\{token\}/${TOKEN_POOL[$k]:-0}}
    x=${x//\{secret\}/${SECRET_POOL[$k]:-NONE}}
    x=${x//\{who\}/$who}
    x=${x//\{newenv\}/env-$who}
    x=${x//\{env\}/staging}
    x=${x//\{deploy\}/$DEPLOY}
    x=${x//\{incident\}/999999}
    x=${x//\{url\}/$T/app.git}
    FILLED=$x
}

# One curl process per route, one request per caller in it (--next):
# on a busy machine process starts are what the matrix costs.
for route in "${ROUTES[@]}"; do
    read -r method tpath min okst tbody <<<"$route"
    args=()
    wants=()
    k=0
    for i in "${!CALLERS[@]}"; do
        who=${CALLERS[$i]}
        want_for "$min" "$okst" "$who"
        wants[i]=$WANT
        ((i > 0)) && args+=(--next)
        args+=(-sS -o "$T/resp.$i" -D "$T/hdr.$i" -w '%{http_code}\n' -X "$method")
        [ -n "${AUTH[$who]:-}" ] && args+=(-H "Authorization: ${AUTH[$who]}")
        if [ "$tbody" != - ]; then
            fill "$tbody" "$k"
            args+=(-H 'Content-Type: application/json' --data-binary "$FILLED")
        fi
        fill "$tpath" "$k"
        args+=("$URL$FILLED")
        [ "${WANT:0:1}" = 2 ] && k=$((k + 1))
    done
    curl "${args[@]}" >"$T/codes" 2>"$T/curl.err"
    mapfile -t codes <"$T/codes"
    for i in "${!CALLERS[@]}"; do
        who=${CALLERS[$i]}
        want=${wants[i]}
        code=${codes[i]:-none}
        res=0
        diag=
        RESPF=$T/resp.$i HDRF=$T/hdr.$i
        if [ "$code" != "$want" ]; then
            res=1
            resp
            diag="got $code: ${RESP:0:300} $(<"$T/curl.err")"
        elif [ "$want" = 401 ] || [ "$want" = 403 ]; then
            if ! is_error_json; then
                res=1
                diag="not an {\"error\": ...} body: ${RESP:0:300}"
            elif [ "$want" = 401 ] && [ "$min" != sig ] &&
                ! has_www_auth; then
                res=1
                diag="401 without WWW-Authenticate: Bearer"
            fi
        fi
        point "$method $tpath as $who: $want" "$res" "$diag"
    done
done

# ---------- around the matrix ----------
# Routing comes before authentication: an unknown path is a 404 and a
# wrong method a 405 whoever asks, and both are {"error": ...}.

expect() { # DESC WANT CALLER METHOD PATH
    local d=$1 w=$2
    shift 2
    call "$@"
    if [ "$CODE" = "$w" ] && { [ "$w" -lt 400 ] || is_error_json; }; then
        point "$d" 0
    else
        point "$d" 1 "got $CODE, want $w: $(head -c 300 "$T/resp")"
    fi
}
expect "an unknown path without a token: 404" 404 none GET /api/v1/nope
# (paths outside /api/, /hooks/ and the probes are the dashboard's:
# 7001 tests its own 404 page)
expect "an unknown API path as admin: 404" 404 admin GET /api/nope
expect "an unknown path under a known prefix: 404" 404 admin GET "/api/v1/runs/$RUN/nope"
expect "a wrong method on /api/v1/runs: 405" 405 admin DELETE /api/v1/runs
expect "a wrong method on /healthz: 405" 405 none PUT /healthz
expect "GET on a webhook route: 405" 405 none GET /hooks/github
expect "a wrong method without a token: 405" 405 none PATCH /api/v1/tokens/1
expect "an unknown run id as viewer: 404, not 401/403/500" 404 viewer GET /api/v1/runs/999999
AUTH[lower]="bearer ${AUTH[viewer]#Bearer }"
expect "'bearer TOKEN' authenticates" 200 lower GET /api/v1/whoami
AUTH[basic]="Basic ${AUTH[admin]#Bearer }"
expect "an admin token under another scheme: 401" 401 basic GET /api/v1/whoami
call none GET "/api/v1/whoami?access_token=${AUTH[admin]#Bearer }"
point "a token in the query string is not accepted: 401" \
    "$([ "$CODE" = 401 ]; echo $?)" "got $CODE"

# whoami tells each token's role
for r in viewer developer approver admin; do
    call "$r" GET /api/v1/whoami
    point "whoami as $r says role $r" \
        "$(grep -q "\"role\": *\"$r\"" "$T/resp"; echo $?)" "$(cat "$T/resp")"
done

# Refused calls change nothing: of the 8 repository adds and token
# creations only the admin's happened; the audit log holds only the
# admins' actions, and the tokens list shows the revoked token revoked.
api GET /api/v1/repos >"$T/repos.json"
point "only the admin's POST /api/v1/repos created a repository" \
    "$(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["repos"]; sys.exit(0 if sorted(x["name"] for x in r)==["app","tmp-admin"] else 1)' "$T/repos.json"; echo $?)" \
    "$(cat "$T/repos.json")"
api GET /api/v1/tokens >"$T/tokens.json"
point "only the admin's POST /api/v1/tokens made a token; the revoked ones are revoked" \
    "$(/usr/bin/python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["tokens"]
tmp = [x["name"] for x in t if x["name"].startswith("tmp")]
rev = {x["id"] for x in t if x["revoked"]}
want = {int(sys.argv[2]), int(sys.argv[3])}
sys.exit(0 if tmp == ["tmp-admin"] and rev == want else 1)' "$T/tokens.json" "$REVOKED_ID" "${TOKEN_POOL[0]}"; echo $?)" \
    "$(cat "$T/tokens.json")"
api GET /api/v1/audit >"$T/audit.json"
point "the audit log holds who did what: refused calls left no entry" \
    "$(/usr/bin/python3 -c '
import json, sys, collections
a = json.load(open(sys.argv[1]))["audit"]
init, viewer, dev, appr, admin = (int(x) for x in sys.argv[2:7])
who = collections.defaultdict(collections.Counter)
for x in a:
    who[x["action"]][x["token_id"]] += 1
bad = []
def want(action, ids):
    if set(who[action]) != ids:
        bad.append((action, dict(who[action]), ids))
want("run.dispatch", {init, dev, appr, admin})
want("run.rerun", {dev, appr, admin})
for act in ("repo.add", "token.revoke", "secret.set"):
    want(act, {init, admin})
want("token.create", {0, init, admin})  # 0: the --init token itself
want("secret.delete", {admin})
for act in ("repo.add", "token.create", "token.revoke", "secret.set",
            "secret.delete", "run.dispatch", "run.rerun"):
    if who[act][admin] != 1:
        bad.append((act, "admin", who[act][admin]))
if "run.cancel" in who or any(viewer in c for c in who.values()):
    bad.append("cancel or viewer entries")
print(bad)
sys.exit(1 if bad else 0)' "$T/audit.json" "$INIT_ID" \
    "${ID[viewer]}" "${ID[developer]}" "${ID[approver]}" "${ID[admin]}" >"$T/audit.diag" 2>&1; echo $?)" \
    "$(cat "$T/audit.diag"; head -c 1500 "$T/audit.json")"
exit $_failed
