#!/usr/bin/env bash
# ferry/deploy, strategy blue-green through `ferry proxy` for production:
# green starts beside blue, is health-checked, takes all traffic in one
# switch while wrk runs (0 failed requests), blue stays for keep-previous
# and then stops; `--rollback` switches back by hand.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"

command -v wrk >/dev/null || { echo "1..0 # SKIP wrk is not installed"; exit 0; }
plan 9
uses_env production
proxy_start || exit 1

R=$T/repo
deploy_repo "$R"
cat >"$T/count.lua" <<'EOF'
-- count answers that are not 2xx (wrk counts socket errors itself)
local bad = 0
response = function(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("sent %d non2xx %d errors %d\n", summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
EOF
dep() {
    deploy_step environment=production version="$1" \
        command="exec /usr/bin/python3 app.py --name $1" instances=2 \
        strategy=blue-green keep-previous="$2" proxy="ferry:$PROXY_ADMIN" \
        health=http:/health health-interval=200ms health-failures=25
}

dep blue 0
ok "blue is deployed" bash -c 'status_is 0 && out_has "deployed blue to '"'production'"'"'

wrk -t1 -c4 -d6s -s "$T/count.lua" "http://$PROXY_LISTEN/" >"$T/wrk.out" 2>&1 &
WRK=$!
_pids+=("$WRK")
sleep 0.5
dep green 1s
wait "$WRK"
ok "green is deployed blue-green" bash -c 'status_is 0 && out_has "[traffic] succeeded: switched to the new version" && out_has "keeping the previous version for"'
ok "blue was stopped only after the switch" bash -c '
    sw=$(grep -n "switched to the new version" "$T/out" | cut -d: -f1)
    st=$(grep -n "production-blue-1 stopped" "$T/out" | cut -d: -f1)
    [ -n "$sw" ] && [ -n "$st" ] && [ "$sw" -lt "$st" ]'
read -r _ SENT _ NON2XX _ ERRS < <(grep '^sent ' "$T/wrk.out")
echo "# wrk during the switch: $SENT requests, $NON2XX non-2xx, $ERRS socket errors"
ok "0 failed requests during the switch ($SENT sent)" bash -c "[ '${SENT:-0}' -gt 100 ] && [ '$NON2XX' = 0 ] && [ '$ERRS' = 0 ] || cat '$T/wrk.out'"
ok "only green answers" bash -c '[ "$(versions_seen 20 | awk "{print \$2}")" = green ]'

load_start
run_ferry __deploy --rollback production --reason "by hand in a test"
load_stop
ok "--rollback brings blue back" bash -c 'status_is 0 && out_has "[rollback] succeeded: blue is back" && out_has "'"'production'"' runs blue again"'
ok "0 failed requests during the rollback ($LOAD_SENT sent)" bash -c "[ $LOAD_SENT -gt 0 ] && [ $LOAD_FAILED = 0 ]"
ok "only blue answers; green is previous" bash -c '
    [ "$(versions_seen 20 | awk "{print \$2}")" = blue ] &&
    [ "$(state_get production previous.version)" = green ]'
ok "no process left over" no_leftovers
