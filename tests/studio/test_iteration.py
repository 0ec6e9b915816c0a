"""The iteration loop and the second provider, through the studio's views: Sora2API videos, variations,
batches, re-runs and edit & retry."""

from __future__ import annotations

import json
from typing import Any

from django.test import TestCase, override_settings
from django.urls import reverse

from sorastudio.simulator.models import SimTask
from sorastudio.studio import presenters
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Team
from tests.helpers import ACEDATA_FORM as V1
from tests.helpers import make_member, png_bytes, upload

S2 = {
    "provider": "sora2api",
    "prompt": "A kite over the dunes",
    "aspect_ratio": "portrait",
    "quality": "hd",
    "watermark": "Dune Studio",
}


class IterationTestCase(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)
        self.client.force_login(self.alice)

    def post(self, data: dict[str, Any], **headers: str) -> Any:
        return self.client.post(reverse("studio:generate"), data, headers=headers)


class Sora2APITests(IterationTestCase):
    def test_it_makes_a_sora2api_video_with_a_watermark(self) -> None:
        response = self.post(S2)
        self.assertEqual(response.status_code, 302)
        generation = Generation.objects.get()
        self.assertEqual((generation.provider, generation.state), ("sora2api", State.SUCCEEDED))
        self.assertEqual(
            (generation.orientation, generation.quality, generation.watermark),
            ("portrait", "hd", "Dune Studio"),
        )
        self.assertEqual((generation.version, generation.size, generation.duration), ("", "", 10))
        sent = SimTask.objects.get(pk=generation.upstream_task_id).request
        self.assertEqual(
            sent,
            {
                "prompt": "A kite over the dunes",
                "aspectRatio": "portrait",
                "quality": "hd",
                "watermark": "Dune Studio",
            },
        )
        self.assertLess(generation.width or 0, generation.height or 0)
        page = self.client.get(reverse("studio:generation", args=[generation.pk]))
        self.assertContains(page, "Sora2API")
        self.assertContains(page, "Dune Studio")
        path, _, body = page.context["api_call"].partition("\n")
        self.assertEqual(path, "POST /api/v1/sora2/generate")
        self.assertEqual(json.loads(body)["watermark"], "Dune Studio")

    def test_a_refusal_shows_up_after_an_accepted_submission(self) -> None:
        self.post({**S2, "prompt": "A real person at a desk"})
        generation = Generation.objects.get()
        self.assertEqual(generation.state, State.FAILED)
        self.assertTrue(generation.error_after_submit)
        self.assertIn("real person", presenters.explanation(generation))

    def test_it_refuses_a_long_watermark_and_version_one_options(self) -> None:
        response = self.post({**S2, "watermark": "x" * 51})
        self.assertEqual(response.status_code, 400)
        self.assertIn("watermark", response.context["form"].errors)
        response = self.post(
            {**S2, "character_url": "https://example.com/c.mp4", "character_start": "0", "character_end": "2"}
        )
        self.assertIn(
            "only available with AceDataCloud", " ".join(response.context["form"].errors["character_url"])
        )
        self.assertEqual(Generation.objects.count(), 0)

    @override_settings(SORA_PROVIDER="acedata", ACEDATA_API_KEY="k")
    def test_a_provider_without_a_key_is_not_offered_or_accepted(self) -> None:
        page = self.client.get(reverse("studio:index")).content.decode()
        self.assertNotIn("Sora2API", page)
        self.assertNotIn('name="provider"', page)
        response = self.post(S2)
        self.assertContains(response, "Sora2API is not set up in this studio", status_code=400)
        self.assertEqual(Generation.objects.count(), 0)

    def test_the_form_shows_each_providers_own_options(self) -> None:
        headers = {"HX-Request": "true", "HX-Target": "options"}
        sora2 = self.client.get(
            reverse("studio:compose_options"), {"provider": "sora2api"}, headers=headers
        ).content.decode()
        for present in ('name="quality"', 'name="aspect_ratio"', 'name="watermark"', "Sora2API"):
            self.assertIn(present, sora2)
        for absent in ('name="version"', 'name="size"', 'name="orientation"', 'name="character_url"'):
            self.assertNotIn(absent, sora2)
        acedata = self.client.get(
            reverse("studio:compose_options"), {"provider": "acedata"}, headers=headers
        ).content.decode()
        for present in ('name="version"', 'name="size"', 'name="orientation"', 'name="character_url"'):
            self.assertIn(present, acedata)
        self.assertNotIn('name="watermark"', acedata)

    def test_switching_to_sora2api_moves_an_impossible_length_silently(self) -> None:
        headers = {"HX-Request": "true", "HX-Target": "options"}
        html = self.client.get(
            reverse("studio:compose_options"), {"provider": "sora2api", "duration": "25"}, headers=headers
        ).content.decode()
        self.assertRegex(html, r'<option value="10"\s+selected')


class VariationTests(IterationTestCase):
    def test_four_variations_are_four_jobs_on_one_card(self) -> None:
        response = self.post({**V1, "variations": "4"}, **{"HX-Request": "true"})
        jobs = list(Generation.objects.order_by("variation"))
        self.assertEqual(len(jobs), 4)
        self.assertEqual({j.group for j in jobs}, {jobs[0].group})
        self.assertEqual([j.variation for j in jobs], [1, 2, 3, 4])
        self.assertEqual(len({j.upstream_task_id for j in jobs}), 4)
        html = response.content.decode()
        self.assertEqual(html.count('class="group-card"'), 1)
        self.assertIn("4 variations", html)
        gallery = self.client.get(reverse("studio:index")).content.decode()
        self.assertEqual(gallery.count('class="group-card"'), 1)
        self.assertEqual(gallery.count('<a class="poster"'), 4)
        ids = "&amp;".join(f"ids={j.pk}" for j in jobs)
        self.assertIn(f'href="{reverse("studio:compare")}?{ids}">Compare</a>', gallery)

    def test_variations_share_uploaded_images(self) -> None:

        self.post({**V1, "variations": "2", "images": [upload("a.png", png_bytes())]})
        files = {j.uploads.get().file.name for j in Generation.objects.all()}
        self.assertEqual(len(files), 1)


class BatchTests(IterationTestCase):
    def test_each_line_of_a_batch_is_its_own_job(self) -> None:
        prompts = [f"Scene {n}: a lantern in the fog" for n in range(1, 6)]
        response = self.post({**V1, "prompt": "\n".join(prompts) + "\n\n", "batch": "1"})
        self.assertEqual(response.status_code, 302)
        jobs = Generation.objects.all()
        self.assertEqual(sorted(j.prompt for j in jobs), prompts)
        self.assertEqual(len({j.batch for j in jobs}), 1)
        self.assertTrue(all(j.group is None for j in jobs))
        self.assertEqual(SimTask.objects.count(), 5)

    def test_without_batch_several_lines_are_one_prompt(self) -> None:
        self.post({**V1, "prompt": "line one\nline two"})
        self.assertEqual(Generation.objects.get().prompt, "line one\nline two")

    def test_a_submit_is_capped_at_twenty_videos(self) -> None:
        prompts = "\n".join(f"prompt {n}" for n in range(6))
        response = self.post({**V1, "prompt": prompts, "batch": "1", "variations": "4"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("24 videos at once", " ".join(response.context["form"].errors["prompt"]))
        self.assertEqual(Generation.objects.count(), 0)


class RerunTests(IterationTestCase):
    def test_a_rerun_repeats_exactly_and_links_to_its_parent(self) -> None:
        self.post({**S2})
        original = Generation.objects.get()
        response = self.client.post(
            reverse("studio:rerun", args=[original.pk]), headers={"HX-Request": "true"}
        )
        again = Generation.objects.exclude(pk=original.pk).get()
        self.assertEqual(again.params(), original.params())
        self.assertEqual(again.parent, original)
        self.assertEqual(again.state, State.SUCCEEDED)
        self.assertIn(f'id="card-{again.pk}"', response.content.decode())
        page = self.client.get(reverse("studio:generation", args=[again.pk]))
        self.assertContains(page, "Re-run of")

    def test_a_rerun_of_another_teams_video_is_not_found(self) -> None:
        self.post(V1)
        original = Generation.objects.get()
        carol = make_member("carol", Team.objects.create(name="Agency"))
        self.client.force_login(carol)
        self.assertEqual(self.client.post(reverse("studio:rerun", args=[original.pk])).status_code, 404)
        self.assertEqual(Generation.objects.count(), 1)

    def test_a_rerun_needs_post(self) -> None:
        self.post(V1)
        original = Generation.objects.get()
        self.assertEqual(self.client.get(reverse("studio:rerun", args=[original.pk])).status_code, 405)

    def test_edit_and_retry_works_from_a_finished_sora2api_video(self) -> None:
        self.post(S2)
        original = Generation.objects.get()
        html = self.client.get(reverse("studio:index"), {"from": str(original.pk)}).content.decode()
        self.assertIn(">A kite over the dunes</textarea>", html)
        self.assertRegex(html, r'<option value="sora2api"\s+selected')
        self.assertRegex(html, r'<option value="hd"\s+selected')
        self.assertRegex(html, r'<option value="portrait"\s+selected')
        self.assertIn('value="Dune Studio"', html)


class SignedLinkTests(IterationTestCase):
    def test_a_sora2api_upload_is_sent_as_a_signed_link_that_is_never_stored_or_shown(self) -> None:

        self.post({**S2, "images": [upload("a.png", png_bytes())]})
        generation = Generation.objects.get()
        sent = SimTask.objects.get(pk=generation.upstream_task_id).request["imageUrls"][0]
        self.assertRegex(sent, r"/references/[^/]{20,}$")
        self.assertEqual(self.client.get(sent.removeprefix("http://testserver")).status_code, 200)
        self.assertEqual(generation.sent_payload["imageUrls"], ["http://testserver/references/…"])
        page = self.client.get(reverse("studio:generation", args=[generation.pk])).content.decode()
        self.assertNotIn(sent.rsplit("/", 1)[1], page)
