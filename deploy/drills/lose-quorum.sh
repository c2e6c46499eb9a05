# shellcheck shell=bash
# Sourced by drill.sh: the lose-quorum scenario.

# Two of the three namenodes are stopped: the leader is left alone and can commit nothing.
# Writes and reads must fail within the client's 20 s call timeout (bound: FAIL_BOUND) with one
# clear "no quorum" line, not hang; with one member started again service resumes and every
# file acknowledged before reads back right.
FAIL_BOUND=30
# quorum_op WHAT CMD: runs CMD (sh, in the client container, at most 60 s); it must fail within
# FAIL_BOUND seconds with exactly one line on stderr, saying "no quorum". OP_SECONDS: how long.
OP_SECONDS=""
quorum_op() {
    local t0 rc=0 err lines
    t0=$EPOCHREALTIME
    timeout -k 5 70 docker exec "$CLIENT" timeout -s KILL 60 sh -c "$2" >/dev/null 2>"$WORK/op.err" || rc=$?
    OP_SECONDS=$(since "$t0")
    err=$(cat "$WORK/op.err")
    lines=$(grep -c . <<<"$err" || true)
    say "$1 without a quorum: exit $rc after ${OP_SECONDS}s, stderr ($lines lines):"
    sed 's/^/    /' <<<"$err" >&2
    [ "$rc" != 0 ] || fail "$1 succeeded with two of three namenodes stopped"
    [ "$rc" != 137 ] && [ "$rc" != 124 ] || fail "$1 hung: killed after 60s"
    awk -v s="$OP_SECONDS" -v b="$FAIL_BOUND" 'BEGIN { exit !(s <= b) }' ||
        fail_later "$1 took ${OP_SECONDS}s to fail (bound ${FAIL_BOUND}s)"
    grep -q 'no quorum: 1 of 3 namenodes reachable' <<<"$err" || fail "$1 failed without saying 'no quorum: 1 of 3 namenodes reachable': $(tail -n1 <<<"$err")"
    [ "$lines" = 1 ] || fail_later "$1 printed $lines lines on stderr, not one"
}

scenario_lose_quorum() {
    start_cluster
    put_set base 4 $((4 << 20))
    local lead s stopped="" back t1
    await_leader 30
    lead=$LEADER
    for s in $NN_SERVICES; do [ "$s" = "$lead" ] || stopped="$stopped $s"; done
    stopped=${stopped# }
    for s in $stopped; do
        say "docker stop $s (a follower; $lead leads)"
        docker stop -t 10 "$(nn_container "$s")" >/dev/null
    done
    quorum_op "a put" 'head -c 1048576 /dev/urandom >/scratch/nq && /usr/local/bin/hdfs put -r 3 -b 1MiB /scratch/nq /drill/no-quorum'
    DETECT=$OP_SECONDS
    quorum_op "a mkdir" '/usr/local/bin/hdfs mkdir -p /drill/no-quorum-dir'
    quorum_op "a read" '/usr/local/bin/hdfs cat /drill/base/f1'
    extra seconds_to_fail_read "$OP_SECONDS"
    quorum_op "an ls" '/usr/local/bin/hdfs ls /drill/base'
    back=${stopped%% *}
    say "docker start $back"
    t1=$EPOCHREALTIME
    docker start "$(nn_container "$back")" >/dev/null
    await_leader 60
    wait_until 60 "a put succeeds again" hdfs_c mkdir -p /drill/after
    extra seconds_to_resume "$(since "$t1")"
    await_caught_up 60 "$back"
    FULL=$(since "$t1")
    verify_set base
    put_set after 2 $((4 << 20))
    verify_set after
    # The put and mkdir sent while the leader was alone may have been applied since (they were in
    # its log): allowed ("a change this call sent may still be applied"), reported.
    say "what the calls made without a quorum left: /drill/no-quorum: $(hdfs_c stat /drill/no-quorum 2>&1 | awk '$1 == "length:" || $1 == "under_construction:" || /not/' | tr '\n' ' '); /drill/no-quorum-dir: $(hdfs_c stat /drill/no-quorum-dir 2>&1 | awk '$1 == "type:" || /not/' | tr '\n' ' ')"
    s=${stopped#* }
    say "docker start $s too"
    docker start "$(nn_container "$s")" >/dev/null
    await_caught_up 60 "$s"
    wait_until 60 "no file is open (lease recovery)" fsck_q no-open-files
    verify_set base
}
