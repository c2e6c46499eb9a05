#!/usr/bin/env bash
# Builds the binaries and runs a namenode (or a group of NAMENODES) and three datanodes on
# loopback, in the foreground. Data and logs go under one directory (default .local-cluster/ in
# the repository; or pass one). Ctrl-C stops every node cleanly. Then, from another terminal:
# `hdfs put FILE /` works with no configuration (the namenode listens on 127.0.0.1:8020, the
# CLI's default); with NAMENODES=3 the members listen on 8020, 8021 and 8022, and the script
# prints the HDFS_NAMENODE to export.
#
#   deploy/local-cluster.sh [DIR]    env: NAMENODES=1 DATANODES=3 NAMENODE_PORT=8020 PROFILE=release
#                                         TLS=1 (every port over TLS, certificates in DIR/tls)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mkdir -p "${1:-$repo/.local-cluster}" && cd "${1:-$repo/.local-cluster}" && pwd)
datanodes=${DATANODES:-3}
namenodes=${NAMENODES:-1}
nn_port=${NAMENODE_PORT:-8020}
profile=${PROFILE:-release}

echo "building ($profile)..."
cargo build --manifest-path "$repo/Cargo.toml" --profile "$profile" --bin namenode --bin datanode --bin hdfs
bin="$repo/target/$profile"

pids=()
stop() {
    trap - INT TERM EXIT
    echo
    echo "stopping..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "stopped; data and logs are in $dir"
}
trap stop INT TERM EXIT

mkdir -p "$dir/logs"
# The cluster secret every node is given (made once, kept with the data).
if [ ! -s "$dir/cluster-secret" ]; then
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$dir/cluster-secret")
fi
export HDFS_CLUSTER_SECRET_FILE="$dir/cluster-secret"
scheme=http
if [ "${TLS:-0}" = 1 ]; then
    # TLS on every port: a private CA and a certificate for 127.0.0.1, made once in $dir/tls.
    "$repo/deploy/make-certs.sh" "$dir/tls"
    export NAMENODE_TLS_CERT="$dir/tls/node.pem" NAMENODE_TLS_KEY="$dir/tls/node.key"
    export DATANODE_TLS_CERT="$dir/tls/node.pem" DATANODE_TLS_KEY="$dir/tls/node.key" HDFS_TLS_CA="$dir/tls/ca.pem"
    scheme=https
fi
urls=() peers=()
for n in $(seq 1 "$namenodes"); do
    urls+=("$scheme://127.0.0.1:$((nn_port + n - 1))")
    peers+=("$n=127.0.0.1:$((nn_port + n - 1))")
done
nn_urls=$(IFS=,; echo "${urls[*]}")
if [ "$namenodes" -eq 1 ]; then
    "$bin/namenode" --rpc-addr "127.0.0.1:$nn_port" --http-addr "127.0.0.1:9870" --data-dir "$dir/namenode" \
        >>"$dir/logs/namenode.log" 2>&1 &
    pids+=($!)
else
    for n in $(seq 1 "$namenodes"); do
        "$bin/namenode" --id "$n" --peers "$(IFS=,; echo "${peers[*]}")" --rpc-addr "127.0.0.1:$((nn_port + n - 1))" \
            --http-addr "127.0.0.1:$((9870 + n - 1))" --data-dir "$dir/namenode-$n" >>"$dir/logs/namenode-$n.log" 2>&1 &
        pids+=($!)
    done
fi
for i in $(seq 1 "$datanodes"); do
    port=$((9865 + i))
    "$bin/datanode" --namenode "$nn_urls" --rpc-addr "127.0.0.1:$port" --http-addr "127.0.0.1:$((9880 + i))" \
        --data-dir "$dir/datanode-$i" >>"$dir/logs/datanode-$i.log" 2>&1 &
    pids+=($!)
done

# Ready when the namenode answers and every datanode has registered.
for _ in $(seq 1 100); do
    # grep exits 1 while no datanode has registered yet; under pipefail that must not end the script.
    live=$({ grep -c "registered with the namenode" "$dir"/logs/datanode-*.log 2>/dev/null || true; } | awk -F: '{s+=($2>0)} END {print s+0}')
    if [ "$live" -ge "$datanodes" ] && "$bin/hdfs" --namenode "$nn_urls" ls / >/dev/null 2>&1; then
        break
    fi
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || { echo "a node exited early; see $dir/logs" >&2; tail -n 5 "$dir"/logs/*.log >&2; exit 1; }
    done
    sleep 0.1
done

cat <<MSG
cluster up: namenode(s) $nn_urls, $datanodes datanodes (ports 9866..$((9865 + datanodes)))
data: $dir    logs: $dir/logs (tail -f $dir/logs/*.log)
MSG
if [ "$namenodes" -gt 1 ] || [ "$scheme" = https ]; then
    echo "export HDFS_NAMENODE=$nn_urls     # then: hdfs haadmin -getAllServiceState"
fi
if [ "$scheme" = https ]; then
    echo "export HDFS_TLS_CA=$dir/tls/ca.pem     # TLS: clients check the nodes against this CA"
fi
cat <<MSG
try:  $bin/hdfs put README.md /   &&   $bin/hdfs ls /
Ctrl-C stops the cluster.
MSG
tail -n 0 -q -f "$dir"/logs/*.log &
pids+=($!)
wait "${pids[0]}"
