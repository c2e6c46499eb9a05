# shellcheck shell=bash
# What every drill scenario shares (sourced by drill.sh, not run): the JSON result line, progress
# and failure, the cleanup, the client container, fsck and report questions, waits with
# deadlines, the cluster's start, and the data sets written and read back byte for byte.
# Only functions: drill.sh sets the state they use (SCENARIO, PROJECT, WORK, T_START, ...).

# result_json SCENARIO RESULT DETECT FULL BYTES TOTAL [REASON [KEY=VALUE...]]: the one line a
# scenario ends with (numbers as given, "" for null; the reason only when the result is not a
# pass; KEY=VALUE: a scenario's own fields, a number or a string).
result_json() {
    python3 - "$@" <<'PY'
import json, sys
s, result, detect, full, nbytes, total = sys.argv[1:7]
reason = sys.argv[7] if len(sys.argv) > 7 else ""
def num(v):
    try:
        return None if v == "" else json.loads(v)
    except ValueError:
        return v
d = {"scenario": s, "result": result, "seconds_to_detect": num(detect),
     "seconds_to_full_replication": num(full), "bytes_verified": int(nbytes)}
for kv in sys.argv[8:]:
    k, v = kv.split("=", 1)
    d[k] = num(v)
d["seconds_total"] = num(total)
if result != "pass":
    d["reason"] = reason
print(json.dumps(d))
PY
}

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[drill %s +%5ss] %s\n' "$SCENARIO" "$(since "$T_START")" "$*" >&2; }

# extra KEY VALUE: a field of this scenario's JSON line besides the common ones.
EXTRAS=()
extra() { EXTRAS+=("$1=$2"); }

emit() {
    EMITTED=1
    RESULT=$1
    result_json "$SCENARIO" "$1" "$DETECT" "$FULL" "$BYTES" "$(since "$T_START")" "${2:-}" "${EXTRAS[@]}" >&3
}

fail() {
    say "FAIL: $*"
    emit fail "$*"
    exit 1
}

# A failed check that does not stop the drill (the data checks after it still tell something);
# the scenario fails at its end with every such reason.
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
    # "CONTAINER=ALIAS" each: the service name the container is found by on the network.
    for id in $DISCONNECTED; do
        docker network connect --alias "${id#*=}" "$NET" "${id%%=*}" >/dev/null 2>&1
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

# `in_client T SCRIPT` runs SCRIPT under busybox sh in the client container, with the functions
# of image/drill-client.sh, killed after T seconds (inside and outside the container).
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
q() { python3 "$DEPLOY_DIR/drilljson.py" "$@"; }
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
await_inventory() {
    wait_until 60 "the replicas on disk are exactly those the namenode lists" inventory_consistent
}

# The namenodes: NN_SERVICES their compose services ("namenode", or the group's "nn1 nn2 nn3"),
# NN the container of the first; nn_container SERVICE the container of one (read at start).
NN_SERVICES="" NN_CONTAINERS=""
nn_container() { awk -v s="$1" '$1 == s { print $2 }' <<<"$NN_CONTAINERS"; }
nn_containers() { awk '{ print $2 }' <<<"$NN_CONTAINERS"; }

start_cluster() {
    local s
    say "starting cluster $PROJECT ($HDFS_IMAGE, $(basename "$COMPOSE_FILE_PATH")): $NAMENODES namenode(s), $DATANODES datanodes, 1 client"
    local out
    out=$(timeout 180 "${COMPOSE_CMD[@]}" --project-name "$PROJECT" --file "$COMPOSE_FILE_PATH" \
        up -d --scale "datanode=$DATANODES" 2>&1) || fail "compose up failed: $(tail -n3 <<<"$out" | tr '\n' ' ')"
    wait_healthy 90 || fail "the cluster was not healthy within 90s"
    CLIENT=$(service_id client)
    if [ "$NAMENODES" = 1 ]; then NN_SERVICES=namenode; else NN_SERVICES="nn1 nn2 nn3"; fi
    NN_CONTAINERS=$(for s in $NN_SERVICES; do echo "$s $(service_id "$s")"; done)
    NN=$(nn_container "${NN_SERVICES%% *}")
    DN_IDS=$(service_ids datanode)
    CLIENT_PID=$(docker inspect -f '{{.State.Pid}}' "$CLIENT")
    NET=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$CLIENT" | awk '{ print $1 }')
    [ "$(report_q live-count)" = "$DATANODES" ] || fail "expected $DATANODES live datanodes at start"
    say "cluster up: namenodes $(awk '{ printf "%s %s ", $1, substr($2, 1, 12) }' <<<"$NN_CONTAINERS")datanodes $(datanode_ids | cut -c1-12 | tr "\n" " ")"
    [ "$NAMENODES" = 1 ] || say "the group: $(group_q group-summary)"
}

# put_set SET COUNT SIZE [BLOCKSIZE]: random files put at replication 3, sums recorded.
put_set() {
    say "writing $2 random files of $3 bytes to /drill/$1 (replication 3, ${4:-1MiB} blocks)"
    in_client 300 "put_files $1 $2 $3 ${4:-1MiB}" || fail "writing /drill/$1 failed"
}

# check_reads WHAT OUT: OUT is what the client's verify_set printed, "OK NAME BYTES SECONDS" or
# "BAD NAME WHY" a file. A BAD line fails the drill (WHAT: the first ones); the bytes read back
# identical are added to BYTES and left in READ_BYTES.
READ_BYTES=0
check_reads() {
    local bad
    bad=$(grep '^BAD' <<<"$2" || true)
    [ -z "$bad" ] || fail "$1: $(head -n3 <<<"$bad" | tr '\n' ';')"
    READ_BYTES=$(awk '$1 == "OK" { s += $3 } END { printf "%.0f", s }' <<<"$2")
    BYTES=$((BYTES + READ_BYTES))
}

# verify_set SET: every file of SET reads back with its recorded SHA-256.
verify_set() {
    local out
    out=$(in_client 600 "verify_set $1") || fail "verifying /drill/$1: the check itself failed"
    check_reads "/drill/$1" "$out"
    say "verified /drill/$1: $(grep -c '^OK' <<<"$out") files, $READ_BYTES bytes, SHA-256 identical (slowest read $(awk '$1 == "OK" && $4 > m { m = $4 } END { print m + 0 }' <<<"$out")s)"
}
