"""`manage.py seed_demo`: two teams, their people and finished videos, made by the real pipeline."""

from __future__ import annotations

import io
from pathlib import Path

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory, TestCase

from sorastudio.studio.models import Comment, Generation, ReviewState, State
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

    def test_running_it_again_adds_nothing(self) -> None:
        self.seed(videos=1)
        self.seed(videos=1)
        self.assertEqual(Generation.objects.count(), 2)
        self.assertEqual(Membership.objects.count(), 4)
