"""Parses a Prometheus text exposition with prometheus_client's own parser (what a scraper
would accept) and prints its samples as JSON, with each family's type, so a test can check the
numbers. argv: FILE (the scraped page)."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
out = {"families": {}, "samples": []}
for family in text_string_to_metric_families(text):
    if family.name in out["families"]:
        raise SystemExit(f"family {family.name} appears twice")
    out["families"][family.name] = {"type": family.type, "help": family.documentation}
    for s in family.samples:
        out["samples"].append({"name": s.name, "labels": s.labels, "value": s.value})
json.dump(out, sys.stdout)
