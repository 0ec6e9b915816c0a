from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from sorastudio.pipeline import providers
from sorastudio.studio.notifications import bell_for

from . import presets


def studio(request: HttpRequest) -> dict[str, Any]:
    return {
        "team": getattr(request, "team", None),
        "provider": providers.describe(),
        # The form's presets: every render of the form shows them, the page and its htmx fragments alike.
        "presets": presets.PRESETS,
        # The bell's count: asked of the database only by a template that shows the bell.
        "bell": SimpleLazyObject(lambda: _bell(request)),
    }


def _bell(request: HttpRequest) -> Any:
    return bell_for(request.user) if request.user.is_authenticated else None
