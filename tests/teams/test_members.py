"""The team's page, for its admins: members and roles, the last admin, accounts made for someone, the team's
settings, and who may do what."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from sorastudio.pipeline import tasks
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Invitation, Membership, MembershipError, Team
from tests.helpers import TeamTestCase, make_finished, make_job, simulator_transport, upstream

ACCOUNT = {
    "username": "erin",
    "email": "erin@example.com",
    "password1": "violet-harbour-42",
    "password2": "violet-harbour-42",
    "role": "reviewer",
}


class MembersTestCase(TeamTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.dana)

    def membership(self, user: Any, team: Team | None = None) -> Membership:
        return Membership.objects.get(user=user, team=team or self.studio)

    def change(self, user: Any, **data: str) -> Any:
        return self.client.post(reverse("studio:member", args=[self.membership(user).key]), data)


class MembersPageTests(MembersTestCase):
    def test_it_lists_the_members_with_their_roles(self) -> None:
        page = self.client.get(reverse("studio:members")).content.decode()
        for name in ("alice", "bob", "dana"):
            self.assertIn(f">{name}", page)
        self.assertNotIn("carol", page)
        alice = self.membership(self.alice)
        self.assertIn(f'id="role-{alice.key}"', page)
        self.assertIn('<option value="creator" selected>Creator</option>', page)
        self.assertIn('<option value="reviewer" selected>Reviewer</option>', page)
        self.assertIn('<option value="admin" selected>Admin</option>', page)

    def test_the_top_bar_links_the_team_page_for_admins_only(self) -> None:
        link = f'<a href="{reverse("studio:members")}">Team</a>'
        self.assertIn(link, self.client.get(reverse("studio:index")).content.decode())
        for person in (self.alice, self.bob):
            self.client.force_login(person)
            self.assertNotIn(link, self.client.get(reverse("studio:index")).content.decode())

    def test_creators_and_reviewers_get_403(self) -> None:
        alice_key = self.membership(self.alice).key
        requests = [
            ("get", reverse("studio:members"), {}),
            ("post", reverse("studio:member", args=[alice_key]), {"action": "role", "role": "admin"}),
            ("post", reverse("studio:create_account"), ACCOUNT),
            ("post", reverse("studio:team_settings"), {"name": "Mine now", "trash_days": "5"}),
        ]
        for person in (self.alice, self.bob):
            client = Client()
            client.force_login(person)
            for method, url, data in requests:
                with self.subTest(person=person.username, url=url):
                    self.assertEqual(getattr(client, method)(url, data).status_code, 403)
        self.assertEqual(self.membership(self.alice).role, Membership.Role.CREATOR)
        self.assertFalse(get_user_model().objects.filter(username="erin").exists())
        self.assertEqual(Team.objects.get(pk=self.studio.pk).name, "Studio")

    def test_another_teams_membership_is_404(self) -> None:
        """carol administers Agency: Studio's members are not hers to change; Agency's are not dana's."""
        self.client.force_login(self.carol)
        response = self.change(self.alice, action="role", role="admin")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.membership(self.alice).role, Membership.Role.CREATOR)

        self.client.force_login(self.dana)
        carol_key = self.membership(self.carol, self.agency).key
        response = self.client.post(reverse("studio:member", args=[carol_key]), {"action": "remove"})
        self.assertEqual(response.status_code, 404)
        self.assertTrue(Membership.objects.filter(user=self.carol).exists())


class RoleTests(MembersTestCase):
    def test_an_admin_changes_a_role(self) -> None:
        response = self.change(self.alice, action="role", role="reviewer")
        self.assertRedirects(response, reverse("studio:members") + "#members", fetch_redirect_response=False)
        self.assertEqual(self.membership(self.alice).role, Membership.Role.REVIEWER)
        page = self.client.get(reverse("studio:members")).content.decode()
        self.assertIn("alice’s role is now Reviewer.", page)

    def test_with_htmx_the_members_section_comes_back_with_its_message(self) -> None:
        url = reverse("studio:member", args=[self.membership(self.alice).key])
        response = self.client.post(
            url, {"action": "role", "role": "reviewer"}, headers={"HX-Request": "true"}
        )
        self.assertEqual(response.status_code, 200)
        section = response.content.decode()
        self.assertTrue(section.lstrip().startswith('<section id="members"'))
        self.assertIn("alice’s role is now Reviewer.", section)
        self.assertNotIn('id="invitations"', section)

    def test_an_unknown_role_changes_nothing(self) -> None:
        self.change(self.alice, action="role", role="owner")
        self.assertEqual(self.membership(self.alice).role, Membership.Role.CREATOR)
        page = self.client.get(reverse("studio:members")).content.decode()
        self.assertIn("Choose one of the roles, or remove the member.", page)

    def test_an_admin_removes_a_member_and_their_videos_stay(self) -> None:
        self.change(self.alice, action="remove")
        self.assertFalse(Membership.objects.filter(user=self.alice).exists())
        self.assertTrue(get_user_model().objects.filter(username="alice").exists())
        page = self.client.get(reverse("studio:members")).content.decode()
        self.assertIn("alice is no longer in the team.", page)

    def test_the_last_admin_can_be_neither_demoted_nor_removed(self) -> None:
        for data in ({"action": "role", "role": "creator"}, {"action": "remove"}):
            with self.subTest(**data):
                response = self.change(self.dana, **data)
                self.assertRedirects(
                    response, reverse("studio:members") + "#members", fetch_redirect_response=False
                )
                self.assertEqual(self.membership(self.dana).role, Membership.Role.ADMIN)
                page = self.client.get(reverse("studio:members")).content.decode()
                self.assertIn("dana is the team&#x27;s last admin: make someone else an admin first.", page)

    def test_an_admin_who_leaves_the_team_goes_to_the_gallery(self) -> None:
        self.change(self.bob, action="role", role="admin")
        response = self.change(self.dana, action="remove")
        self.assertRedirects(response, reverse("studio:index"), fetch_redirect_response=False)
        self.assertFalse(Membership.objects.filter(user=self.dana, team=self.studio).exists())

    def test_an_admin_may_step_down_once_there_is_another(self) -> None:
        self.change(self.bob, action="role", role="admin")
        response = self.change(self.dana, action="role", role="creator")
        # dana can no longer see the team's page: she is sent to the gallery.
        self.assertRedirects(response, reverse("studio:index"), fetch_redirect_response=False)
        self.assertEqual(self.membership(self.dana).role, Membership.Role.CREATOR)
        self.assertEqual(self.client.get(reverse("studio:members")).status_code, 403)


class CreateAccountTests(MembersTestCase):
    def test_an_admin_makes_an_account_that_can_log_in_at_once(self) -> None:
        response = self.client.post(reverse("studio:create_account"), ACCOUNT)
        self.assertEqual(response.status_code, 302)
        erin = get_user_model().objects.get(username="erin")
        self.assertEqual(erin.email, "erin@example.com")
        self.assertEqual(self.membership(erin).role, Membership.Role.REVIEWER)

        fresh = Client()
        # Through the login page: the lockout's backend wants the request (Client.login has none).
        login = fresh.post(reverse("login"), {"username": "erin", "password": "violet-harbour-42"})
        self.assertRedirects(login, reverse("studio:index"), fetch_redirect_response=False)
        page = fresh.get(reverse("studio:index")).content.decode()
        self.assertIn('<span class="team-name">Studio</span>', page)
        self.assertIn(">Reviewer</span>", page)

    def test_the_email_address_is_optional(self) -> None:
        self.client.post(reverse("studio:create_account"), {**ACCOUNT, "email": ""})
        self.assertEqual(get_user_model().objects.get(username="erin").email, "")

    def test_a_taken_username_is_said_by_the_field_and_the_typing_is_kept(self) -> None:
        response = self.client.post(reverse("studio:create_account"), {**ACCOUNT, "username": "Alice"})
        self.assertEqual(response.status_code, 400)
        page = response.content.decode()
        self.assertIn("A user with that username already exists.", page)
        self.assertIn('value="Alice"', page)
        self.assertIn('value="erin@example.com"', page)
        self.assertEqual(Membership.objects.filter(team=self.studio).count(), 3)

    def test_a_weak_password_is_refused_by_djangos_validators(self) -> None:
        data = {**ACCOUNT, "password1": "password", "password2": "password"}
        response = self.client.post(reverse("studio:create_account"), data)
        self.assertEqual(response.status_code, 400)
        self.assertIn("This password is too common.", response.content.decode())
        self.assertFalse(get_user_model().objects.filter(username="erin").exists())

    def test_the_two_passwords_must_match(self) -> None:
        data = {**ACCOUNT, "password2": "violet-harbour-43"}
        response = self.client.post(reverse("studio:create_account"), data)
        self.assertEqual(response.status_code, 400)
        self.assertIn("The two password fields didn’t match.", response.content.decode())


class TeamSettingsTests(MembersTestCase):
    def test_an_admin_renames_the_team_and_sets_the_trash_period(self) -> None:
        response = self.client.post(
            reverse("studio:team_settings"), {"name": "Studio North", "trash_days": "7"}
        )
        self.assertEqual(response.status_code, 302)
        team = Team.objects.get(pk=self.studio.pk)
        self.assertEqual((team.name, team.trash_days), ("Studio North", 7))

    def test_the_name_must_be_free(self) -> None:
        response = self.client.post(reverse("studio:team_settings"), {"name": "agency", "trash_days": "7"})
        self.assertEqual(response.status_code, 400)
        page = response.content.decode()
        self.assertIn("Another team already has this name.", page)
        self.assertIn('<span class="team-name">Studio</span>', page)  # the top bar still says Studio
        self.assertEqual(Team.objects.get(pk=self.studio.pk).name, "Studio")

    def test_the_trash_period_is_1_to_365_days(self) -> None:
        for days, ok in (("0", False), ("1", True), ("365", True), ("366", False), ("a week", False)):
            with self.subTest(days=days):
                response = self.client.post(
                    reverse("studio:team_settings"), {"name": "Studio", "trash_days": days}
                )
                self.assertEqual(response.status_code, 302 if ok else 400)
                if not ok:
                    self.assertIn(f'value="{days}"', response.content.decode())


class RemovedMemberTests(MembersTestCase):
    """Someone taken out of their only team keeps nothing of it: no team of their own is made for them, so
    they cannot generate on the studio's upstream account, and their open pages stop working."""

    def setUp(self) -> None:
        super().setUp()
        self.alice_client = Client()
        self.alice_client.force_login(self.alice)  # a session open before the removal
        self.change(self.alice, action="remove")

    def test_their_next_page_is_not_in_a_team_yet_and_nothing_else(self) -> None:
        for url in (reverse("studio:index"), reverse("studio:history"), reverse("studio:costs")):
            with self.subTest(url=url):
                response = self.alice_client.get(url)
                self.assertContains(response, "You are not in a team yet", status_code=403)
                self.assertNotContains(response, "Generate video", status_code=403)
        self.assertFalse(Membership.objects.filter(user=self.alice).exists())
        self.assertEqual(Team.objects.count(), 2)

    def test_they_cannot_generate(self) -> None:
        data = {"prompt": "a fox", "provider": "acedata", "model": "sora-2", "version": "1.0"}
        response = self.alice_client.post(
            reverse("studio:generate"), {**data, "duration": "10", "size": "small"}
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Generation.objects.exists())

    def test_an_htmx_poll_sends_the_whole_page_to_the_plain_one(self) -> None:
        video = make_finished(self.studio, self.alice)
        response = self.alice_client.get(video.get_absolute_url(), headers={"HX-Request": "true"})
        self.assertEqual(response.headers["HX-Redirect"], reverse("studio:index"))
        self.assertNotContains(response, "paper boat")

    def test_they_still_log_out_and_join_by_a_new_link(self) -> None:
        invitation = Invitation.objects.create(team=self.agency, created_by=self.carol)
        response = self.alice_client.post(reverse("studio:join", args=[invitation.token]))
        self.assertRedirects(response, reverse("studio:index"))
        self.assertEqual(self.alice_client.get(reverse("studio:index")).status_code, 200)

    def test_their_jobs_already_asked_for_carry_on(self) -> None:
        """The team paid for them when they were asked for: they are made and kept in the team."""
        job = make_job(self.studio, self.alice)
        with upstream(simulator_transport()), self.settings(SIMULATOR_SECONDS=0):
            tasks.start(job)
        job.refresh_from_db()
        self.assertEqual(job.state, State.SUCCEEDED)
        self.assertEqual(job.team, self.studio)


class DeactivateAccountTests(MembersTestCase):
    def deactivate(self, user: Any) -> Any:
        return self.change(user, action="deactivate")

    def test_an_admin_deactivates_an_account_only_the_team_holds(self) -> None:
        alice_client = Client()
        alice_client.force_login(self.alice)
        self.deactivate(self.alice)
        alice = get_user_model().objects.get(username="alice")
        self.assertFalse(alice.is_active)
        self.assertFalse(Membership.objects.filter(user=alice).exists())
        # Her open session is ended, and she cannot log in again.
        self.assertFalse(
            any(s.get_decoded().get("_auth_user_id") == str(alice.pk) for s in Session.objects.all())
        )
        response = alice_client.get(reverse("studio:index"))
        self.assertRedirects(response, f"{reverse('login')}?next=/", fetch_redirect_response=False)
        # Through the login page: the lockout's backend wants the request (Client.login has none).
        login = Client().post(reverse("login"), {"username": "alice", "password": "alice-pass-123"})
        self.assertEqual(login.status_code, 200)
        self.assertFalse(login.wsgi_request.user.is_authenticated)
        page = self.client.get(reverse("studio:members")).content.decode()
        self.assertIn("alice’s account is deactivated", page)

    def test_someone_also_in_another_team_is_not_deactivated(self) -> None:
        Membership.objects.create(team=self.agency, user=self.alice)
        self.deactivate(self.alice)
        self.assertTrue(get_user_model().objects.get(username="alice").is_active)
        self.assertTrue(Membership.objects.filter(user=self.alice, team=self.studio).exists())
        page = self.client.get(reverse("studio:members")).content.decode()
        self.assertIn("alice is also in another team", page)
        self.assertNotIn("Agency", page)

    def test_the_button_shows_only_where_it_works(self) -> None:
        Membership.objects.create(team=self.agency, user=self.bob)
        page = self.client.get(reverse("studio:members")).content.decode()
        self.assertIn("Deactivate alice’s account", page)
        self.assertNotIn("Deactivate bob’s account", page)  # also Agency's
        self.assertNotIn("Deactivate dana’s account", page)  # herself

    def test_an_admin_cannot_deactivate_themself(self) -> None:
        self.change(self.bob, action="role", role="admin")
        self.deactivate(self.dana)
        self.assertTrue(get_user_model().objects.get(username="dana").is_active)
        self.assertIn(
            "You cannot deactivate your own account.",
            self.client.get(reverse("studio:members")).content.decode(),
        )

    def test_the_last_admin_is_not_deactivated(self) -> None:
        # Only an admin deactivates, never themself: the team's last admin is kept by the model all the same.
        with self.assertRaisesMessage(MembershipError, "dana is the team's last admin"):
            self.membership(self.dana).deactivate_account(by=None)
        self.assertTrue(get_user_model().objects.get(username="dana").is_active)

    def test_the_studios_operator_is_not_deactivated_by_a_team_admin(self) -> None:
        get_user_model().objects.filter(username="alice").update(is_staff=True)
        self.deactivate(self.alice)
        self.assertTrue(get_user_model().objects.get(username="alice").is_active)
        self.assertIn("only Django", self.client.get(reverse("studio:members")).content.decode())

    def test_creators_and_reviewers_cannot_deactivate(self) -> None:
        self.client.force_login(self.bob)
        self.assertEqual(self.deactivate(self.alice).status_code, 403)
        self.assertTrue(get_user_model().objects.get(username="alice").is_active)
