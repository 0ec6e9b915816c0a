from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.http import QueryDict
from django.utils.functional import lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from sorastudio.lib import capabilities
from sorastudio.lib.capabilities import ACEDATA, SORA2API, Capability
from sorastudio.lib.images import DEFAULT_FIT, FIT_MODES, fit_image
from sorastudio.pipeline import providers

from . import characters

MAX_PROMPT = 4000
MAX_JOBS_PER_SUBMIT = 20
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
# The most images any model takes; each model's own number is checked by the form, still before decoding.
MAX_IMAGES = max(cap.max_images for cap in capabilities.CAPABILITIES.values())
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool
    reason: str = ""  # why it cannot be chosen; empty when it can


@dataclass(frozen=True)
class _CharacterGiven:
    """The character's fields as given (or filled in from a saved character), read once before any check:
    an error added to a field takes it out of cleaned_data, and the checks after it still need its value."""

    url: str
    upload: UploadedFile | None
    stored: str
    name: str
    start: int | None
    end: int | None

    @classmethod
    def read(cls, data: dict[str, Any]) -> _CharacterGiven:
        return cls(
            url=data.get("character_url") or "",
            upload=data.get("character_clip"),
            stored=data.get("character_stored") or "",
            name=data.get("character_name") or "",
            start=data.get("character_start"),
            end=data.get("character_end"),
        )

    @property
    def clip(self) -> bool:
        """Whether there is a clip at all: an address, an upload or one stored earlier."""
        return bool(self.url or self.upload or self.stored)


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Counted and measured only, from what the upload says of itself: no image is opened here. Decoding
    waits until the form has counted them against the chosen model (GenerationForm._clean_images), so a
    request with a hundred large images costs no more than one with five."""

    widget = MultipleImageInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        files = list(data) if isinstance(data, list | tuple) else [data]
        if len(files) > MAX_IMAGES:
            raise ValidationError(too_many_images(MAX_IMAGES))
        for upload in files:
            check_image_bytes(upload)
        return files


def too_many_images(most: int) -> str:
    return ngettext(
        "Use at most %(most)s reference image.", "Use at most %(most)s reference images.", most
    ) % {"most": most}


def check_image_bytes(upload: UploadedFile) -> None:
    if upload.size and upload.size > MAX_IMAGE_BYTES:
        name = upload.name or gettext("the file")
        raise ValidationError(gettext("%(name)s is larger than 10 MB. Use a smaller image.") % {"name": name})


def check_image(upload: UploadedFile) -> UploadedFile:
    """Accept a real PNG, JPEG or WebP image of a sensible size; say plainly what is wrong otherwise: not an
    image, too big (in bytes or in pixels), or cut short (every pixel is decoded: a cut JPEG fails only then).
    Cheapest first: the bytes, then the size in pixels from the header (Image.open reads no more), and only
    then every pixel.
    """
    check_image_bytes(upload)
    name = upload.name or gettext("the file")
    megapixels = MAX_IMAGE_PIXELS // 1_000_000
    kind, width, height = _image_header(upload, name, megapixels)
    if width * height > MAX_IMAGE_PIXELS:
        raise ValidationError(
            gettext(
                "%(name)s is too large (%(width)s × %(height)s pixels; the most is %(megapixels)s "
                "megapixels). Use a smaller image."
            )
            % {"name": name, "width": width, "height": height, "megapixels": megapixels}
        )
    if kind not in IMAGE_TYPES:
        if kind:
            message = gettext("%(name)s is a %(kind)s image. Use a PNG, JPEG or WebP file.")
        else:
            message = gettext("%(name)s is an image of an unknown kind. Use a PNG, JPEG or WebP file.")
        raise ValidationError(message % {"name": name, "kind": kind})
    _check_every_pixel(upload, name)
    upload.seek(0)
    upload.content_type = IMAGE_TYPES[kind]
    return upload


def _image_header(upload: UploadedFile, name: str, megapixels: int) -> tuple[str, int, int]:
    """The image's kind and size in pixels, from its header only."""
    try:
        with Image.open(upload) as image:
            return image.format or "", *image.size
    except Image.DecompressionBombError:  # so many pixels that Pillow will not even open it
        raise ValidationError(
            gettext("%(name)s is too large: the most is %(megapixels)s megapixels. Use a smaller image.")
            % {"name": name, "megapixels": megapixels}
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            gettext("%(name)s is not an image we can read. Use a PNG, JPEG or WebP file.") % {"name": name}
        ) from None


def _check_every_pixel(upload: UploadedFile, name: str) -> None:
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image.verify()
        upload.seek(0)
        decode(upload)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            gettext(
                "%(name)s is cut short or damaged, so it is not an image we can read. "
                "Save it again or use another file."
            )
            % {"name": name}
        ) from None


def decode(upload: UploadedFile) -> None:
    """Every pixel, which is what finds a file cut short; the costly step, so the last one."""
    with Image.open(upload) as image:
        image.load()


def _too_long_message() -> str:
    return gettext("Keep each prompt under %(most)s characters.") % {"most": MAX_PROMPT}


# Put together in the language of the request that shows it, not the one active when this module loaded.
_too_long = lazy(_too_long_message, str)


class GenerationForm(forms.Form):
    # The limits the page's scripts check a file against as it is added (the drop zone's data attributes),
    # the same ones MultipleImageField and check_image apply.
    image_types = ",".join(IMAGE_TYPES.values())
    max_image_bytes = MAX_IMAGE_BYTES
    # The longest prompt, for the counter beside it (its data attribute).
    max_prompt = MAX_PROMPT

    # Checked against the usable providers in clean_provider, with a plain message.
    provider = forms.CharField(required=False)
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        # A batch's lines together; each prompt is held to MAX_PROMPT in _clean_prompts. Past this the
        # studio's own words too, not Django's "Ensure this value has at most…".
        max_length=MAX_PROMPT * 5,
        error_messages={"required": _("Describe the video you want."), "max_length": _too_long()},
    )
    batch = forms.BooleanField(required=False)
    model = forms.ChoiceField(choices=list(capabilities.MODELS.items()), initial="sora-2", required=False)
    version = forms.ChoiceField(choices=list(capabilities.VERSIONS.items()), initial="1.0", required=False)
    duration = forms.TypedChoiceField(
        coerce=int, choices=[(d, f"{d} seconds") for d in capabilities.ALL_DURATIONS], required=False
    )
    size = forms.ChoiceField(choices=list(capabilities.SIZE_LABELS.items()), required=False)
    orientation = forms.ChoiceField(
        choices=[("", "—"), *capabilities.ORIENTATION_LABELS.items()], required=False
    )
    aspect_ratio = forms.ChoiceField(
        choices=[("", "—"), *capabilities.ORIENTATION_LABELS.items()], required=False
    )
    quality = forms.ChoiceField(choices=[("", "—"), *capabilities.QUALITY_LABELS.items()], required=False)
    watermark = forms.CharField(required=False, max_length=capabilities.WATERMARK_MAX, strip=True)
    image_urls = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    images = MultipleImageField()
    # Version 2.0 wants its one image at the video's pixel size: crop it, pad it, or send it unchanged.
    image_fit = forms.ChoiceField(choices=list(FIT_MODES.items()), initial=DEFAULT_FIT, required=False)
    character_url = forms.CharField(required=False, max_length=2000)
    character_start = forms.IntegerField(required=False, min_value=0, max_value=600)
    character_end = forms.IntegerField(required=False, min_value=0, max_value=600)
    # A clip from the creator's computer instead of an address; a saved character (its id) instead of both;
    # and the name to save this one under.
    character_clip = forms.FileField(required=False)
    character = forms.CharField(required=False, max_length=64)
    character_name = forms.CharField(required=False, max_length=80, strip=True)
    variations = forms.TypedChoiceField(
        coerce=int, choices=[(n, str(n)) for n in range(1, 5)], required=False, initial=1
    )

    def __init__(
        self,
        *args: Any,
        usable: list[str] | None = None,
        max_jobs: int = MAX_JOBS_PER_SUBMIT,
        team: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_jobs = max_jobs
        self.team = team  # whose saved characters can be used; None: none
        self.clip_seconds: float | None = None
        self.usable = usable if usable is not None else providers.usable()
        self.notes: list[str] = []

    # --- Which capability applies ------------------------------------------------------------------------

    def _raw(self, name: str) -> str:
        if self.is_bound:
            value = self.data.get(name)
            if value not in (None, ""):
                return str(value)
        value = self.initial.get(name, self.fields[name].initial)
        return "" if value is None else str(value)

    @property
    def capability(self) -> Capability:
        provider = self._raw("provider")
        if provider not in self.usable:
            provider = self.usable[0] if self.usable else ACEDATA
        return capabilities.resolve(provider, self._raw("version"), self._raw("model"))

    def autocorrect(self) -> None:
        """After a switch of provider, model or version, move impossible choices to the nearest possible
        ones and say so, instead of leaving the creator with a choice that will be refused."""
        cap = self.capability
        data = QueryDict(mutable=True)
        data.update(self.data)
        duration = self._raw("duration")
        if duration.isdigit() and int(duration) not in cap.durations:
            nearest = min(cap.durations, key=lambda d: (abs(d - int(duration)), -d))
            if len(cap.durations) > 1:
                self.notes.append(
                    gettext("Length changed from %(old)s to %(new)s seconds: %(reason)s.")
                    % {"old": duration, "new": nearest, "reason": cap.why_not_duration(int(duration))}
                )
            data["duration"] = str(nearest)
        size = self._raw("size")
        # The video's shape as it was chosen: the orientation (the aspect ratio on Sora2API), or a pixel size.
        shape = _shape_of(size) or self._raw("orientation") or self._raw("aspect_ratio")
        if size and size not in cap.sizes:
            if cap.sizes:
                replacement = _nearest_size(size, cap, shape)
                self.notes.append(
                    gettext("Size changed from %(old)s to %(new)s: %(reason)s.")
                    % {
                        "old": capabilities.SIZE_LABELS.get(size, size),
                        "new": capabilities.SIZE_LABELS[replacement],
                        "reason": cap.why_not_size(size),
                    }
                )
                data["size"] = replacement
            else:
                data["size"] = ""
        if not cap.orientations and self._raw("orientation"):
            data["orientation"] = ""
        if cap.orientations and not self._raw("orientation"):
            data["orientation"] = shape if shape in cap.orientations else cap.default_orientation
        if not cap.character and self._raw("character_url"):
            self.notes.append(
                gettext("Characters work only with AceDataCloud version 1.0: clear the clip or switch back.")
            )
        self.data = data

    # --- What the template shows -------------------------------------------------------------------------

    def provider_options(self) -> list[Option]:
        current = self.capability.provider
        return [Option(p, str(capabilities.PROVIDERS[p]), p == current) for p in self.usable]

    def version_options(self) -> list[Option]:
        cap = self.capability
        return [
            Option(v, str(capabilities.VERSIONS[v]), v == cap.version)
            for v in capabilities.versions_for(cap.provider)
        ]

    def model_options(self) -> list[Option]:
        cap = self.capability
        return [
            Option(m, str(capabilities.MODELS[m]), m == cap.model)
            for m in capabilities.models_for(cap.provider, cap.version)
        ]

    def duration_options(self) -> list[Option]:
        cap = self.capability
        current = self._raw("duration") or str(cap.default_duration)
        relevant = [d for d in capabilities.ALL_DURATIONS if d in cap.durations or _same_family(d, cap)]
        return [
            Option(str(d), seconds_label(d), current == str(d), cap.why_not_duration(d)) for d in relevant
        ]

    def size_options(self) -> list[Option]:
        cap = self.capability
        current = self._raw("size") or cap.default_size
        family = ("small", "large") if cap.version == "1.0" else cap.sizes
        return [
            Option(s, str(capabilities.SIZE_LABELS[s]), current == s, cap.why_not_size(s)) for s in family
        ]

    def orientation_options(self) -> list[Option]:
        cap = self.capability
        field = "aspect_ratio" if cap.provider == SORA2API else "orientation"
        current = self._raw(field) or self._raw("orientation") or cap.default_orientation
        return [Option(o, str(capabilities.ORIENTATION_LABELS[o]), current == o) for o in cap.orientations]

    def quality_options(self) -> list[Option]:
        cap = self.capability
        current = self._raw("quality") or cap.default_quality
        return [Option(q, str(capabilities.QUALITY_LABELS[q]), current == q) for q in cap.qualities]

    # --- Validation --------------------------------------------------------------------------------------

    def clean_provider(self) -> str:
        provider = self.data.get("provider") or (self.usable[0] if self.usable else "")
        if provider not in self.usable:
            name = capabilities.provider_label(provider)
            raise ValidationError(
                gettext("%(service)s is not set up in this studio. Choose another service.")
                % {"service": name}
            )
        return str(provider)

    def clean_prompt(self) -> str:
        prompt = str(self.cleaned_data["prompt"]).strip()
        if not prompt:
            raise ValidationError(gettext("Describe the video you want."))
        return prompt

    def clean_image_urls(self) -> list[str]:
        raw = self.cleaned_data.get("image_urls") or ""
        urls = [line.strip() for line in raw.splitlines() if line.strip()]
        check = URLValidator(schemes=["http", "https"])
        for url in urls:
            try:
                check(url)
            except ValidationError:
                raise ValidationError(
                    gettext("“%(url)s” is not a web address (it should start with https://).")
                    % {"url": url[:80]}
                ) from None
        return urls

    def clean_character_url(self) -> str:
        url = (self.cleaned_data.get("character_url") or "").strip()
        if url:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                raise ValidationError(
                    gettext("The character clip must be a web address starting with https://.")
                ) from None
        return url

    def clean_character_clip(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("character_clip")
        if not upload:
            return None
        self.clip_seconds = characters.check_clip(upload)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.usable:
            raise ValidationError(gettext("No video service is set up for this studio. Tell an admin."))
        cap = self.capability
        data.update(provider=cap.provider, model=cap.model, version=cap.version)
        duration = data.get("duration")
        if duration in (None, ""):
            data["duration"] = cap.default_duration
        elif duration not in cap.durations:
            self.add_error("duration", sentence(cap.why_not_duration(int(str(duration)))))
        self._clean_shape(cap, data)
        self._clean_prompts(data)
        self._clean_images(cap, data)
        self._clean_character(cap, data)
        return data

    def _clean_shape(self, cap: Capability, data: dict[str, Any]) -> None:
        if cap.sizes:
            size = data.get("size") or cap.default_size
            data["size"] = size
            if size not in cap.sizes:
                self.add_error("size", sentence(cap.why_not_size(size)))
        else:
            data["size"] = ""
        # Sora2API calls it aspectRatio; version 2.0 has none (the pixel size says it), so a leftover
        # value is dropped rather than refused.
        chosen = data.get("aspect_ratio") if cap.provider == SORA2API else data.get("orientation")
        data["orientation"] = (chosen or cap.default_orientation) if cap.orientations else ""
        if cap.qualities:
            data["quality"] = data.get("quality") or cap.default_quality
        else:
            data["quality"] = ""
        if not cap.watermark:
            data["watermark"] = ""

    def _clean_prompts(self, data: dict[str, Any]) -> None:
        prompt = data.get("prompt") or ""
        if data.get("batch"):
            prompts = [line.strip() for line in prompt.splitlines() if line.strip()]
        else:
            prompts = [prompt] if prompt else []
        data["prompts"] = prompts
        data["variations"] = data.get("variations") or 1
        if any(len(p) > MAX_PROMPT for p in prompts):
            self.add_error("prompt", _too_long_message())
        if len(prompts) * data["variations"] > self.max_jobs:
            self.add_error(
                "prompt",
                gettext("That would make %(count)s videos at once; the most in one go is %(most)s.")
                % {"count": len(prompts) * data["variations"], "most": self.max_jobs},
            )

    def kept_images(self) -> list[Any]:
        """Images uploaded for an earlier video and kept for this one ("edit & retry"): the ids come from
        the form (or the video it was filled from) and only the team's own images count."""
        from .models import GenerationImage

        if self.is_bound:
            ids = self.data.getlist("keep_image") if hasattr(self.data, "getlist") else []
        else:
            ids = list(self.initial.get("keep_image") or [])
        numbers = [int(i) for i in ids if str(i).isdigit()]
        if not numbers or self.team is None:
            return []
        found = GenerationImage.objects.filter(pk__in=numbers, generation__team=self.team).select_related(
            "generation"
        )
        by_pk = {image.pk: image for image in found}
        return [by_pk[n] for n in dict.fromkeys(numbers) if n in by_pk]

    def kept_clip(self) -> Any:
        """The earlier video whose uploaded clip is kept for this one ("edit & retry" of a video made with a
        clip that was not saved as a character), from the form (or the video it was filled from); only one
        of the team's own videos counts. None when there is none."""
        from .models import Generation

        chosen = self.data.get("keep_clip", "") if self.is_bound else self.initial.get("keep_clip", "")
        if not chosen or self.team is None:
            return None
        try:
            return Generation.objects.for_team(self.team).exclude(character_clip="").filter(pk=chosen).first()
        except ValidationError:  # not a UUID
            return None

    def _clean_images(self, cap: Capability, data: dict[str, Any]) -> None:
        data["kept_images"] = kept = self.kept_images()
        data["image_fit"] = data.get("image_fit") or DEFAULT_FIT
        uploads = data.get("images") or []
        count = len(data.get("image_urls") or []) + len(kept) + len(uploads)
        field = "images" if uploads else "image_urls"
        if count > cap.max_images:
            if cap.first_image_only:
                message = gettext(
                    "Version 2.0 uses a single reference image. Keep one and remove the others."
                )
            else:
                message = too_many_images(cap.max_images)
            self.add_error(field, message)
            return
        if not self._decoded(uploads):
            return
        if (uploads or kept) and cap.images_need_urls and not _reachable():
            self.add_error(
                "images",
                gettext(
                    "%(service)s fetches images from the web, and this studio has no public address. "
                    "Give image addresses instead, or ask an admin to set PUBLIC_BASE_URL."
                )
                % {"service": cap.family},
            )
        fits = cap.first_image_only and len(uploads) == 1 and not kept and count <= cap.max_images
        if fits and data["size"] in cap.sizes:
            # The upload is replaced by the fitted image: that is what is stored and sent upstream.
            width, height = cap.pixel_size(data["size"], "")
            data["images"] = [fit_image(uploads[0], width, height, data["image_fit"])]

    def _decoded(self, uploads: list[UploadedFile]) -> bool:
        """Each upload read in full, now that there are few enough of them; the problems beside the field."""
        errors = []
        for upload in uploads:
            try:
                check_image(upload)
            except ValidationError as error:
                errors.append(error)
        if errors:
            self.add_error("images", errors)
        return not errors

    def _clean_character(self, cap: Capability, data: dict[str, Any]) -> None:
        saved = self._saved_character(data)
        if not (saved or data.get("character_url") or data.get("character_clip")):
            kept = self.kept_clip()
            data["character_stored"] = kept.character_clip.name if kept else ""
        given = _CharacterGiven.read(data)
        if not given.clip:
            self._refuse_character_without_clip(given, data)
            return
        clip_field = "character" if saved else "character_clip" if given.upload else "character_url"
        if not cap.character:
            self.add_error(
                clip_field, gettext("Characters are only available with AceDataCloud version 1.0.")
            )
            return
        self._check_character_clip(given, clip_field)
        if given.name:
            self._check_character_name(saved, given.name)
        self._check_character_times(given)

    def _refuse_character_without_clip(self, given: _CharacterGiven, data: dict[str, Any]) -> None:
        """Times or a name typed for a character whose clip is missing; the times are dropped."""
        if given.start is not None or given.end is not None:
            self.add_error(
                "character_url",
                gettext("Add the character clip (an address or a file), or clear the times."),
            )
        if given.name:
            self.add_error("character_name", gettext("Add the character's clip to save it under a name."))
        data["character_start"] = data["character_end"] = None

    def _check_character_clip(self, given: _CharacterGiven, clip_field: str) -> None:
        if given.url and given.upload:
            self.add_error(
                "character_clip", gettext("Give the clip's address or pick a file, not both: clear one.")
            )
        if (given.upload or given.stored) and not _reachable():
            self.add_error(
                clip_field,
                gettext(
                    "The video service fetches the clip from the web, and this studio has no public address. "
                    "Give the clip's address instead, or ask an admin to set PUBLIC_BASE_URL."
                ),
            )

    def _check_character_name(self, saved: Any, name: str) -> None:
        """A name saves the clip as a new character: not for a saved one, nor under a name already taken."""
        if saved:
            self.add_error(
                "character_name",
                gettext("“%(name)s” is already saved: clear the name, or choose no saved character.")
                % {"name": saved.name},
            )
        elif characters.name_taken(self.team, name):
            self.add_error("character_name", characters.name_taken_message(name))
        elif self.team is None:
            self.add_error("character_name", gettext("Characters can only be saved from the studio's page."))

    def _check_character_times(self, given: _CharacterGiven) -> None:
        start, end = given.start, given.end
        if given.upload and end is not None and self.clip_seconds and end > self.clip_seconds + 0.5:
            self.add_error(
                "character_end",
                gettext(
                    "The clip lasts only %(length).1f seconds: the character's part must end by %(last)s s."
                )
                % {"length": self.clip_seconds, "last": int(self.clip_seconds + 0.5)},
            )
        if start is None:
            self.add_error(
                "character_start", gettext("Say where the character appears in the clip (in seconds).")
            )
        if end is None:
            self.add_error("character_end", gettext("Say where the character stops appearing (in seconds)."))
        if start is None or end is None:
            return
        span = end - start
        if span < capabilities.CHARACTER_MIN_SPAN or span > capabilities.CHARACTER_MAX_SPAN:
            self.add_error(
                "character_end",
                gettext("The character's part of the clip must last 1 to 3 seconds (it is %(span)s now).")
                % {"span": span},
            )

    def _saved_character(self, data: dict[str, Any]) -> Any:
        """The saved character chosen, whose clip and times replace the ones typed; None if none."""
        chosen = (data.get("character") or "").strip()
        data["character"] = None
        data["character_stored"] = ""
        if not chosen:
            return None
        saved = characters.find(self.team, chosen)
        if saved is None:
            self.add_error(
                "character", gettext("There is no such character in your team. Choose another one.")
            )
            return None
        data.update(
            character=saved,
            character_url=saved.clip_url,
            character_stored=saved.clip.name if saved.clip else "",
            character_clip=None,
            character_start=saved.start,
            character_end=saved.end,
        )
        return saved

    def priced_options(self) -> tuple[dict[str, Any], int]:
        """The options that set the price, as they stand (checked or not), and how many videos they make:
        for the cost shown beside the Generate button. Its htmx refresh sends the number of lines of the
        prompt (`prompt_lines`) rather than the prompt itself."""
        cap = self.capability
        duration, size, quality = self._raw("duration"), self._raw("size"), self._raw("quality")
        options = {
            "provider": cap.provider,
            "version": cap.version,
            "model": cap.model,
            "duration": int(duration) if duration in map(str, cap.durations) else cap.default_duration,
            "size": size if size in cap.sizes else cap.default_size,
            "quality": quality if quality in cap.qualities else cap.default_quality,
        }
        variations = self._raw("variations")
        jobs = int(variations) if variations in ("1", "2", "3", "4") else 1
        if self._raw("batch"):
            lines = self.data.get("prompt_lines", "") if self.is_bound else ""
            prompt = self._raw("prompt")
            count = sum(1 for line in prompt.splitlines() if line.strip()) if prompt else 0
            jobs *= max(1, count or (int(lines) if str(lines).isdigit() else 1))
        return options, jobs

    def generation_params(self, prompt: str | None = None) -> dict[str, Any]:
        """One job's parameters (for a batch, pass the prompt of that line)."""
        data = self.cleaned_data
        return {
            "provider": data["provider"],
            "prompt": prompt if prompt is not None else data["prompts"][0],
            "model": data["model"],
            "version": data["version"],
            "duration": data["duration"],
            "size": data["size"],
            "orientation": data.get("orientation") or "",
            "quality": data.get("quality") or "",
            "watermark": data.get("watermark") or "",
            "image_urls": data.get("image_urls") or [],
            "character_url": data.get("character_url") or "",
            "character_start": data.get("character_start"),
            "character_end": data.get("character_end"),
            # A saved character's stored clip; a freshly uploaded one is stored by characters.attach.
            "character_clip": data.get("character_stored") or "",
            "character": data.get("character"),
        }


def seconds_label(seconds: int) -> str:
    """The label of a length, as in "10 seconds", in the current language."""
    return ngettext("%(seconds)s second", "%(seconds)s seconds", seconds) % {"seconds": seconds}


def sentence(reason: str) -> str:
    """A reason ("25 seconds needs Sora 2 Pro") as a sentence of its own, with the language's full stop."""
    return gettext("%(reason)s.") % {"reason": reason}


def _reachable() -> bool:
    from django.conf import settings

    return bool(settings.PUBLIC_BASE_URL) or providers.is_simulated()


def _same_family(seconds: int, cap: Capability) -> bool:
    """Durations worth showing (disabled, with a reason) because they belong to this version."""
    if cap.version == "1.0":
        return seconds in (10, 15, 25)
    if cap.version == "2.0":
        return seconds in (4, 8, 12)
    return False


def _shape_of(size: str) -> str:
    """The shape of a pixel size such as 1280x720, landscape or portrait; "" for a quality (small, large)."""
    width, _, height = size.partition("x")
    if not (width.isdigit() and height.isdigit()):
        return ""
    return "landscape" if int(width) > int(height) else "portrait"


def _nearest_size(size: str, cap: Capability, shape: str) -> str:
    """The size of `cap` nearest to `size`, keeping the video's shape (landscape or portrait)."""
    if cap.version == "2.0":
        return "1280x720" if shape == "landscape" else cap.default_size
    return "large" if size in ("1024x1792", "1792x1024") and "large" in cap.sizes else cap.default_size
