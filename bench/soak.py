"""The soak test: a few hundred jobs through the real pipeline, against a simulator that misbehaves, while
queue workers are killed with SIGKILL.

    .venv/bin/python bench/soak.py                   # 300 jobs, 6 kills; writes docs/reliability.md
    .venv/bin/python bench/soak.py --jobs 60 --kills 3 --report /tmp/r.md
    .venv/bin/python bench/soak.py --postgres     # PostgreSQL and Redis on loopback, throwaway database

It runs in a fresh temporary data folder and SQLite database, never the developer's own (or, with
--database-url/--redis-url, on a PostgreSQL database and Redis broker you give it: they are wiped first).
The processes are the real ones: gunicorn serving the studio, its callback endpoint and the simulator on
loopback, and --clusters `manage.py qcluster` processes. The jobs are made with the verbs the form uses
(GenerationForm, Generation.create_request with its ledger reservation, tasks.start), with prompt markers
choosing what each should end as. SIMULATOR_FAULTS makes the simulator fail at random (see
sorastudio/simulator/faults.py); every --kill-every seconds a random cluster is killed with SIGKILL, its
whole process group (qcluster forks), and started again.

Two races are played on purpose by this process itself, on jobs of their own kinds in the mix:
  * "deadline mid-submit": while such a job is being sent (a held answer keeps it in `submitting` for a
    moment), its clock is moved past GENERATION_TIMEOUT, so the follower's time-out round meets a job whose
    request is reaching the upstream;
  * "stale archiver": while a worker is archiving such a job, this process takes the job's claim as a
    second worker takes a stale one (`claim_for_archive(stale_after=0)`: the first worker is, in effect,
    slower than Q_TIMEOUT) and archives it too, so two archivers of one job race to the end.

When every job has ended (or --deadline passes) it checks, and exits 1 if any check fails:
  * every job ended in the state its markers call for (a kill may also leave a job `submit_uncertain`:
    those are counted, and there can be no more of them than workers killed);
  * no job made more than one upstream task (the simulator's task records, by callback token);
  * every archived file's sha256 is the one recorded and the simulator's own file's;
  * the ledger: one reservation and one charge-or-release per job, a charge exactly when LedgerEntry.settle
    says so, no job given its credits back although the upstream made its video, and the credits reserved
    equal to those charged plus those released.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "reliability.md"
FAULTS = (
    "429=0.08,500=0.04,timeout=0.02,malformed=0.03,duplicate_callback=0.2,late_callback=0.1,"
    "forged_callback=0.05,missing_callback=0.2,expired_link=0.1"
)


@dataclass(frozen=True)
class Kind:
    """One kind of job in the mix and what it must end as."""

    name: str
    share: float
    provider: str
    marker: str
    state: str
    code: str = ""
    # What the upstream makes of it: a job adopted after a kill ends as its task did upstream, even one
    # whose submit's answer was meant to be lost.
    made: str = "succeeded"


MIX = (
    Kind("plain", 0.34, "acedata", "", "succeeded"),
    Kind("held submit answer", 0.10, "acedata", "[sim:hold]", "succeeded"),
    Kind("expired link", 0.07, "acedata", "[sim:expired]", "succeeded"),
    Kind("slow", 0.06, "acedata", "[sim:slow]", "succeeded"),
    Kind("Sora2API", 0.07, "sora2api", "", "succeeded"),
    Kind(
        "refused (real person)",
        0.09,
        "acedata",
        "a real person,",
        "failed",
        "content_policy_violation",
        "failed",
    ),
    Kind("upstream error", 0.09, "acedata", "[sim:error]", "failed", "api_error", "failed"),
    Kind("submit time-out", 0.09, "acedata", "[sim:timeout]", "failed", "submit_uncertain"),
    Kind("submit malformed", 0.09, "acedata", "[sim:malformed]", "failed", "submit_uncertain"),
    # The races this process plays (see Racer); a deadline job that a 429 sent back to the queue ends
    # `timed_out` there, never made: see `verify`.
    Kind("deadline mid-submit", 0.08, "acedata", "[sim:hold]", "succeeded"),
    Kind("stale archiver", 0.08, "acedata", "", "succeeded"),
)
DEADLINE_KIND, STALE_ARCHIVER_KIND = "deadline mid-submit", "stale archiver"
KILLED_MID_SUBMIT = "The worker stopped while sending"


@dataclass
class Run:
    started: float = field(default_factory=time.monotonic)
    kills: list[float] = field(default_factory=list)
    clusters_killed: int = 0
    workers_per_cluster: int = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(args: argparse.Namespace, data: Path, port: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SORA", "ACEDATA", "SIMULATOR", "DATABASE", "REDIS", "Q_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sorastudio.settings",
            "DATA_DIR": str(data),
            "DATABASE_URL": args.database_url or f"sqlite:///{data / 'studio.sqlite3'}",
            "SORA_PROVIDER": "simulator",
            "PUBLIC_BASE_URL": base,
            "SIMULATOR_BASE_URL": base,
            "SIMULATOR_SECONDS": str(args.seconds),
            "SIMULATOR_FAULTS": args.faults,
            # Its faults hold many web threads at once by design (timeouts, "[sim:hold]" submits during the
            # SIGKILLs), and its workers download many fresh renders: more than a studio's defaults allow.
            "SIMULATOR_MAX_HOLDS": "16",
            "SIMULATOR_MAX_RENDERS": "8",
            "UPSTREAM_TIMEOUT": "3",
            "POLL_INTERVAL": "1",
            "CALLBACK_POLL_INTERVAL": "5",
            "Q_TIMEOUT": "30",
            "Q_WORKERS": str(args.workers),
            "SUBMIT_STALE_AFTER": "30",
            "DEBUG": "true",  # static files straight from the app folders, no collectstatic into the tree
            "SECRET_KEY": "soak-test-" + os.urandom(8).hex(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
        # A queue of this run's own on a Redis that other runs may share.
        env["Q_CLUSTER_NAME"] = f"soak-{os.getpid()}"
    return env


def start_web(env: dict[str, str], port: int, logs: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", "sorastudio.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--threads", "24", "--timeout", "120"]
    out = (logs / "web.log").open("ab")
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True)


def start_cluster(env: dict[str, str], number: int, logs: Path) -> subprocess.Popen[bytes]:
    out = (logs / f"cluster{number}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=out,
        start_new_session=True,  # its own process group: a kill takes its forked workers with it
    )


def kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def wait_for_web(port: int, seconds: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the web server did not start")


def make_jobs(count: int, seed: int) -> dict[str, Kind]:
    """Create `count` jobs as the form does, each with its reservation, and hand them to the queue."""
    from django.contrib.auth import get_user_model
    from django.http import QueryDict

    from sorastudio.pipeline import submit, tasks
    from sorastudio.studio.forms import GenerationForm
    from sorastudio.teams.models import Membership, Team

    user = get_user_model().objects.create_user("soak", password=None)
    team = Team.objects.create(name="Soak")
    Membership.objects.create(team=team, user=user, role=Membership.Role.ADMIN)
    rng = random.Random(seed)
    kinds = rng.choices(MIX, weights=[k.share for k in MIX], k=count)
    made: dict[str, Kind] = {}
    for number, kind in enumerate(kinds, start=1):
        data = QueryDict(mutable=True)
        data.update({"provider": kind.provider, "prompt": f"soak job {number}: {kind.marker} a paper boat"})
        if kind.provider == "acedata":
            data.update({"model": "sora-2", "version": "2.0", "duration": "4", "size": "720x1280"})
        else:
            data.update({"model": "sora-2", "aspect_ratio": "landscape", "quality": "standard"})
        form = GenerationForm(data)
        if not form.is_valid():
            raise SystemExit(f"the soak's own request is invalid: {form.errors.as_json()}")
        (job,) = submit.create_jobs(
            team=team,
            user=user,
            simulated=True,
            params=form.generation_params(),
            prompts=form.cleaned_data["prompts"],
            rate_limited=False,  # hundreds of jobs from one made-up person, like the generate command
        )
        tasks.start(job)
        made[str(job.pk)] = kind
    return made


def submit_in_flight() -> bool:
    """A job is in the middle of its submit: the moment a kill tests the gap between the upstream taking
    it and the task id being saved."""
    from django.utils import timezone

    from sorastudio.studio.models import Generation, State

    moment = timezone.now() - timedelta(seconds=0.4)
    return Generation.objects.filter(
        state=State.SUBMITTING, upstream_task_id="", claimed_at__lt=moment
    ).exists()


class Racer(threading.Thread):
    """Plays the two races on the jobs of their kinds, as they come by; counts the ones that happened."""

    def __init__(self, jobs: dict[str, Kind]) -> None:
        super().__init__(daemon=True)
        self.deadline = {pk for pk, kind in jobs.items() if kind.name == DEADLINE_KIND}
        self.archive = {pk for pk, kind in jobs.items() if kind.name == STALE_ARCHIVER_KIND}
        self.deadlines_passed = 0
        self.archives_taken_over = 0
        self.archivers: list[threading.Thread] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopping.wait(0.05):
                self.round()
        finally:
            connection.close()

    def round(self) -> None:
        from django.conf import settings
        from django.utils import timezone

        from sorastudio.studio.models import Generation, State

        # The clock passes the job's deadline while its request is reaching the upstream.
        past = timezone.now() - timedelta(seconds=settings.GENERATION_TIMEOUT + 5)
        for pk in list(self.deadline):
            if Generation.objects.filter(pk=pk, state=State.SUBMITTING).update(created_at=past):
                self.deadline.discard(pk)
                self.deadlines_passed += 1
        # A second archiver takes the claim of one at work (claimed_at set), as if the first were stale.
        claimed = Generation.objects.filter(
            pk__in=list(self.archive), state=State.ARCHIVING, claimed_at__isnull=False
        )
        for generation in claimed:
            self.archive.discard(str(generation.pk))
            if generation.claim_for_archive(stale_after=0):
                self.archives_taken_over += 1
                archiver = threading.Thread(target=self.archive_as_second_worker, args=(generation,))
                archiver.start()
                self.archivers.append(archiver)

    def archive_as_second_worker(self, generation: Any) -> None:
        from django.db import connection

        from sorastudio.pipeline import tasks

        try:
            tasks.archive_claimed(generation)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        for archiver in self.archivers:
            archiver.join()


def stray_files() -> int:
    """Stored videos and posters no job points at (a loser of an archive race deletes what it wrote; a
    SIGKILL between storing and marking can leave one)."""
    from django.conf import settings

    from sorastudio.studio.models import Generation

    used = {name for pair in Generation.objects.values_list("video", "poster") for name in pair if name}
    root = Path(settings.MEDIA_ROOT)
    stored = {
        str(path.relative_to(root))
        for folder in ("videos", "posters")
        if (root / folder).exists()
        for path in (root / folder).rglob("*")
        if path.is_file()
    }
    return len(stored - used)


def live_count(ids: list[str]) -> int:
    from sorastudio.studio.models import LIVE_STATES, Generation

    return Generation.objects.filter(pk__in=ids, state__in=LIVE_STATES).count()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def expected_ending(kind: Kind, submits: int, *, adopted: bool) -> tuple[str, str]:
    """The (state, error code) a job of this kind must end in, given how often it reached the upstream and
    whether a recovery adopted its upstream task."""
    if adopted:
        return (kind.state, kind.code) if kind.made == "failed" else ("succeeded", "")
    if kind.name == DEADLINE_KIND and submits == 0:
        # Sent back to the queue before the upstream took it (a 429, a 500) with its clock already
        # past: the time-out ends it there, never made. Timed out once made would be the bug.
        return ("timed_out", "timed_out")
    return (kind.state, kind.code)


def archive_mismatch(g: Any) -> str:
    """What is wrong with a succeeded job's archived file, or "" when it is the simulator's video."""
    from django.conf import settings

    try:
        stored = sha256_of(Path(g.video.path))
    except FileNotFoundError:  # deleted by another archiver of the job: the worst mismatch
        stored = "missing"
    source = Path(settings.DATA_DIR) / "simulator" / f"{g.upstream_task_id}.mp4"
    if stored == g.sha256 == sha256_of(source):
        return ""
    return f"archived file does not match its sha256 ({stored[:12]})"


def verify_ledger(
    jobs: dict[str, Kind], generations: dict[str, Any], made_upstream: set[str], problems: list[str]
) -> dict[str, int]:
    """The ledger's figures: each job reserved once, then charged or released once (charged when the
    upstream made it), and the credits adding up; what is wrong goes to `problems`."""
    from django.db.models import Sum

    from sorastudio.billing.models import LedgerEntry
    from sorastudio.studio.models import State

    ledger = LedgerEntry.objects.filter(generation__in=list(jobs))
    per_job = Counter((str(gen), kind) for gen, kind in ledger.values_list("generation", "kind"))
    charges = releases = released_though_made = 0
    for pk in jobs:
        g = generations[pk]
        reserve, charge, release = (per_job[(pk, k)] for k in ("reserve", "charge", "release"))
        charges += charge
        releases += release
        should_charge = (
            g.upstream_finished_at is not None
            or g.state == State.SUCCEEDED
            or g.error_code == "submit_uncertain"
        )
        if reserve != 1 or charge + release != 1 or bool(charge) != should_charge:
            problems.append(f"{pk}: ledger has {reserve} reserve, {charge} charge, {release} release")
        if release and g.callback_token in made_upstream:
            released_though_made += 1
            problems.append(f"{pk} ({jobs[pk].name}) was given its credits back, but the upstream made it")

    def total(kind: str) -> int:
        return ledger.filter(kind=kind).aggregate(s=Sum("credits"))["s"] or 0

    reserved, charged, released = total("reserve"), total("charge"), total("release")
    if reserved != charged + released:
        problems.append(f"ledger: {reserved} reserved but {charged} charged + {released} released")

    return {
        "reserved": reserved,
        "charged": charged,
        "released": released,
        "difference": reserved - charged - released,
        "charges": charges,
        "releases": releases,
        "released_though_made": released_though_made,
    }


def verify(jobs: dict[str, Kind], run: Run, racer: Racer | None = None) -> dict[str, Any]:
    """Every check of the run, as figures; `problems` lists what is wrong."""
    from sorastudio.simulator.models import SimTask
    from sorastudio.studio.models import Event, Generation, State

    problems: list[str] = []
    generations = {str(g.pk): g for g in Generation.objects.filter(pk__in=list(jobs))}
    by_token: Counter[str] = Counter()
    made_upstream: set[str] = set()
    for url, made in SimTask.objects.exclude(callback_url="").values_list("callback_url", "outcome"):
        token = url.rstrip("/").rsplit("/", 1)[-1]
        by_token[token] += 1
        if made == "succeeded":
            made_upstream.add(token)

    adopted = Counter(
        str(pk)
        for pk in Event.objects.filter(kind="adopted", generation__in=list(jobs)).values_list(
            "generation", flat=True
        )
    )
    outcomes: Counter[str] = Counter()
    wrong = killed_mid_submit = mismatched = checked_files = 0
    submits_max = 0
    for pk, kind in jobs.items():
        g = generations[pk]
        outcome = g.state + (f" ({g.error_code})" if g.error_code else "")
        outcomes[outcome] += 1
        submits = by_token[g.callback_token]
        submits_max = max(submits_max, submits)
        if submits > 1:
            problems.append(f"{pk} ({kind.name}) was submitted upstream {submits} times")
        expected = expected_ending(kind, submits, adopted=bool(adopted[pk]))
        if g.error_code == "submit_uncertain" and g.error_message.startswith(KILLED_MID_SUBMIT):
            killed_mid_submit += 1
        elif (g.state, g.error_code) != expected:
            wrong += 1
            problems.append(f"{pk} ({kind.name}) ended {outcome}, not {' '.join(expected)}".rstrip())
        elif expected[1] not in ("submit_uncertain", "timed_out") and submits != 1:
            problems.append(f"{pk} ({kind.name}) has {submits} upstream tasks, not 1")
        if g.state == State.SUCCEEDED:
            checked_files += 1
            if mismatch := archive_mismatch(g):
                mismatched += 1
                problems.append(f"{pk}: {mismatch}")
    if killed_mid_submit > run.clusters_killed * run.workers_per_cluster:
        problems.append(f"{killed_mid_submit} jobs lost to kills mid-submit, more than workers killed")

    ledger = verify_ledger(jobs, generations, made_upstream, problems)
    events = Counter(Event.objects.filter(generation__in=list(jobs)).values_list("kind", flat=True))
    return {
        "jobs": len(jobs),
        "mix": dict(Counter(kind.name for kind in jobs.values())),
        "outcomes": dict(outcomes),
        "wrong_state": wrong,
        "killed_mid_submit": killed_mid_submit,
        "submits_per_job_max": submits_max,
        "upstream_tasks": sum(by_token[g.callback_token] for g in generations.values()),
        "archived_files_checked": checked_files,
        "sha256_mismatches": mismatched,
        "stray_files": stray_files(),
        "races": {
            "deadline_passed_mid_submit": racer.deadlines_passed if racer else 0,
            "archive_taken_over": racer.archives_taken_over if racer else 0,
        },
        "ledger": ledger,
        "events": {k: events[k] for k in ("callback", "retry", "adopted", "link_refreshed") if events[k]},
        "problems": problems,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def one_line(s: dict[str, Any]) -> str:
    ledger = s["ledger"]
    return (
        f"* {s['when']}, {s['database']}: {s['jobs']} jobs in {s['duration']:.0f} s, "
        f"{len(s['kill_times'])} kills; {s['wrong_state']} in a wrong state, {s['killed_mid_submit']} lost "
        f"mid-submit, {s['events'].get('adopted', 0)} adopted, at most {s['submits_per_job_max']} submit per "
        f"job, {s['sha256_mismatches']} sha256 mismatches in {s['archived_files_checked']} files, "
        f"{s['races']['deadline_passed_mid_submit']} deadlines passed mid-submit, "
        f"{s['races']['archive_taken_over']} archives taken over, {ledger['released_though_made']} released "
        f"though made, ledger difference {ledger['difference']}: "
        f"{'passed' if not s['problems'] else 'FAILED'}."
    )


def report_text(
    summary: dict[str, Any], args: argparse.Namespace, others: Sequence[dict[str, Any]] = ()
) -> str:
    s = summary
    faults = "\n".join(f"| `{key}` | {count} |" for key, count in sorted(s["faults"].items()))
    mix = "\n".join(f"| {name} | {count} |" for name, count in sorted(s["mix"].items()))
    outcomes = "\n".join(f"| {name} | {count} |" for name, count in sorted(s["outcomes"].items()))
    ledger = s["ledger"]
    other_runs = ""
    if others:
        other_runs = "\nOther runs, same checks:\n\n" + "\n".join(one_line(o) for o in others) + "\n"
    kills = (
        f"{len(s['kill_times'])} kills ({s['clusters_killed']} cluster processes), at "
        + ", ".join(f"{t:.0f}" for t in s["kill_times"])
        + " s"
    )
    verdict = "passed" if not s["problems"] else f"FAILED ({len(s['problems'])} problems)"
    events = s["events"]
    rows = [
        (
            "Jobs in the wrong final state",
            s["wrong_state"],
            "a job whose end is not the one its markers call for",
        ),
        (
            "Jobs lost to a kill mid-submit",
            s["killed_mid_submit"],
            "killed between its claim and saving the task id, and no callback adopted it: failed "
            "`submit_uncertain` after `SUBMIT_STALE_AFTER`, charged, never sent again (at most one per "
            "worker killed)",
        ),
        (
            "Jobs adopted from their callback",
            events.get("adopted", 0),
            "killed after the upstream took the submit: the callback named the task and the upstream's own "
            "record of it carried the job's callback token",
        ),
        (
            "Deadlines passed mid-submit",
            s["races"]["deadline_passed_mid_submit"],
            "jobs whose GENERATION_TIMEOUT passed while their request was reaching the upstream: each must "
            "end as its task did (it is neither timed out nor given its credits back once the upstream has "
            "it)",
        ),
        (
            "Archives taken over",
            s["races"]["archive_taken_over"],
            "a second archiver took the claim while the first was at work: the job must end once, under "
            "the claim that holds it, with that claim's files intact",
        ),
        (
            "Stray stored files",
            s["stray_files"],
            "stored videos and posters no job points at: the loser of an archive race deletes what it "
            "wrote (a SIGKILL between storing and marking can still leave one)",
        ),
        (
            "Submits per job, most",
            s["submits_per_job_max"],
            "upstream tasks made for one job (the simulator's records, by callback token): 1 is no "
            "double submit",
        ),
        ("Upstream tasks made", s["upstream_tasks"], "one for each job that reached the upstream"),
        (
            "Archived files checked / sha256 mismatches",
            f"{s['archived_files_checked']} / {s['sha256_mismatches']}",
            "stored file = `Generation.sha256` = the simulator's rendered file",
        ),
        ("Credits reserved", ledger["reserved"], "one reservation per job"),
        (
            "Credits charged + released",
            f"{ledger['charged']} + {ledger['released']}",
            f"{ledger['charges']} charges and {ledger['releases']} releases: one per job, a charge exactly "
            "when the video was made (or may have been: `submit_uncertain`)",
        ),
        (
            "Released though made",
            ledger["released_though_made"],
            "jobs given their credits back although the simulator made their video",
        ),
        ("Ledger difference", f"{ledger['difference']} credits", "reserved − charged − released"),
        ("Retries on timelines", events.get("retry", 0), "backoffs after 429s, 500s, time-outs, bad files"),
        ("Fresh links fetched", events.get("link_refreshed", 0), "expired links replaced by a new retrieve"),
        (
            "Callbacks received for real jobs",
            events.get("callback", 0),
            "duplicates, late and forged ones included; each is only a wake-up",
        ),
    ]
    checks = "\n".join(
        ["| Check | Figure | What it means |", "|---|---|---|"]
        + [f"| {name} | {figure} | {meaning} |" for name, figure, meaning in rows]
    )
    return f"""# Reliability: the soak test

`bench/soak.py` drives jobs through the real pipeline (gunicorn serving the studio, its callback endpoint
and the simulator on loopback; {s["clusters"]} `qcluster` processes of {s["workers"]} workers; a fresh
{s["database"]} database) while the simulator misbehaves and queue workers are killed with SIGKILL, then
checks that nothing was lost, made twice, corrupted or mis-billed. The pytest version is smaller and opt-in:
`.venv/bin/python -m pytest -m soak tests/pipeline/test_soak.py` (the default run leaves it out).

    flock /work/notes/bench.lock .venv/bin/python bench/soak.py            # this page's figures
    .venv/bin/python bench/soak.py --jobs 60 --kills 3 --report /tmp/r.md  # a quick one
    .venv/bin/python bench/soak.py --postgres --jobs 100 --report /tmp/r.md # PostgreSQL + Redis on loopback

## What is injected

`SIMULATOR_FAULTS` gives each kind of fault a probability (documented in
`sorastudio/simulator/faults.py`; settings.py refuses unknown kinds and rates outside 0..1). This run:
`{args.faults}`.

* **429** (with `Retry-After: 1`) and **500** on submits, status reads and downloads. On a submit they come
  before the task is made, as the studio assumes of an error status, so the studio retries with backoff.
* **timeout**: the simulator holds a status read or a download past the client's `UPSTREAM_TIMEOUT`
  (3 s here).
* **malformed**: a status read answered 200 with a body that is not JSON; a download answered 200 with an
  error page instead of a video.
* **duplicate**, **late** (after polling has usually finished the job), **missing** callbacks, and
  **forged** ones: a body that lies (succeeded, a link to a foreign address, another task's id) posted to
  the job's callback URL and to a token no job has.
* **expired link**: the first video link of a task has already expired.
* **SIGKILL**: every {args.kill_every:g} s (at a moment when a submit is in flight, if one comes within
  5 s) every `qcluster` process group is killed, forked workers included, and started again.
  `[sim:hold]` jobs keep the simulator's answer to their submit waiting 0.6 × `UPSTREAM_TIMEOUT` after the
  task is made, to widen the window between "made upstream" and "task id saved". This run:
  {kills}.

The run's settings: `SIMULATOR_SECONDS={s.get("seconds", args.seconds):g}`, `UPSTREAM_TIMEOUT=3`,
`POLL_INTERVAL=1`, `CALLBACK_POLL_INTERVAL=5`, `Q_TIMEOUT=30`, `SUBMIT_STALE_AFTER=30`, callbacks on
(`PUBLIC_BASE_URL` is the web process); everything else as shipped.

Random faults never change what a job should end as. Prompt markers choose the outcomes that are failures
by design: `[sim:timeout]` (the task is made, then the submit's answer is held past the time-out) and
`[sim:malformed]` (the task is made, the answer is not JSON) must end `failed (submit_uncertain)`, charged
and never sent again, since the upstream may be making the video (unless a kill left the job in
`submitting` and its callback then adopted the task: it ends as the task did); "a real person" and
`[sim:error]` must end failed with the upstream's code and their credits released; `[sim:expired]`,
`[sim:slow]` and `[sim:hold]` must succeed.

Two races are played by the soak process itself. **Deadline mid-submit**: while a `[sim:hold]` job of
that kind is in `submitting`, its `created_at` is moved past `GENERATION_TIMEOUT`, so the follower's
time-out round meets a job whose request is reaching the upstream; it must succeed (or, sent back to the
queue by a 429 before the upstream took it, end `timed_out` there, never made). **Stale archiver**: while a
worker archives a job of that kind, the soak process takes its claim as a second worker takes a stale one
(`claim_for_archive(stale_after=0)`, i.e. the first worker is slower than `Q_TIMEOUT`) and archives it too;
the job must end once, `succeeded`, with the stored file of the claim that won.

## The last run

{s["when"]} on {s["machine"]}; {s["jobs"]} jobs, {s["duration"]:.0f} s from the first job to the last
ending. Verdict: **{verdict}**.

| Faults injected (kind@where) | Count |
|---|---|
{faults}

| Jobs asked | Count |
|---|---|
{mix}

| Final state | Count |
|---|---|
{outcomes}

{checks}

Problems: {"none" if not s["problems"] else "; ".join(s["problems"][:20])}
{other_runs}
Reading the figures: `timeout@submit`, `malformed@submit` and `hold@submit` count the marker jobs, not random
faults (a random fault on a submit is only ever a 429 or a 500). Status reads see few faults because with
callbacks the studio reads a job mostly once, when its callback (or the safety read) wakes it. There are
fewer fresh links fetched than expired first links: the first link of a task often goes out in its callback's
body, which the studio never uses. A kill costs time rather than jobs: tasks a killed cluster had taken are
handed out again by the broker after `Q_TIMEOUT + 60` s, a stale archive claim is taken back after
`Q_TIMEOUT`, and the one-minute `tick` restarts following.

## What the soak found, and what changed

* **A double submit after a kill** (the known gap). A worker killed after the upstream took a submit but
  before the task id was saved left the job in `submitting`; ten minutes later it was sent again. Now such a
  job is never sent again: when its callback comes, the callback view reads the task the body names from
  the upstream and adopts it (`tasks.adopt`, `Generation.adopt_task`) only if the upstream's own record
  carries the job's callback token; without a callback it ends `submit_uncertain` after
  `SUBMIT_STALE_AFTER` (default 600 s), charged as every uncertain submit is (`LedgerEntry.settle`), and an
  admin can grant the credits back. The adoption runs in the callback request itself, not on the queue,
  where a second kill could lose it.
* **A CDN error page ended a made video.** A download answered 200 with something that is not a video failed
  the job at once, though it was made and paid for; it is now downloaded again within `ARCHIVE_MAX_ATTEMPTS`.
* **A job whose time ran out while it was being sent was refunded though the upstream made it.** The
  time-out failed any live state, `submitting` included, and released the credits; the worker's
  `mark_submitted` then found the job ended, and the task the upstream was making (and billing) belonged
  to no job. Now the time-out never ends a job being sent (the worker saves its task id, or the
  abandoned-claim recovery ends it `submit_uncertain`, charged), a running job's clock starts when the
  upstream takes it, and every path that fails a job names the states it moves from (`mark_failed`'s
  `from_states`) and checks them, and the claim, in its own UPDATE. The soak now plays this race and
  checks that no job is released although its video was made.
* **A stale archiver could delete the winner's video.** Archives were stored under fixed names and storing
  deleted what was there; an archiver whose claim had gone stale and been taken over could replace the
  winner's file, or, losing the final UPDATE, delete it. Now each attempt stores under names of its own,
  storing never deletes, the final UPDATE (and a retry or failure) holds only under the attempt's own claim,
  and a loser deletes only what it wrote. The soak now plays this race.
* **A state change and its event, ledger entry and notification were separate writes.** They are now one
  transaction per transition (the mail goes out after it commits).
* **A retry waited a minute.** A job put back to wait (429, 500, failed download) kept the time of its last
  dispatch, so the follower only dispatched it again a minute after that, whatever the backoff said;
  `retry_later` now clears it.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--kill-every", type=float, default=12.0)
    parser.add_argument("--clusters", type=int, default=2)
    parser.add_argument("--workers", type=int, default=3, help="worker processes per qcluster")
    parser.add_argument("--seconds", type=float, default=4.0, help="SIMULATOR_SECONDS")
    parser.add_argument("--faults", default=FAULTS, help="SIMULATOR_FAULTS")
    parser.add_argument("--deadline", type=float, default=900.0, help="give up after N seconds")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--report", type=Path, default=REPORT, help="where to write the report ('' for none)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--database-url", help="a PostgreSQL database to use instead (it is flushed)")
    parser.add_argument("--redis-url", help="a Redis broker for the queue instead of the database")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="PostgreSQL at 127.0.0.1:5432 (user postgres) in a throwaway database, Redis at 127.0.0.1:6379",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument(
        "--render",
        type=Path,
        nargs="+",
        help="only write the report from --json figures: the first run in full, others in a line each",
    )
    args = parser.parse_args()
    if args.render:
        main_run, *others = (json.loads(path.read_text()) for path in args.render)
        args.report.write_text(report_text(main_run, args, others))
        return 0

    throwaway = ""
    if args.postgres:
        throwaway = f"sorastudio_soak_{os.getpid()}"
        postgres("CREATE DATABASE " + throwaway)
        args.database_url = f"postgres://postgres@127.0.0.1:5432/{throwaway}"
        args.redis_url = args.redis_url or "redis://127.0.0.1:6379/0"
    try:
        return soak(args)
    finally:
        if throwaway:
            postgres("DROP DATABASE IF EXISTS " + throwaway + " WITH (FORCE)")
            import redis

            queue = redis.Redis.from_url(args.redis_url)
            for key in queue.scan_iter(f"django_q:soak-{os.getpid()}:*"):
                queue.delete(key)


def postgres(statement: str) -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute(statement.encode())


def soak(args: argparse.Namespace) -> int:
    data = Path(tempfile.mkdtemp(prefix="sorastudio-soak-"))
    logs = data / "logs"
    logs.mkdir()
    port = free_port()
    env = environment(args, data, port)
    os.environ.update(env)
    for key in list(os.environ):
        if key not in env and key.startswith(("SORA", "ACEDATA", "SIMULATOR", "DATABASE", "REDIS", "Q_")):
            del os.environ[key]
    if args.database_url:
        subprocess.run([sys.executable, "manage.py", "flush", "--noinput"], env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    import logging

    logging.getLogger("django-q").setLevel(logging.WARNING)  # one line per job enqueued otherwise
    from sorastudio.simulator import faults

    run = Run(workers_per_cluster=args.workers)
    web = start_web(env, port, logs)
    clusters = [start_cluster(env, n, logs) for n in range(args.clusters)]
    try:
        wait_for_web(port)
        print(f"soak: web on :{port}, {args.clusters} clusters; creating {args.jobs} jobs", flush=True)
        started = time.monotonic()
        jobs = make_jobs(args.jobs, args.seed)
        ids = list(jobs)
        racer = Racer(jobs)
        racer.start()
        next_kill = started + args.kill_every
        deadline = started + args.deadline
        while (left := live_count(ids)) and time.monotonic() < deadline:
            now = time.monotonic()
            # Each kill waits (up to 5 s) for a submit in flight, then takes every cluster, so that it
            # falls between the upstream taking a job and its task id being saved, whenever it can.
            if (
                len(run.kills) < args.kills
                and now >= next_kill
                and (submit_in_flight() or now > next_kill + 5)
            ):
                for cluster in clusters:
                    kill_group(cluster, signal.SIGKILL)
                    cluster.wait()
                run.kills.append(now - started)
                run.clusters_killed += len(clusters)
                print(f"soak: {now - started:5.0f} s  killed every cluster; {left} jobs live", flush=True)
                time.sleep(1)
                clusters = [start_cluster(env, n, logs) for n in range(len(clusters))]
                next_kill = now + args.kill_every
            time.sleep(0.2 if len(run.kills) < args.kills and now >= next_kill else 1)
        duration = time.monotonic() - started
        racer.stop()
    finally:
        for process in [*clusters, web]:
            kill_group(process, signal.SIGTERM)
        for process in [*clusters, web]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_group(process, signal.SIGKILL)
    summary = verify(jobs, run, racer)
    if live_count(ids):
        summary["problems"].insert(0, f"{live_count(ids)} jobs still live after {args.deadline:.0f} s")
    summary.update(
        {
            "duration": duration,
            "kill_times": run.kills,
            "clusters_killed": run.clusters_killed,
            "faults": faults.counts(),
            "clusters": args.clusters,
            "seconds": args.seconds,
            "workers": args.workers,
            "database": "PostgreSQL + Redis"
            if args.database_url and args.redis_url
            else ("PostgreSQL" if args.database_url else "SQLite"),
            "machine": machine(),
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "data": str(data),
        }
    )
    if str(args.report) not in ("", "."):
        args.report.write_text(report_text(summary, args))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "problems"}, indent=2))
    for problem in summary["problems"]:
        print("PROBLEM:", problem)
    if not args.keep and not summary["problems"]:
        import shutil

        shutil.rmtree(data, ignore_errors=True)
    return 1 if summary["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
