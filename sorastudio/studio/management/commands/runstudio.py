"""Start the whole studio on one machine: migrate, make the demo login, then run the web server and a queue
worker side by side until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from sorastudio.studio.models import Generation
from sorastudio.teams.models import Membership, Team

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 - a local demo login, printed on purpose


class Command(BaseCommand):
    help = "Migrate, create the demo login and run the web server and a queue worker together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address for the web server")
        parser.add_argument(
            "--no-demo", action="store_true", help="create neither the demo login nor the demo teams"
        )

    def handle(self, *args: Any, addr: str, no_demo: bool, **options: Any) -> None:
        base = f"http://{addr}"
        self._prepare(no_demo, base)
        web, worker = _start(addr, base)
        self._announce(base, no_demo)
        _run_until_stopped(web, worker)

    def _prepare(self, no_demo: bool, base: str) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready.")
        if not settings.DEBUG:
            # Served by WhiteNoise from STATIC_ROOT under hashed names, as in production.
            call_command("collectstatic", interactive=False, verbosity=0)
        if not no_demo:
            ensure_demo_login()
            if not Generation.objects.exists():
                # A first start: the demo teams and their videos, so the gallery has something to show.
                call_command("seed_demo", base_url=base)

    def _announce(self, base: str, no_demo: bool) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Sora Studio is running at {base}/"))
        if not no_demo:
            self.stdout.write(f"Log in as  {DEMO_USER}  with password  {DEMO_PASSWORD}")
        provider = (
            "the built-in simulator (offline)" if settings.SORA_PROVIDER == "simulator" else "AceDataCloud"
        )
        self.stdout.write(f"Videos are made by {provider}. Press Ctrl-C to stop.")
        self.stdout.flush()


def gunicorn_command(python: str, addr: str) -> list[str]:
    """The web server on one machine: one process whose threads serve the pages, the simulator and its
    callbacks (bench/ starts it the same way, to measure what this command runs)."""
    return [
        python,
        "-m",
        "gunicorn",
        "sorastudio.wsgi",
        "--bind",
        addr,
        "--workers",
        "1",
        "--threads",
        "16",
        "--timeout",
        "330",
    ]


def _start(addr: str, base: str) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """The web server and a queue worker."""
    env = dict(os.environ)
    # On one machine the studio is its own simulator and can receive its own callbacks.
    env.setdefault("SIMULATOR_BASE_URL", base)
    env.setdefault("PUBLIC_BASE_URL", base)
    python = sys.executable
    web = subprocess.Popen(
        [*gunicorn_command(python, addr), "--graceful-timeout", "5"],
        env=env,
        cwd=settings.BASE_DIR,  # where gunicorn finds gunicorn.conf.py
    )
    worker = subprocess.Popen([python, "manage.py", "qcluster"], env=env, cwd=settings.BASE_DIR)
    return web, worker


def _run_until_stopped(web: subprocess.Popen[bytes], worker: subprocess.Popen[bytes]) -> None:
    """Until Ctrl-C, SIGTERM or either process ending; then both are stopped, killed if they linger."""

    def stop(*_: object) -> None:
        for process in (web, worker):
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while web.poll() is None and worker.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for process in (web, worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def ensure_demo_login() -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(username=DEMO_USER).first()
    if user is None:
        user = user_model.objects.create_user(DEMO_USER, password=DEMO_PASSWORD)
    team, _ = Team.objects.get_or_create(name="Studio")
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": Membership.Role.ADMIN})
