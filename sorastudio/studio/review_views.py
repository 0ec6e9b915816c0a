"""Review: decisions, comments pinned to a moment, and side-by-side comparison."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sorastudio.teams.http import StudioRequest

from . import video_page
from .models import DECISIONS, Comment, Generation, ReviewError
from .review_forms import COMPARE_MOST, CommentForm, PinnedForm, ReviewForm


def _team_video(request: StudioRequest, pk: str) -> Generation:
    videos = Generation.objects.for_team(request.team).select_related("created_by", "team")
    return get_object_or_404(videos, pk=pk)


@require_POST
def review(request: StudioRequest, pk: str) -> HttpResponseBase:
    """Ask for a review (the video's creator, or an admin for them), or decide on the video (reviewers and
    admins): approve, request changes or reject, with a comment that can be pinned to a moment."""
    generation = _team_video(request, pk)
    action = request.POST.get("action", "")
    rights = generation.review_rights(request.membership)
    if action == "ask" and not rights["ask"]:
        raise PermissionDenied("only the video's creator or an admin asks for its review")
    if action in DECISIONS and not rights["decide"]:
        raise PermissionDenied("only reviewers and admins decide on videos")

    form = ReviewForm(request.POST, generation=generation)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "ask":
                generation.ask_for_review(request.user, data["reviewer"])
            else:
                generation.decide(
                    request.user,
                    data["action"],
                    comment=data["comment"],
                    at_seconds=data["at_seconds"],
                    seen=data["seen"] or None,
                )
        except ReviewError as error:
            form.add_error(error.field, str(error))
    return _answer(request, generation, form, "ask_form" if action == "ask" else "decide_form")


@require_http_methods(["GET", "POST"])
def comments(request: StudioRequest, pk: str) -> HttpResponseBase:
    """The video's comments (GET: its review panel for htmx, or the page), or a new comment (POST), or a
    reply to one of them (`parent`)."""
    generation = _team_video(request, pk)
    if request.method == "GET":
        return _answer(request, generation)
    form = CommentForm(request.POST, generation=generation)
    reply_to = ""
    if form.is_valid():
        data = form.cleaned_data
        parent = get_object_or_404(generation.comments, pk=data["parent"]) if data["parent"] else None
        if parent is not None:
            # An error shows in the reply box of the thread the answered comment belongs to.
            reply_to = str(parent.parent_id or parent.pk)
        try:
            Comment.add(
                generation,
                request.user,
                data["body"],
                at_seconds=data["at_seconds"],
                parent=parent,
                drawing=data["drawing"],
            )
        except ReviewError as error:
            form.add_error(error.field, str(error))
    elif request.POST.get("parent"):
        reply_to = request.POST["parent"]
    name = "reply_form" if reply_to else "comment_form"
    return _answer(request, generation, form, name, reply_to=reply_to)


@require_POST
def resolve_comment(request: StudioRequest, pk: str) -> HttpResponseBase:
    """Mark a comment's thread as dealt with, or (action=reopen) open it again: its author, the video's
    creator, and the team's reviewers and admins may."""
    comment = get_object_or_404(
        Comment.objects.select_related("generation__created_by", "generation__team"),
        pk=pk,
        generation__in=Generation.objects.for_team(request.team),
    )
    if not comment.may_resolve(request.membership):
        raise PermissionDenied("only the comment's author, the video's creator and reviewers resolve it")
    if request.POST.get("action") == "reopen":
        comment.reopen(request.user)
    else:
        comment.resolve(request.user)
    return _answer(request, comment.generation, anchor=f"comment-{comment.pk}")


def _answer(
    request: StudioRequest,
    generation: Generation,
    form: PinnedForm | None = None,
    name: str = "",
    *,
    reply_to: str = "",
    anchor: str = "review",
) -> HttpResponseBase:
    """The video's page after a review action: for htmx its review panel, comments, marks and timeline;
    without scripts a redirect to the page. A refused action shows its form again with the reasons
    beside the fields and what was typed."""
    refused = form is not None and bool(form.errors)
    if not request.htmx and not refused:
        return redirect(f"{generation.get_absolute_url()}#{anchor}")
    context = video_page.context(request, generation)
    if refused:
        context[name] = form
        context["reply_to"] = reply_to
    if request.htmx:
        return TemplateResponse(request, "studio/generation.html#reviewed", context)
    return TemplateResponse(request, "studio/generation.html", context, status=400)


@require_GET
def compare(request: StudioRequest) -> HttpResponseBase:
    """Two to four of the team's finished videos side by side, played, paused and sought together: for
    the variations of a prompt and the re-runs of a video."""
    try:
        ids = list(dict.fromkeys(uuid.UUID(value) for value in request.GET.getlist("ids")))
    except ValueError:
        raise Http404("no such video") from None
    found = Generation.objects.for_team(request.team).select_related("created_by").in_bulk(ids)
    if len(found) < len(ids):
        raise Http404("no such video")
    videos = [found[pk] for pk in ids]
    problem = ""
    unfinished = [video for video in videos if not video.succeeded]
    if not 2 <= len(videos) <= COMPARE_MOST:
        problem = gettext("Choose two to four videos to compare.")
    elif unfinished:
        problem = gettext("Only finished videos can be compared, and “%(prompt)s” is not ready.") % {
            "prompt": unfinished[0].prompt[:60]
        }
    longest = max((video.video_duration or 0 for video in videos), default=0)
    context: dict[str, Any] = {"videos": videos, "problem": problem, "longest": longest}
    if not problem:
        drawn = _drawn(videos)
        context["columns"] = [
            (video, title, drawn.get(video.pk, []))
            for video, title in zip(videos, _titles(videos), strict=True)
        ]
    return TemplateResponse(request, "studio/compare.html", context, status=400 if problem else 200)


def _drawn(videos: list[Generation]) -> dict[uuid.UUID, list[Comment]]:
    """The comments with a drawing on a frame of each video (the team's own: `videos` are), in order."""
    found: dict[uuid.UUID, list[Comment]] = {}
    comments = Comment.objects.filter(generation__in=videos, drawing__isnull=False, at_seconds__isnull=False)
    for comment in comments.select_related("author"):
        found.setdefault(comment.generation_id, []).append(comment)
    return found


def _titles(videos: list[Generation]) -> list[str]:
    """A title for each compared video that tells it from the others, whose prompts are often the same: the
    original and its re-runs when both are compared, else its place among the variations of its submit,
    else its column."""
    shown = {video.pk for video in videos}
    originals = {video.parent_id for video in videos if video.parent_id in shown}
    # Numbered among all the original's re-runs and the whole submit, as its page and the gallery count them.
    reruns: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    parents = {video.parent_id for video in videos if video.parent_id}
    for parent, pk in (
        Generation.objects.filter(parent__in=parents).order_by("created_at", "pk").values_list("parent", "pk")
    ):
        reruns.setdefault(parent, []).append(pk)
    groups = {video.group for video in videos if video.group}
    totals = dict(
        Generation.objects.filter(group__in=groups)
        .values("group")
        .annotate(most=Max("variation"))
        .values_list("group", "most")
    )
    titles = []
    for number, video in enumerate(videos, start=1):
        if video.pk in originals:
            titles.append(gettext("Original"))
        elif video.parent_id:
            siblings = reruns.get(video.parent_id, [video.pk])
            if len(siblings) == 1:
                titles.append(gettext("Re-run of the original"))
            else:
                titles.append(
                    gettext("Re-run %(number)s of %(count)s")
                    % {"number": siblings.index(video.pk) + 1, "count": len(siblings)}
                )
        elif video.group:
            titles.append(
                gettext("Variation %(number)s of %(count)s")
                % {"number": video.variation, "count": totals.get(video.group, video.variation)}
            )
        else:
            titles.append(gettext("Video %(number)s") % {"number": number})
    return titles
