# shellcheck shell=bash
# Sourced by drill.sh: the rolling-restart scenario.

# Every datanode restarted in turn while a reader loops over all files. Each stays down a few
# seconds, as in an upgrade: long enough to go stale, not long enough to be declared dead.
RESTART_DOWNTIME=3
scenario_rolling_restart() {
    start_cluster
    put_set base 6 $((4 << 20))
    local reader id addr t0 since_ts worst=0 took log oks retries fails
    say "reader loop over every file in the background (up to 4 tries per read)"
    in_client 400 "reader_loop base 4" 2>"$WORK/reader.err" &
    reader=$!
    sleep 1
    for id in $(datanode_ids); do
        addr=$(addr_of "$id")
        say "restart $addr (container ${id:0:12}): docker stop, ${RESTART_DOWNTIME}s down, docker start"
        t0=$EPOCHREALTIME
        # Before the restart: the engine's StartedAt can come after the first log lines.
        since_ts=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
        docker stop -t 10 "$id" >/dev/null
        sleep "$RESTART_DOWNTIME"
        docker start "$id" >/dev/null
        wait_until 60 "$addr registered again after its restart" \
            eval "docker logs --since '$since_ts' '$id' 2>&1 | grep -q 'registered with the namenode'"
        wait_until 60 "$addr is live" state_is "$addr" live
        wait_until 60 "every block has 3 live replicas" healthy_without
        wait_until 60 "the namenode lists exactly the replicas on disk (block report in)" inventory_consistent
        took=$(since "$t0")
        worst=$(awk -v a="$worst" -v b="$took" 'BEGIN { print (b > a) ? b : a }')
    done
    FULL=$worst
    in_client 10 'touch /scratch/stop'
    wait "$reader" || fail "the reader loop itself failed"
    log=$(in_client 10 'cat /scratch/reader.log')
    oks=$(grep -c '^OK' <<<"$log" || true)
    retries=$(grep -c '^RETRY' <<<"$log" || true)
    fails=$(grep '^FAIL' <<<"$log" || true)
    BYTES=$((BYTES + $(awk '$1 == "OK" { s += $4 } END { printf "%.0f", s }' <<<"$log")))
    say "reader: $oks reads with identical bytes, $retries retried, $(grep -c . <<<"$fails" || true) failed for good; it switched to another replica $(grep -c 'trying the next' "$WORK/reader.err" || true) times"
    [ -z "$fails" ] || fail "a read failed for good during the rolling restart: $(head -n2 <<<"$fails" | tr '\n' ';')"
    [ "$oks" -gt 0 ] || fail "the reader read nothing"
    verify_set base
}
