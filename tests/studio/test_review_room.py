"""The video's page as a review room, as the server writes it: the player's stage that drawings are laid
over, and what the video was asked with shown beside it, from the team's own files only."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.urls import reverse

from sorastudio.studio.models import GenerationImage
from tests.helpers import TeamTestCase, make_finished, png_bytes


class ReviewRoomTests(TeamTestCase):
    def test_it_puts_the_player_and_its_marks_on_one_stage(self) -> None:
        video = make_finished(self.studio, self.alice)
        page = self.as_(self.bob).get(video.get_absolute_url()).content.decode()
        stage = page.index('<div class="player-stage" id="player-stage">')
        self.assertLess(stage, page.index('<video id="player"'))
        self.assertLess(page.index('<video id="player"'), page.index('<div id="marks"'))
        self.assertIn('id="shortcuts"', page)

    def test_it_shows_the_uploads_and_clip_it_was_asked_with_through_the_team_views(self) -> None:
        video = make_finished(
            self.studio,
            self.alice,
            image_urls=["https://images.example.com/kite.png", "data:image/png;base64,AAAA"],
            character_start=1,
            character_end=3,
        )
        video.character_clip.save("characters/pilot.mp4", ContentFile(b"not really a clip"))
        upload = GenerationImage.objects.create(
            generation=video, file=ContentFile(png_bytes(), name="kite.png"), content_type="image/png"
        )
        response = self.as_(self.bob).get(video.get_absolute_url())

        image = reverse("studio:upload_image", args=[video.pk, upload.pk])
        self.assertContains(response, f'<img src="{image}" alt="Reference image 1"')
        self.assertContains(response, f'href="{reverse("studio:generation_clip", args=[video.pk])}"')
        self.assertContains(response, "Character clip (1–3 s)")
        # An address is a link named by its site, never fetched by the page; an inline image is not listed.
        self.assertContains(response, "Image on images.example.com")
        self.assertNotContains(response, 'src="https://images.example.com')
        self.assertNotContains(response, "data:image/png;base64,AAAA")
        self.assertEqual(self.as_(self.carol).get(image).status_code, 404)

    def test_it_shows_no_references_for_a_video_asked_without_any(self) -> None:
        video = make_finished(self.studio, self.alice)
        self.assertNotContains(self.as_(self.bob).get(video.get_absolute_url()), 'id="references"')
