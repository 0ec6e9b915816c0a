"""In Chromium: the date fields show the studio's format for the page's language, not the browser's, take a
date typed in it or picked from the calendar, and filter the gallery with ISO dates in the address."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Membership, Team
from tests.browser import QUICK, BrowserTestCase, expect, pick_day


@pytest.mark.browser
class TestDateFields(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        alice = self.member("alice", "Studio")
        studio = Team.objects.get(name="Studio")
        Membership.objects.filter(user=alice).update(role=Membership.Role.ADMIN)
        for prompt, day in (("A fox in November", 3), ("A boat in late November", 20)):
            Generation.objects.create(
                team=studio,
                created_by=alice,
                prompt=prompt,
                model="sora-2",
                duration=10,
                state=State.FAILED,
                created_at=datetime(2026, 11, day, 12, tzinfo=UTC),
            )

    def test_it_shows_and_filters_by_dates_in_english(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        expect(page.locator("#gallery article.card")).to_have_count(2)

        pick_day(page, "filter-date_to", "2026-11-03")
        expect(page.locator("#filter-date_to")).to_have_value("3 Nov 2026")
        expect(page.locator("#gallery article.card")).to_have_count(1, timeout=QUICK)
        expect(page.get_by_role("link", name="A fox in November")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/\?date_to=2026-11-03$"))

        # Typed in the studio's format: the address still carries the ISO date.
        page.locator("#filter-date_from").fill("1 Nov 2026")
        page.locator("#filter-date_from").press("Enter")
        expect(page).to_have_url(re.compile(r"/\?date_from=2026-11-01&date_to=2026-11-03$"), timeout=QUICK)

        page.locator("#filter-date_from").fill("Tuesday")
        page.locator("#filter-date_from").press("Enter")
        expect(page.locator("#filter-date_from-errors")).to_contain_text("3 Nov 2026", timeout=QUICK)

        # Opened from the address, the fields show the days in the studio's format.
        page.goto("/?date_from=2026-11-01&date_to=2026-11-20")
        expect(page.locator("#filter-date_from")).to_have_value("1 Nov 2026")
        expect(page.locator("#filter-date_to")).to_have_value("20 Nov 2026")
        expect(page.locator("#gallery article.card")).to_have_count(2)

    def test_it_shows_and_filters_by_dates_in_chinese(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        page.get_by_label("Language").select_option("zh-hans")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans", timeout=QUICK)
        page.wait_for_load_state("load")

        pick_day(page, "filter-date_from", "2026-11-20")
        expect(page.locator("#filter-date_from")).to_have_value("2026年11月20日")
        expect(page.locator("#gallery article.card")).to_have_count(1, timeout=QUICK)
        expect(page.get_by_role("link", name="A boat in late November")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/\?date_from=2026-11-20$"))

        page.locator("#filter-date_from").fill("2026年11月3日")
        page.locator("#filter-date_from").press("Enter")
        expect(page.locator("#gallery article.card")).to_have_count(2, timeout=QUICK)
        expect(page).to_have_url(re.compile(r"/\?date_from=2026-11-03$"))
