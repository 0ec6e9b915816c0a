"""DEBUG is off unless asked for, a studio on this machine makes its own secret key, errors show the studio's
own pages with a way back, and passwords written inside URL-valued settings never reach an error report."""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.test import Client, SimpleTestCase, override_settings
from django.urls import path, reverse

from sorastudio import urls as studio_urls
from sorastudio.lib.security import (
    MaskCredentials,
    SafeExceptionReporter,
    SafeReporterFilter,
    mask_url_credentials,
)
from tests.helpers import STUDIO_VARS, TeamTestCase, make_finished

ROOT = Path(__file__).resolve().parent.parent

SHOW = """
import json
from django.conf import settings
print(json.dumps({name: getattr(settings, name, None) for name in (
    "DEBUG", "SECRET_KEY", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "DEFAULT_EXCEPTION_REPORTER_FILTER")}))
"""


def studio_settings(data_dir: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The settings a fresh process reads with none of the studio's variables set but these."""
    clean = {k: v for k, v in os.environ.items() if k not in STUDIO_VARS and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**clean, "DJANGO_SETTINGS_MODULE": "sorastudio.settings", "DATA_DIR": data_dir, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def read(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


class DefaultSettingsTests(SimpleTestCase):
    def test_it_runs_without_debug_and_makes_its_own_key_on_this_machine(self) -> None:
        with tempfile.TemporaryDirectory() as data:
            first = read(studio_settings(data))
            again = read(studio_settings(data))
            key_file = Path(data) / "secret_key"
            self.assertFalse(first["DEBUG"])
            self.assertEqual(first["SECRET_KEY"], key_file.read_text().strip())
            self.assertGreaterEqual(len(first["SECRET_KEY"]), 50)
            self.assertEqual(key_file.stat().st_mode & 0o777, 0o600)
            self.assertEqual(again["SECRET_KEY"], first["SECRET_KEY"])
        # Plain http://127.0.0.1 keeps working: no secure-only cookies, no redirect to HTTPS.
        self.assertIn(first["SESSION_COOKIE_SECURE"], (False, None))
        self.assertIn(first["CSRF_COOKIE_SECURE"], (False, None))
        self.assertIn(first["SECURE_SSL_REDIRECT"], (False, None))
        self.assertEqual(
            first["DEFAULT_EXCEPTION_REPORTER_FILTER"], "sorastudio.lib.security.SafeReporterFilter"
        )

    def test_debug_is_on_only_when_asked_for(self) -> None:
        with tempfile.TemporaryDirectory() as data:
            self.assertTrue(read(studio_settings(data, DEBUG="1"))["DEBUG"])
            self.assertFalse(read(studio_settings(data, DEBUG=""))["DEBUG"])

    def test_a_studio_for_other_hosts_needs_a_secret_key_and_goes_over_https(self) -> None:
        with tempfile.TemporaryDirectory() as data:
            refused = studio_settings(data, ALLOWED_HOSTS="studio.example.com")
            self.assertNotEqual(refused.returncode, 0)
            self.assertIn("SECRET_KEY must be set", refused.stderr)
            self.assertFalse((Path(data) / "secret_key").exists())
            deployed = read(studio_settings(data, ALLOWED_HOSTS="studio.example.com", SECRET_KEY="k" * 50))
        self.assertEqual(deployed["SECRET_KEY"], "k" * 50)
        self.assertTrue(deployed["SESSION_COOKIE_SECURE"])
        self.assertTrue(deployed["SECURE_SSL_REDIRECT"])
        self.assertEqual(deployed["SECURE_HSTS_SECONDS"], 3600)

    def test_the_readme_gives_the_new_defaults(self) -> None:
        readme = (ROOT / "README.md").read_text()
        self.assertIn("| `DEBUG` | `false` |", readme)
        self.assertIn("| `SECRET_KEY` | made once and kept in `$DATA_DIR/secret_key`", readme)


@login_not_required
def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(f"could not reach {settings.DATABASE_URL}")


@login_not_required
def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a request the studio cannot read")


urlpatterns = [
    path("test-broken/", broken),
    path("test-suspicious/", suspicious),
    *studio_urls.urlpatterns,
]


def looks_like_the_studio(test: SimpleTestCase, response: Any, status: int, heading: str) -> None:
    test.assertContains(response, heading, status_code=status)
    test.assertContains(response, '<header class="topbar', status_code=status)
    test.assertContains(response, "studio/studio.css", status_code=status)
    test.assertContains(
        response, f'<a href="{reverse("studio:index")}">Back to the gallery</a>', status_code=status
    )
    test.assertNotIn(b"Django", response.content)


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
class ErrorPageTests(TeamTestCase):
    def test_another_teams_video_is_the_studios_own_404(self) -> None:
        video = make_finished(self.studio, self.alice)
        self.client.force_login(self.carol)
        response = self.client.get(video.get_absolute_url())
        looks_like_the_studio(self, response, 404, "We could not find this page")
        self.assertContains(response, '<span class="who">carol</span>', status_code=404)
        self.assertNotContains(response, "URLconf", status_code=404)
        self.assertNotContains(response, "A paper boat", status_code=404)

    def test_a_page_that_does_not_exist_is_the_studios_own_404(self) -> None:
        self.client.force_login(self.alice)
        looks_like_the_studio(self, self.client.get("/no/such/page"), 404, "We could not find this page")

    def test_a_page_someone_may_not_use_is_the_studios_own_403(self) -> None:
        self.client.force_login(self.alice)
        looks_like_the_studio(self, self.client.get(reverse("studio:members")), 403, "You cannot do this")

    def test_an_expired_form_is_the_studios_own_page(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.alice)
        response = client.post(reverse("studio:generate"), {"prompt": "A paper boat"})
        looks_like_the_studio(self, response, 403, "This page had expired")
        self.assertNotContains(response, "CSRF verification failed", status_code=403)

    def test_a_request_the_studio_cannot_read_is_the_studios_own_400(self) -> None:
        response = self.client.get("/test-suspicious/")
        looks_like_the_studio(self, response, 400, "The studio could not read this request")

    def test_an_error_is_the_studios_own_500_made_without_the_database(self) -> None:
        client = Client(raise_request_exception=False)
        with self.assertNumQueries(0):
            response = client.get("/test-broken/")
        looks_like_the_studio(self, response, 500, "Something went wrong")
        self.assertNotContains(response, "could not reach", status_code=500)

    def test_the_500_page_needs_no_request(self) -> None:
        html = render_to_string("500.html")
        self.assertIn("Something went wrong", html)
        self.assertIn(f'href="{reverse("studio:index")}"', html)


# Made at random, so that the report's own quotation of this file's source cannot contain them.
PG, REDIS, S3, HEADER = (secrets.token_hex(8) for _ in range(4))
PASSWORDS = (PG, REDIS, S3)
SECRETS: dict[str, Any] = {
    "DATABASE_URL": f"postgres://studio:{PG}@db:5432/studio",
    "REDIS_URL": f"redis://:{REDIS}@redis:6379/0",
    "Q_CLUSTER": {"name": "sorastudio", "redis": f"redis://:{REDIS}@redis:6379/0"},
    "AWS_S3_ENDPOINT_URL": f"http://minio:{S3}@minio:9000",
}


class MaskingTests(SimpleTestCase):
    def test_it_masks_the_password_of_any_url_and_keeps_the_rest(self) -> None:
        for raw, masked in (
            ("postgres://studio:pg-secret@db:5432/studio", "postgres://studio:********@db:5432/studio"),
            ("redis://:redis-secret@redis:6379/0", "redis://:********@redis:6379/0"),
            ("failed: 'amqp://u:p%40ss@mq/'", "failed: 'amqp://u:********@mq/'"),
            ("postgres://postgres@127.0.0.1/db", "postgres://postgres@127.0.0.1/db"),
            ("https://example.com/a:b@c", "https://example.com/a:b@c"),
        ):
            self.assertEqual(mask_url_credentials(raw), masked)

    @override_settings(**SECRETS)
    def test_the_settings_on_an_error_report_show_no_password_inside_a_url(self) -> None:
        shown = json.dumps(SafeReporterFilter().get_safe_settings(), default=str)
        for secret in PASSWORDS:
            self.assertNotIn(secret, shown)
        self.assertIn("postgres://studio:********@db:5432/studio", shown)
        self.assertIn("redis://:********@redis:6379/0", shown)

    @override_settings(**SECRETS)
    def test_the_whole_report_masks_them_in_messages_and_variables_too(self) -> None:
        connection = {"url": SECRETS["DATABASE_URL"]}  # a frame's local variable, shown on the report
        try:
            raise RuntimeError(f"cannot connect to {connection['url']}")
        except RuntimeError:
            reporter = SafeExceptionReporter(None, *sys.exc_info())
            html, text = reporter.get_traceback_html(), reporter.get_traceback_text()
        for report in (html, text):
            for secret in PASSWORDS:
                self.assertNotIn(secret, report)
            self.assertIn("cannot connect to postgres://studio:********@db:5432/studio", report)


class LogMaskingTests(SimpleTestCase):
    def test_a_log_line_or_traceback_naming_a_url_with_its_password_is_written_masked(self) -> None:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.addFilter(MaskCredentials())
        log = logging.getLogger("tests.masking")
        log.addHandler(handler)
        self.addCleanup(log.removeHandler, handler)
        log.error("the broker %s is down", SECRETS["REDIS_URL"])
        try:
            raise RuntimeError(f"cannot connect to {SECRETS['DATABASE_URL']}")
        except RuntimeError:
            log.exception("the database refused")
        written = stream.getvalue()
        self.assertIn("the broker redis://:********@redis:6379/0 is down", written)
        self.assertIn("RuntimeError: cannot connect to postgres://studio:********@db:5432/studio", written)
        for secret in PASSWORDS:
            self.assertNotIn(secret, written)

    def test_the_studios_log_handler_masks(self) -> None:
        logging_config: dict[str, Any] = settings.LOGGING
        self.assertIn("mask_credentials", logging_config["handlers"]["console"]["filters"])


@override_settings(ROOT_URLCONF=__name__, DEBUG=True, **SECRETS)
class DebugPageTests(TeamTestCase):
    def test_the_debug_page_shows_no_password_inside_a_url(self) -> None:
        client = Client(raise_request_exception=False)
        response = client.get("/test-broken/", headers={"x-upstream": f"redis://:{HEADER}@redis/0"})
        self.assertEqual(response.status_code, 500)
        self.assertContains(
            response, "could not reach postgres://studio:********@db:5432/studio", status_code=500
        )
        for secret in (*PASSWORDS, HEADER):
            self.assertNotContains(response, secret, status_code=500)
