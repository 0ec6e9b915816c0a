"""Pipeline throughput: how long 1,000 jobs take from submit to an archived video with its poster.

    .venv/bin/python bench/throughput.py --jobs 1000

The simulator answers at once (SIMULATOR_SECONDS=0), so what is measured is the studio's own work: the
submit, the callback and the batched status read, the download, the PyAV probe, the poster, the moves into
storage, and the queue and database between them. Two set-ups, each a whole studio on loopback in a fresh
data folder, with callbacks as `runstudio` has them:

- **sqlite**: SQLite and django-q2's ORM broker, one `qcluster` process (4 workers), as `make run` starts it;
- **postgres**: PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards) and Redis
  (127.0.0.1:6379, database --redis-db) with two `qcluster` processes of 2 workers each (the same 4 workers
  in all, spread over two processes as two machines or containers would run them).

Worker CPU is user + system time of the `qcluster` process trees (read from /proc) during the run, divided
by the jobs; the web server's (the simulator renders the videos there) is given beside it. Results go to the
"Pipeline: throughput" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pipeline

SECTION = "## Pipeline: throughput"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--setups", default="sqlite,postgres")
    parser.add_argument("--redis-db", type=int, default=13, help="a Redis database number nothing else uses")
    _pipeline.drive(__file__, parser, "setups", child, report)


def child(args: argparse.Namespace) -> dict[str, Any]:
    if args.setups == "sqlite":
        setup = _pipeline.Setup(seconds=0, callbacks=True)
        try:
            return _pipeline.run_once(setup, args.jobs, timeout=1800)
        finally:
            _pipeline.cleanup(setup, keep=False)
    import psycopg

    name = f"sorastudio_bench_{_pipeline.free_port()}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        version = admin.execute("SHOW server_version").fetchone()
    setup = _pipeline.Setup(
        seconds=0,
        callbacks=True,
        database_url=f"{POSTGRES}/{name}",
        redis_url=f"{REDIS}/{args.redis_db}",
        worker_processes=2,
        extra={"Q_WORKERS": "2"},
    )
    try:
        result = _pipeline.run_once(setup, args.jobs, timeout=1800)
    finally:
        _pipeline.cleanup(setup, keep=False)
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result["postgres"] = f"PostgreSQL {version[0] if version else '?'}"
    return result


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    before = max(r["load_before"] for r in results.values())
    after = max(r["load_after"] for r in results.values())
    postgres = next((r["postgres"] for r in results.values() if "postgres" in r), "")
    described = {
        "sqlite": "SQLite, ORM broker, 1 `qcluster` (4 workers)",
        "postgres": "PostgreSQL + Redis, 2 `qcluster` (2 workers each)",
    }
    lines = [
        SECTION,
        "",
        f"Made by `.venv/bin/python bench/throughput.py --jobs {args.jobs}`: {args.jobs} AceDataCloud jobs "
        "made at once with the simulator answering at once (`SIMULATOR_SECONDS=0`), through a whole studio "
        "on loopback with callbacks (gunicorn with the simulator inside, 1 process, 16 threads), each ended "
        "with its video and poster in storage. Wall time runs from the first job made to the last one ended.",
        "",
        f"Machine: {_pipeline.machine(postgres=postgres)}; {_pipeline.load_note(before, after)}.",
        "",
        "| set-up | jobs ended | wall time | of which making the jobs | jobs/s | worker CPU per job "
        "| web + simulator CPU per job |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in results.items():
        states = ", ".join(f"{count} {state}" for state, count in sorted(result["states"].items()))
        jobs = max(1, result["jobs"])
        wall = result["wall_seconds"]
        lines.append(
            f"| {described.get(name, name)} | {states} | **{wall:.0f} s** | {result['submit_seconds']:.0f} s "
            f"| {result['jobs'] / wall:.1f} "
            f"| {result['worker_cpu_seconds'] / jobs * 1000:.0f} ms "
            f"| {result['web_cpu_seconds'] / jobs * 1000:.0f} ms |"
        )
    lines += [
        "",
        "- The target is 1,000 jobs in at most 3 minutes on SQLite with the ORM broker. **Making the jobs** "
        "is this script creating them as the form does (price reserved under a lock on the team's row, "
        "`created` event, queued), while the workers already work on the first ones.",
        "- **Worker CPU per job**: user + system CPU time of the queue worker processes (`qcluster` and its "
        "children) while the jobs ran, divided by the jobs: submit, follow, archive (download, SHA-256, "
        "PyAV probe, poster) and the queue's own bookkeeping.",
        "- **Web + simulator CPU per job**: the same for the web server, which here is also the upstream: "
        "it answers the submits, status reads and downloads and takes the callbacks. The jobs share one "
        "prompt, so the simulator encodes their video once (it renders on the first download, which a real "
        "service has done before it reports a task finished); every job still downloads, checks and stores "
        "its own copy.",
        "- On 2 cores the studio's processes, the simulator and this script share the CPU.",
        "- What profiling the workers (py-spy) found and fixed: every task built two httpx clients, and "
        "each loaded the whole CA bundle into a new TLS context (about 20 ms of CPU apiece, half the "
        "workers' time): one shared context (`sorastudio/upstream/tls.py`) took worker CPU from about 170 "
        "to about 80 ms per job. Every submit also queued a `follow` task that found the lease taken; a "
        "follower is now queued only when none holds it. The simulator's callback threads each left a "
        "database connection open, which on PostgreSQL ran out of connections (and so lost callbacks) "
        "within a thousand jobs; they close it now. What is left is mostly django-q2's own bookkeeping "
        "(a new database connection per dequeue with the ORM broker, saving each task's result) and the "
        "archive's PyAV probe and poster.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
