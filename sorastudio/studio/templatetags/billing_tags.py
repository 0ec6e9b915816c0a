"""Costs beside the Generate button and on every video; the banner when a video service is out of credit."""

from __future__ import annotations

from typing import Any

from django import template

from sorastudio.billing import costs
from sorastudio.billing.models import ProviderPause, Quote, open_pauses
from sorastudio.pipeline import providers
from sorastudio.studio.forms import GenerationForm
from sorastudio.studio.models import Generation

register = template.Library()


@register.simple_tag(takes_context=True)
def quote(context: template.Context, form: GenerationForm) -> Quote | None:
    """What the form's request costs and what the person has left in the current team."""
    request = context.get("request")
    team = getattr(request, "team", None)
    if team is None:
        return None
    options, jobs = form.priced_options()
    return Quote.of(team, request.user, options, jobs)  # type: ignore[union-attr]


@register.simple_tag
def provider_pauses() -> list[ProviderPause]:
    """The usable video services the studio has stopped sending to."""
    return open_pauses(providers.usable())


@register.filter
def prompt_lines(value: Any) -> int:
    """How many non-empty lines a prompt has: what a batch counts as videos."""
    return sum(1 for line in str(value or "").splitlines() if line.strip())


@register.filter
def cost_badge(generation: Generation) -> str:
    """A card's cost: the credits reserved when it was asked for, at that day's price."""
    return costs.cost_line(generation, short=True)


@register.filter
def cost_line(generation: Generation) -> str:
    """A video page's cost, with where the credits stand."""
    return costs.cost_line(generation)


@register.filter
def charge_note(generation: Generation) -> str:
    """For a failed job: whether its creator was charged."""
    return costs.charge_note(generation) if generation.failed else ""


@register.filter
def waiting_for_credit(generation: Generation) -> bool:
    return costs.waiting_for_credit(generation)
