"""Latency against load from `reports/bench.json`, as a PNG.

Runs with the Rasa environment's Python (3.10), where matplotlib is installed:

    .venv-rasa/bin/python -m bench.plot reports/bench.json reports/bench.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def plot(report_path: Path, png_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = json.loads(report_path.read_text(encoding="utf-8"))
    levels = [row["concurrency"] for row in report["levels"]]
    fig, (latency, throughput) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"gateway": ("tab:blue", "via gateway (web channel)"),
              "direct": ("tab:orange", "direct to Rasa (REST)")}
    for name, (colour, label) in styles.items():
        for q, dash in (("p50_ms", "-"), ("p95_ms", "--"), ("p99_ms", ":")):
            latency.plot(levels, [row[name][q] for row in report["levels"]], dash, marker="o",
                         color=colour, label=f"{label} {q[:3]}")
        throughput.plot(levels, [row[name]["turns_per_s"] for row in report["levels"]],
                        marker="o", color=colour, label=label)
    latency.axhline(500, color="grey", linewidth=0.8)
    latency.set_xscale("log")
    latency.set_xticks(levels)
    latency.set_xticklabels([str(x) for x in levels])
    latency.set_xlabel("concurrent conversations")
    latency.set_ylabel("turn latency (ms)")
    latency.set_title("Turn latency against load")
    latency.legend(fontsize=7)
    throughput.set_xscale("log")
    throughput.set_xticks(levels)
    throughput.set_xticklabels([str(x) for x in levels])
    throughput.set_xlabel("concurrent conversations")
    throughput.set_ylabel("turns per second")
    throughput.set_title("Throughput")
    throughput.legend(fontsize=7)
    fig.suptitle(f"make bench, {report['at']} ({report['machine']['cpus']} CPUs)")
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)


if __name__ == "__main__":
    plot(Path(sys.argv[1]), Path(sys.argv[2]))
