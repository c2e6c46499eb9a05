# shellcheck shell=bash
# Sourced by drill.sh: the corrupt-replica scenario.

# replica_file HOST BLOCK: where the datanode with hostname HOST keeps BLOCK's replica (its
# volume is mounted at /data).
replica_file() { echo "/data/$1/blocks/$(printf '%02x' $(($2 & 255)))/blk_$2"; }
# replica_sum CONTAINER HOST BLOCK: the SHA-256 of that file in the datanode's container (nothing
# when it is not there).
replica_sum() { docker exec "$1" sha256sum "$(replica_file "$2" "$3")" 2>/dev/null | cut -c1-64; }

# A stored replica is damaged while its datanode is stopped: found, repaired, never served.
scenario_corrupt_replica() {
    start_cluster
    put_set base 3 $((4 << 20))
    local block other vol good bad
    block=$(fsck_doc | python3 -c 'import json,sys; d=json.load(sys.stdin); print(next(f for f in d["files_detail"] if f["path"] == "/drill/base/f1")["blocks"][1]["block_id"])') ||
        fail "cannot find the blocks of /drill/base/f1"
    mapfile -t holders < <(fsck_q locations "$block")
    [ ${#holders[@]} -ge 2 ] || fail "block $block has fewer than 2 replicas"
    aim_at "${holders[0]}"
    other=${holders[1]}
    vol=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Name}}{{end}}{{end}}' "$VICTIM_ID")
    good=$(replica_sum "$(container_of "$other")" "${other%:*}" "$block")
    say "docker stop $VICTIM; replica-tool corrupt --block $block on its volume $vol; docker start"
    docker stop -t 10 "$VICTIM_ID" >/dev/null
    docker run --rm --network none -v "$vol:/data" --entrypoint /usr/local/bin/replica-tool "$HDFS_IMAGE" \
        corrupt --data-dir "/data/$VICTIM_HOST" --block "$block" >&2 || fail "replica-tool corrupt failed"
    bad=$(docker run --rm --network none -v "$vol:/data" --entrypoint /bin/sha256sum "$HDFS_IMAGE" \
        "$(replica_file "$VICTIM_HOST" "$block")" | cut -c1-64)
    [ "$bad" != "$good" ] || fail "replica-tool did not change the replica"
    T0=$EPOCHREALTIME
    docker start "$VICTIM_ID" >/dev/null
    # Found: the namenode lists the replica as corrupt, or it is already gone or replaced.
    found() {
        fsck_q corrupt-at "$block" "$VICTIM" && return 0
        [ "$(replica_sum "$VICTIM_ID" "$VICTIM_HOST" "$block")" != "$bad" ]
    }
    say "reading every file while the damaged replica is there (a read may hit it)"
    verify_set base
    wait_until 60 "the corruption of block $block on $VICTIM is found" found
    DETECT=$(since "$T0")
    say "what the datanode and the namenode logged about it:"
    { docker logs "$VICTIM_ID" 2>&1 | grep -i -E 'corrupt|checksum' | tail -n 3
      nn_log_lines 'corrupt|bad replica|bad block' 3; } | sed 's/^/    /' >&2 || true
    gone() {
        [ "$(replica_sum "$VICTIM_ID" "$VICTIM_HOST" "$block")" != "$bad" ] && healthy_without
    }
    wait_until 120 "block $block has 3 good replicas and the damaged one is gone" gone
    FULL=$(since "$T0")
    local a
    for a in $(fsck_q locations "$block"); do
        [ "$(replica_sum "$(container_of "$a")" "${a%:*}" "$block")" = "$good" ] ||
            fail "replica of block $block on $a differs from the good copy"
    done
    say "every replica of block $block is byte-identical to the good copy"
    await_inventory
    verify_set base
}
