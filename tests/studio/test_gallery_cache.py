"""The gallery's kept HTML: a finished card, and the filters' fields, are rendered once and used again while
nothing they show has changed. Each test primes the cache, changes one thing a card or the filters show (by
an UPDATE that no save() hook sees, as the queue's tasks do), and reads the page again."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from sorastudio.billing import costs
from sorastudio.studio.gallery import GalleryFilters
from sorastudio.studio.models import CARD_FLAGS, Comment, Favourite, Generation, ReviewState, State
from sorastudio.studio.templatetags.studio_tags import TOKEN_STAND_IN
from sorastudio.teams.models import Membership
from tests.helpers import INDEX, GalleryTestCase


def card_of(video: Generation, page: str) -> str:
    found = re.search(rf'<article class="card[^"]*" id="card-{video.pk}".*?</article>', page, re.S)
    assert found, f"no card for {video.pk}"
    return found.group(0)


class KeptCardTests(GalleryTestCase):
    def card(self, video: Generation, client: Client | None = None, language: str = "en") -> str:
        page = (client or self.client).get(INDEX, headers={"Accept-Language": language})
        return card_of(video, page.content.decode())

    def test_it_uses_a_kept_card_again(self) -> None:
        # Two days old: "2 days ago" reads the same for a day (a new video's "8 seconds ago" would not).
        video = self.make("A paper boat", ago=timedelta(days=2))
        first = self.card(video)
        with mock.patch("sorastudio.studio.templatetags.studio_tags._render_card") as render:
            again = self.card(video)
        render.assert_not_called()
        tokens = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
        self.assertEqual(tokens.sub("", first), tokens.sub("", again))

    def test_it_shows_whatever_changed_in_a_kept_card(self) -> None:
        changes: list[tuple[str, dict[str, Any], str]] = [
            ("review", {"review_state": ReviewState.APPROVED}, "review-approved"),
            ("prompt", {"prompt": "A glass whale"}, "A glass whale"),
            ("poster", {"poster": ""}, 'class="no-poster"'),
            ("length", {"video_duration": 75.0}, '<span class="duration" aria-hidden="true">1:15</span>'),
            ("failure", {"state": State.FAILED, "error_code": "content_policy"}, 'class="failure"'),
        ]
        for name, fields, shown in changes:
            with self.subTest(name):
                video = self.make("A paper boat")
                self.assertNotIn(shown, self.card(video))
                Generation.objects.filter(pk=video.pk).update(**fields)
                self.assertIn(shown, self.card(video))

    def test_it_shows_new_comments_favourites_and_names(self) -> None:
        video = self.make("A paper boat", by=self.bob)
        before = self.card(video)
        self.assertIn('aria-pressed="false"', before)
        Comment.objects.create(generation=video, author=self.dana, body="Too dark")
        Favourite.objects.create(user=self.alice, generation=video)
        get_user_model().objects.filter(pk=self.bob.pk).update(username="robert")
        after = self.card(video)
        self.assertIn("1 open comment", after)
        self.assertIn('aria-pressed="true"', after)
        self.assertIn("robert · <time", after)

    def test_it_keys_every_flag_the_gallery_reads(self) -> None:
        cards = costs.with_charges(Generation.objects.for_cards().with_flags_for(self.alice))
        flags = cards.query.annotations
        self.assertEqual(set(flags), set(CARD_FLAGS))

    def test_it_says_how_long_ago_as_of_now(self) -> None:
        video = self.make("A paper boat", ago=timedelta(hours=5))
        self.assertIn(">5\xa0hours ago</time>", self.card(video))

        class ThreeDaysOn(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:
                return datetime.now(tz) + timedelta(days=3)

        with mock.patch("django.contrib.humanize.templatetags.humanize.datetime", ThreeDaysOn):
            self.assertIn(">3\xa0days, 5\xa0hours ago</time>", self.card(video))

    def test_it_renders_a_live_card_every_time(self) -> None:
        # The clock is held still: on a busy machine the first render can come a second or more after setUp.
        now = self.now
        with mock.patch("django.utils.timezone.now", return_value=now):
            video = self.make("Still going", state=State.RUNNING, ago=timedelta(seconds=10))
            self.assertIn('<span class="elapsed">0:10</span>', self.card(video))
        with mock.patch("django.utils.timezone.now", return_value=now + timedelta(minutes=1)):
            self.assertIn('<span class="elapsed">1:10</span>', self.card(video))

    def test_it_offers_delete_by_who_is_looking(self) -> None:
        video = self.make("Alice's boat")
        delete = f'action="{reverse("studio:delete", args=[video.pk])}"'
        self.assertIn(delete, self.card(video))
        self.assertNotIn(delete, self.card(video, self.as_(self.bob)))
        self.assertIn(delete, self.card(video, self.as_(self.dana)))

    def test_it_speaks_the_viewers_language(self) -> None:
        # (The "how long ago" in the key is in the page's language too: either keeps languages apart.)
        video = self.make("A paper boat")
        self.assertIn(">Download</a>", self.card(video))
        self.assertIn(">下载</a>", self.card(video, language="zh-CN,zh;q=0.9"))
        self.assertIn(">Download</a>", self.card(video))

    def test_it_never_keeps_a_viewers_csrf_token(self) -> None:
        video = self.make("A paper boat")
        self.card(video)  # kept, as alice saw it
        bob = Client(enforce_csrf_checks=True)
        bob.force_login(self.bob)
        card = self.card(video, bob)
        self.assertNotIn(TOKEN_STAND_IN, card)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', card)
        assert token
        favourite = reverse("studio:favourite", args=[video.pk])
        response = bob.post(favourite, {"csrfmiddlewaretoken": token.group(1)})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(Favourite.objects.filter(user=self.bob, generation=video).exists())


class KeptFiltersTests(GalleryTestCase):
    def test_it_uses_the_kept_filters_again(self) -> None:
        first = self.client.get(INDEX, {"state": "ready", "q": "boat"}).content.decode()
        with mock.patch("django.forms.boundfield.BoundField.as_widget") as render:
            again = self.client.get(INDEX, {"state": "ready", "q": "boat"}).content.decode()
        render.assert_not_called()
        filters = re.compile(r'<form id="filters".*?</form>', re.S)
        self.assertEqual(filters.findall(first), filters.findall(again))

    def test_it_keys_two_alike_forms_alike(self) -> None:
        membership = Membership.objects.get(user=self.bob, team=self.studio)
        asked = QueryDict("state=ready&q=boat")
        one, two = (GalleryFilters(asked, membership=membership) for _ in range(2))
        self.assertEqual(one.fingerprint, two.fingerprint)
        other = GalleryFilters(QueryDict("q=boat"), membership=membership)
        self.assertNotEqual(one.fingerprint, other.fingerprint)

    def test_it_shows_the_filters_asked_for(self) -> None:
        for state in ("failed", "ready", "failed"):
            with self.subTest(state):
                page = self.client.get(INDEX, {"state": state}).content.decode()
                self.assertIn(f'<option value="{state}" selected>', page)

    def test_it_shows_each_date_error_only_where_it_applies(self) -> None:
        wrong = self.client.get(INDEX, {"date_from": "2026-05-02", "date_to": "2026-05-01"})
        self.assertContains(wrong, "This date is before the “From” date.")
        right = self.client.get(INDEX, {"date_from": "2026-05-01", "date_to": "2026-05-02"})
        self.assertNotContains(right, "This date is before the “From” date.")

    def test_it_offers_the_review_queue_to_reviewers_only(self) -> None:
        waiting = '<option value="waiting">Waiting for my review</option>'
        self.assertNotContains(self.client.get(INDEX), waiting)
        self.assertContains(self.as_(self.bob).get(INDEX), waiting)
        self.assertNotContains(self.client.get(INDEX), waiting)
