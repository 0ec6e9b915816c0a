"""Sora2API, simulated: same paths (under both the documented `/api/v1/sora2/` prefix and the
`/api/v1/sora2api/` one the vendor's public clients use), validation, envelope bodies and quirks as the real
service (see shared/api/upstream.md, section 2), so the studio's client cannot tell it from the real thing.

Trigger words in a prompt make the failure paths easy to try by hand, as in the AceDataCloud simulator:
  "real person" or "celebrity"  generate answers 200; record-info then reports the refusal (successFlag 3)
  "[sim:error]"                  the task fails as "task creation failed" (successFlag 2)
  "[sim:refused]"                the task fails as a refusal (successFlag 3) under the generic errorCode 500,
                                 which only its message tells apart from a server error
  "[sim:slow]"                   the task takes three times as long
  "[sim:expired]"                the first video link handed out has already expired
  "[sim:used_up]"                the first generate is refused: not enough credits (402)
  "[sim:timeout]"                the task is made, then the answer is held past the client's time-out
  "[sim:malformed]"              the task is made, then the answer is not JSON

With SIMULATOR_FAULTS set, generates, record-info reads, downloads and callbacks also fail at random (see
faults.py).

Where the vendor says nothing, the simulator assumes:
  * Every video is 10 seconds long: Sora2API takes no duration and does not document the one it makes.
  * `createTime` / `completeTime` are UTC; the vendor does not name a time zone.
  * An optional field sent as null counts as absent.
  * An error answers with the HTTP status equal to its `code`. The one exception is record-info for an unknown
    task, which answers HTTP 200 with `code` 404, as clients of the real service see it.
  * Result links are signed like the AceDataCloud simulator's and last 15 days, the vendor's stated retention.
  * A refusal carries the numeric errorCode 400 and a task-creation failure 500; the vendor shows `errorCode`
    as a number but does not list its values.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sorastudio.lib import capabilities

from . import callbacks, common, faults
from .common import Ending, bearer_matches, create_task, ending_for, out_of_credit, signed_link
from .models import SimTask
from .render import render_video, simulated_frame_size
from .slots import render_slot

PROVIDER = capabilities.SORA2API
# The same table that drives the studio's form decides what this simulated API accepts.
_CAPABILITY = capabilities.CAPABILITIES[(PROVIDER, "", "sora-2")]
ASPECT_RATIOS = _CAPABILITY.orientations
QUALITIES = _CAPABILITY.qualities
# Nominal landscape frame sizes; portrait swaps them. The rendered file is scaled down from these.
NOMINAL_SIZES = {"hd": (1280, 720), "standard": (854, 480)}
VIDEO_SECONDS = _CAPABILITY.default_duration
WATERMARK_MAX_LENGTH = capabilities.WATERMARK_MAX
LINK_LIFETIME = timedelta(days=15)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

FILE_ROUTE = "simulator:sora2api_video_file"


def _envelope(code: int, msg: str, data: Any = None, *, status: int | None = None) -> JsonResponse:
    """Every answer of this API: `code` is the real status, and errors use it as the HTTP status too."""
    return JsonResponse({"code": code, "msg": msg, "data": data}, status=status or code)


def _authorized(request: HttpRequest) -> JsonResponse | None:
    if not bearer_matches(request.headers.get("authorization", "")):
        return _envelope(401, "Missing or invalid API key")
    return None


_BODY_PROBLEMS = {
    "not_json": "Invalid request parameters or malformed JSON",
    "not_object": "The request body must be a JSON object",
}


def _json_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    body = common.json_object(request)
    return _envelope(400, _BODY_PROBLEMS[body]) if isinstance(body, str) else body


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://")) and len(value) > 8


def validate_request(body: dict[str, Any]) -> str:
    """The problem with a generate request, in the upstream's words, or "" when it is acceptable.
    The checks run in order, and only the first problem found is named."""
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return "prompt is required"
    return (
        _options_problem(body)
        or _images_problem(body.get("imageUrls"))
        or _watermark_problem(body.get("watermark"))
        or _callback_problem(body.get("callBackUrl"))
    )


def _options_problem(body: dict[str, Any]) -> str:
    aspect_ratio = body.get("aspectRatio")
    if aspect_ratio is not None and aspect_ratio not in ASPECT_RATIOS:
        return "aspectRatio must be landscape or portrait"
    quality = body.get("quality")
    if quality is not None and quality not in QUALITIES:
        return "quality must be standard or hd"
    return ""


def _images_problem(images: Any) -> str:
    if images is None:
        return ""
    if not isinstance(images, list):
        return "imageUrls must be a list of image URLs"
    if not all(_is_url(image) for image in images):
        return "Images must be publicly accessible URLs"
    return ""


def _watermark_problem(watermark: Any) -> str:
    if watermark is not None and (not isinstance(watermark, str) or len(watermark) > WATERMARK_MAX_LENGTH):
        return f"watermark must be text of at most {WATERMARK_MAX_LENGTH} characters"
    return ""


def _callback_problem(callback: Any) -> str:
    if callback is not None and not _is_url(callback):
        return "callBackUrl must be an http(s) URL"
    return ""


@dataclass(frozen=True)
class _Outcome:
    success_flag: int  # 1 succeeded, 2 task creation failed, 3 generation failed
    error_code: str = ""
    error_message: str = ""


# Each ending of a task (common.ending_for) as this API reports it.
_OUTCOMES: dict[Ending, _Outcome] = {
    "succeeded": _Outcome(1),
    "refused": _Outcome(
        3, "400", "This request was rejected by the safety system: the content may depict a real person."
    ),
    "refused_generically": _Outcome(
        3, "500", "Generation failed: this content violates our content policy (it may show a real person)."
    ),
    "error": _Outcome(2, "500", "Task creation failed because of an internal error."),
}


def _success_flag(task: SimTask) -> int:
    phase = task.phase()
    if phase == "succeeded":
        return 1
    if phase == "failed":
        # SimTask keeps only "failed"; the prompt, stored with the task, says which kind of failure it was.
        flag = _OUTCOMES[ending_for(str(task.request.get("prompt", "")))].success_flag
        return flag if flag != 1 else 3
    return 0


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def _error_code(code: str) -> int | str:
    # The vendor shows errorCode as a number; codes the simulator stores as digits go out as numbers.
    return int(code) if code.isdigit() else code


def _record(request: HttpRequest | None, task: SimTask) -> dict[str, Any]:
    """record-info's `data` for a task, as the vendor documents it."""
    flag = _success_flag(task)
    record: dict[str, Any] = {
        "taskId": task.id,
        "paramJson": json.dumps(task.request, ensure_ascii=False),
        "createTime": _stamp(task.created_at),
        "completeTime": _stamp(task.finishes_at) if flag else None,
        "response": None,
        "successFlag": flag,
        "errorCode": None,
        "errorMessage": None,
    }
    if flag == 1:
        record["response"] = {"imageUrl": signed_link(request, task, FILE_ROUTE, LINK_LIFETIME)}
        record["errorCode"] = 0  # as in the vendor's own example of a finished task
    elif flag > 1:
        record["errorCode"] = _error_code(task.error_code)
        record["errorMessage"] = task.error_message
    return record


def _callback_body(task: SimTask) -> dict[str, Any]:
    """The record-info body, with `code` 500 when the task failed, as the vendor documents callbacks."""
    record = _record(None, task)
    if record["successFlag"] == 1:
        return {"code": 200, "msg": "success", "data": record}
    return {"code": 500, "msg": task.error_message or "generation failed", "data": record}


@csrf_exempt
@login_not_required
@require_POST
def generate(request: HttpRequest) -> HttpResponseBase:
    if refused := _authorized(request):
        return refused
    body = _json_body(request)
    if isinstance(body, JsonResponse):
        return body
    if problem := validate_request(body):
        return _envelope(400, problem)
    prompt = str(body["prompt"])
    if out_of_credit(PROVIDER, prompt):
        return _envelope(402, "Insufficient credits: the account does not have enough credits for this task")
    if fault := faults.http_fault("submit", allow=("429", "500")):
        return fault

    outcome = _OUTCOMES[ending_for(prompt)]
    task_id = "sora2_task_" + uuid.uuid4().hex
    task, seconds = create_task(
        prompt,
        id=task_id,
        provider=PROVIDER,
        request=body,
        trace_id="",  # this API has no trace ids
        video_id=task_id,
        outcome="succeeded" if outcome.success_flag == 1 else "failed",
        error_code=outcome.error_code,
        error_message=outcome.error_message,
        callback_url=str(body.get("callBackUrl") or ""),
    )
    if task.callback_url:
        _schedule_callback(task.id, seconds)
    # Held past the time-out, the answer is the normal one: the client has given up by then.
    if uncertain := faults.uncertain_submit(prompt, late_answer=None):
        return uncertain
    return _envelope(200, "success", {"taskId": task.id})


@csrf_exempt
@login_not_required
@require_GET
def record_info(request: HttpRequest) -> HttpResponseBase:
    if refused := _authorized(request):
        return refused
    if fault := faults.http_fault("status"):
        return fault
    task_id = request.GET.get("taskId", "").strip()
    if not task_id:
        return _envelope(400, "taskId is required")
    task = SimTask.objects.filter(id=task_id, provider=PROVIDER).first()
    if task is None:
        return _envelope(404, "record not found", status=200)
    return _envelope(200, "success", _record(request, task))


@login_not_required
@require_GET
def video_file(request: HttpRequest, task_id: str) -> HttpResponseBase:
    return common.video_file(request, task_id, PROVIDER, _render)


def _render(task: SimTask, path: Path) -> None:
    body = task.request
    quality = body.get("quality") or "standard"
    long_side, short_side = NOMINAL_SIZES[quality]
    nominal = (short_side, long_side) if body.get("aspectRatio") == "portrait" else (long_side, short_side)
    width, height = simulated_frame_size(*nominal)
    with render_slot():
        render_video(
            path,
            prompt=str(body["prompt"]),
            width=width,
            height=height,
            seconds=VIDEO_SECONDS,
            caption=f"Sora2API · {quality} · simulated",
            watermark=str(body.get("watermark") or ""),
        )


def _schedule_callback(task_id: str, delay: float) -> None:
    faults.schedule_callbacks(task_id, delay, _deliver_callback, _forge_callback)


def _deliver_callback(task_id: str, again: bool = False) -> None:
    callbacks.deliver(PROVIDER, task_id, _callback_body, again=again)


def _forge_callback(task_id: str) -> None:
    callbacks.forge(PROVIDER, task_id, _forged_body)


def _forged_body(task_id: str) -> dict[str, Any]:
    record = {"taskId": task_id, "successFlag": 1, "response": {"imageUrl": faults.FORGED_VIDEO_URL}}
    return {"code": 200, "msg": "success", "data": record}
