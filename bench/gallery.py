"""The gallery benchmark: how fast the team gallery answers, and with how many SQL queries, as a team's
videos grow.

    .venv/bin/python bench/gallery.py            # 1,000, 10,000 and 100,000 videos

For each size it builds that many videos (a realistic mix of authors, states, review states, services,
variations, favourites and comments) with bulk_create in a fresh temporary data folder and SQLite database,
never the developer's own, then asks for pages through Django's test client as a logged-in member: the first
page, the next page (by its cursor), a filtered page (ready videos with a word in the prompt, which fills a
page at every size) and a narrow filter (one author's approved videos: 11 at 1,000). Each is
timed over --runs requests after two warm-up ones (which leave its finished cards and its filters kept, as
any earlier view does), each just after one with that cache emptied (as in a process that has just started),
the pages taking turns, in --rounds rounds over all the sizes, each round and size a process of its own. The
table of medians, 95th percentiles and query counts goes into the "Gallery" section of docs/performance.md
(other sections are kept).

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

from common import machine, production_env, publish

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
# size). The narrow filter: alice's approved videos (11 at 1,000, a full page at the larger
# sizes), which the database finds through an index on two columns instead of walking the newest first.
PAGES = {
    "first page": "/",
    "next page": None,  # the first page's "More" link
    "filtered page": "/?state=ready&q=lighthouse",
    "narrow filter": "/?review=approved&author=mine",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated numbers of videos")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all the sizes")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/performance.md")
    # One step for one size, in a process of its own: build its data, or time its pages once.
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--time", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build_data(args.data, args.build)
        return
    if args.time:
        setup_django(args.data)
        print(json.dumps(time_pages(args.runs)))
        return

    load_before = os.getloadavg()[0]
    sizes = [int(s) for s in args.sizes.split(",")]
    folders = {size: Path(tempfile.mkdtemp(prefix=f"gallery-bench-{size}-")) for size in sizes}
    static_root = folders[sizes[0]] / "static"
    samples: dict[int, dict[str, Any]] = {}
    try:
        collect_static(static_root)
        for size in sizes:
            print(f"building {size:,} videos…", file=sys.stderr, flush=True)
            step(static_root, "--build", str(size), "--data", str(folders[size]))
        # Round after round over the sizes, so that a slow spell of the machine (a virtual machine's
        # neighbours) falls on every size alike instead of on the one that happened to be timed then.
        for number in range(1, args.rounds + 1):
            for size in sizes:
                print(f"round {number}: {size:,} videos…", file=sys.stderr, flush=True)
                answer = step(static_root, "--time", "--runs", str(args.runs), "--data", str(folders[size]))
                timed = json.loads(answer.strip().splitlines()[-1])
                if size not in samples:
                    samples[size] = timed
                    continue
                for name, page in timed.items():
                    for series in ("wall", "cpu", "cold"):
                        samples[size][name][series] += page[series]
    finally:
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)
    results = [{"size": size, "pages": summary(samples[size])} for size in sizes]
    publish(report(results, args.runs, args.rounds, load_before), write=not args.no_write)


def step(static_root: Path, *arguments: str) -> str:
    """This script run again, for one step, in a process of its own: its standard output."""
    return subprocess.run(
        [sys.executable, __file__, *arguments],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "STATIC_ROOT": str(static_root)},
    ).stdout


def build_data(data_dir: Path, size: int) -> None:
    setup_django(data_dir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    build(size)
    # As the one-minute tick does in a running studio (tasks.tick): fresh statistics for SQLite's
    # planner, so that a filter uses the index that fits it.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")


def summary(pages: dict[str, Any]) -> dict[str, Any]:
    """Each page's medians and 95th percentile over all its timed requests, with its queries and cards."""
    return {
        name: {
            **{key: page[key] for key in ("url", "queries", "cards", "plan")},
            "median_ms": round(statistics.median(page["wall"]), 1),
            "cpu_ms": round(statistics.median(page["cpu"]), 1),
            "p95_ms": round(statistics.quantiles(page["wall"], n=20)[-1], 1),
            "cold_ms": round(statistics.median(page["cold"]), 1),
        }
        for name, page in pages.items()
    }


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

    from sorastudio.teams.models import Membership, Team

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
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # As a browser asks, so that the page is compressed as it is for one (PageGZipMiddleware).
    client = Client(headers={"Accept-Encoding": "gzip, deflate, br"})
    client.force_login(get_alice())
    first = client.get("/")
    more = re.search(r'id="gallery-more"[^>]*href="([^"]+)"', gzip.decompress(first.content).decode())
    assert more, "the first page has no More link"
    next_page = more.group(1).replace("&amp;", "&")
    urls = {name: url or next_page for name, url in PAGES.items()}

    results: dict[str, Any] = {}
    for name, url in urls.items():
        for _ in range(2):
            client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        gallery = max((query["sql"] for query in captured if "studio_generation" in query["sql"]), key=len)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {gallery}")
            plan = [row[-1] for row in cursor.fetchall()]
        results[name] = {
            "url": url if name != "next page" else "/?cursor=…",
            "queries": len(captured),
            "cards": gzip.decompress(response.content).decode().count('<article class="card'),
            "plan": plan,
        }

    # The pages take turns, for the same reason as the sizes do (main). Each turn asks for its page twice:
    # first with the kept cards and filters thrown away, as in a process that has just started (every
    # card rendered afresh, and kept), then as every later view finds it.
    timings: dict[str, list[float]] = {name: [] for name in urls}
    cpu: dict[str, list[float]] = {name: [] for name in urls}
    cold: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(runs):
        for name, url in urls.items():
            caches["template_fragments"].clear()
            started = time.perf_counter()
            client.get(url)
            cold[name].append((time.perf_counter() - started) * 1000)
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(url)
            timings[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - started_cpu) * 1000)
    for name in urls:
        results[name].update(wall=timings[name], cpu=cpu[name], cold=cold[name])
    return results


def get_alice() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="alice")


def report(results: list[dict[str, Any]], runs: int, rounds: int, load_before: float) -> str:
    lines = [
        SECTION,
        "",
        "Made by `.venv/bin/python bench/gallery.py --sizes "
        + ",".join(str(r["size"]) for r in results)
        + "`: each size in a fresh SQLite database, with the production settings (DEBUG off, so Django's "
        "cached template loader; static files collected with WhiteNoise's compressed manifest storage), "
        "through Django's test client as a logged-in member. The time is the wall-clock time of the whole "
        "request (middleware, SQL, rendering, and gzip, which the client asks for as a browser does); CPU "
        "time is the process's own (`time.process_time`). The filtered page is "
        f"`{PAGES['filtered page']}`, the narrow filter `{PAGES['narrow filter']}`. Each size is timed "
        f"in {rounds} rounds over all the sizes, each round a fresh process that asks for every page "
        f"twice to warm up and then {runs} times, the pages taking turns: {runs * rounds} requests per "
        "page in all. Each of these finds the page's finished cards and its filters kept, as every view "
        "but the first after a change does (`gallery_card` in `templatetags/studio_tags.py`). The "
        '"nothing kept" column times as many requests, each made just before one of those with that '
        "cache emptied, as in a process that has just started.",
        "",
        f"Machine: {machine(load_before)}.",
        "",
        "| videos | page | median | p95 | CPU time (median) | nothing kept: median | SQL queries | cards |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for name, page in result["pages"].items():
            lines.append(
                f"| {result['size']:,} | {name} | {page['median_ms']} ms | {page['p95_ms']} ms "
                f"| {page['cpu_ms']} ms | {page['cold_ms']} ms | {page['queries']} | {page['cards']} |"
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
        coldest = max(result["pages"][name]["cold_ms"] for result in results)
        met = ("met" if slowest <= 30 else "NOT met", "met" if high <= 1.5 * low else "NOT met")
        cards = (smallest["pages"][name]["cards"], largest["pages"][name]["cards"])
        lines.append(
            f"- {name}: slowest median {slowest} ms ({met[0]}), {coldest} ms with nothing kept; "
            f"{largest['size']:,} ÷ {smallest['size']:,} = {high / low:.2f}× ({met[1]})"
            + (f", but {cards[0]} cards against {cards[1]}" if abs(cards[0] - cards[1]) > 4 else "")
        )
    lines += ["", "The gallery's query plans (SQLite's EXPLAIN QUERY PLAN, at the largest size):", ""]
    for name, page in results[-1]["pages"].items():
        lines += [f"- {name}: " + "; ".join(f"`{step}`" for step in page["plan"])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
