"""Who belongs to which team: every page is scoped to the current team, and nobody lands in a team that is
not theirs."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import TestCase, override_settings
from django.urls import reverse

from sorastudio.studio.models import Generation
from sorastudio.teams.models import Membership, Team
from tests.helpers import make_member


class PersonalTeamTests(TestCase):
    def test_the_first_account_of_an_empty_studio_gets_a_team_of_its_own(self) -> None:
        root = get_user_model().objects.create_superuser("root", password="root-pass-123")
        self.client.force_login(root)
        self.assertEqual(self.client.get(reverse("studio:index")).status_code, 200)
        team = Team.objects.get(personal_for=root)
        self.assertEqual(Membership.objects.get(user=root).team, team)
        self.client.get(reverse("studio:index"))
        self.assertEqual(Team.objects.filter(personal_for=root).count(), 1)

    def test_on_a_studio_with_teams_someone_in_none_gets_no_team_of_their_own(self) -> None:
        studio = Team.objects.create(name="Studio")
        make_member("alice", studio)
        bob = get_user_model().objects.create_user("bob", password="bob-pass-123")
        self.client.force_login(bob)
        page = self.client.get(reverse("studio:index"))
        self.assertContains(page, "You are not in a team yet", status_code=403)
        self.assertFalse(Membership.objects.filter(user=bob).exists())
        self.assertEqual(Team.objects.count(), 1)

    @override_settings(PERSONAL_TEAMS=True)
    def test_where_the_studio_says_so_someone_in_no_team_gets_their_own(self) -> None:
        make_member("alice", Team.objects.create(name="Studio"))
        bob = get_user_model().objects.create_user("bob", password="bob-pass-123")
        self.client.force_login(bob)
        self.assertEqual(self.client.get(reverse("studio:index")).status_code, 200)
        self.assertEqual(Membership.objects.get(user=bob).team, bob.personal_team)

    @override_settings(PERSONAL_TEAMS=True)
    def test_a_new_user_never_inherits_a_team_by_its_name(self) -> None:
        studio = Team.objects.create(name="bob's studio")  # someone else's team with that name
        alice = make_member("alice", studio)
        Generation.objects.create(
            team=studio, created_by=alice, prompt="private", model="sora-2", duration=10, size="small"
        )
        bob = get_user_model().objects.create_user("bob", password="bob-pass-123")
        self.client.force_login(bob)
        page = self.client.get(reverse("studio:index")).content.decode()
        self.assertNotIn("private", page)
        self.assertFalse(Membership.objects.filter(team=studio, user=bob).exists())
        self.assertEqual(bob.personal_team.name, "bob's studio (2)")
