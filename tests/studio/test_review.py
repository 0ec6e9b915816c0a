"""The review of a video through its page: asking for one, deciding, who may do which, stale decisions, and
what is recorded (the timeline's who, what and when) and told (notifications)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from sorastudio.pipeline import submit
from sorastudio.studio.models import Comment, Generation, Notification, ReviewState
from tests.helpers import TeamTestCase, make_finished


class ReviewTestCase(TeamTestCase):
    def setUp(self) -> None:
        # Made in each test, when its own media folder is in place.
        self.video = make_finished(self.studio, self.alice, "A kite over the dunes")

    def review(self, user: Any, video: Generation | None = None, htmx: bool = False, **data: Any) -> Any:
        video = video or self.video
        headers = {"HX-Request": "true"} if htmx else {}
        return self.as_(user).post(reverse("studio:review", args=[video.pk]), data, headers=headers)

    def decide(self, user: Any, action: str, comment: str = "", **data: Any) -> Any:
        self.video.refresh_from_db()
        data.setdefault("seen", self.video.review_state)
        return self.review(user, action=action, comment=comment, **data)

    def state(self, video: Generation | None = None) -> str:
        return Generation.objects.get(pk=(video or self.video).pk).review_state


class AskingTests(ReviewTestCase):
    def test_it_asks_every_reviewer_of_the_team(self) -> None:
        response = self.review(self.alice, action="ask")
        self.assertRedirects(response, f"{self.video.get_absolute_url()}#review")
        self.video.refresh_from_db()
        self.assertEqual(self.video.review_state, ReviewState.IN_REVIEW)
        self.assertIsNone(self.video.review_requested_of)
        asked = Notification.objects.filter(kind=Notification.Kind.REVIEW_REQUESTED)
        self.assertEqual({n.user for n in asked}, {self.bob, self.dana})
        event = self.video.events.get(kind="review_requested")
        self.assertEqual(event.actor, self.alice)

    def test_it_asks_one_named_reviewer(self) -> None:
        self.review(self.alice, action="ask", reviewer=self.bob.pk)
        self.video.refresh_from_db()
        self.assertEqual(self.video.review_requested_of, self.bob)
        asked = Notification.objects.filter(kind=Notification.Kind.REVIEW_REQUESTED)
        self.assertEqual([n.user for n in asked], [self.bob])
        page = self.as_(self.alice).get(self.video.get_absolute_url())
        self.assertContains(page, "In review")
        self.assertContains(page, "<dt>Asked of</dt>", html=False)
        self.assertContains(page, "(of bob) — alice")

    def test_it_asks_only_the_teams_reviewers_and_never_the_creator(self) -> None:
        for someone in (self.alice, self.carol):
            with self.subTest(reviewer=someone.username):
                response = self.review(self.alice, action="ask", reviewer=someone.pk)
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, "Ask one of the team&#x27;s reviewers.", status_code=400)
                self.assertContains(response, 'id="ask-reviewer-error"', status_code=400)
        self.assertEqual(self.state(), ReviewState.NEW)
        self.assertFalse(Notification.objects.exists())

    def test_only_the_creator_or_an_admin_asks(self) -> None:
        self.assertEqual(self.review(self.bob, action="ask").status_code, 403)
        self.assertEqual(self.state(), ReviewState.NEW)
        self.assertEqual(self.review(self.dana, action="ask").status_code, 302)
        self.assertEqual(self.state(), ReviewState.IN_REVIEW)

    def test_a_rejected_video_is_not_asked_again(self) -> None:
        self.review(self.alice, action="ask")
        self.decide(self.bob, "rejected", "The kite is missing.")
        response = self.review(self.alice, action="ask")
        self.assertContains(response, "This video has already been decided on.", status_code=400)
        self.assertEqual(self.state(), ReviewState.REJECTED)


class DecidingTests(ReviewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.video.ask_for_review(self.alice, self.bob)
        Notification.objects.all().delete()

    def test_it_records_a_decision_with_its_pinned_comment(self) -> None:
        response = self.decide(self.bob, "rejected", "The kite vanishes here.", at_seconds="0:03")
        self.assertRedirects(response, f"{self.video.get_absolute_url()}#review")
        self.video.refresh_from_db()
        self.assertEqual(self.video.review_state, ReviewState.REJECTED)
        self.assertEqual(self.video.reviewed_by, self.bob)
        note = Comment.objects.get()
        self.assertEqual((note.author, note.decision, note.at_seconds), (self.bob, "rejected", 3.0))
        event = self.video.events.get(kind="rejected")
        self.assertEqual((event.actor, event.moment), (self.bob, 3.0))
        told = Notification.objects.get()
        self.assertEqual((told.user, told.kind, told.actor), (self.alice, "review_returned", self.bob))

        page = self.as_(self.alice).get(self.video.get_absolute_url())
        self.assertContains(page, 'data-review-state="rejected"')
        self.assertContains(page, "The kite vanishes here.")
        self.assertContains(page, 'data-seek="3.00" title="Show this moment in the player">0:03</a>')
        self.assertContains(page, "Rejected at 0:03 — bob")

    def test_it_approves_without_a_comment(self) -> None:
        self.assertEqual(self.decide(self.bob, "approved").status_code, 302)
        self.assertEqual(self.state(), ReviewState.APPROVED)
        self.assertFalse(Comment.objects.exists())
        self.assertEqual(self.video.events.get(kind="approved").actor, self.bob)

    def test_it_needs_a_reason_to_reject_or_to_request_changes(self) -> None:
        for action in ("rejected", "changes_requested"):
            with self.subTest(action=action):
                response = self.decide(self.bob, action, "   ")
                self.assertContains(response, "Say why in a comment", status_code=400)
                self.assertContains(response, 'id="decision-comment-error"', status_code=400)
        self.assertEqual(self.state(), ReviewState.IN_REVIEW)
        self.assertFalse(Comment.objects.exists())

    def test_a_refused_decision_keeps_what_was_typed(self) -> None:
        response = self.decide(self.bob, "rejected", "Too dark at the end.", at_seconds="0:42")
        self.assertContains(response, "The video lasts only 0:10.", status_code=400)
        self.assertContains(response, "Too dark at the end.</textarea>", status_code=400)
        self.assertContains(response, 'value="0:42"', status_code=400)
        self.assertEqual(self.state(), ReviewState.IN_REVIEW)

    def test_a_reviewer_does_not_decide_on_their_own_video(self) -> None:
        own = make_finished(self.studio, self.bob, "Bob's own lighthouse")
        page = self.as_(self.bob).get(own.get_absolute_url())
        self.assertContains(page, "You made this video, so another reviewer decides on it.")
        self.assertNotContains(page, 'value="approved"')
        response = self.review(self.bob, own, action="approved", seen="new")
        self.assertContains(
            response, "You made this video, so another reviewer decides on it.", status_code=400
        )
        self.assertEqual(self.state(own), ReviewState.NEW)

    def test_an_admin_may_decide_on_their_own_video(self) -> None:
        own = make_finished(self.studio, self.dana, "Dana's own harbour")
        self.assertEqual(self.review(self.dana, own, action="approved", seen="new").status_code, 302)
        self.assertEqual(self.state(own), ReviewState.APPROVED)

    def test_a_creator_who_tries_to_decide_is_forbidden(self) -> None:
        for action in ("approved", "changes_requested", "rejected"):
            with self.subTest(action=action):
                response = self.decide(self.alice, action, "I like it.")
                self.assertEqual(response.status_code, 403)
        self.assertEqual(self.state(), ReviewState.IN_REVIEW)
        page = self.as_(self.alice).get(self.video.get_absolute_url())
        self.assertNotContains(page, 'value="rejected"')

    def test_a_decision_made_meanwhile_is_not_overwritten(self) -> None:
        self.assertEqual(self.decide(self.dana, "approved", seen="in_review").status_code, 302)
        response = self.review(
            self.bob, action="rejected", comment="The kite is missing.", seen="in_review", htmx=True
        )
        self.assertContains(response, "Someone else reviewed this video meanwhile")
        self.assertContains(response, "The kite is missing.</textarea>")
        self.assertContains(response, 'name="seen" value="approved"')
        self.video.refresh_from_db()
        self.assertEqual((self.video.review_state, self.video.reviewed_by), (ReviewState.APPROVED, self.dana))
        self.assertFalse(Comment.objects.exists())

    def test_the_htmx_answer_is_the_panel_with_the_marks_and_the_timeline(self) -> None:
        response = self.decide(self.bob, "changes_requested", "Slower, please.", at_seconds="2.5")
        self.assertEqual(response.status_code, 302)
        response = self.review(self.bob, action="approved", seen="changes_requested", htmx=True)
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertNotIn("<html", body)
        self.assertIn('<section id="review"', body)
        self.assertIn('id="marks" class="marks" role="group"', body)
        self.assertIn('data-seek="2.50"', body)
        self.assertIn('id="timeline" class="timeline" hx-swap-oob="true"', body)
        self.assertIn("Approved — bob", body)


class OutsiderTests(ReviewTestCase):
    def test_an_outsider_reaches_none_of_the_review(self) -> None:
        comment = Comment.add(self.video, self.bob, "Nice light.")
        carol = self.as_(self.carol)
        attempts = [
            ("GET", self.video.get_absolute_url(), {}),
            ("POST", reverse("studio:review", args=[self.video.pk]), {"action": "ask"}),
            ("POST", reverse("studio:review", args=[self.video.pk]), {"action": "approved", "seen": "new"}),
            ("GET", reverse("studio:comments", args=[self.video.pk]), {}),
            ("POST", reverse("studio:comments", args=[self.video.pk]), {"body": "Hello?"}),
            (
                "POST",
                reverse("studio:comments", args=[self.video.pk]),
                {"body": "Hello?", "parent": str(comment.pk)},
            ),
            ("POST", reverse("studio:resolve_comment", args=[comment.pk]), {}),
            ("GET", f"{reverse('studio:compare')}?ids={self.video.pk}&ids={self.video.pk}", {}),
        ]
        for method, url, data in attempts:
            with self.subTest(method=method, url=url, data=data):
                response = carol.get(url) if method == "GET" else carol.post(url, data)
                self.assertEqual(response.status_code, 404)
        self.assertEqual(self.state(), ReviewState.NEW)
        self.assertEqual(Comment.objects.count(), 1)
        self.assertIsNone(Comment.objects.get().resolved_at)


class StoryTests(ReviewTestCase):
    def test_it_goes_from_rejected_to_a_rerun_that_is_approved(self) -> None:
        alice, bob = self.as_(self.alice), self.as_(self.bob)
        url = reverse("studio:review", args=[self.video.pk])
        alice.post(url, {"action": "ask", "reviewer": self.bob.pk})
        bob.post(
            url,
            {
                "action": "rejected",
                "comment": "The kite vanishes.",
                "at_seconds": "0:03",
                "seen": "in_review",
            },
        )
        again = submit.rerun(self.video, self.alice, simulated=True)
        Generation.objects.filter(pk=again.pk).update(
            state="succeeded", video=self.video.video.name, video_duration=10.0
        )
        again_url = reverse("studio:review", args=[again.pk])
        alice.post(again_url, {"action": "ask"})
        bob.post(again_url, {"action": "approved", "seen": "in_review"})

        self.assertEqual(self.state(), ReviewState.REJECTED)
        self.assertEqual(self.state(again), ReviewState.APPROVED)
        kinds = list(self.video.events.exclude(actor=None).values_list("kind", "actor__username"))
        self.assertEqual(kinds, [("review_requested", "alice"), ("rejected", "bob"), ("rerun", "alice")])
        returned = Notification.objects.filter(user=self.alice, kind="review_returned")
        self.assertEqual(
            [n.detail["decision"] for n in returned.order_by("created_at")], ["rejected", "approved"]
        )
        page = alice.get(self.video.get_absolute_url())
        self.assertContains(page, "Compare with its re-runs")
