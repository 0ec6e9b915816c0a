"""The AceDataCloud Sora API, simulated: same paths, request validation, error bodies, task records and
quirks (see shared/api/upstream.md), so the studio's client cannot tell it from the real service.

Trigger words in a prompt make the failure paths easy to try by hand:
  "real person" or "celebrity"  the task fails as a content-policy refusal
  "[sim:error]"                  the task fails with an upstream api_error
  "[sim:refused]"                the task fails as a refusal under the generic api_error code, which only
                                 its message tells apart from an internal error
  "[sim:slow]"                   the task takes three times as long
  "[sim:expired]"                the first video link handed out has already expired
  "[sim:used_up]"                the first submission is refused: the account's balance is used up (403)
  "[sim:timeout]"                the task is made, then the answer is held past the client's time-out
  "[sim:malformed]"              the task is made, then the answer is not JSON
  "[sim:hold]"                   the task is made, then the answer waits a little (within the time-out):
                                 a window for the soak's SIGKILL between "made upstream" and "task id saved"

With SIMULATOR_FAULTS set, submits, task reads, downloads and callbacks also fail at random: see faults.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import random
import shutil
import string
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sorastudio.lib import capabilities

from . import callbacks, common, faults
from .common import (
    Ending,
    bearer_matches,
    create_task,
    ending_for,
    out_of_credit,
    signed_link,
)
from .models import SimTask
from .render import render_video, simulated_frame_size
from .slots import holding, render_slot


def _error(status: int, code: str, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse(
        {"success": False, "error": {"code": code, "message": message}, "trace_id": str(uuid.uuid4())},
        status=status,
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _authorized(request: HttpRequest) -> JsonResponse | None:
    header = request.headers.get("authorization", "")
    if not header:
        return _error(400, "no_token", "Authorization token is required.")
    if not bearer_matches(header):
        return _error(401, "invalid_token", "The authorization token is invalid.")
    return None


_BODY_PROBLEMS = {
    "not_json": "The request body is not valid JSON.",
    "not_object": "The request body must be a JSON object.",
}


def _json_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    body = common.json_object(request)
    return _error(400, "bad_request", _BODY_PROBLEMS[body]) if isinstance(body, str) else body


def validate_request(body: dict[str, Any]) -> str:
    """The problem with a /sora/videos request, in the upstream's words, or "" when it is acceptable.
    The checks run in order, and only the first problem found is named."""
    model = body.get("model")
    if model not in capabilities.MODELS:
        return f"model must be one of {', '.join(capabilities.MODELS)}"
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return "prompt is required"
    version = str(body.get("version", "1.0"))
    if version == "2":
        version = "2.0"  # some vendor samples send the integer 2
    cap = capabilities.capability(capabilities.ACEDATA, version, model)
    if cap is None:
        return f"version must be 1.0 or 2.0, not {body.get('version')!r}"
    return (
        _shape_problem(body, cap, f"{model} in version {version}")
        or _images_problem(body)
        or _character_problem(body, cap)
        or _callback_problem(body)
    )


def _shape_problem(body: dict[str, Any], cap: capabilities.Capability, model_and_version: str) -> str:
    duration = body.get("duration", cap.default_duration)
    if not isinstance(duration, int) or duration not in cap.durations:
        return f"duration {duration!r} is not supported by {model_and_version}"
    size = body.get("size", cap.default_size)
    if size not in cap.sizes:
        return f"size {size!r} is not supported by {model_and_version}"
    orientation = body.get("orientation")
    if orientation is None:
        return ""
    if not cap.orientations:
        return "orientation is only supported in version 1.0"
    if orientation not in cap.orientations:
        return f"orientation {orientation!r} is not supported"
    return ""


def _images_problem(body: dict[str, Any]) -> str:
    images = body.get("image_urls", [])
    if not isinstance(images, list) or not all(isinstance(i, str) and _is_image_ref(i) for i in images):
        return "image_urls must be a list of image URLs or base64 images"
    return ""


def _character_problem(body: dict[str, Any], cap: capabilities.Capability) -> str:
    if "character_url" not in body:
        return ""
    if not cap.character:
        return "character_url is only supported in version 1.0"
    start, end = body.get("character_start"), body.get("character_end")
    if not isinstance(start, int) or not isinstance(end, int):
        return "character_start and character_end are required with character_url"
    if not capabilities.CHARACTER_MIN_SPAN <= end - start <= capabilities.CHARACTER_MAX_SPAN:
        return "character_end - character_start must be between 1 and 3 seconds"
    if not str(body["character_url"]).startswith(("http://", "https://")):
        return "character_url must be a URL"
    return ""


def _callback_problem(body: dict[str, Any]) -> str:
    callback = body.get("callback_url")
    if callback is not None and not str(callback).startswith(("http://", "https://")):
        return "callback_url must be a URL"
    return ""


def _is_image_ref(value: str) -> bool:
    if value.startswith(("http://", "https://")):
        return True
    data = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _task_id() -> str:
    return str(uuid.uuid4())


def _video_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "sora-2:task_01" + "".join(random.choices(alphabet, k=24))


def _video_url(request: HttpRequest | None, task: SimTask) -> str:
    return signed_link(request, task, "simulator:video_file")


def _result_body(request: HttpRequest | None, task: SimTask) -> dict[str, Any]:
    """The blocking response, which is also the callback body and a finished record's `response`."""
    if task.outcome == "failed":
        return {
            "success": False,
            "task_id": task.id,
            "trace_id": task.trace_id,
            "error": {"code": task.error_code, "message": task.error_message},
        }
    return {
        "success": True,
        "task_id": task.id,
        "trace_id": task.trace_id,
        "data": [{"id": task.video_id, "video_url": _video_url(request, task), "state": "succeeded"}],
    }


def _record(request: HttpRequest, task: SimTask) -> dict[str, Any]:
    phase = task.phase()
    record: dict[str, Any] = {
        "_id": hashlib.md5(task.id.encode(), usedforsecurity=False).hexdigest()[:24],
        "id": task.id,
        "api_id": "b0761231-74e6-42d3-a095-c1987a61e900",
        "application_id": "simulator",
        "credential_id": "simulator",
        "user_id": "simulator",
        "type": "videos",
        "created_at": task.created_at.timestamp(),
        "request": task.request,
        "trace_id": task.trace_id,
    }
    if phase == "pending":
        return record
    if phase == "processing":
        record["response"] = {"data": [{"id": task.video_id, "state": "processing"}]}
        record["started_at"] = task.created_at.timestamp() + 1
        return record
    record["started_at"] = task.created_at.timestamp() + 1
    record["finished_at"] = task.finishes_at.timestamp()
    record["elapsed"] = round((task.finishes_at - task.created_at).total_seconds(), 3)
    record["response"] = _result_body(request, task)
    return record


# Each ending of a task (common.ending_for) as this API reports it: outcome, code, message.
_OUTCOMES: dict[Ending, tuple[str, str, str]] = {
    "succeeded": ("succeeded", "", ""),
    "refused": (
        "failed",
        "content_policy_violation",
        "This request was rejected by the safety system: the content may depict a real person.",
    ),
    "refused_generically": (
        "failed",
        "api_error",
        "The request was rejected by the content policy: it appears to depict real people.",
    ),
    "error": ("failed", "api_error", "The video could not be generated because of an internal error."),
}


@csrf_exempt
@login_not_required
@require_POST
def acedata_videos(request: HttpRequest) -> HttpResponseBase:
    if refused := _authorized(request):
        return refused
    body = _json_body(request)
    if isinstance(body, JsonResponse):
        return body
    if problem := validate_request(body):
        return _error(400, "bad_request", problem)
    prompt = str(body["prompt"])
    if out_of_credit(capabilities.ACEDATA, prompt):
        return _error(403, "used_up", "Your balance has been used up, please recharge.")
    # Refused before anything is made, as the studio assumes of an error status.
    if fault := faults.http_fault("submit", allow=("429", "500")):
        return fault

    outcome, code, message = _OUTCOMES[ending_for(prompt)]
    task, seconds = create_task(
        prompt,
        id=_task_id(),
        request=body,
        trace_id=str(uuid.uuid4()),
        video_id=_video_id(),
        outcome=outcome,
        error_code=code,
        error_message=message,
        callback_url=str(body.get("callback_url") or ""),
    )
    if task.callback_url:
        _schedule_callback(task.id, seconds)
    if broken := _broken_answer(prompt):
        return broken
    if task.callback_url:
        return JsonResponse({"task_id": task.id})
    if body.get("async") is True:
        return JsonResponse({"task_id": task.id, "trace_id": task.trace_id})
    if "application/x-ndjson" in request.headers.get("accept", ""):
        return StreamingHttpResponse(_ndjson(request, task), content_type="application/x-ndjson")
    # The blocking mode holds the connection for the generation, as the real one does, but only in a free
    # hold slot and for a hold's length; otherwise the answer is the async one, the task id to poll.
    with holding() as held:
        if held is not None:
            _sleep_until(task, held)
    if task.phase() not in ("succeeded", "failed"):
        return JsonResponse({"task_id": task.id, "trace_id": task.trace_id})
    return JsonResponse(_result_body(request, task), status=200)


def _broken_answer(prompt: str) -> HttpResponse | None:
    """The markers that make an accepted submit look uncertain to the client, or hold it (see faults.py)."""
    if uncertain := faults.uncertain_submit(prompt, _error(504, "timeout", "The answer came too late.")):
        return uncertain
    if "[sim:hold]" in prompt.lower():
        faults.record("hold", "submit")
        with holding() as seconds:
            if seconds is not None:
                time.sleep(min(settings.UPSTREAM_TIMEOUT * 0.6, seconds))
    return None


def _sleep_until(task: SimTask, at_most: float) -> None:
    remaining = (task.finishes_at - timezone.now()).total_seconds()
    if remaining > 0:
        time.sleep(min(remaining, at_most))


def _ndjson(request: HttpRequest, task: SimTask) -> Iterator[bytes]:
    """Progress lines until the task is done, while a hold slot lasts; without one, or once the hold is
    over, the stream ends on the latest progress line (the client polls for the rest)."""
    with holding() as seconds:
        deadline = time.monotonic() + (seconds or 0.0)
        while task.phase() not in ("succeeded", "failed"):
            snapshot = {
                "success": True,
                "task_id": task.id,
                "trace_id": task.trace_id,
                "data": [{"id": task.video_id, "state": task.phase()}],
            }
            yield (json.dumps(snapshot) + "\n").encode()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(1.0, left, max(0.0, (task.finishes_at - timezone.now()).total_seconds())))
        yield (json.dumps(_result_body(request, task)) + "\n").encode()


@csrf_exempt
@login_not_required
@require_POST
def acedata_tasks(request: HttpRequest) -> HttpResponseBase:
    if refused := _authorized(request):
        return refused
    body = _json_body(request)
    if isinstance(body, JsonResponse):
        return body
    if fault := faults.http_fault("status"):
        return fault
    action = body.get("action", "retrieve")
    if action == "retrieve_batch":
        ids = body.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return _error(400, "bad_request", "ids must be a list of task ids")
        tasks = {t.id: t for t in SimTask.objects.filter(id__in=ids)}
        items = [_record(request, tasks[i]) for i in ids if i in tasks]
        return JsonResponse({"items": items, "count": len(items)})
    if action != "retrieve":
        return _error(400, "bad_request", f"unknown action {action!r}")
    task = SimTask.objects.filter(id=str(body.get("id") or "")).first()
    if task is None:
        # The real service answers an unknown id with an empty object and 200.
        return JsonResponse({})
    return JsonResponse(_record(request, task))


@login_not_required
@require_GET
def video_file(request: HttpRequest, task_id: str) -> HttpResponseBase:
    return common.video_file(request, task_id, capabilities.ACEDATA, _render)


_RENDERING = threading.Lock()
_RENDER_LOCKS: dict[str, threading.Lock] = {}


def _render(task: SimTask, path: Path) -> None:
    body = task.request
    version = "2.0" if str(body.get("version", "1.0")) in ("2", "2.0") else "1.0"
    cap = capabilities.capability(capabilities.ACEDATA, version, body["model"])
    assert cap is not None
    size = body.get("size", cap.default_size)
    orientation = body.get("orientation", cap.default_orientation)
    width, height = simulated_frame_size(*cap.pixel_size(size, orientation))
    duration = body.get("duration", cap.default_duration)
    caption = f"{capabilities.MODELS[body['model']]} · v{version} · {duration} s · simulated"
    # The same request always renders the same frames: tasks that asked alike share one render (a hard
    # link), so a thousand identical jobs cost the simulator one encode rather than a thousand.
    prompt = body["prompt"]
    key = hashlib.sha256(json.dumps([prompt, width, height, duration, caption]).encode()).hexdigest()
    shared = path.parent / "renders" / f"{key}.mp4"
    with _RENDERING:
        lock = _RENDER_LOCKS.setdefault(key, threading.Lock())
    try:
        with lock:  # many downloads of one new render at once: one encodes, the others wait for it
            if not shared.exists():
                shared.parent.mkdir(exist_ok=True)
                with render_slot():
                    render_video(
                        shared, prompt=prompt, width=width, height=height, seconds=duration, caption=caption
                    )
    finally:
        with _RENDERING:
            _RENDER_LOCKS.pop(key, None)
    try:
        os.link(shared, path)
    except FileExistsError:
        pass
    except OSError:
        shutil.copyfile(shared, path)


def _schedule_callback(task_id: str, delay: float) -> None:
    faults.schedule_callbacks(task_id, delay, _deliver_callback, _forge_callback)


def _deliver_callback(task_id: str, again: bool = False) -> None:
    callbacks.deliver(capabilities.ACEDATA, task_id, lambda task: _result_body(None, task), again=again)


def _forge_callback(task_id: str) -> None:
    callbacks.forge(capabilities.ACEDATA, task_id, _forged_body)


def _forged_body(task_id: str) -> dict[str, Any]:
    return {
        "success": True,
        "task_id": task_id,
        "trace_id": str(uuid.uuid4()),
        "data": [{"id": "forged", "video_url": faults.FORGED_VIDEO_URL, "state": "succeeded"}],
    }
