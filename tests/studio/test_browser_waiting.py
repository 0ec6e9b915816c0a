"""In Chromium: a live job's card tells a job being made from one that waits. The one being made fills its
bar; one waiting shows no bar and no percentage, but why it waits: its service out of credit, its place in
the studio's queue, or the video service's own line. Cards keep saying so as they refresh every 2 s."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sorastudio.billing.models import ProviderPause
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Team
from tests.browser import QUICK, BrowserTestCase, expect
from tests.helpers import make_row


@pytest.mark.browser
class TestWaitingCards(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alice = self.member("alice", "Studio")
        self.studio = Team.objects.get(name="Studio")

    def job(self, prompt: str, state: str, *, seconds_ago: int, **fields: Any) -> Generation:
        """A live job the worker leaves alone: a queued one is not due for an hour (or its service is
        paused), a running one has no task id at the service to poll."""
        if state == State.QUEUED:
            fields.setdefault("next_attempt_at", timezone.now() + timedelta(hours=1))
        return make_row(
            self.studio,
            self.alice,
            prompt,
            state=state,
            created_at=timezone.now() - timedelta(seconds=seconds_ago),
            **fields,
        )

    def test_a_waiting_card_says_why_it_waits_and_only_a_job_being_made_fills_a_bar(self) -> None:
        ProviderPause.objects.create(provider="sora2api", reason="insufficient credits")
        made = self.job(
            "A fox being made",
            State.RUNNING,
            seconds_ago=40,
            upstream_phase="processing",
            submitted_at=timezone.now() - timedelta(seconds=30),
        )
        credit = self.job("A boat out of credit", State.QUEUED, seconds_ago=300, provider="sora2api")
        first = self.job("A lighthouse next in line", State.QUEUED, seconds_ago=200)
        second = self.job("A kite second in line", State.QUEUED, seconds_ago=100)
        their_line = self.job(
            "A cat in their line",
            State.RUNNING,
            seconds_ago=50,
            upstream_phase="pending",
            submitted_at=timezone.now() - timedelta(seconds=45),
        )
        page = self.page
        self.log_in(page, "alice")

        def card(job: Generation) -> Any:
            return page.locator(f"#card-{job.pk}")

        expect(card(made).locator("progress")).to_be_visible(timeout=QUICK)
        self.assertGreater(int(card(made).locator("progress").get_attribute("value") or 0), 2)
        for waiting, reason in (
            (credit, "Waiting: the video service is out of credit."),
            (first, "Next in line"),
            (second, "2nd in line"),
            (their_line, "Waiting in the video service's line"),
        ):
            with self.subTest(reason=reason):
                expect(card(waiting).locator(".waiting")).to_contain_text(reason, timeout=QUICK)
                expect(card(waiting).locator("progress")).to_have_count(0)
                expect(card(waiting)).not_to_contain_text("%")
                expect(card(waiting)).not_to_contain_text("Taking longer than usual")

        # After a refresh of each card (every 2 s), the same: the card's own address reads the places too.
        with page.expect_response(lambda r: f"/generations/{second.pk}/card" in r.url, timeout=QUICK):
            pass
        expect(card(second).locator(".waiting")).to_contain_text("2nd in line", timeout=QUICK)
        expect(card(second).locator("progress")).to_have_count(0)
        expect(card(made).locator("progress")).to_be_visible()
