"""Presets, the prompt history and the form's "Show the API call": tools that help write the next prompt."""

from __future__ import annotations

import json

from django.test import TestCase
from django.urls import reverse

from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Generation
from sorastudio.studio.presets import BY_SLUG
from sorastudio.teams.models import Team
from tests.helpers import ACEDATA_FORM as V1
from tests.helpers import make_member


class PromptToolsTestCase(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)
        self.bob = make_member("bob", self.team)
        self.client.force_login(self.alice)


class PresetTests(PromptToolsTestCase):
    def test_a_preset_fills_the_options_and_a_prompt_skeleton(self) -> None:
        response = self.client.get(reverse("studio:index"), {"preset": "vertical-product"})
        html = response.content.decode()
        self.assertIn("A [product] standing on a [surface]", html)
        self.assertRegex(html, r'<option value="2.0"\s+selected')
        self.assertRegex(html, r'<option value="720x1280"\s+selected')
        self.assertRegex(html, r'<option value="8"\s+selected')

    def test_a_preset_keeps_a_prompt_already_typed_and_answers_htmx_with_the_form(self) -> None:
        response = self.client.get(
            reverse("studio:compose_preset", args=["cinematic-landscape"]),
            {"prompt": "my own words"},
            headers={"HX-Request": "true", "HX-Target": "compose"},
        )
        html = response.content.decode()
        self.assertTrue(html.strip().startswith('<form id="compose"'))
        self.assertIn(">my own words</textarea>", html)
        self.assertRegex(html, r'<option value="sora-2-pro"\s+selected')
        self.assertIn("Cinematic landscape", html)  # the preset chips stay on the re-rendered form

    def test_every_preset_is_a_valid_request(self) -> None:
        for slug, preset in BY_SLUG.items():
            with self.subTest(slug):
                data = {k: str(v) for k, v in preset.initial().items()}
                response = self.client.post(reverse("studio:api_preview"), data)
                self.assertIn("api_call", response.context, response.content.decode())


class HistoryTests(PromptToolsTestCase):
    def test_it_lists_my_prompts_once_each_newest_first_and_searches_them(self) -> None:
        for prompt in ("a fox in snow", "a lighthouse at night", "a fox in snow"):
            self.client.post(reverse("studio:generate"), {**V1, "prompt": prompt})
        self.client.force_login(self.bob)
        self.client.post(reverse("studio:generate"), {**V1, "prompt": "bob's secret fox"})
        self.client.force_login(self.alice)

        page = self.client.get(reverse("studio:history")).content.decode()
        self.assertEqual(page.count("a fox in snow</p>"), 1)
        self.assertIn("used 2 times", page)
        self.assertLess(page.index("a fox in snow"), page.index("a lighthouse at night"))
        self.assertNotIn("bob&#x27;s secret fox", page)

        found = self.client.get(
            reverse("studio:history_results"),
            {"q": "LIGHT"},
            headers={"HX-Request": "true", "HX-Target": "history-results"},
        ).content.decode()
        self.assertIn("a lighthouse at night", found)
        self.assertNotIn("a fox in snow", found)
        self.assertTrue(found.strip().startswith('<div id="history-results">'))
        latest = Generation.objects.filter(prompt="a lighthouse at night").get()
        self.assertIn(f"?from={latest.pk}", found)

    def test_it_says_so_when_nothing_matches(self) -> None:
        self.assertContains(
            self.client.get(reverse("studio:history"), {"q": "zebra"}), "None of your prompts"
        )


class ApiPreviewTests(PromptToolsTestCase):
    def test_it_shows_the_call_that_would_be_sent_and_creates_nothing(self) -> None:
        response = self.client.post(reverse("studio:api_preview"), {**V1, "variations": "2"})
        path, _, body = response.context["api_call"].partition("\n")
        self.assertEqual(path, "POST /sora/videos")
        self.assertEqual(json.loads(body)["prompt"], "A paper boat in the rain")
        self.assertContains(response, "once for each of the 2 videos")
        self.assertEqual((Generation.objects.count(), SimTask.objects.count()), (0, 0))

    def test_it_shows_a_sora2api_call(self) -> None:
        response = self.client.post(
            reverse("studio:api_preview"),
            {"provider": "sora2api", "prompt": "a kite", "quality": "hd", "watermark": "W"},
        )
        path, _, body = response.context["api_call"].partition("\n")
        self.assertEqual(path, "POST /api/v1/sora2/generate")
        self.assertEqual(
            json.loads(body),
            {"prompt": "a kite", "aspectRatio": "landscape", "quality": "hd", "watermark": "W"},
        )

    def test_it_asks_to_fix_the_form_first(self) -> None:
        response = self.client.post(reverse("studio:api_preview"), {**V1, "duration": "25"})
        self.assertContains(response, "Fix the fields marked in the form first")
        self.assertContains(response, "25 seconds needs Sora 2 Pro")

    def test_it_needs_csrf_like_every_post(self) -> None:
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        strict.force_login(self.alice)
        self.assertEqual(strict.post(reverse("studio:api_preview"), V1).status_code, 403)
