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
#                    intact, safe mode ends by itself, writes work again (the single-namenode
#                    cluster, docker-compose.single.yml: every other scenario runs on the group)
#   rolling-restart  restart every datanode in turn while a reader loops over all files
#   corrupt-replica  flip a byte of a stored replica (replica-tool, container stopped): found,
#                    repaired from a good copy, never served, the bad replica removed
#   kill-leader      docker kill the leading namenode under a put/read loop: another is elected
#                    within 10 s (seconds_unavailable), acknowledged files intact, nothing applied
#                    twice or half; docker start it: it catches up
#   partition-leader docker network disconnect the leader: a write sent to it never succeeds,
#                    the others elect a leader and take writes; reconnected, it follows, catches
#                    up, and the write it was sent is nowhere
#   lose-quorum      docker stop two of the three namenodes: reads and writes fail within their
#                    timeout with one "no quorum" line; start one: service resumes, nothing lost
#   rolling-restart-namenodes
#                    docker restart each namenode in turn (back and caught up before the next)
#                    under a put/read loop whose every file succeeds within 60 s
#   disk-full        a fifth datanode on a small tmpfs fills during a put: the put succeeds, the
#                    node reports no room and gets no replicas; the file deleted, it takes
#                    replicas again with no restart
#
# Progress goes to stderr; each scenario ends with one JSON line on stdout:
#   {"scenario":..., "result":"pass"|"fail", "seconds_to_detect":..., "seconds_to_full_replication":...,
#    "bytes_verified":..., (a scenario's own fields,) "seconds_total":..., "reason":... (on fail)}
# and the exit status is non-zero if any scenario failed. A failed scenario's compose logs are
# kept in DRILL_LOG_DIR (default /tmp). HDFS_IMAGE: the image to use (default: build it).
#
# This file is the command line and the run of one scenario; drills/lib.sh has what every
# scenario shares (the JSON line, waits, the client container, byte checks), drills/victim.sh
# the picking, breaking and waiting out of the datanode a scenario breaks, drills/group.sh the
# namenode group (its leader, catching up, the put/read loop), and drills/NAME.sh the scenario
# NAME.
set -Eeuo pipefail

SCENARIOS=(kill-datanode kill-mid-put kill-mid-get pause partition kill-namenode rolling-restart corrupt-replica
    kill-leader partition-leader lose-quorum rolling-restart-namenodes disk-full)
HERE=$(cd "$(dirname "$0")" && pwd)
DRILL_TIMEOUT=${DRILL_TIMEOUT:-420}
# shellcheck source=drills/lib.sh
. "$HERE/drills/lib.sh"

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
                line=$(result_json "$s" fail "" "" 0 $((SECONDS - started)) "drill gave no result (killed after ${DRILL_TIMEOUT}s?)")
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
# kill-namenode is about the one namenode there is: it runs on the single-namenode cluster.
if [ "$SCENARIO" = kill-namenode ]; then NAMENODES=1; else NAMENODES=3; fi
# A secret of its own for each drill's cluster (lib.sh would keep one in deploy/.secrets).
HDFS_CLUSTER_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export HDFS_CLUSTER_SECRET
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=drills/victim.sh
. "$HERE/drills/victim.sh"
# shellcheck source=drills/group.sh
. "$HERE/drills/group.sh"
: "${HDFS_IMAGE:=hdfs-rs:latest}"
export HDFS_IMAGE
# Any free port (`127.0.0.1:` is "IP:" with no host port): drills may run beside a cluster.
export HDFS_NAMENODE_PUBLISH=127.0.0.1: HDFS_NN1_PUBLISH=127.0.0.1: HDFS_NN2_PUBLISH=127.0.0.1: HDFS_NN3_PUBLISH=127.0.0.1:
export HDFS_NAMENODE_HTTP_PUBLISH=127.0.0.1: HDFS_NN1_HTTP_PUBLISH=127.0.0.1: HDFS_NN2_HTTP_PUBLISH=127.0.0.1: HDFS_NN3_HTTP_PUBLISH=127.0.0.1:
DATANODES=4
BIG_MIB=128      # the large file of the mid-operation kills
OP_TIMEOUT=150   # bound of one hdfs command (the client's own stalls are 30 s read, 60 s ack)
LOG_DIR=${DRILL_LOG_DIR:-/tmp}

T_START=$EPOCHREALTIME
WORK=$(mktemp -d)
DETECT="" FULL="" BYTES=0 RESULT="" EMITTED="" ERR_REASON="" LATER=""
DISCONNECTED="" NET="" CLIENT="" NN="" CLIENT_PID=""

trap cleanup EXIT
trap 'ERR_REASON="unexpected failure at line $LINENO: $BASH_COMMAND"' ERR
trap 'ERR_REASON="interrupted (drill timeout ${DRILL_TIMEOUT}s?)"; exit 1' TERM INT

# shellcheck source=drills/kill-datanode.sh
. "$HERE/drills/kill-datanode.sh"
# shellcheck source=drills/kill-mid-put.sh
. "$HERE/drills/kill-mid-put.sh"
# shellcheck source=drills/kill-mid-get.sh
. "$HERE/drills/kill-mid-get.sh"
# shellcheck source=drills/pause.sh
. "$HERE/drills/pause.sh"
# shellcheck source=drills/partition.sh
. "$HERE/drills/partition.sh"
# shellcheck source=drills/kill-namenode.sh
. "$HERE/drills/kill-namenode.sh"
# shellcheck source=drills/rolling-restart.sh
. "$HERE/drills/rolling-restart.sh"
# shellcheck source=drills/corrupt-replica.sh
. "$HERE/drills/corrupt-replica.sh"
# shellcheck source=drills/kill-leader.sh
. "$HERE/drills/kill-leader.sh"
# shellcheck source=drills/partition-leader.sh
. "$HERE/drills/partition-leader.sh"
# shellcheck source=drills/disk-full.sh
. "$HERE/drills/disk-full.sh"
# shellcheck source=drills/lose-quorum.sh
. "$HERE/drills/lose-quorum.sh"
# shellcheck source=drills/rolling-restart-namenodes.sh
. "$HERE/drills/rolling-restart-namenodes.sh"
[[ " ${SCENARIOS[*]} " == *" $SCENARIO "* ]] || fail "unknown scenario $SCENARIO"
"scenario_${SCENARIO//-/_}"
[ -z "$LATER" ] || fail "$LATER"
# Every scenario ends by reading its files back: a pass with nothing verified is no pass.
[ "${BYTES:-0}" -gt 0 ] || fail "no bytes were verified (the scenario ended before its data checks)"
say "PASS"
emit pass
