"""`make bench`: start the stack as production runs it, drive simulated people through Chinese
conversations at rising concurrency over the web channel and straight to Rasa, and report.

    .venv/bin/python -m bench [--levels 1,5,10,20,50] [--min-conversations 12]
                              [--out reports/bench.json] [--profile]

Writes `reports/bench.json` and `reports/bench.png` (latency against load) and prints, per
level, p50/p95/p99 and turns per second through the gateway and direct to Rasa, their ratio,
the errors, and each process's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from prometheus_client.parser import text_string_to_metric_families

from bench.driver import DirectRasa, Gateway, Target, run_level, summary
from bench.stack import MODEL, ROOT, Stack, python_for_plot

TARGETS_AT = 20  # the targets are set at 20 concurrent conversations
TARGET_RATIO = 1.10
TARGET_P99_MS = 500.0


class Progress:
    """One status line, rewritten as turns complete."""

    def __init__(self) -> None:
        self.label = ""
        self.done = 0
        self.total = 0
        self._last = 0.0

    def start(self, label: str, total: int) -> None:
        self.label, self.done, self.total = label, 0, total
        self.show(force=True)

    def tick(self) -> None:
        self.done += 1
        self.show()

    def show(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last > 0.5 or self.done >= self.total:
            self._last = now
            print(f"\r  {self.label}: {self.done}/~{self.total} turns", end="", flush=True)

    def finish(self, text: str) -> None:
        print(f"\r  {text}".ljust(78), flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="1,5,10,20,50",
                        help="concurrent conversations per level, comma separated")
    parser.add_argument("--min-conversations", type=int, default=12,
                        help="conversations per level and target at least (more at high levels)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench.json")
    parser.add_argument("--profile", action="store_true",
                        help="run the gateway under cProfile (var/bench/gateway.prof)")
    return parser.parse_args(argv)


async def warm_up(targets: list[Target], progress: Progress) -> None:
    """One conversation of each kind per target, not counted: loads models and connections."""
    for target in targets:
        progress.start(f"warm-up via {target.name}", 28)
        await run_level(target, 6, 6, progress.tick)
        progress.finish(f"warm-up via {target.name} done")


async def stage_means(http: aiohttp.ClientSession, urls: list[str]) -> dict[str, float]:
    """Mean milliseconds per turn stage over the whole run, from the processes' /metrics."""
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for url in urls:
        async with http.get(f"{url}/metrics") as resp:
            body = await resp.text()
        for family in text_string_to_metric_families(body):
            if family.name != "legalbot_turn_stage_seconds":
                continue
            for sample in family.samples:
                stage = sample.labels.get("stage", "")
                if sample.name.endswith("_sum"):
                    sums[stage] = sums.get(stage, 0.0) + sample.value
                elif sample.name.endswith("_count"):
                    counts[stage] = counts.get(stage, 0.0) + sample.value
    return {stage: round(sums[stage] / counts[stage] * 1000, 1)
            for stage in sums if counts.get(stage)}


async def sampler(stack: Stack, stop: asyncio.Event) -> None:
    while not stop.is_set():
        stack.sample()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    stack = Stack(ROOT / "var" / "bench", profile_gateway=args.profile)
    progress = Progress()
    print(f"starting the stack (PostgreSQL schema {stack.schema}, Redis prefix {stack.prefix},"
          f" logs in {stack.workdir})", flush=True)
    started = time.monotonic()
    try:
        await stack.start()
        startup_s = time.monotonic() - started
        print(f"  ready in {startup_s:.0f}s", flush=True)
        stop = asyncio.Event()
        sampling = asyncio.create_task(sampler(stack, stop))
        connector = aiohttp.TCPConnector(limit=0)  # the people, not the client, set the load
        async with aiohttp.ClientSession(connector=connector) as http:
            targets: list[Target] = [Gateway(http, stack.gateway_url),
                                     DirectRasa(http, stack.rasa_url)]
            await warm_up(targets, progress)
            results = []
            offset = 0
            for level in levels:
                conversations = max(args.min_conversations, level)
                row: dict[str, Any] = {"concurrency": level, "conversations": conversations}
                for target in targets:
                    progress.start(f"{level:>3} concurrent via {target.name}", conversations * 5)
                    result, seconds = await run_level(target, level, conversations,
                                                      progress.tick, offset)
                    row[target.name] = summary(result, seconds)
                    s = row[target.name]
                    progress.finish(f"{level:>3} concurrent via {target.name:<7}: "
                                    f"p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, "
                                    f"{s['turns_per_s']:.1f} turns/s, {s['errors']} errors")
                offset += conversations
                row["p50_ratio"] = round(row["gateway"]["p50_ms"] / row["direct"]["p50_ms"], 3)
                row["throughput_ratio"] = round(
                    row["gateway"]["turns_per_s"] / row["direct"]["turns_per_s"], 3)
                results.append(row)
            stages = await stage_means(
                http, [stack.gateway_url, f"http://127.0.0.1:{stack.ports['actions']}"])
        stop.set()
        await sampling
        memory = stack.peak_memory()
    finally:
        await stack.stop()
    memory["bench"] = psutil.Process().memory_info().rss
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "memory_mb": psutil.virtual_memory().total // 2**20},
        "model": {"path": str(MODEL.relative_to(ROOT)),
                  "modified": datetime.fromtimestamp(MODEL.stat().st_mtime, UTC).isoformat(
                      timespec="seconds")},
        "stack": {"database": "postgresql", "redis": True,
                  "rasa_endpoints": "deploy/endpoints.prod.yml (Redis tracker and lock store)",
                  "gateway_profiled": args.profile},
        "startup_s": round(startup_s, 1),
        "levels": results,
        # gateway: accept + gateway are its own work, rasa the call; actions: per action run
        "stage_mean_ms": stages,
        "peak_memory_mb": {name: round(rss / 2**20, 1) for name, rss in memory.items()},
        "duration_s": round(time.monotonic() - started, 1),
    }


def verdict(report: dict[str, Any]) -> list[str]:
    row = next((r for r in report["levels"] if r["concurrency"] == TARGETS_AT), None)
    if row is None:
        return [f"(no level at {TARGETS_AT} concurrent conversations: targets not checked)"]
    gateway = row["gateway"]
    checks = [
        (f"errors at {TARGETS_AT}: {gateway['errors'] + row['direct']['errors']}",
         gateway["errors"] + row["direct"]["errors"] == 0),
        (f"gateway p50 / direct p50 at {TARGETS_AT}: {row['p50_ratio']:.3f} "
         f"(target <= {TARGET_RATIO})", row["p50_ratio"] <= TARGET_RATIO),
        (f"gateway p99 at {TARGETS_AT}: {gateway['p99_ms']:.0f} ms "
         f"(target <= {TARGET_P99_MS:.0f})", gateway["p99_ms"] <= TARGET_P99_MS),
    ]
    return [f"{'ok  ' if ok else 'MISS'} {text}" for text, ok in checks]


def print_table(report: dict[str, Any]) -> None:
    print("\nconc | via     |  p50 ms |  p95 ms |  p99 ms | turns/s | errors")
    print("-----+---------+---------+---------+---------+---------+-------")
    for row in report["levels"]:
        for name in ("gateway", "direct"):
            s = row[name]
            print(f"{row['concurrency']:>4} | {name:<7} | {s['p50_ms']:>7.1f} | "
                  f"{s['p95_ms']:>7.1f} | {s['p99_ms']:>7.1f} | {s['turns_per_s']:>7.1f} | "
                  f"{s['errors']:>6}")
        print(f"     | ratio   | {row['p50_ratio']:>7.3f} |         |         | "
              f"{row['throughput_ratio']:>7.3f} |")
    print("mean ms per stage (whole run): " + ", ".join(
        f"{stage} {ms:.1f}" for stage, ms in report["stage_mean_ms"].items()))
    print("peak memory (RSS): " + ", ".join(
        f"{name} {mb:.0f} MB" for name, mb in report["peak_memory_mb"].items()))
    print()
    for line in verdict(report):
        print(line)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(measure(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n",
                        encoding="utf-8")
    png = args.out.with_suffix(".png")
    plotted = subprocess.run([python_for_plot(), "-m", "bench.plot", str(args.out), str(png)],
                             cwd=ROOT, check=False)
    print_table(report)
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
          + (f" and {png.name}" if plotted.returncode == 0 else " (the plot failed)")
          + f"; {report['duration_s']:.0f}s in all")
    if args.profile:
        print(f"gateway profile: {ROOT / 'var' / 'bench' / 'gateway.prof'}")
    errors = sum(r[t]["errors"] for r in report["levels"] for t in ("gateway", "direct"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
