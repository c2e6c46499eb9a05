# shellcheck shell=bash
# Sourced by drill.sh: the kill-mid-put scenario.

# The datanode a large put streams to is killed in the middle of a block: the put goes on with
# the others, data intact. 64 MiB blocks fed at ~30 MiB/s: the kill lands in the first block.
scenario_kill_mid_put() {
    start_cluster
    say "making a $BIG_MIB MiB random file in the client"
    in_client 120 "mkdir -p /scratch/big && head -c $((BIG_MIB << 20)) /dev/urandom > /scratch/big/f1 && cd /scratch/big && sha256sum f1 > ../big.sums" ||
        fail "cannot make the file"
    hdfs_c mkdir -p /drill/big
    say "put of $BIG_MIB MiB (64 MiB blocks, fed at ~30 MiB/s) in the background"
    in_client 300 "slow_put /scratch/big/f1 $BIG_MIB /drill/big/f1 64MiB" 2>"$WORK/put.err" &
    local put=$!
    sleep 1.2
    aim_at "$(client_peer 10 || top_holder)"
    strike ", the datanode the put streams to" docker kill
    wait "$put" || fail "the put failed after $VICTIM was killed: $(tail -n1 "$WORK/put.err")"
    say "the put succeeded $(since "$T0")s after the kill; the client said:"
    sed 's/^/    /' "$WORK/put.err" >&2
    grep -q 'pipeline broke' "$WORK/put.err" ||
        fail "the kill did not interrupt a block being written (no pipeline recovery in the client's log)"
    verify_set big
    await_repair 120
    verify_set big
}
