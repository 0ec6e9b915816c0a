"""In Chromium: the pipeline health page draws its window over time, each chart filling its card with its
hour or day labels apart, at 1366 and 390 px, in both languages and both themes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Membership, Team
from tests.browser import QUICK, BrowserTestCase, chart_layout, expect


@pytest.mark.browser
class TestPipelineHealthCharts(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        dana = self.member("dana", "Studio")
        Membership.objects.filter(user=dana).update(role=Membership.Role.ADMIN)
        studio = Team.objects.get(name="Studio")
        now = timezone.now()
        for hours in range(0, 24 * 30, 5):
            done = now - timedelta(hours=hours, minutes=10)
            Generation.objects.create(
                team=studio,
                created_by=dana,
                prompt="a paper boat",
                model="sora-2",
                duration=10,
                state=State.FAILED if hours % 3 == 0 else State.SUCCEEDED,
                created_at=done - timedelta(seconds=60 + hours),
                finished_at=done,
            )

    def test_its_charts_fill_their_cards_and_keep_their_labels_apart(self) -> None:
        for width in (1366, 390):
            for language in ("en", "zh-hans"):
                for scheme in ("light", "dark"):
                    page = self.new_page()
                    page.context.add_cookies(
                        [{"name": "django_language", "value": language, "url": self.live_server_url}]
                    )
                    page.set_viewport_size({"width": width, "height": 900})
                    page.emulate_media(color_scheme=scheme)
                    page.goto("/accounts/login/?next=/dashboard/pipeline/")
                    page.locator("#id_username").fill("dana")
                    page.locator("#id_password").fill("dana-pass-123")
                    page.locator("form button.primary[type=submit]").click()
                    expect(page.locator("#pipeline-numbers")).to_be_visible(timeout=QUICK)
                    for window in ("24h", "7d", "30d"):
                        with self.subTest(width=width, language=language, scheme=scheme, window=window):
                            page.goto(f"/dashboard/pipeline/?window={window}")
                            charts = chart_layout(page)
                            self.assertEqual([c["id"] for c in charts], ["outcomes-chart", "times-chart"])
                            for chart in charts:
                                self.assertGreaterEqual(chart["share"], 0.95, chart)
                                self.assertGreater(chart["labels"], 1, chart)
                                self.assertEqual(chart["overlaps"], [], chart)
                                self.assertNotEqual(chart["ink"], chart["paper"], chart)
                    page.context.close()
