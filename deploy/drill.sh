#!/usr/bin/env bash
# Failure drills against a throwaway compose cluster (deploy/docker-compose.yml): each scenario
# starts its own cluster (a unique compose project), writes random files at replication 3 and
# records their SHA-256, breaks something, checks byte for byte that nothing is lost and that the
# cluster heals without an operator, then removes the cluster, whatever happened.
#
#   deploy/drill.sh [SCENARIO...]        no argument: every scenario, in this order
#
#   kill-datanode    docker kill a datanode; it is declared dead, its blocks are copied again,
#                    every file reads back; docker start it; the extra replicas are trimmed
#   kill-mid-put     kill the datanode a large put is streaming to; the put succeeds
#   kill-mid-get     kill the datanode a large read is streaming from; the read succeeds
#   pause            docker pause the datanode readers prefer: reads and writes go on (each
#                    within one client timeout), it is declared dead and repaired; unpause
#                    brings it back with nothing corrupted
#   partition        docker network disconnect a datanode, then reconnect it
#   kill-namenode    docker kill the namenode during a put loop, start it: acknowledged files
#                    intact, safe mode ends by itself, writes work again
#   rolling-restart  restart every datanode in turn while a reader loops over all files
#   corrupt-replica  flip a byte of a stored replica (replica-tool, container stopped): found,
#                    repaired from a good copy, never served, the bad replica removed
#
# Progress goes to stderr; each scenario ends with one JSON line on stdout:
#   {"scenario":..., "result":"pass"|"fail", "seconds_to_detect":..., "seconds_to_full_replication":...,
#    "bytes_verified":..., "seconds_total":..., "reason":... (on fail)}
# and the exit status is non-zero if any scenario failed. A failed scenario's compose logs are
# kept in DRILL_LOG_DIR (default /tmp). HDFS_IMAGE: the image to use (default: build it).
set -Eeuo pipefail

SCENARIOS=(kill-datanode kill-mid-put kill-mid-get pause partition kill-namenode rolling-restart corrupt-replica)
HERE=$(cd "$(dirname "$0")" && pwd)
DRILL_TIMEOUT=${DRILL_TIMEOUT:-420}

# ---------------------------------------------------------------------------------------------
# Every scenario: run this script again with --one, bounded, and collect its JSON line.
if [ "${1:-}" != "--one" ]; then
    want=("$@")
    [ ${#want[@]} -gt 0 ] || want=("${SCENARIOS[@]}")
    for s in "${want[@]}"; do
        [[ " ${SCENARIOS[*]} " == *" $s "* ]] || {
            echo "drill: unknown scenario '$s' (one of: ${SCENARIOS[*]})" >&2
            exit 2
        }
    done
    docker info >/dev/null 2>&1 || { echo "drill: no Docker engine (docker info failed)" >&2; exit 2; }
    if [ -z "${HDFS_IMAGE:-}" ]; then
        HDFS_IMAGE=$("$HERE/build-images.sh" | tail -n1)
    fi
    export HDFS_IMAGE
    passed=0 failed=0
    for s in "${want[@]}"; do
        started=$SECONDS
        if line=$(timeout -k 90 "$DRILL_TIMEOUT" bash "$HERE/drill.sh" --one "$s"); then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            if [ -z "$line" ]; then
                line=$(printf '{"scenario": "%s", "result": "fail", "seconds_to_detect": null, "seconds_to_full_replication": null, "bytes_verified": 0, "seconds_total": %d, "reason": "drill gave no result (killed after %ss?)"}' \
                    "$s" $((SECONDS - started)) "$DRILL_TIMEOUT")
            fi
        fi
        echo "$line"
    done
    echo "drill: $passed passed, $failed failed" >&2
    [ "$failed" -eq 0 ]
    exit
fi

# ---------------------------------------------------------------------------------------------
# One scenario, in this process. Only the JSON line goes to the real stdout (fd 3).
SCENARIO=$2
exec 3>&1 1>&2
PROJECT="hdfsdrill-${SCENARIO}-$$"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
: "${HDFS_IMAGE:=hdfs-rs:latest}"
export HDFS_IMAGE
export HDFS_NAMENODE_PUBLISH=127.0.0.1::8020 # any free port: drills may run beside a cluster
DATANODES=4
BIG_MIB=128      # the large file of the mid-operation kills
OP_TIMEOUT=150   # bound of one hdfs command (the client's own stalls are 30 s read, 60 s ack)
LOG_DIR=${DRILL_LOG_DIR:-/tmp}

T_START=$EPOCHREALTIME
WORK=$(mktemp -d)
DETECT="" FULL="" BYTES=0 RESULT="" EMITTED="" ERR_REASON=""
DISCONNECTED="" NET="" CLIENT="" NN=""

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[drill %s +%5ss] %s\n' "$SCENARIO" "$(since "$T_START")" "$*" >&2; }

emit() {
    EMITTED=1
    RESULT=$1
    python3 - "$SCENARIO" "$1" "$DETECT" "$FULL" "$BYTES" "$(since "$T_START")" "${2:-}" >&3 <<'PY'
import json, sys
s, result, detect, full, nbytes, total, reason = sys.argv[1:]
num = lambda v: None if v == "" else float(v)
d = {"scenario": s, "result": result, "seconds_to_detect": num(detect),
     "seconds_to_full_replication": num(full), "bytes_verified": int(nbytes), "seconds_total": num(total)}
if result != "pass":
    d["reason"] = reason
print(json.dumps(d))
PY
}

fail() {
    say "FAIL: $*"
    emit fail "$*"
    exit 1
}

# A failed check that does not stop the drill (the data checks after it still tell something);
# the scenario fails at its end with every such reason.
LATER=""
fail_later() {
    say "FAIL (the drill goes on to check the rest): $*"
    LATER="${LATER:+$LATER; }$*"
}

cleanup() {
    local rc=$? id ids
    set +e
    trap - ERR
    [ -n "$EMITTED" ] || { say "FAIL: ${ERR_REASON:-stopped with status $rc}"; emit fail "${ERR_REASON:-stopped with status $rc}"; }
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
    # Unpause and reconnect first, so that nothing below can hang on a frozen container.
    for id in $ids; do
        [ "$(docker inspect -f '{{.State.Paused}}' "$id" 2>/dev/null)" = true ] && docker unpause "$id" >/dev/null
    done
    for id in $DISCONNECTED; do
        docker network connect --alias datanode "$NET" "$id" >/dev/null 2>&1
    done
    if [ "$RESULT" != pass ] && [ -n "$ids" ]; then
        local log="$LOG_DIR/$PROJECT.log"
        timeout 60 docker ps -a --filter "label=com.docker.compose.project=$PROJECT" >"$log" 2>&1
        timeout 60 "${COMPOSE_CMD[@]}" --project-name "$PROJECT" --file "$COMPOSE_FILE_PATH" logs --no-color -t >>"$log" 2>&1
        say "logs of the failed drill kept in $log"
    fi
    timeout 120 "${COMPOSE_CMD[@]}" --project-name "$PROJECT" --file "$COMPOSE_FILE_PATH" down -v --remove-orphans -t 2 >/dev/null 2>&1
    # Whatever compose missed (a failed `down`, a container it no longer knows).
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
    # shellcheck disable=SC2086
    [ -z "$ids" ] || docker rm -f -v $ids >/dev/null 2>&1
    ids=$(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT")
    # shellcheck disable=SC2086
    [ -z "$ids" ] || docker network rm $ids >/dev/null 2>&1
    ids=$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")
    # shellcheck disable=SC2086
    [ -z "$ids" ] || docker volume rm -f $ids >/dev/null 2>&1
    rm -rf "$WORK"
    say "cluster $PROJECT removed"
    [ "$RESULT" = pass ]
}
trap cleanup EXIT
trap 'ERR_REASON="unexpected failure at line $LINENO: $BASH_COMMAND"' ERR
trap 'ERR_REASON="interrupted (drill timeout ${DRILL_TIMEOUT}s?)"; exit 1' TERM INT

# ---------------------------------------------------------------------------------------------
# Helpers. `in_client T SCRIPT` runs SCRIPT under busybox sh in the client container, with the
# functions of image/drill-client.sh, killed after T seconds (inside and outside the container).
in_client() {
    local t=$1
    timeout -k 5 $((t + 10)) docker exec "$CLIENT" timeout -s KILL "$t" \
        sh -c ". /usr/local/share/hdfs/drill-client.sh; $2"
}
hdfs_c() { timeout -k 5 $((OP_TIMEOUT + 10)) docker exec "$CLIENT" timeout -s KILL "$OP_TIMEOUT" /usr/local/bin/hdfs --quiet "$@"; }
FSCK_PATH=/ # what fsck looks at
fsck_doc() {
    timeout -k 2 25 docker exec "$CLIENT" timeout -s KILL 20 \
        /usr/local/bin/hdfs --quiet fsck "$FSCK_PATH" --json --files --blocks --locations 2>/dev/null || true
}
report_doc() { timeout -k 2 25 docker exec "$CLIENT" timeout -s KILL 20 /usr/local/bin/hdfs --quiet report --json 2>/dev/null || true; }
q() { python3 "$HERE/drilljson.py" "$@"; }
fsck_q() { fsck_doc | q "$@"; }
report_q() { report_doc | q "$@"; }

# wait_until TIMEOUT WHAT CMD...: runs CMD every half second until it succeeds; fails the drill
# after TIMEOUT seconds.
wait_until() {
    local timeout=$1 what=$2 t0=$EPOCHREALTIME
    shift 2
    say "waiting (at most ${timeout}s) until $what"
    until "$@"; do
        if awk -v a="$t0" -v b="$EPOCHREALTIME" -v t="$timeout" 'BEGIN { exit !(b - a > t) }'; then
            fail "timed out after ${timeout}s waiting until $what (fsck: $(fsck_q fsck-summary 2>/dev/null || echo no answer))"
        fi
        sleep 0.5
    done
    say "... $what (after $(since "$t0")s)"
}

# The datanode containers (kill, start, pause keep a container's id; read once at start).
DN_IDS=""
datanode_ids() { echo "$DN_IDS"; }
hostname_of() { docker inspect -f '{{.Config.Hostname}}' "$1"; }
addr_of() { echo "$(hostname_of "$1"):9866"; }
# The container of a datanode address (its host part is the container's hostname).
container_of() {
    local id
    for id in $(datanode_ids); do
        [ "$(addr_of "$id")" = "$1" ] && { echo "$id"; return 0; }
    done
    return 1
}

state_is() { [ "$(report_q state "$1")" = "$2" ]; }
# shellcheck disable=SC2120 # called with and without addresses
healthy_without() { fsck_q fsck-healthy "$@"; }
trimmed() { fsck_q fsck-trimmed; }

# Every replica file on every datanode is one the namenode lists, and the other way round: no
# replica lost, no orphan left behind. Needs every datanode running.
inventory_consistent() {
    local known ondisk id host
    known=$(fsck_q inventory | sort) || return 1
    ondisk=$(for id in $(datanode_ids); do
        host=$(hostname_of "$id")
        docker exec "$id" /usr/local/bin/replica-tool list --data-dir "/data/$host" | awk -v a="$host:9866" '{ print a, $1 }'
    done | sort) || return 1
    [ -n "$known" ] && [ "$known" = "$ondisk" ]
}

start_cluster() {
    say "starting cluster $PROJECT ($HDFS_IMAGE): 1 namenode, $DATANODES datanodes, 1 client"
    local out
    out=$(timeout 180 "${COMPOSE_CMD[@]}" --project-name "$PROJECT" --file "$COMPOSE_FILE_PATH" \
        up -d --scale "datanode=$DATANODES" 2>&1) || fail "compose up failed: $(tail -n3 <<<"$out" | tr '\n' ' ')"
    wait_healthy 90 || fail "the cluster was not healthy within 90s"
    CLIENT=$(service_id client)
    NN=$(service_id namenode)
    DN_IDS=$(service_ids datanode)
    CLIENT_PID=$(docker inspect -f '{{.State.Pid}}' "$CLIENT")
    NET=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$CLIENT" | awk '{ print $1 }')
    [ "$(report_q live-count)" = "$DATANODES" ] || fail "expected $DATANODES live datanodes at start"
    say "cluster up: namenode ${NN:0:12}, datanodes $(datanode_ids | cut -c1-12 | tr "\n" " ")"
}

# put_set SET COUNT SIZE [BLOCKSIZE]: random files put at replication 3, sums recorded.
put_set() {
    say "writing $2 random files of $3 bytes to /drill/$1 (replication 3, ${4:-1MiB} blocks)"
    in_client 300 "put_files $1 $2 $3 ${4:-1MiB}" || fail "writing /drill/$1 failed"
}

# verify_set SET: every file of SET reads back with its recorded SHA-256.
verify_set() {
    local out bad n
    out=$(in_client 600 "verify_set $1") || fail "verifying /drill/$1: the check itself failed"
    bad=$(grep '^BAD' <<<"$out" || true)
    [ -z "$bad" ] || fail "/drill/$1: $(head -n3 <<<"$bad" | tr '\n' ';')"
    n=$(awk '$1 == "OK" { s += $3 } END { printf "%.0f", s }' <<<"$out")
    BYTES=$((BYTES + n))
    say "verified /drill/$1: $(grep -c '^OK' <<<"$out") files, $n bytes, SHA-256 identical (slowest read $(awk '$1 == "OK" && $4 > m { m = $4 } END { print m + 0 }' <<<"$out")s)"
}

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

# ---------------------------------------------------------------------------------------------
# Scenarios.

# A datanode is killed: declared dead, its blocks copied again, data intact; started again, the
# extra replicas are trimmed.
scenario_kill_datanode() {
    start_cluster
    put_set base 4 $((4 << 20))
    local victim id t0 t1
    victim=$(top_holder) || fail "no datanode holds a replica"
    id=$(container_of "$victim")
    say "docker kill $victim (container ${id:0:12}, the datanode with the most replicas)"
    t0=$EPOCHREALTIME
    docker kill "$id" >/dev/null
    wait_until 60 "$victim is declared dead" state_is "$victim" dead
    DETECT=$(since "$t0")
    wait_until 120 "every block is back to 3 live replicas, none on $victim" healthy_without "$victim"
    FULL=$(since "$t0")
    verify_set base
    say "docker start $victim"
    t1=$EPOCHREALTIME
    docker start "$id" >/dev/null
    wait_until 60 "$victim is live again" state_is "$victim" live
    wait_until 120 "over-replicated blocks are trimmed" trimmed
    wait_until 60 "the replicas on disk are exactly those the namenode lists" inventory_consistent
    say "back to exactly 3 replicas per block $(since "$t1")s after the restart"
    verify_set base
}

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
    local put=$! victim id t0
    sleep 1.2
    victim=$(client_peer 10) || victim=$(top_holder) || fail "no datanode to kill"
    id=$(container_of "$victim")
    say "docker kill $victim (container ${id:0:12}), the datanode the put streams to"
    t0=$EPOCHREALTIME
    docker kill "$id" >/dev/null
    wait "$put" || fail "the put failed after $victim was killed: $(tail -n1 "$WORK/put.err")"
    say "the put succeeded $(since "$t0")s after the kill; the client said:"
    sed 's/^/    /' "$WORK/put.err" >&2
    grep -q 'pipeline broke' "$WORK/put.err" ||
        fail "the kill did not interrupt a block being written (no pipeline recovery in the client's log)"
    verify_set big
    wait_until 60 "$victim is declared dead" state_is "$victim" dead
    DETECT=$(since "$t0")
    wait_until 120 "every block has 3 live replicas, none on $victim" healthy_without "$victim"
    FULL=$(since "$t0")
    verify_set big
}

# The datanode a large read streams from is killed in the middle of a block: the read goes on
# from another replica, data intact.
scenario_kill_mid_get() {
    start_cluster
    put_set big 1 $((BIG_MIB << 20)) 64MiB
    say "read of $BIG_MIB MiB (drained at ~30 MiB/s) in the background"
    in_client 300 "slow_get /drill/big/f1 $BIG_MIB /scratch/get.sum" 2>"$WORK/get.err" &
    local get=$! victim id t0 got want
    # Early: the client buffers ~20 MiB ahead of the reader, and the first block is 64 MiB.
    sleep 0.5
    victim=$(client_peer 10) || victim=$(top_holder) || fail "no datanode to kill"
    id=$(container_of "$victim")
    say "docker kill $victim (container ${id:0:12}), the datanode the read streams from"
    t0=$EPOCHREALTIME
    docker kill "$id" >/dev/null
    wait "$get" || fail "the read's pipeline failed"
    [ "$(in_client 10 'cat /scratch/get.sum.rc')" = 0 ] || fail "the read failed after $victim was killed: $(tail -n1 "$WORK/get.err")"
    got=$(in_client 10 'cut -c1-64 /scratch/get.sum')
    want=$(in_client 10 'cut -c1-64 /scratch/big.sums')
    [ "$got" = "$want" ] || fail "the read returned different bytes: sha256 $got, expected $want"
    BYTES=$((BYTES + (BIG_MIB << 20)))
    say "the read succeeded with identical bytes, $(since "$t0")s after the kill; the client said:"
    sed 's/^/    /' "$WORK/get.err" >&2
    grep -q 'trying the next' "$WORK/get.err" ||
        fail "the kill did not interrupt a block being read (no replica failover in the client's log)"
    wait_until 60 "$victim is declared dead" state_is "$victim" dead
    DETECT=$(since "$t0")
    wait_until 120 "every block has 3 live replicas, none on $victim" healthy_without "$victim"
    FULL=$(since "$t0")
    verify_set big
}

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
    local victim id t0 reads writes out slow
    victim=$(reader_preferred base) || victim=$(top_holder) || fail "no datanode holds a replica"
    id=$(container_of "$victim")
    say "docker pause $victim (container ${id:0:12}), the datanode readers of /drill/base go to first"
    t0=$EPOCHREALTIME
    docker pause "$id" >/dev/null
    say "reading every file and writing new ones while it is frozen (in the background)"
    in_client 400 "verify_set base > /scratch/during-read.out" 2>"$WORK/reads.err" &
    reads=$!
    in_client 400 "put_files during 3 $((4 << 20)) 1MiB > /scratch/during-write.out" 2>"$WORK/writes.err" &
    writes=$!
    wait_until 60 "$victim is declared dead" state_is "$victim" dead
    DETECT=$(since "$t0")
    # Only the files written before: those being written meanwhile are not done yet.
    FSCK_PATH=/drill/base
    wait_until 150 "every block of /drill/base has 3 live replicas, none on $victim" healthy_without "$victim"
    FULL=$(since "$t0")
    FSCK_PATH=/
    wait "$writes" || fail "writing while $victim was frozen failed: $(tail -n1 "$WORK/writes.err")"
    wait "$reads" || fail "the reads while $victim was frozen could not run"
    say "reads and writes during the freeze finished $(since "$t0")s after the pause; the client said:"
    cat "$WORK/reads.err" "$WORK/writes.err" | sed 's/^/    /' >&2
    out=$(in_client 10 'cat /scratch/during-read.out')
    if grep -q '^BAD' <<<"$out"; then
        fail "a read while $victim was frozen failed: $(grep '^BAD' <<<"$out" | head -n2 | tr '\n' ';')"
    fi
    BYTES=$((BYTES + $(awk '$1 == "OK" { s += $3 } END { printf "%.0f", s }' <<<"$out")))
    say "reads during the freeze: $(awk '$1 == "OK" { printf "%s %ss, ", $2, $4 }' <<<"$out")all identical"
    slow=$(awk -v b="$READ_BOUND" '$1 == "OK" && $4 > b { printf "%s took %ss, ", $2, $4 }' <<<"$out")
    if [ -n "$slow" ]; then
        fail_later "reads did not go on around the frozen datanode: ${slow}more than one read timeout (bound ${READ_BOUND}s); the client gave up on $victim $(grep -c "replica failed.*datanode=$victim" "$WORK/reads.err" || true) times, once per block, each after its 30 s read timeout (it does not remember a datanode that failed for the next block)"
    fi
    out=$(in_client 10 'cat /scratch/during-write.out')
    say "writes during the freeze: ${out:-each took at most 2s}"
    slow=$(awk -v b="$WRITE_BOUND" '$1 == "put" && $NF + 0 > b { printf "%s; ", $0 }' <<<"$out")
    [ -z "$slow" ] || fail_later "writes did not go on around the frozen datanode: $slow(bound ${WRITE_BOUND}s)"
    wait_until 120 "the files written during the freeze have 3 live replicas" healthy_without "$victim"
    verify_set base
    verify_set during
    say "docker unpause $victim"
    docker unpause "$id" >/dev/null
    wait_until 60 "$victim is live again" state_is "$victim" live
    wait_until 120 "over-replicated blocks are trimmed" trimmed
    wait_until 60 "the replicas on disk are exactly those the namenode lists" inventory_consistent
    verify_set base
    verify_set during
}

# A datanode is cut off the network, then reconnected.
scenario_partition() {
    start_cluster
    put_set base 4 $((4 << 20))
    local victim id t0 host
    victim=$(top_holder) || fail "no datanode holds a replica"
    id=$(container_of "$victim")
    host=${victim%:*}
    say "docker network disconnect $NET $victim (container ${id:0:12})"
    t0=$EPOCHREALTIME
    docker network disconnect "$NET" "$id"
    DISCONNECTED=$id
    wait_until 60 "$victim is declared dead" state_is "$victim" dead
    DETECT=$(since "$t0")
    wait_until 120 "every block has 3 live replicas, none on $victim" healthy_without "$victim"
    FULL=$(since "$t0")
    verify_set base
    say "docker network connect --alias datanode $NET $victim"
    docker network connect --alias datanode "$NET" "$id"
    DISCONNECTED=""
    in_client 10 "nslookup $host >/dev/null" || fail "$host does not resolve after reconnecting"
    wait_until 60 "$victim is live again" state_is "$victim" live
    wait_until 120 "over-replicated blocks are trimmed" trimmed
    wait_until 60 "the replicas on disk are exactly those the namenode lists" inventory_consistent
    verify_set base
}

# The namenode is killed (SIGKILL) during a loop of puts and started again.
scenario_kill_namenode() {
    start_cluster
    local n=30 loop acked failed t0 t1
    say "making $n random files of 4 MiB in the client"
    in_client 120 "make_files nn $n $((4 << 20))" || fail "cannot make the files"
    hdfs_c mkdir -p /drill/nn
    say "put loop in the background (1 MiB blocks, replication 3)"
    in_client 300 "put_loop nn $n" &
    loop=$!
    wait_until 60 "a few puts were acknowledged" in_client 5 "[ -s /scratch/nn.sums ] && [ \$(wc -l < /scratch/nn.sums) -ge 6 ]"
    say "docker kill the namenode (${NN:0:12}) mid-write"
    t0=$EPOCHREALTIME
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

# A stored replica is damaged while its datanode is stopped: found, repaired, never served.
scenario_corrupt_replica() {
    start_cluster
    put_set base 3 $((4 << 20))
    local block victim id host vol other ohost dir good bad t0
    block=$(fsck_doc | python3 -c 'import json,sys; d=json.load(sys.stdin); print(next(f for f in d["files_detail"] if f["path"] == "/drill/base/f1")["blocks"][1]["block_id"])') ||
        fail "cannot find the blocks of /drill/base/f1"
    mapfile -t holders < <(fsck_q locations "$block")
    [ ${#holders[@]} -ge 2 ] || fail "block $block has fewer than 2 replicas"
    victim=${holders[0]}
    other=${holders[1]}
    id=$(container_of "$victim")
    host=${victim%:*}
    ohost=${other%:*}
    dir=$(printf '%02x' $((block & 255)))
    vol=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Name}}{{end}}{{end}}' "$id")
    good=$(docker exec "$(container_of "$other")" sha256sum "/data/$ohost/blocks/$dir/blk_$block" | cut -c1-64)
    say "docker stop $victim; replica-tool corrupt --block $block on its volume $vol; docker start"
    docker stop -t 10 "$id" >/dev/null
    docker run --rm --network none -v "$vol:/data" --entrypoint /usr/local/bin/replica-tool "$HDFS_IMAGE" \
        corrupt --data-dir "/data/$host" --block "$block" >&2 || fail "replica-tool corrupt failed"
    bad=$(docker run --rm --network none -v "$vol:/data" --entrypoint /bin/sha256sum "$HDFS_IMAGE" \
        "/data/$host/blocks/$dir/blk_$block" | cut -c1-64)
    [ "$bad" != "$good" ] || fail "replica-tool did not change the replica"
    t0=$EPOCHREALTIME
    docker start "$id" >/dev/null
    # Found: the namenode lists the replica as corrupt, or it is already gone or replaced.
    found() {
        fsck_q corrupt-at "$block" "$victim" && return 0
        local h
        h=$(docker exec "$id" sha256sum "/data/$host/blocks/$dir/blk_$block" 2>/dev/null | cut -c1-64)
        [ "$h" != "$bad" ]
    }
    say "reading every file while the damaged replica is there (a read may hit it)"
    verify_set base
    wait_until 60 "the corruption of block $block on $victim is found" found
    DETECT=$(since "$t0")
    say "what the datanode and the namenode logged about it:"
    { docker logs "$id" 2>&1 | grep -i -E 'corrupt|checksum' | tail -n 3
      docker logs "$NN" 2>&1 | grep -i -E 'corrupt|bad replica|bad block' | tail -n 3; } | sed 's/^/    /' >&2 || true
    gone() {
        local h
        h=$(docker exec "$id" sha256sum "/data/$host/blocks/$dir/blk_$block" 2>/dev/null | cut -c1-64)
        [ "$h" != "$bad" ] && healthy_without
    }
    wait_until 120 "block $block has 3 good replicas and the damaged one is gone" gone
    FULL=$(since "$t0")
    local a h
    for a in $(fsck_q locations "$block"); do
        h=$(docker exec "$(container_of "$a")" sha256sum "/data/${a%:*}/blocks/$dir/blk_$block" | cut -c1-64)
        [ "$h" = "$good" ] || fail "replica of block $block on $a differs from the good copy"
    done
    say "every replica of block $block is byte-identical to the good copy"
    wait_until 60 "the replicas on disk are exactly those the namenode lists" inventory_consistent
    verify_set base
}

case $SCENARIO in
    kill-datanode) scenario_kill_datanode ;;
    kill-mid-put) scenario_kill_mid_put ;;
    kill-mid-get) scenario_kill_mid_get ;;
    pause) scenario_pause ;;
    partition) scenario_partition ;;
    kill-namenode) scenario_kill_namenode ;;
    rolling-restart) scenario_rolling_restart ;;
    corrupt-replica) scenario_corrupt_replica ;;
    *) fail "unknown scenario $SCENARIO" ;;
esac
[ -z "$LATER" ] || fail "$LATER"
# Every scenario ends by reading its files back: a pass with nothing verified is no pass.
[ "${BYTES:-0}" -gt 0 ] || fail "no bytes were verified (the scenario ended before its data checks)"
say "PASS"
emit pass
