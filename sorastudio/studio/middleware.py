from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from .models import Membership, Team


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
    name = f"{user}'s studio"
    team, _ = Team.objects.get_or_create(name=name)
    Membership.objects.get_or_create(team=team, user=user, defaults={"role": Membership.Role.ADMIN})
    return team
