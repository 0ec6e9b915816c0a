"""Costs and quotas where people meet them: the cost and the remainder beside the Generate button (and its
htmx refresh), the refusal at the cap, "you were not charged", and the `quota` and `generate` commands."""

from __future__ import annotations

import html
import io
import json
from typing import Any

from django.core.management import CommandError, call_command
from django.urls import reverse

from sorastudio.billing.models import Combination, LedgerEntry, Period, PriceOverride, Quota
from sorastudio.pipeline import submit
from sorastudio.studio.models import Generation, Notification, State
from sorastudio.teams.models import Membership
from tests.helpers import ACEDATA_FORM as VALID
from tests.helpers import TeamTestCase

# What the cost's htmx refresh sends: the options, not the prompt.
OPTIONS = {name: value for name, value in VALID.items() if name != "prompt"}
HTMX = {"HX-Request": "true"}


class QuotaTestCase(TeamTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.alice)

    def cost_box(self, **params: str) -> str:
        """The #cost fragment as the form's htmx refresh asks for it."""
        response = self.client.get(
            reverse("studio:compose_cost"), params, headers={**HTMX, "HX-Target": "cost"}
        )
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def submit(self, **overrides: str) -> Any:
        return self.client.post(reverse("studio:generate"), {**VALID, **overrides}, headers=HTMX)


class CostDisplayTests(QuotaTestCase):
    def test_it_shows_the_cost_and_that_no_limit_is_set(self) -> None:
        response = self.client.get(reverse("studio:index"))
        self.assertContains(response, "This will cost 15 credits.")  # sora-2, 15 s by default
        self.assertContains(response, "No limit set.")

    def test_it_shows_what_is_left_this_month(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        submit.create_job(team=self.studio, user=self.alice, simulated=True, **_job())
        response = self.client.get(reverse("studio:index"))
        self.assertContains(response, "You have 90 credits left this month.")

    def test_the_refresh_follows_the_variations_and_the_length(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        box = self.cost_box(**{**OPTIONS, "variations": "3"})
        self.assertIn("This will cost 30 credits (3 videos × 10).", box)
        self.assertIn("You have 100 credits left this month.", box)
        box = self.cost_box(**{**OPTIONS, "variations": "3", "duration": "15"})
        self.assertIn("This will cost 45 credits (3 videos × 15).", box)

    def test_the_refresh_counts_a_batchs_lines_without_the_prompt_itself(self) -> None:
        box = self.cost_box(**{**OPTIONS, "batch": "1", "prompt_lines": "3", "variations": "2"})
        self.assertIn("This will cost 60 credits (6 videos × 10).", box)
        box = self.cost_box(**{**OPTIONS, "prompt_lines": "3"})  # not a batch: one video
        self.assertIn("This will cost 10 credits.", box)

    def test_the_refresh_prices_what_the_options_become_after_a_switch(self) -> None:
        # Sora 2 Pro in HD for 25 s, then a switch to Sora 2: 25 s and HD are not possible, 15 s standard is.
        box = self.cost_box(**{**OPTIONS, "model": "sora-2-pro", "duration": "25", "size": "large"})
        self.assertIn("This will cost 125 credits.", box)
        box = self.cost_box(**{**OPTIONS, "model": "sora-2", "duration": "25", "size": "large"})
        self.assertIn("This will cost 15 credits.", box)

    def test_it_uses_the_teams_own_prices(self) -> None:
        PriceOverride.set_price(self.studio, Combination.of({**OPTIONS, "duration": 10}), 4, by=self.dana)
        self.assertIn("This will cost 4 credits.", self.cost_box(**OPTIONS))

    def test_it_shows_the_team_remainder_beside_the_members(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.DAILY, 50)
        Quota.set_limit(self.studio, None, Period.MONTHLY, 300)
        submit.create_job(team=self.studio, user=self.bob, simulated=True, **_job())
        self.assertIn("You have 50 credits left today (team: 290).", self.cost_box(**OPTIONS))

    def test_it_warns_when_the_request_goes_past_the_soft_threshold(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100, 50)
        self.assertNotIn("warning level", self.cost_box(**{**OPTIONS, "variations": "4"}))
        box = self.cost_box(**{**OPTIONS, "variations": "4", "duration": "15"})
        self.assertIn("This goes past the warning level of your monthly limit: 60 of 100 credits used.", box)

    def test_admins_get_a_link_to_the_prices(self) -> None:
        self.assertNotIn(reverse("studio:costs"), self.cost_box(**OPTIONS))
        self.client.force_login(self.dana)
        self.assertIn(reverse("studio:costs"), self.cost_box(**OPTIONS))


class AtTheCapTests(QuotaTestCase):
    def setUp(self) -> None:
        super().setUp()
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        for _ in range(8):
            submit.create_job(team=self.studio, user=self.alice, simulated=True, **_job())

    def test_it_stops_a_submit_past_the_cap_and_keeps_the_prompt(self) -> None:
        response = self.submit(prompt="A lighthouse at night", variations="3")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(Generation.objects.count(), 8)
        body = response.content.decode()
        self.assertIn("This would cost 30 credits, but your monthly limit leaves 20.", body)
        self.assertIn("It resets on ", body)
        self.assertIn("Ask dana for more credits.", body)
        self.assertIn('role="alert"', body)
        self.assertIn("A lighthouse at night</textarea>", body)
        self.assertEqual(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.RESERVE).count(), 8)

    def test_without_scripts_it_answers_400_with_the_message(self) -> None:
        response = self.client.post(reverse("studio:generate"), {**VALID, "variations": "3"})
        self.assertContains(response, "your monthly limit leaves 20", status_code=400)
        self.assertEqual(Generation.objects.count(), 8)

    def test_it_lets_through_what_still_fits(self) -> None:
        response = self.submit(variations="2")
        self.assertIn("generation-created", response["HX-Trigger"])
        self.assertEqual(Generation.objects.count(), 10)
        self.assertIn("You have 0 credits left this month.", self.cost_box(**OPTIONS))
        self.assertIn("your monthly limit leaves 0", self.submit().content.decode())

    def test_the_team_cap_stops_every_member(self) -> None:
        Quota.set_limit(self.studio, None, Period.DAILY, 85)
        self.client.force_login(self.bob)
        body = html.unescape(self.submit().content.decode())
        self.assertIn("This would cost 10 credits, but the team's daily limit leaves 5.", body)
        self.assertIn("It resets tomorrow.", body)

    def test_a_rerun_past_the_cap_is_refused_with_the_message(self) -> None:
        original = Generation.objects.first()
        assert original is not None
        Generation.objects.filter(pk=original.pk).update(state=State.FAILED)
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 80)
        response = self.client.post(reverse("studio:rerun", args=[original.pk]), follow=True)
        self.assertContains(response, "your monthly limit leaves 0")
        self.assertEqual(Generation.objects.count(), 8)

    def test_a_refused_video_gives_its_credits_back_and_says_so(self) -> None:
        response = self.submit(prompt="a real person waving", variations="2")
        self.assertIn("generation-created", response["HX-Trigger"])
        refused = Generation.objects.filter(prompt="a real person waving")
        self.assertEqual({g.state for g in refused}, {State.FAILED})
        self.assertIn("You have 20 credits left this month.", self.cost_box(**OPTIONS))
        page = self.client.get(refused[0].get_absolute_url())
        self.assertContains(page, "You were not charged")
        card_headers = {**HTMX, "HX-Target": f"card-{refused[0].pk}"}
        card = self.client.get(reverse("studio:generation_card", args=[refused[0].pk]), headers=card_headers)
        self.assertContains(card, "You were not charged")


class DoneTests(QuotaTestCase):
    def test_alice_meets_her_monthly_quota_of_100_credits(self) -> None:
        call_command("quota", "alice", "--monthly", "100", stdout=io.StringIO())
        self.assertContains(self.client.get(reverse("studio:index")), "You have 100 credits left this month.")
        self.assertIn(
            "This will cost 40 credits (4 videos × 10).", self.cost_box(**{**OPTIONS, "variations": "4"})
        )
        for _ in range(2):
            self.assertIn("generation-created", self.submit(variations="4")["HX-Trigger"])
        stopped = self.submit(variations="4").content.decode()
        self.assertIn("This would cost 40 credits, but your monthly limit leaves 20.", stopped)
        self.assertEqual(Generation.objects.count(), 8)
        self.submit(prompt="a celebrity on a red carpet", variations="2")
        refused = Generation.objects.get(prompt="a celebrity on a red carpet", variation=1)
        self.assertEqual(refused.state, State.FAILED)
        self.assertIn("You have 20 credits left this month.", self.cost_box(**OPTIONS))


class GenerateCommandTests(QuotaTestCase):
    def run_generate(self, *args: str) -> tuple[list[dict[str, Any]], str, int]:
        out, err = io.StringIO(), io.StringIO()
        code = 0
        try:
            call_command("generate", "--user", "alice", *args, stdout=out, stderr=err)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue(), code

    def test_its_json_gives_each_jobs_cost(self) -> None:
        lines, _err, code = self.run_generate("--prompt", "a fox", "--duration", "10", "--variations", "2")
        self.assertEqual(code, 0)
        self.assertEqual([line["cost"] for line in lines], [10, 10])

    def test_over_the_cap_it_refuses_with_status_3(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 25)
        lines, err, code = self.run_generate("--prompt", "a fox", "--duration", "10", "--variations", "3")
        self.assertEqual((lines, code), ([], 3))
        self.assertIn("This would cost 30 credits, but your monthly limit leaves 25.", err)
        self.assertFalse(Generation.objects.exists())

    def test_it_says_when_a_job_was_not_charged(self) -> None:
        lines, _err, _code = self.run_generate("--prompt", "a real person", "--duration", "10", "--wait")
        self.assertEqual((lines[-1]["state"], lines[-1]["cost"], lines[-1]["charged"]), ("failed", 10, False))


class QuotaCommandTests(QuotaTestCase):
    def quota(self, *args: str) -> str:
        out = io.StringIO()
        call_command("quota", *args, stdout=out)
        return out.getvalue()

    def test_it_sets_a_members_limits_with_a_default_warning_level(self) -> None:
        output = self.quota("alice", "--daily", "20", "--monthly", "100", "--monthly-soft", "90")
        daily = Quota.objects.get(team=self.studio, user=self.alice, period=Period.DAILY)
        monthly = Quota.objects.get(team=self.studio, user=self.alice, period=Period.MONTHLY)
        self.assertEqual((daily.hard_cap, daily.soft_limit), (20, 16))
        self.assertEqual((monthly.hard_cap, monthly.soft_limit), (100, 90))
        self.assertIn("alice in Studio: monthly limit 100 credits (warning at 90); 0 used, 100 left.", output)

    def test_it_changes_and_clears_a_limit(self) -> None:
        self.quota("alice", "--monthly", "100")
        self.quota("alice", "--monthly", "150")
        self.assertEqual(Quota.objects.get().hard_cap, 150)
        self.assertIn("no limit set", self.quota("alice", "--monthly", "off"))
        self.assertFalse(Quota.objects.exists())

    def test_it_sets_a_limit_for_the_whole_team(self) -> None:
        output = self.quota("--team", "Studio", "--monthly", "500")
        self.assertEqual(Quota.objects.get(user__isnull=True).hard_cap, 500)
        self.assertIn("the whole of Studio: monthly limit 500", output)

    def test_it_grants_extra_credit_with_a_reason(self) -> None:
        self.quota("alice", "--monthly", "100")
        output = self.quota("alice", "--grant", "30", "--reason", "launch week")
        self.assertIn("+ 30 granted; 0 used, 130 left.", output)
        grant = LedgerEntry.objects.get(kind=LedgerEntry.Kind.GRANT)
        self.assertEqual((grant.user, grant.credits, grant.reason), (self.alice, 30, "launch week"))
        with self.assertRaisesMessage(CommandError, "Say why"):
            self.quota("alice", "--grant", "30")

    def test_it_asks_which_team_for_someone_in_several(self) -> None:
        Membership.objects.create(team=self.agency, user=self.alice)
        with self.assertRaisesMessage(CommandError, "Choose one with --team"):
            self.quota("alice", "--monthly", "100")
        self.quota("alice", "--team", "Agency", "--monthly", "100")
        self.assertEqual(Quota.objects.get().team, self.agency)
        with self.assertRaisesMessage(CommandError, "not a member of Studio"):
            self.quota("carol", "--team", "Studio", "--monthly", "1")

    def test_it_refuses_a_warning_level_above_the_limit(self) -> None:
        with self.assertRaisesMessage(CommandError, "warning level cannot be above"):
            self.quota("alice", "--monthly", "100", "--monthly-soft", "120")
        with self.assertRaises(CommandError):
            self.quota("alice", "--monthly", "lots")


class SoftThresholdTests(QuotaTestCase):
    def test_admins_are_told_once_when_a_member_goes_past_it(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100, 25)
        for _ in range(2):
            self.submit()
        self.assertFalse(Notification.objects.filter(kind=Notification.Kind.QUOTA_WARNING).exists())
        for _ in range(2):
            self.submit()
        warning = Notification.objects.get(kind=Notification.Kind.QUOTA_WARNING)
        self.assertEqual(
            (warning.user, warning.detail["member"], warning.detail["used"]), (self.dana, "alice", 30)
        )


def _job(**params: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "prompt": "a paper boat",
        "model": "sora-2",
        "version": "1.0",
        "duration": 10,
        "size": "small",
        "orientation": "landscape",
    }
    values.update(params)
    return values
