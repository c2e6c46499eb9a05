# shellcheck shell=bash
# The namenode group (sourced by drill.sh, not run): asking it from the client container, finding
# its leader, waiting until a member has caught up, its members' logs, and the put/read loop the
# namenode scenarios run under their faults.

# The group as `hdfs haadmin -report --json` sees it from the client container: every member
# asked directly for its own view (one it cannot reach is listed "unreachable").
group_doc() {
    timeout -k 2 35 docker exec "$CLIENT" timeout -s KILL 30 \
        /usr/local/bin/hdfs --quiet haadmin -report --json 2>/dev/null || true
}
group_q() { group_doc | q "$@"; }

# The member that leads (its service name), or nothing.
leader_now() { group_q leader 2>/dev/null || true; }

# await_leader TIMEOUT [NOT]: waits until a member other than NOT leads; LEADER is it.
LEADER=""
leads_but() {
    LEADER=$(leader_now)
    [ -n "$LEADER" ] && [ "$LEADER" != "$1" ]
}
await_leader() {
    wait_until "$1" "a namenode${2:+ other than $2} leads" leads_but "${2:-}"
}

# await_caught_up TIMEOUT SERVICE: SERVICE answers and follows (or leads), then its applied index
# reaches the leader's as it was once SERVICE answered (a moving target under writes is caught
# up with when the entries the leader had then are applied). CAUGHT_UP: the leader's index.
CAUGHT_UP=""
answers_in_group() {
    local role
    role=$(group_q member "$1" role)
    [ "$role" = follower ] || [ "$role" = leader ]
}
await_caught_up() {
    wait_until "$1" "$2 answers and follows a leader" answers_in_group "$2"
    await_leader "$1"
    CAUGHT_UP=$(group_q member "$LEADER" applied_index)
    wait_until "$1" "$2 has applied the leader's ($LEADER) index $CAUGHT_UP" group_q caught-up "$2" "$CAUGHT_UP"
    say "the group: $(group_q group-summary)"
}

# Every namenode's log lines matching an extended regular expression, the last N of each.
nn_log_lines() {
    local s
    for s in $NN_SERVICES; do
        docker logs "$(nn_container "$s")" 2>&1 | grep -i -E "$1" | tail -n "$2" | sed "s/^/$s: /"
    done
}

# ---------------------------------------------------------------------------------------------
# The loop of 4 MiB puts and reads (image/drill-client.sh, ha_loop) in the client container,
# in the background: start_loop SET BOUND, stop_loop (waits for it, at most 120 s more).
LOOP_PID="" LOOP_SET=""
start_loop() {
    LOOP_SET=$1
    say "put/read loop of 4 MiB files in /drill/$1 in the background (retried for ${2}s per file)"
    in_client 600 "ha_loop $1 $((4 << 20)) $2" 2>"$WORK/loop.err" &
    LOOP_PID=$!
}
loop_log() { in_client 10 "cat /scratch/$LOOP_SET.log 2>/dev/null"; }
# loop_acked: how many puts the loop has had acknowledged.
loop_acked() { loop_log | awk '$1 == "PUT" && $5 == "ok" { n++ } END { print n + 0 }'; }
# loop_acked_after T: whether a put that ended after uptime T was acknowledged.
loop_acked_after() { loop_log | awk -v t="$1" '$1 == "PUT" && $5 == "ok" && $4 > t { ok = 1 } END { exit !ok }'; }
stop_loop() {
    in_client 10 'touch /scratch/stop'
    local deadline=$((SECONDS + 120))
    while kill -0 "$LOOP_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
    kill -0 "$LOOP_PID" 2>/dev/null && fail "the put/read loop did not stop within 120s"
    wait "$LOOP_PID" || fail "the put/read loop itself failed: $(tail -n2 "$WORK/loop.err" | tr '\n' ' ')"
    LOOP_LOG=$(loop_log)
    grep -q '^DONE' <<<"$LOOP_LOG" || fail "the put/read loop ended early: $(tail -n2 <<<"$LOOP_LOG" | tr '\n' ' ')"
}

# The host's uptime, the clock the loop's log uses (containers share the host's kernel).
uptime_now() { cut -d' ' -f1 /proc/uptime; }

# check_loop: after stop_loop, from LOOP_LOG: every read the loop made of a file it had put came
# back identical, no put failed because the file already existed (a create applied twice), and
# the acknowledged files read back now (verify_set). PUTS_OK, PUTS_FAILED, LONGEST_PUT are set.
check_loop() {
    local bad twice
    PUTS_OK=$(awk '$1 == "PUT" && $5 == "ok" { n++ } END { print n + 0 }' <<<"$LOOP_LOG")
    PUTS_FAILED=$(awk '$1 == "PUT" && $5 == "fail" { n++ } END { print n + 0 }' <<<"$LOOP_LOG")
    LONGEST_PUT=$(awk '$1 == "PUT" && $4 - $3 > m { m = $4 - $3 } END { printf "%.1f", m }' <<<"$LOOP_LOG")
    say "loop: $PUTS_OK puts acknowledged, $PUTS_FAILED failed (longest put ${LONGEST_PUT}s including retries), $(grep -c '^GET' <<<"$LOOP_LOG" || true) reads"
    say "the puts that failed or were tried more than once (PUT N START END RESULT TRIES LAST-ERROR, uptime seconds):"
    awk '$1 == "PUT" && ($5 == "fail" || $6 > 1)' <<<"$LOOP_LOG" | sed 's/^/    /' >&2
    bad=$(awk '$1 == "GET" && $5 != "ok"' <<<"$LOOP_LOG")
    [ -z "$bad" ] || fail "a read of a file the loop had just put did not come back identical: $(head -n2 <<<"$bad" | tr '\n' ';')"
    twice=$(awk '$1 == "PUT" && $5 == "fail" && /already exists/' <<<"$LOOP_LOG")
    [ -z "$twice" ] || fail "a put failed on a file that already existed (its create applied twice?): $(head -n1 <<<"$twice")"
    [ "$PUTS_OK" -gt 0 ] || fail "the loop had no put acknowledged"
    extra puts_acknowledged "$PUTS_OK"
    extra puts_failed "$PUTS_FAILED"
    extra longest_put_seconds "$LONGEST_PUT"
    verify_set "$LOOP_SET"
}

# check_whole: every acknowledged file of the loop is exactly 4 MiB in 4 blocks of 1 MiB, closed
# (nothing applied twice or half), and every file whose put failed is absent or a closed prefix of
# what was put (lease recovery); needs lease recovery done (no open file).
check_whole() {
    local shapes out
    FSCK_PATH=/drill/$LOOP_SET
    shapes=$(fsck_doc | python3 -c '
import json, sys
d = json.load(sys.stdin)
for f in d["files_detail"]:
    print(f["path"].rsplit("/", 1)[1], f["length"], len(f["blocks"]), int(f["under_construction"]))') ||
        fail "no fsck answer for the shapes of the files"
    FSCK_PATH=/
    out=$(awk 'NR == FNR { ok[$2] = 1; next } ($1 in ok) { seen[$1] = 1; if ($2 != 4194304 || $3 != 4 || $4 != 0) print }
               END { for (f in ok) if (!(f in seen)) print f, "missing" }' \
        <(in_client 10 "cat /scratch/$LOOP_SET.sums") <(echo "$shapes"))
    [ -z "$out" ] || fail "acknowledged files not exactly 4 MiB in 4 closed blocks (name length blocks open): $(head -n3 <<<"$out" | tr '\n' ';')"
    out=$(in_client 120 "unacked $LOOP_SET") || fail "checking the files whose put failed: the check itself failed"
    say "files whose put failed, now: $(tr '\n' ' ' <<<"${out:-none}")"
    ! grep -q '^BAD' <<<"$out" || fail "a file whose put failed holds what was never written: $(grep '^BAD' <<<"$out" | head -n2 | tr '\n' ';')"
}
