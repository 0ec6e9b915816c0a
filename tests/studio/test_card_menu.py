"""A gallery card keeps its poster and words in sight and its actions in one "⋯" menu (a <details>, so it
works without scripts), offering only what the viewer may do; a failure keeps its main action beside the
menu. The top bar has a Menu button for a phone, and the gallery a Filters button saying how many apply."""

from __future__ import annotations

import re

from sorastudio.studio.models import Generation, State
from sorastudio.upstream.errors import REFUSAL_CODE
from tests.helpers import INDEX, GalleryTestCase


class CardMenuTests(GalleryTestCase):
    def card(self, generation: Generation, html: str | None = None) -> str:
        html = html if html is not None else self.client.get(INDEX).content.decode()
        card = html[html.index(f'id="card-{generation.pk}"') :]
        return card[: card.index("</article>")]

    @staticmethod
    def split(card: str) -> tuple[str, str]:
        """What the card's actions show (before the menu), and what its menu holds."""
        actions = card[card.index('<div class="actions">') :]
        start, end = actions.index('<details class="card-menu"'), actions.index("</details>")
        return actions[:start], actions[start:end]

    def test_it_puts_every_action_of_a_finished_video_in_its_menu(self) -> None:
        video = self.make("A paper boat")
        shown, menu = self.split(self.card(video))
        self.assertNotIn("<a", shown.removeprefix('<div class="actions">'))
        self.assertNotIn("<button", shown)
        for action in (">Download</a>", ">Re-run</button>", ">Edit & retry</a>", ">Delete</button>"):
            self.assertIn(action, menu)
        self.assertIn('<span class="visually-hidden">Actions for “A paper boat”</span>', menu)

    def test_it_offers_delete_in_the_menu_only_to_whom_may_delete(self) -> None:
        video = self.make("A paper boat", by=self.dana)
        for user, offered in ((self.alice, False), (self.bob, False), (self.dana, True)):
            with self.subTest(user.username):
                self.client.force_login(user)
                _, menu = self.split(self.card(video))
                self.assertIn(">Re-run</button>", menu)
                self.assertEqual(">Delete</button>" in menu, offered)

    def test_it_keeps_the_main_action_of_a_failure_beside_its_menu(self) -> None:
        refused = self.make("A real person", state=State.FAILED, error_code=REFUSAL_CODE)
        failed = self.make("A kite", state=State.FAILED, error_code="api_error")
        html = self.client.get(INDEX).content.decode()
        shown, menu = self.split(self.card(refused, html))
        self.assertIn(">Edit & retry</a>", shown)
        self.assertIn(">Re-run</button>", menu)
        self.assertNotIn("Edit & retry", menu)
        shown, menu = self.split(self.card(failed, html))
        self.assertIn(">Re-run</button>", shown)
        self.assertIn(">Edit & retry</a>", menu)
        self.assertNotIn("Re-run", menu)

    def test_it_offers_no_menu_on_a_video_being_made(self) -> None:
        live = self.make("A paper boat", state=State.RUNNING)
        self.assertNotIn("card-menu", self.card(live))

    def test_it_shows_no_template_comment_in_a_failure_card(self) -> None:
        failed = self.make("A kite", state=State.FAILED, error_code="api_error", trace_id="t-1")
        card = self.card(failed)
        self.assertNotIn("{#", card)
        self.assertNotIn("#}", card)


class TopBarAndFiltersTests(GalleryTestCase):
    def test_it_puts_the_top_bar_but_its_name_and_bell_behind_a_menu_button(self) -> None:
        html = self.client.get(INDEX).content.decode()
        bar = html[html.index('<header class="topbar has-menu">') : html.index("</header>")]
        menu = bar[bar.index('<div class="topbar-menu" id="topbar-menu">') : bar.index('id="bell"')]
        for part in ('id="language-select"', '<nav class="account">', "Log out"):
            self.assertIn(part, menu)
        self.assertRegex(
            bar, r'<button type="button" class="menu-toggle" data-menu-toggle aria-controls="topbar-menu"'
        )

    def test_it_has_no_menu_button_for_someone_not_logged_in(self) -> None:
        self.client.logout()
        html = self.client.get("/accounts/login/").content.decode()
        self.assertNotIn("data-menu-toggle", html)

    def test_it_counts_the_filters_that_apply_on_the_filters_button(self) -> None:
        for query, count in (
            ("", None),
            ("?state=failed", "1"),
            ("?state=failed&author=mine&favourites=on", "3"),
        ):
            with self.subTest(query):
                html = self.client.get(INDEX + query).content.decode()
                found = re.search(
                    r"<span class=\"filters-count\" data-filters-count( hidden)?>(\d+)</span>", html
                )
                assert found is not None
                self.assertEqual(found[2] if not found[1] else None, count)
