"""What a job cost, in words, for its card and its page: read from the ledger (or from what the gallery's
query already read of it, billing.models.with_charges)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext, ngettext

from sorastudio.studio.models import Generation, GenerationQuerySet, State

from .models import LedgerEntry, ProviderPause


def cost_of(generation: Generation) -> int | None:
    """The credits reserved for a job when it was asked for (None for jobs from before the ledger)."""
    if hasattr(generation, "reserved_credits"):  # read with the page's query (with_charges)
        reserved: int | None = generation.reserved_credits
        return reserved
    return (
        LedgerEntry.objects.filter(generation=generation, kind=LedgerEntry.Kind.RESERVE)
        .values_list("credits", flat=True)
        .first()
    )


def outcome_of(generation: Generation) -> str:
    """Charge, release, or "" while the job's credits are still reserved (or it had none)."""
    if hasattr(generation, "settled_as"):  # read with the page's query (with_charges)
        return generation.settled_as or ""
    kind = (
        LedgerEntry.objects.filter(
            generation=generation, kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.RELEASE]
        )
        .values_list("kind", flat=True)
        .first()
    )
    return kind or ""


def cost_line(generation: Generation, *, short: bool = False) -> str:
    """What a job costs, for its card (`short`) and its page (with where the credits stand)."""
    credits = cost_of(generation)
    if credits is None:
        return ""
    if short:
        return ngettext("%(credits)s credit", "%(credits)s credits", credits) % {"credits": credits}
    outcome = outcome_of(generation)
    if outcome == LedgerEntry.Kind.CHARGE:
        text = ngettext("%(credits)s credit, charged", "%(credits)s credits, charged", credits)
    elif outcome == LedgerEntry.Kind.RELEASE:
        text = ngettext("%(credits)s credit, given back", "%(credits)s credits, given back", credits)
    else:
        text = ngettext(
            "%(credits)s credit, set aside until the video is made",
            "%(credits)s credits, set aside until the video is made",
            credits,
        )
    return text % {"credits": credits}


def charge_note(generation: Generation) -> str:
    """What a failed job cost its creator, in a sentence."""
    outcome = outcome_of(generation)
    if outcome == LedgerEntry.Kind.RELEASE:
        return gettext("You were not charged: the credits set aside for this video were given back.")
    if outcome == LedgerEntry.Kind.CHARGE:
        credits = cost_of(generation) or 0
        return ngettext(
            "Its %(credits)s credit was counted: the video service may have made it.",
            "Its %(credits)s credits were counted: the video service may have made it.",
            credits,
        ) % {"credits": credits}
    return ""


def with_charges(generations: GenerationQuerySet) -> GenerationQuerySet:
    """What a card says of its credits (reserved, then charged or given back) and whether a queued job
    waits for a paused service, read in the gallery's own query rather than once a card."""
    ledger = LedgerEntry.objects.filter(generation=models.OuterRef("pk"))
    settled = ledger.filter(kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.RELEASE])
    reserved = ledger.filter(kind=LedgerEntry.Kind.RESERVE)
    paused = ProviderPause.active().filter(provider=models.OuterRef("provider"))
    return generations.annotate(
        settled_as=models.Subquery(settled.values("kind")[:1]),
        reserved_credits=models.Subquery(reserved.values("credits")[:1]),
        provider_paused=models.Exists(paused),
    )


def waiting_for_credit(generation: Generation) -> bool:
    """Queued for a video service the studio paused because its account ran out of credit."""
    if generation.state != State.QUEUED:
        return False
    paused = getattr(generation, "provider_paused", None)  # read with the page's query (with_charges)
    return ProviderPause.is_paused(generation.provider) if paused is None else bool(paused)
