#!/usr/bin/env bash
# The web dashboard's core and run pages: sign-in and sessions (cookie
# attributes, CSRF, revoked tokens, no open redirect), security headers,
# HTML error pages, escaping, the run page (job graph, reports,
# artifacts, the fallback without a workflow file), and in a real browser
# (tests/browser/runs.mjs: playwright-core + Debian's chromium) the runs
# list, the graph, folded groups, live follow and sign-out.
. "$(dirname "$0")/lib.sh"
plan 43

mkdir -p "$T/src"
workflow "$T/src" ci.yml <<'YML'
name: CI
on: workflow_dispatch
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: mkdir -p out && echo "built" > out/app.txt && echo lint ok
      - uses: actions/upload-artifact@v4
        with:
          name: dist
          path: out
  test:
    name: "test <script>alert(1)</script>"
    needs: lint
    runs-on: ubuntu-latest
    strategy:
      matrix:
        n: [1, 2]
    steps:
      - run: |
          echo "::group::Setup things"
          echo "inside the group"
          echo "::endgroup::"
          echo "<script>alert('x')</script> printed"
          echo '{"kind":"tests","passed":3,"failed":0}' >> "$FERRY_REPORT"
  build:
    needs: [lint]
    runs-on: ubuntu-latest
    steps:
      - run: echo build
  deploy:
    needs: [test, build]
    runs-on: ubuntu-latest
    steps:
      - run: echo deploy
YML
workflow "$T/src" fail.yml <<'YML'
on: workflow_dispatch
jobs:
  broken:
    runs-on: ubuntu-latest
    steps:
      - run: echo "about to fail"; exit 3
YML
workflow "$T/src" slow.yml <<'YML'
on: workflow_dispatch
jobs:
  talk:
    runs-on: ubuntu-latest
    steps:
      - run: |
          for i in $(seq 1 10); do echo "tick $i"; sleep 0.3; done
          echo "::group::Details"
          echo "detail one"
          echo "detail two"
          echo "::endgroup::"
          for i in $(seq 11 20); do echo "tick $i"; sleep 0.3; done
YML
workflow "$T/src" long.yml <<'YML'
on: workflow_dispatch
jobs:
  wait:
    runs-on: ubuntu-latest
    steps:
      - run: echo started; sleep 30
YML
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"
serve_start --slots 4 >/dev/null || { echo "Bail out! no server"; exit 1; }
api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" >/dev/null
dispatch() { api POST "/api/v1/repos/app/workflows/$1/dispatches" -d '{}' | jget runs.0.id; }
RUN_CI=$(dispatch ci.yml)
RUN_FAIL=$(dispatch fail.yml)
wait_run "$RUN_CI" >"$T/ci.concl"
wait_run "$RUN_FAIL" >/dev/null

# page PATH [curl args]: GET a page; headers in $T/h, body in $T/b, status echoed
page() {
    local p=$1
    shift
    curl -sS -D "$T/h" -o "$T/b" -w '%{http_code}' "$@" "$URL$p"
}
hdr() { grep -i "^$1:" "$T/h" | tr -d '\r'; }
export -f page hdr
export URL

# --- sign-in, sessions ---
ok "the CI run succeeded (the pages below show it)" grep -qx success "$T/ci.concl"
ok "a page without a session redirects to /login, keeping the path and query" \
    bash -c "[ \"\$(page '/runs/$RUN_CI/logs?job=7')\" = 303 ] && hdr Location | grep -qx 'Location: /login?next=%2Fruns%2F$RUN_CI%2Flogs%3Fjob%3D7'"
ok "the API's bearer token also opens pages" \
    bash -c "[ \"\$(page /runs -H 'Authorization: Bearer $TOKEN')\" = 200 ] && hdr Content-Type | grep -q 'text/html; charset=utf-8'"

# signin JAR TOKEN [NEXT]: the sign-in form, then its POST; headers in $T/h
signin() {
    local jar=$1 tok=$2 next=${3:-/runs}
    curl -sS -c "$jar" -b "$jar" -o "$T/login.html" "$URL/login"
    local csrf
    csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/login.html")
    curl -sS -c "$jar" -b "$jar" -D "$T/h" -o "$T/b" -w '%{http_code}' \
        --data-urlencode "token=$tok" --data-urlencode "csrf=$csrf" \
        --data-urlencode "next=$next" "$URL/login"
}
export -f signin
ST=$(signin "$T/jar" "$TOKEN" "/runs/$RUN_CI")
cp "$T/h" "$T/login.h"
ok "signing in answers 303 to the page asked for" \
    bash -c "[ '$ST' = 303 ] && grep -qi '^Location: /runs/$RUN_CI' '$T/login.h'"
ok "the session cookie: HttpOnly, SameSite=Strict, Path=/, 12 h, not Secure over plain HTTP" \
    bash -c "c=\$(grep -i '^Set-Cookie: ferry_session=[^;]' '$T/login.h' | tr -d '\r'); echo \"\$c\"; echo \"\$c\" | grep -q '; HttpOnly' && echo \"\$c\" | grep -q '; SameSite=Strict' && echo \"\$c\" | grep -q '; Path=/;' && echo \"\$c\" | grep -q '; Max-Age=43200' && ! echo \"\$c\" | grep -qi secure"
ok "the cookie opens pages" bash -c "[ \"\$(page /runs -b '$T/jar')\" = 200 ] && grep -q 'data-run=\"$RUN_CI\"' '$T/b'"
ok "a bad token is refused with the form again (401)" \
    bash -c "[ \"\$(signin '$T/jar2' $(printf '0%.0s' $(seq 64)))\" = 401 ] && grep -q 'login-error' '$T/b' && ! grep -qi '^Set-Cookie: ferry_session=[^;]' '$T/h'"
ok "sign-in only goes back to local paths (no open redirect)" \
    bash -c "signin '$T/j3' '$TOKEN' '//evil.example/x' >/dev/null && grep -qx 'Location: /' <(hdr Location) && signin '$T/j4' '$TOKEN' 'https://evil.example/' >/dev/null && grep -qx 'Location: /' <(hdr Location)"
ok "a sign-in POST without the form's CSRF token is refused" \
    bash -c "[ \"\$(curl -sS -o /dev/null -w '%{http_code}' --data-urlencode 'token=$TOKEN' '$URL/login')\" = 403 ]"
CSRF=$(page /runs -b "$T/jar" >/dev/null; sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/b" | head -1)
ok "the pages carry a CSRF token in their forms" test "${#CSRF}" = 64
RUN_LONG=$(dispatch long.yml)
for i in $(seq 1 100); do api GET "/api/v1/runs/$RUN_LONG/logs" | grep -q started && break; sleep 0.05; done
ok "a POST without the CSRF token is 403 (cancel, sign-out)" \
    bash -c "[ \"\$(curl -sS -o /dev/null -w '%{http_code}' -b '$T/jar' -X POST '$URL/runs/$RUN_LONG/cancel')\" = 403 ] && [ \"\$(curl -sS -o /dev/null -w '%{http_code}' -b '$T/jar' -d csrf=$(printf 'a%.0s' $(seq 64)) '$URL/logout')\" = 403 ] && [ \"\$(api GET /api/v1/runs/$RUN_LONG | jget status)\" = running ]"
ok "the log of a running job without JavaScript: the lines so far, a refresh link, a stream URL" \
    bash -c "[ \"\$(page /runs/$RUN_LONG/logs -b '$T/jar')\" = 200 ] && grep -q '>started</div>' '$T/b' && grep -q 'id=\"refresh\"' '$T/b' && grep -q 'data-events=\"/runs/$RUN_LONG/events?attempt=1&amp;after=1\.' '$T/b'"
ok "with the CSRF token the same cancel works (303 back to the run)" \
    bash -c "[ \"\$(curl -sS -o /dev/null -D '$T/h' -w '%{http_code}' -b '$T/jar' -d 'csrf=$CSRF' '$URL/runs/$RUN_LONG/cancel')\" = 303 ] && [ \"\$(wait_run $RUN_LONG 20)\" = cancelled ]"
ok "the event stream follows a run with the session cookie" \
    bash -c "timeout 10 curl -sSN -b '$T/jar' '$URL/runs/$RUN_CI/events' >'$T/sse' ; grep -q '^event: line' '$T/sse' && grep -q '^event: end' '$T/sse' && grep -q 'deploy' '$T/sse'"

# --- headers and errors ---
page /runs -b "$T/jar" >/dev/null
ok "pages send CSP (scripts from 'self' only), nosniff, DENY framing, same-origin referrer" \
    bash -c "hdr Content-Security-Policy | grep -q \"script-src 'self';\" && ! hdr Content-Security-Policy | grep -q \"script-src[^;]*unsafe\" && hdr Content-Security-Policy | grep -q \"default-src 'self'\" && hdr X-Content-Type-Options | grep -q nosniff && hdr X-Frame-Options | grep -q DENY && hdr Referrer-Policy | grep -q same-origin"
ok "no inline script on a page; app.js is served as JavaScript" \
    bash -c "! grep -q '<script>' '$T/b' && [ \"\$(page /static/app.js)\" = 200 ] && hdr Content-Type | grep -q text/javascript && grep -q EventSource '$T/b'"
badpage() { # STATUS PATH: an HTML error page with that status
    local st
    st=$(page "$2" -b "$T/jar")
    [ "$st" = "$1" ] && hdr Content-Type | grep -q text/html && grep -q 'class="card err"' "$T/b" || { echo "$2: $st"; head -c 300 "$T/b"; return 1; }
}
export -f badpage
ok "bad input gets an HTML 400, never a 500" \
    bash -c "badpage 400 '/runs?cursor=abc' && badpage 400 '/runs?status=bogus' && badpage 400 '/runs/$RUN_CI/logs?job=x1' && badpage 400 '/runs/$RUN_CI?attempt=9'"
ok "unknown things get an HTML 404" \
    bash -c "badpage 404 /nope && badpage 404 /runs/abc && badpage 404 /runs/999999 && badpage 404 '/runs/$RUN_CI/logs?job=999999' && badpage 404 /runs/$RUN_CI/artifacts/nope"
ok "a wrong method is an HTML 405" \
    bash -c "[ \"\$(curl -sS -o '$T/b' -w '%{http_code}' -X DELETE -b '$T/jar' '$URL/runs')\" = 405 ] && grep -q 'class=\"card err\"' '$T/b'"

# --- the run page ---
page "/runs/$RUN_CI" -b "$T/jar" >/dev/null
cp "$T/b" "$T/run.html"
ok "the run page draws the job graph: 4 nodes, 4 edges from needs" \
    bash -c "[ \$(grep -o '<g class=\"n n-success\" data-id=\"[a-z]*\"' '$T/run.html' | wc -l) = 4 ] && [ \$(grep -o '<path class=\"e\" data-from=\"[a-z]*\" data-to=\"[a-z]*\"' '$T/run.html' | wc -l) = 4 ] && grep -q 'data-from=\"lint\" data-to=\"test\"' '$T/run.html' && grep -q 'data-from=\"build\" data-to=\"deploy\"' '$T/run.html'"
ok "a job name with <script> is escaped" \
    bash -c "grep -q 'test &lt;script&gt;alert(1)&lt;/script&gt;' '$T/run.html' && ! grep -q '<script>alert' '$T/run.html'"
ok "each job lists its steps with a status and a duration" \
    bash -c "[ \$(grep -o '<div class=\"card job\"' '$T/run.html' | wc -l) = 5 ] && grep -q '<span class=\"name\">Run echo deploy</span><span class=\"dur\">[0-9.]* [a-z]*</span>' '$T/run.html'"
ok "the run's reports and artifacts are shown" \
    bash -c "grep -q '<b>passed</b> 3' '$T/run.html' && grep -q 'href=\"/runs/$RUN_CI/artifacts/dist\"' '$T/run.html'"
ok "an artifact downloads as a tar with the session cookie" \
    bash -c "[ \"\$(page /runs/$RUN_CI/artifacts/dist -b '$T/jar')\" = 200 ] && tar -tf '$T/b' | grep -q app.txt"
ok "a log line with <script> is escaped in the log page" \
    bash -c "[ \"\$(page /runs/$RUN_CI/logs -b '$T/jar')\" = 200 ] && grep -q '&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; printed' '$T/b' && ! grep -q \"<script>alert('x')\" '$T/b'"
ok "a ::group:: is folded in a <details> in the log page" \
    bash -c "grep -q '<details><summary>Setup things</summary><div class=\"ln\" id=\"l[0-9]*\"><span class=\"ts\">[0-9:]*</span>inside the group</div></details>' '$T/b'"

# --- a viewer, and a revoked token ---
api POST /api/v1/tokens -d '{"role":"viewer","name":"web-viewer"}' >"$T/viewer.json"
VTOK=$(jget token <"$T/viewer.json")
VID=$(jget id <"$T/viewer.json")
signin "$T/vjar" "$VTOK" >/dev/null
VCSRF=$(page /runs -b "$T/vjar" >/dev/null; sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/b" | head -1)
ok "a viewer may look but not cancel (403 with a good CSRF token)" \
    bash -c "[ \"\$(page /runs/$RUN_CI -b '$T/vjar')\" = 200 ] && ! grep -q 'Cancel run' '$T/b' && [ \"\$(curl -sS -o '$T/b' -w '%{http_code}' -b '$T/vjar' -d 'csrf=$VCSRF' '$URL/runs/$RUN_CI/cancel')\" = 403 ] && grep -q 'developer' '$T/b'"
api DELETE "/api/v1/tokens/$VID" >/dev/null
ok "a revoked token's session is sent back to sign in, its cookie cleared" \
    bash -c "[ \"\$(page /runs -b '$T/vjar')\" = 303 ] && hdr Location | grep -q '/login' && hdr Set-Cookie | grep -q 'ferry_session=; Path=/; Max-Age=0'"
ok "a forged or expired cookie does not open pages" \
    bash -c "v=\$(grep ferry_session '$T/jar' | awk '{print \$7}'); f=\"\${v%%.*}.9999999999.\${v##*.}\"; [ \"\$(page /runs -H \"Cookie: ferry_session=\$f\")\" = 303 ] && [ \"\$(page /runs -H 'Cookie: ferry_session=1.1.00')\" = 303 ]"
ok "the web key is kept in HOME/web.key, mode 0600" \
    bash -c "[ \"\$(stat -c %a '$T/home/web.key')\" = 600 ] && [ \"\$(stat -c %s '$T/home/web.key')\" = 32 ]"

# --- in a browser ---
BROWSER_CHECKS=(
    "login-bad|a bad token is refused on the sign-in page"
    "login-good|a good token signs in and lands on the runs list"
    "runs-filter|the conclusion filter shows only failed runs"
    "run-dag|the run page draws the job graph: its nodes and needs edges"
    "xss|a job name and a log line holding <script> show as text, no script runs"
    "log-group|a ::group:: is folded and opens on a click"
    "live-follow|lines of a running job appear in the page while it runs"
    "live-group|a group printed live is folded too"
    "live-end|the live log ends with the conclusion, no line lost or doubled"
    "run-live|the run page refreshes itself when the run completes"
    "logout|sign-out ends the session"
    "no-script-errors|no script error in any page"
)
why=
command -v node >/dev/null || why="node is missing"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || why="chromium is missing (apt-get install chromium)"
[ -z "$why" ] && [ ! -d "$ROOT/node_modules/playwright-core" ] &&
    why="playwright-core is missing (npm install --no-save playwright-core@1 in the repository)"
if [ -n "$why" ]; then
    for c in "${BROWSER_CHECKS[@]}"; do
        _n=$((_n + 1))
        echo "ok $_n - ${c#*|} # skip $why"
    done
else
    URL=$URL TOKEN=$TOKEN RUN_CI=$RUN_CI RUN_FAIL=$RUN_FAIL REPO=app SHOTS="$T/shots" \
        timeout 120 node "$ROOT/tests/browser/runs.mjs" >"$T/browser.out" 2>&1
    for c in "${BROWSER_CHECKS[@]}"; do
        name=${c%%|*}
        ok "${c#*|}" bash -c "grep -qx 'check $name ok' '$T/browser.out' || { grep '^check $name ' '$T/browser.out' || tail -20 '$T/browser.out'; exit 1; }"
    done
fi

# --- last: the checkout is gone ---
rm -rf "$T/home/src"
ok "without the workflow file the run page lists the jobs instead of a graph" \
    bash -c "[ \"\$(page /runs/$RUN_CI -b '$T/jar')\" = 200 ] && grep -q 'id=\"no-graph\"' '$T/b' && ! grep -q '<svg' '$T/b' && grep -q 'card job' '$T/b'"
