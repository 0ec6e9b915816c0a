"""The page weight benchmark: how many bytes the gallery's first load costs over the wire.

    .venv/bin/python bench/page_weight.py

It sets up a studio as the README's production deployment runs it, in a temporary folder: DEBUG off, static
files collected with WhiteNoise's compressed manifest storage, `gunicorn sorastudio.wsgi` (gunicorn.conf.py)
on 127.0.0.1, and a team with 40 videos (bench/gallery.py's mix), each finished one with a real poster: a
frame of a video the simulator renders, as the archive task makes it. A real Chromium (Playwright, as the
browser tests drive it, with nothing but loopback resolvable) logs in as a member, then opens the gallery in a
new browser context, with an empty cache and the login's cookies, and waits for the network to go quiet.

Every response the browser received is counted with what Chromium says came over the wire for it: the
body as sent (compressed or not) and the headers. Over plain HTTP Chromium accepts gzip and deflate but not
Brotli (it offers `br` over HTTPS only), so the static files come as WhiteNoise's .gz copies; the .br copies
a browser gets over HTTPS are added up too, from the collected files. The result goes into the "Page
weight" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from common import ROOT, machine, production_env, publish

SECTION = "## Page weight: the gallery's first load"
LIMIT_KB = 100
VIDEOS = 40
KINDS = ("HTML", "styles", "scripts", "fonts", "icons", "images", "posters")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print the section, leave docs/performance.md"
    )
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)  # in the studio's environment
    args = parser.parse_args()
    if args.seed:
        seed()
        return

    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="page-weight-bench-"))
    try:
        (work / "data").mkdir()
        env = {
            **os.environ,
            **production_env(work / "data"),
            "STATIC_ROOT": str(work / "static"),
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "WEB_CONCURRENCY": "1",
        }
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], check=True, cwd=ROOT, env=env)
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], check=True, cwd=ROOT, env=env)
        subprocess.run([sys.executable, __file__, "--seed"], check=True, cwd=ROOT, env=env)
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "sorastudio.wsgi",
                "--access-logfile",
                "/dev/null",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{env['PORT']}"
            wait_for(f"{base}/healthz")
            loaded = load_gallery(base)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        brotli = brotli_sizes(work / "static", loaded)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    publish(report(loaded, brotli, load_before), write=not args.no_write)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a loopback address made above
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def seed() -> None:
    """bench/gallery.py's team and videos, and one real poster file for every finished one."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from gallery import build

    from sorastudio.lib import media
    from sorastudio.simulator.render import render_video
    from sorastudio.studio.models import Generation

    build(VIDEOS)
    with tempfile.TemporaryDirectory() as scratch:
        video, poster = Path(scratch) / "v.mp4", Path(scratch) / "p.jpg"
        render_video(
            video,
            prompt="A red fox trotting through fresh snow at dawn, slow tracking shot",
            width=1280,
            height=720,
            seconds=2,
        )
        media.write_poster(video, poster)
        jpeg = poster.read_bytes()
    for name in Generation.objects.exclude(poster="").values_list("poster", flat=True):
        default_storage.save(name, ContentFile(jpeg))


def load_gallery(base: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from tests.chromium import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            login = browser.new_context()
            page = login.new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("[name=username]", "alice")
            page.fill("[name=password]", "alice-pass-123")
            page.press("[name=password]", "Enter")
            page.wait_for_url(f"{base}/")
            cookies = login.storage_state()
            login.close()

            # A first visit: an empty cache, only the login's cookies.
            context = browser.new_context(storage_state=cookies, viewport={"width": 1280, "height": 800})
            page = context.new_page()
            seen: list[Any] = []
            page.on("requestfinished", lambda request: seen.append(request))
            page.goto(f"{base}/", wait_until="load")
            page.wait_for_load_state("networkidle")
            first_load = [entry(request) for request in seen]
            cards = page.locator("article.card").count()
            poster_urls = page.eval_on_selector_all("article.card img", "images => images.map(i => i.src)")
            # Then the rest of the posters of these cards, as scrolling past each would fetch it.
            page.eval_on_selector_all(
                "article.card img", "images => images.forEach(i => i.loading = 'eager')"
            )
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(500)
            scrolled = [entry(request) for request in seen][len(first_load) :]
            context.close()
        finally:
            browser.close()
    return {"first_load": first_load, "scrolled": scrolled, "cards": cards, "poster_urls": poster_urls}


def entry(request: Any) -> dict[str, Any]:
    sizes = request.sizes()
    response = request.response()
    return {
        "url": request.url,
        "type": request.resource_type,
        "status": response.status if response else 0,
        "encoding": (response.headers.get("content-encoding", "") if response else "") or "none",
        "body": sizes["responseBodySize"],
        "decoded": len(response.body()) if response and request.resource_type == "document" else 0,
        "headers": sizes["responseHeadersSize"],
    }


def brotli_sizes(static_root: Path, loaded: dict[str, Any]) -> dict[str, int]:
    """The size of the .br copy of each static file the page loaded (what a browser gets over HTTPS),
    for those that have one: collectstatic makes them only when the Brotli package is installed."""
    sizes = {}
    for item in loaded["first_load"]:
        if "/static/" in item["url"]:
            collected = static_root / item["url"].split("/static/", 1)[1]
            brotli = collected.with_name(collected.name + ".br")
            if brotli.exists():
                sizes[item["url"]] = brotli.stat().st_size
    return sizes


def kind(item: dict[str, Any]) -> str:
    if item["type"] == "document":
        return "HTML"
    if "/poster.jpg" in item["url"]:
        return "posters"
    if "favicon" in item["url"]:
        return "icons"
    return {"script": "scripts", "stylesheet": "styles", "font": "fonts", "image": "images"}.get(
        item["type"], item["type"]
    )


def report(loaded: dict[str, Any], brotli: dict[str, int], load_before: float) -> str:
    first = loaded["first_load"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in first:
        groups.setdefault(kind(item), []).append(item)

    def total(items: list[dict[str, Any]]) -> int:
        return sum(item["body"] + item["headers"] for item in items)

    without_posters = [item for item in first if kind(item) != "posters"]
    posters = groups.get("posters", [])
    shown = set(loaded["poster_urls"])
    every_poster = posters + [item for item in loaded["scrolled"] if item["url"] in shown]
    https_static = sum(brotli.values())
    http_static = sum(item["body"] for item in first if item["url"] in brotli)
    lines = [
        SECTION,
        "",
        "Made by `.venv/bin/python bench/page_weight.py`: the production deployment of the README on "
        "127.0.0.1 (`gunicorn sorastudio.wsgi`, DEBUG off, `collectstatic` with WhiteNoise's compressed "
        f"manifest storage), a team of {VIDEOS} videos with real posters, and a real Chromium opening the "
        "gallery as a logged-in member, with an empty cache, in a 1280×800 window, until the network is "
        f"quiet. The page showed {loaded['cards']} cards, {len(loaded['poster_urls'])} of them with a "
        "poster. Sizes "
        "are what Chromium reports as received for each response: the body as sent (compressed when the "
        "server compressed it) and the response headers.",
        "",
        f"Machine: {machine(load_before)}.",
        "",
        "| what | requests | compression | over the wire |",
        "|---|---:|---|---:|",
    ]
    for name in KINDS:
        items = groups.get(name, [])
        if items:
            encodings = ", ".join(sorted({item["encoding"] for item in items}))
            lines.append(f"| {name} | {len(items)} | {encodings} | {total(items) / 1024:.1f} KB |")
    for name, items in groups.items():
        if name not in KINDS:
            lines.append(f"| {name} | {len(items)} | | {total(items) / 1024:.1f} KB |")
    weight = total(without_posters) / 1024
    lines += [
        f"| **first load, HTML, scripts, styles, fonts and icons** | {len(without_posters)} | "
        f"| **{weight:.1f} KB** (limit {LIMIT_KB} KB: {'met' if weight <= LIMIT_KB else 'NOT met'}) |",
        f"| first load with the posters the browser fetched | {len(first)} | "
        f"| {total(first) / 1024:.1f} KB |",
        "",
        (
            f"- Over HTTPS, where browsers accept Brotli, WhiteNoise sends the .br copies instead: the same "
            f"static files weigh {https_static / 1024:.1f} KB there instead of {http_static / 1024:.1f} KB "
            "(bodies only), so the figure above is the larger of the two."
            if brotli
            else "- WhiteNoise made no Brotli copies (the `Brotli` package is not installed), so a browser "
            "gets the same gzip copies over HTTPS as here."
        ),
        f'- Posters are `loading="lazy"`: on the first load the browser fetched {len(posters)} '
        f"({total(posters) / 1024:.1f} KB), those in or near the window. With every poster of the first page "
        f"loaded, it has fetched {len(every_poster)} ({total(every_poster) / 1024:.1f} KB; each is a "
        "960-pixel "
        f"JPEG of a frame, about {every_poster[0]['body'] / 1024 if every_poster else 0:.0f} KB here). "
        "They are content, as a video is, not the page's weight: the issue's figure counts the page itself, "
        "scripts and styles included.",
        "- The HTML is compressed by the studio itself (`PageGZipMiddleware`, after WhiteNoise): the README "
        "puts gunicorn behind a TLS proxy without asking it to compress, and docker-compose.yml publishes "
        "gunicorn as it is, so the figure holds for either. The page is "
        f"{sum(item['decoded'] for item in groups.get('HTML', [])) / 1024:.0f} KB before compression. "
        "Static files are compressed ahead of time by `collectstatic`.",
    ]
    lines += ["", "Every response of the first load:", "", "| response | type | encoding | body | headers |"]
    lines += ["|---|---|---|---:|---:|"]
    for item in first:
        path = item["url"].split("://", 1)[1].split("/", 1)[1]
        lines.append(
            f"| `/{path}` | {item['type']} | {item['encoding']} "
            f"| {item['body']:,} B | {item['headers']:,} B |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
