"""The Content-Security-Policy header (``settings.CONTENT_SECURITY_POLICY``) on every response."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # A view that sets its own policy (none does yet) keeps it.
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response
