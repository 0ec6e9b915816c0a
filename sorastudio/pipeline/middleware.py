from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import health


class HealthCheckMiddleware:
    """Answers /healthz before host checking: a container's or load balancer's probe asks for
    127.0.0.1 or an internal name that ALLOWED_HOSTS rightly does not list. The answer names no host."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz" and request.method in ("GET", "HEAD"):
            return health.status()
        return self.get_response(request)
