"""In Chromium, in both languages and both colour schemes: on a phone (390 by 844 px) the top bar keeps
one row with a menu for the rest, the gallery's filters wait in a sheet so that the first screen shows a
video, and no page scrolls sideways; on a laptop (1366 px) no select cuts its value and a card's actions
menu works from the keyboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import ViewportSize

from sorastudio.studio.models import Notification, State
from sorastudio.teams.models import Membership, Team
from sorastudio.upstream.errors import REFUSAL_CODE
from tests.browser import BrowserTestCase, expect
from tests.helpers import make_finished, make_row
from tests.studio.test_browser_layout import CUT_SELECTS

PHONE: ViewportSize = {"width": 390, "height": 844}

# The top bar's items as drawn (the closed menu's are not): their tops, and the bar's height.
TOPBAR = """() => {
  const bar = document.querySelector('.topbar');
  const tops = [...bar.querySelectorAll(':scope > *, .topbar-menu > *')]
    .filter(el => getComputedStyle(el).display !== 'contents' && el.getClientRects().length)
    .map(el => Math.round(el.getBoundingClientRect().top));
  return {height: bar.getBoundingClientRect().height, tops};
}"""

# How wide the page scrolls against the window, and (to say what to fix) the first boxes that reach past
# its right edge, leaving out what a box that scrolls by itself holds (a chart).
SIDEWAYS = """() => ({scroll: document.scrollingElement.scrollWidth, width: innerWidth,
  wide: [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > innerWidth + 1 && !el.closest('.chart-scroll'))
    .slice(0, 5).map(el => `${el.tagName}#${el.id} ${Math.round(el.getBoundingClientRect().right)}`)})"""

# Each select showing its longest choice that may be chosen, for CUT_SELECTS to measure.
LONGEST_CHOICE = """s => { s.value = [...s.options].filter(o => !o.disabled)
  .sort((a, b) => b.text.length - a.text.length)[0].value; }"""


@pytest.mark.browser
class TestPhoneAndCards(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.dana = self.member("dana", "Studio")
        Membership.objects.filter(user=self.dana).update(role=Membership.Role.ADMIN)
        self.studio = Team.objects.get(name="Studio")
        self.bob = self.member("bob", "Studio")
        long_prompt = "A lighthouse keeper walks the spiral stairs at dawn, " * 6
        self.videos = [make_finished(self.studio, self.dana, f"{long_prompt} take {n}") for n in range(3)]
        self.theirs = make_finished(self.studio, self.bob, "Bob's kite over the dunes")
        make_row(self.studio, self.dana, "A refused one", state=State.FAILED, error_code=REFUSAL_CODE)
        # Something in each page: the trash, the notifications, the history.
        make_finished(self.studio, self.dana, f"{long_prompt} thrown away").soft_delete(by=self.dana)
        Notification.objects.create(
            user=self.dana, team=self.studio, generation=self.videos[0], kind=Notification.Kind.READY
        )

    def pages(self) -> list[str]:
        first, second = self.videos[0].pk, self.videos[1].pk
        return [
            "/",
            reverse("studio:generation", args=[first]),
            f"{reverse('studio:compare')}?ids={first}&ids={second}",
            reverse("studio:dashboard"),
            reverse("studio:costs"),
            reverse("studio:members"),
            reverse("studio:notifications"),
            reverse("studio:trash"),
            reverse("studio:pipeline_health"),
            reverse("studio:history"),
        ]

    def phone_looks(self) -> Any:
        for look, page in self.in_every_look("dana", "/", ready="#gallery", widths=(390,)):
            page.set_viewport_size(PHONE)
            yield look, page

    def test_it_keeps_every_page_within_a_phone_screen_with_the_top_bar_in_one_row(self) -> None:
        for look, page in self.phone_looks():
            for path in self.pages():
                with self.subTest(**look, path=path):
                    page.goto(path)
                    page.wait_for_load_state("load")
                    sideways = page.evaluate(SIDEWAYS)
                    self.assertLessEqual(sideways["scroll"], sideways["width"], sideways)
                    bar = page.evaluate(TOPBAR)
                    self.assertLess(bar["height"], 64, bar)
                    self.assertLessEqual(max(bar["tops"]) - min(bar["tops"]), 12, bar)

    def test_it_shows_a_video_on_the_first_screen_of_the_gallery_on_a_phone(self) -> None:
        for look, page in self.phone_looks():
            with self.subTest(**look):
                poster = page.locator("#gallery .card .poster").first
                top = poster.evaluate("el => el.getBoundingClientRect().top")
                self.assertLess(top, PHONE["height"] - 40)
                self.assertFalse(page.locator("#filters").is_visible())
                # A card's menu opens within the screen.
                items = self.card_menu(page.locator(f"#card-{self.videos[0].pk}"))
                box = items.bounding_box()
                assert box is not None
                self.assertGreaterEqual(box["x"], 0)
                self.assertLessEqual(box["x"] + box["width"], PHONE["width"])
                sideways = page.evaluate(SIDEWAYS)
                self.assertLessEqual(sideways["scroll"], sideways["width"], sideways)

    def test_it_opens_the_rest_of_the_top_bar_from_its_menu_on_a_phone(self) -> None:
        for look, page in self.phone_looks():
            with self.subTest(**look):
                menu, toggle = page.locator("#topbar-menu"), page.locator("[data-menu-toggle]")
                dashboard = menu.locator(f"a[href='{reverse('studio:dashboard')}']")
                expect(dashboard).to_be_hidden()
                expect(page.locator("#bell")).to_be_visible()  # the bell stays in the bar
                toggle.click()
                expect(toggle).to_have_attribute("aria-expanded", "true")
                expect(dashboard).to_be_visible()
                expect(menu.locator("#language-select")).to_be_visible()
                sideways = page.evaluate(SIDEWAYS)
                self.assertLessEqual(sideways["scroll"], sideways["width"], sideways)
                page.keyboard.press("Escape")
                expect(dashboard).to_be_hidden()
                expect(toggle).to_be_focused()
                toggle.click()
                page.mouse.click(5, PHONE["height"] - 40)  # elsewhere: the page's margin
                expect(dashboard).to_be_hidden()
                toggle.click()
                dashboard.click()
                expect(page).to_have_url(re.compile(r"/dashboard/$"))

    def test_it_filters_the_gallery_from_a_sheet_on_a_phone(self) -> None:
        for look, page in self.phone_looks():
            with self.subTest(**look):
                sheet, opener = page.locator("#filters"), page.locator("[data-filters-open]")
                count = opener.locator("[data-filters-count]")
                expect(count).to_be_hidden()
                opener.click()
                expect(sheet).to_be_in_viewport()
                expect(opener).to_have_attribute("aria-expanded", "true")
                with page.expect_response(lambda r: "/gallery/view" in r.url):
                    sheet.locator("#filter-state").select_option("failed")
                expect(page.locator("#gallery article.card")).to_have_count(1)
                expect(count).to_have_text("1")
                sheet.locator("[data-filters-close]").click()
                expect(sheet).to_be_hidden()
                expect(opener).to_be_focused()
                # Escape closes it too; the filter still applies, and is counted.
                opener.click()
                expect(sheet).to_be_visible()
                page.keyboard.press("Escape")
                expect(sheet).to_be_hidden()
                expect(count).to_have_text("1")
                expect(page).to_have_url(re.compile(r"state=failed"))
                opener.click()
                expect(sheet).to_be_visible()
                page.locator(".gallery-panel h2").click()  # beside the sheet
                expect(sheet).to_be_hidden()

    def test_it_shows_the_whole_value_of_every_select_on_a_laptop(self) -> None:
        for look, page in self.in_every_look("dana", "/", ready="#gallery", widths=(1366,)):
            for path in ("/", reverse("studio:dashboard"), reverse("studio:members")):
                with self.subTest(**look, path=path):
                    page.goto(path)
                    for select in page.locator("select:visible").all():
                        select.evaluate(LONGEST_CHOICE)  # not only the choice shown now
                    self.assertEqual(page.locator("body").evaluate(CUT_SELECTS), [])

    def test_it_opens_and_works_a_cards_actions_menu_from_the_keyboard(self) -> None:
        for look, page in self.in_every_look("dana", "/", ready="#gallery", widths=(1366,)):
            with self.subTest(**look):
                card = page.locator(f"#card-{self.videos[0].pk}")
                menu = card.locator("details.card-menu")
                summary, items = menu.locator("summary"), menu.locator(".card-menu-items")
                expect(items).to_be_hidden()
                # Tab from the card's poster reaches its menu: its prompt, tick and star come on the way.
                card.locator(".poster").focus()
                for _ in range(6):
                    page.keyboard.press("Tab")
                    if summary.evaluate("s => s === document.activeElement"):
                        break
                expect(summary).to_be_focused()
                page.keyboard.press("Enter")
                expect(items).to_be_visible()
                links = items.locator("a, button")
                expect(links.first).to_be_focused()
                page.keyboard.press("ArrowDown")
                expect(links.nth(1)).to_be_focused()
                page.keyboard.press("ArrowUp")
                page.keyboard.press("ArrowUp")
                expect(links.last).to_be_focused()
                page.keyboard.press("Escape")
                expect(items).to_be_hidden()
                expect(summary).to_be_focused()
                page.keyboard.press(" ")
                expect(links.first).to_be_focused()
                page.keyboard.press("Tab")  # Tab goes through the items too
                expect(links.nth(1)).to_be_focused()
                # A click elsewhere closes it.
                page.locator("h2").first.click()
                expect(items).to_be_hidden()

    def test_it_offers_in_a_cards_menu_only_what_the_viewer_may_do(self) -> None:
        page = self.page
        page.set_viewport_size({"width": 1366, "height": 900})
        self.log_in(page, "bob")
        mine, theirs = page.locator(f"#card-{self.theirs.pk}"), page.locator(f"#card-{self.videos[0].pk}")
        for card, deletable in ((mine, True), (theirs, False)):
            card.locator("details.card-menu summary").click()
            items = card.locator(".card-menu-items")
            expect(items.get_by_role("link", name="Download")).to_be_visible()
            expect(items.get_by_role("button", name="Re-run")).to_be_visible()
            expect(items.get_by_role("link", name="Edit & retry")).to_be_visible()
            expect(items.get_by_role("button", name="Delete")).to_have_count(1 if deletable else 0)
        # One open at a time.
        expect(mine.locator(".card-menu-items")).to_be_hidden()

    def test_it_opens_a_cards_menu_and_re_runs_without_scripts(self) -> None:
        context = self.browser.new_context(
            base_url=self.live_server_url, java_script_enabled=False, viewport=PHONE
        )
        self.addCleanup(context.close)
        page = context.new_page()
        self.log_in(page, "dana")
        # Without scripts nothing is a sheet or a menu of the bar: it all shows, and still fits.
        expect(page.locator("#filters")).to_be_visible()
        expect(page.locator(f"#topbar-menu a[href='{reverse('studio:dashboard')}']")).to_be_visible()
        sideways = page.evaluate(SIDEWAYS)
        self.assertLessEqual(sideways["scroll"], sideways["width"], sideways)
        cards = page.locator("#gallery article.card")
        expect(cards).to_have_count(5)
        self.card_menu(page.locator(f"#card-{self.videos[0].pk}")).get_by_role(
            "button", name="Re-run"
        ).click()
        expect(cards).to_have_count(6)
