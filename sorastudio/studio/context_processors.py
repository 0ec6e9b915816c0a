from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import providers


def studio(request: HttpRequest) -> dict[str, Any]:
    return {"team": getattr(request, "team", None), "provider": providers.describe()}
