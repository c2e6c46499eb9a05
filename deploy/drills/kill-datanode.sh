# shellcheck shell=bash
# Sourced by drill.sh: the kill-datanode scenario.

# A datanode is killed: declared dead, its blocks copied again, data intact; started again, the
# extra replicas are trimmed.
scenario_kill_datanode() {
    start_cluster
    put_set base 4 $((4 << 20))
    aim_at "$(top_holder)"
    strike ", the datanode with the most replicas" docker kill
    await_repair 120
    verify_set base
    say "docker start $VICTIM"
    local t1=$EPOCHREALTIME
    docker start "$VICTIM_ID" >/dev/null
    await_rejoin
    say "back to exactly 3 replicas per block $(since "$t1")s after the restart"
    verify_set base
}
