from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import presets, providers


def studio(request: HttpRequest) -> dict[str, Any]:
    return {
        "team": getattr(request, "team", None),
        "provider": providers.describe(),
        # The form's presets: every render of the form shows them, the page and its htmx fragments alike.
        "presets": presets.PRESETS,
    }
