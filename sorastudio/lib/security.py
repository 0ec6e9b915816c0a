"""The Content-Security-Policy header (``settings.CONTENT_SECURITY_POLICY``) on every response, and the
masking of credentials written inside URLs wherever settings could be shown."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

MASK = "********"
# scheme://user:password@host: the password is what is masked (the user name helps to read a report).
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/?#@]*):([^\s/?#@]+)@")


# The secret of a client review link is the path's segment after /review/ (Django logs "Not Found: <path>").
_REVIEW_SECRET = re.compile(r"/review/[A-Za-z0-9_-]+")


# An Authorization header's credentials (a studio API token or an upstream key), and a studio token
# anywhere (pasted into a prompt, a URL or an error) by its recognisable prefix.
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_API_TOKEN = re.compile(r"\bsst_[A-Za-z0-9_-]+")


def mask_url_credentials(text: str) -> str:
    """``postgres://studio:secret@db/studio`` → ``postgres://studio:********@db/studio``, anywhere in text;
    ``/review/<secret>/`` → ``/review/********/``; ``Bearer <token>`` → ``Bearer ********``, and a studio API
    token (``sst_…``) → ``sst_********``."""
    text = _REVIEW_SECRET.sub(f"/review/{MASK}", _URL_PASSWORD.sub(rf"\1:{MASK}@", text))
    return _API_TOKEN.sub(f"sst_{MASK}", _BEARER.sub(rf"\1 {MASK}", text))


class MaskCredentials(logging.Filter):
    """On the log handlers: a message or a traceback naming a URL with its password (a broker that cannot be
    reached, a database refusing a login) is written with the password masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_url_credentials(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_url_credentials(record.exc_text)
        return True


class SafeReporterFilter(SafeExceptionReporterFilter):
    """Django's filter hides settings whose names look secret (…KEY, …PASSWORD); a URL's name does not, so
    DATABASE_URL, REDIS_URL, Q_CLUSTER's broker or an S3 endpoint with a password inside would be shown
    whole on the debug page and in mailed error reports (request headers go through here too)."""

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        # type(), not isinstance(): a lazy object passes for a str without being one.
        return mask_url_credentials(cleansed) if type(cleansed) is str else cleansed


class SafeExceptionReporter(ExceptionReporter):
    """The whole report masked, not just the settings: a URL also turns up in an exception's message or in
    a frame's local variables (a dict of connection settings, say)."""

    # Masking adds no markup: what Django rendered safe stays safe.
    def get_traceback_html(self) -> SafeString:
        return mark_safe(mask_url_credentials(super().get_traceback_html()))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(mask_url_credentials(super().get_traceback_text()))  # noqa: S308


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # A view that sets its own policy (none does yet) keeps it.
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response
