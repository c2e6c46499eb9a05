# shellcheck shell=bash
# Sourced by drill.sh: the pause scenario.

# A datanode is frozen: reads and writes go on around it, it is declared dead and repaired;
# unpaused, it comes back with nothing corrupted. The frozen node is the one readers go to
# first, and reads and writes start at once, before the namenode notices: each may wait out
# one of the client's timeouts (30 s without an answer from a datanode for a read, 60 s for a
# write's ack), but not more.
READ_BOUND=45
WRITE_BOUND=75
scenario_pause() {
    start_cluster
    put_set base 4 $((4 << 20))
    local reads writes out slow
    aim_at "$(reader_preferred base || top_holder)"
    strike ", the datanode readers of /drill/base go to first" docker pause
    say "reading every file and writing new ones while it is frozen (in the background)"
    in_client 400 "verify_set base > /scratch/during-read.out" 2>"$WORK/reads.err" &
    reads=$!
    in_client 400 "put_files during 3 $((4 << 20)) 1MiB > /scratch/during-write.out" 2>"$WORK/writes.err" &
    writes=$!
    # Only the files written before: those being written meanwhile are not done yet.
    FSCK_PATH=/drill/base
    await_repair 150
    FSCK_PATH=/
    wait "$writes" || fail "writing while $VICTIM was frozen failed: $(tail -n1 "$WORK/writes.err")"
    wait "$reads" || fail "the reads while $VICTIM was frozen could not run"
    say "reads and writes during the freeze finished $(since "$T0")s after the pause; the client said:"
    cat "$WORK/reads.err" "$WORK/writes.err" | sed 's/^/    /' >&2
    out=$(in_client 10 'cat /scratch/during-read.out')
    check_reads "a read while $VICTIM was frozen failed" "$out"
    say "reads during the freeze: $(awk '$1 == "OK" { printf "%s %ss, ", $2, $4 }' <<<"$out")all identical"
    slow=$(awk -v b="$READ_BOUND" '$1 == "OK" && $4 > b { printf "%s took %ss, ", $2, $4 }' <<<"$out")
    if [ -n "$slow" ]; then
        fail_later "reads did not go on around the frozen datanode: ${slow}more than one read timeout (bound ${READ_BOUND}s); the client gave up on $VICTIM $(grep -c "replica failed.*datanode=$VICTIM" "$WORK/reads.err" || true) times, each after its 30 s read timeout"
    fi
    out=$(in_client 10 'cat /scratch/during-write.out')
    say "writes during the freeze: ${out:-each took at most 2s}"
    slow=$(awk -v b="$WRITE_BOUND" '$1 == "put" && $NF + 0 > b { printf "%s; ", $0 }' <<<"$out")
    [ -z "$slow" ] || fail_later "writes did not go on around the frozen datanode: $slow(bound ${WRITE_BOUND}s)"
    wait_until 120 "the files written during the freeze have 3 live replicas" healthy_without "$VICTIM"
    verify_set base
    verify_set during
    say "docker unpause $VICTIM"
    docker unpause "$VICTIM_ID" >/dev/null
    await_rejoin
    verify_set base
    verify_set during
}
