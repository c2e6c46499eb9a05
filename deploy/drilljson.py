#!/usr/bin/env python3
"""Questions drill.sh asks of `hdfs fsck / --json --files --blocks --locations`,
`hdfs report --json` and `hdfs haadmin -report --json` (the JSON document on stdin). Exit status
0 means yes, 1 no, 3 means the input was not a JSON document (the namenode did not answer).

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
    remaining ADDR           the bytes the datanode says it has left for replicas

  of `haadmin -report --json` (a member is named by its URL's host, the compose service):
    leader                   the member that leads in the highest term (exit 1: none)
    member HOST FIELD        one field of a member's own view (role "unreachable" if not asked)
    caught-up HOST INDEX     HOST answers, follows or leads, and has applied INDEX or more
    group-summary            one line: each member's role, term and applied index
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


def host(member):
    return member["url"].split("://")[-1].rsplit(":", 1)[0]


def group(d, cmd, args):
    members = {host(m): m for m in d}
    if cmd == "leader":
        leaders = sorted((m["term"], host(m)) for m in d if m["role"] == "leader")
        if not leaders:
            return 1
        print(leaders[-1][1])
        return 0
    if cmd == "member":
        m = members.get(args[0], {"role": "unreachable"})
        print(m.get(args[1], ""))
        return 0
    if cmd == "caught-up":
        m = members.get(args[0])
        ok = m and m["role"] in ("leader", "follower") and m["applied_index"] >= int(args[1])
        return 0 if ok else 1
    if cmd == "group-summary":
        print(", ".join(f"{h} {m['role']}" + ("" if m.get("error") else f" T{m['term']} applied {m['applied_index']}")
                        for h, m in sorted(members.items())))
        return 0
    return None


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    d = load()
    if isinstance(d, list):
        answer = group(d, cmd, args)
        if answer is not None:
            return answer
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
    if cmd == "remaining":
        left = [n["remaining"] for n in d["datanodes"] if n["address"] == args[0]]
        print(left[0] if left else -1)
        return 0
    if cmd == "live-count":
        print(sum(1 for n in d["datanodes"] if n["state"] == "live"))
        return 0
    print(f"drilljson: unknown question {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
