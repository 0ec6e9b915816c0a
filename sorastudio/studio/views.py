from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh, push_url, trigger_client_event

from sorastudio.billing import costs, ratelimit
from sorastudio.billing.models import QuotaExceeded, Quote
from sorastudio.lib import storage
from sorastudio.lib.ranged import ranged_response
from sorastudio.lib.ratelimit import RateLimited
from sorastudio.pipeline import providers, submit, tasks
from sorastudio.teams.decorators import admin_required
from sorastudio.teams.http import StudioRequest

from . import characters, gallery, presets, video_page
from .forms import GenerationForm
from .gallery import GalleryFilters, gallery_items
from .models import Character, Favourite, Generation, GenerationImage

REFERENCE_LINK_SECONDS = 7 * 24 * 3600
TRASH_PAGE = 50
# The most videos one zip or one delete takes: more than anyone ticks by hand.
MOST_CHOSEN = 500


def _team_generations(request: StudioRequest) -> Any:
    return Generation.objects.for_team(request.team)


def _gallery(request: StudioRequest) -> dict[str, Any]:
    """The grid's context: the filters from the query string and the page the cursor points at."""
    filters = GalleryFilters(request.GET, membership=request.membership)
    generations = filters.apply(_team_generations(request))
    generations = costs.with_charges(generations.for_cards().with_flags_for(request.user).with_queue_places())
    page = gallery.page_of(generations, request.GET.get("cursor", ""))
    more = filters.query_string(cursor=page.cursor) if page.cursor else ""
    return {"filters": filters, "page": page, "more": more, "paged": bool(request.GET.get("cursor"))}


@require_GET
def index(request: StudioRequest) -> HttpResponseBase:
    """The studio: the prompt form beside the team's gallery. The form may come filled in: from a preset,
    from an earlier video ("Edit & retry"), or with the options a browser without scripts asked to update."""
    preset = presets.BY_SLUG.get(request.GET.get("preset", ""))
    source = request.GET.get("from")
    if preset:
        form = GenerationForm(initial=preset.initial(request.GET.get("prompt", "")))
    elif source:
        original = get_object_or_404(_team_generations(request), pk=_uuid_or_404(source))
        form = GenerationForm(initial=original.form_initial(), team=request.team)
    elif {"provider", "model", "version"} & set(request.GET):
        # The "Update the options" button of browsers without scripts: the values are shown again as
        # typed, without judging them yet (an empty prompt is not an error at this point).
        form = GenerationForm(request.GET, team=request.team)
        form.autocorrect()
        form.errors.clear()
    else:
        form = GenerationForm()
    return TemplateResponse(request, "studio/index.html", {"form": form, **_gallery(request)})


@require_GET
def gallery_more(request: StudioRequest) -> HttpResponseBase:
    """The gallery's next cards, after the last one shown (its "More videos" link, for htmx)."""
    return TemplateResponse(request, "studio/index.html#page", _gallery(request))


@require_GET
def gallery_view(request: StudioRequest) -> HttpResponseBase:
    """The gallery under the filters just changed (for htmx), and what is wrong with them beside each."""
    context = {**_gallery(request), "oob_errors": True}
    response = TemplateResponse(request, "studio/index.html#gallery_view", context)
    # The filters as applied, without the empty and the invalid ones: the address to share.
    return push_url(response, reverse("studio:index") + context["filters"].query_string())


@require_GET
def compose_preset(request: StudioRequest, slug: str) -> HttpResponseBase:
    """The form started from a preset, keeping the prompt typed so far (a preset's chip, for htmx)."""
    preset = presets.BY_SLUG.get(slug)
    if preset is None:
        raise Http404("no such preset")
    form = GenerationForm(initial=preset.initial(request.GET.get("prompt", "")))
    return TemplateResponse(request, "studio/index.html#compose", {"form": form})


@require_GET
def compose_options(request: StudioRequest) -> HttpResponseBase:
    """The form's options for the service, model and version just chosen (for htmx)."""
    return TemplateResponse(request, "studio/index.html#options", {"form": _form_so_far(request)})


@require_GET
def compose_cost(request: StudioRequest) -> HttpResponseBase:
    """What the request as filled in so far costs, and what is left (for htmx, on every change)."""
    return TemplateResponse(request, "studio/index.html#cost", {"form": _form_so_far(request)})


def _form_so_far(request: StudioRequest) -> GenerationForm:
    form = GenerationForm(request.GET, team=request.team)
    form.autocorrect()
    return form


@require_POST
def api_preview(request: StudioRequest) -> HttpResponseBase:
    """The form's "Show the API call": the JSON that would be sent for what is filled in, without
    creating anything."""
    form = GenerationForm(request.POST, request.FILES, team=request.team)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        draft = Generation(team=request.team, created_by=request.user, **form.generation_params())
        call = providers.api_call(draft)
        context["api_call"] = f"{call['path']}\n{json.dumps(call['body'], indent=2, ensure_ascii=False)}"
        uploads = len(form.cleaned_data.get("images") or [])
        context["uploads"] = uploads
        context["jobs"] = len(form.cleaned_data["prompts"]) * form.cleaned_data["variations"]
    return TemplateResponse(request, "studio/api_preview.html", context)


@require_GET
def history(request: StudioRequest) -> HttpResponseBase:
    """The creator's own prompts, newest first, each once, searchable; one click uses one again."""
    return TemplateResponse(request, "studio/history.html", _history(request))


@require_GET
def history_results(request: StudioRequest) -> HttpResponseBase:
    """The prompts found for the words typed in the search field (for htmx, as they are typed)."""
    response = TemplateResponse(request, "studio/history.html#results", _history(request))
    return push_url(response, f"{reverse('studio:history')}?{request.GET.urlencode()}")


def _history(request: StudioRequest) -> dict[str, Any]:
    query = request.GET.get("q", "").strip()
    mine = _team_generations(request).filter(created_by=request.user).newest_first()
    if query:
        mine = mine.filter(prompt__icontains=query)
    seen: dict[str, dict[str, Any]] = {}
    for generation in mine.only(
        "pk",
        "prompt",
        "created_at",
        "provider",
        "model",
        "version",
        "duration",
        "size",
        "quality",
        "orientation",
        "watermark",
        "state",
    )[:2000]:
        entry = seen.get(generation.prompt)
        if entry is None:
            seen[generation.prompt] = {"latest": generation, "count": 1}
        else:
            entry["count"] += 1
    page = Paginator(list(seen.values()), 50).get_page(request.GET.get("page"))
    return {"page": page, "q": query}


@require_http_methods(["GET", "POST"])
def generate(request: StudioRequest) -> HttpResponseBase:
    """The form's submit: the videos asked for are queued, and the form comes back ready for the next prompt.
    Without scripts, a refused submit is the whole page again, with what is wrong beside the fields."""
    if request.method == "GET":
        # This address is in the bar after a refused plain submit: the language switcher, say, comes back
        # to it. The form is on the studio's page.
        return redirect("studio:index")
    form = GenerationForm(request.POST, request.FILES, team=request.team)
    valid = form.is_valid()
    # Past a limit (the rate of submits, then the quotas) nothing is stored, not even a character clip.
    refusal = _over_limits(request, form) if valid else None
    # Stores an uploaded character clip and saves the character if it was named.
    clip = characters.attach(form, team=request.team, user=request.user) if valid and not refusal else None
    if clip is None:
        return _compose_again(request, form, refusal)

    data = form.cleaned_data
    try:
        created = submit.create_jobs(
            team=request.team,
            user=request.user,
            simulated=providers.is_simulated(data["provider"]),
            params={**form.generation_params(), **clip},
            prompts=data["prompts"],
            variations=data["variations"],
            uploads=data.get("images") or [],
            kept=data.get("kept_images") or [],
        )
    except (RateLimited, QuotaExceeded) as taken:  # other submits took the last room meanwhile
        return _compose_again(request, form, taken)
    for generation in created:
        tasks.start(generation)

    if not request.htmx:
        return redirect("studio:index")
    fresh = GenerationForm(initial=_keep_options(form))
    context = {"form": fresh, "items": gallery_items(created[::-1])}
    response = TemplateResponse(request, "studio/created.html", context)
    return trigger_client_event(response, "generation-created", {"ids": [str(g.pk) for g in created]})


def _over_limits(request: StudioRequest, form: GenerationForm) -> QuotaExceeded | RateLimited | None:
    data = form.cleaned_data
    jobs = len(data["prompts"]) * data["variations"]
    return (
        ratelimit.check(request.user, jobs)
        or Quote.of(request.team, request.user, form.generation_params(), jobs).refusal
    )


def _compose_again(
    request: StudioRequest, form: GenerationForm, refusal: QuotaExceeded | RateLimited | None
) -> HttpResponseBase:
    """The form as it was sent, with what is wrong beside the field or, past a limit, beside the button."""
    template = "studio/index.html#compose" if request.htmx else "studio/index.html"
    context: dict[str, Any] = {"form": form, "refusal": refusal}
    if not request.htmx:
        context.update(_gallery(request))
    return TemplateResponse(request, template, context, status=200 if request.htmx else 400)


def _keep_options(form: GenerationForm) -> dict[str, Any]:
    """After a submit the form keeps the chosen options, ready for the next prompt."""
    data = form.cleaned_data
    kept: tuple[str, ...] = ("provider", "model", "version", "duration", "size", "orientation", "quality")
    kept += ("variations", "image_fit")
    initial = {name: data.get(name) for name in kept}
    initial["aspect_ratio"] = data.get("orientation")
    return initial


def _uuid_or_404(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Http404("no such video") from None


@require_GET
def generation(request: StudioRequest, pk: str) -> HttpResponseBase:
    """A video's page."""
    item = get_object_or_404(_visible(request), pk=pk)
    return TemplateResponse(request, "studio/generation.html", video_page.context(request, item))


@require_GET
def generation_card(request: StudioRequest, pk: str) -> HttpResponseBase:
    """A video's card in the gallery, which asks for itself every 2 s while the video is being made."""
    item = get_object_or_404(_visible(request), pk=pk)
    # Only live cards poll, so a finished answer here is the moment the job ended: say it once to screen
    # readers (the card itself is not a live region, or it would speak every 2 s).
    context = {"generation": item, "now": timezone.now(), "announce": not item.is_live}
    return TemplateResponse(request, "studio/card.html", context)


@require_GET
def generation_panel(request: StudioRequest, pk: str) -> HttpResponseBase:
    """The player's panel of a video's page, which asks for itself every 2 s while the video is being made."""
    item = get_object_or_404(_visible(request), pk=pk)
    if item.is_live:
        return TemplateResponse(
            request, "studio/generation.html#detail", {"generation": item, "now": timezone.now()}
        )
    # Only a live panel polls, so the job has just ended: the rest of the page changes with it.
    return TemplateResponse(request, "studio/generation.html#ended", video_page.context(request, item))


def _visible(request: StudioRequest) -> Any:
    return costs.with_charges(
        _team_generations(request)
        .select_related("created_by")
        .with_flags_for(request.user)
        .with_queue_places()
    )


@require_GET
def upload_image(request: StudioRequest, pk: str, image: int) -> HttpResponseBase:
    """A reference image uploaded for one of the team's videos, for the team's own pages."""
    found = get_object_or_404(
        GenerationImage.objects.filter(generation__in=_team_generations(request)), pk=image, generation__pk=pk
    )
    return ranged_response(
        request,
        storage.open_stored(str(found.file.name)),
        size=found.file.size,
        content_type=found.content_type,
    )


@require_GET
def generation_clip(request: StudioRequest, pk: str) -> HttpResponseBase:
    """The character clip uploaded for one of the team's videos, for the team's own pages."""
    found = get_object_or_404(_team_generations(request).exclude(character_clip=""), pk=pk)
    return characters.serve_clip(request, str(found.character_clip.name))


@login_not_required
@require_GET
def character_clip(request: HttpRequest, token: str) -> HttpResponseBase:
    """A stored character clip, for the video service. The signed token is the permission: it names one
    file and expires after a week."""
    name = characters.clip_named_by(token)
    if name is None:
        raise Http404("no such clip")
    return characters.serve_clip(request, name)


@require_GET
def saved_clip(request: StudioRequest, pk: str) -> HttpResponseBase:
    """The clip of one of the team's saved characters, for the form's player."""
    found = get_object_or_404(Character.objects.filter(team=request.team).exclude(clip=""), pk=pk)
    return characters.serve_clip(request, str(found.clip.name))


@require_POST
def rerun(request: StudioRequest, pk: str) -> HttpResponseBase:
    """The same request again, exactly: the new job is linked to the one it repeats."""
    original = get_object_or_404(_team_generations(request), pk=pk)
    if original.is_live:
        return redirect(original)
    try:
        again = submit.rerun(original, request.user, simulated=providers.is_simulated(original.provider))
    except (RateLimited, QuotaExceeded) as refusal:
        messages.error(request, refusal.message)
        return HttpResponseClientRefresh() if request.htmx else redirect(original)
    tasks.start(again)
    if not request.htmx:
        return redirect("studio:index")
    return TemplateResponse(request, "studio/index.html#item", {"item": gallery_items([again])[0]})


@require_GET
def video(request: StudioRequest, pk: str) -> HttpResponseBase:
    item = get_object_or_404(_team_generations(request), pk=pk)
    if not item.succeeded:
        raise Http404("this video is not ready")
    download = request.GET.get("download") == "1"
    return ranged_response(
        request,
        storage.open_stored(str(item.video.name)),
        size=item.size_bytes or item.video.size,
        content_type="video/mp4",
        filename=item.download_name(),
        as_attachment=download,
        etag=f'"{item.sha256}"',
    )


@require_GET
def poster(request: StudioRequest, pk: str) -> HttpResponseBase:
    # A deleted video's poster is shown in the trash, to the admins who may restore it, and nowhere else.
    in_trash = request.GET.get("trash") == "1" and request.membership.is_admin
    visible = Generation.objects.in_trash(request.team) if in_trash else _team_generations(request)
    item = get_object_or_404(visible, pk=pk)
    if not item.poster:
        raise Http404("no poster yet")
    return ranged_response(
        request,
        storage.open_stored(str(item.poster.name)),
        size=item.poster.size,
        content_type="image/jpeg",
        etag=f'"p-{item.sha256}"',
    )


@login_not_required
@require_GET
def reference_image(request: StudioRequest, token: str) -> HttpResponseBase:
    """An uploaded reference image for an upstream that only takes addresses. The signed token is the
    permission: it names one image and expires after a week."""
    try:
        pk = signing.loads(token, salt="reference-image", max_age=REFERENCE_LINK_SECONDS)
    except signing.BadSignature:
        raise Http404("no such image") from None
    image = get_object_or_404(GenerationImage, pk=pk, generation__deleted_at__isnull=True)
    return ranged_response(
        request,
        storage.open_stored(str(image.file.name)),
        size=image.file.size,
        content_type=image.content_type,
    )


# --- Favourites, the trash and the selection ---------------------------------------------------------------


def _back(request: StudioRequest) -> HttpResponseBase:
    """Back to the page the person acted from (the gallery with its filters), or else to the gallery."""
    target = request.POST.get("next") or request.headers.get("referer", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("studio:index")


def _may_delete(request: StudioRequest, item: Generation) -> bool:
    return request.membership.may_delete(item.created_by_id)


def _trashed(request: StudioRequest, count: int) -> str:
    until = date_format(timezone.localdate() + timedelta(days=request.team.trash_days))
    return ngettext(
        "%(count)s video went to the trash. An admin can restore it until %(date)s.",
        "%(count)s videos went to the trash. An admin can restore them until %(date)s.",
        count,
    ) % {"count": count, "date": until}


def _chosen(request: StudioRequest) -> list[Generation]:
    """The videos ticked in the gallery, newest first. Any id that is not one of the team's visible videos
    answers 404, whatever the others are."""
    try:
        wanted = {uuid.UUID(value) for value in request.POST.getlist("ids")[: MOST_CHOSEN + 1]}
    except ValueError:
        raise Http404("no such video") from None
    found = list(_team_generations(request).filter(pk__in=wanted).select_related("created_by").newest_first())
    if len(found) != len(wanted):
        raise Http404("no such video")
    return found


def _choose_again(request: StudioRequest, chosen: list[Generation]) -> HttpResponseBase | None:
    """Back to the gallery with a message when nothing, or too much, was ticked."""
    if not chosen:
        messages.error(request, _("Tick one or more videos first."))
    elif len(chosen) > MOST_CHOSEN:
        messages.error(request, _("Choose at most %(most)s videos at a time.") % {"most": MOST_CHOSEN})
    else:
        return None
    return _back(request)


@require_POST
def favourite(request: StudioRequest, pk: str) -> HttpResponseBase:
    """Mark a video as one of one's favourites, or unmark it; each person has their own."""
    item = get_object_or_404(_team_generations(request), pk=pk)
    removed, _counts = Favourite.objects.filter(user=request.user, generation=item).delete()
    if not removed:
        Favourite.objects.get_or_create(user=request.user, generation=item)
    item.is_favourite = not removed
    if request.htmx:
        return TemplateResponse(request, "studio/index.html#favourite", {"generation": item})
    return _back(request)


@require_POST
def delete(request: StudioRequest, pk: str) -> HttpResponseBase:
    """Move one video to the trash. Its maker or an admin may; an admin can restore it for a while."""
    item = get_object_or_404(_team_generations(request), pk=pk)
    if not _may_delete(request, item):
        raise PermissionDenied("only the video's maker or an admin can delete it")
    if not item.soft_delete(request.user):
        messages.error(request, _("This video is still being made: delete it once it has finished."))
        return HttpResponseClientRefresh() if request.htmx else _back(request)
    if request.htmx:
        # The card gives way to a note saying where the video went.
        context = {"generation": item, "message": _trashed(request, 1)}
        return TemplateResponse(request, "studio/index.html#deleted", context)
    messages.success(request, _trashed(request, 1))
    return _back(request)


@require_POST
def bulk_delete(request: StudioRequest) -> HttpResponseBase:
    """Move the ticked videos to the trash: one's own (an admin: any), and none that is still being made."""
    chosen = _chosen(request)
    if again := _choose_again(request, chosen):
        return again
    moved = live = others = 0
    for item in chosen:
        if not _may_delete(request, item):
            others += 1
        elif item.soft_delete(request.user):
            moved += 1
        else:
            live += 1
    if moved:
        messages.success(request, _trashed(request, moved))
    if live:
        messages.warning(
            request,
            ngettext(
                "%(count)s video is still being made, so it was not deleted.",
                "%(count)s videos are still being made, so they were not deleted.",
                live,
            )
            % {"count": live},
        )
    if others:
        messages.warning(
            request,
            ngettext(
                "%(count)s video was made by someone else, so it was not deleted: only an admin can.",
                "%(count)s videos were made by others, so they were not deleted: only an admin can.",
                others,
            )
            % {"count": others},
        )
    return _back(request)


@require_POST
def download_zip(request: StudioRequest) -> HttpResponseBase:
    """The ticked videos that are ready, as one zip streamed while it is made."""
    chosen = _chosen(request)
    if again := _choose_again(request, chosen):
        return again
    ready = [item for item in chosen if item.succeeded]
    if not ready:
        messages.error(request, _("None of the chosen videos is ready to download yet."))
        return _back(request)
    response = StreamingHttpResponse(gallery.zip_stream(ready), content_type="application/zip")
    filename = f"sora-studio-{timezone.localdate():%Y-%m-%d}.zip"
    response["Content-Disposition"] = str(content_disposition_header(as_attachment=True, filename=filename))
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@admin_required
def trash(request: StudioRequest) -> HttpResponseBase:
    """The team's deleted videos, the latest deleted first, for an admin to restore while they still may."""
    deleted = (
        Generation.objects.in_trash(request.team)
        .select_related("team", "created_by", "deleted_by")
        .order_by("-deleted_at", "-id")
    )
    page = Paginator(deleted, TRASH_PAGE).get_page(request.GET.get("page"))
    return TemplateResponse(request, "studio/trash.html", {"page": page, "now": timezone.now()})


@require_POST
@admin_required
def restore(request: StudioRequest, pk: str) -> HttpResponseBase:
    item = get_object_or_404(Generation.objects.in_trash(request.team).select_related("team"), pk=pk)
    if item.restore(request.user):
        prompt = Truncator(item.prompt).chars(60)
        messages.success(request, _("“%(prompt)s” is back in the gallery.") % {"prompt": prompt})
    else:
        messages.error(
            request,
            _(
                "This video was deleted on %(date)s, longer ago than the team keeps its trash, so it can no "
                "longer be restored. It will be purged shortly."
            )
            % {"date": date_format(timezone.localtime(item.deleted_at))},
        )
    return redirect("studio:trash")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponseBase:
    """CSRF_FAILURE_VIEW: the studio's page for a form sent from a page that has expired (Django's own names
    the missing cookie or token, which means nothing to a creator)."""
    return TemplateResponse(request, "403_csrf.html", status=403)
