"""The README's screenshots (docs/screenshots/), taken from a running studio with its demo data:

    make run                                  # in one terminal: the studio on http://127.0.0.1:8000
    .venv/bin/python scripts/screenshots.py   # in another

As the demo's reviewer `bob` it opens the gallery, then a finished video's review room, where it pins a
comment with a drawing on a frame, then shares that video through a client link and opens the link as the
client, with no login. Each page is taken at 1366 and at 390 pixels wide (the widths the browser tests
check). Every run adds one comment and one client link to the demo team.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

WIDTHS = {"wide": (1366, 900), "phone": (390, 844)}
PASSWORD = "demo-pass-123"  # noqa: S105 (the demo logins' published password)


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/?next=/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page.locator("#gallery")).to_be_visible()
    page.wait_for_load_state("networkidle")


def take(page: Page, out: Path, name: str, *, full_page: bool = False) -> None:
    # Chromium draws its loading spinner over a video until it can play it: load the players first.
    page.evaluate(
        "() => document.querySelectorAll('video.player, video[data-client-player]')"
        ".forEach(v => { v.preload = 'auto'; })"
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('video.player, video[data-client-player]')]"
        ".every(v => v.readyState >= 3 && !v.seeking)"
    )
    page.wait_for_timeout(2500)  # the spinner fades out late; the posters and the list settle
    page.screenshot(path=str(out / f"{name}.png"), full_page=full_page)
    print(out / f"{name}.png")


def comment_with_drawing(page: Page) -> None:
    """Pause at 40 % of the video, draw a box on the frame and post a comment pinned there."""
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    page.evaluate("() => { const v = document.getElementById('player'); v.currentTime = v.duration * 0.4; }")
    page.get_by_role("button", name="Draw on the frame").click()
    page.get_by_role("toolbar", name="Drawing tools").get_by_role("button", name="Box").click()
    canvas = page.locator(".drawing-canvas").bounding_box()
    assert canvas is not None
    left, top, width, height = canvas["x"], canvas["y"], canvas["width"], canvas["height"]
    page.mouse.move(left + width * 0.55, top + height * 0.3)
    page.mouse.down()
    page.mouse.move(left + width * 0.85, top + height * 0.7, steps=8)
    page.mouse.up()
    page.get_by_role("button", name="Stop drawing").click()
    page.locator("#comment-body").fill("Could the boat enter from here, a little slower?")
    page.locator("form.new-comment").get_by_role("button", name="Comment").click()
    expect(page.locator(".comments .comment").filter(has_text="enter from here")).to_be_visible()


def share(page: Page) -> str:
    """Make a client link for the video on screen; its address, shown once."""
    page.get_by_role("link", name="Share for review").click()
    page.get_by_label("Title").fill("Spring campaign")
    page.get_by_role("button", name="Make the link").click()
    return page.get_by_label("Address of “Spring campaign”").input_value()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the running studio's address")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        team = browser.new_context(base_url=args.base, viewport={"width": 1366, "height": 900})
        page = team.new_page()
        log_in(page, "bob")
        video = page.locator("#gallery a[href^='/generations/']").first.get_attribute("href")
        page.goto(str(video))
        comment_with_drawing(page)
        address = share(page)
        for look, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.goto("/")
            take(page, args.out, f"gallery-{look}")
            page.goto(str(video))
            page.locator(".comments .comment a.at").last.click()
            page.wait_for_function(
                "() => { const v = document.getElementById('player'); "
                "return v.readyState >= 2 && !v.seeking; }"
            )
            take(page, args.out, f"review-room-{look}")
            guest = browser.new_context(viewport={"width": width, "height": height})
            client = guest.new_page()
            client.goto(address)
            take(client, args.out, f"client-link-{look}")
            guest.close()
        browser.close()


if __name__ == "__main__":
    main()
