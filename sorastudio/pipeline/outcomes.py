"""Where the pipeline decides how a job ends, and so what it costs: each outcome is the job's transition
and its settlement in one transaction (the ledger's verbs run once, whoever asks first)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sorastudio.billing.models import LedgerEntry
from sorastudio.studio.models import Generation


def upstream_succeeded(generation: Generation, video_url: str, trace_id: str = "") -> bool:
    """The upstream made the video: it is to be archived, and its credits are charged now. Made upstream,
    so paid for: a download that fails later does not give them back."""
    with transaction.atomic():
        won = generation.mark_upstream_succeeded(video_url, trace_id)
        if won:
            LedgerEntry.settle(generation)
    return won


def failed(generation: Generation, code: str, message: str, **transition: Any) -> bool:
    """The job ends as failed (Generation.mark_failed names the states it may end from). A video that was
    not made gets its credits back; one the upstream made, or may have made, stays charged."""
    with transaction.atomic():
        won = generation.mark_failed(code, message, **transition)
        if won:
            LedgerEntry.settle(generation)
    return won
