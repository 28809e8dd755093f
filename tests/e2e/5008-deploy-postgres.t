#!/usr/bin/env bash
# ferry/deploy with a real PostgreSQL: `backup:` takes a pg_dump before
# each version starts; a bad v2 runs a destructive "migration" (deletes
# every other row) and then answers 500 to 1 in 5 requests; the
# error-rate analysis after the blue-green switch fails, ferry switches
# back to v1, stops v2 and runs `restore:` (pg_restore of the dump), and
# the table has all its rows again.  The cluster is a throwaway one in $T
# (unix socket only, no TCP port), stopped by the EXIT trap.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"

# PostgreSQL's server binaries: pg_config, else Debian's versioned
# directories (newest first), else PATH
PGBIN=
if command -v pg_config >/dev/null &&
    [ -x "$(pg_config --bindir)/initdb" ]; then
    PGBIN=$(pg_config --bindir)
else
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        [ -x "$d/initdb" ] && { PGBIN=$d; break; }
    done
    [ -z "$PGBIN" ] && command -v initdb >/dev/null &&
        PGBIN=$(dirname "$(command -v initdb)")
fi
for b in initdb pg_ctl psql pg_dump pg_restore; do
    [ -n "$PGBIN" ] && [ -x "$PGBIN/$b" ] ||
        { echo "1..0 # SKIP PostgreSQL's $b is not installed"; exit 0; }
done
# initdb refuses to run as root: as root, the cluster belongs to postgres
PGRUN=()
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 && command -v runuser >/dev/null ||
        { echo "1..0 # SKIP running as root without a postgres user"; exit 0; }
    PGRUN=(runuser -u postgres --)
fi

plan 10
uses_env production
N=1000
PGDIR=$T/pg
PGDATA=$PGDIR/data
PGPORT=5432 # only names the socket file in $PGDIR: listen_addresses=''
PGSTARTED=

pg_cleanup() {
    [ -n "$PGSTARTED" ] &&
        "${PGRUN[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop \
            >/dev/null 2>&1
    deploy_cleanup
}
trap pg_cleanup EXIT

chmod 755 "$T" # the postgres user reaches its directory in $T
mkdir -p "$PGDIR"
[ "$(id -u)" = 0 ] && chown postgres: "$PGDIR"
"${PGRUN[@]}" "$PGBIN/initdb" -D "$PGDATA" -U ferry --auth=trust -E UTF8 \
    --locale=C --no-sync >"$T/initdb.log" 2>&1 ||
    { echo "# initdb failed:"; sed 's/^/#   /' "$T/initdb.log" | tail -20; exit 1; }
PGSTARTED=1
"${PGRUN[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDIR/pg.log" -w -t 30 \
    -o "-p $PGPORT -k $PGDIR -c listen_addresses='' -c fsync=off" \
    start >"$T/pg_ctl.log" 2>&1 ||
    { echo "# pg_ctl start failed:"; sed 's/^/#   /' "$PGDIR/pg.log" | tail -20; exit 1; }

# every client connects to the cluster's socket as ferry (trust)
CONN="-h $PGDIR -p $PGPORT -U ferry"
PSQL="$PGBIN/psql -X -v ON_ERROR_STOP=1 $CONN"
rows() { $PSQL -d shop -Atc 'SELECT count(*) FROM items'; }
export PSQL

$PSQL -d postgres -qc 'CREATE DATABASE shop' &&
    $PSQL -d shop -qc "CREATE TABLE items (id integer PRIMARY KEY, v text);
        INSERT INTO items SELECT i, md5(i::text) FROM generate_series(1, $N) i" ||
    { echo "# could not create the database"; exit 1; }

proxy_start || exit 1
R=$T/repo
deploy_repo "$R"
BACKUP="$PGBIN/pg_dump -Fc $CONN -d shop -f \"\$FERRY_BACKUP_DIR/db.dump\""
RESTORE="$PGBIN/pg_restore --clean --if-exists $CONN -d shop \"\$FERRY_BACKUP_DIR/db.dump\""
MIGRATE="$PSQL -d shop -c 'DELETE FROM items WHERE id % 2 = 0'"
dep() {
    deploy_step environment=production version="$1" command="$2" \
        instances=2 strategy=blue-green keep-previous=1s \
        proxy="ferry:$PROXY_ADMIN" \
        health=http:/health health-interval=200ms health-failures=25 \
        analysis=error-rate analysis-interval=1s analysis-count=3 \
        analysis-max=5% backup="$BACKUP" restore="$RESTORE"
}

dep v1 "exec /usr/bin/python3 app.py --name v1"
ok "v1 is deployed blue-green, a pg_dump taken first" bash -c '
    status_is 0 && out_has "[backup] succeeded" && out_has "deployed v1"'
BEFORE=$(rows)
ok "$N rows before v2" bash -c "[ '$BEFORE' = $N ]"

load_start
dep v2 "$MIGRATE && exec /usr/bin/python3 app.py --name v2 --fail-rate 0.2"
sleep 0.3
load_stop
cp "$T/out" "$T/v2.out"
AFTER=$(rows)
echo "# rows: $BEFORE before v2, $AFTER after the rollback"
ok "v2's migration deleted $((N / 2)) rows (psql said so in v2's log)" bash -c "
    grep -hsx 'DELETE $((N / 2))' \"\$FERRY_DEPLOY_HOME\"/production/logs/production-v2-*.log ||
    { tail -n 20 \"\$FERRY_DEPLOY_HOME\"/production/logs/production-v2-*.log; exit 1; }"
ok "v2's analysis fails and ferry rolls back" bash -c '
    status_is 1 && out_has "[analysis] failed" &&
    out_has "[rollback] started: to v1" && out_has "[rollback] succeeded: v1 is back"'
ok "the rollback ran the restore phase and verified v1" bash -c '
    out_has "[restore] started" && out_has "[restore] succeeded" &&
    out_has "[verify] succeeded"'
ok "pg_restore brought every row back: $AFTER of $N" bash -c "
    [ '$AFTER' = $N ] &&
    [ \"\$(\$PSQL -d shop -Atc 'SELECT count(*) FROM items WHERE id % 2 = 0')\" = $((N / 2)) ]"
DUMP=$(sed -n 's/^.*\[backup\] succeeded: \(.*\)$/\1/p' "$T/v2.out" | tail -1)/db.dump
echo "# v2's backup: $DUMP"
ok "the backup is a pg_dump archive holding table items" bash -c "
    [ -s '$DUMP' ] && '$PGBIN/pg_restore' -l '$DUMP' | grep -q 'TABLE public items'"
LOST=$(grep -vcE '^(200|500)$' "$T/load.codes")
ok "no request lost: each answer was 200 or v2's own 500 ($LOST lost)" bash -c "
    [ $LOAD_SENT -gt 0 ] && [ $LOST = 0 ] || sort '$T/load.codes' | uniq -c"
ok "v1 answers 100 % of requests" bash -c '
    [ "$(versions_seen 20 | awk "{print \$1, \$2}")" = "20 v1" ]'
# every instance stopped, then the cluster: nothing of either runs
pg_leftovers() {
    no_leftovers || return 1
    "${PGRUN[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop || return 1
    PGSTARTED=
    if pgrep -f "$PGDATA" >/dev/null; then
        echo "left over:"; pgrep -af "$PGDATA"; return 1
    fi
}
ok "no process left over (instances, then the cluster stopped)" pg_leftovers
