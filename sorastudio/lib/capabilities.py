"""What each (provider, version, model) can do: one table that drives the form, server-side validation and the
simulator's own validation, with the plain-language reason for every choice that is not possible."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ACEDATA = "acedata"
SORA2API = "sora2api"

# Brand names stay as they are in every language; the other labels are shown translated (lazily, so the
# tables can be built at import time). The keys are codes: compare and look up by them, never by a label.
PROVIDERS: dict[str, str] = {ACEDATA: "AceDataCloud", SORA2API: "Sora2API"}
MODELS: dict[str, str] = {"sora-2": "Sora 2", "sora-2-pro": "Sora 2 Pro"}
VERSIONS: dict[str, StrOrPromise] = {"1.0": _("Version 1.0"), "2.0": _("Version 2.0")}
QUALITY_LABELS: dict[str, StrOrPromise] = {"standard": _("Standard"), "hd": _("HD")}
WATERMARK_MAX = 50


def provider_label(provider: str) -> str:
    """The name people know a provider by; an unknown key (an old job's, say) as it is."""
    return PROVIDERS.get(provider, provider)


SIZE_LABELS: dict[str, StrOrPromise] = {
    "small": _("Standard"),
    "large": _("HD"),
    "720x1280": _("720 × 1280 (vertical)"),
    "1280x720": _("1280 × 720 (horizontal)"),
    "1024x1792": _("1024 × 1792 (tall, sharper)"),
    "1792x1024": _("1792 × 1024 (wide, sharper)"),
}
ORIENTATION_LABELS: dict[str, StrOrPromise] = {
    "landscape": _("Landscape (16:9)"),
    "portrait": _("Portrait (9:16)"),
}

ALL_DURATIONS = (4, 8, 10, 12, 15, 25)
CHARACTER_MIN_SPAN = 1
CHARACTER_MAX_SPAN = 3


@dataclass(frozen=True)
class Capability:
    provider: str
    version: str
    model: str
    durations: tuple[int, ...]
    default_duration: int
    sizes: tuple[str, ...]
    default_size: str
    orientations: tuple[str, ...] = ()
    default_orientation: str = ""
    max_images: int = 0
    # v2.0 uses only the first reference image and wants its pixel size to match `size`.
    first_image_only: bool = False
    character: bool = False
    qualities: tuple[str, ...] = ()
    default_quality: str = ""
    watermark: bool = False
    # Sora2API fetches reference images itself, so uploads must be reachable at a public address.
    images_need_urls: bool = False
    reasons: dict[str, StrOrPromise] = field(default_factory=dict)

    @property
    def family(self) -> str:
        """How the creator knows this combination: "Version 2.0", or the provider's name."""
        return str(VERSIONS.get(self.version) or PROVIDERS[self.provider])

    def why_not_duration(self, seconds: int) -> str:
        if seconds in self.durations:
            return ""
        reason = self.reasons.get(f"duration:{seconds}")
        if reason:
            return str(reason)
        return gettext("%(family)s makes videos of %(durations)s seconds") % {
            "family": self.family,
            "durations": _join([str(d) for d in self.durations]),
        }

    def why_not_size(self, size: str) -> str:
        if size in self.sizes:
            return ""
        if not self.sizes:
            return gettext("%(family)s takes a quality instead of a size") % {"family": self.family}
        reason = self.reasons.get(f"size:{size}")
        if reason:
            return str(reason)
        return gettext("%(family)s offers %(sizes)s") % {
            "family": self.family,
            "sizes": list_separator().join(str(SIZE_LABELS[s]) for s in self.sizes),
        }

    def pixel_size(self, size: str, orientation: str, quality: str = "") -> tuple[int, int]:
        """The nominal frame size in pixels (width, height) for a request."""
        if "x" in size:
            width, height = (int(part) for part in size.split("x"))
            return width, height
        sharp = size == "large" or quality == "hd"
        long_side, short_side = (1280, 720) if sharp else (854, 480)
        if orientation == "portrait":
            return short_side, long_side
        return long_side, short_side


def list_separator() -> str:
    """What goes between the items of a list in a sentence: ", " in English."""
    return pgettext("between the items of a list", ", ")


def _join(words: list[str]) -> str:
    """Words joined as in "10, 15 or 25", in the current language."""
    if len(words) == 1:
        return words[0]
    return gettext("%(items)s or %(last)s") % {"items": list_separator().join(words[:-1]), "last": words[-1]}


# Why a choice cannot be made, shown beside it in the form; the keys are codes.
_V1_REASONS: dict[str, StrOrPromise] = {
    "duration:25": _("25 seconds needs Sora 2 Pro"),
    "size:large": _("HD needs Sora 2 Pro"),
    "duration:4": _("4 seconds needs version 2.0"),
    "duration:8": _("8 seconds needs version 2.0"),
    "duration:12": _("12 seconds needs version 2.0"),
}
_V2_REASONS: dict[str, StrOrPromise] = {
    "duration:10": _("10 seconds is a version 1.0 length"),
    "duration:15": _("15 seconds is a version 1.0 length"),
    "duration:25": _("25 seconds is a version 1.0 length (with Sora 2 Pro)"),
    "size:small": _("Version 2.0 takes a pixel size instead"),
    "size:large": _("Version 2.0 takes a pixel size instead"),
}
_V2_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")


def _acedata_v1(model: str, durations: tuple[int, ...], sizes: tuple[str, ...]) -> Capability:
    """Version 1.0: the models differ only in the lengths and sizes they offer."""
    return Capability(
        ACEDATA,
        "1.0",
        model,
        durations=durations,
        default_duration=15,
        sizes=sizes,
        default_size="small",
        orientations=("landscape", "portrait"),
        default_orientation="landscape",
        max_images=4,
        character=True,
        reasons=_V1_REASONS,
    )


def _acedata_v2(model: str) -> Capability:
    """Version 2.0 offers the same choices with either model."""
    return Capability(
        ACEDATA,
        "2.0",
        model,
        durations=(4, 8, 12),
        default_duration=4,
        sizes=_V2_SIZES,
        default_size="720x1280",
        max_images=1,
        first_image_only=True,
        reasons=_V2_REASONS,
    )


_SORA2API = Capability(
    SORA2API,
    "",
    "sora-2",
    # Sora2API takes no length: its videos are about ten seconds.
    durations=(10,),
    default_duration=10,
    sizes=(),
    default_size="",
    orientations=("landscape", "portrait"),
    default_orientation="landscape",
    qualities=("standard", "hd"),
    default_quality="standard",
    max_images=4,
    images_need_urls=True,
    watermark=True,
)

# In the order the form offers them (models_for keeps it).
CAPABILITIES: dict[tuple[str, str, str], Capability] = {
    (c.provider, c.version, c.model): c
    for c in (
        _acedata_v1("sora-2", durations=(10, 15), sizes=("small",)),
        _acedata_v1("sora-2-pro", durations=(10, 15, 25), sizes=("small", "large")),
        *(_acedata_v2(model) for model in MODELS),
        _SORA2API,
    )
}


def capability(provider: str, version: str, model: str) -> Capability | None:
    return CAPABILITIES.get((provider, version, model))


def versions_for(provider: str) -> list[str]:
    return sorted({c.version for c in CAPABILITIES.values() if c.provider == provider and c.version})


def models_for(provider: str, version: str) -> list[str]:
    return [c.model for c in CAPABILITIES.values() if c.provider == provider and c.version == version]


def resolve(provider: str, version: str, model: str) -> Capability:
    """The capability for what was asked, falling back to the nearest valid combination."""
    if provider not in PROVIDERS:
        provider = ACEDATA
    versions = versions_for(provider)
    version = (version if version in versions else versions[0]) if versions else ""
    models = models_for(provider, version)
    model = model if model in models else models[0]
    return CAPABILITIES[(provider, version, model)]


# Typical generation times (seconds) seen upstream, used for the progress estimate until the studio has
# its own history for a combination.
TYPICAL_SECONDS = {
    ("sora-2", 4): 60,
    ("sora-2", 8): 80,
    ("sora-2", 12): 100,
    ("sora-2", 10): 90,
    ("sora-2", 15): 120,
    ("sora-2-pro", 4): 90,
    ("sora-2-pro", 8): 120,
    ("sora-2-pro", 12): 150,
    ("sora-2-pro", 10): 150,
    ("sora-2-pro", 15): 200,
    ("sora-2-pro", 25): 300,
}
