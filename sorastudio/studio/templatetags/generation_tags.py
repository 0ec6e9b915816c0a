"""A video's and its timeline's words for the templates: `{{ generation|size_label }}`,
`{{ event|event_label }}`, `{% progress generation as p %}`. The words themselves are the presenters'."""

from __future__ import annotations

from typing import Any

from django import template

from sorastudio.studio import presenters

register = template.Library()

for _name in (
    "model_label",
    "size_label",
    "orientation_label",
    "quality_label",
    "provider_label",
    "character_clip_label",
    "reference_links",
    "summary",
    "explanation",
    "event_label",
):
    register.filter(_name, getattr(presenters, _name))

register.filter("phase_label", presenters.event_phase_label)


@register.simple_tag
def progress(generation: Any) -> dict[str, Any]:
    """A live job's estimated progress (presenters.progress), as of now."""
    return presenters.progress(generation)
