"""The audit trail's words for the members page: `{{ entry|audit_who }}`, `{{ entry|audit_text }}`."""

from __future__ import annotations

from django import template

from sorastudio.teams import presenters

register = template.Library()

register.filter("audit_who", presenters.who)
register.filter("audit_text", presenters.text)
