#!/usr/bin/env bash
# ferry/deploy, strategy canary with a bad version: v2 answers 500 to 1 in
# 5 requests; the analysis of its counters in `ferry proxy` fails; the
# rollback gives v1 all traffic, stops v2, restores the SQLite backup
# taken by `backup:` (the row count is back) and verifies v1 — with no
# request lost on the way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"

plan 10
uses_env production
proxy_start || exit 1

R=$T/repo
deploy_repo "$R"
DB=$T/app.db
/usr/bin/python3 -c "
import sqlite3; d = sqlite3.connect('$DB')
d.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)')
d.executemany('INSERT INTO items (v) VALUES (?)', [('a',), ('b',), ('c',)])
d.commit()"
# the sqlite3 CLI's .backup when there is one, else python's backup API
if command -v sqlite3 >/dev/null; then
    BACKUP="sqlite3 '$DB' \".backup '\$FERRY_BACKUP_DIR/app.db'\""
    RESTORE="sqlite3 '$DB' \".restore '\$FERRY_BACKUP_DIR/app.db'\""
else
    BACKUP="/usr/bin/python3 -c \"import os, sqlite3; s = sqlite3.connect('$DB'); d = sqlite3.connect(os.environ['FERRY_BACKUP_DIR'] + '/app.db'); s.backup(d); d.close()\""
    RESTORE="/usr/bin/python3 -c \"import os, sqlite3; s = sqlite3.connect(os.environ['FERRY_BACKUP_DIR'] + '/app.db'); d = sqlite3.connect('$DB'); s.backup(d); d.close()\""
fi
# v2's "migration" adds rows when it starts
MIGRATE="/usr/bin/python3 -c \"import sqlite3; d = sqlite3.connect('$DB', timeout=5); d.execute('INSERT INTO items (v) VALUES (1)'); d.commit()\""
dep() {
    deploy_step environment=production version="$1" command="$2" \
        instances=2 strategy=canary proxy="ferry:$PROXY_ADMIN" \
        health=http:/health health-interval=200ms health-failures=25 \
        "steps=- setWeight: 50
- analysis" \
        analysis-interval=1s analysis-count=4 analysis-max=5% \
        backup="$BACKUP" restore="$RESTORE"
}

dep v1 "exec /usr/bin/python3 app.py --name v1 --db $DB"
ok "v1 is deployed by canary, a backup taken first" bash -c 'status_is 0 && out_has "[backup] succeeded" && out_has "deployed v1"'
ok "3 rows before v2" bash -c '[ "$(curl -sS "http://$PROXY_LISTEN/rows")" = 3 ]'

# the load records each answer's status and the backend that gave it
: >"$T/codes"
(
    end=$((SECONDS + 50))
    while [ $SECONDS -lt $end ] && [ ! -e "$T/load.stop" ]; do
        curl -s -o /dev/null -w '%{http_code} %header{x-backend}\n' \
            --max-time 10 "http://$PROXY_LISTEN/" >>"$T/codes"
    done
) &
LOAD=$!
_pids+=("$LOAD")
dep v2 "$MIGRATE && exec /usr/bin/python3 app.py --name v2 --fail-rate 0.2 --db $DB"
sleep 0.5
touch "$T/load.stop"
wait "$LOAD"
ok "v2's analysis fails" bash -c 'status_is 1 && out_matches "^  analysis: .*failed" && out_has "[analysis] failed"'
ok "the rollback restores and verifies v1" bash -c '
    out_has "[rollback] started: to v1" && out_has "[restore] succeeded" &&
    out_has "[verify] succeeded" && out_has "[rollback] succeeded: v1 is back"'
TOOK=$(sed -n 's/.*holds 100 % of traffic \([0-9.]*\) s after the failure/\1/p' "$T/out")
echo "# v1 held 100 % of traffic ${TOOK:-?} s after the failed analysis"
ok "v1 holds all traffic within 5 s of the failed verdict" bash -c "[ -n '$TOOK' ] && awk 'BEGIN { exit !($TOOK < 5) }'"
ok "the backup is restored: 3 rows again" bash -c '[ "$(curl -sS "http://$PROXY_LISTEN/rows")" = 3 ]'
ok "only v1 answers" bash -c '[ "$(versions_seen 20 | awk "{print \$2}")" = v1 ]'
SENT=$(wc -l <"$T/codes")
LOST=$(grep -vcE '^(200 v[12]|500 v2)$' "$T/codes")
echo "# load during the canary and rollback: $SENT requests, $(grep -c '^500 v2' "$T/codes") errors from v2 itself, $LOST lost"
ok "no request lost: every answer came from a backend" bash -c "[ $SENT -gt 0 ] && [ $LOST = 0 ] || sort '$T/codes' | uniq -c"
ok "the errors the analysis saw were v2's own" bash -c "grep -q '^500 v2\$' '$T/codes' && ! grep -q '^500 v1' '$T/codes'"
ok "no process left over" no_leftovers
