"""Logging in safely: the lockout after repeated failures (django-axes, configured in settings.py), the
address it is counted for, and the password reset, whose mail is sent from the queue.

- The lockout is per username *and* address, so someone guessing at an account from one place locks only
  themselves out, not its owner elsewhere. The page says so beside the form, in the studio's look.
- The address is the peer's, unless the peer is one of the proxies in FORWARDED_ALLOW_IPS: then the one
  that proxy put last in X-Forwarded-For, and so on while the hops are trusted proxies. Entries further left
  were written by the client and are never believed.
- A reset request answers the same, in the same time, for a known and an unknown address: the view only
  puts the address in the queue; the worker looks it up and mails the link, built on PUBLIC_BASE_URL or
  on the request's host when that host is one ALLOWED_HOSTS names exactly (never a `*` or `.domain`
  pattern, which would let a forged Host header choose where the link points).
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from axes.helpers import get_cool_off
from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import split_domain_port
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django_q.tasks import async_task

log = logging.getLogger(__name__)

RESET_EMAIL = "registration/password_reset_email.txt"
RESET_SUBJECT = "registration/password_reset_subject.txt"


def client_ip(request: HttpRequest) -> str | None:
    """The address a request came from, as far as trusted proxies vouch for it (AXES_CLIENT_IP_CALLABLE)."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    trusted = settings.FORWARDED_ALLOW_IPS
    while hops and _is_proxy(address, trusted):
        hop = hops.pop()
        if _parse(hop) is None:
            break  # garbage in the header: the last address we could trust stands
        address = hop
        if trusted is None:
            break  # `*`: any peer is a proxy, but only the hop it added itself is its word
    return address if _parse(address) is not None else None


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _is_proxy(address: str, trusted: list[Any] | None) -> bool:
    parsed = _parse(address)
    if trusted is None or parsed is None:
        # `*`, or a peer without an address (a unix socket): gunicorn believes those proxies too.
        return True
    return any(parsed in network for network in trusted)


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """The login page with why it refuses, instead of axes' bare page (AXES_LOCKOUT_CALLABLE)."""
    username = request.POST.get("username", "") if request.method == "POST" else ""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0
    message = ngettext(
        "Too many failed logins for this account from your address: logging in is blocked for %(minutes)d "
        "minute. Each new try starts the wait again. Forgot your password? Reset it, or ask an admin.",
        "Too many failed logins for this account from your address: logging in is blocked for %(minutes)d "
        "minutes. Each new try starts the wait again. Forgot your password? Reset it, or ask an admin.",
        minutes,
    ) % {"minutes": minutes}
    context = {
        "form": auth_forms.AuthenticationForm(request, initial={"username": username}),
        "locked_out": message,
        "next": request.POST.get("next", ""),
    }
    response = TemplateResponse(request, "registration/login.html", context, status=429)
    if request.headers.get("HX-Request") == "true":
        # htmx swaps no error answers, and a login page belongs in the whole page, not in a fragment.
        response.status_code = 200
        response["HX-Retarget"] = "body"
        response["HX-Reswap"] = "innerHTML"
    return response.render()


class PasswordResetView(auth_views.PasswordResetView):  # login_not_required, as Django's
    """Asks for an address and always answers "if it is known, a mail is on its way", at once."""

    email_template_name = RESET_EMAIL
    subject_template_name = RESET_SUBJECT

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "mail_sent": bool(settings.EMAIL_HOST)}

    def form_valid(self, form: auth_forms.PasswordResetForm) -> HttpResponse:
        link = reset_link_base(self.request)
        if settings.EMAIL_HOST and link is not None:
            # The lookup and the mail happen in the worker: the web process does the same for any address.
            email = form.cleaned_data["email"]
            language = translation.get_language()
            async_task(mail_password_reset, email, *link, language, group="mail_password_reset")
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: auth_forms.SetPasswordForm[Any]) -> HttpResponse:
        response = super().form_valid(form)
        # Proving the mailbox is as good as knowing the password: lift any lockout of the account.
        reset_lockout(username=form.user.get_username())
        return response


def reset_link_base(request: HttpRequest) -> tuple[str, str] | None:
    """(protocol, host) for the link a reset mail carries; None when no trustworthy host is known."""
    if settings.PUBLIC_BASE_URL:
        public = urlsplit(settings.PUBLIC_BASE_URL)
        return public.scheme, public.netloc
    host = request.get_host()  # already checked against ALLOWED_HOSTS by Django
    domain, _port = split_domain_port(host)
    exact = {name.lower() for name in settings.ALLOWED_HOSTS if name != "*" and not name.startswith(".")}
    if domain not in exact:
        log.warning("password reset not mailed: set PUBLIC_BASE_URL (ALLOWED_HOSTS does not name %s)", domain)
        return None
    return ("https" if request.is_secure() else "http"), host


def mail_password_reset(email: str, protocol: str, host: str, language: str | None) -> None:
    """The queue's half of a reset request: mail each active account with this address a one-time link."""
    form = auth_forms.PasswordResetForm({"email": email})
    if not form.is_valid():
        return
    with translation.override(language):
        form.save(
            domain_override=host,
            use_https=protocol == "https",
            email_template_name=RESET_EMAIL,
            subject_template_name=RESET_SUBJECT,
            extra_email_context={"studio": gettext("Sora Studio")},
        )
