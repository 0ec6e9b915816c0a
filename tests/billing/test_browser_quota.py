"""In Chromium: the cost and the remainder beside the Generate button follow the options as they change
(variations, length, model, a batch's lines), and a request past the cap is stopped with the message."""

from __future__ import annotations

import pytest

from sorastudio.billing.models import Period, Quota
from sorastudio.studio.models import Generation
from sorastudio.teams.models import Team
from tests.browser import QUICK, BrowserTestCase, expect


@pytest.mark.browser
class TestQuotaOnTheForm(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        alice = self.member("alice", "Studio")
        Quota.set_limit(Team.objects.get(name="Studio"), alice, Period.MONTHLY, 100)
        self.log_in(self.page, "alice")
        self.form = self.page.locator("#compose")
        self.cost = self.page.locator("#cost")

    def test_the_cost_and_the_remainder_follow_the_options(self) -> None:
        form, cost = self.form, self.cost
        expect(cost).to_contain_text("This will cost 15 credits.")
        expect(cost).to_contain_text("You have 100 credits left this month.")
        form.get_by_label("Variations").select_option("3")
        expect(cost).to_contain_text("This will cost 45 credits (3 videos × 15).", timeout=QUICK)
        form.get_by_label("Length").select_option("10")
        expect(cost).to_contain_text("This will cost 30 credits (3 videos × 10).", timeout=QUICK)
        form.get_by_label("Model").select_option("sora-2-pro")
        expect(cost).to_contain_text("This will cost 90 credits (3 videos × 30).", timeout=QUICK)
        expect(cost).to_contain_text("This goes past the warning level of your monthly limit: 90 of 100")

    def test_a_batch_counts_its_lines(self) -> None:
        page, cost = self.page, self.cost
        page.get_by_label("Each line is its own video (a batch)").check()
        page.get_by_label("Describe the video").fill("A fox in the snow\nA crow on a wire\nA boat at dusk")
        expect(cost).to_contain_text("This will cost 45 credits (3 videos × 15).", timeout=QUICK)
        page.get_by_label("Describe the video").fill("A fox in the snow\nA crow on a wire")
        expect(cost).to_contain_text("This will cost 30 credits (2 videos × 15).", timeout=QUICK)

    def test_past_the_cap_the_message_appears_and_nothing_is_made(self) -> None:
        page, form, cost = self.page, self.form, self.cost
        page.get_by_label("Describe the video").fill("A lighthouse in a storm")
        form.get_by_label("Model").select_option("sora-2-pro")
        expect(form.get_by_label("Length").locator("option[value='25']")).to_be_enabled(timeout=QUICK)
        form.get_by_label("Length").select_option("25")
        form.get_by_label("Quality").select_option("large")
        expect(cost).to_contain_text("This will cost 125 credits.", timeout=QUICK)
        page.get_by_role("button", name="Generate video").click()
        alert = page.locator("#cost [role=alert]")
        expect(alert).to_contain_text(
            "This would cost 125 credits, but your monthly limit leaves 100.", timeout=QUICK
        )
        expect(alert).to_contain_text("It resets on")
        expect(page.get_by_label("Describe the video")).to_have_value("A lighthouse in a storm")
        self.assertFalse(Generation.objects.exists())
