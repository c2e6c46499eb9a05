# shellcheck shell=bash
# Sourced by drill.sh: the partition-leader scenario.

# The leading namenode is cut off the network. A write sent to it (from inside its own container,
# the one place it can still be reached) never succeeds; the others elect a leader and take
# writes; reconnected, the old leader follows and catches up, and the write it was sent is
# nowhere: no split brain.
scenario_partition_leader() {
    start_cluster
    put_set base 4 $((4 << 20))
    local old cid id t0 t1 rc took state
    await_leader 30
    old=$LEADER
    cid=$(nn_container "$old")
    id=${old#nn}
    say "docker network disconnect $NET $old (container ${cid:0:12}), the leader"
    t0=$EPOCHREALTIME
    docker network disconnect "$NET" "$cid"
    DISCONNECTED="$cid=$old"
    say "a put sent to the isolated $old, from inside its container (at most 60s)"
    {
        local rc=0
        timeout -k 5 70 docker exec "$cid" timeout -s KILL 60 sh -c \
            'head -c 1048576 /dev/urandom >/tmp/split && /usr/local/bin/hdfs --quiet --namenode http://127.0.0.1:8020 put -r 3 -b 1MiB /tmp/split /drill/split-brain' || rc=$?
        echo "$rc $(since "$t0")" >"$WORK/isolated.rc"
    } >"$WORK/isolated.out" 2>"$WORK/isolated.err" &
    local iso=$!
    await_leader 30 "$old"
    DETECT=$(since "$t0")
    say "$LEADER leads the majority $DETECT s after the partition"
    put_set during 3 $((4 << 20))
    verify_set during
    wait "$iso" || true
    read -r rc took <"$WORK/isolated.rc"
    state=$(timeout -k 2 20 docker exec "$cid" timeout -s KILL 15 /usr/local/bin/hdfs --quiet \
        --namenode http://127.0.0.1:8020 haadmin -getServiceState "$id" 2>&1 || true)
    say "the isolated $old calls itself '$state'; the put sent to it exited $rc after ${took}s, saying:"
    sed 's/^/    /' "$WORK/isolated.err" >&2
    extra isolated_write_exit "$rc"
    extra isolated_write_seconds "$took"
    [ "$rc" != 0 ] || fail "a put sent to the isolated former leader $old succeeded: split brain"
    say "docker network connect --alias $old $NET $old"
    t1=$EPOCHREALTIME
    docker network connect --alias "$old" "$NET" "$cid"
    DISCONNECTED=""
    await_caught_up 60 "$old"
    FULL=$(since "$t1")
    [ "$(group_q member "$old" role)" = follower ] || fail "$old does not follow after it was reconnected"
    # The put's create went only into the isolated member's log; the majority's newer term
    # replaced it there when it rejoined.
    if hdfs_c stat /drill/split-brain >"$WORK/split.out" 2>&1; then
        fail "/drill/split-brain, written to the isolated leader only, exists after the partition healed: $(tr '\n' ' ' <"$WORK/split.out")"
    fi
    grep -q 'no such file' "$WORK/split.out" || fail "cannot tell whether /drill/split-brain exists: $(tail -n1 "$WORK/split.out")"
    say "/drill/split-brain does not exist: $(tail -n1 "$WORK/split.out")"
    verify_set base
    verify_set during
}
