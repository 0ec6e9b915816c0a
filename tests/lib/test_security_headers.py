"""Security headers on every response, a Content Security Policy the templates keep to, and cookies that
only travel over HTTPS in production."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tests.helpers import TeamTestCase, make_finished

ROOT = Path(__file__).resolve().parents[2]


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


class HeaderTests(TeamTestCase):
    def test_every_kind_of_response_carries_the_policy_and_the_security_headers(self) -> None:
        video = make_finished(self.studio, self.alice)
        self.client.force_login(self.alice)
        for url in (
            reverse("login"),
            reverse("studio:index"),
            reverse("studio:poster", args=[video.pk]),
            "/healthz",
            "/no/such/page",
        ):
            response = self.client.get(url)
            self.assertEqual(response["Content-Security-Policy"], settings.CONTENT_SECURITY_POLICY, url)
        response = self.client.get(reverse("studio:index"))
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["Referrer-Policy"], "same-origin")
        self.assertEqual(response["Cross-Origin-Opener-Policy"], "same-origin")

    def test_the_policy_allows_no_inline_script_and_no_framing(self) -> None:
        policy = directives(settings.CONTENT_SECURITY_POLICY)
        self.assertEqual(policy["default-src"], ["'self'"])
        self.assertEqual(policy["script-src"], ["'self'"])
        self.assertEqual(policy["style-src"], ["'self'"])
        self.assertEqual(policy["frame-ancestors"], ["'none'"])
        self.assertEqual(policy["form-action"], ["'self'"])
        self.assertEqual(policy["object-src"], ["'none'"])
        self.assertEqual(policy["img-src"], ["'self'", "data:", "blob:"])

    def test_the_templates_keep_to_the_policy(self) -> None:
        for path in (ROOT / "templates").rglob("*.html"):
            text = re.sub(r"\{#.*?#\}", "", path.read_text())  # comments never reach the page
            for tag in re.findall(r"<script\b[^>]*>", text):
                # Only files and JSON data: an inline script would be refused by the browser.
                self.assertTrue("src=" in tag or 'type="application/json"' in tag, f"{path.name}: {tag}")
            self.assertIsNone(
                re.search(r"\s(on[a-z]+|hx-on[:-][\w:-]*)=", text), f"{path.name}: event handler"
            )
            self.assertNotIn("javascript:", text, path.name)
            self.assertNotIn("<style", text, path.name)
        base = (ROOT / "templates" / "base.html").read_text()
        self.assertIn('"includeIndicatorStyles":false', base)  # htmx would otherwise inject a <style>

    @override_settings(
        SESSION_COOKIE_SECURE=True,
        CSRF_COOKIE_SECURE=True,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        SECURE_HSTS_SECONDS=3600,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    )
    def test_behind_https_cookies_are_secure_and_hsts_is_sent(self) -> None:
        response = self.client.get(reverse("login"), headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(response["Strict-Transport-Security"], "max-age=3600; includeSubDomains")
        self.assertTrue(response.cookies["csrftoken"]["secure"])
        response = self.client.post(
            reverse("login"),
            {"username": "alice", "password": "alice-pass-123"},
            headers={"X-Forwarded-Proto": "https"},
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response.cookies["sessionid"]["secure"])
        self.assertTrue(response.cookies["sessionid"]["httponly"])
