"""The credit ledger: reservations, charges, releases and grants, the arithmetic of what is used and left in a
day or a month, verbs that are harmless twice, and the pipeline settling each job on the simulator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import RequestFactory, TestCase
from django.urls import reverse
from django.utils import timezone

from sorastudio.billing.costs import cost_of
from sorastudio.billing.models import (
    Budget,
    Combination,
    LedgerEntry,
    Period,
    PriceOverride,
    ProviderPause,
    Quota,
    QuotaExceeded,
)
from sorastudio.pipeline import outcomes, submit, tasks
from sorastudio.studio.models import Generation, State
from sorastudio.studio.templatetags.billing_tags import charge_note
from sorastudio.teams.models import Membership, Team
from tests.helpers import make_job, make_member

# The state these tests' jobs are in when they end them (a job made with make_job waits in the queue).
QUEUED = (State.QUEUED,)

Kind = LedgerEntry.Kind


class LedgerTestCase(TestCase):
    def setUp(self) -> None:
        self.studio = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.studio)
        self.bob = make_member("bob", self.studio, Membership.Role.REVIEWER)
        self.dana = make_member("dana", self.studio, Membership.Role.ADMIN)

    def make(self, prompt: str = "a paper boat in the rain", user: Any = None, **params: Any) -> Generation:
        """A 10 s Sora 2 job: 10 credits at the default price."""
        return make_job(self.studio, user or self.alice, prompt, **params)

    def made_upstream(self, generation: Generation) -> None:
        """The upstream reports the video made (only a running job can be)."""
        Generation.objects.filter(pk=generation.pk).update(state=State.RUNNING, upstream_task_id="task-1")
        generation.refresh_from_db()
        self.assertTrue(outcomes.upstream_succeeded(generation, "https://example.com/v.mp4"))

    def kinds(self, generation: Generation) -> list[str]:
        return list(LedgerEntry.objects.filter(generation=generation).values_list("kind", flat=True))

    def limit(self, user: Any = None, period: str = Period.MONTHLY) -> Any:
        budget = Budget.of(self.studio, user or self.alice)
        return next(
            lim for lim in budget.limits if lim.period == period and lim.member == (user is not False)
        )


class ReservationTests(LedgerTestCase):
    def test_it_reserves_the_price_of_a_job_when_it_is_asked_for(self) -> None:
        generation = self.make(model="sora-2-pro", duration=25, size="large")
        entry = LedgerEntry.objects.get(generation=generation)
        self.assertEqual(
            (entry.kind, entry.credits, entry.user, entry.actor), (Kind.RESERVE, 125, self.alice, self.alice)
        )
        self.assertEqual(
            (entry.provider, entry.model, entry.counts_on), ("acedata", "sora-2-pro", timezone.localdate())
        )
        self.assertEqual(cost_of(generation), 125)

    def test_a_job_keeps_the_price_it_was_asked_at(self) -> None:
        generation = self.make()
        PriceOverride.set_price(self.studio, Combination.of(generation.params()), 3, by=self.dana)
        self.assertEqual(cost_of(generation), 10)
        self.assertEqual(cost_of(self.make()), 3)

    def test_a_job_has_one_reservation_at_most(self) -> None:
        generation = self.make()
        with self.assertRaises(IntegrityError), transaction.atomic():
            LedgerEntry.reserve(generation, by=self.alice)

    def test_past_the_cap_nothing_is_created(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 25)
        self.make()
        self.make()
        with self.assertRaises(QuotaExceeded) as refused:
            self.make()
        self.assertEqual(Generation.objects.count(), 2)
        self.assertEqual(LedgerEntry.objects.count(), 2)
        self.assertEqual((refused.exception.credits, refused.exception.limit.remaining), (10, 5))

    def test_a_whole_request_must_fit_before_anything_is_made(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 35)
        params = {"provider": "acedata", "model": "sora-2", "version": "1.0", "duration": 10, "size": "small"}
        with self.assertRaises(QuotaExceeded):
            submit.create_jobs(
                team=self.studio,
                user=self.alice,
                simulated=True,
                params=params,
                prompts=["a", "b"],
                variations=2,
            )
        self.assertFalse(Generation.objects.exists())
        made = submit.create_jobs(
            team=self.studio, user=self.alice, simulated=True, params=params, prompts=["a"], variations=3
        )
        self.assertEqual(len(made), 3)


class ArithmeticTests(LedgerTestCase):
    def setUp(self) -> None:
        super().setUp()
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        Quota.set_limit(self.studio, None, Period.MONTHLY, 200)

    def test_used_is_reserved_minus_released(self) -> None:
        jobs = [self.make() for _ in range(3)]
        self.assertEqual((self.limit().used, self.limit().remaining), (30, 70))
        outcomes.failed(jobs[0], "generation_failed", "no", from_states=QUEUED)
        self.made_upstream(jobs[1])
        self.assertEqual((self.limit().used, self.limit().remaining), (20, 80))
        self.assertEqual(self.kinds(jobs[0]), [Kind.RESERVE, Kind.RELEASE])
        self.assertEqual(self.kinds(jobs[1]), [Kind.RESERVE, Kind.CHARGE])

    def test_a_members_jobs_count_for_the_team_too(self) -> None:
        self.make()
        self.make(user=self.bob)
        self.assertEqual(self.limit().used, 10)
        self.assertEqual(self.limit(user=False).used, 20)

    def test_grants_raise_the_limit_of_whoever_they_are_for(self) -> None:
        self.make()
        LedgerEntry.grant(self.studio, 15, reason="launch week", by=self.dana, user=self.alice)
        self.assertEqual((self.limit().granted, self.limit().remaining), (15, 105))
        self.assertEqual(self.limit(user=False).remaining, 190)  # a member's grant is not the team's
        LedgerEntry.grant(self.studio, 50, reason="big client", by=self.dana)
        self.assertEqual((self.limit().remaining, self.limit(user=False).remaining), (105, 240))

    def test_a_grant_needs_credits_and_a_reason(self) -> None:
        with self.assertRaisesMessage(ValueError, "Say why"):
            LedgerEntry.grant(self.studio, 10, reason=" ")
        with self.assertRaisesMessage(ValueError, "positive"):
            LedgerEntry.grant(self.studio, 0, reason="nothing")

    def test_what_is_left_never_goes_below_zero(self) -> None:
        for _ in range(5):
            self.make()
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 30)  # lowered below what is used
        self.assertEqual((self.limit().used, self.limit().remaining), (50, 0))
        with self.assertRaises(QuotaExceeded):
            self.make()

    def test_a_soft_threshold_warns_and_the_cap_refuses(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100, 80)
        for _ in range(7):
            self.make()
        limit = self.limit()
        self.assertEqual(
            (limit.warns(10), limit.warns(20), limit.refuses(30), limit.refuses(40)),
            (False, True, False, True),
        )
        self.assertTrue(limit.crossed_by(20))
        self.make()
        self.make()
        self.assertFalse(self.limit().crossed_by(10))  # already past it


class PeriodTests(LedgerTestCase):
    def backdate(self, generation: Generation, days: int) -> None:
        LedgerEntry.objects.filter(generation=generation).update(
            counts_on=timezone.localdate() - timedelta(days=days)
        )

    def test_a_daily_limit_counts_today_only(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.DAILY, 20)
        self.backdate(self.make(), days=1)
        self.make()
        self.assertEqual(self.limit(period=Period.DAILY).used, 10)

    def test_a_monthly_limit_counts_this_calendar_month_only(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        last_month = self.make()
        self.backdate(last_month, days=timezone.localdate().day)  # the last day of the previous month
        self.make()
        self.assertEqual(self.limit().used, 10)

    def test_a_release_counts_in_the_period_of_its_reservation(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.DAILY, 20)
        yesterdays = self.make()
        self.backdate(yesterdays, days=1)
        self.make()
        self.make()
        outcomes.failed(yesterdays, "generation_failed", "no", from_states=QUEUED)
        release = LedgerEntry.objects.get(generation=yesterdays, kind=Kind.RELEASE)
        self.assertEqual(release.counts_on, timezone.localdate() - timedelta(days=1))
        # Yesterday's credits coming back do not make room today.
        self.assertEqual(self.limit(period=Period.DAILY).remaining, 0)

    def test_the_tightest_limit_decides(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.DAILY, 15)
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        self.make()
        with self.assertRaises(QuotaExceeded) as refused:
            self.make()
        self.assertEqual(refused.exception.limit.period, Period.DAILY)
        self.assertIn("It resets tomorrow.", refused.exception.message)


class SettlingTests(LedgerTestCase):
    def test_settling_twice_changes_nothing(self) -> None:
        generation = self.make()
        outcomes.failed(generation, "generation_failed", "no", from_states=QUEUED)
        self.assertFalse(LedgerEntry.settle(generation))
        outcomes.failed(generation, "generation_failed", "again", from_states=QUEUED)
        self.assertEqual(self.kinds(generation), [Kind.RESERVE, Kind.RELEASE])

    def test_a_job_is_charged_or_released_never_both(self) -> None:
        generation = self.make()
        self.made_upstream(generation)
        with self.assertRaises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                kind=Kind.RELEASE,
                team=self.studio,
                generation=generation,
                credits=10,
                counts_on=timezone.localdate(),
            )

    def test_a_video_made_but_not_saved_stays_paid_for(self) -> None:
        generation = self.make()
        self.made_upstream(generation)
        outcomes.failed(generation, "archive_failed", "disk full", from_states=(State.ARCHIVING,))
        self.assertEqual(self.kinds(generation), [Kind.RESERVE, Kind.CHARGE])
        self.assertIn("credits were counted", charge_note(generation))

    def test_an_unconfirmed_submit_stays_counted(self) -> None:
        # The upstream may have made (and billed) it: the limits hold whatever happened there.
        generation = self.make()
        outcomes.failed(generation, "submit_uncertain", "read timed out", from_states=QUEUED)
        self.assertEqual(self.kinds(generation), [Kind.RESERVE, Kind.CHARGE])

    def test_a_time_out_gives_the_credits_back(self) -> None:
        generation = self.make()
        outcomes.failed(generation, "timed_out", "too long", from_states=QUEUED, state=State.TIMED_OUT)
        self.assertEqual(self.kinds(generation), [Kind.RESERVE, Kind.RELEASE])
        self.assertIn("You were not charged", charge_note(generation))

    def test_the_one_minute_tick_settles_an_ending_that_was_not_written(self) -> None:
        failed, made = self.make(), self.make()
        # A worker stopped between ending the job and writing its outcome.
        Generation.objects.filter(pk=failed.pk).update(state=State.FAILED, error_code="generation_failed")
        Generation.objects.filter(pk=made.pk).update(
            state=State.SUCCEEDED, upstream_finished_at=timezone.now()
        )
        tasks.tick()
        self.assertEqual(self.kinds(failed), [Kind.RESERVE, Kind.RELEASE])
        self.assertEqual(self.kinds(made), [Kind.RESERVE, Kind.CHARGE])

    def test_the_ledger_outlives_a_purged_video(self) -> None:
        generation = self.make()
        outcomes.failed(generation, "generation_failed", "no", from_states=QUEUED)
        Generation.objects.filter(pk=generation.pk).delete()
        self.assertEqual(LedgerEntry.objects.filter(generation__isnull=True).count(), 2)


class PipelineTests(LedgerTestCase):
    """Through the queue and the simulator, as a job really goes."""

    def test_a_video_made_is_charged(self) -> None:
        generation = self.make()
        tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        self.assertEqual(self.kinds(generation), [Kind.RESERVE, Kind.CHARGE])
        self.assertEqual(charge_note(generation), "")

    def test_a_refused_video_is_released(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 10)
        generation = self.make("a celebrity on a red carpet")
        tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual(
            (generation.state, generation.error_code), (State.FAILED, "content_policy_violation")
        )
        self.assertEqual(self.kinds(generation), [Kind.RESERVE, Kind.RELEASE])
        self.assertEqual(self.limit().remaining, 10)

    def test_it_shows_what_each_video_cost_on_its_card_and_its_page(self) -> None:
        made = self.make()
        refused = self.make("a celebrity on a red carpet")
        for generation in (made, refused):
            tasks.start(generation)
        self.client.force_login(self.alice)
        page = self.client.get(made.get_absolute_url())
        self.assertContains(page, "10 credits, charged")
        page = self.client.get(refused.get_absolute_url())
        self.assertContains(page, "10 credits, given back")
        gallery = self.client.get(reverse("studio:index"))
        self.assertContains(gallery, '<span class="credits">10 credits</span>', count=2)

    def test_a_failed_generation_is_released(self) -> None:
        generation = self.make("a storm [sim:error]")
        tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.FAILED)
        self.assertEqual(self.kinds(generation), [Kind.RESERVE, Kind.RELEASE])


class AdminTests(LedgerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.root = get_user_model().objects.create_superuser("root", password="root-pass-123")
        self.client.force_login(self.root)

    def test_every_billing_model_is_in_djangos_admin(self) -> None:
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        self.make()
        for name in ("quota", "priceoverride", "ledgerentry", "providerpause"):
            self.assertEqual(
                self.client.get(reverse(f"admin:billing_{name}_changelist")).status_code, 200, name
            )
        entry = LedgerEntry.objects.get()
        self.assertEqual(
            self.client.get(reverse("admin:billing_ledgerentry_change", args=[entry.pk])).status_code, 200
        )

    def test_the_admin_adds_grants_only_and_changes_no_line(self) -> None:
        response = self.client.post(
            reverse("admin:billing_ledgerentry_add"),
            {"team": self.studio.pk, "user": self.alice.pk, "credits": "25", "reason": "launch week"},
        )
        self.assertEqual(response.status_code, 302)
        grant = LedgerEntry.objects.get()
        self.assertEqual(
            (grant.kind, grant.actor, grant.counts_on), (Kind.GRANT, self.root, timezone.localdate())
        )
        delete = self.client.post(
            reverse("admin:billing_ledgerentry_delete", args=[grant.pk]), {"post": "yes"}
        )
        self.assertEqual(delete.status_code, 403)
        self.assertTrue(LedgerEntry.objects.exists())

    def test_a_grant_without_a_reason_is_refused(self) -> None:
        response = self.client.post(
            reverse("admin:billing_ledgerentry_add"), {"team": self.studio.pk, "credits": "25", "reason": ""}
        )
        self.assertContains(response, "Say why the credits are granted.")
        self.assertFalse(LedgerEntry.objects.exists())

    def test_the_admin_resumes_a_paused_service(self) -> None:
        pause = ProviderPause.pause("acedata", reason="used_up")
        assert pause is not None
        self.client.post(
            reverse("admin:billing_providerpause_changelist"),
            {"action": "resume", "_selected_action": [pause.pk]},
        )
        self.assertFalse(ProviderPause.is_paused("acedata"))


class PipelineFieldsInAdminTests(LedgerTestCase):
    """Django's admin cannot move a job outside its transitions: no charge or release would go with it."""

    def setUp(self) -> None:
        super().setUp()
        self.root = get_user_model().objects.create_superuser("root", password="root-pass-123")
        self.model_admin = django_admin.site._registry[Generation]
        self.request = RequestFactory().post("/admin/")
        self.request.user = self.root

    def test_it_shows_the_state_but_offers_no_field_to_change_it(self) -> None:
        generation = self.make()
        form = self.model_admin.get_form(self.request, generation)
        self.assertFalse(
            {"state", "video", "error_code", "claimed_at", "upstream_task_id"} & set(form.base_fields)
        )
        self.client.force_login(self.root)
        page = self.client.get(reverse("admin:studio_generation_change", args=[generation.pk]))
        self.assertContains(page, "Queued")

    def test_saving_a_job_writes_back_only_what_was_changed(self) -> None:
        generation = self.make()
        on_the_page = Generation.objects.get(pk=generation.pk)
        self.made_upstream(generation)  # the pipeline moves on while the admin's page is open
        form_class = self.model_admin.get_form(self.request, on_the_page)
        # What the change page posts: every field as it was shown, the prompt edited.
        shown = form_class(instance=on_the_page).initial
        form = form_class(
            data={**shown, "image_urls": "[]", "prompt": "a paper boat at dawn"}, instance=on_the_page
        )
        self.assertTrue(form.is_valid(), form.errors)
        self.model_admin.save_model(self.request, form.save(commit=False), form, change=True)
        generation.refresh_from_db()
        self.assertEqual((generation.prompt, generation.state), ("a paper boat at dawn", State.ARCHIVING))
        self.assertEqual(self.kinds(generation), [Kind.RESERVE, Kind.CHARGE])
