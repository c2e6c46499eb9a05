#!/usr/bin/env python3
"""Questions drill.sh asks of `hdfs fsck / --json --files --blocks --locations` and
`hdfs report --json` (the JSON document on stdin). Exit status 0 means yes, 1 no, 3 means the
input was not a JSON document (the namenode did not answer).

    fsck-healthy [ADDR...]   HEALTHY, nothing under-replicated, missing or corrupt, every block
                             at its file's replication, no replica listed at ADDR
    fsck-trimmed             fsck-healthy, and every block has exactly its file's replication
    closed-replicated        every block of every closed file has its file's replication
    no-open-files            no file is open (under construction)
    fsck-summary             one line of counts, for progress messages
    holders                  "ADDR COUNT" per datanode holding replicas, most first
    locations BLOCK          the addresses holding BLOCK
    corrupt-at BLOCK ADDR    ADDR is listed as a corrupt location of BLOCK
    inventory                "ADDR BLOCK" for every replica the namenode knows of
    state ADDR               the datanode's state in the report (live, stale, dead, absent)
    live-count               datanodes live in the report
"""

import json
import sys


def load():
    try:
        return json.load(sys.stdin)
    except ValueError:
        sys.exit(3)


def blocks(fsck):
    for f in fsck.get("files_detail", []):
        for b in f["blocks"]:
            yield f, b


def healthy(fsck, exclude):
    if fsck["status"] != "HEALTHY":
        return False
    if fsck["under_replicated_blocks"] or fsck["missing_blocks"] or fsck["corrupt_blocks"]:
        return False
    for f, b in blocks(fsck):
        if f["under_construction"] or b["live_replicas"] < f["replication"]:
            return False
        if any(a in exclude for a in b["locations"]) or b["corrupt_locations"]:
            return False
    return True


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    d = load()
    if cmd == "fsck-healthy":
        return 0 if healthy(d, set(args)) else 1
    if cmd == "fsck-trimmed":
        ok = healthy(d, set()) and d["over_replicated_blocks"] == 0
        ok = ok and all(b["live_replicas"] == f["replication"] and len(b["locations"]) == f["replication"]
                        for f, b in blocks(d))
        return 0 if ok else 1
    if cmd == "closed-replicated":
        return 0 if all(b["live_replicas"] >= f["replication"] and not b["corrupt_locations"]
                        for f, b in blocks(d) if not f["under_construction"]) else 1
    if cmd == "no-open-files":
        return 0 if d["open_files"] == 0 else 1
    if cmd == "fsck-summary":
        keys = ["status", "files", "blocks", "open_files", "under_replicated_blocks", "over_replicated_blocks",
                "missing_blocks", "corrupt_blocks"]
        print(" ".join(f"{k}={d[k]}" for k in keys))
        return 0
    if cmd == "holders":
        count = {}
        for _, b in blocks(d):
            for a in b["locations"]:
                count[a] = count.get(a, 0) + 1
        for a, n in sorted(count.items(), key=lambda kv: (-kv[1], kv[0])):
            print(a, n)
        return 0
    if cmd == "locations":
        for _, b in blocks(d):
            if b["block_id"] == int(args[0]):
                print("\n".join(b["locations"]))
        return 0
    if cmd == "corrupt-at":
        return 0 if any(b["block_id"] == int(args[0]) and args[1] in b["corrupt_locations"]
                        for _, b in blocks(d)) else 1
    if cmd == "inventory":
        for _, b in blocks(d):
            for a in b["locations"]:
                print(a, b["block_id"])
        return 0
    if cmd == "state":
        states = [n["state"] for n in d["datanodes"] if n["address"] == args[0]]
        print(states[0] if states else "absent")
        return 0
    if cmd == "live-count":
        print(sum(1 for n in d["datanodes"] if n["state"] == "live"))
        return 0
    print(f"drilljson: unknown question {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
