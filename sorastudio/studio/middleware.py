from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
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
    """Sets `request.team`: the team every query of this request is scoped to."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.team = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            request.team = current_team(request)  # type: ignore[attr-defined]
        return self.get_response(request)


def current_team(request: HttpRequest) -> Team:
    user: Any = request.user
    memberships = Membership.objects.filter(user=user).select_related("team").order_by("created_at")
    chosen = request.session.get("team_id")
    membership = next((m for m in memberships if str(m.team_id) == chosen), None) or memberships.first()
    if membership is None:
        # Someone made with `createsuperuser` or the admin has no team yet: give them their own.
        return ensure_personal_team(user)
    return membership.team


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
