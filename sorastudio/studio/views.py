from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from . import characters, presets, providers, tasks
from .forms import GenerationForm
from .http import StudioRequest
from .models import Generation, GenerationImage, PollLease
from .ranged import ranged_response

GALLERY_PAGE = 24
REFERENCE_LINK_SECONDS = 7 * 24 * 3600


def _team_generations(request: StudioRequest) -> Any:
    return Generation.objects.for_team(request.team)


def _gallery(request: StudioRequest) -> Any:
    generations = _team_generations(request).select_related("created_by").newest_first()
    page = Paginator(generations, GALLERY_PAGE).get_page(request.GET.get("page"))
    page.items = gallery_items(page.object_list)  # type: ignore[attr-defined]
    return page


@require_http_methods(["GET", "POST"])
def index(request: StudioRequest) -> HttpResponseBase:
    """The studio: the prompt form beside the team's gallery. Also answers the form's htmx refreshes."""
    if request.method == "POST":
        return _create(request)

    if request.htmx and request.htmx.target == "options":
        form = GenerationForm(request.GET, team=request.team)
        form.autocorrect()
        return TemplateResponse(request, "studio/index.html#options", {"form": form})
    if request.htmx and request.htmx.target == "gallery":
        return TemplateResponse(request, "studio/index.html#gallery", {"page": _gallery(request)})

    preset = presets.BY_SLUG.get(request.GET.get("preset", ""))
    source = request.GET.get("from")
    if preset:
        form = GenerationForm(initial=preset.initial(request.GET.get("prompt", "")))
        if request.htmx:
            return TemplateResponse(request, "studio/index.html#compose", {"form": form})
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
    return TemplateResponse(request, "studio/index.html", {"form": form, "page": _gallery(request)})


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
    context = {"page": page, "q": query}
    if request.htmx and request.htmx.target == "history-results":
        return TemplateResponse(request, "studio/history.html#results", context)
    return TemplateResponse(request, "studio/history.html", context)


def _create(request: StudioRequest) -> HttpResponseBase:
    form = GenerationForm(request.POST, request.FILES, team=request.team)
    # Stores an uploaded character clip and saves the character if it was named.
    clip = characters.attach(form, team=request.team, user=request.user) if form.is_valid() else None
    if clip is None:
        template = "studio/index.html#compose" if request.htmx else "studio/index.html"
        context: dict[str, Any] = {"form": form}
        if not request.htmx:
            context["page"] = _gallery(request)
        return TemplateResponse(request, template, context, status=200 if request.htmx else 400)

    data = form.cleaned_data
    created = Generation.create_request(
        team=request.team,
        user=request.user,
        simulated=providers.is_simulated(data["provider"]),
        params={**form.generation_params(), **clip},
        prompts=data["prompts"],
        variations=data["variations"],
        uploads=data.get("images") or [],
        kept=data.get("kept_images") or [],
    )
    for generation in created:
        tasks.start(generation)

    if not request.htmx:
        return redirect("studio:index")
    fresh = GenerationForm(initial=_keep_options(form))
    context = {"form": fresh, "items": gallery_items(created[::-1])}
    response = TemplateResponse(request, "studio/created.html", context)
    return trigger_client_event(response, "generation-created", {"ids": [str(g.pk) for g in created]})


def _keep_options(form: GenerationForm) -> dict[str, Any]:
    """After a submit the form keeps the chosen options, ready for the next prompt."""
    data = form.cleaned_data
    kept: tuple[str, ...] = ("provider", "model", "version", "duration", "size", "orientation", "quality")
    kept += ("variations", "image_fit")
    initial = {name: data.get(name) for name in kept}
    initial["aspect_ratio"] = data.get("orientation")
    return initial


def gallery_items(generations: Any) -> list[dict[str, Any]]:
    """The gallery's cards: a job on its own, or the variations of one submit together on one card
    (they are made at the same moment, so they sit side by side in the newest-first order)."""
    items: list[dict[str, Any]] = []
    for generation in generations:
        last = items[-1] if items else None
        if generation.group and last and last["group"] == generation.group:
            last["generations"].append(generation)
        else:
            items.append({"group": generation.group, "generations": [generation]})
    for item in items:
        item["generations"].sort(key=lambda g: g.variation)
    return items


def _uuid_or_404(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Http404("no such video") from None


@require_GET
def generation(request: StudioRequest, pk: str) -> HttpResponseBase:
    """A video's page. Live cards in the gallery and the page's own panel poll this view for fragments."""
    item = get_object_or_404(_team_generations(request).select_related("created_by"), pk=pk)
    context = {"generation": item, "now": timezone.now()}
    if request.htmx and request.htmx.target == f"card-{item.pk}":
        # Only live cards poll, so a finished answer here is the moment the job ended: say it once
        # to screen readers (the card itself is not a live region, or it would speak every 2 s).
        context["announce"] = not item.is_live
        return TemplateResponse(request, "studio/card.html", context)
    if request.htmx and request.htmx.target == "detail":
        return TemplateResponse(request, "studio/generation.html#detail", context)
    context["events"] = item.events.all()
    context["reruns"] = _team_generations(request).filter(parent=item).newest_first()
    if item.group:
        context["siblings"] = _team_generations(request).filter(group=item.group).exclude(pk=item.pk)
    call = providers.api_call(item)
    context["api_call"] = f"{call['path']}\n{json.dumps(call['body'], indent=2)}"
    return TemplateResponse(request, "studio/generation.html", context)


@require_GET
def upload_image(request: StudioRequest, pk: str, image: int) -> HttpResponseBase:
    """A reference image uploaded for one of the team's videos, for the team's own pages."""
    found = get_object_or_404(GenerationImage, pk=image, generation__team=request.team, generation__pk=pk)
    return ranged_response(
        request, found.file.open("rb"), size=found.file.size, content_type=found.content_type
    )


@require_POST
def rerun(request: StudioRequest, pk: str) -> HttpResponseBase:
    """The same request again, exactly: the new job is linked to the one it repeats."""
    original = get_object_or_404(_team_generations(request), pk=pk)
    if original.is_live:
        return redirect(original)
    again = original.rerun(request.user, simulated=providers.is_simulated(original.provider))
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
        item.video.open("rb"),
        size=item.size_bytes or item.video.size,
        content_type="video/mp4",
        filename=item.download_name(),
        as_attachment=download,
        etag=f'"{item.sha256}"',
    )


@require_GET
def poster(request: StudioRequest, pk: str) -> HttpResponseBase:
    item = get_object_or_404(_team_generations(request), pk=pk)
    if not item.poster:
        raise Http404("no poster yet")
    return ranged_response(
        request,
        item.poster.open("rb"),
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
    image = get_object_or_404(GenerationImage, pk=pk)
    return ranged_response(
        request, image.file.open("rb"), size=image.file.size, content_type=image.content_type
    )


@csrf_exempt
@login_not_required
@require_POST
def callback(request: StudioRequest, provider: str, token: str) -> HttpResponse:
    """The upstream says a task ended. The body proves nothing (it is not signed), so it is only a wake-up:
    the job is re-read from the upstream by its own task id before anything changes."""
    item = Generation.objects.filter(callback_token=token).only("pk", "state").first()
    if item is None or item.provider != provider:
        raise Http404("unknown callback")
    item.log("callback")
    tasks.enqueue("refresh", str(item.pk), "callback")
    return JsonResponse({"ok": True})


@login_not_required
@never_cache
@require_GET
def healthz(request: StudioRequest) -> JsonResponse:
    return health()


def health() -> JsonResponse:
    """Database, queue and providers, as JSON; 503 when the studio cannot work. No secrets, no hosts."""
    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True, "engine": connection.vendor}
    except Exception as exc:  # any failure is the answer
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
        return _health_response(checks)
    checks["queue"] = _queue_health()
    leases = {lease.provider: lease for lease in PollLease.objects.all()}
    for name in providers.usable():
        lease = leases.get(name)
        checks[f"provider:{name}"] = {
            "ok": not (lease and lease.last_error),
            "simulated": providers.is_simulated(name),
            "callbacks": bool(settings.PUBLIC_BASE_URL),
            "last_poll_at": lease.last_poll_at.isoformat() if lease and lease.last_poll_at else None,
            "last_error": "the last status poll failed" if lease and lease.last_error else None,
        }
    return _health_response(checks)


def _health_response(checks: dict[str, Any]) -> JsonResponse:
    # A failing status poll is reported but does not make the studio unhealthy: jobs wait and retry.
    healthy = checks["database"]["ok"] and checks.get("queue", {}).get("ok", False)
    response = JsonResponse({"ok": healthy, "checks": checks}, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


def _queue_health() -> dict[str, Any]:
    from django_q.brokers import get_broker
    from django_q.models import Task

    try:
        pending = get_broker().queue_size()
        # Cluster stats live in a per-process cache with the ORM broker, so the last finished task is the
        # signal that some worker is alive.
        last_task = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
        live = Generation.objects.in_flight()
        oldest = live.order_by("created_at").values_list("created_at", flat=True).first()
        live_count = live.count()
    except Exception as exc:  # a broken broker is reported, not raised
        return {"ok": False, "error": exc.__class__.__name__}
    return {
        "ok": True,
        "broker": "redis" if settings.REDIS_URL else "orm",
        "pending_tasks": pending,
        "last_task_finished_at": last_task.isoformat() if last_task else None,
        "live_jobs": live_count,
        "oldest_live_seconds": int((timezone.now() - oldest).total_seconds()) if oldest else None,
    }


@require_http_methods(["GET", "POST"])
def favourite(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def delete(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def restore(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def download_zip(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def bulk_delete(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def trash(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")
