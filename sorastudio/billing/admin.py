"""Costs and quotas in Django's admin (imported by admin.py): limits, price overrides, the ledger (read only,
apart from granting extra credit) and the out-of-credit pauses, which can be resumed from here too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from sorastudio.lib.admin import staff_user
from sorastudio.teams.models import AuditEntry, Membership

from .models import Combination, LedgerEntry, PriceOverride, ProviderPause, Quota

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _check_member(form: forms.ModelForm[Any], team: Any, user: User | None) -> None:
    if team and user and not Membership.objects.filter(team=team, user=user).exists():
        form.add_error("user", f"{user} is not a member of {team}.")


class QuotaForm(forms.ModelForm[Quota]):
    class Meta:
        model = Quota
        fields = ["team", "user", "period", "hard_cap", "soft_limit"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_member(self, data.get("team"), data.get("user"))
        return data


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin[Quota]):
    form = QuotaForm
    list_display = ["team", "member", "period", "hard_cap", "soft_limit", "updated_by", "updated_at"]
    list_filter = ["period", "team"]
    search_fields = ["team__name", "user__username"]
    autocomplete_fields = ["team", "user"]
    list_select_related = ["team", "user", "updated_by"]

    @admin.display(description="member")
    def member(self, obj: Quota) -> str:
        return obj.user.get_username() if obj.user else "(the whole team)"

    @staticmethod
    def _audit(kind: AuditEntry.Kind, request: HttpRequest, obj: Quota, **details: Any) -> None:
        AuditEntry.record(
            kind, team=obj.team, actor=staff_user(request), subject=obj.user, period=obj.period, **details
        )

    def save_model(self, request: HttpRequest, obj: Quota, form: Any, change: bool) -> None:
        obj.updated_by_id = staff_user(request).pk
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            self._audit(
                AuditEntry.Kind.LIMIT_SET, request, obj, credits=obj.hard_cap, soft_limit=obj.soft_limit
            )

    def delete_model(self, request: HttpRequest, obj: Quota) -> None:
        with transaction.atomic():
            self._audit(AuditEntry.Kind.LIMIT_REMOVED, request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Quota]) -> None:
        with transaction.atomic():
            for obj in queryset.select_related("team", "user"):
                self.delete_model(request, obj)


@admin.register(PriceOverride)
class PriceOverrideAdmin(admin.ModelAdmin[PriceOverride]):
    list_display = [
        "team",
        "provider",
        "version",
        "model",
        "size",
        "quality",
        "duration",
        "credits",
        "updated_at",
    ]
    list_filter = ["team", "provider", "model"]
    autocomplete_fields = ["team"]
    readonly_fields = ["updated_by"]

    def save_model(self, request: HttpRequest, obj: PriceOverride, form: Any, change: bool) -> None:
        obj.updated_by_id = staff_user(request).pk
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            combination = Combination.of(obj.__dict__)
            AuditEntry.record(
                AuditEntry.Kind.PRICE_CHANGED,
                team=obj.team,
                actor=staff_user(request),
                what=f"{combination.family} · {combination.shape} · {combination.duration} s",
                key=combination.key,
                credits=obj.credits,
            )


class GrantForm(forms.ModelForm[LedgerEntry]):
    """The one kind of line added by hand: extra credit, for a member or (no user) the whole team."""

    class Meta:
        model = LedgerEntry
        fields = ["team", "user", "credits", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("credits"):
            self.add_error("credits", "Grant a positive number of credits.")
        if not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the credits are granted.")
        _check_member(self, data.get("team"), data.get("user"))
        return data


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin[LedgerEntry]):
    list_display = [
        "created_at",
        "kind",
        "team",
        "user",
        "credits",
        "provider",
        "model",
        "counts_on",
        "actor",
        "reason",
    ]
    list_filter = ["kind", "provider", "model", "team"]
    search_fields = ["reason", "user__username", "team__name"]
    date_hierarchy = "counts_on"
    list_select_related = ["team", "user", "actor"]
    raw_id_fields = ["generation"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = GrantForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return GrantForm.Meta.fields if obj is None else [f.name for f in LedgerEntry._meta.fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else [f.name for f in LedgerEntry._meta.fields]

    # The ledger is append-only: lines are never changed or deleted, only added (grants).
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: LedgerEntry, form: Any, change: bool) -> None:
        obj.kind = LedgerEntry.Kind.GRANT
        obj.actor_id = staff_user(request).pk
        obj.counts_on = timezone.localdate()
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            obj.record_grant()


@admin.register(ProviderPause)
class ProviderPauseAdmin(admin.ModelAdmin[ProviderPause]):
    list_display = ["provider", "paused_at", "paused_by", "resumed_at", "resumed_by", "reason"]
    list_filter = ["provider"]
    readonly_fields = ["provider", "reason", "paused_at", "paused_by", "resumed_at", "resumed_by"]
    actions = ["resume"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # pauses come from the upstream's answers

    @admin.action(description="Resume the chosen video services")
    def resume(self, request: HttpRequest, queryset: QuerySet[ProviderPause]) -> None:
        resumed = [pause.provider for pause in queryset if pause.resume(staff_user(request))]
        self.message_user(request, f"Resumed: {', '.join(resumed) or 'none'}.", messages.SUCCESS)
