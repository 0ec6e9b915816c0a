"""Teams: switching, members and roles, invitations, team settings, and notifications."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_http_methods

from .http import StudioRequest


@require_http_methods(["GET", "POST"])
def switch(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def members(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def team_settings(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def member(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def create_account(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def invite(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def revoke_invitation(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def join(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def notifications(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def mark_all_read(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def open_notification(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")
