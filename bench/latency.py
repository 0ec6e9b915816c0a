"""Delay to the gallery: from the upstream finishing a task to its video being playable in the gallery.

    .venv/bin/python bench/latency.py --jobs 50 --seconds 30 --spacing 0.5

For each way of following jobs (callbacks, then polling alone) it starts a whole studio on loopback in a
fresh data folder and SQLite database (gunicorn web server with the simulator inside, one `qcluster` queue
worker process), makes --jobs AceDataCloud jobs one every --spacing seconds (so that they finish as a team's
jobs do, not all in the same second: the burst is bench/throughput.py's) and waits until every one has
ended. A job's delay
is its `archived_at` (the video and poster are in the studio's storage and its card plays it) minus the
simulator's `finishes_at` for its task (the moment the upstream reports it done), both from the same
clock. Results go to the "Pipeline: delay to the gallery" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pipeline

SECTION = "## Pipeline: delay to the gallery"
POLL_INTERVAL = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the simulator takes per video")
    parser.add_argument("--spacing", type=float, default=0.5, help="seconds between two jobs being made")
    parser.add_argument("--modes", default="callbacks,polling")
    _pipeline.drive(__file__, parser, "modes", child, report)


def child(args: argparse.Namespace) -> dict[str, Any]:
    setup = _pipeline.Setup(
        seconds=args.seconds,
        callbacks=args.modes == "callbacks",
        extra={"POLL_INTERVAL": str(POLL_INTERVAL), "POLL_BATCH_SIZE": "100"},
    )
    try:
        return _pipeline.run_once(setup, args.jobs, timeout=args.seconds * 3 + 180, spacing=args.spacing)
    finally:
        _pipeline.cleanup(setup, keep=False)


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    before = max(r["load_before"] for r in results.values())
    after = max(r["load_after"] for r in results.values())
    targets = {"callbacks": 2.0, "polling": POLL_INTERVAL + 2.0}
    lines = [
        SECTION,
        "",
        "Made by `.venv/bin/python bench/latency.py "
        f"--jobs {args.jobs} --seconds {args.seconds:g} --spacing {args.spacing:g}`: "
        f"{args.jobs} AceDataCloud jobs made one every {args.spacing:g} s, each taking {args.seconds:g} s "
        "on the simulator, through a whole studio on loopback (gunicorn with the simulator inside, one "
        f"`qcluster` process with 4 workers, SQLite, the ORM broker, `POLL_INTERVAL` {POLL_INTERVAL:g} s).",
        "",
        f"Machine: {_pipeline.machine()}; {_pipeline.load_note(before, after)}.",
        "",
        "| following | videos | median | p95 | max | target (p95) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode, result in results.items():
        delays = result["delays"]
        lines.append(
            f"| {mode} | {len(delays)} | {statistics.median(delays):.2f} s "
            f"| **{_pipeline.percentile(delays, 95):.2f} s** | {max(delays):.2f} s "
            f"| ≤ {targets.get(mode, 0):g} s |"
        )
    lines += [
        "",
        "- **Delay**: from the simulator's `finishes_at` for the task (when the upstream would report it "
        "done, and when it sends its callback) to the job's `archived_at` (video downloaded, checked with "
        "PyAV, poster written, both moved into storage: the card plays it from then on; an open gallery "
        "shows it at its next 2-second refresh).",
        "- **Callbacks**: the simulator calls the studio back; the callback wakes the follower, which waits "
        "½ s for more callbacks, reads all the woken jobs in one batched request and queues their archiving.",
        "- **Polling alone**: the follower reads every running job once per `POLL_INTERVAL`, so a job waits "
        "half an interval on average for the next read, a whole one at worst.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
