"""Review: decisions, comments pinned to a moment, and side-by-side comparison."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_http_methods

from .http import StudioRequest


@require_http_methods(["GET", "POST"])
def review(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def comments(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def resolve_comment(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")


@require_http_methods(["GET", "POST"])
def compare(request: StudioRequest, **kwargs: Any) -> HttpResponseBase:
    raise Http404("not built yet")
