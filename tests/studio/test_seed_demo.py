"""`manage.py seed_demo`: two teams, their people and finished videos, made by the real pipeline."""

from __future__ import annotations

import io
from pathlib import Path

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory, TestCase
from django.utils import timezone

from sorastudio.studio.models import ClientVerdict, Comment, Generation, ReviewLink, ReviewState, State
from sorastudio.teams.models import Membership, Team


class SeedDemoTests(TestCase):
    def seed(self, videos: int = 4) -> str:
        out = io.StringIO()
        call_command("seed_demo", "--videos", str(videos), stdout=out)
        return out.getvalue()

    def test_it_creates_the_teams_people_and_finished_videos(self) -> None:
        output = self.seed()
        roles = {
            (m.team.name, m.user.username): m.role for m in Membership.objects.select_related("team", "user")
        }
        self.assertEqual(
            roles,
            {
                ("Studio", "alice"): "creator",
                ("Studio", "bob"): "reviewer",
                ("Studio", "dana"): "admin",
                ("Agency", "carol"): "admin",
            },
        )
        for name in ("alice", "bob", "dana", "carol"):
            # With a request, as the login page calls it: the lockout's backend counts per address.
            login = RequestFactory().post("/accounts/login/")
            self.assertIsNotNone(authenticate(login, username=name, password="demo-pass-123"), name)
        for team in Team.objects.all():
            videos = Generation.objects.filter(team=team)
            self.assertEqual(videos.count(), 4)
            self.assertEqual(set(videos.values_list("state", flat=True)), {State.SUCCEEDED})
            self.assertTrue(all(Path(g.video.path).is_file() for g in videos))
        self.assertEqual(set(Generation.objects.values_list("provider", flat=True)), {"acedata", "sora2api"})
        self.assertIn("demo-pass-123", output)

    def test_its_videos_are_marked_demo_and_timed_like_real_runs(self) -> None:
        """The simulator answers at once: left as made, the demo would teach the estimates that a video
        takes a fiftieth of a second, and a real one would read as slow at once."""
        self.seed(videos=4)
        videos = Generation.objects.order_by("created_at")
        self.assertEqual(set(videos.values_list("demo", flat=True)), {True})
        for video in videos:
            assert video.submitted_at
            assert video.upstream_finished_at
            assert video.finished_at
            queue = (video.submitted_at - video.created_at).total_seconds()
            making = (video.upstream_finished_at - video.submitted_at).total_seconds()
            saving = (video.finished_at - video.upstream_finished_at).total_seconds()
            self.assertTrue(0 < queue < 10, queue)
            self.assertTrue(30 < making < 600, making)
            self.assertTrue(0 < saving < 10, saving)
            self.assertLess(video.finished_at, timezone.now())
            # Its timeline tells the same story: asked for, then sent, then saved.
            moments = {event.kind: event.at for event in video.events.all()}
            self.assertEqual(moments["created"], video.created_at)
            self.assertEqual(moments["submitted"], video.submitted_at)
            self.assertEqual(moments["archived"], video.finished_at)
        # The pro model's 15-second videos take longer than Sora 2's 4-second ones.
        spans = {(v.model, v.duration): v.upstream_finished_at - v.submitted_at for v in videos}  # type: ignore[operator]
        self.assertGreater(spans["sora-2-pro", 15], spans["sora-2", 4])

    def test_dana_runs_the_studio_and_may_resume_a_paused_service(self) -> None:
        """The demo's out-of-credit story needs someone with the operator right: dana, and only her."""
        output = self.seed(videos=0)
        staff = get_user_model().objects.filter(is_staff=True).values_list("username", flat=True)
        self.assertEqual(list(staff), ["dana"])
        self.assertIn("dana (admin, operator)", output)

    def test_it_leaves_the_videos_in_several_review_states_decided_by_someone_else(self) -> None:
        self.seed(videos=6)
        studio = Generation.objects.filter(team__name="Studio")
        self.assertEqual(
            set(studio.values_list("review_state", flat=True)),
            {
                ReviewState.NEW,
                ReviewState.IN_REVIEW,
                ReviewState.APPROVED,
                ReviewState.CHANGES_REQUESTED,
                ReviewState.REJECTED,
            },
        )
        for video in studio.exclude(reviewed_by=None):
            self.assertNotEqual(video.reviewed_by, video.created_by)
        bob = Membership.objects.get(user__username="bob").user
        self.assertTrue(studio.waiting_for(bob).exists(), "bob has videos waiting for his review")
        pinned = Comment.objects.get(generation__team__name="Studio", decision=ReviewState.CHANGES_REQUESTED)
        self.assertEqual(pinned.at_seconds, 3.0)
        self.assertEqual(pinned.replies.count(), 1)

    def test_it_shares_two_of_studios_videos_with_a_client_who_approved_one(self) -> None:
        output = self.seed(videos=3)
        link = ReviewLink.objects.get()
        self.assertEqual((link.team.name, link.title, link.videos.count()), ("Studio", "Spring campaign", 2))
        self.assertEqual(ClientVerdict.objects.get().name, "Ms Lee")
        self.assertTrue(Comment.objects.filter(link=link, guest_name="Ms Lee").exists())
        path = output.split("(shown only now): ")[1].split()[0]
        self.assertEqual(self.client.get(path).status_code, 200)

    def test_running_it_again_adds_nothing(self) -> None:
        self.seed(videos=1)
        self.seed(videos=1)
        self.assertEqual(Generation.objects.count(), 2)
        self.assertEqual(Membership.objects.count(), 4)
        self.assertEqual(ReviewLink.objects.count(), 1)

    def test_it_prints_the_client_link_whole_on_the_studios_address(self) -> None:
        out = io.StringIO()
        call_command("seed_demo", "--videos", "2", "--base-url", "http://127.0.0.1:8000/", stdout=out)
        address = out.getvalue().split("(shown only now): ")[1].split()[0]
        self.assertRegex(address, r"^http://127\.0\.0\.1:8000/review/[\w-]{40,}/$")
