"""Invitation links: an admin makes one for a role, it works once and for a week, it can be revoked, and
whoever opens it joins, by signing up there or with the account they have. A dead link says nothing."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from sorastudio.teams.models import Invitation, Membership
from tests.helpers import TeamTestCase

SIGN_UP = {
    "username": "erin",
    "email": "",
    "password1": "violet-harbour-42",
    "password2": "violet-harbour-42",
}


class InvitationTestCase(TeamTestCase):
    def setUp(self) -> None:
        self.admin = Client()
        self.admin.force_login(self.dana)
        self.visitor = Client()

    def invite(self, role: str = "reviewer", note: str = "") -> Invitation:
        response = self.admin.post(reverse("studio:invite"), {"role": role, "note": note})
        self.assertEqual(response.status_code, 302)
        return Invitation.objects.latest("created_at")

    def join_url(self, invitation: Invitation) -> str:
        return reverse("studio:join", args=[invitation.token])


class MakingLinksTests(InvitationTestCase):
    def test_the_team_page_shows_the_new_link_whole_with_a_copy_button(self) -> None:
        invitation = self.invite(note="For Erin, the new editor")
        self.assertEqual((invitation.team, invitation.role), (self.studio, "reviewer"))
        self.assertEqual(invitation.created_by, self.dana)
        page = self.admin.get(f"{reverse('studio:members')}?new={invitation.pk}").content.decode()
        self.assertIn(f'value="http://testserver{self.join_url(invitation)}" readonly autofocus', page)
        self.assertIn(f'data-copy="link-{invitation.pk}"', page)
        self.assertIn("Link to join as Reviewer", page)
        self.assertIn("For Erin, the new editor", page)
        self.assertIn("Made by dana · expires 6", page)
        self.assertIn(reverse("studio:revoke_invitation", args=[invitation.pk]), page)

    @override_settings(PUBLIC_BASE_URL="https://studio.example.com")
    def test_the_link_uses_the_public_address_when_there_is_one(self) -> None:
        invitation = self.invite()
        page = self.admin.get(reverse("studio:members")).content.decode()
        self.assertIn(f'value="https://studio.example.com{self.join_url(invitation)}"', page)

    def test_with_htmx_the_invitations_section_comes_back(self) -> None:
        response = self.admin.post(
            reverse("studio:invite"), {"role": "creator"}, headers={"HX-Request": "true"}
        )
        section = response.content.decode()
        self.assertTrue(section.lstrip().startswith('<section id="invitations"'))
        invitation = Invitation.objects.get()
        self.assertIn(f'value="http://testserver{self.join_url(invitation)}" readonly autofocus', section)
        self.assertIn("The invitation link is ready", section)

    def test_used_revoked_and_expired_links_leave_the_list(self) -> None:
        used, revoked, expired, still_open = (self.invite() for _ in range(4))
        used.accept(self.carol)
        revoked.revoke()
        Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        page = self.admin.get(reverse("studio:members")).content.decode()
        for gone in (used, revoked, expired):
            self.assertNotIn(gone.token, page)
        self.assertIn(still_open.token, page)

    def test_an_unknown_role_is_refused(self) -> None:
        response = self.admin.post(reverse("studio:invite"), {"role": "owner"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Invitation.objects.exists())

    def test_only_admins_make_and_revoke_links(self) -> None:
        invitation = self.invite()
        self.admin.force_login(self.alice)
        self.assertEqual(self.admin.post(reverse("studio:invite"), {"role": "admin"}).status_code, 403)
        revoke = reverse("studio:revoke_invitation", args=[invitation.pk])
        self.assertEqual(self.admin.post(revoke).status_code, 403)
        self.assertEqual(Invitation.objects.count(), 1)

    def test_another_teams_invitation_is_404(self) -> None:
        invitation = self.invite()
        carol = Client()
        carol.force_login(self.carol)
        response = carol.post(reverse("studio:revoke_invitation", args=[invitation.pk]))
        self.assertEqual(response.status_code, 404)
        invitation.refresh_from_db()
        self.assertTrue(invitation.is_open)


class RevokeTests(InvitationTestCase):
    def test_a_revoked_link_no_longer_works(self) -> None:
        invitation = self.invite()
        self.admin.post(reverse("studio:revoke_invitation", args=[invitation.pk]))
        invitation.refresh_from_db()
        self.assertIsNotNone(invitation.revoked_at)
        response = self.visitor.get(self.join_url(invitation))
        self.assertEqual(response.status_code, 410)
        self.assertIn("This link no longer works", response.content.decode())

    def test_revoking_a_used_link_says_so(self) -> None:
        invitation = self.invite()
        invitation.accept(self.carol)
        response = self.admin.post(reverse("studio:revoke_invitation", args=[invitation.pk]), follow=True)
        self.assertIn("This link was already used or revoked.", response.content.decode())


class SignUpTests(InvitationTestCase):
    def test_it_says_which_team_and_role_the_link_is_for(self) -> None:
        invitation = self.invite(role="reviewer")
        response = self.visitor.get(self.join_url(invitation))
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        self.assertIn("You are invited to the team Studio as Reviewer.", page)
        self.assertIn("Make my account and join Studio", page)
        login = f"{reverse('login')}?next={self.join_url(invitation)}"
        self.assertIn(f'href="{login}">I already have an account</a>', page)

    def test_a_new_person_signs_up_lands_in_the_gallery_and_is_in_the_team(self) -> None:
        invitation = self.invite(role="reviewer")
        response = self.visitor.post(
            self.join_url(invitation), {**SIGN_UP, "email": "erin@example.com"}, follow=True
        )
        self.assertRedirects(response, reverse("studio:index"))
        page = response.content.decode()
        self.assertIn("Welcome to Studio! You joined as Reviewer.", page)
        self.assertIn('<span class="team-name">Studio</span>', page)
        erin = get_user_model().objects.get(username="erin")
        self.assertEqual(erin.email, "erin@example.com")
        self.assertEqual(Membership.objects.get(user=erin).team, self.studio)
        self.assertEqual(Membership.objects.get(user=erin).role, Membership.Role.REVIEWER)
        invitation.refresh_from_db()
        self.assertEqual(invitation.accepted_by, erin)

    def test_bad_input_is_said_by_the_field_and_the_typing_is_kept(self) -> None:
        invitation = self.invite()
        data = {**SIGN_UP, "username": "alice", "email": "erin@example.com", "password2": "other-password-1"}
        response = self.visitor.post(self.join_url(invitation), data)
        self.assertEqual(response.status_code, 400)
        page = response.content.decode()
        self.assertIn("A user with that username already exists.", page)
        self.assertIn("The two password fields didn’t match.", page)
        self.assertIn('value="erin@example.com"', page)
        invitation.refresh_from_db()
        self.assertTrue(invitation.is_open)

    def test_a_weak_password_is_refused(self) -> None:
        invitation = self.invite()
        data = {**SIGN_UP, "password1": "12345678", "password2": "12345678"}
        response = self.visitor.post(self.join_url(invitation), data)
        self.assertEqual(response.status_code, 400)
        self.assertIn("This password is too common.", response.content.decode())
        self.assertFalse(get_user_model().objects.filter(username="erin").exists())

    def test_the_link_works_once(self) -> None:
        invitation = self.invite()
        self.visitor.post(self.join_url(invitation), SIGN_UP)
        again = Client()
        response = again.post(self.join_url(invitation), {**SIGN_UP, "username": "frank"})
        self.assertEqual(response.status_code, 410)
        self.assertNotIn("Studio", response.content.decode().split("<main>")[1])
        self.assertFalse(get_user_model().objects.filter(username="frank").exists())

    def test_an_expired_link_no_longer_works(self) -> None:
        invitation = self.invite()
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        for method in ("get", "post"):
            with self.subTest(method=method):
                response = getattr(self.visitor, method)(self.join_url(invitation), SIGN_UP)
                self.assertEqual(response.status_code, 410)
        self.assertFalse(get_user_model().objects.filter(username="erin").exists())


class LoggedInTests(InvitationTestCase):
    def test_someone_logged_in_joins_with_one_button(self) -> None:
        invitation = self.invite(role="creator")
        carol = Client()
        carol.force_login(self.carol)
        page = carol.get(self.join_url(invitation)).content.decode()
        self.assertIn('<button type="submit" class="primary">Join Studio</button>', page)
        self.assertIn("You are logged in as carol.", page)

        response = carol.post(self.join_url(invitation), follow=True)
        self.assertRedirects(response, reverse("studio:index"))
        self.assertIn("Welcome to Studio! You joined as Creator.", response.content.decode())
        self.assertEqual(Membership.objects.get(user=self.carol, team=self.studio).role, "creator")
        # Her own team stays hers, and Studio is now the current one.
        self.assertEqual(Membership.objects.get(user=self.carol, team=self.agency).role, "admin")
        self.assertIn(f'<option value="{self.studio.pk}" selected>Studio</option>', response.content.decode())

    def test_the_login_link_comes_back_to_the_join_page(self) -> None:
        invitation = self.invite()
        response = self.visitor.post(
            f"{reverse('login')}?next={self.join_url(invitation)}",
            {"username": "carol", "password": "carol-pass-123", "next": self.join_url(invitation)},
        )
        self.assertRedirects(response, self.join_url(invitation))

    def test_a_member_already_in_the_team_does_not_use_up_the_link(self) -> None:
        invitation = self.invite(role="admin")
        alice = Client()
        alice.force_login(self.alice)
        page = alice.get(self.join_url(invitation)).content.decode()
        self.assertIn("You already belong to Studio.", page)
        alice.post(self.join_url(invitation))
        invitation.refresh_from_db()
        self.assertTrue(invitation.is_open)
        self.assertEqual(Membership.objects.get(user=self.alice).role, Membership.Role.CREATOR)


class DeadLinkTests(InvitationTestCase):
    def test_an_unknown_token_is_404_and_reveals_nothing(self) -> None:
        self.invite()
        for client in (self.visitor, self.admin):
            response = client.get(reverse("studio:join", args=["no-such-token"]))
            self.assertEqual(response.status_code, 404)
            main = response.content.decode().split("<main>")[1]
            self.assertIn("This link no longer works", main)
            for secret in ("Studio<", "Reviewer", "Join", "<form"):
                self.assertNotIn(secret, main)

    def test_a_used_link_reveals_nothing_either(self) -> None:
        invitation = self.invite(role="reviewer")
        invitation.accept(self.carol)
        response = self.visitor.get(self.join_url(invitation))
        self.assertEqual(response.status_code, 410)
        main = response.content.decode().split("<main>")[1]
        for secret in ("Studio<", "Reviewer", "<form"):
            self.assertNotIn(secret, main)
