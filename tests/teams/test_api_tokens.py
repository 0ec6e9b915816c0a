"""Personal API tokens: stored only as a hash, working only while their person is an active member of the
team, revoked once by their owner or the team's admins, shown once on the page and by the command."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sorastudio.lib.security import MaskCredentials, mask_url_credentials
from sorastudio.teams.models import ApiToken, AuditEntry, Membership, Team, api_token_digest
from tests.helpers import TeamTestCase, make_member


class ModelTests(TeamTestCase):
    def test_it_keeps_only_the_hash_of_the_secret(self) -> None:
        token, secret = ApiToken.issue(self.alice, self.studio, "nightly batch")
        self.assertTrue(secret.startswith("sst_"))
        self.assertGreater(len(secret), 40)
        token.refresh_from_db()
        self.assertEqual(token.digest, api_token_digest(secret))
        self.assertTrue(secret.startswith(token.prefix))
        self.assertLess(len(token.prefix), 12)
        stored = [str(value) for value in ApiToken.objects.values_list(flat=False).get()]
        self.assertNotIn(secret, stored)

    def test_it_authenticates_a_working_token(self) -> None:
        token, secret = ApiToken.issue(self.alice, self.studio, "cms")
        found = ApiToken.objects.authenticate(secret)
        self.assertEqual(found, token)
        assert found is not None
        self.assertEqual(found.team, self.studio)
        self.assertEqual(found.user, self.alice)

    def test_it_refuses_a_wrong_token(self) -> None:
        ApiToken.issue(self.alice, self.studio, "cms")
        self.assertIsNone(ApiToken.objects.authenticate("sst_not-a-token"))
        self.assertIsNone(ApiToken.objects.authenticate(""))

    def test_it_refuses_a_revoked_token(self) -> None:
        token, secret = ApiToken.issue(self.alice, self.studio, "cms")
        token.revoke(by=self.alice)
        self.assertIsNone(ApiToken.objects.authenticate(secret))

    def test_it_refuses_an_expired_token(self) -> None:
        _token, secret = ApiToken.issue(
            self.alice, self.studio, "cms", expires_at=timezone.now() - timedelta(seconds=1)
        )
        self.assertIsNone(ApiToken.objects.authenticate(secret))
        _token, later = ApiToken.issue(
            self.alice, self.studio, "cms", expires_at=timezone.now() + timedelta(days=1)
        )
        self.assertIsNotNone(ApiToken.objects.authenticate(later))

    def test_it_refuses_the_token_of_a_removed_member_at_once(self) -> None:
        _token, secret = ApiToken.issue(self.alice, self.studio, "cms")
        Membership.objects.get(user=self.alice, team=self.studio).remove(by=self.dana)
        self.assertIsNone(ApiToken.objects.authenticate(secret))

    def test_it_refuses_the_token_of_a_deactivated_account(self) -> None:
        _token, secret = ApiToken.issue(self.alice, self.studio, "cms")
        Membership.objects.get(user=self.alice, team=self.studio).deactivate_account(by=self.dana)
        self.assertIsNone(ApiToken.objects.authenticate(secret))

    def test_it_acts_only_in_its_own_team(self) -> None:
        # erin is in both teams: her Studio token works as Studio's, and stops when she leaves Studio, even
        # though she is still in Agency.
        erin = make_member("erin", self.studio)
        Membership.objects.create(team=self.agency, user=erin)
        _token, secret = ApiToken.issue(erin, self.studio, "cms")
        found = ApiToken.objects.authenticate(secret)
        assert found is not None
        self.assertEqual(found.team, self.studio)
        Membership.objects.get(user=erin, team=self.studio).remove(by=self.dana)
        self.assertIsNone(ApiToken.objects.authenticate(secret))

    def test_it_writes_the_last_use_at_most_once_a_minute(self) -> None:
        token, secret = ApiToken.issue(self.alice, self.studio, "cms")
        ApiToken.objects.authenticate(secret)
        token.refresh_from_db()
        first = token.last_used_at
        self.assertIsNotNone(first)
        with self.assertNumQueries(2):  # the look-up and an UPDATE that matches no row
            ApiToken.objects.authenticate(secret)
        token.refresh_from_db()
        self.assertEqual(token.last_used_at, first)
        long_ago = timezone.now() - timedelta(minutes=2)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
        ApiToken.objects.authenticate(secret)
        token.refresh_from_db()
        assert token.last_used_at is not None
        self.assertGreater(token.last_used_at, long_ago + timedelta(minutes=1))

    def test_it_revokes_once(self) -> None:
        token, _secret = ApiToken.issue(self.alice, self.studio, "cms")
        self.assertTrue(token.revoke(by=self.dana))
        self.assertFalse(ApiToken.objects.get(pk=token.pk).revoke(by=self.alice))
        token.refresh_from_db()
        self.assertEqual(token.revoked_by, self.dana)
        self.assertEqual(AuditEntry.objects.filter(kind=AuditEntry.Kind.API_TOKEN_REVOKED).count(), 1)

    def test_it_lets_its_owner_and_the_team_admins_revoke(self) -> None:
        token, _secret = ApiToken.issue(self.alice, self.studio, "cms")
        member = {m.user.username: m for m in Membership.objects.select_related("user")}
        self.assertTrue(token.may_revoke(member["alice"]))
        self.assertTrue(token.may_revoke(member["dana"]))
        self.assertFalse(token.may_revoke(member["bob"]))
        self.assertFalse(token.may_revoke(member["carol"]))  # an admin, of another team


class PageTests(TeamTestCase):
    url = reverse("studio:api_tokens")

    def make(self, client: Client, name: str = "nightly batch", days: str = "") -> tuple[ApiToken, str]:
        response = client.post(self.url, {"name": name, "days": days})
        self.assertEqual(response.status_code, 200)
        secret = response.context["secret"]
        self.assertContains(response, secret)
        return ApiToken.objects.get(digest=api_token_digest(secret)), secret

    def test_it_shows_a_new_token_once(self) -> None:
        self.client.force_login(self.alice)
        token, secret = self.make(self.client, days="30")
        self.assertEqual((token.user, token.team, token.name), (self.alice, self.studio, "nightly batch"))
        assert token.expires_at is not None
        self.assertAlmostEqual(
            token.expires_at, timezone.now() + timedelta(days=30), delta=timedelta(minutes=1)
        )
        page = self.client.get(self.url)
        self.assertNotContains(page, secret)
        self.assertContains(page, f"{token.prefix}…")
        self.assertContains(page, "nightly batch")

    def test_it_never_caches_the_answer_with_the_secret(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url, {"name": "cms"})
        self.assertIn("no-store", response.headers["Cache-Control"])

    def test_it_refuses_a_token_without_a_name(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(self.url, {"name": "", "days": ""})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(ApiToken.objects.exists())

    def test_it_needs_the_csrf_token(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.alice)
        self.assertEqual(client.post(self.url, {"name": "cms"}).status_code, 403)
        token, _secret = ApiToken.issue(self.alice, self.studio, "cms")
        revoke = reverse("studio:revoke_api_token", args=[token.pk])
        self.assertEqual(client.post(revoke).status_code, 403)
        self.assertEqual(ApiToken.objects.count(), 1)
        self.assertIsNone(ApiToken.objects.get().revoked_at)

    def test_it_shows_a_creator_only_their_own_tokens(self) -> None:
        ApiToken.issue(self.bob, self.studio, "bob's script")
        self.client.force_login(self.alice)
        page = self.client.get(self.url)
        self.assertNotContains(page, "bob&#x27;s script")
        self.assertEqual(list(page.context["others"]), [])

    def test_it_shows_an_admin_every_members_tokens_without_their_values(self) -> None:
        token, secret = ApiToken.issue(self.alice, self.studio, "alice's batch")
        ApiToken.issue(self.carol, self.agency, "agency's cms")
        self.client.force_login(self.dana)
        page = self.client.get(self.url)
        self.assertEqual(list(page.context["others"]), [token])
        self.assertContains(page, "alice&#x27;s batch")
        self.assertContains(page, f"{token.prefix}…")
        self.assertNotContains(page, secret)
        self.assertNotContains(page, token.digest)
        self.assertNotContains(page, "agency&#x27;s cms")

    def test_it_lets_an_admin_revoke_a_members_token_and_records_it(self) -> None:
        token, secret = ApiToken.issue(self.alice, self.studio, "cms")
        self.client.force_login(self.dana)
        response = self.client.post(reverse("studio:revoke_api_token", args=[token.pk]))
        self.assertRedirects(response, self.url)
        self.assertIsNone(ApiToken.objects.authenticate(secret))
        entry = AuditEntry.objects.get(kind=AuditEntry.Kind.API_TOKEN_REVOKED)
        self.assertEqual((entry.actor, entry.subject, entry.team), (self.dana, self.alice, self.studio))

    def test_it_lets_the_owner_revoke_their_token(self) -> None:
        self.client.force_login(self.alice)
        token, secret = self.make(self.client)
        self.client.post(reverse("studio:revoke_api_token", args=[token.pk]))
        self.assertIsNone(ApiToken.objects.authenticate(secret))
        self.assertContains(self.client.get(self.url), "Revoked")

    def test_it_does_not_let_a_creator_revoke_anothers_token(self) -> None:
        token, secret = ApiToken.issue(self.bob, self.studio, "cms")
        self.client.force_login(self.alice)
        response = self.client.post(reverse("studio:revoke_api_token", args=[token.pk]))
        self.assertEqual(response.status_code, 403)
        self.assertIsNotNone(ApiToken.objects.authenticate(secret))

    def test_it_does_not_find_another_teams_token(self) -> None:
        token, secret = ApiToken.issue(self.alice, self.studio, "cms")
        self.client.force_login(self.carol)
        response = self.client.post(reverse("studio:revoke_api_token", args=[token.pk]))
        self.assertEqual(response.status_code, 404)
        self.assertIsNotNone(ApiToken.objects.authenticate(secret))

    def test_it_is_linked_from_the_header(self) -> None:
        self.client.force_login(self.alice)
        self.assertContains(self.client.get(reverse("studio:index")), f'href="{self.url}"')


class CommandTests(TeamTestCase):
    def run_command(self, *args: str) -> str:
        out = io.StringIO()
        call_command("api_token", *args, stdout=out)
        return out.getvalue()

    def test_it_prints_the_new_token_alone_on_one_line(self) -> None:
        out = self.run_command("create", "--user", "alice", "--name", "nightly")
        self.assertEqual(out.count("\n"), 1)
        secret = out.strip()
        token = ApiToken.objects.authenticate(secret)
        assert token is not None
        self.assertEqual((token.user, token.team, token.name), (self.alice, self.studio, "nightly"))

    def test_it_asks_for_the_team_when_the_user_is_in_several(self) -> None:
        Membership.objects.create(team=self.agency, user=self.alice)
        with self.assertRaisesMessage(Exception, "Choose one with --team"):
            self.run_command("create", "--user", "alice")
        secret = self.run_command("create", "--user", "alice", "--team", "Agency").strip()
        token = ApiToken.objects.authenticate(secret)
        assert token is not None
        self.assertEqual(token.team, Team.objects.get(name="Agency"))

    def test_it_lists_and_revokes_by_prefix(self) -> None:
        token, secret = ApiToken.issue(self.alice, self.studio, "nightly")
        listing = self.run_command("list", "--user", "alice")
        self.assertIn(token.prefix, listing)
        self.assertNotIn(secret, listing)
        self.run_command("revoke", token.prefix)
        self.assertIsNone(ApiToken.objects.authenticate(secret))


class MaskingTests(TeamTestCase):
    def test_it_masks_bearer_credentials_and_studio_tokens(self) -> None:
        _token, secret = ApiToken.issue(self.alice, self.studio, "cms")
        masked = mask_url_credentials(f"HTTP_AUTHORIZATION: Bearer {secret} and again {secret}")
        self.assertNotIn(secret, masked)
        self.assertNotIn(secret[4:], masked)
        self.assertIn("Bearer ********", masked)

    def test_it_masks_a_token_in_a_log_record(self) -> None:
        _token, secret = ApiToken.issue(self.alice, self.studio, "cms")
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "refused %s", (secret,), None)
        MaskCredentials().filter(record)
        self.assertNotIn(secret, record.getMessage())


class AdminTests(TeamTestCase):
    def test_it_lists_tokens_in_djangos_admin_without_their_hash(self) -> None:
        token, secret = ApiToken.issue(self.alice, self.studio, "cms")
        self.dana.is_staff = self.dana.is_superuser = True
        self.dana.save(update_fields=["is_staff", "is_superuser"])
        self.client.force_login(self.dana)
        listing = self.client.get(reverse("admin:teams_apitoken_changelist"))
        self.assertContains(listing, token.prefix)
        page = self.client.get(reverse("admin:teams_apitoken_change", args=[token.pk]))
        self.assertContains(page, token.prefix)
        self.assertNotContains(page, token.digest)
        self.assertNotContains(page, secret)
