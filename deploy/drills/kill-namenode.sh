# shellcheck shell=bash
# Sourced by drill.sh: the kill-namenode scenario.

# The namenode is killed (SIGKILL) during a loop of puts and started again.
scenario_kill_namenode() {
    start_cluster
    local n=30 loop acked failed t1
    say "making $n random files of 4 MiB in the client"
    in_client 120 "make_files nn $n $((4 << 20))" || fail "cannot make the files"
    hdfs_c mkdir -p /drill/nn
    say "put loop in the background (1 MiB blocks, replication 3)"
    in_client 300 "put_loop nn $n" &
    loop=$!
    wait_until 60 "a few puts were acknowledged" in_client 5 "[ -s /scratch/nn.sums ] && [ \$(wc -l < /scratch/nn.sums) -ge 6 ]"
    say "docker kill the namenode (${NN:0:12}) mid-write"
    docker kill "$NN" >/dev/null
    wait "$loop" || fail "the put loop itself failed"
    acked=$(in_client 10 'wc -l < /scratch/nn.sums')
    failed=$(in_client 10 'cat /scratch/nn.failed 2>/dev/null || echo none')
    say "$acked puts acknowledged before the kill; the put of f$failed failed"
    [ "$failed" != none ] || fail "every put succeeded: the namenode was not killed mid-loop"
    say "docker start the namenode"
    t1=$EPOCHREALTIME
    docker start "$NN" >/dev/null
    wait_until 60 "the namenode answers" hdfs_c safemode get
    DETECT=$(since "$t1")
    say "hdfs safemode wait (no operator action; at most 90s)"
    timeout -k 5 100 docker exec "$CLIENT" timeout -s KILL 90 /usr/local/bin/hdfs --quiet safemode wait >/dev/null ||
        fail "the namenode did not leave safe mode by itself within 90s"
    say "... safe mode off $(since "$t1")s after the start (fsck: $(fsck_q fsck-summary))"
    wait_until 120 "every block of every closed file is reported with 3 replicas" fsck_q closed-replicated
    FULL=$(since "$t1")
    verify_set nn
    wait_until 60 "the interrupted file is closed by lease recovery (no open file)" fsck_q no-open-files
    wait_until 60 "fsck is HEALTHY" healthy_without
    put_set after 2 $((4 << 20))
    verify_set after
}
