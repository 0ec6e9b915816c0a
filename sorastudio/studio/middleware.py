from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext


class RequestSizeMiddleware:
    """Refuses a body declaring more than REQUEST_MAX_MB before the studio reads any of it (so before a form,
    a file or an image is looked at), in the studio's look; for htmx, a message the form shows above its
    button. The connection is left open on purpose: gunicorn then skips the rest of the body unread into
    anything, and the browser, still sending, gets the answer instead of a connection reset."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django then reads nothing of it
        if declared > settings.REQUEST_MAX_MB * 1024 * 1024:
            return too_large(request)
        return self.get_response(request)


def too_large(request: HttpRequest) -> HttpResponse:
    with translation.override(translation.get_language_from_request(request)):
        message = gettext(
            "This is more than %(most)s MB, the most the studio takes at once. Reference images can be up to "
            "10 MB each and a character clip up to 50 MB: use smaller files, or fewer."
        ) % {"most": settings.REQUEST_MAX_MB}
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(render_to_string("studio/_too_large.html", {"message": message}))
            response["HX-Retarget"] = "#upload-errors"
            response["HX-Reswap"] = "innerHTML"
        else:
            response = HttpResponse(render_to_string("413.html", {"message": message}))
    response.status_code = 413
    return response


class PageGZipMiddleware(GZipMiddleware):
    """Compresses the pages and fragments the studio renders (a gallery page is about 85 KB of HTML and
    about 12 KB gzipped), never a streamed answer: videos, posters and zips are compressed already, and
    their Content-Length and byte ranges must stay those of the file. (Static files never get here:
    WhiteNoise answers them, above, with its own .br and .gz copies.)

    BREACH needs a secret in the body that stays the same from one response to the next while an attacker
    varies text reflected next to it. The one secret a page carries is the CSRF token, which Django masks
    anew for every response; Django's GZipMiddleware also pads each answer with up to 100 random bytes
    ("Heal the BREACH"). API keys never reach a page, and the session id is only ever a cookie."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.streaming:
            return response
        return super().process_response(request, response)
