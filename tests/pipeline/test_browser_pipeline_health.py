"""In Chromium: the pipeline health page draws its window over time, each chart filling its card with its
hour or day labels apart, at 1366 and 390 px, in both languages and both themes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Membership, Team
from tests.browser import BrowserTestCase


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
        for look, page in self.in_every_look("dana", "/dashboard/pipeline/", ready="#pipeline-numbers"):
            for window in ("24h", "7d", "30d"):
                with self.subTest(**look, window=window):
                    page.goto(f"/dashboard/pipeline/?window={window}")
                    self.assert_charts_fit(page, ["outcomes-chart", "times-chart"])
