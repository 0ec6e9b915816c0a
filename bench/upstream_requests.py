"""Upstream requests per finished job: how many HTTP requests the studio sends the video service for each
video it delivers, with 100 jobs in flight at once for about a minute each.

    .venv/bin/python bench/upstream_requests.py --jobs 100 --seconds 60

For each way of following jobs (polling alone, then callbacks) it starts a whole studio on loopback in a
fresh data folder and SQLite database (gunicorn web server with the simulator inside, one `qcluster` queue
worker process, as `runstudio` starts them), makes --jobs AceDataCloud jobs at once, waits until every one
has ended, and counts the requests the simulator answered, from the web server's access log. The floor is 2
per job: one submit and one download. Results go to the "Pipeline: upstream requests" section of
docs/performance.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pipeline

SECTION = "## Pipeline: upstream requests"
TARGETS = {"polling": 2.2, "callbacks": 2.05}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the simulator takes per video")
    parser.add_argument("--modes", default="polling,callbacks")
    parser.add_argument("--poll-batch-size", type=int, default=100, help="POLL_BATCH_SIZE for the studio")
    _pipeline.drive(__file__, parser, "modes", child, report)


def child(args: argparse.Namespace) -> dict[str, Any]:
    setup = _pipeline.Setup(
        seconds=args.seconds,
        callbacks=args.modes == "callbacks",
        extra={"POLL_BATCH_SIZE": str(args.poll_batch_size)},
    )
    try:
        return _pipeline.run_once(setup, args.jobs, timeout=args.seconds * 3 + 180)
    finally:
        _pipeline.cleanup(setup, keep=False)


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    loads = [r["load_before"] for r in results.values()] + [r["load_after"] for r in results.values()]
    lines = [
        SECTION,
        "",
        "Made by `.venv/bin/python bench/upstream_requests.py "
        f"--jobs {args.jobs} --seconds {args.seconds:g}`: {args.jobs} AceDataCloud jobs made at once, "
        f"each taking {args.seconds:g} s on the simulator, through a whole studio on loopback (gunicorn "
        "with the simulator inside, one `qcluster` process with 4 workers, SQLite, the ORM broker, "
        f"`POLL_INTERVAL` 5 s, `POLL_BATCH_SIZE` {args.poll_batch_size}). Requests are counted at the "
        "simulator's side, from the web server's access log.",
        "",
        f"Machine: {_pipeline.machine()}; "
        + _pipeline.load_note(max(loads[: len(results)]), max(loads[len(results) :]))
        + ".",
        "",
        "| following | jobs ended | submits | status reads | downloads | requests per finished job "
        "| target |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, result in results.items():
        requests = result["requests"]
        total = sum(requests.values())
        per_job = total / max(1, result["succeeded"])
        states = ", ".join(f"{count} {state}" for state, count in sorted(result["states"].items()))
        lines.append(
            f"| {mode} | {states} | {requests.get('submit', 0)} | {requests.get('status read', 0)} "
            f"| {requests.get('download', 0)} | **{per_job:.3f}** | ≤ {TARGETS.get(mode, 0):g} |"
        )
    lines += [
        "",
        "- **Requests per finished job**: every request the simulator answered (submits, status reads, "
        "downloads, anything else) divided by the jobs that ended with an archived video. The floor is 2.",
        "- **Polling alone** (no `PUBLIC_BASE_URL`): the follower reads every running job's status in one "
        "batched `retrieve_batch` request per round, so a round costs one request whatever the number of "
        "jobs (up to `POLL_BATCH_SIZE`, which this run sets to 100: at the default 50, 100 jobs cost two "
        "requests per round, about 2.26 per job, over the 2.2 aimed at). One request per job per round "
        "would cost about 12 per job here.",
        "- **Callbacks** (`PUBLIC_BASE_URL` set): a callback only wakes the follower, which gathers the "
        "callbacks for ½ s and re-reads all the woken jobs in one batched read. Its regular read is only the "
        "safety net for lost callbacks: jobs running for longer than `CALLBACK_POLL_INTERVAL` (120 s), that "
        "often; none of these one-minute jobs needed it.",
        "- Sora2API has no batch read (`record-info` takes one task), so there a status read costs one "
        "request per job; these figures are AceDataCloud's.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
