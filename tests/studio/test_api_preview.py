"""The form's "Show the API call" under every setting it depends on (issue #12, item 12): it answered 500
whenever PUBLIC_BASE_URL was set, because an unsaved draft has no callback token to put in the address."""

from __future__ import annotations

import itertools
import json
from typing import Any

from django.test import TestCase, override_settings
from django.urls import reverse

from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Generation
from sorastudio.teams.models import Team
from tests.helpers import ACEDATA_FORM, make_job, make_member

PUBLIC = "https://studio.example.org"
ACEDATA_KEY = "fake-acedata-key-not-a-secret"
SORA2API_KEY = "fake-sora2api-key-not-a-secret"

# One valid draft per way of calling a provider, with the field its callback address goes in.
DRAFTS: dict[str, tuple[dict[str, str], str]] = {
    "acedata v1": ({k: v for k, v in ACEDATA_FORM.items() if k != "prompt"}, "callback_url"),
    "acedata v2": (
        {"provider": "acedata", "model": "sora-2", "version": "2.0", "duration": "8", "size": "720x1280"},
        "callback_url",
    ),
    "sora2api": ({"provider": "sora2api", "quality": "hd", "orientation": "portrait"}, "callBackUrl"),
}

SIMULATED: dict[str, Any] = {"SORA_PROVIDER": "simulator", "REAL_PROVIDERS": []}
# Live means real keys are configured: fake ones, and nothing in a preview may reach the network.
LIVE: dict[str, Any] = {
    "SORA_PROVIDER": "acedata,sora2api",
    "REAL_PROVIDERS": ["acedata", "sora2api"],
    "ACEDATA_API_KEY": ACEDATA_KEY,
    "SORA2API_API_KEY": SORA2API_KEY,
}


class ApiPreviewMatrixTests(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)
        self.client.force_login(self.alice)

    def preview(self, draft: dict[str, str]) -> tuple[Any, dict[str, Any]]:
        response = self.client.post(
            reverse("studio:api_preview"), {**draft, "prompt": "A paper boat in the rain"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("api_call", response.context, response.content.decode())
        _path, _, body = response.context["api_call"].partition("\n")
        return response, json.loads(body)

    def test_it_shows_the_call_with_and_without_callbacks_for_every_provider_simulated_and_live(self) -> None:
        for public, (name, (draft, field)), (mode, config) in itertools.product(
            ("", PUBLIC), DRAFTS.items(), (("simulated", SIMULATED), ("live", LIVE))
        ):
            with (
                self.subTest(public_base_url=public, call=name, mode=mode),
                override_settings(PUBLIC_BASE_URL=public, **config),
            ):
                response, body = self.preview(draft)
                provider = draft["provider"]
                if public:
                    # The address the job would get, with a stand-in where its secret token goes.
                    self.assertEqual(body[field], f"{PUBLIC}/callbacks/{provider}/…/")
                    self.assertNotIn("async", body)
                else:
                    self.assertNotIn(field, body)
                    if provider == "acedata":
                        self.assertIs(body["async"], True)
                html = response.content.decode()
                for key in (ACEDATA_KEY, SORA2API_KEY):
                    self.assertNotIn(key, html)
        self.assertEqual((Generation.objects.count(), SimTask.objects.count()), (0, 0))

    @override_settings(PUBLIC_BASE_URL=PUBLIC)
    def test_a_saved_job_shows_its_callback_address_without_its_token(self) -> None:
        generation = make_job(self.team, self.alice)
        page = self.client.get(generation.get_absolute_url()).content.decode()
        self.assertIn(f"{PUBLIC}/callbacks/acedata/…/", page)
        self.assertNotIn(generation.callback_token, page)
