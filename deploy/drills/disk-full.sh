# shellcheck shell=bash
# Sourced by drill.sh: the disk-full scenario.

# A fifth datanode on a volume of its own (a 160 MiB tmpfs: 128 MiB for replicas once its index
# headroom is kept) fills during a put of a file larger than it: the put succeeds through the
# others; the node reports no room and is given no replica of the next files; the file is
# deleted, its replicas go, and the node takes replicas again with no restart (a file at
# replication 5 needs every node).
scenario_disk_full() {
    start_cluster
    put_set base 2 $((4 << 20))
    local small="$PROJECT-small" addr="small:9866" left before after
    say "starting a fifth datanode ($addr) on a 160 MiB tmpfs"
    docker run -d --name "$small" --hostname small --network "$NET" \
        --label "com.docker.compose.project=$PROJECT" --tmpfs /data:rw,size=160m \
        -e HDFS_CLUSTER_SECRET -e DATANODE_NAMENODE="$(env_of "$(datanode_ids | head -n1)" DATANODE_NAMENODE)" \
        -e RUST_LOG=info,sled=warn,h2=warn -e NO_COLOR=1 \
        --entrypoint /usr/local/bin/datanode-entrypoint "$HDFS_IMAGE" \
        --rpc-addr=0.0.0.0:9866 --heartbeat-interval=1s >/dev/null
    wait_until 60 "$addr to register" state_is "$addr" live
    say "$addr is live with $(report_q remaining "$addr") bytes for replicas"

    say "putting a 384 MiB file in 8 MiB blocks at replication 3 (more than $addr can hold)"
    in_client 300 "head -c $((384 << 20)) /dev/urandom >/scratch/big && sha256sum /scratch/big >/scratch/big.sum && \
        \$H put -f -r 3 -b 8MiB /scratch/big /drill/big" || fail "the put that fills $addr failed"
    extra refusals "$(docker logs "$small" 2>&1 | grep -c 'volume full' || true)"
    wait_until 30 "$addr to report itself full" full_now "$addr"
    before=$(held_by "$addr")
    say "$addr is full: $(report_q remaining "$addr") bytes left, $before replicas; it refused $(docker logs "$small" 2>&1 | grep -c 'volume full' || true) writes"

    put_set later 4 $((16 << 20)) 8MiB
    after=$(held_by "$addr")
    [ "$after" = "$before" ] || fail "$addr was given replicas while full ($before, then $after)"
    say "the next files went elsewhere: $addr still holds $after replicas"
    in_client 120 "cd /scratch && \$H cat /drill/big | sha256sum | sed 's|-|/scratch/big|' | cmp - big.sum" || fail "/drill/big read back wrong"
    BYTES=$((BYTES + (384 << 20)))

    say "deleting /drill/big: its replicas on $addr go"
    hdfs_c dfs -rm -skipTrash /drill/big >/dev/null || fail "rm /drill/big failed"
    wait_until 60 "$addr to have room again" room_now "$addr"
    say "$addr has $(report_q remaining "$addr") bytes for replicas again, no restart"
    in_client 120 "head -c $((16 << 20)) /dev/urandom >/scratch/r5 && \$H put -f -r 5 -b 8MiB /scratch/r5 /drill/r5" \
        || fail "a put at replication 5 (every node, $addr too) failed after space was freed"
    # Acknowledged once a namenode heard of the replicas; fsck lists them once the one it asks has.
    wait_until 30 "$addr to be listed as a holder of /drill/r5" holds_r5 "$addr"
    say "a file at replication 5 was written to every node, $addr too"
    verify_set base
    verify_set later
    wait_until 120 "fsck to be healthy" healthy_without
}

env_of() { docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" | sed -n "s/^$2=//p"; }
full_now() { [ "$(report_q remaining "$1")" -lt $((8 << 20)) ]; }
room_now() { [ "$(report_q remaining "$1")" -ge $((64 << 20)) ]; }
holds_r5() { FSCK_PATH=/drill/r5 fsck_q inventory | grep -q "^$1 "; }
held_by() { fsck_q inventory | awk -v a="$1" '$1 == a' | wc -l; }
