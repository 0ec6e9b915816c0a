"""Favourites: each person marks videos for themselves from the gallery's cards, with or without scripts."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from sorastudio.studio.models import Favourite
from tests.helpers import TeamTestCase, make_finished

HTMX = {"HX-Request": "true"}


class FavouriteTests(TeamTestCase):
    def setUp(self) -> None:
        self.video = make_finished(self.studio, self.bob, "A paper boat in the rain")
        self.url = reverse("studio:favourite", args=[self.video.pk])
        self.client.force_login(self.alice)

    def likes(self, user: Any) -> bool:
        return Favourite.objects.filter(user=user, generation=self.video).exists()

    def test_htmx_marks_and_unmarks_and_gets_just_the_button_back(self) -> None:
        marked = self.client.post(self.url, headers=HTMX)
        self.assertTrue(self.likes(self.alice))
        body = marked.content.decode().strip()
        self.assertTrue(body.startswith('<form class="favourite"'))
        self.assertIn('aria-pressed="true"', body)
        self.assertIn("Remove from my favourites", body)

        unmarked = self.client.post(self.url, headers=HTMX)
        self.assertFalse(self.likes(self.alice))
        self.assertContains(unmarked, 'aria-pressed="false"')
        self.assertContains(unmarked, "Add to my favourites")

    def test_without_scripts_it_goes_back_to_the_page_it_came_from(self) -> None:
        gallery = "http://testserver/?q=boat&state=ready"
        response = self.client.post(self.url, headers={"Referer": gallery})
        self.assertRedirects(response, gallery, fetch_redirect_response=False)
        self.assertTrue(self.likes(self.alice))
        self.assertRedirects(self.client.post(self.url), reverse("studio:index"))
        self.assertFalse(self.likes(self.alice))

    def test_it_never_sends_anyone_to_another_site(self) -> None:
        response = self.client.post(self.url, headers={"Referer": "https://elsewhere.example/phish"})
        self.assertRedirects(response, reverse("studio:index"))
        response = self.client.post(self.url, {"next": "//elsewhere.example/"})
        self.assertRedirects(response, reverse("studio:index"))

    def test_each_person_has_their_own(self) -> None:
        self.client.post(self.url)
        bob = self.as_(self.bob)
        bob.post(self.url)
        bob.post(self.url)
        self.assertTrue(self.likes(self.alice))
        self.assertFalse(self.likes(self.bob))
        self.assertContains(self.client.get(reverse("studio:index")), 'aria-pressed="true"')
        self.assertContains(bob.get(reverse("studio:index")), 'aria-pressed="false"')

    def test_only_a_post_changes_it(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 405)
        self.assertFalse(self.likes(self.alice))

    def test_an_outsider_and_a_deleted_video_get_404(self) -> None:
        self.assertEqual(self.as_(self.carol).post(self.url).status_code, 404)
        self.video.soft_delete(self.bob)
        self.assertEqual(self.client.post(self.url).status_code, 404)
        self.assertFalse(Favourite.objects.exists())
