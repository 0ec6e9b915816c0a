"""Costs: the team's price list, its spending limits, and the video services paused because the studio's
account ran out of credit. Admins only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import F
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from sorastudio.teams.decorators import admin_required, operator_required
from sorastudio.teams.http import StudioRequest
from sorastudio.teams.models import Membership

from .models import MAX_PRICE, Period, PriceOverride, PriceRow, ProviderPause, Quota

MAX_LIMIT = 10_000_000


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
    return _page(request, rows, typed, errors, LimitForm(team=request.team))


@require_POST
@admin_required
def set_limit(request: StudioRequest) -> HttpResponseBase:
    """Set (or change) a member's or the whole team's daily or monthly limit."""
    form = LimitForm(request.POST, team=request.team)
    if not form.is_valid():
        return _page(request, PriceOverride.price_list(request.team), {}, {}, form)
    data = form.cleaned_data
    user = data["member"].user if data["member"] else None
    Quota.set_limit(request.team, user, data["period"], data["hard_cap"], data["soft_limit"], by=request.user)
    messages.success(request, gettext("The limit is saved: it holds from the next video asked for."))
    return redirect("studio:costs")


@require_POST
@admin_required
def clear_limit(request: StudioRequest, pk: int) -> HttpResponseBase:
    quota = get_object_or_404(Quota, team=request.team, pk=pk)
    Quota.clear(request.team, quota.user, quota.period, by=request.user)
    messages.success(request, gettext("The limit is removed."))
    return redirect("studio:costs")


@require_POST
@operator_required
def resume_provider(request: StudioRequest, provider: str) -> HttpResponseBase:
    """Send to a paused video service again (once its account has credit): its waiting jobs go out at once.
    The account is the installation's, not a team's, so only its operators resume it."""
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


class MemberField(forms.ModelChoiceField[Membership]):
    """The team's members by name; the value is the membership's key, as in the members page's addresses."""

    def label_from_instance(self, obj: Membership) -> str:
        return str(obj.user.get_username())


class LimitForm(forms.Form):
    """A limit for one member, or (no member) for the whole team; the warning defaults to 80 % of it."""

    member = MemberField(
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("The whole team"),
        label=_("Who"),
        to_field_name="key",
    )
    period = forms.ChoiceField(choices=Period.choices, initial=Period.MONTHLY, label=_("Per"))
    hard_cap = forms.IntegerField(min_value=0, max_value=MAX_LIMIT, label=_("Limit in credits"))
    soft_limit = forms.IntegerField(
        min_value=0,
        max_value=MAX_LIMIT,
        required=False,
        label=_("Warn from"),
        help_text=_("Empty: 80 percent of the limit."),
    )

    def __init__(self, *args: Any, team: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = Membership.objects.filter(team=team).select_related("user").order_by("user__username")
        self.fields["member"].queryset = members  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        cap, soft = data.get("hard_cap"), data.get("soft_limit")
        if cap is not None and soft is not None and soft > cap:
            self.add_error("soft_limit", gettext("The warning level cannot be above the limit."))
        return data


def _page(
    request: StudioRequest,
    rows: list[PriceRow],
    typed: dict[str, str],
    errors: dict[str, str],
    limit_form: LimitForm,
) -> TemplateResponse:
    """The costs page, with what was typed into either form and what is wrong with it."""
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
        "quotas": Quota.objects.filter(team=request.team)
        .select_related("user")
        .order_by(F("user__username").asc(nulls_first=True), "period"),
        "limit_form": limit_form,
    }
    status = 400 if errors or limit_form.errors else 200
    return TemplateResponse(request, "studio/costs.html", context, status=status)
