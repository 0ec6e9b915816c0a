"""Browser-test plumbing: the studio (web pages and simulator) served from the test process, a real
`manage.py qcluster` worker beside it on the same test database, and Debian's Chromium driven by Playwright.

    Chromium ──HTTP──▶ live server (this process: pages, videos, simulator, callbacks)
                             ▲    │ ORM broker rows in the shared SQLite test database
                  HTTP (submit, poll, download, callbacks)    ▼
                        qcluster subprocess (the pipeline's worker)

Every test of a class shares one worker, one Chromium and one data folder (the worker archives videos into
it and the live server serves them from it); each test gets a fresh browser context, so fresh cookies.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar
from unittest import SkipTest
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django_q.conf import Conf
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Request,
    Response,
    WebError,
    sync_playwright,
)
from playwright.sync_api import expect as expect

from sorastudio.pipeline import providers
from sorastudio.teams.models import Team
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.helpers import make_member

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
RESULTS = Path(settings.BASE_DIR) / "test-results"

# Timeouts in milliseconds, for Playwright.
QUICK = 5_000  # something the page does at once (a swap, a message)
FINISH = 30_000  # a video to be made, archived and shown (about 4 s with SIMULATOR_SECONDS=2)

LIVE_STATES = re.compile(r"^(queued|submitting|running|archiving)$")


class QueueWorker:
    """`manage.py qcluster` as a subprocess, its output kept in a file to show when a test fails."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_within: float = 20.0) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so that stop() reaches its workers too
            )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the queue worker stopped while starting:\n{self.output()}")
            if "running." in self.output():  # django-q's INFO line (the env sets Q_LOG_LEVEL=INFO)
                return
            time.sleep(0.1)
        raise RuntimeError(f"the queue worker did not say it was running:\n{self.output()}")

    def output(self, last: int = 80) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(lines[-last:]) or "(no output)"

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # qcluster stops its pool and exits
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def _restore_environ(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


class BrowserTestCase(StaticLiveServerTestCase):
    """The studio, its queue worker and a Chromium, shared by the tests of one class."""

    host = "127.0.0.1"
    # With callbacks the simulator calls the studio back at PUBLIC_BASE_URL; without, polling alone
    # follows the jobs.
    callbacks: ClassVar[bool] = False
    simulator_seconds: ClassVar[float] = 2.0

    data_dir: ClassVar[Path]
    worker: ClassVar[QueueWorker]
    playwright: ClassVar[Playwright]
    browser: ClassVar[Browser]

    @classmethod
    def setUpClass(cls) -> None:
        # Playwright's sync API runs an event loop in this thread, so Django would refuse the tests' own ORM
        # calls as "async unsafe". Allowed only while a browser class runs: a subprocess another test starts
        # later (`check --deploy`, say) must not inherit it.
        cls.addClassCleanup(_restore_environ, ASYNC_UNSAFE, os.environ.get(ASYNC_UNSAFE))
        os.environ[ASYNC_UNSAFE] = "true"
        cls.data_dir = Path(tempfile.mkdtemp(prefix="studio-browser-"))
        cls.addClassCleanup(shutil.rmtree, cls.data_dir, ignore_errors=True)
        # The web process enqueues to the ORM broker for the worker, which reaches the simulator over HTTP.
        previous = Conf.SYNC, providers.transport_override
        Conf.SYNC, providers.transport_override = False, None
        cls.addClassCleanup(cls._restore_queue, previous)

        super().setUpClass()

        public_url = cls.live_server_url if cls.callbacks else ""
        studio_settings = override_settings(
            DATA_DIR=cls.data_dir,
            MEDIA_ROOT=str(cls.data_dir / "media"),
            SIMULATOR_SECONDS=cls.simulator_seconds,
            SIMULATOR_BASE_URL=cls.live_server_url,
            PUBLIC_BASE_URL=public_url,
            POLL_INTERVAL=0.5,
        )
        studio_settings.enable()
        cls.addClassCleanup(studio_settings.disable)

        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sorastudio.settings",
            "DATABASE_URL": worker_database_url(),
            "DATA_DIR": str(cls.data_dir),
            "SORA_PROVIDER": "simulator",
            "SIMULATOR_BASE_URL": cls.live_server_url,
            "PUBLIC_BASE_URL": public_url,
            "POLL_INTERVAL": "0.5",
            "Q_WORKERS": "2",
            "Q_SYNC": "false",
            "PYTHONUNBUFFERED": "1",
            # Its readiness is read from its log, and what it signs (clip and image links) the live server
            # checks.
            "Q_LOG_LEVEL": "INFO",
            "SECRET_KEY": settings.SECRET_KEY,
        }
        cls.worker = QueueWorker(env, cls.data_dir / "qcluster.log")
        cls.addClassCleanup(cls.worker.stop)
        cls.worker.start()

        cls.playwright = sync_playwright().start()
        cls.addClassCleanup(cls.playwright.stop)
        cls.browser = cls.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        cls.addClassCleanup(cls.browser.close)

    @classmethod
    def _restore_queue(cls, previous: tuple[bool, Any]) -> None:
        Conf.SYNC, providers.transport_override = previous

    def setUp(self) -> None:
        super().setUp()
        self.contexts: list[BrowserContext] = []
        self.foreign_requests: list[str] = []
        self.csp_violations: list[str] = []
        self.script_errors: list[str] = []
        self.page = self.new_page()

    def new_page(self) -> Page:
        """A page in a fresh browser context: nobody logged in."""
        context = self.browser.new_context(
            base_url=self.live_server_url, accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        context.on("request", self._note_request)
        context.on("console", self._note_console)
        context.on("weberror", self._note_script_error)
        context.on("response", self._note_static_missing)
        self.contexts.append(context)
        self.addCleanup(context.close)
        return context.new_page()

    def _note_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
            self.foreign_requests.append(request.url)

    def _note_console(self, message: ConsoleMessage) -> None:
        # Chromium reports what the Content-Security-Policy header blocked on the console ("Refused to
        # execute inline script because it violates the following Content Security Policy directive…").
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def _note_script_error(self, error: WebError) -> None:
        self.script_errors.append(str(error.error))

    def _note_static_missing(self, response: Response) -> None:
        # A script module that imports a file that is not there fails quietly: nothing runs, nothing is said.
        if urlsplit(response.url).path.startswith(settings.STATIC_URL) and response.status >= 400:
            self.script_errors.append(f"{response.status} {response.url}")

    def _callTestMethod(self, method: Callable[[], Any]) -> None:
        try:
            super()._callTestMethod(method)  # type: ignore[misc]
            self.assertEqual(self.foreign_requests, [], "the browser asked for something beyond loopback")
            self.assertEqual(self.csp_violations, [], "the page broke its Content Security Policy")
            self.assertEqual(self.script_errors, [], "a script failed, or a static file was missing")
        except SkipTest:
            raise
        except Exception:
            self._record_failure()
            raise

    def _record_failure(self) -> None:
        """Screenshots of every open page in test-results/, and the worker's last words on stdout."""
        RESULTS.mkdir(exist_ok=True)
        pages = [page for context in self.contexts for page in context.pages]
        for number, page in enumerate(pages, start=1):
            suffix = "" if number == 1 else f"-{number}"
            try:
                page.screenshot(path=str(RESULTS / f"{self._testMethodName}{suffix}.png"), full_page=True)
            except Exception as exc:  # a failed screenshot must not hide the real failure
                print(f"(no screenshot of page {number}: {exc})")
        print(f"--- queue worker output (last lines) ---\n{self.worker.output()}")

    # --- People ------------------------------------------------------------------------------------------

    @staticmethod
    def member(username: str, team_name: str) -> Any:
        team, _ = Team.objects.get_or_create(name=team_name)
        return make_member(username, team)

    def log_in(self, page: Page, username: str) -> None:
        page.goto("/accounts/login/?next=/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(f"{username}-pass-123")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="New video")).to_be_visible(timeout=QUICK)
        # The page shows before its scripts have run: htmx binds its handlers once the document has loaded,
        # and a select changed before that would send nothing (seen on a busy machine).
        page.wait_for_load_state("load")

    def in_every_look(
        self, username: str, path: str, ready: str, widths: tuple[int, ...] = (1366, 390)
    ) -> Iterator[tuple[dict[str, Any], Page]]:
        """`username` logged in on `path` at 1366 and 390 px (or `widths`), in both languages and both
        colour schemes: each look and its page, once `ready` (a selector) shows."""
        for width in widths:
            for language in ("en", "zh-hans"):
                for scheme in ("light", "dark"):
                    page = self.new_page()
                    page.context.add_cookies(
                        [{"name": "django_language", "value": language, "url": self.live_server_url}]
                    )
                    page.set_viewport_size({"width": width, "height": 900})
                    page.emulate_media(color_scheme=scheme)
                    page.goto(f"/accounts/login/?next={path}")
                    page.locator("#id_username").fill(username)
                    page.locator("#id_password").fill(f"{username}-pass-123")
                    page.locator("form button.primary[type=submit]").click()
                    expect(page.locator(ready)).to_be_visible(timeout=QUICK)
                    page.wait_for_load_state("load")
                    yield {"width": width, "language": language, "scheme": scheme}, page
                    page.context.close()

    def assert_charts_fit(self, page: Page, ids: list[str]) -> None:
        """The page's charts are `ids`, each filling its card, with day labels that do not overlap and
        ink that stands out from its paper."""
        charts = chart_layout(page)
        self.assertEqual([c["id"] for c in charts], ids)
        for chart in charts:
            self.assertGreaterEqual(chart["share"], 0.95, chart)
            self.assertGreater(chart["labels"], 1, chart)
            self.assertEqual(chart["overlaps"], [], chart)
            self.assertNotEqual(chart["ink"], chart["paper"], chart)

    # --- Making videos -----------------------------------------------------------------------------------

    def submitted(self, page: Page, button: str = "Generate video") -> list[str]:
        """Press the form's button (named in the page's language); the ids of the jobs the studio made."""
        with page.expect_response(
            lambda r: r.request.method == "POST" and urlsplit(r.url).path == reverse("studio:generate")
        ) as answer:
            page.get_by_role("button", name=button).click()
        trigger = json.loads(answer.value.headers.get("hx-trigger") or "{}")
        self.assertIn("generation-created", trigger, "the form was not accepted")
        return list(trigger["generation-created"]["ids"])

    def generate(self, page: Page, prompt: str) -> tuple[str, Locator]:
        """Type a prompt, press "Generate video" and return the new card's id and locator."""
        page.get_by_label("Describe the video").fill(prompt)
        pk = self.submitted(page)[0]
        card = page.locator(f"#card-{pk}")
        expect(card).to_be_visible(timeout=QUICK)
        return pk, card

    @staticmethod
    def card_menu(card: Locator) -> Locator:
        """A gallery card's "⋯" menu, opened (as a click on it does): the list of its actions."""
        menu = card.locator("details.card-menu")
        if menu.get_attribute("open") is None:
            menu.locator("summary").click()
        items = menu.locator(".card-menu-items")
        expect(items).to_be_visible()
        return items

    @staticmethod
    def wait_until_done(card: Locator, state: str = "succeeded") -> None:
        expect(card).to_have_attribute("data-state", state, timeout=FINISH)


def worker_database_url() -> str:
    """The address of this run's test database (not the one DATABASE_URL names), for the queue worker."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(database['NAME']).resolve()}"
    user, password = quote(database["USER"] or "", safe=""), quote(database["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = quote(database["HOST"] or "", safe="")  # a socket directory too: dj-database-url decodes it
    port = f":{database['PORT']}" if database["PORT"] else ""
    return f"postgres://{credentials}{host}{port}/{quote(database['NAME'], safe='')}"


def pick_day(page: Page, field: str, iso: str) -> None:
    """Choose a day in the field's calendar: headless Chromium shows no picker to click in, so the native
    input gets the day it would have given, and the change event it would have sent."""
    page.locator(f"#{field} ~ .date-picker-button").click()
    page.keyboard.press("Escape")  # closes the picker the button opened
    page.locator(f"#{field} ~ input.date-picker-input").evaluate(
        "(input, iso) => { input.value = iso; input.dispatchEvent(new Event('change', { bubbles: true })); }",
        iso,
    )


def wait_for(check: Callable[[], bool], timeout: float = 10.0, message: str = "") -> None:
    """For facts outside the page (the database): ask until true or the time is up."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(message or "gave up waiting")
        time.sleep(0.1)


# --- Playing videos ------------------------------------------------------------------------------------

_PLAY = "v => { v.muted = true; return v.play().then(() => !v.paused); }"
_SEEK = """(v, to) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no "seeked" event after seeking to ${to}`)), 10000);
  v.addEventListener("seeked", () => { clearTimeout(timer); resolve(v.currentTime); }, {once: true});
  v.currentTime = to;
})"""
_INFO = "v => ({duration: v.duration, width: v.videoWidth, height: v.videoHeight, time: v.currentTime})"


class Player:
    """A <video> on the page, driven the way a viewer would: play (muted, as browsers allow), seek."""

    def __init__(self, page: Page, video: Locator) -> None:
        self.page = page
        self.video = video

    def wait_for_metadata(self, timeout: float = QUICK) -> dict[str, float]:
        handle = self.video.element_handle(timeout=timeout)
        self.page.wait_for_function("v => v.readyState >= 1", arg=handle, timeout=timeout)
        return self.info()

    def info(self) -> dict[str, float]:
        return self.video.evaluate(_INFO)

    def play(self) -> None:
        assert self.video.evaluate(_PLAY), "the video did not start playing"

    def pause(self) -> None:
        self.video.evaluate("v => v.pause()")

    def wait_until_past(self, seconds: float, timeout: float = 10_000) -> float:
        handle = self.video.element_handle()
        self.page.wait_for_function("([v, t]) => v.currentTime > t", arg=[handle, seconds], timeout=timeout)
        return self.info()["time"]

    def seek(self, seconds: float) -> float:
        return self.video.evaluate(_SEEK, seconds)


# --- Charts (billing/charts.py) ------------------------------------------------------------------------

# Each chart in the page: its width against its card's (the box it scrolls in, less its padding), the
# category labels that overlap one another, and the labels' colour against the card's background.
CHART_LAYOUT = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const card = svg.closest('.chart-scroll');
  const style = getComputedStyle(card);
  const room = card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const boxes = [...svg.querySelectorAll('text.category-label')].map(t => t.getBoundingClientRect())
    .sort((a, b) => a.left - b.left);
  const overlaps = [];
  for (let i = 1; i < boxes.length; i++) {
    if (boxes[i].left < boxes[i - 1].right) overlaps.push([boxes[i - 1].right, boxes[i].left]);
  }
  const label = svg.querySelector('text.category-label');
  return {id: svg.id, share: svg.getBoundingClientRect().width / room, labels: boxes.length, overlaps,
          ink: label ? getComputedStyle(label).fill : null, paper: style.backgroundColor};
})"""


def chart_layout(page: Page) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate(CHART_LAYOUT)
    return result
