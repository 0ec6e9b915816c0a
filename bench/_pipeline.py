"""What the pipeline benchmarks share: a whole studio (web server, queue workers, simulator) started on
loopback in a fresh data folder, jobs put through it, and what the simulator's side saw.

Upstream requests are counted from the web server's own access log (the simulator answers inside it), not
from the studio's client. Timestamps come from the database: the simulator's `finishes_at` for a task, the
studio's `archived_at` for its job, on the same machine's clock.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import write_section

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
FINAL = ("succeeded", "failed", "timed_out")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Setup:
    """One studio to start: its settings, as environment variables."""

    seconds: float
    callbacks: bool
    database_url: str = ""
    redis_url: str = ""
    worker_processes: int = 1
    extra: dict[str, str] = field(default_factory=dict)
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sorastudio-bench-")))
    port: int = field(default_factory=free_port)
    # One key for every process of the run: the queue signs its tasks with it.
    secret_key: str = field(default_factory=lambda: "bench-" + secrets.token_urlsafe(24))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.data_dir / "access.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "sorastudio.settings",
                "DATA_DIR": str(self.data_dir),
                "DATABASE_URL": self.database_url or f"sqlite:///{self.data_dir / 'bench.sqlite3'}",
                "REDIS_URL": self.redis_url,
                "DEBUG": "false",
                "SECRET_KEY": self.secret_key,
                "HTTPS": "false",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SORA_PROVIDER": "simulator",
                "SIMULATOR_BASE_URL": self.base,
                "SIMULATOR_SECONDS": str(self.seconds),
                # The benchmarks measure the studio, not the simulator's guard against anonymous load.
                "SIMULATOR_MAX_HOLDS": "32",
                "SIMULATOR_MAX_RENDERS": "16",
                "PUBLIC_BASE_URL": self.base if self.callbacks else "",
                "EMAIL_HOST": "",
                "LOG_LEVEL": "WARNING",
                "Q_CLUSTER_NAME": f"bench{self.port}",
            }
        )
        env.update(self.extra)
        return env


def setup_django(setup: Setup) -> None:
    """This process talks to the same database as the studio it starts (to make jobs and read results)."""
    os.environ.update(setup.env())
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate(setup: Setup) -> None:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=setup.env(), check=True
    )


@contextmanager
def studio(setup: Setup) -> Iterator[Studio]:
    """The web server (as `runstudio` starts it, with an access log) and the queue worker processes."""
    from sorastudio.studio.management.commands.runstudio import gunicorn_command  # Django is set up by now

    env = setup.env()
    logs = (setup.data_dir / "studio.log").open("ab")
    web = subprocess.Popen(
        [
            *gunicorn_command(PYTHON, f"127.0.0.1:{setup.port}"),
            "--access-logfile",
            str(setup.access_log),
            # gunicorn.conf.py recycles a worker after 2,000 requests; here that worker is also the
            # simulator, whose pending callbacks (timers in it) would die with it.
            "--max-requests",
            "0",
        ],
        cwd=ROOT,
        env=env,
        stdout=logs,
        stderr=logs,
    )
    workers = [
        subprocess.Popen([PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=logs, stderr=logs)
        for _ in range(setup.worker_processes)
    ]
    running = Studio(setup, web, workers)
    try:
        running.wait_until_up()
        yield running
    finally:
        for process in [web, *workers]:
            if process.poll() is None:
                process.terminate()
        for process in [web, *workers]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        logs.close()


@dataclass
class Studio:
    setup: Setup
    web: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]

    def wait_until_up(self) -> None:
        for _ in range(200):
            try:
                with urllib.request.urlopen(self.setup.base + "/healthz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if self.web.poll() is not None:
                break
            time.sleep(0.1)
        raise SystemExit(f"the studio did not start; see {self.setup.data_dir / 'studio.log'}")

    def worker_cpu_seconds(self) -> float:
        """User + system CPU of every queue worker process tree so far (children already reaped included)."""
        return cpu_seconds(self.workers)

    def web_cpu_seconds(self) -> float:
        """The same for the web server, where the simulator answers and renders the videos."""
        return cpu_seconds([self.web])


def cpu_seconds(roots: list[subprocess.Popen[bytes]]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for root in roots:
        for pid in [root.pid, *descendants(root.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # utime, stime, cutime, cstime (fields 14-17 of stat, counted after the command name)
            total += sum(int(value) for value in fields[11:15])
    return total / tick


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def make_team() -> tuple[Any, Any]:
    from django.contrib.auth import get_user_model

    from sorastudio.teams.models import Membership, Team

    team = Team.objects.create(name="Bench")
    user = get_user_model().objects.create_user("bench", password=secrets.token_urlsafe(16))
    Membership.objects.create(team=team, user=user, role=Membership.Role.ADMIN)
    return team, user


def submit_jobs(
    team: Any, user: Any, count: int, provider: str = "acedata", spacing: float = 0.0
) -> list[str]:
    """Jobs made as the form makes them (price reserved, `created` event) and handed to the queue.

    They share one prompt, so that the simulator renders their video once: it renders on the first download,
    which a real service has done before it reports a task finished, and that encoding is not the studio's
    work. Each job still downloads, checks and stores its own copy."""
    from sorastudio.pipeline import submit, tasks

    ids = []
    for _ in range(count):
        generation = submit.create_job(
            team=team,
            user=user,
            simulated=True,
            provider=provider,
            prompt="a paper boat in the rain",
            model="sora-2",
            version="1.0",
            duration=10,
            size="small",
            orientation="landscape",
        )
        tasks.start(generation)
        ids.append(str(generation.pk))
        time.sleep(spacing)
    return ids


def wait_for(ids: list[str], timeout: float) -> float:
    """Wait until every job has ended; the monotonic time when the last one did."""
    from sorastudio.studio.models import Generation

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if Generation.objects.filter(pk__in=ids).exclude(state__in=FINAL).count() == 0:
            return time.monotonic()
        time.sleep(0.2)
    left = Generation.objects.filter(pk__in=ids).exclude(state__in=FINAL).count()
    raise SystemExit(f"{left} of {len(ids)} jobs had not ended after {timeout:.0f} s")


def states(ids: list[str]) -> Counter[str]:
    from sorastudio.studio.models import Generation

    return Counter(Generation.objects.filter(pk__in=ids).values_list("state", flat=True))


def finish_delays(ids: list[str]) -> list[float]:
    """Seconds from the simulator's task finishing to its video being archived (playable in the gallery)."""
    from sorastudio.simulator.models import SimTask
    from sorastudio.studio.models import Generation

    jobs = dict(
        Generation.objects.filter(pk__in=ids, state="succeeded").values_list(
            "upstream_task_id", "archived_at"
        )
    )
    finished = dict(SimTask.objects.filter(pk__in=list(jobs)).values_list("id", "finishes_at"))
    return sorted((jobs[task] - finished[task]).total_seconds() for task in jobs if task in finished)


REQUEST = re.compile(r'"(GET|POST|HEAD) (/simulator/[^ ?"]*)')


def upstream_requests(setup: Setup) -> Counter[str]:
    """The simulator's requests by kind, from the web server's access log."""
    kinds: Counter[str] = Counter()
    for line in setup.access_log.read_text().splitlines():
        found = REQUEST.search(line)
        if not found:
            continue
        path = found.group(2)
        if path.endswith("/sora/videos") or path.endswith("/generate"):
            kinds["submit"] += 1
        elif path.endswith("/sora/tasks") or "record-info" in path:
            kinds["status read"] += 1
        elif path.endswith(".mp4"):
            kinds["download"] += 1
        else:
            kinds["other"] += 1
    return kinds


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def machine(*, postgres: str = "") -> str:
    cpu = platform.processor() or platform.machine()
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    memory = ""
    try:
        found = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        memory = f"{int(found.group(1)) / 1024 / 1024:.0f} GB RAM" if found else ""
    except OSError:
        pass
    parts = [
        f"{cpu}, {os.cpu_count()} cores",
        memory,
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
        postgres,
        f"{platform.system()} {platform.release()}",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    ]
    return " · ".join(part for part in parts if part)


def load_note(before: float, after: float) -> str:
    """Other work on the machine skews every figure: say how loaded it was."""
    cores = os.cpu_count() or 1
    note = f"load average {before:.1f} before the run and {after:.1f} after it, on {cores} cores"
    if max(before, after) > cores * 0.75:
        note += " — a loaded machine (other work was running beside the benchmark), so these are pessimistic"
    return note


def cleanup(setup: Setup, keep: bool) -> None:
    """Remove the run's data folder (BENCH_KEEP=1 keeps it, to look into a run)."""
    if not keep and not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(setup.data_dir, ignore_errors=True)


def run_once(setup: Setup, jobs: int, timeout: float, spacing: float = 0.0) -> dict[str, Any]:
    """Put `jobs` jobs through a fresh studio; what happened, as plain data. Runs in a process of its own
    (Django is set up once per process, on this setup's database)."""
    migrate(setup)
    setup_django(setup)
    team, user = make_team()
    load_before = os.getloadavg()[0]
    with studio(setup) as running:
        cpu_before = running.worker_cpu_seconds()
        web_before = running.web_cpu_seconds()
        started = time.monotonic()
        ids = submit_jobs(team, user, jobs, spacing=spacing)
        submitted = time.monotonic()
        ended = wait_for(ids, timeout)
        cpu = running.worker_cpu_seconds() - cpu_before
        web_cpu = running.web_cpu_seconds() - web_before
        time.sleep(0.5)  # the last access-log lines
        requests = upstream_requests(setup)
    outcome = states(ids)
    return {
        "jobs": jobs,
        "states": dict(outcome),
        "succeeded": outcome.get("succeeded", 0),
        "wall_seconds": ended - started,
        "submit_seconds": submitted - started,
        "worker_cpu_seconds": cpu,
        "web_cpu_seconds": web_cpu,
        "requests": dict(requests),
        "delays": finish_delays(ids),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def run_in_child(script: Path, arguments: list[str]) -> dict[str, Any]:
    """Run `script --child …` and read the JSON it prints last."""
    import json

    done = subprocess.run(
        [PYTHON, str(script), "--child", *arguments], cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def drive(
    script: str,
    parser: argparse.ArgumentParser,
    each: str,
    child: Callable[[argparse.Namespace], dict[str, Any]],
    report: Callable[[dict[str, Any], argparse.Namespace], str],
) -> None:
    """The benchmarks' common main: with --child, one measurement printed as JSON; otherwise one child
    process per comma-separated value of the option `each` (a fresh interpreter and database for each), then
    the report, printed and written in place of its section of docs/performance.md."""
    import json

    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/performance.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    results = {}
    given = [a for a in sys.argv[1:] if a != "--no-write"]
    for value in getattr(args, each).split(","):
        print(f"{value}: {args.jobs} jobs …", file=sys.stderr)
        # The last of a repeated option wins with argparse: the child measures this one value.
        results[value] = run_in_child(Path(script), [*given, f"--{each}={value}"])
    text = report(results, args)
    print(text)
    if not args.no_write:
        write_section(text)
