"""Every URL of the studio, for every role and for an outsider.

The table below names each route once. The walk fails when a route exists that the table does not name, so a
new page cannot ship without saying who may reach it. Each request runs in a savepoint that is rolled back,
so one person's action (a delete, a decision) does not change what the next person meets.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from sorastudio.billing.models import Period, Quota
from sorastudio.studio.characters import clip_path
from sorastudio.studio.models import (
    Character,
    Comment,
    Generation,
    GenerationImage,
    Notification,
    ReviewLink,
)
from sorastudio.teams.models import ApiToken, Invitation, Membership, Team
from tests.helpers import make_finished, make_member, make_people, read_body

LOGIN = "login"  # redirected to the login page
# Studio: alice (creator), bob (reviewer), dana (admin, and the studio's operator: Django staff) and erin (an
# admin without the operator right); Agency: carol (admin). frank was in Studio until dana removed him; gwen's
# account was deactivated by dana while she was logged in.
PEOPLE = ("anonymous", "alice", "bob", "dana", "erin", "carol", "frank", "gwen")
# On every page of a team: frank, in no team, gets the "not in a team yet" page; gwen is logged out.
TEAMLESS: dict[str, int | str] = {"frank": 403, "gwen": LOGIN}


@dataclass
class Route:
    """How to call one route, and what each person gets: a status code, or LOGIN."""

    method: str
    url: Callable[[AuthorizationTests], str]
    expect: dict[str, int | str]
    data: Callable[[AuthorizationTests], dict[str, Any]] = field(default=lambda t: {})


def everyone(status: int | str, **others: int | str) -> dict[str, int | str]:
    """A page of the current team, whichever it is: everyone in a team gets `status`."""
    members = dict.fromkeys(("alice", "bob", "dana", "erin", "carol"), status)
    return {"anonymous": LOGIN, **members, **TEAMLESS, **others}


def public(status: int) -> dict[str, int | str]:
    return dict.fromkeys(PEOPLE, status)


def studio(status: int | str, outsider: int | str = 404, **others: int | str) -> dict[str, int | str]:
    """A route naming one of Studio's things: its members get `status`, carol (Agency) gets `outsider`."""
    members = dict.fromkeys(("alice", "bob", "dana", "erin"), status)
    return {"anonymous": LOGIN, **members, "carol": outsider, **TEAMLESS, **others}


def admins_only(status: int | str, outsider: int | str = 404) -> dict[str, int | str]:
    return studio(403, outsider, dana=status, erin=status)


ROUTES: dict[str, Route] = {
    # The gallery and the form
    "studio:index": Route("GET", lambda t: reverse("studio:index"), everyone(200)),
    "studio:gallery_more": Route("GET", lambda t: reverse("studio:gallery_more"), everyone(200)),
    "studio:gallery_view": Route("GET", lambda t: reverse("studio:gallery_view"), everyone(200)),
    "studio:compose_preset": Route(
        "GET", lambda t: reverse("studio:compose_preset", args=["cinematic-landscape"]), everyone(200)
    ),
    "studio:compose_options": Route("GET", lambda t: reverse("studio:compose_options"), everyone(200)),
    "studio:compose_cost": Route("GET", lambda t: reverse("studio:compose_cost"), everyone(200)),
    # An empty form: refused, with what is missing beside the fields.
    "studio:generate": Route("POST", lambda t: reverse("studio:generate"), everyone(400)),
    "studio:api_preview": Route("POST", lambda t: reverse("studio:api_preview"), everyone(200)),
    "studio:history": Route("GET", lambda t: reverse("studio:history"), everyone(200)),
    "studio:history_results": Route("GET", lambda t: reverse("studio:history_results"), everyone(200)),
    "studio:generation": Route("GET", lambda t: t.video.get_absolute_url(), studio(200)),
    "studio:generation_card": Route(
        "GET", lambda t: reverse("studio:generation_card", args=[t.video.pk]), studio(200)
    ),
    "studio:generation_panel": Route(
        "GET", lambda t: reverse("studio:generation_panel", args=[t.video.pk]), studio(200)
    ),
    "studio:video": Route("GET", lambda t: reverse("studio:video", args=[t.video.pk]), studio(200)),
    "studio:poster": Route("GET", lambda t: reverse("studio:poster", args=[t.video.pk]), studio(200)),
    "studio:rerun": Route("POST", lambda t: reverse("studio:rerun", args=[t.video.pk]), studio(302)),
    "studio:upload_image": Route(
        "GET", lambda t: reverse("studio:upload_image", args=[t.video.pk, t.image.pk]), studio(200)
    ),
    "studio:generation_clip": Route(
        "GET", lambda t: reverse("studio:generation_clip", args=[t.video.pk]), studio(200)
    ),
    "studio:saved_clip": Route(
        "GET", lambda t: reverse("studio:saved_clip", args=[t.character.pk]), studio(200)
    ),
    "studio:favourite": Route("POST", lambda t: reverse("studio:favourite", args=[t.video.pk]), studio(302)),
    # alice made the video: she and the admin may delete it, bob may not.
    "studio:delete": Route(
        "POST", lambda t: reverse("studio:delete", args=[t.video.pk]), studio(302, bob=403)
    ),
    "studio:restore": Route(
        "POST", lambda t: reverse("studio:restore", args=[t.trashed.pk]), admins_only(302)
    ),
    "studio:download_zip": Route(
        "POST", lambda t: reverse("studio:download_zip"), studio(200), data=lambda t: {"ids": [t.video.pk]}
    ),
    "studio:bulk_delete": Route(
        "POST", lambda t: reverse("studio:bulk_delete"), studio(302), data=lambda t: {"ids": [t.video.pk]}
    ),
    # carol administers Agency: she reaches Agency's trash, which holds nothing of Studio's.
    "studio:trash": Route("GET", lambda t: reverse("studio:trash"), admins_only(200, outsider=200)),
    # Review
    "studio:review": Route(
        "POST",
        lambda t: reverse("studio:review", args=[t.video.pk]),
        studio(302, alice=403),
        data=lambda t: {"action": "changes_requested", "comment": "Slower, please.", "seen": "new"},
    ),
    "studio:comments": Route(
        "POST",
        lambda t: reverse("studio:comments", args=[t.video.pk]),
        studio(302),
        data=lambda t: {"body": "Nice light."},
    ),
    "studio:resolve_comment": Route(
        "POST", lambda t: reverse("studio:resolve_comment", args=[t.comment.pk]), studio(302)
    ),
    "studio:compare": Route(
        "GET", lambda t: f"{reverse('studio:compare')}?ids={t.video.pk}&ids={t.other.pk}", studio(200)
    ),
    # Client review links, the team's side: bob (reviewer) made the links; alice (creator) shares nothing,
    # carol reaches Agency's list (empty) and none of Studio's videos or links.
    "studio:review_links": Route(
        "GET", lambda t: reverse("studio:review_links"), studio(200, outsider=200, alice=403)
    ),
    "studio:new_review_link": Route(
        "POST",
        lambda t: reverse("studio:new_review_link"),
        studio(200, alice=403),
        data=lambda t: {"ids": [t.video.pk], "days": "7"},
    ),
    "studio:revoke_review_link": Route(
        "POST", lambda t: reverse("studio:revoke_review_link", args=[t.link.pk]), studio(302, alice=403)
    ),
    # The guest's side, outside the login: the secret in the address is the permission, whoever holds it
    # (test_it_gives_nothing_for_a_closed_or_foreign_link: the same routes without it).
    "studio:client_review": Route(
        "GET", lambda t: reverse("studio:client_review", args=[t.secret]), public(200)
    ),
    "studio:client_unlock": Route(
        "POST",
        lambda t: reverse("studio:client_unlock", args=[t.locked_secret]),
        public(302),
        data=lambda t: {"password": "lantern-42"},
    ),
    "studio:client_comment": Route(
        "POST",
        lambda t: reverse("studio:client_comment", args=[t.secret, t.video.pk]),
        public(302),
        data=lambda t: {"name": "Ms Lee", "body": "Warmer, please."},
    ),
    "studio:client_verdict": Route(
        "POST",
        lambda t: reverse("studio:client_verdict", args=[t.secret, t.video.pk]),
        public(302),
        data=lambda t: {"name": "Ms Lee", "decision": "approved"},
    ),
    "studio:client_video": Route(
        "GET", lambda t: reverse("studio:client_video", args=[t.secret, t.video.pk]), public(200)
    ),
    "studio:client_poster": Route(
        "GET", lambda t: reverse("studio:client_poster", args=[t.secret, t.video.pk]), public(200)
    ),
    # Teams, members, invitations, notifications
    "studio:switch_team": Route(
        "POST", lambda t: reverse("studio:switch_team"), studio(302), data=lambda t: {"team": t.studio.pk}
    ),
    "studio:members": Route("GET", lambda t: reverse("studio:members"), admins_only(200, outsider=200)),
    "studio:team_settings": Route(
        "POST",
        lambda t: reverse("studio:team_settings"),
        admins_only(302, outsider=302),
        data=lambda t: {"name": "Renamed", "trash_days": "10"},
    ),
    "studio:member": Route(
        "POST",
        lambda t: reverse("studio:member", args=[t.alice_membership.key]),
        admins_only(302),
        data=lambda t: {"action": "role", "role": "reviewer"},
    ),
    "studio:create_account": Route(
        "POST",
        lambda t: reverse("studio:create_account"),
        admins_only(302, outsider=302),
        data=lambda t: {
            "username": "hana",
            "password1": "hana-pass-12345",
            "password2": "hana-pass-12345",
            "role": "creator",
        },
    ),
    "studio:invite": Route(
        "POST",
        lambda t: reverse("studio:invite"),
        admins_only(302, outsider=302),
        data=lambda t: {"role": "creator"},
    ),
    "studio:revoke_invitation": Route(
        "POST", lambda t: reverse("studio:revoke_invitation", args=[t.invitation.pk]), admins_only(302)
    ),
    # Someone in no team joins one by a link: frank too.
    # Everyone in a team has their own tokens; alice's is hers and the admins' to revoke, not bob's.
    "studio:api_tokens": Route("GET", lambda t: reverse("studio:api_tokens"), everyone(200)),
    "studio:revoke_api_token": Route(
        "POST", lambda t: reverse("studio:revoke_api_token", args=[t.api_token.pk]), studio(302, bob=403)
    ),
    "studio:join": Route("GET", lambda t: reverse("studio:join", args=[t.invitation.token]), public(200)),
    "studio:notifications": Route("GET", lambda t: reverse("studio:notifications"), everyone(200)),
    "studio:notification_list": Route("GET", lambda t: reverse("studio:notification_list"), everyone(200)),
    "studio:bell": Route("GET", lambda t: reverse("studio:bell"), everyone(200)),
    "studio:mark_all_read": Route("POST", lambda t: reverse("studio:mark_all_read"), everyone(302)),
    # alice's own notification: nobody else's, whatever their role.
    "studio:open_notification": Route(
        "GET",
        lambda t: reverse("studio:open_notification", args=[t.notification.pk]),
        studio(404, alice=302),
    ),
    # Costs: each team's admins set their own team's prices; a paused video service is the whole studio's.
    "studio:costs": Route("GET", lambda t: reverse("studio:costs"), admins_only(200, outsider=200)),
    # The upstream account is the installation's: only its operator (dana) lifts a pause, no team's admin.
    "studio:resume_provider": Route(
        "POST",
        lambda t: reverse("studio:resume_provider", args=["acedata"]),
        studio(403, outsider=403, dana=302),
    ),
    "studio:set_limit": Route(
        "POST",
        lambda t: reverse("studio:set_limit"),
        admins_only(302, outsider=302),
        data=lambda t: {"member": "", "period": "daily", "hard_cap": "50"},
    ),
    "studio:clear_limit": Route(
        "POST", lambda t: reverse("studio:clear_limit", args=[t.quota.pk]), admins_only(302)
    ),
    # Spend and usage: each team's admins see their own team's numbers (carol: Agency's, none of Studio's).
    "studio:dashboard": Route("GET", lambda t: reverse("studio:dashboard"), admins_only(200, outsider=200)),
    "studio:ledger_csv": Route("GET", lambda t: reverse("studio:ledger_csv"), admins_only(200, outsider=200)),
    "studio:generations_csv": Route(
        "GET", lambda t: reverse("studio:generations_csv"), admins_only(200, outsider=200)
    ),
    # Pipeline health: each team's admins see their own jobs (and the studio-wide upstream numbers).
    "studio:pipeline_health": Route(
        "GET", lambda t: reverse("studio:pipeline_health"), admins_only(200, outsider=200)
    ),
    "studio:pipeline_numbers": Route(
        "GET", lambda t: reverse("studio:pipeline_numbers"), admins_only(200, outsider=200)
    ),
    # alice made the video: she and the admin may ask its provider again, bob may not.
    "studio:resync": Route(
        "POST", lambda t: reverse("studio:resync", args=[t.video.pk]), studio(302, bob=403)
    ),
    # Outside the login: each is its own permission (a secret token), and says nothing without it.
    "callback": Route("POST", lambda t: reverse("callback", args=["acedata", "not-a-token"]), public(404)),
    "reference_image": Route("GET", lambda t: t.image.public_url(), public(200)),
    "character_clip": Route("GET", lambda t: clip_path(t.clip_name), public(200)),
    "set_language": Route(
        "POST", lambda t: reverse("set_language"), public(302), data=lambda t: {"language": "en"}
    ),
}

# Django's own: the login pages are public, the admin is for staff (none of these people are).
OWN_ROUTES = {
    "login": Route("GET", lambda t: reverse("login"), public(200)),
    "logout": Route("POST", lambda t: reverse("logout"), dict.fromkeys(PEOPLE, LOGIN)),
    # A person's own account, not a team's: frank, in no team, still changes his password.
    "password_change": Route("GET", lambda t: reverse("password_change"), everyone(200, frank=200)),
    "password_change_done": Route("GET", lambda t: reverse("password_change_done"), everyone(200, frank=200)),
    "password_reset": Route("GET", lambda t: reverse("password_reset"), public(200)),
    "password_reset_done": Route("GET", lambda t: reverse("password_reset_done"), public(200)),
    "password_reset_confirm": Route(
        "GET", lambda t: reverse("password_reset_confirm", args=["x", "y-z"]), public(200)
    ),
    "password_reset_complete": Route("GET", lambda t: reverse("password_reset_complete"), public(200)),
}


def route_names(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from route_names(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern):
            yield f"{prefix}{entry.name}"


class AuthorizationTests(TestCase):
    # Set up below; declared for the table's lambdas, which are read before any test runs.
    studio: Team
    agency: Team
    alice: Any
    bob: Any
    dana: Any
    carol: Any
    alice_membership: Membership
    video: Generation
    other: Generation
    trashed: Generation
    image: GenerationImage
    comment: Comment
    notification: Notification
    invitation: Invitation
    quota: Quota
    clip_name: str
    character: Character
    link: ReviewLink
    api_token: ApiToken
    secret: str
    locked_secret: str

    def setUp(self) -> None:
        make_people(self)
        self.erin = make_member("erin", self.studio, Membership.Role.ADMIN)
        self.frank = make_member("frank", self.studio, Membership.Role.CREATOR)
        self.gwen = make_member("gwen", self.studio, Membership.Role.CREATOR)
        self.dana.is_staff = True
        self.dana.save(update_fields=["is_staff"])
        self.alice_membership = Membership.objects.get(user=self.alice)
        self.video = self.finished("A paper boat in the rain")
        self.other = self.finished("A paper boat in the sun")
        self.trashed = self.finished("An old draft")
        self.trashed.soft_delete(self.alice)
        self.image = GenerationImage.objects.create(
            generation=self.video, file=ContentFile(b"\x89PNG fake", name="ref.png"), content_type="image/png"
        )
        self.comment = Comment.objects.create(generation=self.video, author=self.bob, body="Too dark?")
        self.notification = Notification.objects.create(
            user=self.alice, team=self.studio, generation=self.video, kind=Notification.Kind.READY
        )
        self.invitation = Invitation.objects.create(team=self.studio, created_by=self.dana)
        self.quota = Quota.set_limit(self.studio, self.alice, Period.MONTHLY, 100)
        self.clip_name = self.video.character_clip.name or ""
        self.character = Character.objects.create(
            team=self.studio, name="Clay Fox", clip=self.clip_name, start=1, end=3, created_by=self.alice
        )
        self.link, self.secret = ReviewLink.share(self.studio, self.bob, [self.video])
        _locked, self.locked_secret = ReviewLink.share(
            self.studio, self.bob, [self.video], password="lantern-42"
        )
        self.api_token, _secret = ApiToken.issue(self.alice, self.studio, "nightly batch")
        self.clients = {"anonymous": Client()}
        for name in PEOPLE[1:]:
            self.clients[name] = Client()
            self.clients[name].force_login(getattr(self, name))
        # Both while logged in: their sessions outlive what the admin did.
        Membership.objects.get(user=self.frank).remove(by=self.dana)
        Membership.objects.get(user=self.gwen).deactivate_account(by=self.dana)

    def finished(self, prompt: str) -> Generation:
        video = make_finished(self.studio, self.alice, prompt)
        video.character_clip.save("clip.mp4", ContentFile(b"clip"))
        return video

    def call(self, person: str, route: Route) -> Any:
        client = self.clients[person]
        url = route.url(self)
        cookies = client.cookies  # a logout (or a login) must not change who calls next
        client.cookies = copy.deepcopy(cookies)
        with transaction.atomic():
            response = client.get(url) if route.method == "GET" else client.post(url, route.data(self))
            read_body(response)  # a streamed body (a zip, a video) is produced inside the savepoint
            transaction.set_rollback(True)
        client.cookies = cookies
        return response

    def test_it_names_every_route_of_the_studio(self) -> None:
        named = set(ROUTES) | set(OWN_ROUTES)
        routes = {
            name
            for name in route_names(get_resolver().url_patterns)
            if not name.startswith(("admin:", "simulator:"))
        }
        self.assertEqual(routes - named, set(), "routes without an authorization expectation")
        self.assertEqual(named - routes, set(), "expectations for routes that no longer exist")

    def test_every_route_names_every_person(self) -> None:
        for name, route in {**ROUTES, **OWN_ROUTES}.items():
            with self.subTest(route=name):
                self.assertEqual(set(route.expect), set(PEOPLE))

    def test_it_answers_each_person_as_their_role_allows(self) -> None:
        for name, route in {**ROUTES, **OWN_ROUTES}.items():
            for person, expected in route.expect.items():
                with self.subTest(route=name, person=person):
                    response = self.call(person, route)
                    if expected == LOGIN:
                        self.assertEqual(response.status_code, 302)
                        self.assertTrue(
                            response["Location"].startswith(reverse("login")), response["Location"]
                        )
                    else:
                        self.assertEqual(response.status_code, expected)
                        if response.status_code == 302:
                            self.assertFalse(response["Location"].startswith(reverse("login")))

    def test_no_page_shows_template_syntax(self) -> None:
        """A comment or tag the template engine did not take (a {# #} comment spans one line only) would
        show on the page as it is written."""
        for name, route in {**ROUTES, **OWN_ROUTES}.items():
            if route.method != "GET" or route.expect.get("dana") != 200:
                continue
            with self.subTest(route=name):
                response = self.call("dana", route)
                if not response.get("Content-Type", "").startswith("text/html"):
                    continue
                page = read_body(response).decode()
                for syntax in ("{#", "#}", "{%", "%}", "{{", "}}"):
                    self.assertNotIn(syntax, page)

    def test_an_outsider_sees_nothing_of_the_team(self) -> None:
        """carol's own pages (gallery, trash, members, notifications) carry nothing of Studio's."""
        for name in (
            "studio:index",
            "studio:trash",
            "studio:members",
            "studio:notifications",
            "studio:history",
            "studio:costs",
            "studio:pipeline_health",
            "studio:dashboard",
            "studio:ledger_csv",
            "studio:generations_csv",
            "studio:review_links",
        ):
            with self.subTest(route=name):
                page = read_body(self.call("carol", ROUTES[name])).decode()
                # A random CSRF token can hold "bob" or "dana" by chance.
                page = re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1", page)
                for secret in (
                    "paper boat",
                    "An old draft",
                    "Too dark?",
                    "alice",
                    "bob",
                    "dana",
                    "erin",
                    "frank",
                ):
                    self.assertNotIn(secret, page)

    def test_it_gives_nothing_for_a_closed_or_foreign_link(self) -> None:
        """Every guest route, for everyone, through an expired link, a revoked one, an unknown secret, a
        link that does not cover the video (Agency's link to Agency's video, asked for Studio's), and a
        password-protected one not yet unlocked: "not found", and nothing written."""
        expired, expired_secret = ReviewLink.share(self.studio, self.bob, [self.video])
        ReviewLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        revoked, revoked_secret = ReviewLink.share(self.studio, self.bob, [self.video])
        revoked.revoke(self.bob)
        theirs = make_finished(self.agency, self.carol, "Agency's own")
        _foreign, foreign_secret = ReviewLink.share(self.agency, self.carol, [theirs])
        guest_routes = {name: route for name, route in ROUTES.items() if name.startswith("studio:client_")}
        opened = ("studio:client_review", "studio:client_unlock")
        for secret in (expired_secret, revoked_secret, "x" * 43, foreign_secret, self.locked_secret):
            # Agency's link opens (on Agency's video) and the locked one shows its password form: what is
            # behind them is what they refuse.
            skip = opened if secret in (foreign_secret, self.locked_secret) else ()
            routes = {name: route for name, route in guest_routes.items() if name not in skip}
            for name, route in routes.items():
                for person in PEOPLE:
                    with self.subTest(route=name, person=person, secret=secret[:4]):
                        response = self.call(person, self.with_secret(route, secret))
                        self.assertEqual(response.status_code, 404)
        self.assertFalse(Comment.objects.filter(link__isnull=False).exists())

    def with_secret(self, route: Route, secret: str) -> Route:
        def url(t: AuthorizationTests) -> str:
            return route.url(t).replace(t.secret, secret).replace(t.locked_secret, secret)

        return Route(route.method, url, route.expect, route.data)

    def test_the_admin_site_is_for_staff_only(self) -> None:
        for person in PEOPLE:
            with self.subTest(person=person):
                response = self.clients[person].get(reverse("admin:index"))
                if person == "dana":  # the operator
                    self.assertEqual(response.status_code, 200)
                    continue
                self.assertEqual(response.status_code, 302)
                self.assertIn(reverse("admin:login"), response["Location"])

    def test_someone_in_no_team_sees_only_the_plain_page(self) -> None:
        page = read_body(self.call("frank", ROUTES["studio:index"])).decode()
        self.assertIn("You are not in a team yet", page)
        for secret in (
            "paper boat",
            ">Studio<",
            "alice",
            reverse("studio:notifications"),
            reverse("studio:history"),
        ):
            self.assertNotIn(secret, page)

    def test_the_simulator_answers_nothing_without_a_key_or_a_signed_link(self) -> None:
        """The simulator plays the upstream: its API wants a bearer token (a missing one is the upstream's
        400 `no_token`), and its files a signed link."""
        anonymous = Client()
        for name in route_names(get_resolver().url_patterns):
            if not name.startswith("simulator:"):
                continue
            with self.subTest(route=name):
                if name.endswith("video_file"):
                    response = anonymous.get(reverse(name, args=["some-task"]))
                    self.assertIn(response.status_code, (403, 404))
                elif name.endswith("record_info"):
                    response = anonymous.get(reverse(name), {"taskId": "some-task"})
                    self.assertIn(response.status_code, (400, 401))
                else:
                    response = anonymous.post(reverse(name), {}, content_type="application/json")
                    self.assertIn(response.status_code, (400, 401))
                    self.assertNotIn(b"videoUrl", response.content)
