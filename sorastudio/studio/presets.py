"""Named starting points for the form: options that suit a common kind of video, and a prompt skeleton whose
[brackets] the creator replaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Preset:
    slug: str
    # Shown translated: the name and description on the preset's chip, the prompt in the form.
    name: StrOrPromise
    description: StrOrPromise
    prompt: StrOrPromise
    options: dict[str, Any] = field(default_factory=dict)

    def initial(self, prompt: str = "") -> dict[str, Any]:
        """The form's starting values; a prompt the creator already typed is kept."""
        return {**self.options, "prompt": prompt.strip() or str(self.prompt)}


PRESETS = [
    Preset(
        "vertical-product",
        _("Vertical product shot"),
        _("9:16 for phones, 8 seconds"),
        pgettext_lazy(
            "a prompt skeleton: translate the words in [brackets] too",
            "A [product] standing on a [surface], the camera slowly circles it, soft studio light, clean "
            "[colour] background, crisp reflections",
        ),
        {"provider": "acedata", "version": "2.0", "model": "sora-2", "duration": 8, "size": "720x1280"},
    ),
    Preset(
        "cinematic-landscape",
        _("Cinematic landscape"),
        _("wide HD, 15 seconds, Sora 2 Pro"),
        pgettext_lazy(
            "a prompt skeleton: translate the words in [brackets] too",
            "[A landscape] at [time of day], sweeping aerial drone shot moving forward, golden hour light, "
            "long shadows, cinematic colour",
        ),
        {
            "provider": "acedata",
            "version": "1.0",
            "model": "sora-2-pro",
            "duration": 15,
            "size": "large",
            "orientation": "landscape",
        },
    ),
    Preset(
        "social-loop",
        _("Short social clip"),
        _("4 seconds, vertical"),
        pgettext_lazy(
            "a prompt skeleton: translate the words in [brackets] too",
            "[A character] [doing something playful] in [a place], quick handheld camera, "
            "bright natural light",
        ),
        {"provider": "acedata", "version": "2.0", "model": "sora-2", "duration": 4, "size": "720x1280"},
    ),
    Preset(
        "story-scene",
        _("Story scene with a character"),
        _("10 seconds, portrait, room for a character clip"),
        pgettext_lazy(
            "a prompt skeleton: translate the words in [brackets] too",
            "[Your character] walks into [a place], looks around and [reacts], medium shot, "
            "warm evening light",
        ),
        {
            "provider": "acedata",
            "version": "1.0",
            "model": "sora-2",
            "duration": 10,
            "size": "small",
            "orientation": "portrait",
        },
    ),
]
BY_SLUG = {preset.slug: preset for preset in PRESETS}
