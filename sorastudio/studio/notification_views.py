"""A person's notifications, from all their teams, and the bell of the top bar that counts them."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url, trigger_client_event

from sorastudio.teams.http import StudioRequest
from sorastudio.teams.middleware import switch_team

from .models import Notification
from .notifications import bell_for

NOTIFICATIONS_PAGE = 30


def _notifications_page(request: StudioRequest, number: Any) -> Any:
    mine = Notification.objects.for_user(request.user).select_related("team", "generation", "actor")
    return Paginator(mine, NOTIFICATIONS_PAGE).get_page(number)


@require_GET
def notifications(request: StudioRequest) -> HttpResponseBase:
    """A person's notifications from all their teams, newest first."""
    context = {"page": _notifications_page(request, request.GET.get("page"))}
    return TemplateResponse(request, "studio/notifications.html", context)


@require_GET
def notification_list(request: StudioRequest) -> HttpResponseBase:
    """Another page of the notifications (its "Newer" and "Older" links, for htmx)."""
    context = {"page": _notifications_page(request, request.GET.get("page"))}
    response = TemplateResponse(request, "studio/notifications.html#list", context)
    return push_url(response, f"{reverse('studio:notifications')}?{request.GET.urlencode()}")


@require_GET
def bell(request: StudioRequest) -> HttpResponseBase:
    """The top bar's bell, which asks for itself again, saying the count it showed (`seen`)."""
    seen = request.GET.get("seen", "")
    found = bell_for(request.user, int(seen) if seen.isdigit() else None)
    return TemplateResponse(request, "studio/notifications.html#bell", {"bell": found})


@require_POST
def mark_all_read(request: StudioRequest) -> HttpResponseBase:
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    if not request.htmx:
        return redirect("studio:notifications")
    context = {"page": _notifications_page(request, 1)}
    response = TemplateResponse(request, "studio/notifications.html#list", context)
    return trigger_client_event(response, "notifications-changed")


@require_GET
def open_notification(request: StudioRequest, pk: str) -> HttpResponseBase:
    """Read a notification: it is marked read, and its team becomes the current one (it may be another
    of the person's teams), so that its video can be shown."""
    notification = get_object_or_404(
        Notification.objects.select_related("generation"), pk=pk, user=request.user
    )
    membership = next((m for m in request.memberships if m.team_id == notification.team_id), None)
    if membership is None:
        raise Http404("no longer in that team")
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    switch_team(request, membership.team)
    return redirect(notification.url)
