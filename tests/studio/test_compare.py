"""The compare page: two to four of the team's finished videos side by side, and the links to it from a
video's page (its variations, its original, its re-runs)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.urls import reverse

from sorastudio.studio.models import Generation, State
from tests.helpers import TeamTestCase, make_finished


def compare_url(*videos: Any) -> str:
    return reverse("studio:compare") + "?" + "&".join(f"ids={getattr(v, 'pk', v)}" for v in videos)


class CompareTests(TeamTestCase):
    def setUp(self) -> None:
        self.first = make_finished(self.studio, self.alice, "A kite over the dunes")
        self.second = make_finished(self.studio, self.bob, "A kite over the sea")
        self.client.force_login(self.alice)

    def test_it_puts_the_videos_side_by_side(self) -> None:
        self.second.ask_for_review(self.bob)
        third = make_finished(self.studio, self.alice, "A kite over the town")
        response = self.client.get(compare_url(self.first, self.second, third))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'data-count="3"')
        self.assertContains(response, "data-compare-video", count=3)
        for video in (self.first, self.second, third):
            self.assertContains(response, f'src="{reverse("studio:video", args=[video.pk])}"')
            self.assertContains(response, f'href="{video.get_absolute_url()}"')
            self.assertContains(response, video.prompt)
        self.assertContains(response, "bob, ")
        self.assertContains(response, '<span class="badge review-state review-in_review">In review</span>')
        self.assertContains(response, 'max="10.00"')

    def test_it_compares_two_to_four_videos(self) -> None:
        more = [make_finished(self.studio, self.alice, f"Kite {n}") for n in range(3)]
        for videos in ([self.first], [self.first, self.first], [self.first, self.second, *more]):
            with self.subTest(count=len(videos)):
                response = self.client.get(compare_url(*videos))
                self.assertContains(response, "Choose two to four videos to compare.", status_code=400)
                self.assertNotContains(response, "data-compare-video", status_code=400)
        self.assertEqual(self.client.get(compare_url(self.first, self.second, *more[:2])).status_code, 200)

    def test_it_compares_only_finished_videos(self) -> None:
        Generation.objects.filter(pk=self.second.pk).update(state=State.RUNNING)
        response = self.client.get(compare_url(self.first, self.second))
        self.assertContains(response, "“A kite over the sea” is not ready.", status_code=400)

    def test_a_video_that_is_not_the_teams_is_not_found(self) -> None:
        foreign = make_finished(self.agency, self.carol, "Agency's kite")
        trashed = make_finished(self.studio, self.alice, "An old draft")
        trashed.soft_delete(self.alice)
        for other in (foreign, trashed, uuid.uuid4(), "not-an-id"):
            with self.subTest(other=str(other)):
                self.assertEqual(self.client.get(compare_url(self.first, other)).status_code, 404)

    def titles(self, *videos: Generation) -> list[str]:
        """The compared videos' column titles, in order."""
        response = self.client.get(compare_url(*videos))
        self.assertEqual(response.status_code, 200)
        return re.findall(
            r'<h2 class="compare-title" id="compare-title-\d">([^<]*)</h2>', response.content.decode()
        )

    def test_each_variation_is_titled_by_its_place_in_the_submit(self) -> None:
        group = uuid.uuid4()
        prompt = "A kite over the dunes"
        variations = [
            make_finished(self.studio, self.alice, prompt, group=group, variation=n) for n in (1, 2, 3)
        ]
        self.assertEqual(
            self.titles(*variations), ["Variation 1 of 3", "Variation 2 of 3", "Variation 3 of 3"]
        )
        # Counted over the whole submit, even when only some are compared.
        self.assertEqual(self.titles(variations[2], variations[0]), ["Variation 3 of 3", "Variation 1 of 3"])

    def test_a_rerun_and_its_original_are_titled_as_such(self) -> None:
        again = make_finished(self.studio, self.alice, self.first.prompt, parent=self.first)
        self.assertEqual(self.titles(again, self.first), ["Re-run of the original", "Original"])
        later = make_finished(self.studio, self.bob, self.first.prompt, parent=self.first)
        self.assertEqual(
            self.titles(self.first, later, again), ["Original", "Re-run 2 of 2", "Re-run 1 of 2"]
        )

    def test_unrelated_videos_are_titled_by_their_column_and_labelled_so(self) -> None:
        self.assertEqual(self.titles(self.first, self.second), ["Video 1", "Video 2"])
        response = self.client.get(compare_url(self.first, self.second))
        self.assertContains(response, 'aria-labelledby="compare-title-2"')

    def test_the_video_page_links_to_its_variations(self) -> None:
        group = uuid.uuid4()
        Generation.objects.filter(pk__in=[self.first.pk, self.second.pk]).update(group=group)
        Generation.objects.filter(pk=self.second.pk).update(variation=2)
        unfinished = make_finished(self.studio, self.alice, "A kite", group=group, variation=3)
        Generation.objects.filter(pk=unfinished.pk).update(state=State.FAILED)
        page = self.client.get(self.first.get_absolute_url())
        link = compare_url(self.first, self.second).replace("&", "&amp;")
        self.assertContains(page, f'<a href="{link}">Compare with its variations</a>')

    def test_the_video_page_links_a_rerun_to_its_original_and_back(self) -> None:
        again = make_finished(self.studio, self.alice, self.first.prompt, parent=self.first)
        page = self.client.get(again.get_absolute_url())
        self.assertContains(
            page,
            f'<a href="{compare_url(again, self.first).replace("&", "&amp;")}">Compare with the original</a>',
        )
        page = self.client.get(self.first.get_absolute_url())
        self.assertContains(
            page,
            f'<a href="{compare_url(self.first, again).replace("&", "&amp;")}">Compare with its re-runs</a>',
        )
        self.assertNotContains(page, "Compare with its variations")

    def test_no_link_while_the_rerun_is_unfinished(self) -> None:
        again = make_finished(self.studio, self.alice, self.first.prompt, parent=self.first)
        Generation.objects.filter(pk=again.pk).update(state=State.RUNNING)
        page = self.client.get(self.first.get_absolute_url())
        self.assertContains(page, "Re-runs")
        self.assertNotContains(page, "Compare with its re-runs")
