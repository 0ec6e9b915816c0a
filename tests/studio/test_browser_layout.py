"""In Chromium, at a laptop's 1366 px and a phone's 390 px, in English and in Chinese: the compose form's
selects show their whole value, and a group of variations packs into the gallery's grid without holes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Team
from tests.browser import QUICK, BrowserTestCase, expect
from tests.helpers import make_finished, make_row

WIDTHS = (1366, 390)
LANGUAGES = ("en", "zh-hans")

# Every grid cell the gallery's items leave empty, read from where its items were laid out: a row of
# the grid is empty past its last item only on the grid's last row.
EMPTY_CELLS = """(gallery) => {
  const style = getComputedStyle(gallery);
  const tracks = style.gridTemplateColumns.split(' ').map(parseFloat);
  const gap = parseFloat(style.columnGap);
  const items = [];
  const walk = (el) => { for (const child of el.children) {
    const display = getComputedStyle(child).display;
    if (display === 'contents') walk(child); else if (display !== 'none') items.push(child);
  } };
  walk(gallery);
  const rows = new Map();
  for (const item of items) {
    const box = item.getBoundingClientRect();
    const span = Math.round((box.width + gap) / (tracks[0] + gap));
    const top = Math.round(box.top);
    rows.set(top, (rows.get(top) || 0) + span);
  }
  const tops = [...rows.keys()].sort((a, b) => a - b);
  const empty = tops.slice(0, -1).filter(top => rows.get(top) < tracks.length)
    .map(top => ({top, used: rows.get(top), columns: tracks.length}));
  return {columns: tracks.length, rows: tops.length, empty};
}"""

CUT_SELECTS = """(form) => [...form.querySelectorAll('select')]
  .filter(s => s.offsetParent !== null)
  .map(s => {
    // The select's own width against what its chosen option needs: a twin holding only that option,
    // sized to its content (the open list may be wider than the form: it is drawn over the page).
    const twin = s.cloneNode(true);
    [...twin.options].filter(o => o.value !== s.value).forEach(o => o.remove());
    twin.style.width = 'auto';
    twin.style.position = 'absolute';
    s.parentNode.appendChild(twin);
    const needed = twin.getBoundingClientRect().width;
    twin.remove();
    return {name: s.name, value: s.selectedOptions[0]?.text, width: s.getBoundingClientRect().width, needed};
  })
  .filter(s => s.width + 0.5 < s.needed)"""


@pytest.mark.browser
class TestLayout(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alice = self.member("alice", "Studio")
        self.studio = Team.objects.get(name="Studio")

    def at(self, width: int, language: str) -> Any:
        page = self.new_page()
        page.context.add_cookies(
            [{"name": "django_language", "value": language, "url": self.live_server_url}]
        )
        page.set_viewport_size({"width": width, "height": 900})
        self.log_in_as(page, "alice")
        return page

    def log_in_as(self, page: Any, username: str) -> None:
        page.goto("/accounts/login/?next=/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(f"{username}-pass-123")
        page.locator("form button.primary[type=submit]").click()
        expect(page.locator("#gallery")).to_be_attached(timeout=QUICK)

    def make(self, prompt: str, *, minutes_ago: int, **fields: Any) -> Generation:
        return make_row(
            self.studio,
            self.alice,
            prompt,
            state=State.FAILED,
            error_code="upstream_error",
            created_at=timezone.now() - timedelta(minutes=minutes_ago),
            finished_at=timezone.now(),
            **fields,
        )

    def test_it_packs_a_group_of_variations_into_the_grid_without_empty_cells(self) -> None:
        # Singles before each group: a group then starts where fewer cells than it spans are left.
        minutes = 0
        for takes, singles in ((2, 2), (3, 1), (2, 2), (4, 1)):
            for n in range(singles):
                minutes += 1
                self.make(f"Single {n} before {takes}", minutes_ago=minutes)
            group = uuid.uuid4()
            minutes += 1
            for n in range(1, takes + 1):
                self.make(f"{takes} takes", minutes_ago=minutes, group=group, variation=n)
        for n in range(3):
            minutes += 1
            self.make(f"Older {n}", minutes_ago=minutes)
        for width in WIDTHS:
            for language in LANGUAGES:
                with self.subTest(width=width, language=language):
                    page = self.at(width, language)
                    expect(page.locator("#gallery article.card")).to_have_count(6 + 11 + 3)
                    found = page.locator("#gallery").evaluate(EMPTY_CELLS)
                    self.assertGreater(found["rows"], 1)
                    self.assertEqual(found["empty"], [], found)
                    page.context.close()

    def test_it_shows_each_select_of_the_compose_form_whole(self) -> None:
        for width in WIDTHS:
            for language in LANGUAGES:
                with self.subTest(width=width, language=language):
                    page = self.at(width, language)
                    if width < 820:  # the form is a drawer on a phone
                        page.locator("[data-drawer-open]").first.click()
                    form = page.locator("#compose-panel form").first
                    expect(form.locator("#id_duration")).to_be_visible(timeout=QUICK)
                    for name in ("duration", "provider", "model", "version"):
                        select = form.locator(f"#id_{name}")
                        if select.count():
                            # Its longest choice too, not only the one chosen now.
                            longest = select.evaluate(
                                "s => [...s.options].filter(o => !o.disabled)"
                                ".sort((a, b) => b.text.length - a.text.length)[0].value"
                            )
                            select.select_option(longest)
                            page.wait_for_load_state("networkidle")
                    self.assertEqual(form.evaluate(CUT_SELECTS), [])
                    page.context.close()

    def test_it_draws_a_cards_review_state_as_a_small_badge_not_a_panel(self) -> None:
        # The badge once carried the class of the review panel (`.review`), and so its padding and border.
        for state in ("approved", "changes_requested"):
            make_finished(self.studio, self.alice, f"A {state} one", review_state=state)
        for width in WIDTHS:
            with self.subTest(width=width):
                page = self.at(width, "en")
                for badge in page.locator("#gallery .card .badge").all():
                    box = badge.bounding_box()
                    assert box is not None
                    text = badge.evaluate("b => parseFloat(getComputedStyle(b).fontSize)")
                    self.assertLess(box["height"], text * 2.2, badge.inner_text())
                page.context.close()
