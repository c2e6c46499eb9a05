# shellcheck shell=bash
# Sourced by drill.sh: the partition scenario.

# A datanode is cut off the network, then reconnected.
scenario_partition() {
    start_cluster
    put_set base 4 $((4 << 20))
    aim_at "$(top_holder)"
    strike "" docker network disconnect "$NET"
    DISCONNECTED=$VICTIM_ID
    await_repair 120
    verify_set base
    say "docker network connect --alias datanode $NET $VICTIM"
    docker network connect --alias datanode "$NET" "$VICTIM_ID"
    DISCONNECTED=""
    in_client 10 "nslookup $VICTIM_HOST >/dev/null" || fail "$VICTIM_HOST does not resolve after reconnecting"
    await_rejoin
    verify_set base
}
