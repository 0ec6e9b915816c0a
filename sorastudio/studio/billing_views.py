"""Costs: the team's price list, and the video services paused because the studio's account ran out of
credit. Admins only."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from .billing import MAX_PRICE, PriceOverride, ProviderPause
from .decorators import admin_required
from .http import StudioRequest


@require_http_methods(["GET", "POST"])
@admin_required
def costs(request: StudioRequest) -> HttpResponseBase:
    """Every combination the capability table allows, with its default price and the team's own; an empty
    field means the default."""
    rows = PriceOverride.price_list(request.team)
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        for row in rows:
            key = row.combination.key
            typed[key] = request.POST.get(f"price-{key}", "").strip()
            if typed[key] and not (typed[key].isdigit() and int(typed[key]) <= MAX_PRICE):
                errors[key] = gettext(
                    "Give a whole number of credits from 0 to %(most)s, or leave it empty for the default."
                ) % {"most": MAX_PRICE}
        if not errors:
            with transaction.atomic():
                for row in rows:
                    credits = int(typed[row.combination.key]) if typed[row.combination.key] else None
                    if credits != row.override:
                        PriceOverride.set_price(request.team, row.combination, credits, by=request.user)
            messages.success(request, gettext("The prices are saved."))
            return redirect("studio:costs")
    context: dict[str, Any] = {
        "rows": [
            {
                "row": row,
                "value": typed.get(row.combination.key, "" if row.override is None else str(row.override)),
                "error": errors.get(row.combination.key, ""),
            }
            for row in rows
        ],
        "errors": errors,
        "pauses": ProviderPause.active(),
    }
    return TemplateResponse(request, "studio/costs.html", context, status=400 if errors else 200)


@require_POST
@admin_required
def resume_provider(request: StudioRequest, provider: str) -> HttpResponseBase:
    """Send to a paused video service again (once its account has credit): its waiting jobs go out at once."""
    pause = ProviderPause.active().filter(provider=provider).first()
    if pause is not None and pause.resume(request.user):
        messages.success(
            request,
            gettext("%(service)s is resumed: the videos waiting for it are being sent.")
            % {"service": pause.provider_label},
        )
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("studio:costs")
