"""Client review links, the team's side: making one for a video or the gallery's selection (the address shown
once), the team's list of links with their clients' verdicts, and revoking one. The guest's side is
client_views.py."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sorastudio.teams.decorators import reviewer_required
from sorastudio.teams.http import StudioRequest

from .models import ClientVerdict, Generation, ReviewError, ReviewLink
from .sharing_forms import ReviewLinkForm

# The page that shows a new link's secret must not be kept by the browser's cache or a proxy.
NOT_KEPT = {"Cache-Control": "no-store, private"}


def _chosen(request: StudioRequest) -> list[Generation]:
    """The team's videos named by `ids` (the gallery's selection, or the one video of its page)."""
    values = request.POST.getlist("ids") if request.method == "POST" else request.GET.getlist("ids")
    try:
        ids = list(dict.fromkeys(uuid.UUID(value) for value in values))
    except ValueError:
        raise Http404("no such video") from None
    found = Generation.objects.for_team(request.team).in_bulk(ids)
    if len(found) < len(ids):
        raise Http404("no such video")
    return [found[pk] for pk in ids]


def _absolute(request: StudioRequest, path: str) -> str:
    return settings.PUBLIC_BASE_URL + path if settings.PUBLIC_BASE_URL else request.build_absolute_uri(path)


@reviewer_required
@require_http_methods(["GET", "POST"])
def new_review_link(request: StudioRequest) -> HttpResponseBase:
    """The form that shares the chosen videos with a client (GET), and the new link (POST), whose address
    is shown this once: only its hash is kept."""
    videos = _chosen(request)
    form = ReviewLinkForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"videos": videos, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            link, secret = ReviewLink.share(
                request.team,
                request.user,
                videos,
                days=data["days"],
                password=data["password"],
                title=data["title"],
                message=data["message"],
            )
        except ReviewError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            context.update(link=link, url=_absolute(request, reverse("studio:client_review", args=[secret])))
            return TemplateResponse(request, "studio/review_link_new.html", context, headers=NOT_KEPT)
    status = 400 if form.errors else 200
    return TemplateResponse(request, "studio/review_link_new.html", context, status=status)


@reviewer_required
@require_GET
def review_links(request: StudioRequest) -> HttpResponseBase:
    """The team's client links, newest first: whether each still opens, its videos, what the clients said
    and when one last looked."""
    verdicts = Prefetch("verdicts", queryset=ClientVerdict.objects.select_related("generation"))
    links = (
        ReviewLink.objects.for_team(request.team)
        .select_related("created_by", "revoked_by")
        .prefetch_related("videos", verdicts)[:200]
    )
    rows = [(link, link.may_revoke(request.membership)) for link in links]
    return TemplateResponse(request, "studio/review_links.html", {"rows": rows})


@require_POST
def revoke_review_link(request: StudioRequest, pk: str) -> HttpResponseBase:
    """Close a link at once: the team's admins and the person who made it may."""
    link = get_object_or_404(ReviewLink.objects.for_team(request.team), pk=pk)
    if not link.may_revoke(request.membership):
        raise PermissionDenied("only the team's admins and the link's maker revoke it")
    if link.revoke(request.user):
        messages.success(request, gettext("The link is revoked: it opens nothing any more."))
    return redirect("studio:review_links")
