"""The trail of admin actions: who did what to a team, and when, written with the action itself and shown to
the team's admins on the Team page (newest first, by person and kind) and in Django's admin."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from sorastudio.billing.models import Combination, LedgerEntry, Period, PriceOverride, ProviderPause, Quota
from sorastudio.teams import presenters
from sorastudio.teams.models import AuditEntry, Invitation, Membership
from tests.helpers import TeamTestCase


class AuditTestCase(TeamTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.dana)

    def key(self, user: Any) -> str:
        return str(Membership.objects.get(user=user, team=self.studio).key)

    def kinds(self) -> list[str]:
        return list(AuditEntry.objects.order_by("created_at", "id").values_list("kind", flat=True))


class RecordingTests(AuditTestCase):
    def test_member_changes_are_recorded_with_who_and_whom(self) -> None:
        self.client.post(
            reverse("studio:member", args=[self.key(self.alice)]), {"action": "role", "role": "reviewer"}
        )
        self.client.post(reverse("studio:member", args=[self.key(self.bob)]), {"action": "remove"})
        self.client.post(reverse("studio:member", args=[self.key(self.alice)]), {"action": "deactivate"})
        entries = list(AuditEntry.objects.order_by("created_at", "id"))
        self.assertEqual(
            [(e.kind, e.actor_name, e.subject_name, e.team) for e in entries],
            [
                (AuditEntry.Kind.ROLE_CHANGED, "dana", "alice", self.studio),
                (AuditEntry.Kind.MEMBER_REMOVED, "dana", "bob", self.studio),
                (AuditEntry.Kind.ACCOUNT_DEACTIVATED, "dana", "alice", self.studio),
            ],
        )
        self.assertEqual(entries[0].details, {"before": "creator", "after": "reviewer"})
        self.assertEqual(presenters.text(entries[0]), "alice: Creator → Reviewer")

    def test_an_action_refused_leaves_no_entry(self) -> None:
        self.client.post(
            reverse("studio:member", args=[self.key(self.dana)]), {"action": "remove"}
        )  # last admin
        self.client.post(
            reverse("studio:member", args=[self.key(self.alice)]), {"action": "role", "role": "creator"}
        )
        self.assertEqual(self.kinds(), [])  # the one refused, the other no change

    def test_invitations_accounts_and_settings_are_recorded(self) -> None:
        self.client.post(reverse("studio:invite"), {"role": "reviewer", "note": "for Erin"})
        self.client.post(reverse("studio:revoke_invitation", args=[Invitation.objects.get().pk]))
        self.client.post(
            reverse("studio:create_account"),
            {
                "username": "erin",
                "password1": "violet-harbour-42",
                "password2": "violet-harbour-42",
                "role": "creator",
            },
        )
        self.client.post(reverse("studio:team_settings"), {"name": "Studio", "trash_days": "10"})
        self.assertEqual(
            self.kinds(),
            [
                AuditEntry.Kind.INVITATION_MADE,
                AuditEntry.Kind.INVITATION_REVOKED,
                AuditEntry.Kind.ACCOUNT_CREATED,
                AuditEntry.Kind.SETTINGS_CHANGED,
            ],
        )
        settings = AuditEntry.objects.get(kind=AuditEntry.Kind.SETTINGS_CHANGED)
        self.assertEqual(settings.details, {"changes": {"Days in the trash": [30, 10]}})

    def test_prices_limits_and_grants_are_recorded(self) -> None:
        combination = Combination("acedata", "1.0", "sora-2", "small", "", 10)
        self.client.post(reverse("studio:costs"), {f"price-{combination.key}": "4"})
        self.client.post(
            reverse("studio:set_limit"),
            {"member": self.key(self.alice), "period": "monthly", "hard_cap": "100"},
        )
        self.client.post(reverse("studio:clear_limit", args=[Quota.objects.get().pk]))
        call_command("quota", "alice", "--grant", "50", "--reason", "launch week", stdout=io.StringIO())
        entries = list(AuditEntry.objects.order_by("created_at", "id"))
        self.assertEqual(
            [(e.kind, e.actor_name) for e in entries],
            [
                (AuditEntry.Kind.PRICE_CHANGED, "dana"),
                (AuditEntry.Kind.LIMIT_SET, "dana"),
                (AuditEntry.Kind.LIMIT_REMOVED, "dana"),
                (AuditEntry.Kind.CREDIT_GRANTED, ""),  # the command line
            ],
        )
        self.assertEqual(entries[0].details["credits"], 4)
        self.assertEqual(entries[1].subject_name, "alice")
        self.assertEqual(presenters.who(entries[3]), "The command line")
        self.assertIn("50 credits granted to alice: launch week", presenters.text(entries[3]))

    def test_a_price_saved_unchanged_is_not_recorded(self) -> None:
        combination = Combination("acedata", "1.0", "sora-2", "small", "", 10)
        PriceOverride.set_price(self.studio, combination, 4, by=self.dana)
        PriceOverride.set_price(self.studio, combination, 4, by=self.dana)
        self.assertEqual(self.kinds(), [AuditEntry.Kind.PRICE_CHANGED])

    def test_a_pause_and_its_resume_are_the_whole_studios(self) -> None:
        pause = ProviderPause.pause("acedata", "Your balance has been used up.")
        assert pause is not None
        pause.resume(self.dana)
        entries = list(AuditEntry.objects.order_by("created_at", "id"))
        self.assertEqual(
            [(e.kind, e.team, presenters.who(e)) for e in entries],
            [
                (AuditEntry.Kind.SERVICE_PAUSED, None, "The studio"),
                (AuditEntry.Kind.SERVICE_RESUMED, None, "dana"),
            ],
        )


class TeamPageTests(AuditTestCase):
    def setUp(self) -> None:
        super().setUp()
        Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100, by=self.dana)
        Membership.objects.get(user=self.bob).change_role(Membership.Role.ADMIN, by=self.dana)
        LedgerEntry.grant(self.studio, 20, reason="big client", by=self.bob)
        Quota.set_limit(self.agency, self.carol, Period.DAILY, 5, by=self.carol)  # Agency's own
        ProviderPause.pause("sora2api", "402")

    def activity(self, **query: str) -> str:
        page = self.client.get(reverse("studio:members"), query).content.decode()
        return page[page.index('id="activity"') : page.index('id="settings"')]

    def test_admins_see_their_teams_trail_newest_first_with_the_studio_wide_entries(self) -> None:
        section = self.activity()
        order = [
            section.index(text)
            for text in (
                "Sora2API paused",
                "20 credits granted",
                "bob: Reviewer → Admin",
                "Monthly limit of alice",
            )
        ]
        self.assertEqual(order, sorted(order))
        self.assertIn("(the whole studio)", section)
        self.assertNotIn("carol", section)

    def test_it_filters_by_person_and_kind(self) -> None:
        section = self.activity(person="alice")
        self.assertIn("Monthly limit of alice", section)
        self.assertNotIn("20 credits granted", section)
        section = self.activity(person="bob")
        self.assertIn("20 credits granted", section)  # bob acted
        self.assertIn("bob: Reviewer → Admin", section)  # bob was acted on
        self.assertNotIn("Monthly limit of alice", section)
        section = self.activity(kind=AuditEntry.Kind.CREDIT_GRANTED)
        self.assertIn("20 credits granted", section)
        self.assertNotIn("Monthly limit", section)

    def test_a_person_of_another_team_is_not_offered(self) -> None:
        self.assertNotIn('<option value="carol"', self.activity())
        self.assertNotIn("Daily limit of carol", self.activity(person="carol"))

    def test_creators_and_reviewers_do_not_see_it(self) -> None:
        client = Client()
        client.force_login(self.alice)
        self.assertEqual(client.get(reverse("studio:members")).status_code, 403)

    def test_djangos_admin_lists_the_entries_read_only(self) -> None:
        from django.contrib.auth import get_user_model

        root = get_user_model().objects.create_superuser("root", password="root-pass-123")
        self.client.force_login(root)
        page = self.client.get(reverse("admin:teams_auditentry_changelist"))
        self.assertContains(page, "big client")
        self.assertEqual(self.client.get(reverse("admin:teams_auditentry_add")).status_code, 403)
