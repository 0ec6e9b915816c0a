"""Drawings on a frame, posted with a comment: stored as checked vectors, drawn as SVG beside the comment,
over the player and on the compare page; refused with the reason beside the field and nothing lost; and
never shown to another team."""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse

from sorastudio.lib import drawing as drawings
from sorastudio.studio.models import Comment, ReviewError
from tests.helpers import TeamTestCase, make_finished

BOX = {"kind": "box", "colour": "yellow", "width": 0.005, "from": [0.25, 0.5], "to": [0.75, 1.0]}
STROKE = {"kind": "pen", "colour": "red", "width": 0.01, "points": [[0.1, 0.1], [0.2, 0.15], [0.3, 0.1]]}
DRAWING = {"v": 1, "shapes": [BOX, STROKE]}
# BOX and STROKE in the pixels of make_finished's video, whose frame is unknown (so 1280 by 720).
BOX_PATH = 'd="M320.0 360.0 L960.0 360.0 L960.0 720.0 L320.0 720.0 L320.0 360.0 Z" stroke="#ffcc00"'
STROKE_PATH = 'd="M128.0 72.0 L256.0 108.0 L384.0 72.0" stroke="#ff3b30" stroke-width="12.8"'


def compare_url(*videos: Any) -> str:
    return reverse("studio:compare") + "?" + "&".join(f"ids={video.pk}" for video in videos)


class DrawingTestCase(TeamTestCase):
    def setUp(self) -> None:
        self.video = make_finished(self.studio, self.alice, "A kite over the dunes")

    def comment(self, user: Any, drawing: Any, htmx: bool = False, **data: Any) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        text = drawing if isinstance(drawing, str) else json.dumps(drawing)
        data = {"body": "The kite's tail is cut off here.", "at_seconds": "3.2", "drawing": text, **data}
        return self.as_(user).post(reverse("studio:comments", args=[self.video.pk]), data, headers=headers)

    def page(self, user: Any) -> str:
        response = self.as_(user).get(self.video.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        return response.content.decode()


class PostingTests(DrawingTestCase):
    def test_it_keeps_the_drawing_with_the_comment_at_its_moment(self) -> None:
        response = self.comment(self.bob, DRAWING)
        self.assertRedirects(response, f"{self.video.get_absolute_url()}#review")
        comment = Comment.objects.get()
        self.assertEqual((comment.at_seconds, comment.drawing), (3.2, DRAWING))

    def test_it_keeps_the_drawing_as_checked_not_as_sent(self) -> None:
        sent = {"v": 1, "shapes": [{**STROKE, "points": [[-1, 0.123456], [2, 0.5]], "width": 9}]}
        self.comment(self.bob, sent)
        kept = Comment.objects.get().drawing
        assert kept is not None
        shape = kept["shapes"][0]
        self.assertEqual((shape["points"], shape["width"]), ([[0.0, 0.1235], [1.0, 0.5]], drawings.THICKEST))

    def test_a_comment_without_a_drawing_has_none(self) -> None:
        for empty in ("", json.dumps({"v": 1, "shapes": []})):
            with self.subTest(empty=empty):
                self.comment(self.bob, empty)
        self.assertEqual(list(Comment.objects.values_list("drawing", flat=True)), [None, None])
        self.assertNotIn("drawing-thumb", self.page(self.alice))

    def test_it_draws_it_beside_the_comment_and_over_the_player(self) -> None:
        self.comment(self.bob, DRAWING)
        page = self.page(self.alice)
        thumb = page.split('<a class="drawing-thumb"')[1].split("</a>")[0]
        self.assertIn('style="aspect-ratio: 1280 / 720"', thumb)
        self.assertIn('data-seek="3.20"', thumb)
        self.assertIn(f'src="{reverse("studio:poster", args=[self.video.pk])}"', thumb)
        self.assertIn('viewBox="0 0 1280 720"', thumb)
        self.assertIn(BOX_PATH, thumb)
        self.assertIn(STROKE_PATH, thumb)
        stage = page.split('id="player-stage">')[1].split('<div class="actions">')[0]
        # After the marks: the player and its marks stay next to each other.
        self.assertLess(stage.index('<div id="marks"'), stage.index('<div id="drawings"'))
        layer = stage.split('<div id="drawings" class="drawings" data-drawings-for="player">')[1]
        self.assertIn('<div class="drawing-overlay" data-drawing-at="3.20"', layer)
        self.assertIn('aria-label="Drawing by bob at 0:03"', layer)
        self.assertIn(BOX_PATH, layer)
        self.assertIn(STROKE_PATH, layer)

    def test_it_uses_the_frame_of_the_video(self) -> None:
        self.video.width, self.video.height = 720, 1280
        self.video.save()
        self.comment(self.bob, DRAWING)
        page = self.page(self.alice)
        self.assertIn('viewBox="0 0 720 1280"', page)
        self.assertIn('d="M180.0 640.0 L540.0 640.0', page)

    def test_it_draws_an_arrow_with_its_head(self) -> None:
        arrow = {"kind": "arrow", "colour": "green", "width": 0.005, "from": [0.0, 0.5], "to": [0.5, 0.5]}
        self.comment(self.bob, {"v": 1, "shapes": [arrow]})
        self.assertIn(
            'd="M0.0 360.0 L640.0 360.0 M616.9 348.9 L640.0 360.0 L616.9 371.1"', self.page(self.bob)
        )

    def test_htmx_gets_the_drawings_over_the_player_with_the_panel(self) -> None:
        response = self.comment(self.bob, DRAWING, htmx=True)
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertIn(
            '<div id="drawings" class="drawings" data-drawings-for="player" hx-swap-oob="true">', body
        )
        self.assertIn('data-drawing-at="3.20"', body)
        self.assertIn('<a class="drawing-thumb"', body)
        # The fresh form starts with nothing drawn.
        self.assertIn('<input type="hidden" name="drawing" value="" data-drawing-field>', body)

    def test_the_form_offers_the_palette_and_the_limits(self) -> None:
        page = self.page(self.bob)
        for name, value in drawings.PALETTE.items():
            self.assertIn(f'data-draw-colour="{name}" data-value="{value}" style="--swatch: {value}"', page)
        self.assertIn(f'data-most-shapes="{drawings.MOST_SHAPES}"', page)
        self.assertIn(f'data-most-points="{drawings.MOST_POINTS}"', page)
        self.assertIn('data-width="0.006" data-frame="0 0 1280 720"', page)


class RefusalTests(DrawingTestCase):
    def assert_refused(self, response: Any, reason: str) -> None:
        self.assertContains(
            response, f'<p class="error" id="comment-drawing-error" role="alert">{reason}', status_code=400
        )
        self.assertContains(response, "The kite&#x27;s tail is cut off here.</textarea>", status_code=400)
        self.assertFalse(Comment.objects.exists())

    def test_it_refuses_a_drawing_it_cannot_read_and_keeps_what_was_written(self) -> None:
        sent = json.dumps({"v": 1, "shapes": [{**BOX, "colour": "#f00"}]})
        response = self.comment(self.bob, sent)
        self.assert_refused(response, "The drawing could not be read: clear it and draw it again.")
        # What was drawn comes back in the form, for the page's drawing tool to show again.
        self.assertContains(response, 'name="drawing" value="{&quot;v&quot;: 1', status_code=400)
        self.assertContains(response, 'value="3.2"', status_code=400)

    def test_it_refuses_too_many_shapes(self) -> None:
        most = drawings.MOST_SHAPES
        response = self.comment(self.bob, {"v": 1, "shapes": [BOX] * (most + 1)})
        self.assert_refused(
            response, f"A drawing can have at most {most} shapes, and this one has {most + 1}"
        )

    def test_it_refuses_too_long_a_stroke(self) -> None:
        most = drawings.MOST_POINTS
        response = self.comment(
            self.bob, {"v": 1, "shapes": [{**STROKE, "points": [[0.5, 0.5]] * (most + 1)}]}
        )
        self.assert_refused(response, f"A pen stroke can have at most {most} points")

    def test_it_refuses_too_large_a_drawing(self) -> None:
        response = self.comment(
            self.bob, json.dumps(DRAWING).replace("{", "{" + " " * drawings.MOST_CHARS, 1)
        )
        self.assert_refused(response, "The drawing is too detailed to keep")

    def test_it_refuses_a_drawing_not_pinned_to_a_moment(self) -> None:
        response = self.comment(self.bob, DRAWING, at_seconds="")
        self.assert_refused(
            response, "A drawing is made on one frame: pin the comment to the moment where you drew it."
        )

    def test_a_refusal_for_htmx_is_the_panel_with_the_reason_and_the_drawing(self) -> None:
        response = self.comment(self.bob, DRAWING, htmx=True, at_seconds="")
        self.assertContains(response, 'id="comment-drawing-error"')
        self.assertContains(response, "The kite&#x27;s tail is cut off here.</textarea>")
        self.assertContains(response, 'name="drawing" value="{&quot;v&quot;: 1')
        self.assertFalse(Comment.objects.exists())

    def test_the_model_checks_the_drawing_whoever_calls(self) -> None:
        with self.assertRaises(ReviewError) as refused:
            Comment.add(self.video, self.bob, "Here.", drawing=DRAWING)
        self.assertEqual(refused.exception.field, "drawing")
        with self.assertRaises(ReviewError):
            Comment.add(
                self.video, self.bob, "Here.", at_seconds=1.0, drawing={"v": 1, "shapes": [{"kind": "x"}]}
            )
        self.assertFalse(Comment.objects.exists())

    def test_a_drawing_stored_by_other_means_is_not_trusted_on_the_page(self) -> None:
        comment = Comment.add(self.video, self.bob, "Here.", at_seconds=1.0, drawing=DRAWING)
        forged = {"v": 1, "shapes": [{**BOX, "colour": '"/><script>alert(1)</script>'}]}
        Comment.objects.filter(pk=comment.pk).update(drawing=forged)
        page = self.page(self.alice)
        self.assertNotIn("<script>alert", page)
        self.assertNotIn('class="shape', page)


class TeamTests(DrawingTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.other = make_finished(self.studio, self.bob, "A kite over the sea")
        self.foreign = make_finished(self.agency, self.carol, "Agency's kite")
        Comment.add(self.video, self.bob, "Cut off.", at_seconds=3.2, drawing=DRAWING)
        Comment.add(
            self.other, self.alice, "Sky too pale.", at_seconds=6.0, drawing={"v": 1, "shapes": [STROKE]}
        )
        Comment.add(
            self.foreign, self.carol, "Agency only.", at_seconds=2.0, drawing={"v": 1, "shapes": [BOX]}
        )

    def test_compare_shows_each_videos_drawings_over_it(self) -> None:
        self.client.force_login(self.alice)
        page = self.client.get(compare_url(self.video, self.other)).content.decode()
        first = page.split('data-drawings-for="compare-video-1"')[1].split(
            'data-drawings-for="compare-video-2"'
        )[0]
        second = page.split('data-drawings-for="compare-video-2"')[1]
        self.assertIn('id="compare-video-1"', page)
        self.assertIn('data-drawing-at="3.20"', first)
        self.assertIn(BOX_PATH, first)
        self.assertNotIn("6.00", first)
        self.assertIn('data-drawing-at="6.00"', second)
        self.assertNotIn("3.20", second)
        self.assertIn('aria-label="Drawing by alice at 0:06"', second)
        self.assertNotIn("2.00", page.split('data-drawings-for="compare-video-1"')[1])

    def test_another_team_never_sees_a_drawing(self) -> None:
        outsider = self.as_(self.carol)
        self.assertEqual(outsider.get(self.video.get_absolute_url()).status_code, 404)
        self.assertEqual(outsider.get(compare_url(self.video, self.other)).status_code, 404)
        self.assertEqual(outsider.get(compare_url(self.foreign, self.video)).status_code, 404)
        url = reverse("studio:comments", args=[self.video.pk])
        self.assertEqual(outsider.get(url, headers={"HX-Request": "true"}).status_code, 404)
        self.assertEqual(
            outsider.post(url, {"body": "x", "at_seconds": "1", "drawing": json.dumps(DRAWING)}).status_code,
            404,
        )
        self.assertEqual(Comment.objects.filter(author=self.carol).count(), 1)
        # And the team's own pages show none of the other team's.
        studio_pages = (
            self.page(self.alice)
            + self.as_(self.alice).get(compare_url(self.video, self.other)).content.decode()
        )
        self.assertNotIn("Drawing by carol", studio_pages)
        self.assertNotIn("Agency only.", studio_pages)
