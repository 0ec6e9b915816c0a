"""In Chromium, the whole story of a quota: the admin gives alice 100 credits a month on the costs page;
alice sees the cost and what she has left beside the Generate button, a refused video gives its credits back,
she is stopped at the cap with the message by the button; and the admin finds the charged and released
credits on the dashboard's charts and tables, and narrows them with the filters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Membership, Team
from tests.browser import QUICK, BrowserTestCase, expect, pick_day, wait_for


@pytest.mark.browser
class TestTheQuotaStoryOnTheDashboard(BrowserTestCase):
    simulator_seconds = 0.5

    def setUp(self) -> None:
        super().setUp()
        self.member("alice", "Studio")
        dana = self.member("dana", "Studio")
        Membership.objects.filter(user=dana).update(role=Membership.Role.ADMIN)

    def test_alice_spends_to_her_cap_and_dana_sees_it_on_the_dashboard(self) -> None:
        # dana limits alice to 100 credits a month, on the costs page.
        admin = self.page
        self.log_in(admin, "dana")
        admin.goto("/costs/")
        limits = admin.locator("form.limit-form")
        limits.get_by_label("Who").select_option(label="alice")
        limits.get_by_label("Per").select_option("monthly")
        limits.get_by_label("Limit in credits").fill("100")
        limits.get_by_role("button", name="Set the limit").click()
        expect(admin.get_by_text("The limit is saved")).to_be_visible(timeout=QUICK)
        expect(admin.locator("#limits")).to_contain_text("alice")

        page = self.new_page()
        self.log_in(page, "alice")
        cost = page.locator("#cost")
        expect(cost).to_contain_text("This will cost 15 credits.")
        expect(cost).to_contain_text("You have 100 credits left this month.")

        # A video the service refuses: its 15 credits are given back.
        _pk, refused = self.generate(page, "A lighthouse in a storm [sim:error]")
        self.wait_until_done(refused, "failed")
        expect(refused).to_contain_text("You were not charged")

        # Three videos at once, twice: 90 of the 100 credits.
        page.get_by_label("Variations").select_option("3")
        expect(cost).to_contain_text("This will cost 45 credits (3 videos × 15).", timeout=QUICK)
        expect(cost).to_contain_text("You have 100 credits left this month.")
        for prompt, left in (("A fox in the snow", 55), ("A crow on a wire", 10)):
            self.generate(page, prompt)
            expect(cost).to_contain_text(f"You have {left} credits left this month.", timeout=QUICK)

        # The third is stopped at the cap, with the message beside the button, and nothing is made.
        page.get_by_label("Describe the video").fill("A boat at dusk")
        page.get_by_role("button", name="Generate video").click()
        expect(cost.get_by_role("alert")).to_contain_text(
            "This would cost 45 credits, but your monthly limit leaves 10.", timeout=QUICK
        )
        expect(page.get_by_label("Describe the video")).to_have_value("A boat at dusk")
        self.assertFalse(Generation.objects.filter(prompt="A boat at dusk").exists())
        wait_for(
            lambda: Generation.objects.filter(state=State.SUCCEEDED).count() == 6,
            timeout=30,
            message="the six videos were not all made",
        )

        # dana's dashboard: 90 charged and 15 released, on today's bar and in the tables.
        admin.locator("header").get_by_role("link", name="Dashboard").click()
        expect(admin.get_by_role("heading", name="Spend and usage")).to_be_visible(timeout=QUICK)
        today = timezone.localdate().isoformat()
        alice = admin.locator("#groups-table tr[data-key='alice']")
        expect(alice.locator("[data-charged]")).to_have_text("90")
        expect(alice.locator("[data-released]")).to_have_text("15")
        expect(alice.locator("[data-made]")).to_have_text("6")
        expect(alice.locator("[data-failed]")).to_have_text("1")
        outcome = admin.locator(f"#outcome-chart g.bar[data-category='{today}']")
        expect(outcome.locator("rect[data-series='Charged']")).to_have_attribute("data-value", "90")
        expect(outcome.locator("rect[data-series='Released']")).to_have_attribute("data-value", "15")
        spent = admin.locator(f"#spend-chart g.bar[data-category='{today}']")
        expect(spent.locator("rect[data-series='alice']")).to_have_attribute("data-value", "90")
        # Her limit, drawn with its cap and in the table: 90 used of 100.
        limit = admin.locator("#limits-chart g.bar[data-category='alice (Monthly)']")
        expect(limit).to_have_attribute("data-total", "90")
        expect(limit.locator("line.cap")).to_have_attribute("data-cap", "100")
        row = admin.locator("#limits-table tr[data-limit='alice (Monthly)']")
        expect(row.locator("[data-left]")).to_have_text("10")
        expect(row.get_by_role("meter")).to_have_attribute("value", "90")

        # The filters: grouped by model (through htmx, the address follows), then a bad date.
        admin.get_by_label("Group by").select_option("model")
        admin.get_by_role("button", name="Show").click()
        expect(admin.locator("#groups-table tr[data-key='sora-2'] [data-charged]")).to_have_text("90")
        expect(admin).to_have_url(re.compile(r"/dashboard/\?.*by=model"), timeout=QUICK)
        admin.get_by_label("From", exact=True).fill("2026-01-01")
        admin.get_by_label("To", exact=True).fill("2024-01-01")
        admin.get_by_role("button", name="Show").click()
        expect(admin.locator("#dashboard .field.invalid")).to_contain_text(
            "The last day comes before the first", timeout=QUICK
        )
        expect(admin.get_by_label("To", exact=True)).to_have_attribute("aria-invalid", "true")

    def test_a_creator_is_not_shown_the_dashboard(self) -> None:
        self.log_in(self.page, "alice")
        expect(self.page.get_by_role("link", name="Dashboard")).to_have_count(0)
        answer = self.page.goto("/dashboard/")
        assert answer is not None
        self.assertEqual(answer.status, 403)
        self.assertEqual(Team.objects.count(), 1)


@pytest.mark.browser
class TestTheChartsFitTheirCards(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        dana = self.member("dana", "Studio")
        Membership.objects.filter(user=dana).update(role=Membership.Role.ADMIN)

    def test_each_chart_fills_its_card_and_no_two_day_labels_overlap(self) -> None:
        end = timezone.localdate()
        for look, page in self.in_every_look("dana", "/dashboard/", ready="#spend-chart"):
            for days in (7, 30, 90):
                start = end - timedelta(days=days - 1)
                with self.subTest(**look, days=days):
                    page.goto(f"/dashboard/?start={start.isoformat()}&end={end.isoformat()}")
                    self.assert_charts_fit(page, ["spend-chart", "outcome-chart"])


@pytest.mark.browser
class TestTheDashboardDays(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        dana = self.member("dana", "Studio")
        Membership.objects.filter(user=dana).update(role=Membership.Role.ADMIN)

    def test_its_days_show_in_the_studio_format_and_come_from_the_calendar(self) -> None:
        page = self.page
        self.log_in(page, "dana")
        page.goto("/dashboard/?start=2026-11-01&end=2026-11-20")
        page.wait_for_load_state("load")
        expect(page.locator("#id_start")).to_have_value("1 Nov 2026")

        pick_day(page, "id_end", "2026-11-25")
        expect(page.locator("#id_end")).to_have_value("25 Nov 2026")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"/dashboard/\?start=2026-11-01&end=2026-11-25&"), timeout=QUICK)
        # The address changes before the answer's fields are swapped in: typing earlier types into fields
        # about to be replaced (seen on a busy machine).
        page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')", timeout=QUICK
        )

        # Typed in the studio's format, in the fields the answer brought (with their calendar buttons).
        page.locator("#id_start").fill("10 Nov 2026")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"/dashboard/\?start=2026-11-10&end=2026-11-25&"), timeout=QUICK)
        expect(page.locator("#id_end ~ .date-picker-button")).to_be_visible()
