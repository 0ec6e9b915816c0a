"""Fault injection: the simulator misbehaving the way real upstreams do, for the soak test (bench/soak.py).

Off by default. `SIMULATOR_FAULTS` names a probability per kind of fault, e.g.
`SIMULATOR_FAULTS="429=0.1,500=0.05,timeout=0.03,malformed=0.03,duplicate_callback=0.2"`; settings.py
refuses an unknown kind or a rate outside 0..1 at start-up.

  429                 HTTP 429 with `Retry-After: 1` (submits, status reads, downloads)
  500                 HTTP 500 with an error body (submits, status reads, downloads)
  timeout             the answer is held longer than UPSTREAM_TIMEOUT (status reads, downloads), when one
                      of SIMULATOR_MAX_HOLDS is free (else it is answered at once)
  malformed           HTTP 200 with a body that is not JSON, or not a video (status reads, downloads)
  duplicate_callback  the finished task's callback is delivered twice
  late_callback       the callback comes SIMULATOR_SECONDS * 2 + 5 seconds late, often after polling
                      has already finished the job
  forged_callback     before the task is done, a lying body (succeeded, with a foreign video link and
                      another task's id) is posted to the job's callback URL and to an unknown token
  missing_callback    the callback is never sent; only polling finds the result
  expired_link        the first video link of a task has already expired (like "[sim:expired]")

A random fault never changes what a job should end as: the studio has to get through it. The faults whose
right answer is to give up are chosen by prompt markers instead, so the soak knows what to expect:
  "[sim:timeout]"     the submit creates the task, then holds the answer past UPSTREAM_TIMEOUT
  "[sim:malformed]"   the submit creates the task, then answers 200 with a body that is not JSON
Both leave the studio unsure whether the job was taken: it must fail it as `submit_uncertain` and must not
send it again (a second send could make and bill the video twice). And
  "[sim:hold]"        the submit creates the task, then waits 0.6 x UPSTREAM_TIMEOUT before answering: the
                      soak kills workers while such submits are in flight
  "[sim:refused]"     the task fails as a content refusal under the API's generic error code (AceDataCloud's
                      `api_error`, Sora2API's errorCode 500): only its message says that it was refused

Every fault injected is appended to DATA_DIR/simulator/faults.jsonl (one JSON object per line), which the
soak counts for its report.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.http import HttpResponse, JsonResponse

from .slots import holding

LATE_EXTRA_SECONDS = 5.0
FORGED_VIDEO_URL = "http://127.0.0.1:9/forged.mp4"  # the discard port: a studio that fetched it would fail


def log_path() -> Path:
    return Path(settings.DATA_DIR) / "simulator" / "faults.jsonl"


def record(kind: str, where: str) -> None:
    """Note one injected fault. One short append per line, so concurrent writers do not interleave."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"kind": kind, "where": where, "at": round(time.time(), 3)}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def counts() -> dict[str, int]:
    """Faults injected so far, by `kind@where`."""
    totals: dict[str, int] = {}
    path = log_path()
    if not path.exists():
        return totals
    for line in path.read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            key = f"{item['kind']}@{item['where']}"
            totals[key] = totals.get(key, 0) + 1
    return totals


def happens(kind: str, where: str) -> bool:
    """Roll the dice for one kind of fault; a fault that happens is recorded."""
    rate = settings.SIMULATOR_FAULTS.get(kind, 0.0)
    if rate <= 0 or random.random() >= rate:
        return False
    record(kind, where)
    return True


def hold() -> bool:
    """Keep the client waiting past its time-out, if a hold slot is free; False (at once) when none is."""
    with holding() as seconds:
        if seconds is None:
            return False
        time.sleep(min(settings.UPSTREAM_TIMEOUT + 1.5, seconds))
    return True


def http_fault(
    where: str, *, allow: tuple[str, ...] = ("429", "500", "timeout", "malformed")
) -> HttpResponse | None:
    """A faulty answer for this request, or None to answer normally. `timeout` holds the request and then
    lets it answer normally: the client has given up by then."""
    if "429" in allow and happens("429", where):
        response = JsonResponse(
            {"success": False, "error": {"code": "too_many_requests", "message": "Rate limit exceeded."}},
            status=429,
        )
        response["Retry-After"] = "1"
        return response
    if "500" in allow and happens("500", where):
        return JsonResponse(
            {"success": False, "error": {"code": "api_error", "message": "Internal server error."}},
            status=500,
        )
    if "timeout" in allow and happens("timeout", where):
        hold()
        return None
    if "malformed" in allow and happens("malformed", where):
        return malformed(where)
    return None


def malformed(where: str) -> HttpResponse:
    if where == "download":
        # What a misbehaving CDN sends with a 200: an error page where the video should be.
        return HttpResponse(b"<html><body>502 Bad Gateway</body></html>" * 20, content_type="video/mp4")
    return HttpResponse(b'{"success": true, "task_id": "', content_type="application/json")


def uncertain_submit(prompt: str, late_answer: HttpResponse | None) -> HttpResponse | None:
    """The markers that make an accepted submit look uncertain to the client: "[sim:timeout]" holds the
    answer past its time-out and then gives `late_answer` (None: the normal one), "[sim:malformed]"
    answers with a body that is not JSON. None when the prompt has neither."""
    text = prompt.lower()
    if "[sim:timeout]" in text:
        record("timeout", "submit")
        if hold():
            return late_answer
        # No thread to spare for the wait: an answer that leaves the client just as unsure.
        return malformed("submit")
    if "[sim:malformed]" in text:
        record("malformed", "submit")
        return malformed("submit")
    return None


def first_link_expired() -> bool:
    return happens("expired_link", "link")


def schedule_callbacks(
    task_id: str, delay: float, deliver: Callable[..., None], forge: Callable[[str], None]
) -> None:
    """Start the timers of one task's callback, with whatever callback faults the dice choose.
    `deliver(task_id, again=False)` posts the real callback; `forge(task_id)` posts the lying ones."""
    if happens("forged_callback", "callback"):
        _timer(max(0.1, delay / 2), forge, task_id)
    if happens("missing_callback", "callback"):
        return
    if happens("late_callback", "callback"):
        delay += settings.SIMULATOR_SECONDS * 2 + LATE_EXTRA_SECONDS
    _timer(delay + 0.2, deliver, task_id)
    if happens("duplicate_callback", "callback"):
        _timer(delay + 0.7, deliver, task_id, True)


def _timer(delay: float, func: Callable[..., None], *args: object) -> None:
    def run() -> None:
        try:
            func(*args)
        finally:
            # The thread ends here, and its database connection must go with it: a burst of callbacks
            # would otherwise leave one open PostgreSQL connection per thread ("too many clients").
            connections.close_all()

    timer = threading.Timer(delay, run)
    timer.daemon = True
    timer.start()


def unknown_token_url(url: str) -> str:
    """The same callback address with a token that belongs to no job."""
    base, _, _token = url.rstrip("/").rpartition("/")
    return f"{base}/forged{random.getrandbits(64):016x}" + ("/" if url.endswith("/") else "")
