# shellcheck shell=bash
# Sourced by drill.sh: the kill-mid-get scenario.

# The datanode a large read streams from is killed in the middle of a block: the read goes on
# from another replica, data intact.
scenario_kill_mid_get() {
    start_cluster
    put_set big 1 $((BIG_MIB << 20)) 64MiB
    say "read of $BIG_MIB MiB (drained at ~30 MiB/s) in the background"
    in_client 300 "slow_get /drill/big/f1 $BIG_MIB /scratch/get.sum" 2>"$WORK/get.err" &
    local get=$! got want
    # Early: the client buffers ~20 MiB ahead of the reader, and the first block is 64 MiB.
    sleep 0.5
    aim_at "$(client_peer 10 || top_holder)"
    strike ", the datanode the read streams from" docker kill
    wait "$get" || fail "the read's pipeline failed"
    [ "$(in_client 10 'cat /scratch/get.sum.rc')" = 0 ] || fail "the read failed after $VICTIM was killed: $(tail -n1 "$WORK/get.err")"
    got=$(in_client 10 'cut -c1-64 /scratch/get.sum')
    want=$(in_client 10 'cut -c1-64 /scratch/big.sums')
    [ "$got" = "$want" ] || fail "the read returned different bytes: sha256 $got, expected $want"
    BYTES=$((BYTES + (BIG_MIB << 20)))
    say "the read succeeded with identical bytes, $(since "$T0")s after the kill; the client said:"
    sed 's/^/    /' "$WORK/get.err" >&2
    grep -q 'trying the next' "$WORK/get.err" ||
        fail "the kill did not interrupt a block being read (no replica failover in the client's log)"
    await_repair 120
    verify_set big
}
