"""Client review links, the guest's side: no account and no login, the secret in the address is the
permission. An unknown, expired or revoked link (or a video it does not cover) is the same "not found"
for everyone, and nothing of the team is reachable from here: the videos and posters are served through
views that check the link covers them, never through the team's URLs. Every guest POST checks the link
again inside its transaction (ReviewLink.comment, ReviewLink.decide)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from sorastudio.lib import storage
from sorastudio.lib.ranged import ranged_response
from sorastudio.teams.accounts import client_ip

from .models import Comment, Generation, LinkClosed, ReviewError, ReviewLink, TooManyTries
from .sharing_forms import GuestCommentForm, GuestForm, GuestVerdictForm, UnlockForm

# Nothing of a guest's page is kept by a cache or a proxy, its address (the secret) is sent on to no other
# site, and search engines are told to stay away even if a link is posted somewhere public. (Not
# "no-referrer": Chromium then sends "Origin: null" with the page's forms, which CSRF's check refuses.)
GUEST_HEADERS = {
    "Cache-Control": "no-store, private",
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}
NAME_KEY = "client_name"


def closed_to_guests(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Every "not found" of the guest's side is one page, in the studio's look, that says what a client can
    do about it: not the team's 404, which speaks of teams and has the team's header."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return TemplateResponse(request, "studio/client_gone.html", status=404, headers=GUEST_HEADERS)

    return wrapped


def _unlock_key(link: ReviewLink) -> str:
    return f"client_link_{link.pk}"


def _open(request: HttpRequest, secret: str) -> ReviewLink:
    link = ReviewLink.objects.opened_by(secret, client_ip(request))
    if link is None:
        raise Http404("no such link")
    return link


def _unlocked(request: HttpRequest, link: ReviewLink) -> bool:
    return not link.has_password or request.session.get(_unlock_key(link)) is True


def _unlocked_link(request: HttpRequest, secret: str) -> ReviewLink:
    link = _open(request, secret)
    if not _unlocked(request, link):
        raise Http404("no such link")
    return link


def _video(link: ReviewLink, pk: Any) -> Generation:
    video = link.shown_video(pk)
    if video is None:
        raise Http404("no such video")
    return video


def _page(
    request: HttpRequest,
    secret: str,
    link: ReviewLink,
    *,
    status: int = 200,
    unlock_form: UnlockForm | None = None,
    refused: tuple[Any, str, GuestForm] | None = None,
) -> TemplateResponse:
    """The guest's page: the password form, or the link's videos with the guest's comments and verdicts;
    a refused form is shown again beside its video (`refused`: the video's id, the form's name, the form)."""
    context: dict[str, Any] = {"link": link, "secret": secret, "unlock_form": unlock_form}
    if unlock_form is None:
        context["items"] = _items(link, refused)
        context["name"] = request.session.get(NAME_KEY, "")
    return TemplateResponse(
        request, "studio/client_review.html", context, status=status, headers=GUEST_HEADERS
    )


def _items(link: ReviewLink, refused: tuple[Any, str, GuestForm] | None) -> list[dict[str, Any]]:
    videos = list(link.shown_videos())
    comments: dict[Any, list[Comment]] = {}
    for comment in Comment.objects.filter(link=link, generation__in=videos).order_by("created_at", "pk"):
        comments.setdefault(comment.generation_id, []).append(comment)
    verdicts = {verdict.generation_id: verdict for verdict in link.verdicts.all()}
    items = []
    for number, video in enumerate(videos, start=1):
        item: dict[str, Any] = {
            "video": video,
            "number": number,
            "comments": comments.get(video.pk, []),
            "verdict": verdicts.get(video.pk),
        }
        if refused is not None and refused[0] == video.pk:
            item[refused[1]] = refused[2]
        items.append(item)
    return items


@login_not_required
@closed_to_guests
@require_GET
def client_review(request: HttpRequest, secret: str) -> HttpResponseBase:
    link = _open(request, secret)
    if not _unlocked(request, link):
        return _page(request, secret, link, unlock_form=UnlockForm())
    link.note_visit()
    return _page(request, secret, link)


@login_not_required
@closed_to_guests
@require_POST
def client_unlock(request: HttpRequest, secret: str) -> HttpResponseBase:
    """The link's password: right, and this session may open this link (and no other); wrong too often,
    from this address or for this link, and the guest waits."""
    link = _open(request, secret)
    form = UnlockForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            if link.unlock(form.cleaned_data["password"], client_ip(request)):
                # A new session key, as a login gets: a session planted in the guest's browser beforehand
                # (its key known to whoever planted it) must not be the one the password opened.
                request.session.cycle_key()
                request.session[_unlock_key(link)] = True
                return redirect("studio:client_review", secret=secret)
            form.add_error("password", gettext("That is not the password of this link."))
        except TooManyTries as refusal:
            form.add_error("password", str(refusal))
            status = 429
    return _page(request, secret, link, unlock_form=form, status=status)


def _back(secret: str, video: Generation) -> HttpResponseBase:
    return redirect(f"{reverse('studio:client_review', args=[secret])}#video-{video.pk}")


def _refuse(form: GuestForm, error: Exception) -> int:
    """Put the reason beside its field; the status to answer with."""
    if isinstance(error, TooManyTries):
        form.add_error(None, str(error))
        return 429
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields else None, str(error))
    return 400


@login_not_required
@closed_to_guests
@require_POST
def client_comment(request: HttpRequest, secret: str, pk: str) -> HttpResponseBase:
    link = _unlocked_link(request, secret)
    video = _video(link, pk)
    form = GuestCommentForm(request.POST, generation=video)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        request.session[NAME_KEY] = data["name"]
        try:
            link.comment(video, data["name"], data["body"], at_seconds=data["at_seconds"])
            return _back(secret, video)
        except LinkClosed:
            raise Http404("no such link") from None
        except (ReviewError, TooManyTries) as error:
            status = _refuse(form, error)
    return _page(request, secret, link, status=status, refused=(video.pk, "comment_form", form))


@login_not_required
@closed_to_guests
@require_POST
def client_verdict(request: HttpRequest, secret: str, pk: str) -> HttpResponseBase:
    link = _unlocked_link(request, secret)
    video = _video(link, pk)
    form = GuestVerdictForm(request.POST, generation=video)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        request.session[NAME_KEY] = data["name"]
        try:
            link.decide(
                video, data["name"], data["decision"], comment=data["comment"], at_seconds=data["at_seconds"]
            )
            return _back(secret, video)
        except LinkClosed:
            raise Http404("no such link") from None
        except (ReviewError, TooManyTries) as error:
            status = _refuse(form, error)
    return _page(request, secret, link, status=status, refused=(video.pk, "verdict_form", form))


def _guest_headers(response: HttpResponseBase) -> HttpResponseBase:
    for name, value in GUEST_HEADERS.items():
        response[name] = value
    return response


@login_not_required
@closed_to_guests
@require_GET
def client_video(request: HttpRequest, secret: str, pk: str) -> HttpResponseBase:
    video = _video(_unlocked_link(request, secret), pk)
    response = ranged_response(
        request,
        storage.open_stored(str(video.video.name)),
        size=video.size_bytes or video.video.size,
        content_type="video/mp4",
        etag=f'"{video.sha256}"',
    )
    return _guest_headers(response)


@login_not_required
@closed_to_guests
@require_GET
def client_poster(request: HttpRequest, secret: str, pk: str) -> HttpResponseBase:
    video = _video(_unlocked_link(request, secret), pk)
    if not video.poster:
        raise Http404("no poster")
    response = ranged_response(
        request,
        storage.open_stored(str(video.poster.name)),
        size=video.poster.size,
        content_type="image/jpeg",
        etag=f'"p-{video.sha256}"',
    )
    return _guest_headers(response)
