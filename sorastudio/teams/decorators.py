"""Role checks for views. Everyone on a studio page is logged in and in a team (the middleware sees to
that); these say what their role in the current team lets them do. A member without the role gets 403,
never a page that pretends the thing does not exist: they can see it, they just cannot act on it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http.response import HttpResponseBase

from .http import StudioRequest

View = Callable[..., HttpResponseBase]


def admin_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: StudioRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.membership.is_admin:
            raise PermissionDenied("only the team's admins can do this")
        return view(request, *args, **kwargs)

    return wrapped


def operator_required(view: View) -> View:
    """The studio's own concerns (the upstream accounts every team shares) are for the people who run the
    installation, Django's staff, whatever their role in a team."""

    @wraps(view)
    def wrapped(request: StudioRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_staff:
            raise PermissionDenied("only the studio's operators can do this")
        return view(request, *args, **kwargs)

    return wrapped


def reviewer_required(view: View) -> View:
    """The team's reviewers and admins (Membership.can_review)."""

    @wraps(view)
    def wrapped(request: StudioRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.membership.can_review:
            raise PermissionDenied("only the team's reviewers and admins can do this")
        return view(request, *args, **kwargs)

    return wrapped
