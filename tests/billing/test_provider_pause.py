"""When the upstream says the studio's own account is out of credit (AceDataCloud's 403 `used_up`, Sora2API's
402), the studio stops sending to that provider, tells creators and admins, and keeps every job waiting,
uncharged, until an admin resumes it."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import httpx
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from sorastudio.billing.models import LedgerEntry, ProviderPause
from sorastudio.pipeline import submit, tasks
from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Generation, Notification, State
from sorastudio.teams.models import Membership, Team
from tests.helpers import make_member, simulator_transport, upstream

USED_UP = {"success": False, "error": {"code": "used_up", "message": "Your balance has been used up."}}


class OutOfCredit(httpx.BaseTransport):
    """The simulator, except that the account is empty until `top_up()`."""

    def __init__(self) -> None:
        self.inner = simulator_transport()
        self.empty = True
        self.submits = 0

    def top_up(self) -> None:
        self.empty = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sora/videos"):
            self.submits += 1
            if self.empty:
                return httpx.Response(403, json=USED_UP)
        return self.inner.handle_request(request)


class PauseTestCase(TestCase):
    def setUp(self) -> None:
        self.studio = Team.objects.create(name="Studio")
        self.agency = Team.objects.create(name="Agency")
        self.alice = make_member("alice", self.studio)
        self.dana = make_member("dana", self.studio, Membership.Role.ADMIN)
        self.carol = make_member("carol", self.agency, Membership.Role.ADMIN)
        # dana runs the installation (Django staff), as in the demo; carol is only her team's admin.
        self.dana.is_staff = True
        self.dana.save(update_fields=["is_staff"])
        self.account = OutOfCredit()
        self.enterContext(upstream(self.account))

    def make(self, prompt: str = "a paper boat in the rain", **params: Any) -> Generation:
        values: dict[str, Any] = {"model": "sora-2", "version": "1.0", "duration": 10, "size": "small"}
        values.update(params)
        return submit.create_job(team=self.studio, user=self.alice, simulated=True, prompt=prompt, **values)

    def start(self, **params: Any) -> Generation:
        generation = self.make(**params)
        tasks.start(generation)
        generation.refresh_from_db()
        return generation

    def kinds(self, generation: Generation) -> list[str]:
        return list(LedgerEntry.objects.filter(generation=generation).values_list("kind", flat=True))


class PausingTests(PauseTestCase):
    def test_an_empty_account_pauses_the_provider_and_the_job_waits_uncharged(self) -> None:
        generation = self.start()
        self.assertEqual((generation.state, generation.error_code), (State.QUEUED, ""))
        self.assertTrue(ProviderPause.is_paused("acedata"))
        self.assertFalse(ProviderPause.is_paused("sora2api"))
        self.assertEqual(self.kinds(generation), [LedgerEntry.Kind.RESERVE])
        self.assertTrue(generation.events.filter(kind="retry").exists())

    def test_every_admin_is_told_once(self) -> None:
        self.start()
        self.start()
        told = Notification.objects.filter(kind=Notification.Kind.PROVIDER_PAUSED)
        self.assertEqual(sorted(n.user.username for n in told), ["carol", "dana"])
        self.assertEqual(told.get(user=self.dana).detail["provider"], "acedata")
        self.assertTrue(told.get(user=self.dana).text.startswith("AceDataCloud is out of credit"))

    def test_an_operator_who_is_not_a_teams_admin_is_told_too(self) -> None:
        self.alice.is_staff = True
        self.alice.save(update_fields=["is_staff"])
        self.start()
        told = Notification.objects.filter(kind=Notification.Kind.PROVIDER_PAUSED)
        self.assertEqual(sorted(n.user.username for n in told), ["alice", "carol", "dana"])

    def test_the_simulators_trigger_word_empties_the_account_once(self) -> None:
        self.account.top_up()
        generation = self.start(prompt="a fox [sim:used_up]")
        self.assertEqual(generation.state, State.QUEUED)
        self.assertTrue(ProviderPause.is_paused("acedata"))
        with self.captureOnCommitCallbacks(execute=True):
            ProviderPause.active().get().resume(self.dana)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)

    def test_sora2api_running_out_of_credit_pauses_sora2api(self) -> None:
        generation = self.start(
            prompt="a kite [sim:used_up]", provider="sora2api", version="", quality="standard"
        )
        self.assertEqual(generation.state, State.QUEUED)
        self.assertTrue(ProviderPause.is_paused("sora2api"))
        self.assertFalse(ProviderPause.is_paused("acedata"))
        # The simulator's account is empty for the first try only, as if an admin had topped it up.
        with self.captureOnCommitCallbacks(execute=True):
            ProviderPause.active().get().resume(self.dana)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)

    @override_settings(GENERATION_TIMEOUT=600)
    def test_while_paused_jobs_wait_and_are_not_timed_out(self) -> None:
        first = self.start()
        self.account.top_up()  # topped up, but nobody has said so yet
        second = self.start()
        Generation.objects.update(created_at=timezone.now() - timedelta(hours=2))
        tasks.step()
        self.assertEqual(set(Generation.objects.values_list("state", flat=True)), {State.QUEUED})
        self.assertEqual(self.account.submits, 1)  # only the first job ever went out
        self.assertEqual(self.kinds(first) + self.kinds(second), [LedgerEntry.Kind.RESERVE] * 2)

    def test_other_providers_carry_on(self) -> None:
        self.start()
        other = self.start(provider="sora2api", version="", quality="standard")
        self.assertEqual(other.state, State.SUCCEEDED)


class TellingPeopleTests(PauseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.waiting = self.start()

    def test_creators_see_it_on_the_form_and_on_the_card(self) -> None:
        self.client.force_login(self.alice)
        page = self.client.get(reverse("studio:index"))
        self.assertContains(page, "AceDataCloud is out of credit.")
        self.assertContains(page, "Waiting: the video service is out of credit.")
        self.assertNotContains(page, reverse("studio:resume_provider", args=["acedata"]))

    def test_the_generate_command_says_the_jobs_wait(self) -> None:
        err = io.StringIO()
        call_command("generate", "--user", "alice", "--prompt", "a fox", stdout=io.StringIO(), stderr=err)
        self.assertIn("AceDataCloud is out of credit: the jobs wait in the queue", err.getvalue())
        self.assertEqual(Generation.objects.latest("created_at").state, State.QUEUED)

    def test_the_operator_gets_the_resume_button(self) -> None:
        self.client.force_login(self.dana)
        self.assertContains(self.client.get(reverse("studio:index")), "Resume AceDataCloud")
        self.assertContains(self.client.get(reverse("studio:costs")), "Resume AceDataCloud")

    def test_a_team_admin_sees_the_pause_and_who_can_lift_it(self) -> None:
        self.client.force_login(self.carol)
        resume = reverse("studio:resume_provider", args=["acedata"])
        for page in (reverse("studio:index"), reverse("studio:costs"), reverse("studio:pipeline_health")):
            with self.subTest(page=page):
                text = self.client.get(page).content.decode()
                self.assertIn("the studio’s operators can", text.lower())
                self.assertIn("(dana)", text)
                self.assertNotIn(resume, text)


class ResumingTests(PauseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.first = self.start()
        self.second = self.start()
        self.account.top_up()
        self.url = reverse("studio:resume_provider", args=["acedata"])

    def test_only_the_studios_operators_resume(self) -> None:
        """The upstream account is the installation's: a team's admin (carol) cannot lift its pause."""
        for person in (self.alice, self.carol):
            self.client.force_login(person)
            self.assertEqual(self.client.post(self.url).status_code, 403)
        self.assertTrue(ProviderPause.is_paused("acedata"))

    def test_resuming_sends_the_waiting_jobs_and_nothing_is_lost(self) -> None:
        self.client.force_login(self.dana)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url, {"next": reverse("studio:index")})
        self.assertRedirects(response, reverse("studio:index"))
        self.assertFalse(ProviderPause.is_paused("acedata"))
        self.assertEqual(ProviderPause.objects.get().resumed_by, self.dana)
        for generation in (self.first, self.second):
            generation.refresh_from_db()
            self.assertEqual(generation.state, State.SUCCEEDED)
            self.assertEqual(self.kinds(generation), [LedgerEntry.Kind.RESERVE, LedgerEntry.Kind.CHARGE])
        self.assertEqual(SimTask.objects.count(), 2)

    def test_resuming_twice_is_harmless(self) -> None:
        self.client.force_login(self.dana)
        self.client.post(self.url)
        self.assertRedirects(self.client.post(self.url), reverse("studio:costs"))
        self.assertEqual(ProviderPause.objects.count(), 1)

    @override_settings(GENERATION_TIMEOUT=600)
    def test_a_job_that_waited_gets_its_full_time_after_the_resume(self) -> None:
        Generation.objects.update(created_at=timezone.now() - timedelta(hours=2))
        ProviderPause.active().get().resume(self.dana)
        self.account.empty = True  # still failing, so the jobs stay queued: but not timed out
        tasks.step()
        self.assertEqual(set(Generation.objects.values_list("state", flat=True)), {State.QUEUED})
        self.assertTrue(ProviderPause.is_paused("acedata"))  # and paused again, once
        self.assertEqual(ProviderPause.objects.count(), 2)
