"""Who is asking, for which team: the current team of every request behind the login, and the login page
that replaces the whole page when a session ends under htmx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django_htmx.http import HttpResponseClientRedirect

from .models import Membership, Team


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


# Pages that are the person's own, not a team's: someone in no team still logs out, changes their password
# and joins by an invitation link. (Pages outside the login, and Django's admin with its own staff check,
# need no team either.)
TEAMLESS_VIEWS = frozenset({"logout", "password_change", "password_change_done", "studio:join"})


class CurrentTeamMiddleware:
    """Sets `request.team`, the team every query of this request is scoped to, and `request.membership`,
    the person's place in it (their role). The team is the one chosen in the session, if the person
    still belongs to it, otherwise their first. Someone in no team (removed from their last one, say)
    gets the "not in a team yet" page instead of any team's page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.team = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            membership = current_membership(request)
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
                request.team = membership.team  # type: ignore[attr-defined]
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        if not request.user.is_authenticated or getattr(request, "membership", None) is not None:
            return None
        match = request.resolver_match
        if (
            not getattr(view_func, "login_required", True)
            or match is None
            or match.view_name in TEAMLESS_VIEWS
            or "admin" in match.namespaces
        ):
            return None
        if request.headers.get("HX-Request") == "true":
            # A poll or a form of a page they can no longer use: the whole page becomes the plain one.
            return HttpResponseClientRedirect(resolve_url("studio:index"))
        return TemplateResponse(request, "studio/no_team.html", status=403)


def current_membership(request: HttpRequest) -> Membership | None:
    user = request.user
    assert isinstance(user, User), "only for a logged-in person"
    memberships = list(Membership.objects.filter(user=user).select_related("team").order_by("created_at"))
    if not memberships:
        team = personal_team_if_allowed(user)
        if team is not None:
            memberships = list(Membership.objects.select_related("team").filter(team=team, user=user))
    chosen = request.session.get("team_id")
    membership = next((m for m in memberships if str(m.team_id) == chosen), None)
    if membership is None and memberships:
        membership = memberships[0]
    request.memberships = memberships  # type: ignore[attr-defined]
    return membership


def personal_team_if_allowed(user: User) -> Team | None:
    """A team of their own for someone in none, where the installation allows it (PERSONAL_TEAMS), and for
    the first account of an installation that has no team at all (say, made with createsuperuser), who
    has nobody to be invited by."""
    if settings.PERSONAL_TEAMS or not Team.objects.exists():
        return ensure_personal_team(user)
    return None


def switch_team(request: HttpRequest, team: Team) -> None:
    """Make `team` the current one for the rest of this session (the caller checked membership)."""
    request.session["team_id"] = str(team.pk)


def ensure_personal_team(user: User) -> Team:
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
