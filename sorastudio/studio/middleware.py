from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

from .models import Membership, Team


class HealthCheckMiddleware:
    """Answers /healthz before host checking: a container's or load balancer's probe asks for
    127.0.0.1 or an internal name that ALLOWED_HOSTS rightly does not list. The answer names no host."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz" and request.method in ("GET", "HEAD"):
            from .views import health

            return health()
        return self.get_response(request)


class PageGZipMiddleware(GZipMiddleware):
    """Compresses the pages and fragments the studio renders (a gallery page is about 85 KB of HTML and
    about 12 KB gzipped), never a streamed answer: videos, posters and zips are compressed already, and
    their Content-Length and byte ranges must stay those of the file. (Static files never get here:
    WhiteNoise answers them, above, with its own .br and .gz copies.)

    BREACH needs a secret in the body that stays the same from one response to the next while an attacker
    varies text reflected next to it. The one secret a page carries is the CSRF token, which Django masks
    anew for every response; Django's GZipMiddleware also pads each answer with up to 100 random bytes
    ("Heal the BREACH"). API keys never reach a page, and the session id is only ever a cookie."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.streaming:
            return response
        return super().process_response(request, response)


class HtmxLoginRedirectMiddleware:
    """When a session ends while htmx polls a card, the login page must replace the whole page, not be
    swapped into the card."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        is_htmx = request.headers.get("HX-Request") == "true"
        if (
            is_htmx
            and response.status_code == 302
            and response["Location"].startswith(resolve_url(settings.LOGIN_URL))
        ):
            return HttpResponseClientRedirect(response["Location"])
        return response


class CurrentTeamMiddleware:
    """Sets `request.team`, the team every query of this request is scoped to, and `request.membership`,
    the person's place in it (their role). The team is the one chosen in the session, if the person
    still belongs to it, otherwise their first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.team = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            membership = current_membership(request)
            request.membership = membership  # type: ignore[attr-defined]
            request.team = membership.team  # type: ignore[attr-defined]
        return self.get_response(request)


def current_membership(request: HttpRequest) -> Membership:
    user: Any = request.user
    memberships = list(Membership.objects.filter(user=user).select_related("team").order_by("created_at"))
    chosen = request.session.get("team_id")
    membership = next((m for m in memberships if str(m.team_id) == chosen), None)
    if membership is None and memberships:
        membership = memberships[0]
    if membership is None:
        # Someone made with `createsuperuser` or the admin has no team yet: give them their own.
        team = ensure_personal_team(user)
        membership = Membership.objects.select_related("team").get(team=team, user=user)
    request.memberships = memberships or [membership]  # type: ignore[attr-defined]
    return membership


def switch_team(request: HttpRequest, team: Team) -> None:
    """Make `team` the current one for the rest of this session (the caller checked membership)."""
    request.session["team_id"] = str(team.pk)


def ensure_personal_team(user: Any) -> Team:
    team = Team.objects.filter(personal_for=user).first()
    if team is None:
        name = base = f"{user.get_username()}'s studio"
        number = 1
        while Team.objects.filter(name=name).exists():
            number += 1
            name = f"{base} ({number})"
        team = Team.objects.create(name=name, personal_for=user)
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": Membership.Role.ADMIN})
    return team
