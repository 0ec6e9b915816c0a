"""Everything a video's page shows: its timeline, its re-runs and variations, the review threads, what the
viewer may do, and the request as it went upstream. The video's view and the review views (which show the
page again with their forms' errors) build it here."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from sorastudio.pipeline import providers
from sorastudio.teams.http import StudioRequest

from .models import Generation


def context(request: StudioRequest, item: Generation) -> dict[str, Any]:
    """Everything the page of `item` shows to the person asking."""
    context: dict[str, Any] = {"generation": item, "now": timezone.now()}
    context["events"] = item.events.select_related("actor")
    context["reruns"] = Generation.objects.for_team(request.team).filter(parent=item).newest_first()
    if item.group:
        context["siblings"] = (
            Generation.objects.for_team(request.team).filter(group=item.group).exclude(pk=item.pk)
        )
    context["threads"] = item.comment_threads()
    context["rights"] = item.review_rights(request.membership)
    call = providers.api_call(item)
    context["api_call"] = f"{call['path']}\n{json.dumps(call['body'], indent=2, ensure_ascii=False)}"
    return context
