from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .models import Membership, Team


class StudioRequest(HttpRequest):
    """The request as the studio's middleware leaves it, for type checking: htmx details and the team
    every query of the request is scoped to, with the person's membership of it (always set on
    pages behind the login)."""

    htmx: HtmxDetails
    team: Team
    membership: Membership  # the person's role in `team`
    memberships: list[Membership]  # every team the person belongs to, for the team switcher
    user: User  # behind the login there is always a real user
