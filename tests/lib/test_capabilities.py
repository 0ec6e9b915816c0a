"""The capability table is the single truth: for every provider, version, model, length and size, the form
and the simulator accept exactly what the table allows, and each refusal has a plain reason."""

from __future__ import annotations

import itertools

from django.http import QueryDict
from django.test import SimpleTestCase

from sorastudio.lib import capabilities
from sorastudio.lib.capabilities import ACEDATA, CAPABILITIES, SORA2API
from sorastudio.simulator.sora2api import validate_request as validate_sora2api
from sorastudio.simulator.views import validate_request as validate_acedata
from sorastudio.studio.forms import GenerationForm

BOTH = [ACEDATA, SORA2API]


def form_for(values: dict[str, object]) -> GenerationForm:
    data = QueryDict(mutable=True)
    data.update({k: str(v) for k, v in values.items()})
    return GenerationForm(data, usable=BOTH)


class AceDataMatrixTests(SimpleTestCase):
    def test_form_simulator_and_table_agree_on_every_length_and_size(self) -> None:
        checked = 0
        for (provider, version, model), cap in CAPABILITIES.items():
            if provider != ACEDATA:
                continue
            for duration, size in itertools.product(capabilities.ALL_DURATIONS, capabilities.SIZE_LABELS):
                allowed = duration in cap.durations and size in cap.sizes
                values = {
                    "provider": provider,
                    "version": version,
                    "model": model,
                    "prompt": "p",
                    "duration": duration,
                    "size": size,
                }
                with self.subTest(version=version, model=model, duration=duration, size=size):
                    form = form_for(values)
                    self.assertEqual(form.is_valid(), allowed, form.errors)
                    body = {
                        "model": model,
                        "prompt": "p",
                        "version": version,
                        "duration": duration,
                        "size": size,
                    }
                    self.assertEqual(validate_acedata(body) == "", allowed, validate_acedata(body))
                    if not allowed:
                        reasons = " ".join(str(e) for errors in form.errors.values() for e in errors)
                        self.assertTrue(reasons.strip())
                        self.assertNotIn("Select a valid choice", reasons)
                checked += 1
        self.assertEqual(checked, 4 * 6 * 6)

    def test_orientation_and_characters_belong_to_version_one(self) -> None:
        for (provider, version, model), cap in CAPABILITIES.items():
            if provider != ACEDATA:
                continue
            with self.subTest(version=version, model=model):
                body = {
                    "model": model,
                    "prompt": "p",
                    "version": version,
                    "orientation": "portrait",
                    "duration": cap.default_duration,
                }
                self.assertEqual(validate_acedata(body) == "", bool(cap.orientations))
                character = {
                    "model": model,
                    "prompt": "p",
                    "version": version,
                    "duration": cap.default_duration,
                    "character_url": "https://example.com/c.mp4",
                    "character_start": 1,
                    "character_end": 3,
                }
                self.assertEqual(validate_acedata(character) == "", cap.character)
                form = form_for(
                    {
                        "provider": ACEDATA,
                        "version": version,
                        "model": model,
                        "prompt": "p",
                        "character_url": "https://example.com/c.mp4",
                        "character_start": 1,
                        "character_end": 3,
                    }
                )
                self.assertEqual(form.is_valid(), cap.character, form.errors)

    def test_the_character_span_is_one_to_three_seconds(self) -> None:
        for start, end in itertools.product(range(0, 6), range(0, 8)):
            allowed = 1 <= end - start <= 3
            body = {
                "model": "sora-2",
                "prompt": "p",
                "character_url": "https://example.com/c.mp4",
                "character_start": start,
                "character_end": end,
            }
            form = form_for(
                {
                    "provider": ACEDATA,
                    "version": "1.0",
                    "model": "sora-2",
                    "prompt": "p",
                    "character_url": "https://example.com/c.mp4",
                    "character_start": start,
                    "character_end": end,
                }
            )
            with self.subTest(start=start, end=end):
                self.assertEqual(validate_acedata(body) == "", allowed)
                self.assertEqual(form.is_valid(), allowed)

    def test_every_disabled_choice_says_why(self) -> None:
        for (provider, version, model), cap in CAPABILITIES.items():
            form = form_for({"provider": provider, "version": version, "model": model})
            for option in [*form.duration_options(), *form.size_options()]:
                with self.subTest(provider=provider, version=version, model=model, option=option.value):
                    possible = option.value in map(str, cap.durations) or option.value in cap.sizes
                    self.assertEqual(option.reason == "", possible)

    def test_named_reasons_read_plainly(self) -> None:
        cap = capabilities.capability(ACEDATA, "1.0", "sora-2")
        assert cap is not None
        self.assertEqual(cap.why_not_duration(25), "25 seconds needs Sora 2 Pro")
        self.assertEqual(cap.why_not_size("large"), "HD needs Sora 2 Pro")


class Sora2APIMatrixTests(SimpleTestCase):
    def test_every_quality_and_aspect_ratio_is_accepted_and_nothing_else(self) -> None:
        cap = CAPABILITIES[(SORA2API, "", "sora-2")]
        for quality, aspect in itertools.product(
            ["standard", "hd", "ultra"], ["landscape", "portrait", "square"]
        ):
            allowed = quality in cap.qualities and aspect in cap.orientations
            body = {"prompt": "p", "quality": quality, "aspectRatio": aspect}
            with self.subTest(quality=quality, aspect=aspect):
                self.assertEqual(validate_sora2api(body) == "", allowed)
                form = form_for(
                    {"provider": SORA2API, "prompt": "p", "quality": quality, "aspect_ratio": aspect}
                )
                self.assertEqual(form.is_valid(), allowed, form.errors)

    def test_the_watermark_may_be_up_to_fifty_characters(self) -> None:
        for length in (0, 1, 50, 51):
            body = {"prompt": "p", "watermark": "w" * length}
            form = form_for({"provider": SORA2API, "prompt": "p", "watermark": "w" * length})
            with self.subTest(length=length):
                self.assertEqual(validate_sora2api(body) == "", length <= 50)
                self.assertEqual(form.is_valid(), length <= 50)
