"""A small client for Sora2API (`POST …/generate`, `GET …/record-info`).

It speaks the wire format described in shared/api/upstream.md (section 2) and the vendor's own quick-start
page, parses leniently where the two disagree or say nothing, and turns every failure into one error type,
`Sora2APIError`, that says whether retrying can help.

Things about this API that shape the code:

* Every body is an envelope `{"code": N, "msg": "...", "data": ...}` and `code` is the real status: the HTTP
  status may be 200 while `code` says 402. The effective status is `code` whenever it is a status-like
  number other than 200, else the HTTP status.
* The vendor's published path prefix is `/api/v1/sora2`, while its public clients use `/api/v1/sora2api`;
  the prefix is a constructor argument.
* A task's state is `successFlag`: 0 generating, 1 succeeded, 2 task creation failed, 3 generation failed.
  Every value other than 0 is final; moderation refusals only show up here, after generate said 200.
* There is no trace id anywhere in this API, so `Submitted.trace_id` and `RecordInfo.trace_id` stay "" —
  the fields exist so the pipeline can treat these objects like AceDataCloud's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from . import http
from .errors import REFUSAL_CODE, UpstreamError, refusal_or
from .http import Phase, Submitted, TaskRead

DEFAULT_PATH_PREFIX = "/api/v1/sora2"

# What the vendor documents for `code`; anything else becomes "error_<N>".
CODE_NAMES: dict[int, str] = {
    400: "bad_request",
    401: "invalid_token",
    402: "insufficient_credits",
    404: "not_found",
    422: "unprocessable",
    429: "too_many_requests",
    455: "service_unavailable",
    500: "api_error",
    501: "not_implemented",
    505: "version_not_supported",
}

# 455 is the vendor's own "service unavailable": a maintenance window, so worth retrying. 501 and 505 are
# 5xx but say the request itself can never work here, so retrying would only repeat the failure.
RETRYABLE_STATUSES = frozenset({408, 429, 455})
PERMANENT_SERVER_STATUSES = frozenset({501, 505})

# Used to recover the task id from a 2xx generate answer that is not valid JSON (truncated, or with junk
# around it): failing instead would make the caller retry and pay for a second video.
_TASK_ID_TEXT = re.compile(r'"taskId"\s*:\s*"([^"\\]{1,200})"')


class Sora2APIError(UpstreamError):
    """Any failure of a call to Sora2API (see UpstreamError for what it carries)."""


def code_name(status: int) -> str:
    """The normalised error code for a status, e.g. 402 → "insufficient_credits"."""
    return CODE_NAMES.get(status, f"error_{status}")


def is_retryable(status: int) -> bool:
    if status in RETRYABLE_STATUSES:
        return True
    return status >= 500 and status not in PERMANENT_SERVER_STATUSES


@dataclass(frozen=True)
class GenerateRequest:
    prompt: str
    aspect_ratio: str = "landscape"  # landscape | portrait
    quality: str = "standard"  # standard | hd
    image_urls: tuple[str, ...] = ()  # public http(s) URLs only: this API takes no base64 images
    watermark: str = ""  # text drawn on the video
    callback_url: str = ""

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "prompt": self.prompt,
            "aspectRatio": self.aspect_ratio,
            "quality": self.quality,
        }
        if self.image_urls:
            payload["imageUrls"] = list(self.image_urls)
        if self.watermark:
            payload["watermark"] = self.watermark
        if self.callback_url:
            payload["callBackUrl"] = self.callback_url
        return payload


@dataclass(frozen=True)
class RecordInfo(TaskRead):
    """One task as record-info (or a callback) describes it."""

    success_flag: int | None = None
    created_at: str = ""  # "YYYY-MM-DD HH:MM:SS" as the upstream wrote it; its time zone is not documented
    completed_at: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


_FAILURE_MESSAGES = {
    2: "The upstream could not create the task.",
    3: "The upstream could not generate the video.",
}


def parse_record(data: dict[str, Any], task_id: str = "") -> RecordInfo:
    """Read a task record: record-info's `data`, or a whole callback body (the envelope is unwrapped).

    successFlag 0 → processing; 1 → succeeded; every other value → failed, since the vendor documents all
    of them as final. A record without successFlag is the older callback shape (`resultUrls`): a link
    means success, an envelope `code` other than 200 means failure. An empty record → unknown.
    """
    # Long: the vendor's reading rules, one short branch each, kept side by side to be checked as a whole.
    raw = data if isinstance(data, dict) else {}
    record = raw
    envelope_code: int | None = None
    envelope_msg = ""
    if "data" in raw and ("code" in raw or "msg" in raw):
        envelope_code = _status_or_none(raw.get("code"))
        envelope_msg = _text(raw.get("msg"))
        inner = raw.get("data")
        record = inner if isinstance(inner, dict) else {}

    task_id = _text(record.get("taskId")) or task_id
    if not record:
        return RecordInfo(task_id=task_id, phase="unknown", raw=raw)

    created_at = _text(record.get("createTime"))
    completed_at = _text(record.get("completeTime"))

    def info(phase: Phase, **fields: Any) -> RecordInfo:
        return RecordInfo(task_id, phase, created_at=created_at, completed_at=completed_at, raw=raw, **fields)

    flag = _int_or_none(record.get("successFlag"))
    video_url = _video_url(record)
    if flag is None:
        if video_url:
            return info("succeeded", video_url=video_url)
        if envelope_code is not None and envelope_code != 200:
            message = _text(record.get("errorMessage")) or envelope_msg
            return info(
                "failed",
                error_code=refusal_or(_error_code(record.get("errorCode")), message),
                error_message=message or "The upstream could not generate the video.",
            )
        return info("processing")

    if flag == 0:
        return info("processing", success_flag=0)
    if flag == 1:
        if not video_url:
            # Final by the vendor's rules, but a success without a link cannot be archived. Reading it as
            # still processing lets the next poll pick up the link, and the pipeline's own time-out ends
            # the wait if it never comes.
            return info("processing", success_flag=1)
        return info("succeeded", video_url=video_url, success_flag=1)
    default_message = _FAILURE_MESSAGES.get(
        flag, f"The upstream reported the task as ended without a video (successFlag {flag})."
    )
    message = _text(record.get("errorMessage"))
    return info(
        "failed",
        error_code=refusal_or(_error_code(record.get("errorCode")), message),
        error_message=message or default_message,
        success_flag=flag,
    )


def _video_url(record: dict[str, Any]) -> str:
    """The result link: `response.imageUrl` (sic: it is the mp4) today, `resultUrls[0]` in the older
    callback shape, found either inside `response` or on the record itself."""
    response = _maybe_json(record.get("response"))
    places: list[Any] = []
    if isinstance(response, dict):
        places += [response.get("imageUrl"), _first(response.get("resultUrls"))]
    places.append(_first(record.get("resultUrls")))
    for value in places:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _first(value: Any) -> Any:
    value = _maybe_json(value)
    if isinstance(value, list) and value:
        return value[0]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return value
    return None


def _maybe_json(value: Any) -> Any:
    # Some of the vendor's payloads nest JSON as strings (`paramJson` always does); accept that anywhere.
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _error_code(value: Any) -> str:
    # The vendor's own example shows `errorCode: 0` on a success, so 0 means "no code" like null does.
    if value is None or value == "" or value == 0 or isinstance(value, bool):
        return "generation_failed"
    return str(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _status_or_none(value: Any) -> int | None:
    number = _int_or_none(value)
    return number if number is not None and 100 <= number <= 599 else None


def _effective_status(http_status: int, body: Any) -> int:
    """`code` when it is a status other than 200, else the HTTP status: a 200 whose body says 402 is a 402,
    and a 500 whose body still says 200 is a 500."""
    if isinstance(body, dict):
        code = _status_or_none(body.get("code"))
        if code is not None and code != 200:
            return code
    return http_status


def _error(status: int, body: Any, retry_after: float | None) -> Sora2APIError:
    message = ""
    if isinstance(body, dict):
        message = _text(body.get("msg") or body.get("message"))
    # Generate usually accepts what it will refuse, but a refusal at once (a 400 or even a 500 saying so)
    # would be refused again: never retried.
    code = refusal_or(code_name(status), message)
    return Sora2APIError(
        message or f"upstream answered with status {status}",
        status=status,
        code=code,
        retryable=code != REFUSAL_CODE and is_retryable(status),
        retry_after=retry_after,
    )


def _read(response: httpx.Response) -> tuple[int, Any]:
    """The effective status and the parsed body (None when it is not JSON)."""
    body = http.json_or_none(response)
    return _effective_status(response.status_code, body), body


class Sora2APIClient(http.Client):
    error = Sora2APIError
    default_path_prefix = DEFAULT_PATH_PREFIX
    is_retryable = staticmethod(is_retryable)
    code_name = staticmethod(code_name)

    @staticmethod
    def _not_json(response: httpx.Response) -> Sora2APIError:
        return Sora2APIError(
            "the upstream answered with something that is not JSON",
            status=response.status_code,
            code="malformed_response",
            retryable=True,
        )

    def generate(self, req: GenerateRequest) -> Submitted:
        response = self._send("POST", "/generate", payload=req.to_payload())
        status, body = _read(response)
        retry_after = http.retry_after(response)
        if not 200 <= status < 300:
            raise _error(status, body, retry_after)
        if not isinstance(body, dict):
            if match := _TASK_ID_TEXT.search(response.text):
                return Submitted(task_id=match.group(1))
            raise self._not_json(response)
        data = body.get("data")
        task_id = _text(data.get("taskId")) if isinstance(data, dict) else ""
        task_id = task_id or _text(body.get("taskId"))
        if not task_id:
            raise Sora2APIError(
                "the upstream accepted the request but gave no task id",
                status=status,
                code="no_task_id",
                retryable=True,
            )
        return Submitted(task_id=task_id)

    def record_info(self, task_id: str) -> RecordInfo:
        """The task's state. An id the upstream does not know (yet) reads as phase "unknown", not as an
        error: a record can lag behind the generate call, and that must not fail the job."""
        response = self._send("GET", "/record-info", params={"taskId": task_id})
        status, body = _read(response)
        if status == 404:
            return RecordInfo(task_id=task_id, phase="unknown", raw=body if isinstance(body, dict) else {})
        if not 200 <= status < 300:
            raise _error(status, body, http.retry_after(response))
        if not isinstance(body, dict):
            raise self._not_json(response)
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            return RecordInfo(task_id=task_id, phase="unknown", raw=body)
        return parse_record(data, task_id)
