"""Named starting points for the form: options that suit a common kind of video, and a prompt skeleton whose
[brackets] the creator replaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    slug: str
    name: str
    description: str
    prompt: str
    options: dict[str, Any] = field(default_factory=dict)

    def initial(self, prompt: str = "") -> dict[str, Any]:
        """The form's starting values; a prompt the creator already typed is kept."""
        return {**self.options, "prompt": prompt.strip() or self.prompt}


PRESETS = [
    Preset(
        "vertical-product",
        "Vertical product shot",
        "9:16 for phones, 8 seconds",
        "A [product] standing on a [surface], the camera slowly circles it, soft studio light, clean "
        "[colour] background, crisp reflections",
        {"provider": "acedata", "version": "2.0", "model": "sora-2", "duration": 8, "size": "720x1280"},
    ),
    Preset(
        "cinematic-landscape",
        "Cinematic landscape",
        "wide HD, 15 seconds, Sora 2 Pro",
        "[A landscape] at [time of day], sweeping aerial drone shot moving forward, golden hour light, "
        "long shadows, cinematic colour",
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
        "Short social clip",
        "4 seconds, vertical",
        "[A character] [doing something playful] in [a place], quick handheld camera, bright natural light",
        {"provider": "acedata", "version": "2.0", "model": "sora-2", "duration": 4, "size": "720x1280"},
    ),
    Preset(
        "story-scene",
        "Story scene with a character",
        "10 seconds, portrait, room for a character clip",
        "[Your character] walks into [a place], looks around and [reacts], medium shot, warm evening light",
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
