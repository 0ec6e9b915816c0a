"""How the audit trail reads to people: who did it, and what happened in a sentence of the reader's
language. The entries keep the facts (AuditEntry); the members page shows them through the filters of
templatetags/audit_tags.py, and Django's admin through its own column."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sorastudio.lib import capabilities

from .models import AuditEntry, Membership

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PERIOD_NAMES: dict[str, StrOrPromise] = {"daily": _("Daily"), "monthly": _("Monthly")}
AUDIT_TEXTS: dict[str, StrOrPromise] = {
    AuditEntry.Kind.ROLE_CHANGED: _("%(subject)s: %(before)s → %(after)s"),
    AuditEntry.Kind.MEMBER_REMOVED: _("%(subject)s removed from the team (was %(role)s)"),
    AuditEntry.Kind.ACCOUNT_DEACTIVATED: _("%(subject)s’s account deactivated (was %(role)s)"),
    AuditEntry.Kind.ACCOUNT_CREATED: _("Account %(subject)s made, as %(role)s"),
    AuditEntry.Kind.INVITATION_MADE: _("Invitation link to join as %(role)s"),
    AuditEntry.Kind.INVITATION_REVOKED: _("Invitation link to join as %(role)s revoked"),
    AuditEntry.Kind.SETTINGS_CHANGED: _("Team settings: %(changes)s"),
    AuditEntry.Kind.PRICE_CHANGED: _("%(what)s now costs %(credits)s credits"),
    AuditEntry.Kind.LIMIT_SET: _("%(period)s limit of %(subject)s: %(credits)s credits"),
    AuditEntry.Kind.LIMIT_REMOVED: _("%(period)s limit of %(subject)s removed"),
    AuditEntry.Kind.CREDIT_GRANTED: _("%(credits)s credits granted to %(subject)s: %(reason)s"),
    AuditEntry.Kind.SERVICE_PAUSED: _("%(service)s paused: the studio’s account is out of credit"),
    AuditEntry.Kind.SERVICE_RESUMED: _("%(service)s resumed"),
    AuditEntry.Kind.REVIEW_LINK_MADE: _(
        "“%(title)s”: %(videos)s videos shared with a client for %(days)s days"
    ),
    AuditEntry.Kind.REVIEW_LINK_REVOKED: _("“%(title)s” revoked: the client can no longer open it"),
    AuditEntry.Kind.API_TOKEN_MADE: _("API token “%(name)s” (%(prefix)s…) made for %(subject)s"),
    AuditEntry.Kind.API_TOKEN_REVOKED: _("API token “%(name)s” (%(prefix)s…) of %(subject)s revoked"),
}


def who(entry: AuditEntry) -> str:
    if entry.actor_name:
        return entry.actor_name
    if entry.kind == AuditEntry.Kind.SERVICE_PAUSED:
        return gettext("The studio")
    return gettext("The command line")


def text(entry: AuditEntry) -> str:
    """What happened, in a sentence of the reader's language."""
    d = entry.details
    role = {value: str(label) for value, label in Membership.Role.choices}
    values = {
        "subject": entry.subject_name,
        "before": role.get(d.get("before", ""), d.get("before", "")),
        "after": role.get(d.get("after", ""), d.get("after", "")),
        "role": role.get(d.get("role", ""), d.get("role", "")),
        "service": capabilities.PROVIDERS.get(d.get("provider", ""), d.get("provider", "")),
        "what": d.get("what", ""),
        "credits": d.get("credits", ""),
        "period": str(PERIOD_NAMES.get(d.get("period", ""), d.get("period", ""))),
        "reason": d.get("reason", ""),
        "title": d.get("title", "") or gettext("Untitled"),
        "videos": d.get("videos", ""),
        "days": d.get("days", ""),
        "name": d.get("name", ""),
        "prefix": d.get("prefix", ""),
        "changes": ", ".join(f"{name}: {old} → {new}" for name, (old, new) in d.get("changes", {}).items()),
    }
    template = AUDIT_TEXTS.get(entry.kind, "%(subject)s")
    if entry.kind == AuditEntry.Kind.PRICE_CHANGED and d.get("credits") is None:
        template = _("%(what)s back to the default price")
    if entry.kind in (
        AuditEntry.Kind.LIMIT_SET,
        AuditEntry.Kind.LIMIT_REMOVED,
        AuditEntry.Kind.CREDIT_GRANTED,
    ):
        values["subject"] = entry.subject_name or gettext("the whole team")
    return str(template) % values
