"""Limits set by the team's admins on the costs page: per member or for the whole team, per day or month,
checked like any form, and only ever for their own team."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from sorastudio.billing.models import Period, Quota
from sorastudio.teams.models import Membership
from tests.helpers import TeamTestCase


class LimitsPageTests(TeamTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.dana)
        self.alice_key = str(Membership.objects.get(user=self.alice).key)

    def set_limit(self, **data: str) -> Any:
        return self.client.post(reverse("studio:set_limit"), {"period": "monthly", **data})

    def test_it_sets_a_members_monthly_limit_with_a_warning_at_80_percent(self) -> None:
        response = self.set_limit(member=self.alice_key, hard_cap="100")
        self.assertRedirects(response, reverse("studio:costs"), fetch_redirect_response=False)
        quota = Quota.objects.get(team=self.studio, user=self.alice)
        self.assertEqual((quota.period, quota.hard_cap, quota.soft_limit), (Period.MONTHLY, 100, 80))
        self.assertEqual(quota.updated_by, self.dana)
        page = self.client.get(reverse("studio:costs"))
        self.assertContains(page, "Remove the monthly limit of alice")

    def test_it_sets_the_whole_teams_daily_limit_and_changes_it_later(self) -> None:
        self.set_limit(member="", period="daily", hard_cap="500", soft_limit="300")
        self.set_limit(member="", period="daily", hard_cap="600")
        quota = Quota.objects.get(team=self.studio, user=None)
        self.assertEqual((quota.period, quota.hard_cap, quota.soft_limit), (Period.DAILY, 600, 480))
        self.assertContains(
            self.client.get(reverse("studio:costs")), "Remove the daily limit of The whole team"
        )

    def test_a_warning_above_the_limit_is_named_next_to_its_field(self) -> None:
        response = self.set_limit(member=self.alice_key, hard_cap="100", soft_limit="150")
        self.assertContains(response, "The warning level cannot be above the limit.", status_code=400)
        self.assertContains(response, 'value="150"', status_code=400)  # what was typed stays
        self.assertFalse(Quota.objects.exists())

    def test_a_limit_that_is_not_a_number_is_refused(self) -> None:
        response = self.set_limit(member=self.alice_key, hard_cap="lots")
        self.assertContains(response, "Enter a whole number.", status_code=400)
        self.assertFalse(Quota.objects.exists())

    def test_someone_from_another_team_cannot_be_limited(self) -> None:
        carol_key = str(Membership.objects.get(user=self.carol).key)
        response = self.set_limit(member=carol_key, hard_cap="100")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Quota.objects.exists())

    def test_it_removes_a_limit_of_its_own_team_only(self) -> None:
        mine = Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        theirs = Quota.set_limit(self.agency, self.carol, Period.MONTHLY, 100)
        self.assertEqual(self.client.post(reverse("studio:clear_limit", args=[theirs.pk])).status_code, 404)
        self.client.post(reverse("studio:clear_limit", args=[mine.pk]))
        self.assertEqual(list(Quota.objects.all()), [theirs])

    def test_members_who_are_not_admins_cannot_set_limits(self) -> None:
        self.client.force_login(self.alice)
        self.assertEqual(self.set_limit(member=self.alice_key, hard_cap="1000").status_code, 403)
        self.assertFalse(Quota.objects.exists())
