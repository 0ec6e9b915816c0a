"""The gallery benchmark: how fast the team gallery answers, and with how many SQL queries, as a team's
videos grow.

    .venv/bin/python bench/gallery.py --sizes 1000,10000,50000

For each size it builds that many videos (a realistic mix of authors, states, review states, services,
variations, favourites and comments) with bulk_create in a fresh temporary data folder and SQLite database,
never the developer's own, then asks for pages through Django's test client as a logged-in member: the first
page, the next page (by its cursor) and a filtered page (review state, author and a prompt search). Each is
timed over --runs requests after two warm-up ones; the table of medians, 95th percentiles and query counts
goes into the "Gallery" section of docs/performance.md (other sections are kept). Each size runs in a process
of its own, so that nothing is shared between them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "performance.md"
SECTION = "## Gallery"

AUTHORS = ("alice", "bob", "dana", "erin", "frank", "grace", "heidi", "ivan")
SUBJECTS = (
    "a red fox",
    "a paper boat",
    "a lighthouse",
    "a tram",
    "a glass whale",
    "a kite",
    "a lantern",
    "an owl",
)
ACTIONS = ("drifting", "trotting", "spinning slowly", "crossing a bridge", "waiting", "flying low", "glowing")
PLACES = ("in fresh snow", "in the rain", "at dawn", "over the harbour", "in a quiet canal", "on the dunes")
CAMERAS = ("slow tracking shot", "aerial view", "close-up", "wide shot, golden light", "handheld, at night")
SERVICES = (
    ("acedata", "sora-2", "1.0", 10),
    ("acedata", "sora-2-pro", "1.0", 15),
    ("sora2api", "sora-2", "", 10),
)

# The filtered page: alice's approved videos with "lighthouse" in the prompt.
PAGES = {
    "first page": "/",
    "next page": None,  # the first page's "More" link
    "filtered page": "/?review=approved&author=mine&q=lighthouse",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma-separated numbers of videos")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/performance.md")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a single size, in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.runs)))
        return

    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"{size:,} videos…", file=sys.stderr, flush=True)
        answer = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--runs", str(args.runs)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(answer.stdout.strip().splitlines()[-1]))
    section = report(results, args.runs)
    print(section)
    if not args.no_write:
        write(section)
        print(f"written to {REPORT.relative_to(ROOT)}", file=sys.stderr)


def measure(size: int, runs: int) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="gallery-bench-"))
    try:
        setup_django(data_dir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        build(size)
        built = time.perf_counter() - started
        # As the one-minute tick does in a running studio (tasks.tick): fresh statistics for SQLite's
        # planner, so that a filter uses the index that fits it.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")
        return {"size": size, "build_seconds": round(built, 1), "pages": time_pages(runs)}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def setup_django(data_dir: Path) -> None:
    """Production-like settings (DEBUG off) on a database and media folder of the benchmark's own."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "sorastudio.settings",
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / 'bench.sqlite3'}",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "HTTPS": "false",
            "ALLOWED_HOSTS": "testserver",
            "SORA_PROVIDER": "simulator",
            "EMAIL_HOST": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    # Pages name their static files; without collectstatic there is no manifest to look them up in.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def build(size: int) -> None:
    """`size` videos for the team "Studio", and a tenth as many for another team sharing the database."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from sorastudio.studio.models import Membership, Team

    rng = random.Random(size)
    users = {
        name: get_user_model().objects.create_user(name, password=f"{name}-pass-123") for name in AUTHORS
    }
    studio = Team.objects.create(name="Studio")
    agency = Team.objects.create(name="Agency")
    for name, user in users.items():
        role = {"bob": "reviewer", "dana": "admin"}.get(name, "creator")
        Membership.objects.create(team=studio, user=user, role=role)
    Membership.objects.create(team=agency, user=users["ivan"], role="admin")
    with transaction.atomic():
        fill(studio, list(users.values()), size, rng)
        fill(agency, [users["ivan"]], size // 10, rng)


def fill(team: Any, people: list[Any], size: int, rng: random.Random) -> None:
    from sorastudio.studio.models import Comment, Favourite, Generation, ReviewState, State

    now = datetime.now(UTC)
    videos: list[Any] = []
    while len(videos) < size:
        # One submit: usually one video, sometimes 2 to 4 variations made at the same moment.
        at = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
        count = min(rng.choice((1, 1, 1, 1, 2, 3, 4)), size - len(videos))
        group = uuid.uuid4() if count > 1 else None
        provider, model, version, duration = rng.choice(SERVICES)
        prompt = ", ".join(
            (
                f"{rng.choice(SUBJECTS)} {rng.choice(ACTIONS)} {rng.choice(PLACES)}".capitalize(),
                rng.choice(CAMERAS),
            )
        )
        author = rng.choice(people)
        for variation in range(1, count + 1):
            fate = rng.random()
            state = State.SUCCEEDED if fate < 0.88 else State.FAILED if fate < 0.98 else State.TIMED_OUT
            review = ReviewState.NEW
            if state == State.SUCCEEDED:
                review = rng.choices(list(ReviewState), weights=(60, 10, 20, 5, 5))[0]
            stored = f"{at:%Y/%m}/{uuid.uuid4().hex}"
            videos.append(
                Generation(
                    team=team,
                    created_by=author,
                    provider=provider,
                    simulated=True,
                    prompt=prompt,
                    model=model,
                    version=version,
                    duration=duration,
                    size="small" if provider == "acedata" else "",
                    orientation="landscape",
                    state=state,
                    review_state=review,
                    reviewed_by=people[0] if review in (ReviewState.APPROVED, ReviewState.REJECTED) else None,
                    group=group,
                    variation=variation,
                    callback_token=secrets.token_urlsafe(16),
                    created_at=at + timedelta(milliseconds=variation),
                    finished_at=at + timedelta(seconds=40),
                    upstream_finished_at=at + timedelta(seconds=30),
                    error_code="generation_failed" if state != State.SUCCEEDED else "",
                    video=f"videos/{stored}.mp4" if state == State.SUCCEEDED else "",
                    poster=f"posters/{stored}.jpg" if state == State.SUCCEEDED else "",
                    video_duration=float(duration),
                    width=1280,
                    height=720,
                    size_bytes=2_000_000,
                    sha256=secrets.token_hex(32),
                )
            )
    # The newest few are still being made, as in a studio at work.
    for video in sorted(videos, key=lambda v: v.created_at)[-5:]:
        video.state, video.video, video.poster = State.RUNNING, "", ""
    Generation.objects.bulk_create(videos, batch_size=500)

    favourites = [
        Favourite(user=person, generation=video)
        for person in people
        for video in rng.sample(videos, k=len(videos) * 3 // 100)
    ]
    Favourite.objects.bulk_create(favourites, batch_size=500, ignore_conflicts=True)
    comments = []
    for video in rng.sample(videos, k=len(videos) // 10):
        for _ in range(rng.randint(1, 3)):
            resolved = rng.random() < 0.4
            comments.append(
                Comment(
                    generation=video,
                    author=rng.choice(people),
                    body="Slower at the start, please.",
                    created_at=video.created_at + timedelta(hours=1),
                    resolved_at=video.created_at + timedelta(hours=2) if resolved else None,
                )
            )
    Comment.objects.bulk_create(comments, batch_size=500)


def time_pages(runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sorastudio.studio.models import Generation

    client = Client()
    client.force_login(get_alice())
    first = client.get("/")
    more = re.search(r'id="gallery-more"[^>]*href="([^"]+)"', first.content.decode())
    assert more, "the first page has no More link"
    urls = {**PAGES, "next page": more.group(1).replace("&amp;", "&")}

    results: dict[str, Any] = {}
    for name, url in urls.items():
        assert url is not None
        for _ in range(2):
            client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries = [query["sql"] for query in captured.captured_queries]  # before the next request resets them
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        gallery = max((sql for sql in queries if "studio_generation" in sql), key=len)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {gallery}")
            plan = [row[-1] for row in cursor.fetchall()]
        results[name] = {
            "url": url if name != "next page" else "/?cursor=…",
            "median_ms": round(statistics.median(timings), 1),
            "p95_ms": round(statistics.quantiles(timings, n=20)[-1], 1),
            "queries": len(queries),
            "cards": response.content.decode().count('<article class="card'),
            "plan": plan,
        }
    results["matching"] = Generation.objects.filter(
        team__name="Studio",
        review_state="approved",
        created_by__username="alice",
        prompt__icontains="lighthouse",
    ).count()
    return results


def get_alice() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="alice")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    parts = [
        f"{cpu}, {os.cpu_count()} cores",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
        f"{platform.system()} {platform.release()}",
        f"{datetime.now(UTC):%Y-%m-%d}",
        f"load average {os.getloadavg()[0]:.1f} when it ended",
    ]
    return " · ".join(parts)


def report(results: list[dict[str, Any]], runs: int) -> str:
    lines = [
        SECTION,
        "",
        "Made by `.venv/bin/python bench/gallery.py --sizes "
        + ",".join(str(r["size"]) for r in results)
        + "`: each size in a fresh SQLite database, DEBUG off, through Django's test client as a logged-in "
        f"member; {runs} timed requests per page after two warm-up ones. The filtered page is "
        f"`{PAGES['filtered page']}`.",
        "",
        f"Machine: {machine()}.",
        "",
        "| videos | page | median | p95 | SQL queries | cards |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for result in results:
        for name, page in result["pages"].items():
            if name == "matching":
                continue
            lines.append(
                f"| {result['size']:,} | {name} | {page['median_ms']} ms | {page['p95_ms']} ms "
                f"| {page['queries']} | {page['cards']} |"
            )
    lines += ["", "The gallery's query plans (SQLite's EXPLAIN QUERY PLAN, at the largest size):", ""]
    for name, page in results[-1]["pages"].items():
        if name != "matching":
            lines += [f"- {name}: " + "; ".join(f"`{step}`" for step in page["plan"])]
    return "\n".join(lines) + "\n"


def write(section: str) -> None:
    """Put the section in place of the old one (or at the end), keeping every other section."""
    text = REPORT.read_text() if REPORT.exists() else "# Performance\n"
    old = re.search(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", text, re.M | re.S)
    if old:
        text = text[: old.start()] + section + ("\n" if text[old.end() :] else "") + text[old.end() :]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    REPORT.write_text(text)


if __name__ == "__main__":
    main()
