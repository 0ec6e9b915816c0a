"""The studio's pages through Django's test client: login, team scoping, the form, playback and download."""

from __future__ import annotations

import base64
import io
import json
import logging
import re

from django.conf import settings
from django.db import connection
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from PIL import Image

from sorastudio.pipeline import tasks
from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Generation, GenerationImage, State
from sorastudio.teams.models import Team
from tests.helpers import VALID, make_member, png_bytes, read_body, upload


class StudioTestCase(TestCase):
    def setUp(self) -> None:
        self.studio = Team.objects.create(name="Studio")
        self.agency = Team.objects.create(name="Agency")
        self.alice = make_member("alice", self.studio)
        self.bob = make_member("bob", self.studio)
        self.carol = make_member("carol", self.agency)
        self.client.force_login(self.alice)

    def generate(self, **overrides: str) -> Generation:
        response = self.client.post(reverse("studio:generate"), {**VALID, **overrides})
        # .get: the context may be another page's, one the upstream answered while this request was served.
        form = (getattr(response, "context", None) or {}).get("form")
        self.assertEqual(response.status_code, 302, form and form.errors)
        return Generation.objects.latest("created_at")


class LoginTests(StudioTestCase):
    def test_it_sends_anonymous_visitors_to_the_login_page(self) -> None:
        generation = self.generate()
        anonymous = Client()
        for url in (
            reverse("studio:index"),
            reverse("studio:generation", args=[generation.pk]),
            reverse("studio:video", args=[generation.pk]),
            reverse("studio:poster", args=[generation.pk]),
        ):
            response = anonymous.get(url)
            self.assertEqual(response.status_code, 302, url)
            self.assertTrue(response["Location"].startswith("/accounts/login/"), url)

    def test_it_logs_in_and_out(self) -> None:
        anonymous = Client()
        page = anonymous.get(reverse("login"))
        self.assertContains(page, 'name="username"')
        wrong = anonymous.post(reverse("login"), {"username": "alice", "password": "wrong"})
        self.assertContains(wrong, "did not match")
        right = anonymous.post(reverse("login"), {"username": "alice", "password": "alice-pass-123"})
        self.assertRedirects(right, reverse("studio:index"))
        self.assertEqual(anonymous.post(reverse("logout")).status_code, 302)
        self.assertEqual(anonymous.get(reverse("studio:index")).status_code, 302)


class CreateTests(StudioTestCase):
    def test_it_shows_the_form_with_the_simulator_badge(self) -> None:
        response = self.client.get(reverse("studio:index"))
        self.assertContains(response, 'name="prompt"')
        self.assertContains(response, "Simulator")
        self.assertContains(response, 'hx-headers=\'{"X-CSRFToken"')

    def test_it_creates_a_job_that_runs_through_the_pipeline(self) -> None:
        generation = self.generate()
        self.assertEqual(generation.created_by, self.alice)
        self.assertEqual(generation.team, self.studio)
        self.assertEqual(generation.state, State.SUCCEEDED)
        page = self.client.get(reverse("studio:index"))
        self.assertContains(page, f'id="card-{generation.pk}"')
        self.assertContains(page, reverse("studio:video", args=[generation.pk]))

    def test_it_answers_an_htmx_submit_with_a_fresh_form_and_the_new_card(self) -> None:
        response = self.client.post(reverse("studio:generate"), VALID, headers={"HX-Request": "true"})
        generation = Generation.objects.get()
        html = response.content.decode()
        self.assertIn('id="compose"', html)
        self.assertIn('hx-swap-oob="afterbegin:#gallery"', html)
        self.assertIn(f'id="card-{generation.pk}"', html)
        self.assertNotIn("A paper boat in the rain</textarea>", html)  # the prompt is cleared
        self.assertIn('value="sora-2" selected', html)  # the options are kept
        self.assertIn("generation-created", response["HX-Trigger"])

    def test_it_refuses_an_empty_prompt_beside_the_field_and_creates_nothing(self) -> None:
        response = self.client.post(reverse("studio:generate"), {**VALID, "prompt": "  "})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Describe the video you want.", status_code=400)
        self.assertContains(response, 'id="err-prompt"', status_code=400)
        self.assertEqual(Generation.objects.count(), 0)

    def test_it_refuses_a_very_long_prompt_in_its_own_words_in_either_language(self) -> None:
        for language, message in (
            ("en", "Keep each prompt under 4000 characters."),
            ("zh-hans", "每条提示词请少于 4000 个字符。"),
        ):
            with self.subTest(language=language):
                response = self.client.post(
                    reverse("studio:generate"),
                    {**VALID, "prompt": "a" * 50_000},
                    headers={"Accept-Language": language},
                )
                beside = f'<p class="error" id="err-prompt">{message}</p>'
                self.assertContains(response, beside, status_code=400)
                self.assertNotContains(response, "Ensure this value", status_code=400)
        self.assertEqual(Generation.objects.count(), 0)

    def test_the_prompt_leaves_an_empty_submit_to_the_server_and_gives_the_counter_its_limit(self) -> None:
        page = self.client.get(reverse("studio:index")).content.decode()
        textarea = page[page.index('<textarea id="id_prompt"') :].split(">", 1)[0]
        self.assertNotIn("required", textarea.replace("aria-required", ""))
        self.assertIn('data-prompt-count data-most="4000"', page)

    def test_it_refuses_impossible_choices_with_plain_reasons(self) -> None:
        cases = [
            ({"duration": "25"}, "duration", "25 seconds needs Sora 2 Pro"),
            ({"size": "large"}, "size", "HD needs Sora 2 Pro"),
            (
                {"version": "2.0", "duration": "10", "size": "720x1280", "orientation": ""},
                "duration",
                "10 seconds is a version 1.0 length",
            ),
            (
                {"version": "2.0", "duration": "4", "size": "large", "orientation": ""},
                "size",
                "Version 2.0 takes a pixel size",
            ),
            (
                {"character_url": "https://example.com/c.mp4", "character_start": "1", "character_end": "6"},
                "character_end",
                "must last 1 to 3 seconds",
            ),
            ({"character_url": "https://example.com/c.mp4"}, "character_start", "Say where the character"),
            (
                {
                    "version": "2.0",
                    "duration": "4",
                    "size": "720x1280",
                    "orientation": "",
                    "character_url": "https://example.com/c.mp4",
                    "character_start": "1",
                    "character_end": "2",
                },
                "character_url",
                "only available with AceDataCloud version 1.0",
            ),
            ({"image_urls": "not a url"}, "image_urls", "is not a web address"),
            (
                {
                    "version": "2.0",
                    "duration": "4",
                    "size": "720x1280",
                    "orientation": "",
                    "image_urls": "https://example.com/a.png\nhttps://example.com/b.png",
                },
                "image_urls",
                "uses a single reference image",
            ),
        ]
        for overrides, field, message in cases:
            with self.subTest(field=field, message=message):
                response = self.client.post(reverse("studio:generate"), {**VALID, **overrides})
                self.assertEqual(response.status_code, 400)
                errors = response.context["form"].errors
                self.assertIn(field, errors)
                self.assertIn(message, " ".join(errors[field]))
                self.assertContains(response, message, status_code=400)
        self.assertEqual(Generation.objects.count(), 0)

    def test_it_keeps_what_was_typed_when_refusing(self) -> None:
        response = self.client.post(
            reverse("studio:generate"),
            {
                **VALID,
                "prompt": "my long careful prompt",
                "character_url": "https://example.com/c.mp4",
                "character_start": "2",
                "character_end": "9",
            },
        )
        self.assertContains(response, "my long careful prompt", status_code=400)
        self.assertContains(response, 'value="https://example.com/c.mp4"', status_code=400)
        self.assertContains(response, 'value="9"', status_code=400)

    def test_it_accepts_a_v2_video_with_a_pixel_size(self) -> None:
        generation = self.generate(version="2.0", duration="8", size="1280x720", orientation="")
        self.assertEqual((generation.version, generation.duration, generation.size), ("2.0", 8, "1280x720"))
        self.assertEqual(generation.orientation, "")
        self.assertEqual(generation.state, State.SUCCEEDED)
        self.assertGreater(generation.width or 0, generation.height or 0)

    def test_it_sends_uploaded_images_as_base64_after_the_urls(self) -> None:
        data = png_bytes()
        response = self.client.post(
            reverse("studio:generate"),
            {**VALID, "image_urls": "https://example.com/a.png", "images": [upload("sketch.png", data)]},
        )
        self.assertEqual(response.status_code, 302)
        generation = Generation.objects.get()
        stored = GenerationImage.objects.get(generation=generation)
        self.assertEqual(stored.content_type, "image/png")
        sent = SimTask.objects.get(pk=generation.upstream_task_id).request["image_urls"]
        self.assertEqual(sent[0], "https://example.com/a.png")
        self.assertEqual(sent[1], "data:image/png;base64," + base64.b64encode(data).decode())

    def test_it_refuses_files_that_are_not_images(self) -> None:
        cases = [
            (upload("notes.png", b"hello, I am text"), "not an image we can read"),
            (upload("cut.png", png_bytes(400, 400)[:200]), "not an image we can read"),
        ]
        buffer = io.BytesIO()
        Image.new("RGB", (10, 10)).save(buffer, format="BMP")
        cases.append((upload("old.bmp", buffer.getvalue(), "image/bmp"), "Use a PNG, JPEG or WebP"))
        for file, message in cases:
            with self.subTest(message=message):
                response = self.client.post(reverse("studio:generate"), {**VALID, "images": [file]})
                self.assertEqual(response.status_code, 400)
                self.assertIn(message, " ".join(response.context["form"].errors["images"]))
        self.assertEqual(Generation.objects.count(), 0)

    def test_it_refuses_a_post_without_a_csrf_token(self) -> None:
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(self.alice)
        self.assertEqual(strict.post(reverse("studio:generate"), VALID).status_code, 403)
        self.assertEqual(Generation.objects.count(), 0)


class AddressTests(StudioTestCase):
    """Each fragment has its own address, named by the element that asks for it; the pages keep theirs."""

    def test_the_submits_address_sends_a_visit_to_the_studio(self) -> None:
        # A refused plain submit leaves this address in the bar: the language switcher comes back to it.
        self.assertRedirects(self.client.get(reverse("studio:generate")), reverse("studio:index"))

    def test_the_form_names_the_addresses_of_its_submit_and_its_fragments(self) -> None:
        page = self.client.get(reverse("studio:index")).content.decode()
        self.assertIn(f'action="{reverse("studio:generate")}"', page)
        self.assertIn(f'hx-post="{reverse("studio:generate")}"', page)
        self.assertIn(f'hx-get="{reverse("studio:compose_options")}"', page)
        self.assertIn(f'hx-get="{reverse("studio:compose_cost")}"', page)
        self.assertIn(f'hx-get="{reverse("studio:compose_preset", args=["cinematic-landscape"])}"', page)
        self.assertIn(f'href="{reverse("studio:index")}?preset=cinematic-landscape#compose"', page)
        self.assertIn(f'hx-get="{reverse("studio:gallery_view")}"', page)

    def test_an_unknown_preset_is_not_found(self) -> None:
        self.assertEqual(self.client.get(reverse("studio:compose_preset", args=["no-such"])).status_code, 404)

    def test_the_page_is_the_page_even_for_htmx(self) -> None:
        headers = {"HX-Request": "true", "HX-Target": "options"}
        self.assertContains(self.client.get(reverse("studio:index"), headers=headers), "<html")
        generation = self.generate()
        page = self.client.get(
            generation.get_absolute_url(), headers={"HX-Request": "true", "HX-Target": "detail"}
        )
        self.assertContains(page, "<html")

    @override_settings(SIMULATOR_SECONDS=600)
    def test_a_live_card_and_a_live_panel_ask_for_themselves(self) -> None:
        generation = self.generate()
        card = reverse("studio:generation_card", args=[generation.pk])
        panel = reverse("studio:generation_panel", args=[generation.pk])
        self.assertContains(self.client.get(reverse("studio:index")), f'hx-get="{card}"')
        self.assertContains(self.client.get(generation.get_absolute_url()), f'hx-get="{panel}"')
        self.assertContains(self.client.get(card), f'hx-get="{card}"')
        self.assertContains(self.client.get(panel), f'hx-get="{panel}"')

    def test_the_prompts_found_push_the_address_of_the_search(self) -> None:
        page = self.client.get(reverse("studio:history")).content.decode()
        self.assertIn(f'hx-get="{reverse("studio:history_results")}"', page)
        found = self.client.get(
            reverse("studio:history_results"), {"q": "fox"}, headers={"HX-Request": "true"}
        )
        self.assertTrue(found.content.decode().lstrip().startswith('<div id="history-results">'))
        self.assertEqual(found["HX-Push-Url"], f"{reverse('studio:history')}?q=fox")


class FormOptionsTests(StudioTestCase):
    def options(self, **params: str) -> str:
        response = self.client.get(
            reverse("studio:compose_options"), params, headers={"HX-Request": "true", "HX-Target": "options"}
        )
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_it_offers_v1_lengths_and_explains_the_pro_only_ones(self) -> None:
        html = self.options(model="sora-2", version="1.0")
        self.assertIn('<option value="10"', html)
        self.assertIn("25 seconds needs Sora 2 Pro", html)
        self.assertIn('id="id_orientation"', html)
        self.assertIn('id="id_character_url"', html)
        self.assertNotIn("<html", html)

    def test_it_offers_v2_lengths_and_sizes_without_orientation_or_character(self) -> None:
        html = self.options(model="sora-2", version="2.0")
        for seconds in ("4", "8", "12"):
            self.assertIn(f'<option value="{seconds}"', html)
        for size in ("720x1280", "1280x720", "1024x1792", "1792x1024"):
            self.assertIn(f'<option value="{size}"', html)
        self.assertNotIn('id="id_orientation"', html)
        self.assertNotIn('id="id_character_url"', html)

    def test_it_moves_an_impossible_choice_and_says_so(self) -> None:
        html = self.options(model="sora-2", version="1.0", duration="25", size="large")
        self.assertIn("Length changed from 25 to 15 seconds: 25 seconds needs Sora 2 Pro.", html)
        self.assertRegex(html, r'<option value="15"\s+selected\s*>')
        self.assertIn("Size changed from HD to Standard", html)
        html = self.options(model="sora-2-pro", version="2.0", duration="15")
        self.assertIn("Length changed from 15 to 12 seconds", html)

    def test_it_keeps_the_videos_shape_across_services_and_versions(self) -> None:
        # v1.0 landscape HD to v2.0: a landscape pixel size, and the note says which.
        html = self.options(model="sora-2-pro", version="2.0", size="large", orientation="landscape")
        self.assertRegex(html, r'<option value="1280x720"\s+selected\s*>')
        self.assertIn("Size changed from HD to 1280 × 720", html)
        html = self.options(model="sora-2-pro", version="2.0", size="small", orientation="portrait")
        self.assertRegex(html, r'<option value="720x1280"\s+selected\s*>')
        # v2.0 portrait back to v1.0: portrait.
        html = self.options(model="sora-2", version="1.0", size="720x1280")
        self.assertRegex(html, r'<option value="portrait"\s+selected\s*>')
        # Sora2API's portrait aspect ratio to AceDataCloud 1.0: portrait.
        html = self.options(provider="acedata", model="sora-2", version="1.0", aspect_ratio="portrait")
        self.assertRegex(html, r'<option value="portrait"\s+selected\s*>')

    def test_it_works_without_javascript(self) -> None:
        response = self.client.get(
            reverse("studio:index"), {"model": "sora-2", "version": "2.0", "prompt": "x"}
        )
        self.assertContains(response, '<option value="1280x720"')
        self.assertContains(response, ">x</textarea>")


class ScopingTests(StudioTestCase):
    def test_a_teammate_sees_the_video_and_an_outsider_gets_404_everywhere(self) -> None:
        generation = self.generate()
        urls = [
            reverse("studio:generation", args=[generation.pk]),
            reverse("studio:video", args=[generation.pk]),
            reverse("studio:poster", args=[generation.pk]),
            reverse("studio:index") + f"?from={generation.pk}",
        ]
        teammate = Client()
        teammate.force_login(self.bob)
        for url in urls:
            self.assertEqual(teammate.get(url).status_code, 200, url)
        outsider = Client()
        outsider.force_login(self.carol)
        for url in urls:
            self.assertEqual(outsider.get(url).status_code, 404, url)
        self.assertNotContains(outsider.get(reverse("studio:index")), generation.prompt)

    def test_a_malformed_id_is_not_found(self) -> None:
        self.assertEqual(self.client.get(reverse("studio:index") + "?from=12").status_code, 404)
        self.assertEqual(self.client.get("/generations/12/").status_code, 404)


class PlaybackTests(StudioTestCase):
    def test_it_streams_the_video_with_range_support(self) -> None:
        generation = self.generate()
        url = reverse("studio:video", args=[generation.pk])
        whole = self.client.get(url)
        self.assertEqual(whole.status_code, 200)
        self.assertEqual(whole["Accept-Ranges"], "bytes")
        body = read_body(whole)
        self.assertEqual(len(body), generation.size_bytes)
        part = self.client.get(url, headers={"Range": "bytes=100-199"})
        self.assertEqual(part.status_code, 206)
        self.assertEqual(part["Content-Range"], f"bytes 100-199/{generation.size_bytes}")
        self.assertEqual(read_body(part), body[100:200])

    def test_it_seeks_as_a_player_does(self) -> None:
        """A player seeking asks for an open range from the new position, reads the end for the index,
        and keeps its copy's ETag in If-Range: each answer is the archived file's own bytes."""
        generation = self.generate()
        url = reverse("studio:video", args=[generation.pk])
        body = read_body(self.client.get(url))
        size, middle = len(body), len(body) // 2
        asked = {
            f"bytes={middle}-": (middle, size),
            "bytes=-1000": (size - 1000, size),
            f"bytes={size - 1}-{size + 50}": (size - 1, size),
        }
        for header, (first, end) in asked.items():
            with self.subTest(header):
                part = self.client.get(url, headers={"Range": header, "If-Range": f'"{generation.sha256}"'})
                self.assertEqual(part.status_code, 206)
                self.assertEqual(part["Content-Range"], f"bytes {first}-{end - 1}/{size}")
                self.assertEqual(read_body(part), body[first:end])
        stale = self.client.get(url, headers={"Range": f"bytes={middle}-", "If-Range": '"another-copy"'})
        self.assertEqual((stale.status_code, read_body(stale)), (200, body))
        beyond = self.client.get(url, headers={"Range": f"bytes={size}-"})
        self.assertEqual((beyond.status_code, beyond["Content-Range"]), (416, f"bytes */{size}"))

    def test_it_downloads_with_a_readable_name(self) -> None:
        generation = self.generate(prompt="A paper boat, in the rain!")
        response = self.client.get(reverse("studio:video", args=[generation.pk]) + "?download=1")
        self.assertEqual(response["Content-Type"], "video/mp4")
        self.assertIn("attachment", response["Content-Disposition"])
        self.assertIn("a-paper-boat-in-the-rain-sora-2-10s.mp4", response["Content-Disposition"])

    def test_it_serves_the_poster(self) -> None:
        generation = self.generate()
        response = self.client.get(reverse("studio:poster", args=[generation.pk]))
        self.assertEqual(response["Content-Type"], "image/jpeg")
        self.assertEqual(read_body(response)[:2], b"\xff\xd8")

    @override_settings(SIMULATOR_SECONDS=600)
    def test_a_live_card_polls_and_a_finished_one_does_not(self) -> None:
        generation = self.generate()
        self.assertEqual(generation.state, State.RUNNING)
        # Being made, past the service's own line (a job waiting in it shows no bar).
        Generation.objects.filter(pk=generation.pk).update(upstream_phase="processing")
        url = reverse("studio:generation_card", args=[generation.pk])
        headers = {"HX-Request": "true", "HX-Target": f"card-{generation.pk}"}
        live = self.client.get(url, headers=headers).content.decode()
        self.assertIn('hx-trigger="every 2s"', live)
        self.assertIn("<progress", live)
        self.assertEqual(self.client.get(reverse("studio:video", args=[generation.pk])).status_code, 404)

        SimTask.objects.filter(pk=generation.upstream_task_id).update(finishes_at=generation.created_at)
        tasks.step()
        done = self.client.get(url, headers=headers).content.decode()
        self.assertNotIn("hx-trigger", done)
        self.assertIn(f'<img src="{reverse("studio:poster", args=[generation.pk])}"', done)
        self.assertTrue(done.strip().startswith("<article"))

    @override_settings(SIMULATOR_SECONDS=600)
    def test_a_video_page_opened_while_live_gets_its_review_panel_and_file_when_it_ends(self) -> None:
        generation = self.generate()
        url = reverse("studio:generation", args=[generation.pk])
        page = self.client.get(url).content.decode()
        self.assertIn('<section id="review" hidden></section>', page)
        self.assertNotIn("SHA-256", page)
        headers = {"HX-Request": "true", "HX-Target": "detail"}
        panel = reverse("studio:generation_panel", args=[generation.pk])
        live = self.client.get(panel, headers=headers).content.decode()
        self.assertIn('hx-trigger="every 2s"', live)
        self.assertNotIn('id="review"', live)

        SimTask.objects.filter(pk=generation.upstream_task_id).update(finishes_at=generation.created_at)
        tasks.step()
        ended = self.client.get(panel, headers=headers).content.decode()
        self.assertTrue(ended.strip().startswith('<section id="detail"'))
        self.assertNotIn("hx-trigger", ended)
        self.assertRegex(ended, r'<section id="review" class="review"[^>]*hx-swap-oob="true">')
        self.assertIn("Ask for a review", ended)
        self.assertIn('<section id="facts" class="facts" hx-swap-oob="true">', ended)
        generation.refresh_from_db()
        self.assertIn(generation.sha256, ended)
        self.assertIn("Saved to the studio&#x27;s storage", ended)  # the timeline, as far as it has come
        self.assertEqual(ended.count("hx-swap-oob"), 2)  # the timeline comes within the facts, not apart


class FailureDisplayTests(StudioTestCase):
    def test_a_refusal_is_explained_with_its_code_and_trace_id(self) -> None:
        generation = self.generate(prompt="A real person dancing")
        self.assertEqual(generation.state, State.FAILED)
        page = self.client.get(reverse("studio:index")).content.decode()
        self.assertIn("seems to show a real person", page)
        self.assertIn("content_policy_violation", page)
        self.assertIn(generation.trace_id, page)
        self.assertIn(f"?from={generation.pk}", page)

    def test_it_leads_a_refused_card_with_its_words_and_edit_and_retry_and_keeps_the_codes_in_details(
        self,
    ) -> None:
        generation = self.generate(prompt="A real person dancing")
        pages = {
            "gallery": self.client.get(reverse("studio:index")).content.decode(),
            "video page": self.client.get(generation.get_absolute_url()).content.decode(),
        }
        for name, page in pages.items():
            with self.subTest(name):
                failure = page[page.index('<div class="failure"') :]
                failure = failure[: failure.index('<div class="actions">') + 2000]
                details = re.search(r'<details class="failure-details"[^>]*>(.*?)</details>', failure, re.S)
                assert details is not None
                explained = failure.index("seems to show a real person")
                self.assertLess(explained, details.start())
                for fact in ("content_policy_violation", generation.trace_id, generation.upstream_task_id):
                    self.assertIn(fact, details[1])
                    self.assertEqual(failure.count(fact), 1)  # nowhere else in the card: behind Details only
                self.assertIn("<summary>Details</summary>", details[1])
                self.assertRegex(
                    details[1], r'<button type="button" class="copy-details" data-copy hidden>Copy</button>'
                )
                # The actions: Edit & retry, the main one, before Re-run.
                self.assertLess(failure.index("Edit & retry"), failure.index(">Re-run<"))

    def test_it_leads_a_failed_card_with_re_run_and_keeps_the_codes_in_details(self) -> None:
        generation = self.generate(prompt="[sim:error] A kite over the sea")
        self.assertEqual(generation.state, State.FAILED)
        self.assertFalse(generation.refused)
        page = self.client.get(reverse("studio:index")).content.decode()
        failure = page[page.index('<div class="failure"') :]
        details = failure.index('<details class="failure-details"')
        self.assertLess(failure.index("<p>"), details)
        if generation.error_code:
            self.assertGreater(failure.index(generation.error_code), details)
        self.assertLess(failure.index(">Re-run<"), failure.index("Edit & retry"))

    def test_edit_and_retry_fills_the_form_with_the_same_parameters(self) -> None:
        generation = self.generate(
            prompt="A real person dancing",
            model="sora-2-pro",
            duration="25",
            size="large",
            orientation="portrait",
            image_urls="https://example.com/a.png",
        )
        form = self.client.get(reverse("studio:index"), {"from": str(generation.pk)}).context["form"]
        self.assertEqual(form.initial["prompt"], "A real person dancing")
        html = self.client.get(reverse("studio:index"), {"from": str(generation.pk)}).content.decode()
        for value in ("sora-2-pro", "25", "large", "portrait"):
            self.assertRegex(html, rf'<option value="{value}"\s+selected\s*>')
        self.assertIn("https://example.com/a.png</textarea>", html)

    def test_the_detail_page_shows_parameters_timeline_and_the_api_call(self) -> None:
        generation = self.generate()
        response = self.client.get(reverse("studio:generation", args=[generation.pk]))
        self.assertContains(response, "Show the API call")
        path, _, body = response.context["api_call"].partition("\n")
        self.assertEqual(path, "POST /sora/videos")
        self.assertEqual(json.loads(body)["model"], "sora-2")
        self.assertEqual(json.loads(body)["async"], True)
        self.assertContains(response, generation.sha256)
        self.assertContains(response, "Saved to the studio&#x27;s storage")


@override_settings(SORA_PROVIDER="acedata", ACEDATA_API_KEY="sk-live-very-secret", SIMULATOR_BASE_URL="x")
class SecretTests(StudioTestCase):
    def test_the_api_key_never_reaches_a_page_or_a_log(self) -> None:
        # The "real" upstream here is still the simulator (through the test transport).
        with self.assertLogs(level=logging.DEBUG) as logs:
            logging.getLogger("test").debug("start")
            generation = self.generate(prompt="A real person dancing")
            pages = [
                self.client.get(reverse("studio:index")),
                self.client.get(reverse("studio:generation", args=[generation.pk])),
                Client().get("/healthz"),
            ]
        for page in pages:
            self.assertNotIn("sk-live-very-secret", page.content.decode())
        self.assertNotIn("sk-live-very-secret", "\n".join(logs.output))
        self.assertFalse(generation.simulated)


class HealthTests(TestCase):
    def test_it_reports_database_queue_and_provider_without_login(self) -> None:
        response = Client().get("/healthz")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertTrue(body["ok"])
        self.assertTrue(body["checks"]["database"]["ok"])
        # `make test` runs once on SQLite with the ORM broker and once on PostgreSQL with Redis.
        self.assertEqual(body["checks"]["database"]["engine"], connection.vendor)
        self.assertEqual(body["checks"]["queue"]["broker"], "redis" if settings.REDIS_URL else "orm")
        for name in ("acedata", "sora2api"):
            self.assertTrue(body["checks"][f"provider:{name}"]["simulated"])


class HealthBehindAProxyTests(TestCase):
    @override_settings(ALLOWED_HOSTS=["studio.example.com"])
    def test_a_probe_on_an_internal_address_gets_an_answer(self) -> None:
        response = Client().get("/healthz", HTTP_HOST="127.0.0.1:8000")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.json()["ok"])
        self.assertEqual(response["Cache-Control"], "no-store")
        # Every other page still checks the host.
        self.assertEqual(Client().get("/accounts/login/", HTTP_HOST="127.0.0.1:8000").status_code, 400)

    def test_a_broken_broker_is_reported_as_json(self) -> None:
        from unittest import mock

        with mock.patch("django_q.brokers.get_broker", side_effect=ConnectionError("redis down")):
            response = Client().get("/healthz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["checks"]["queue"], {"ok": False, "error": "ConnectionError"})


class SessionEndTests(StudioTestCase):
    def test_a_card_polled_after_logout_sends_the_whole_page_to_the_login(self) -> None:
        generation = self.generate()
        self.client.logout()
        response = self.client.get(
            reverse("studio:generation_card", args=[generation.pk]),
            headers={"HX-Request": "true", "HX-Target": f"card-{generation.pk}"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["HX-Redirect"].startswith("/accounts/login/"))
        self.assertEqual(response.content, b"")
