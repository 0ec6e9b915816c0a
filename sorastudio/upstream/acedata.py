"""A small client for the AceDataCloud Sora API (`POST /sora/videos`, `POST /sora/tasks`).

It speaks the wire format described in shared/api/upstream.md, parses leniently where the upstream is
inconsistent, and turns every failure into one error type, `AceDataError`, that says whether retrying
can help.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from . import http
from .errors import REFUSAL_CODE, UpstreamError, refusal_or
from .http import Submitted, TaskRead

RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class AceDataError(UpstreamError):
    """Any failure of a call to the AceDataCloud API (see UpstreamError for what it carries)."""


def is_retryable(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


@dataclass(frozen=True)
class VideoRequest:
    model: str
    prompt: str
    version: str = "1.0"
    duration: int | None = None
    size: str = ""
    orientation: str = ""
    image_urls: tuple[str, ...] = ()
    character_url: str = ""
    character_start: int | None = None
    character_end: int | None = None
    callback_url: str = ""

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"model": self.model, "prompt": self.prompt, "version": self.version}
        if self.duration is not None:
            payload["duration"] = self.duration
        if self.size:
            payload["size"] = self.size
        if self.orientation:
            payload["orientation"] = self.orientation
        if self.image_urls:
            payload["image_urls"] = list(self.image_urls)
        if self.character_url:
            payload["character_url"] = self.character_url
            payload["character_start"] = self.character_start
            payload["character_end"] = self.character_end
        if self.callback_url:
            payload["callback_url"] = self.callback_url
        else:
            # Without a callback the call would block for minutes; `async` returns the task id at once.
            payload["async"] = True
        return payload


@dataclass(frozen=True)
class TaskStatus(TaskRead):
    created_at: float | None = None
    finished_at: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def _error_from_body(status: int, body: Any, retry_after: float | None) -> AceDataError:
    code, message, trace_id = "", "", ""
    if isinstance(body, dict):
        trace_id = str(body.get("trace_id") or "")
        error = body.get("error")
        if isinstance(error, dict):
            code = str(error.get("code") or "")
            message = str(error.get("message") or "")
        elif isinstance(error, str):
            message = error
        message = message or str(body.get("message") or body.get("detail") or "")
    # A refusal may come as a bare 403 or a generic 500 `api_error`: the same request would be refused
    # again, so it is not retried.
    code = refusal_or(code, message)
    return AceDataError(
        message or f"upstream answered HTTP {status}",
        status=status,
        code=code,
        trace_id=trace_id,
        retryable=code != REFUSAL_CODE and is_retryable(status),
        retry_after=retry_after,
    )


def parse_task(record: dict[str, Any], task_id: str = "") -> TaskStatus:
    """Read a task record the way the vendor's own web client does: no `response` → pending; a response
    without `success` → processing; `success` true → succeeded; false → failed."""
    task_id = str(record.get("id") or record.get("task_id") or task_id)
    if not record or not task_id:
        return TaskStatus(task_id=task_id, phase="unknown", raw=record)
    trace_id = str(record.get("trace_id") or "")
    created_at = _float_or_none(record.get("created_at"))
    finished_at = _float_or_none(record.get("finished_at"))
    response = record.get("response")
    if not isinstance(response, dict):
        return TaskStatus(task_id, "pending", trace_id=trace_id, created_at=created_at, raw=record)
    trace_id = str(response.get("trace_id") or trace_id)
    processing = TaskStatus(task_id, "processing", trace_id=trace_id, created_at=created_at, raw=record)
    success = response.get("success")
    if success is True:
        items = response.get("data") if isinstance(response.get("data"), list) else []
        first = items[0] if items and isinstance(items[0], dict) else {}
        return _delivered(processing, first, finished_at)
    if success is False:
        return _refused(processing, response.get("error"), finished_at)
    return processing


def _delivered(processing: TaskStatus, first: dict[str, Any], finished_at: float | None) -> TaskStatus:
    """A response with `success` true, read from its first video: made once it has a link."""
    state = str(first.get("state") or "succeeded")
    video_url = str(first.get("video_url") or "")
    if state == "failed":
        return replace(
            processing,
            phase="failed",
            error_code="generation_failed",
            error_message="The upstream reported the video as failed.",
            finished_at=finished_at,
        )
    if state in ("pending", "processing") or not video_url:
        return processing
    return replace(processing, phase="succeeded", video_url=video_url, finished_at=finished_at)


def _refused(processing: TaskStatus, error: Any, finished_at: float | None) -> TaskStatus:
    """A response with `success` false: the task failed, for the reason its `error` gives."""
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or "")
    return replace(
        processing,
        phase="failed",
        error_code=refusal_or(str(error.get("code") or "failed"), message),
        error_message=message or "The upstream could not make this video.",
        finished_at=finished_at,
    )


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class AceDataClient(http.Client):
    error = AceDataError
    is_retryable = staticmethod(is_retryable)

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        response = self._send("POST", path, payload=payload)
        body = http.json_or_none(response)
        if response.status_code >= 400:
            raise _error_from_body(response.status_code, body, http.retry_after(response))
        if body is None:
            raise AceDataError(
                "the upstream answered with something that is not JSON",
                status=response.status_code,
                retryable=True,
            )
        return body

    def submit(self, request: VideoRequest) -> Submitted:
        body = self._post("/sora/videos", request.to_payload())
        if not isinstance(body, dict):
            raise AceDataError("the upstream answered with an unexpected body", retryable=True)
        if body.get("success") is False:
            raise _error_from_body(400, body, None)
        task_id = str(body.get("task_id") or "")
        if not task_id:
            raise AceDataError("the upstream accepted the request but gave no task id", retryable=True)
        return Submitted(task_id=task_id, trace_id=str(body.get("trace_id") or ""))

    def retrieve(self, task_id: str) -> TaskStatus:
        body = self._post("/sora/tasks", {"id": task_id, "action": "retrieve"})
        if not isinstance(body, dict):
            raise AceDataError("the upstream answered with an unexpected body", retryable=True)
        return parse_task(body, task_id)

    def retrieve_batch(self, task_ids: Iterable[str]) -> dict[str, TaskStatus]:
        """Statuses by task id. An id the upstream did not return is absent from the result."""
        ids = list(dict.fromkeys(task_ids))
        if not ids:
            return {}
        body = self._post("/sora/tasks", {"ids": ids, "action": "retrieve_batch"})
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise AceDataError("the upstream answered a batch query without items", retryable=True)
        statuses: dict[str, TaskStatus] = {}
        for item in items:
            if isinstance(item, dict):
                status = parse_task(item)
                if status.task_id:
                    statuses[status.task_id] = status
        return statuses
