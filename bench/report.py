"""Render bench/results/*.json as the Markdown tables of docs/performance.md.

python -m bench.report [--results-dir bench/results] > /tmp/tables.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import harness as h

ORDER = [
    "redirect",
    "delivery",
    "scan_to_webhook",
    "stats",
    "render",
    "renders_vs_redirect",
    "failing_endpoints",
]


def markdown(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "_no rows_\n"
    columns = columns or list(rows[0].keys())
    out = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|",
    ]
    for row in rows:
        out.append("| " + " | ".join(h.fmt(row.get(col)) for col in columns) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results-dir", default=str(h.DEFAULT_RESULTS_DIR))
    args = p.parse_args(argv)
    results = Path(args.results_dir)
    summary = results / "summary.json"
    if summary.exists():
        data = json.loads(summary.read_text())
        machine = data["machine"]
        print(
            f"Run finished {data['finished_at']} at revision `{data['git']}`; "
            f"{machine['cpus']} CPUs, load average at the end {machine['loadavg_1_5_15']}; "
            f"load tool: {machine['load_tool']}.\n"
        )
        print("### Targets\n")
        print(markdown(data["targets"], ["bench", "target", "value", "limit", "met"]))
    for name in ORDER:
        path = results / f"{name}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        print(f"### {name}\n")
        print(
            "Load average (1, 5, 15 min) when it started: "
            f"{data['machine'].get('loadavg_at_start')}, "
            f"when it finished: {data['machine']['loadavg_1_5_15']}.\n"
        )
        print(markdown(data["rows"]))
        if "timeline" in data:  # failing_endpoints
            print(f"{data['timeline']['title']}:\n")
            print(markdown(data["timeline"]["rows"]))
        extra = {
            key: data[key]
            for key in (
                "durability",
                "server_memory",
                "database_bytes",
                "latency",
                "load_seconds",
                "rollup_rows",
                "emit_seconds",
                "drain_seconds",
                "refusals",
                "pinning",
            )
            if key in data
        }
        if extra:
            print("```\n" + json.dumps(extra, indent=1) + "\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
