"""The pipeline's health for the team's admins, and "Resync from provider" on a video's page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from sorastudio.studio import presenters
from sorastudio.studio.models import Generation, State
from sorastudio.teams.decorators import admin_required
from sorastudio.teams.http import StudioRequest

from . import health, providers, tasks


@require_GET
@admin_required
def pipeline_health(request: StudioRequest) -> HttpResponseBase:
    """Queue, outcomes, times and upstream traffic. The page asks for its numbers again every 10 s (htmx);
    without JavaScript it is a plain page with a window filter and a reload."""
    return TemplateResponse(request, "studio/pipeline_health.html", _pipeline(request))


@require_GET
@admin_required
def pipeline_numbers(request: StudioRequest) -> HttpResponseBase:
    """The page's numbers again, which ask for themselves every 10 s (htmx)."""
    return TemplateResponse(request, "studio/pipeline_health.html#numbers", _pipeline(request))


def _pipeline(request: StudioRequest) -> dict[str, Any]:
    numbers = health.read(request.team, request.GET.get("window", health.DEFAULT_WINDOW))
    return {
        "health": numbers,
        "windows": health.window_choices(),
        "outcome_chart": health.outcome_chart(numbers),
        "time_chart": health.time_chart(numbers),
    }


@require_POST
def resync(request: StudioRequest, pk: str) -> HttpResponseBase:
    """Read the video's task from its provider again, now, and say what the provider answered."""
    item = get_object_or_404(Generation.objects.for_team(request.team), pk=pk)
    if not (request.membership.is_admin or item.created_by_id == request.user.pk):
        raise PermissionDenied("only the video's maker or an admin can resync it")
    found = tasks.resync(str(item.pk), by=request.user)
    message = _report(found)
    if request.htmx and not found.moved:
        item.refresh_from_db()
        context = {"generation": item, "message": message, "events": item.events.select_related("actor")}
        return TemplateResponse(request, "studio/generation.html#resynced", context)
    # A job that moved changes the whole page (its player, its state): show it afresh, with the message.
    messages.info(request, message)
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(item)


def _report(found: tasks.Resynced) -> str:
    if found.problem == "not_submitted":
        return gettext("This video has not reached the video service yet: there is nothing to read there.")
    if found.problem:
        return gettext(
            "The video service could not be read (%(problem)s). Nothing changed; try again in a moment."
        ) % {"problem": found.problem}
    said = presenters.phase_label(found.phase)
    if found.error_code:
        said = f"{said} ({found.error_code})"
    if found.moved:
        return gettext("The video service says: %(phase)s. The video is now “%(state)s”.") % {
            "phase": said,
            "state": State(found.state_after).label,
        }
    if found.state_before in (State.SUCCEEDED, State.FAILED, State.TIMED_OUT):
        return gettext(
            "The video service says: %(phase)s. This video had already ended here, so nothing changed."
        ) % {"phase": said}
    return gettext("The video service says: %(phase)s. Nothing new: the video carries on.") % {"phase": said}


@csrf_exempt
@login_not_required
@require_POST
def callback(request: StudioRequest, provider: str, token: str) -> HttpResponse:
    """The upstream says a task ended. The body proves nothing (it is not signed), so it is only a wake-up:
    the job is re-read from the upstream by its own task id before anything changes. The event it logs is
    the wake-up: the provider's follower re-reads every woken job together, in one batched read."""
    item = (
        Generation.objects.filter(callback_token=token)
        .only("pk", "state", "provider", "upstream_task_id")
        .first()
    )
    if item is None or item.provider != provider:
        raise Http404("unknown callback")
    item.log("callback")
    # A job in `submitting` without a task id: its worker may have been killed before saving it. The
    # upstream is asked about the task the body names, and says whether it was made for this job. Done
    # here rather than queued: a queued task could be lost with the next dead worker, and this is rare.
    submitting = item.state == State.SUBMITTING and not item.upstream_task_id
    if submitting and (task_id := providers.task_named_in(request.body)):
        tasks.adopt(str(item.pk), task_id)
    tasks.wake(provider)
    return JsonResponse({"ok": True})
