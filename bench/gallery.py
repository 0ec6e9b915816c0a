"""The gallery benchmark: how fast the team gallery answers, and with how many SQL queries, as a team's
videos grow.

    .venv/bin/python bench/gallery.py            # 1,000, 10,000 and 100,000 videos

For each size it builds that many videos (a realistic mix of authors, states, review states, services,
variations, favourites and comments) with bulk_create in a fresh temporary data folder and SQLite database,
never the developer's own, then asks for pages through Django's test client as a logged-in member: the first
page, the next page (by its cursor), a filtered page (ready videos with a word in the prompt, which fills a
page at every size) and a narrow filter (one author's approved videos with that word: 2 at 1,000). Each is
timed over --runs requests after two warm-up ones; the table of medians, 95th percentiles and query counts
goes into the "Gallery" section of docs/performance.md (other sections are kept). Each size runs in a process
of its own, so that nothing is shared between them.

The settings are the production ones: DEBUG off (so templates come from Django's cached loader) and static
files collected first, into a temporary STATIC_ROOT, with WhiteNoise's compressed manifest storage, as the
Dockerfile does; the pages then name their scripts and styles by their hashed names as in production.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import machine, production_env, write_section

ROOT = Path(__file__).resolve().parent.parent
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

# The filtered page: ready videos with "lighthouse" in the prompt (about one in nine, so a full page at every
# size). The narrow filter: alice's approved ones among them (about one in 400: 2 videos at 1,000).
PAGES = {
    "first page": "/",
    "next page": None,  # the first page's "More" link
    "filtered page": "/?state=ready&q=lighthouse",
    "narrow filter": "/?review=approved&author=mine&q=lighthouse",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated numbers of videos")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/performance.md")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a single size, in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.runs)))
        return

    load_before = os.getloadavg()[0]
    results = []
    static_root = Path(tempfile.mkdtemp(prefix="gallery-bench-static-"))
    try:
        collect_static(static_root)
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"{size:,} videos…", file=sys.stderr, flush=True)
            answer = subprocess.run(
                [sys.executable, __file__, "--one", str(size), "--runs", str(args.runs)],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "STATIC_ROOT": str(static_root)},
            )
            results.append(json.loads(answer.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
    section = report(results, args.runs, load_before)
    print(section)
    if not args.no_write:
        write_section(section)
        print("written to docs/performance.md", file=sys.stderr)


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


def collect_static(static_root: Path) -> None:
    """collectstatic with the production storage (hashed names, .gz and .br copies) into `static_root`."""
    data_dir = Path(tempfile.mkdtemp(prefix="gallery-bench-"))
    try:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
            check=True,
            cwd=ROOT,
            env={**os.environ, **production_env(data_dir), "STATIC_ROOT": str(static_root)},
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def setup_django(data_dir: Path) -> None:
    """The production settings (DEBUG off, the static files' manifest from collect_static when STATIC_ROOT
    names one) on a database and media folder of the benchmark's own."""
    os.environ.update(production_env(data_dir))
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        # Run on its own (--one) without collected files: there is no manifest to look names up in.
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

    # As a browser asks, so that the page is compressed as it is for one (PageGZipMiddleware).
    client = Client(headers={"Accept-Encoding": "gzip, deflate, br"})
    client.force_login(get_alice())
    first = client.get("/")
    more = re.search(r'id="gallery-more"[^>]*href="([^"]+)"', gzip.decompress(first.content).decode())
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
        timings, cpu = [], []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        gallery = max((sql for sql in queries if "studio_generation" in sql), key=len)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {gallery}")
            plan = [row[-1] for row in cursor.fetchall()]
        results[name] = {
            "url": url if name != "next page" else "/?cursor=…",
            "median_ms": round(statistics.median(timings), 1),
            "cpu_ms": round(statistics.median(cpu), 1),
            "p95_ms": round(statistics.quantiles(timings, n=20)[-1], 1),
            "queries": len(queries),
            "cards": gzip.decompress(response.content).decode().count('<article class="card'),
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


def report(results: list[dict[str, Any]], runs: int, load_before: float) -> str:
    lines = [
        SECTION,
        "",
        "Made by `.venv/bin/python bench/gallery.py --sizes "
        + ",".join(str(r["size"]) for r in results)
        + "`: each size in a fresh SQLite database, with the production settings (DEBUG off, so Django's "
        "cached template loader; static files collected with WhiteNoise's compressed manifest storage), "
        f"through Django's test client as a logged-in member; {runs} timed requests per page after two "
        "warm-up ones, wall-clock time of the whole request (middleware, SQL, rendering, and gzip, which "
        f"the client asks for as a browser does). The filtered page is `{PAGES['filtered page']}`, the "
        f"narrow filter `{PAGES['narrow filter']}`. CPU time is the process's own (`time.process_time`) "
        "for the request: other work on the machine inflates it much less than the wall-clock time.",
        "",
        f"Machine: {machine(load_before)}.",
        "",
        "| videos | page | median | p95 | CPU time (median) | SQL queries | cards |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for name, page in result["pages"].items():
            if name == "matching":
                continue
            lines.append(
                f"| {result['size']:,} | {name} | {page['median_ms']} ms | {page['p95_ms']} ms "
                f"| {page['cpu_ms']} ms | {page['queries']} | {page['cards']} |"
            )
    smallest, largest = results[0], results[-1]
    lines += [
        "",
        f"Against issue #6 (median at most 30 ms; {largest['size']:,} within 1.5× of {smallest['size']:,}):",
        "",
    ]
    for name in PAGES:
        low, high = smallest["pages"][name]["median_ms"], largest["pages"][name]["median_ms"]
        slowest = max(result["pages"][name]["median_ms"] for result in results)
        met = ("met" if slowest <= 30 else "NOT met", "met" if high <= 1.5 * low else "NOT met")
        cards = (smallest["pages"][name]["cards"], largest["pages"][name]["cards"])
        lines.append(
            f"- {name}: slowest median {slowest} ms ({met[0]}); "
            f"{largest['size']:,} ÷ {smallest['size']:,} = {high / low:.2f}× ({met[1]})"
            + (f", but {cards[0]} cards against {cards[1]}" if abs(cards[0] - cards[1]) > 4 else "")
        )
    lines += ["", "The gallery's query plans (SQLite's EXPLAIN QUERY PLAN, at the largest size):", ""]
    for name, page in results[-1]["pages"].items():
        if name != "matching":
            lines += [f"- {name}: " + "; ".join(f"`{step}`" for step in page["plan"])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
