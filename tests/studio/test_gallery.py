"""The team gallery: pages by cursor, the filters in the address, the htmx fragments, the cards, and a number
of SQL queries that does not grow with the number of videos."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sorastudio.studio import presenters
from sorastudio.studio.models import (
    Comment,
    Favourite,
    Generation,
    ReviewState,
    State,
)
from tests.helpers import INDEX, GalleryTestCase

VIEW = reverse("studio:gallery_view")
CARD = re.compile(r'<article class="card[^"]*" id="card-([0-9a-f-]{36})"')
HTMX_VIEW = {"HX-Request": "true", "HX-Target": "gallery-view"}
HTMX_MORE = {"HX-Request": "true", "HX-Target": "gallery-more"}


def cards(response: Any) -> list[str]:
    """The ids of the cards a page or fragment shows, in order."""
    return CARD.findall(response.content.decode())


def more_link(response: Any) -> str:
    found = re.search(r'id="gallery-more"[^>]*href="([^"]+)"', response.content.decode())
    assert found, "no More link"
    return html.unescape(found.group(1))


def hx_more_link(response: Any) -> str:
    """The address the More link asks htmx for (its href is for browsers without scripts)."""
    found = re.search(r'id="gallery-more"[^>]*hx-get="([^"]+)"', response.content.decode())
    assert found, "no More link"
    return html.unescape(found.group(1))


def errors_of(response: Any, field: str) -> str:
    """The text of the messages beside one filter."""
    found = re.search(rf'id="filter-{field}-errors"[^>]*>(.*?)</div>', response.content.decode(), re.S)
    assert found, f"no message area for {field}"
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip()


class PagingTests(GalleryTestCase):
    def test_it_shows_the_newest_24_and_the_more_link_brings_the_rest(self) -> None:
        made = [self.make(f"Clip {n}", ago=timedelta(minutes=n)) for n in range(30)]
        first = self.client.get(INDEX)
        self.assertEqual(cards(first), [str(g.pk) for g in made[:24]])

        rest = self.client.get(hx_more_link(first), headers=HTMX_MORE)
        self.assertEqual(cards(rest), [str(g.pk) for g in made[24:]])
        self.assertNotContains(rest, "gallery-more")
        self.assertNotContains(rest, "<html")

    def test_it_never_splits_the_variations_of_one_submit_across_pages(self) -> None:
        newer = [self.make(f"Single {n}", ago=timedelta(minutes=n)) for n in range(22)]
        group = uuid.uuid4()
        # Made one after the other by one submit: rows 23 to 26 newest first, across the page's edge.
        takes = [
            self.make("Four takes", ago=timedelta(minutes=30, seconds=-n), group=group, variation=n)
            for n in range(1, 5)
        ]
        older = [self.make(f"Older {n}", ago=timedelta(hours=1, minutes=n)) for n in range(5)]

        first = self.client.get(INDEX)
        shown = cards(first)
        self.assertEqual(shown[:22], [str(g.pk) for g in newer])
        self.assertEqual(shown[22:], [str(g.pk) for g in takes])  # one group card, variations in order
        self.assertContains(first, 'class="group-card"', count=1)

        rest = self.client.get(hx_more_link(first), headers=HTMX_MORE)
        self.assertEqual(cards(rest), [str(g.pk) for g in older])

    def test_the_cursor_is_opaque_and_a_tampered_one_starts_from_the_newest(self) -> None:
        made = [self.make(f"Clip {n}", ago=timedelta(minutes=n)) for n in range(26)]
        link = more_link(self.client.get(INDEX))
        self.assertNotIn(str(made[23].pk), link)
        self.assertNotIn(made[23].pk.hex, link)
        self.assertNotIn(str(made[23].created_at.year), link)

        for cursor in ("not-a-cursor", "bm90fGF8Y3Vyc29y", "!!!"):
            with self.subTest(cursor=cursor):
                response = self.client.get(INDEX, {"cursor": cursor})
                self.assertEqual(cards(response)[0], str(made[0].pk))

    def test_more_without_scripts_is_a_page_of_its_own_with_the_way_back(self) -> None:
        made = [self.make(f"Clip {n}", ago=timedelta(minutes=n)) for n in range(26)]
        first = self.client.get(INDEX, {"state": "ready"})
        link = more_link(first)
        self.assertIn("state=ready", link)
        self.assertNotContains(first, "Back to the newest")

        second = self.client.get(link)
        self.assertContains(second, "<html")
        self.assertEqual(cards(second), [str(g.pk) for g in made[24:]])
        self.assertContains(second, 'href="/?state=ready">Back to the newest</a>')

    def test_a_video_of_another_team_never_shows(self) -> None:
        mine = self.make("Ours")
        self.make("Theirs", by=self.carol, team=self.agency)
        self.assertEqual(cards(self.client.get(INDEX)), [str(mine.pk)])


class FilterTests(GalleryTestCase):
    def setUp(self) -> None:
        super().setUp()
        march = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
        self.fox = self.make(
            "A red fox in the snow", review_state=ReviewState.APPROVED, created_at=march, reviewed_by=self.bob
        )
        self.boat = self.make("A paper boat", by=self.bob, state=State.FAILED, provider="sora2api")
        self.cub = self.make(
            "A fox cub at dawn", state=State.RUNNING, model="sora-2-pro", ago=timedelta(hours=1)
        )
        self.lighthouse = self.make(
            "A lighthouse at night",
            by=self.dana,
            review_state=ReviewState.IN_REVIEW,
            created_at=march - timedelta(days=5),
        )
        self.tram = self.make(
            "A tram in the rain", review_state=ReviewState.CHANGES_REQUESTED, ago=timedelta(days=1)
        )
        # In review, but asked of dana alone: not waiting for bob.
        self.kite = self.make(
            "A kite", review_state=ReviewState.IN_REVIEW, review_requested_of=self.dana, ago=timedelta(days=2)
        )
        self.timed_out = self.make("A clock", state=State.TIMED_OUT, ago=timedelta(days=3))

    def shown(self, response: Any) -> set[str]:
        self.assertEqual(response.status_code, 200)
        return set(cards(response))

    def ids(self, *videos: Generation) -> set[str]:
        return {str(v.pk) for v in videos}

    def test_it_filters_by_state(self) -> None:
        cases = {
            "ready": (self.fox, self.lighthouse, self.tram, self.kite),
            "in_progress": (self.cub,),
            "failed": (self.boat, self.timed_out),
        }
        for state, expected in cases.items():
            with self.subTest(state=state):
                self.assertEqual(self.shown(self.client.get(INDEX, {"state": state})), self.ids(*expected))

    def test_it_filters_by_review_state(self) -> None:
        response = self.client.get(INDEX, {"review": "in_review"})
        self.assertEqual(self.shown(response), self.ids(self.lighthouse, self.kite))
        self.assertEqual(self.shown(self.client.get(INDEX, {"review": "approved"})), self.ids(self.fox))

    def test_it_filters_by_service_and_model(self) -> None:
        cases = {
            "sora2api/sora-2": (self.boat,),
            "acedata/sora-2-pro": (self.cub,),
            "acedata/sora-2": (self.fox, self.lighthouse, self.tram, self.kite, self.timed_out),
        }
        for service, expected in cases.items():
            with self.subTest(service=service):
                response = self.client.get(INDEX, {"service": service})
                self.assertEqual(self.shown(response), self.ids(*expected))

    def test_it_shows_mine_or_everyones(self) -> None:
        mine = (self.fox, self.cub, self.tram, self.kite, self.timed_out)
        self.assertEqual(self.shown(self.client.get(INDEX, {"author": "mine"})), self.ids(*mine))
        everyone = self.shown(self.client.get(INDEX, {"author": ""}))
        self.assertEqual(everyone, self.ids(*mine, self.boat, self.lighthouse))
        self.assertEqual(self.shown(self.as_(self.bob).get(INDEX, {"author": "mine"})), self.ids(self.boat))

    def test_it_filters_by_dates_each_day_whole(self) -> None:
        cases = [
            ({"date_from": "2025-03-05", "date_to": "2025-03-10"}, (self.fox, self.lighthouse)),
            ({"date_to": "2025-03-05"}, (self.lighthouse,)),
            ({"date_from": "2025-03-10", "date_to": "2025-03-10"}, (self.fox,)),
            ({"date_from": "2025-03-06", "date_to": "2025-03-09"}, ()),
        ]
        for params, expected in cases:
            with self.subTest(**params):
                self.assertEqual(self.shown(self.client.get(INDEX, params)), self.ids(*expected))

    def test_it_shows_only_my_favourites(self) -> None:
        Favourite.objects.create(user=self.alice, generation=self.fox)
        Favourite.objects.create(user=self.alice, generation=self.boat)
        Favourite.objects.create(user=self.bob, generation=self.tram)
        response = self.client.get(INDEX, {"favourites": "on"})
        self.assertEqual(self.shown(response), self.ids(self.fox, self.boat))
        self.assertEqual(self.shown(self.as_(self.bob).get(INDEX, {"favourites": "1"})), self.ids(self.tram))

    def test_it_searches_the_prompts_for_every_word_in_any_case(self) -> None:
        self.assertEqual(self.shown(self.client.get(INDEX, {"q": "fox"})), self.ids(self.fox, self.cub))
        self.assertEqual(self.shown(self.client.get(INDEX, {"q": "  FOX   dawn "})), self.ids(self.cub))
        self.assertEqual(self.shown(self.client.get(INDEX, {"q": "100%_"})), set())

    def test_it_shows_a_reviewer_what_waits_for_their_review(self) -> None:
        waiting = self.as_(self.bob).get(INDEX, {"view": "waiting"})
        self.assertEqual(self.shown(waiting), self.ids(self.lighthouse))
        self.assertEqual(self.shown(self.as_(self.dana).get(INDEX, {"view": "waiting"})), self.ids(self.kite))

    def test_waiting_for_my_review_is_not_offered_to_a_creator(self) -> None:
        page = self.client.get(INDEX)
        self.assertNotContains(page, "Waiting for my review")
        self.assertContains(self.as_(self.bob).get(INDEX), "Waiting for my review")
        refused = self.client.get(INDEX, {"view": "waiting"})
        self.assertIn("Select a valid choice", errors_of(refused, "view"))
        self.assertEqual(len(cards(refused)), 7)

    def test_it_shows_a_creator_what_came_back_to_them(self) -> None:
        self.assertEqual(
            self.shown(self.client.get(INDEX, {"view": "came_back"})), self.ids(self.fox, self.tram)
        )
        self.assertEqual(self.shown(self.as_(self.dana).get(INDEX, {"view": "came_back"})), set())

    def test_filters_combine(self) -> None:
        Favourite.objects.create(user=self.alice, generation=self.tram)
        params = {
            "review": "changes_requested",
            "author": "mine",
            "q": "rain",
            "favourites": "1",
            "state": "ready",
        }
        self.assertEqual(self.shown(self.client.get(INDEX, params)), self.ids(self.tram))

    def test_it_filters_by_dates_typed_in_the_studio_format_and_shows_them_so(self) -> None:
        response = self.client.get(INDEX, {"date_from": "10 Mar 2025", "date_to": "10 March 2025"})
        self.assertEqual(self.shown(response), self.ids(self.fox))
        self.assertContains(response, 'value="10 Mar 2025"', count=2)
        from_address = self.client.get(INDEX, {"date_from": "2025-03-10"})
        self.assertContains(from_address, 'value="10 Mar 2025"')
        typed = {"date_from": "2025年3月10日", "date_to": "2025-03-10"}
        chinese = self.client.get(INDEX, typed, headers={"accept-language": "zh-hans"})
        self.assertEqual(self.shown(chinese), self.ids(self.fox))
        self.assertContains(chinese, 'value="2025年3月10日"', count=2)

    def test_an_invalid_value_gets_a_message_by_its_field_and_the_other_filters_still_apply(self) -> None:
        response = self.client.get(
            INDEX, {"date_from": "2025-13-45", "state": "sparkling", "review": "maybe", "q": "fox"}
        )
        self.assertEqual(self.shown(response), self.ids(self.fox, self.cub))
        self.assertIn("Enter a valid date", errors_of(response, "date_from"))
        self.assertIn("Select a valid choice", errors_of(response, "state"))
        self.assertIn("Select a valid choice", errors_of(response, "review"))
        self.assertEqual(errors_of(response, "q"), "")
        self.assertContains(response, 'value="fox"')  # what was typed is kept

    def test_an_end_before_the_start_is_refused_and_the_start_still_applies(self) -> None:
        response = self.client.get(INDEX, {"date_from": "2025-03-10", "date_to": "2025-03-01"})
        self.assertIn("before the “From” date", errors_of(response, "date_to"))
        self.assertNotIn(str(self.lighthouse.pk), self.shown(response))
        self.assertIn(str(self.fox.pk), self.shown(response))

    def test_no_match_says_so_with_a_way_to_clear_the_filters(self) -> None:
        response = self.client.get(INDEX, {"q": "zebra"})
        self.assertEqual(cards(response), [])
        self.assertContains(response, "No videos match these filters.")
        self.assertContains(response, '<a href="/">Clear the filters</a>')
        self.assertNotContains(response, "No videos yet")

    def test_the_form_shows_the_filters_of_the_address(self) -> None:
        response = self.client.get(INDEX, {"state": "failed", "q": "boat", "favourites": "1"})
        self.assertContains(response, '<option value="failed" selected>')
        self.assertContains(response, 'value="boat"')
        self.assertRegex(response.content.decode(), r'name="favourites"[^>]* checked')


class FragmentTests(GalleryTestCase):
    def test_htmx_gets_the_grid_alone_and_the_address_to_push(self) -> None:
        boat = self.make("A paper boat")
        self.make("A fox", state=State.FAILED)
        response = self.client.get(
            VIEW, {"q": "boat", "state": "ready", "review": "", "date_from": ""}, headers=HTMX_VIEW
        )
        body = response.content.decode()
        self.assertTrue(body.lstrip().startswith('<div id="gallery-view"'))
        self.assertNotIn("<html", body)
        self.assertNotIn('id="compose"', body)
        self.assertNotIn('id="filters"', body)  # the fields being typed in are not replaced
        self.assertEqual(cards(response), [str(boat.pk)])
        self.assertEqual(response["HX-Push-Url"], "/?q=boat&state=ready")

    def test_htmx_brings_each_filters_messages_out_of_band(self) -> None:
        response = self.client.get(
            VIEW, {"date_from": "2025-03-10", "date_to": "2025-03-01"}, headers=HTMX_VIEW
        )
        self.assertRegex(
            response.content.decode(), r'id="filter-date_to-errors" hx-swap-oob="true"><p class="error">'
        )
        self.assertContains(response, 'id="filter-q-errors" hx-swap-oob="true"></div>')
        self.assertEqual(response["HX-Push-Url"], "/?date_from=2025-03-10")

    def test_the_address_to_push_has_iso_dates_whatever_format_was_typed(self) -> None:
        response = self.client.get(
            VIEW, {"date_from": "1 Mar 2025", "date_to": "10 March 2025"}, headers=HTMX_VIEW
        )
        self.assertEqual(response["HX-Push-Url"], "/?date_from=2025-03-01&date_to=2025-03-10")

    def test_a_full_page_has_no_out_of_band_parts(self) -> None:
        self.assertNotContains(self.client.get(INDEX, {"state": "ready"}), "hx-swap-oob")

    def test_back_and_forward_get_the_whole_page_for_the_address(self) -> None:
        self.make("A paper boat")
        headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
        response = self.client.get(INDEX, {"state": "ready"}, headers=headers)
        self.assertContains(response, "<html")
        self.assertContains(response, '<option value="ready" selected>')
        self.assertContains(response, 'hx-history="false"')


class CardTests(GalleryTestCase):
    def test_a_finished_card_shows_its_poster_and_opens_the_video_page(self) -> None:
        video = self.make("A paper boat", video_duration=12.0)
        page = self.client.get(INDEX).content.decode()
        self.assertIn(
            f'<a class="poster" href="{video.get_absolute_url()}" '
            f'data-preview="{reverse("studio:video", args=[video.pk])}">',
            page,
        )
        self.assertIn(f'<img src="{reverse("studio:poster", args=[video.pk])}" loading="lazy"', page)
        self.assertIn('alt="Video: A paper boat"', page)
        self.assertIn("0:12", page)
        self.assertNotIn("<video", page)  # not loaded until someone wants to watch it

    def test_a_card_shows_its_review_state_author_and_open_comments(self) -> None:
        video = self.make("A paper boat", by=self.bob, review_state=ReviewState.CHANGES_REQUESTED)
        self.make("A new one")
        for body in ("Too dark", "Slower"):
            Comment.objects.create(generation=video, author=self.dana, body=body)
        Comment.objects.create(generation=video, author=self.dana, body="Done", resolved_at=timezone.now())
        page = self.client.get(INDEX)
        self.assertContains(
            page, '<span class="badge review-state review-changes_requested">Changes requested</span>'
        )
        self.assertContains(page, 'class="badge review-state', count=1)  # a new video has no badge
        self.assertContains(page, "2 open comments")
        self.assertContains(page, "bob · <time")

    def test_each_person_sees_their_own_favourites(self) -> None:
        video = self.make("A paper boat")
        Favourite.objects.create(user=self.bob, generation=video)
        self.assertContains(self.client.get(INDEX), 'aria-pressed="false"')
        self.assertContains(self.as_(self.bob).get(INDEX), 'aria-pressed="true"')

    def test_delete_is_offered_to_the_maker_and_the_admins_only(self) -> None:
        alices = self.make("Alice's boat")
        bobs = self.make("Bob's boat", by=self.bob)
        self.make("Still going", state=State.RUNNING)
        delete = reverse("studio:delete", args=[alices.pk])
        others = reverse("studio:delete", args=[bobs.pk])
        as_alice = self.client.get(INDEX)
        self.assertContains(as_alice, f'action="{delete}"')
        self.assertNotContains(as_alice, f'action="{others}"')
        as_dana = self.as_(self.dana).get(INDEX)
        self.assertContains(as_dana, f'action="{delete}"')
        self.assertContains(as_dana, f'action="{others}"')
        self.assertContains(as_dana, 'class="danger"', count=2)  # none on the live card

    def test_a_group_card_links_its_variations_to_the_compare_page(self) -> None:
        group = uuid.uuid4()
        takes = [self.make("Two takes", group=group, variation=n, ago=timedelta(seconds=-n)) for n in (1, 2)]
        page = self.client.get(INDEX)
        compare = f"{reverse('studio:compare')}?ids={takes[0].pk}&amp;ids={takes[1].pk}"
        self.assertContains(page, f'<a class="button" href="{compare}">Compare</a>')
        self.assertNotContains(page, "Play all together")

    def test_every_card_can_be_selected_for_the_toolbar(self) -> None:
        videos = [self.make("A paper boat"), self.make("A fox", state=State.FAILED)]
        page = self.client.get(INDEX)
        for video in videos:
            self.assertContains(page, f'name="ids" value="{video.pk}" form="selection"')
        self.assertContains(page, f'formaction="{reverse("studio:download_zip")}"')
        self.assertContains(page, f'formaction="{reverse("studio:bulk_delete")}"')
        self.assertContains(
            page, f'<form id="selection" class="selection" method="get" action="{reverse("studio:compare")}"'
        )

    def test_the_trash_is_linked_for_admins(self) -> None:
        trash = f'<a href="{reverse("studio:trash")}">Trash</a>'
        self.assertNotContains(self.client.get(INDEX), trash)
        self.assertNotContains(self.as_(self.bob).get(INDEX), trash)
        self.assertContains(self.as_(self.dana).get(INDEX), trash)


class QueryCountTests(GalleryTestCase):
    """Every card shows per-person and counted facts (favourite, open comments, author, progress): they come
    with the page's one query, so the count stays the same for 4 videos (one card of each kind) and for 40."""

    def add_videos(self, count: int, start: int = 0) -> None:
        kinds = [("sora-2", 10), ("sora-2-pro", 15), ("sora-2", 4), ("sora-2-pro", 25)]
        for n in range(start, start + count):
            fields: dict[str, Any] = {
                "by": (self.alice, self.bob, self.dana)[n % 3],
                "ago": timedelta(minutes=n),
            }
            # Every kind of card among the first four: ready, being made, failed, waiting in the queue.
            fields["state"] = (State.SUCCEEDED, State.RUNNING, State.FAILED, State.QUEUED)[n % 4]
            if fields["state"] in (State.RUNNING, State.QUEUED):
                fields["model"], fields["duration"] = kinds[n % len(kinds)]
                fields["simulated"] = n % 8 == 1
            if fields["state"] == State.FAILED:
                fields.update(error_code="api_error", error_message="Internal error")
            if n % 5 == 2:
                fields["review_state"] = ReviewState.IN_REVIEW
            if n % 7 == 3:
                fields.update(group=uuid.uuid4(), variation=1)
            video = self.make(f"Clip {n} of the rain", **fields)
            if n % 5 != 4:
                Favourite.objects.create(user=self.alice, generation=video)
            if n % 2 == 0:
                Comment.objects.create(generation=video, author=self.bob, body="Nice")

    def queries(self, params: dict[str, str] | None = None) -> list[str]:
        presenters._TYPICAL_CACHE.clear()  # as cold as a page can be: every live card's kind to be looked up
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(INDEX, params or {})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(cards(response))
        return [query["sql"] for query in queries.captured_queries]

    def assertSameCount(self, few: list[str], many: list[str]) -> None:
        self.assertEqual(len(many), len(few), "\n".join(["with 40 videos:", *many]))

    def test_the_first_page_costs_the_same_for_4_and_for_40_videos(self) -> None:
        self.add_videos(4)
        few = self.queries()
        self.add_videos(36, start=4)
        self.assertSameCount(few, self.queries())

    def test_a_filtered_page_costs_the_same_for_4_and_for_40_videos(self) -> None:
        params = {"q": "rain", "favourites": "1", "author": "", "state": "", "date_from": "2000-01-01"}
        self.add_videos(4)
        few = self.queries(params)
        self.add_videos(36, start=4)
        self.assertSameCount(few, self.queries(params))

    def test_the_next_page_costs_the_same_as_the_first(self) -> None:
        self.add_videos(60)
        first = self.client.get(INDEX)
        presenters._TYPICAL_CACHE.clear()
        with CaptureQueriesContext(connection) as queries:
            self.client.get(hx_more_link(first), headers=HTMX_MORE)
        presenters._TYPICAL_CACHE.clear()
        with CaptureQueriesContext(connection) as first_queries:
            self.client.get(VIEW, headers=HTMX_VIEW)
        self.assertEqual(len(queries), len(first_queries))


class CardRightsTests(GalleryTestCase):
    """Each card says what the viewer may do with it, so that neither it nor the selection toolbar offers
    what the server would refuse."""

    PICK = re.compile(
        r'<input type="checkbox" name="ids" value="([0-9a-f-]{36})" form="selection" data-pick([^>]*)>'
    )

    def picks(self, client: Client) -> dict[str, str]:
        return dict(self.PICK.findall(client.get(INDEX).content.decode()))

    def test_only_the_videos_the_viewer_may_delete_are_marked_deletable(self) -> None:
        alices = self.make("A red fox", by=self.alice)
        bobs = self.make("A paper boat", by=self.bob, state=State.FAILED)
        live = self.make("A lighthouse", by=self.bob, state=State.RUNNING)
        for viewer, deletable in ((self.bob, {bobs}), (self.alice, {alices}), (self.dana, {alices, bobs})):
            with self.subTest(viewer=viewer.username):
                picks = self.picks(self.as_(viewer))
                for video in (alices, bobs, live):
                    self.assertEqual(
                        "data-deletable" in picks[str(video.pk)], video in deletable, video.prompt
                    )
                self.assertIn("data-ready", picks[str(alices.pk)])
                self.assertNotIn("data-ready", picks[str(bobs.pk)])

    def test_the_card_offers_delete_only_to_who_may(self) -> None:
        alices = self.make("A red fox", by=self.alice)
        delete = f'action="{reverse("studio:delete", args=[alices.pk])}"'
        self.assertNotContains(self.as_(self.bob).get(INDEX), delete)
        self.assertContains(self.as_(self.alice).get(INDEX), delete)
        self.assertContains(self.as_(self.dana).get(INDEX), delete)
