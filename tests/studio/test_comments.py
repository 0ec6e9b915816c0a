"""Comments on a video: pinned to a moment or not, replies one level deep, resolving and reopening, the
moments as people write them, and the fragment htmx swaps in."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.test import SimpleTestCase
from django.urls import reverse

from sorastudio.studio.models import Comment, Notification
from sorastudio.studio.review_forms import parse_moment
from sorastudio.teams.models import Membership
from tests.helpers import TeamTestCase, make_finished, make_member


class MomentTests(SimpleTestCase):
    def test_it_reads_moments_as_people_write_them(self) -> None:
        for text, seconds in (("0:03", 3.0), ("3", 3.0), (" 1:05 ", 65.0), ("2.5", 2.5), ("0:07,5", 7.5)):
            with self.subTest(text=text):
                self.assertEqual(parse_moment(text), seconds)
        self.assertIsNone(parse_moment("  "))

    def test_it_refuses_what_is_not_a_moment(self) -> None:
        for text in ("soon", "-3", "1:75", "3s", "1:2:3"):
            with self.subTest(text=text), self.assertRaises(ValidationError):
                parse_moment(text)


class CommentTestCase(TeamTestCase):
    erin: ClassVar[Any]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.erin = make_member("erin", cls.studio, Membership.Role.CREATOR)

    def setUp(self) -> None:
        self.video = make_finished(self.studio, self.alice, "A kite over the dunes")

    def comment(self, user: Any, htmx: bool = False, **data: Any) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.as_(user).post(reverse("studio:comments", args=[self.video.pk]), data, headers=headers)

    def resolve(self, user: Any, comment: Comment, action: str = "resolve") -> Any:
        url = reverse("studio:resolve_comment", args=[comment.pk])
        return self.as_(user).post(url, {"action": action})


class AddingTests(CommentTestCase):
    def test_it_pins_a_comment_to_a_moment(self) -> None:
        response = self.comment(self.bob, body="The kite vanishes here.", at_seconds="0:03")
        self.assertRedirects(response, f"{self.video.get_absolute_url()}#review")
        comment = Comment.objects.get()
        self.assertEqual((comment.author, comment.at_seconds, comment.parent), (self.bob, 3.0, None))
        event = self.video.events.get(kind="commented")
        self.assertEqual((event.actor, event.moment), (self.bob, 3.0))
        told = Notification.objects.get()
        self.assertEqual((told.user, told.kind, told.actor), (self.alice, "comment", self.bob))

        page = self.as_(self.alice).get(self.video.get_absolute_url())
        self.assertContains(page, 'style="left: 30.00%"')
        self.assertContains(page, 'data-seek="3.00" title="Show this moment in the player">0:03</a>')
        self.assertContains(page, "Commented at 0:03 — bob")

    def test_it_leaves_a_comment_unpinned(self) -> None:
        self.comment(self.alice, body="Nice light overall.")
        comment = Comment.objects.get()
        self.assertIsNone(comment.at_seconds)
        self.assertFalse(Notification.objects.exists())  # alice is not told of her own comment
        page = self.as_(self.alice).get(self.video.get_absolute_url())
        self.assertContains(page, "Nice light overall.")
        self.assertNotContains(page, "data-seek=")

    def test_it_refuses_an_empty_or_too_long_comment(self) -> None:
        response = self.comment(self.bob, body="   ", at_seconds="0:03")
        self.assertContains(response, "Write the comment first.", status_code=400)
        self.assertContains(response, 'id="comment-body-error"', status_code=400)
        self.assertContains(response, 'value="0:03"', status_code=400)
        long = "x" * 4001
        response = self.comment(self.bob, body=long)
        self.assertContains(response, "at most 4000 characters long (this one has 4001)", status_code=400)
        self.assertContains(response, f"{long}</textarea>", status_code=400)
        self.assertFalse(Comment.objects.exists())

    def test_it_refuses_a_moment_outside_the_video(self) -> None:
        for moment in ("0:42", "later"):
            with self.subTest(moment=moment):
                response = self.comment(self.bob, body="Too dark.", at_seconds=moment)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, 'id="comment-at-error"', status_code=400)
                self.assertContains(response, "Too dark.</textarea>", status_code=400)
        self.assertFalse(Comment.objects.exists())

    def test_it_answers_htmx_with_the_comments_marks_and_timeline(self) -> None:
        response = self.comment(self.bob, htmx=True, body="Kite at the edge.", at_seconds="7.5")
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertNotIn("<html", body)
        self.assertIn('<section id="review"', body)
        self.assertIn("Kite at the edge.", body)
        self.assertIn(
            'id="marks" class="marks" role="group" aria-label="Comments along the video" hx-swap-oob="true"',
            body,
        )
        self.assertIn('style="left: 75.00%"', body)
        self.assertIn('id="timeline" class="timeline" hx-swap-oob="true"', body)

    def test_comments_in_the_same_second_make_one_mark_with_their_count(self) -> None:
        first = Comment.add(self.video, self.bob, "The kite vanishes here.", at_seconds=3.0)
        second = Comment.add(self.video, self.dana, "And the shadow jumps.", at_seconds=3.6)
        Comment.add(self.video, self.bob, "Kite at the edge.", at_seconds=7.5)
        page = self.as_(self.alice).get(self.video.get_absolute_url())
        marks = page.content.decode().split('<div id="marks"')[1].split("</div>")[0]
        self.assertEqual(marks.count('<button type="button" class="mark'), 2)
        self.assertIn('class="mark group" style="left: 30.00%"', marks)
        self.assertIn('<span aria-hidden="true">2</span>', marks)
        self.assertIn('<span class="visually-hidden">Go to 0:03, 2 comments</span>', marks)
        self.assertIn('data-seek="3.00" data-mark-list="mark-list-1" aria-controls="mark-list-1"', marks)
        for thread, line in (
            (first, "<strong>bob</strong>: The kite vanishes here."),
            (second, "<strong>dana</strong>: And the shadow jumps."),
        ):
            self.assertIn(f'<a href="#comment-{thread.pk}">{line}</a>', marks)
        self.assertIn("Go to 0:07, commented by bob", marks)

    def test_it_shows_the_comments_again_when_asked(self) -> None:
        Comment.add(self.video, self.bob, "Kite at the edge.")
        url = reverse("studio:comments", args=[self.video.pk])
        self.assertRedirects(self.as_(self.alice).get(url), f"{self.video.get_absolute_url()}#review")
        fragment = self.as_(self.alice).get(url, headers={"HX-Request": "true"})
        self.assertContains(fragment, "Kite at the edge.")
        self.assertNotContains(fragment, "<html")

    def test_a_refusal_for_htmx_is_the_panel_with_the_reason(self) -> None:
        response = self.comment(self.bob, htmx=True, body="", at_seconds="")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Write the comment first.")
        self.assertNotContains(response, "<html")


class ReplyTests(CommentTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.first = Comment.add(self.video, self.bob, "Slower, please.", at_seconds=3.0)
        Notification.objects.all().delete()

    def test_it_threads_a_reply_under_the_comment(self) -> None:
        response = self.comment(self.erin, body="Agreed.", parent=str(self.first.pk))
        self.assertEqual(response.status_code, 302)
        reply = Comment.objects.get(parent=self.first)
        self.assertEqual(reply.author, self.erin)
        told = {n.user for n in Notification.objects.filter(kind="comment")}
        self.assertEqual(told, {self.alice, self.bob})
        page = self.as_(self.alice).get(self.video.get_absolute_url())
        self.assertContains(page, f'<li id="comment-{reply.pk}" class="reply">')

    def test_it_refuses_a_reply_to_a_reply(self) -> None:
        reply = Comment.add(self.video, self.alice, "On it.", parent=self.first)
        response = self.comment(self.bob, body="And again.", parent=str(reply.pk))
        self.assertContains(response, "replies go one level deep", status_code=400)
        # The reason shows in the thread's own reply box, with the text typed.
        self.assertContains(response, f'id="reply-{self.first.pk}-error"', status_code=400)
        self.assertContains(response, "And again.</textarea>", status_code=400)
        self.assertEqual(Comment.objects.count(), 2)

    def test_a_reply_to_another_videos_comment_is_not_found(self) -> None:
        other = make_finished(self.studio, self.alice, "Another video")
        elsewhere = Comment.add(other, self.bob, "Elsewhere.")
        response = self.comment(self.bob, body="Hello", parent=str(elsewhere.pk))
        self.assertEqual(response.status_code, 404)
        self.assertEqual(Comment.objects.count(), 2)


class ResolvingTests(CommentTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.note = Comment.add(self.video, self.dana, "The horizon tilts.", at_seconds=2.0)

    def test_the_author_the_creator_and_reviewers_resolve_and_reopen(self) -> None:
        for user in (self.dana, self.alice, self.bob):
            with self.subTest(user=user.username):
                self.assertRedirects(
                    self.resolve(user, self.note), f"{self.video.get_absolute_url()}#comment-{self.note.pk}"
                )
                self.note.refresh_from_db()
                self.assertEqual(self.note.resolved_by, user)
                self.resolve(user, self.note, "reopen")
                self.note.refresh_from_db()
                self.assertIsNone(self.note.resolved_at)
        kinds = list(
            self.video.events.filter(kind__startswith="comment_").values_list("kind", "actor__username")
        )
        self.assertEqual(
            kinds,
            [
                ("comment_resolved", "dana"),
                ("comment_reopened", "dana"),
                ("comment_resolved", "alice"),
                ("comment_reopened", "alice"),
                ("comment_resolved", "bob"),
                ("comment_reopened", "bob"),
            ],
        )

    def test_another_creator_may_not_resolve(self) -> None:
        self.assertEqual(self.resolve(self.erin, self.note).status_code, 403)
        self.assertEqual(self.resolve(self.carol, self.note).status_code, 404)
        self.note.refresh_from_db()
        self.assertIsNone(self.note.resolved_at)
        page = self.as_(self.erin).get(self.video.get_absolute_url())
        self.assertNotContains(page, reverse("studio:resolve_comment", args=[self.note.pk]))

    def test_resolving_twice_is_recorded_once(self) -> None:
        self.assertTrue(self.note.resolve(self.bob))
        self.assertFalse(self.note.resolve(self.alice))
        self.assertEqual(self.video.events.filter(kind="comment_resolved").count(), 1)

    def test_a_resolved_thread_is_collapsed_and_its_mark_dimmed(self) -> None:
        self.note.resolve(self.bob)
        page = self.as_(self.alice).get(self.video.get_absolute_url())
        self.assertContains(page, f'<li id="comment-{self.note.pk}" class="comment resolved">')
        self.assertContains(page, "<summary>Resolved by bob: The horizon tilts.</summary>")
        self.assertContains(page, 'class="mark resolved"')
        self.assertContains(page, 'value="reopen"')
