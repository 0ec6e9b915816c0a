"""Each page loads the studio's scripts it uses, and only those, as modules (their own scope, deferred)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from sorastudio.teams.models import Membership
from tests.helpers import TeamTestCase, make_finished

EVERY_PAGE = ["studio.js", "bell.js"]
STATIC = Path(settings.BASE_DIR) / "static" / "studio"


def scripts_of(response: object) -> list[str]:
    html = response.content.decode()  # type: ignore[attr-defined]
    return re.findall(r'<script type="module" src="/static/studio/([\w.]+)"></script>', html)


class PageScriptTests(TeamTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.dana)

    def test_each_page_loads_the_scripts_it_uses(self) -> None:
        video = make_finished(self.studio, self.alice)
        other = make_finished(self.studio, self.alice, "Another boat")
        pages = {
            reverse("studio:index"): [
                "compose.js",
                "images.js",
                "character.js",
                "gallery.js",
                "dates.js",
                "copy.js",
            ],
            video.get_absolute_url(): ["review.js", "copy.js", "draw.js"],
            f"{reverse('studio:compare')}?ids={video.pk}&ids={other.pk}": ["review.js", "draw.js"],
            reverse("studio:notifications"): ["notifications.js"],
            reverse("studio:members"): ["team.js"],
            reverse("studio:history"): [],
            reverse("studio:dashboard"): ["dates.js"],
            reverse("studio:trash"): [],
        }
        for url, own in pages.items():
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(scripts_of(response), EVERY_PAGE + own)
                # Only theme.js is a classic script: it must run before the page is painted.
                self.assertEqual(
                    re.findall(r'<script src="/static/studio/([\w.]+)"', response.content.decode()),
                    ["theme.js"],
                )

    def test_someone_in_no_team_has_no_bell_and_no_script_for_it(self) -> None:
        Membership.objects.filter(user=self.carol).delete()
        self.client.force_login(self.carol)
        response = self.client.get(reverse("studio:index"))
        self.assertContains(response, "You are not in a team yet", status_code=403)
        self.assertEqual(scripts_of(response), ["studio.js"])

    def test_every_script_imported_is_there(self) -> None:
        for script in STATIC.glob("*.js"):
            for name in re.findall(r'^import .* from "\./([\w.]+)";$', script.read_text(), re.M):
                with self.subTest(script=script.name, imports=name):
                    self.assertTrue((STATIC / name).exists())
