# shellcheck shell=bash
# The datanode a scenario breaks (sourced by drill.sh, not run): which one to pick, breaking it
# with a timestamp, and the waits that follow: declared dead, repaired around, back and trimmed.

# The datanode holding the most replicas (ties: by address).
top_holder() {
    local a
    a=$(fsck_q holders | awk 'NR == 1 { print $1 }')
    [ -n "$a" ] || return 1
    echo "$a"
}

# The datanode the client is streaming to or from right now (its established connection to a
# :9866 port, seen from the client's network namespace); waits up to $1 seconds.
client_peer() {
    local ip deadline=$((SECONDS + $1))
    command -v nsenter >/dev/null && command -v ss >/dev/null || return 1
    while [ $SECONDS -lt $deadline ]; do
        ip=$(nsenter -t "$CLIENT_PID" -n ss -Htn state established '( dport = :9866 )' 2>/dev/null |
            awk '{ sub(/:9866$/, "", $4); print $4; exit }')
        if [ -n "$ip" ]; then
            # shellcheck disable=SC2046
            docker inspect -f '{{.Config.Hostname}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $(datanode_ids) |
                awk -v ip="$ip" '$2 == ip { print $1 ":9866"; found = 1 } END { exit !found }' && return 0
        fi
        sleep 0.05
    done
    return 1
}

# The datanode that readers of /drill/SET go to first for the most blocks: the one whose
# network interface sends the most while every file of SET is read once.
tx_bytes() {
    local id
    for id in $(datanode_ids); do
        echo "$(addr_of "$id") $(docker exec "$id" cat /sys/class/net/eth0/statistics/tx_bytes)"
    done
}
reader_preferred() {
    local before after
    before=$(tx_bytes) || return 1
    in_client 120 "verify_set $1" >/dev/null || return 1
    after=$(tx_bytes) || return 1
    awk 'NR == FNR { b[$1] = $2; next } { d = $2 - b[$1]; if (d > m) { m = d; a = $1 } } END { if (a == "") exit 1; print a }' \
        <(echo "$before") <(echo "$after")
}

# aim_at ADDRESS: the datanode the scenario breaks, as VICTIM (its address), VICTIM_ID (its
# container) and VICTIM_HOST (its hostname). An empty ADDRESS (no picker answered) fails the drill.
VICTIM="" VICTIM_ID="" VICTIM_HOST=""
aim_at() {
    [ -n "$1" ] || fail "no datanode holds a replica"
    VICTIM=$1
    VICTIM_ID=$(container_of "$VICTIM")
    VICTIM_HOST=${VICTIM%:*}
}

# strike WHY CMD...: runs `CMD... VICTIM_ID` (docker kill, docker pause, ...), said as
# "CMD... VICTIM (container ID)WHY"; T0 is the moment it was done, what the waits are timed from.
T0=""
strike() {
    local why=$1
    shift
    say "$* $VICTIM (container ${VICTIM_ID:0:12})$why"
    T0=$EPOCHREALTIME
    "$@" "$VICTIM_ID" >/dev/null
}

# await_repair TIMEOUT: the victim declared dead (DETECT), then every block (of FSCK_PATH) back
# at 3 live replicas with none on the victim within TIMEOUT seconds (FULL), both since T0.
await_repair() {
    local of=""
    [ "$FSCK_PATH" = / ] || of=" of $FSCK_PATH"
    wait_until 60 "$VICTIM is declared dead" state_is "$VICTIM" dead
    DETECT=$(since "$T0")
    wait_until "$1" "every block$of has 3 live replicas, none on $VICTIM" healthy_without "$VICTIM"
    FULL=$(since "$T0")
}

# await_rejoin: the victim, running again, is live, the copies made while it was gone are
# trimmed back to 3 replicas, and the disks hold exactly what the namenode lists.
await_rejoin() {
    wait_until 60 "$VICTIM is live again" state_is "$VICTIM" live
    wait_until 120 "over-replicated blocks are trimmed" trimmed
    await_inventory
}
