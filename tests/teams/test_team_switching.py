"""Switching between one's teams from the top bar: the gallery follows, and a team that is not one's own
cannot be chosen."""

from __future__ import annotations

from typing import Any

from django.test import TestCase
from django.urls import reverse

from sorastudio.studio.models import Generation
from sorastudio.teams.models import Membership, Team
from tests.helpers import make_member


def video(team: Team, user: Any, prompt: str) -> Generation:
    return Generation.objects.create(
        team=team, created_by=user, prompt=prompt, model="sora-2", duration=10, size="small"
    )


class TeamSwitchingTests(TestCase):
    def setUp(self) -> None:
        self.studio = Team.objects.create(name="Studio")
        self.agency = Team.objects.create(name="Agency")
        self.dana = make_member("dana", self.studio, Membership.Role.ADMIN)
        Membership.objects.create(team=self.agency, user=self.dana, role=Membership.Role.CREATOR)
        self.alice = make_member("alice", self.studio)
        self.carol = make_member("carol", self.agency, Membership.Role.ADMIN)
        video(self.studio, self.alice, "A lighthouse in the storm")
        video(self.agency, self.carol, "A cup of coffee, steam rising")
        self.client.force_login(self.dana)

    def test_it_shows_the_current_team_and_role_with_a_switcher(self) -> None:
        page = self.client.get(reverse("studio:index")).content.decode()
        self.assertIn('id="team-select"', page)
        self.assertIn(f'<option value="{self.studio.pk}" selected>Studio</option>', page)
        self.assertIn(f'<option value="{self.agency.pk}">Agency</option>', page)
        self.assertIn('<span class="role" title="Your role in this team">Admin</span>', page)
        self.assertIn(">Switch team</button>", page)  # for browsers without scripts

    def test_it_shows_no_switcher_to_someone_in_one_team(self) -> None:
        self.client.force_login(self.alice)
        page = self.client.get(reverse("studio:index")).content.decode()
        self.assertNotIn('id="team-select"', page)
        self.assertIn('<span class="team-name">Studio</span>', page)
        self.assertIn(">Creator</span>", page)

    def test_it_switches_the_gallery_to_the_chosen_team(self) -> None:
        before = self.client.get(reverse("studio:index")).content.decode()
        self.assertIn("A lighthouse in the storm", before)

        response = self.client.post(reverse("studio:switch_team"), {"team": self.agency.pk}, follow=True)
        self.assertRedirects(response, reverse("studio:index"))
        page = response.content.decode()
        self.assertIn("A cup of coffee, steam rising", page)
        self.assertNotIn("A lighthouse in the storm", page)
        self.assertIn("You are now working in Agency.", page)
        self.assertIn('<span class="role" title="Your role in this team">Creator</span>', page)

    def test_the_choice_lasts_for_the_session(self) -> None:
        self.client.post(reverse("studio:switch_team"), {"team": self.agency.pk})
        page = self.client.get(reverse("studio:history")).content.decode()
        self.assertIn(f'<option value="{self.agency.pk}" selected>Agency</option>', page)

    def test_the_role_follows_the_team(self) -> None:
        """dana is an admin in Studio and a creator in Agency: Agency's team page is closed to her."""
        self.assertEqual(self.client.get(reverse("studio:members")).status_code, 200)
        self.client.post(reverse("studio:switch_team"), {"team": self.agency.pk})
        self.assertEqual(self.client.get(reverse("studio:members")).status_code, 403)

    def test_a_team_that_is_not_ones_own_is_404(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(reverse("studio:switch_team"), {"team": self.agency.pk})
        self.assertEqual(response.status_code, 404)
        page = self.client.get(reverse("studio:index")).content.decode()
        self.assertNotIn("A cup of coffee, steam rising", page)

    def test_nonsense_is_404(self) -> None:
        for value in ("", "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
            with self.subTest(value=value):
                response = self.client.post(reverse("studio:switch_team"), {"team": value})
                self.assertEqual(response.status_code, 404)

    def test_it_takes_only_post(self) -> None:
        response = self.client.get(reverse("studio:switch_team"), {"team": str(self.agency.pk)})
        self.assertEqual(response.status_code, 405)

    def test_a_team_one_has_left_is_no_longer_current(self) -> None:
        self.client.post(reverse("studio:switch_team"), {"team": self.agency.pk})
        Membership.objects.filter(team=self.agency, user=self.dana).delete()
        page = self.client.get(reverse("studio:index")).content.decode()
        self.assertIn("A lighthouse in the storm", page)
        self.assertNotIn("A cup of coffee, steam rising", page)
