"""Characters from a clip, through Django's test client: an uploaded clip goes upstream as a signed link that
serves it, bad clips are refused beside the field, characters are saved by name and reused within a team only,
and the clip links cannot be forged or outlive their week."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

from django.contrib import admin
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from sorastudio.lib import media
from sorastudio.simulator.models import SimTask
from sorastudio.simulator.render import render_video
from sorastudio.studio import characters
from sorastudio.studio.models import Character, Generation
from sorastudio.teams.models import Team
from tests.helpers import make_member, read_body

VALID = {
    "prompt": "A clay fox waving at the camera",
    "model": "sora-2",
    "version": "1.0",
    "duration": "10",
    "size": "small",
    "orientation": "landscape",
}
V2: dict[str, Any] = {**VALID, "version": "2.0", "duration": "4", "size": "720x1280", "orientation": ""}


class CharacterTestCase(TestCase):
    clips: ClassVar[Path]
    clip_bytes: ClassVar[bytes]
    long_clip_bytes: ClassVar[bytes]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.clips = Path(tempfile.mkdtemp(prefix="character-clips-"))
        cls.addClassCleanup(shutil.rmtree, cls.clips, ignore_errors=True)
        render_video(cls.clips / "fox.mp4", prompt="A clay fox", width=160, height=90, seconds=5)
        render_video(cls.clips / "long.mp4", prompt="A long one", width=64, height=36, seconds=62, fps=2)
        cls.clip_bytes = (cls.clips / "fox.mp4").read_bytes()
        cls.long_clip_bytes = (cls.clips / "long.mp4").read_bytes()

    def setUp(self) -> None:
        self.studio = Team.objects.create(name="Studio")
        self.agency = Team.objects.create(name="Agency")
        self.alice = make_member("alice", self.studio)
        self.carol = make_member("carol", self.agency)
        self.client.force_login(self.alice)

    def clip(self, name: str = "fox.mp4", content: bytes | None = None) -> SimpleUploadedFile:
        data = self.clip_bytes if content is None else content
        return SimpleUploadedFile(name, data, content_type="video/mp4")

    def post(self, client: Client | None = None, **fields: Any) -> Any:
        return (client or self.client).post(reverse("studio:generate"), {**VALID, **fields})

    def created(self, **fields: Any) -> Generation:
        response = self.post(**fields)
        context = getattr(response, "context", None)
        self.assertEqual(response.status_code, 302, context and context["form"].errors)
        return Generation.objects.latest("created_at")

    def refused(self, field: str, message: str, *, client: Client | None = None, **fields: Any) -> Any:
        response = self.post(client, **fields)
        self.assertEqual(response.status_code, 400)
        errors = response.context["form"].errors
        self.assertIn(field, errors, errors)
        self.assertIn(message, " ".join(errors[field]))
        self.assertContains(response, f'id="err-{field}"', status_code=400)
        return response

    def sent(self, generation: Generation) -> dict[str, Any]:
        generation.refresh_from_db()
        request: dict[str, Any] = SimTask.objects.get(pk=generation.upstream_task_id).request
        return request

    def fetch_clip(self, url: str) -> Any:
        """The clip behind a character_url, as the video service would fetch it: without logging in."""
        self.assertTrue(url.startswith("http://testserver/clips/"), url)
        return Client().get(url.removeprefix("http://testserver"))

    def stored_clips(self) -> list[str]:
        root = Path(default_storage.path("characters"))
        return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


class UploadedClipTests(CharacterTestCase):
    def test_an_uploaded_clip_goes_upstream_as_a_signed_link_that_serves_it(self) -> None:
        generation = self.created(character_clip=self.clip(), character_start="1", character_end="3")
        self.assertTrue((generation.character_clip.name or "").startswith("characters/"))
        self.assertEqual(generation.character_url, "")
        sent = self.sent(generation)
        self.assertEqual((sent["character_start"], sent["character_end"]), (1, 3))

        clip = self.fetch_clip(sent["character_url"])
        self.assertEqual(clip.status_code, 200)
        self.assertEqual(clip["Content-Type"], "video/mp4")
        self.assertEqual(read_body(clip), self.clip_bytes)
        # Players and fetchers ask for ranges.
        part = Client().get(
            sent["character_url"].removeprefix("http://testserver"), headers={"Range": "bytes=0-99"}
        )
        self.assertEqual(part.status_code, 206)
        self.assertEqual(read_body(part), self.clip_bytes[:100])

        # The job's page shows the call without the link's token, which is a week's access to the clip.
        self.assertRegex(generation.sent_payload["character_url"], r"^http://testserver/clips/…$")
        page = self.client.get(reverse("studio:generation", args=[generation.pk]))
        self.assertNotContains(page, sent["character_url"])

    def test_every_job_of_a_submit_shares_one_stored_clip_and_a_rerun_keeps_it(self) -> None:
        self.created(character_clip=self.clip(), character_start="2", character_end="4", variations="2")
        first, second = Generation.objects.order_by("variation")
        self.assertEqual(first.character_clip.name, second.character_clip.name)
        self.assertEqual(len(self.stored_clips()), 1)

        response = self.client.post(reverse("studio:rerun", args=[first.pk]))
        self.assertEqual(response.status_code, 302)
        again = Generation.objects.get(parent=first)
        self.assertEqual(again.character_clip.name, first.character_clip.name)
        sent = self.sent(again)
        self.assertEqual((sent["character_start"], sent["character_end"]), (2, 4))
        self.assertEqual(read_body(self.fetch_clip(sent["character_url"])), self.clip_bytes)

    def test_bad_clips_are_refused_beside_the_field_and_nothing_is_kept(self) -> None:
        cases = [
            (self.clip("notes.mp4", b"hello, I am text, not a video"), "not a video we can read"),
            (self.clip("cut.mp4", self.clip_bytes[: len(self.clip_bytes) // 2]), "not a video we can read"),
            (self.clip("long.mp4", self.long_clip_bytes), "lasts 62 seconds; use a clip of at most 60"),
            (self.clip("fox.gif", self.clip_bytes), "not an MP4, WebM or MOV video"),
            (self.clip("fox.webm", self.clip_bytes), "named .webm but holds another kind of video"),
        ]
        for upload, message in cases:
            with self.subTest(message=message):
                self.refused(
                    "character_clip",
                    message,
                    character_clip=upload,
                    character_start="1",
                    character_end="3",
                    character_name=f"Fox {message[:8]}",
                )
        self.assertEqual(Generation.objects.count(), 0)
        self.assertEqual(Character.objects.count(), 0)
        self.assertEqual(self.stored_clips(), [])

    def test_a_clip_over_50_mb_is_refused_before_it_is_read(self) -> None:
        upload = self.clip()
        upload.size = 51 * 1024 * 1024
        with (
            mock.patch.object(media, "probe_video") as probe,
            self.assertRaisesMessage(ValidationError, "fox.mp4 is larger than 50 MB"),
        ):
            characters.check_clip(upload)
        probe.assert_not_called()

    def test_the_part_must_be_1_to_3_seconds_within_the_clip(self) -> None:
        self.refused(
            "character_end",
            "must last 1 to 3 seconds (it is 4 now)",
            character_clip=self.clip(),
            character_start="0",
            character_end="4",
        )
        self.refused(
            "character_end",
            "The clip lasts only 5.0 seconds: the character's part must end by 5 s.",
            character_clip=self.clip(),
            character_start="4",
            character_end="6",
        )
        self.assertEqual(Generation.objects.count(), 0)

    def test_an_address_and_a_file_together_are_refused(self) -> None:
        self.refused(
            "character_clip",
            "Give the clip's address or pick a file, not both",
            character_url="https://example.com/fox.mp4",
            character_clip=self.clip(),
            character_start="1",
            character_end="3",
        )

    def test_without_a_public_address_an_upload_is_refused_plainly(self) -> None:
        with mock.patch("sorastudio.studio.forms._reachable", return_value=False):
            self.refused(
                "character_clip",
                "this studio has no public address. Give the clip's address instead",
                character_clip=self.clip(),
                character_start="1",
                character_end="3",
            )
            # An address needs nothing from the studio.
            generation = self.created(
                character_url="https://example.com/fox.mp4", character_start="1", character_end="3"
            )
        self.assertEqual(self.sent(generation)["character_url"], "https://example.com/fox.mp4")

    def test_characters_are_only_for_acedata_version_1(self) -> None:
        self.refused(
            "character_clip",
            "only available with AceDataCloud version 1.0",
            **V2,
            character_clip=self.clip(),
            character_start="1",
            character_end="3",
        )
        headers = {"HX-Request": "true", "HX-Target": "options"}
        v1 = self.client.get(
            reverse("studio:compose_options"), {"version": "1.0"}, headers=headers
        ).content.decode()
        self.assertIn('name="character_clip"', v1)
        self.assertIn("Clips showing real people are refused", v1)
        self.assertIn("Set start here", v1)
        self.assertIn('name="character_name"', v1)
        v2 = self.client.get(
            reverse("studio:compose_options"), {"version": "2.0"}, headers=headers
        ).content.decode()
        self.assertNotIn('name="character_clip"', v2)
        self.assertNotIn("Use a saved character", v2)


class SavedCharacterTests(CharacterTestCase):
    def test_a_named_character_is_saved_with_the_job_and_reused_by_choosing_it(self) -> None:
        first = self.created(
            character_clip=self.clip(), character_start="1", character_end="3", character_name="Clay Fox"
        )
        fox = Character.objects.get()
        self.assertEqual(
            (fox.team, fox.name, fox.start, fox.end, fox.created_by, fox.clip_url),
            (self.studio, "Clay Fox", 1, 3, self.alice, ""),
        )
        self.assertEqual(fox.clip.name, first.character_clip.name)
        self.assertEqual(first.character, fox)

        # The form lists it by name, with what it brings.
        page = self.client.get(reverse("studio:index")).content.decode()
        self.assertIn("Use a saved character", page)
        self.assertIn(f'<option value="{fox.pk}"', page)
        self.assertIn("Clay Fox (1–3 s)", page)

        # Chosen, it fills clip, start and end, whatever else was typed.
        second = self.created(
            character=str(fox.pk),
            character_url="https://example.com/another.mp4",
            character_start="0",
            character_end="9",
        )
        self.assertEqual(second.character, fox)
        self.assertEqual(second.character_clip.name, fox.clip.name)
        self.assertEqual(second.character_url, "")
        sent = self.sent(second)
        self.assertEqual((sent["character_start"], sent["character_end"]), (1, 3))
        self.assertEqual(read_body(self.fetch_clip(sent["character_url"])), self.clip_bytes)
        self.assertEqual(len(self.stored_clips()), 1)
        self.assertEqual(Character.objects.count(), 1)

        # "Edit & retry" comes back with the character chosen.
        again = self.client.get(reverse("studio:index"), {"from": str(second.pk)}).content.decode()
        self.assertIn(
            f'<option value="{fox.pk}" data-clip="{reverse("studio:saved_clip", args=[fox.pk])}"', again
        )
        self.assertRegex(again, rf'<option value="{fox.pk}"[^>]* selected>')

    def test_a_character_from_an_address_is_reused_with_that_address(self) -> None:
        self.created(
            character_url="https://example.com/owl.mp4",
            character_start="2",
            character_end="5",
            character_name="Paper Owl",
        )
        owl = Character.objects.get(name="Paper Owl")
        self.assertEqual(
            (owl.clip_url, owl.clip.name, owl.start, owl.end), ("https://example.com/owl.mp4", "", 2, 5)
        )
        generation = self.created(character=str(owl.pk))
        sent = self.sent(generation)
        self.assertEqual(
            (sent["character_url"], sent["character_start"], sent["character_end"]),
            ("https://example.com/owl.mp4", 2, 5),
        )

    def test_a_name_already_used_in_the_team_is_refused_plainly(self) -> None:
        Character.objects.create(
            team=self.studio, name="Clay Fox", clip_url="https://example.com/a.mp4", start=0, end=2
        )
        self.refused(
            "character_name",
            "Your team already has a character called “clay fox”. Choose another name",
            character_clip=self.clip(),
            character_start="1",
            character_end="3",
            character_name="clay fox",
        )
        self.assertEqual(Generation.objects.count(), 0)
        self.assertEqual(Character.objects.count(), 1)
        self.assertEqual(self.stored_clips(), [])

        # Another team may use the same name.
        carol = Client()
        carol.force_login(self.carol)
        response = self.post(
            carol,
            character_url="https://example.com/b.mp4",
            character_start="1",
            character_end="2",
            character_name="Clay Fox",
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Character.objects.filter(name="Clay Fox").count(), 2)

    def test_a_name_taken_at_the_last_moment_is_refused_and_the_clip_not_kept(self) -> None:
        form_check = mock.patch.object(characters, "name_taken", return_value=False)
        Character.objects.create(
            team=self.studio, name="Clay Fox", clip_url="https://example.com/a.mp4", start=0, end=2
        )
        with form_check:
            self.refused(
                "character_name",
                "already has a character called “Clay Fox”",
                character_clip=self.clip(),
                character_start="1",
                character_end="3",
                character_name="Clay Fox",
            )
        self.assertEqual(Generation.objects.count(), 0)
        self.assertEqual(self.stored_clips(), [])

    def test_a_name_needs_a_clip_and_a_chosen_character_needs_no_name(self) -> None:
        self.refused("character_name", "Add the character's clip to save it", character_name="Nobody")
        fox = Character.objects.create(
            team=self.studio, name="Clay Fox", clip_url="https://example.com/a.mp4", start=0, end=2
        )
        self.refused(
            "character_name", "“Clay Fox” is already saved", character=str(fox.pk), character_name="Fox 2"
        )

    def test_carol_of_another_team_cannot_use_alices_character(self) -> None:
        self.created(
            character_clip=self.clip(), character_start="1", character_end="3", character_name="Clay Fox"
        )
        fox = Character.objects.get()
        carol = Client()
        carol.force_login(self.carol)
        page = carol.get(reverse("studio:index")).content.decode()
        self.assertNotIn("Clay Fox", page)
        self.assertNotIn(str(fox.pk), page)
        for chosen in (str(fox.pk), "not-an-id", "00000000-0000-0000-0000-000000000000"):
            with self.subTest(chosen=chosen):
                self.refused(
                    "character", "There is no such character in your team", client=carol, character=chosen
                )
        self.assertEqual(Generation.objects.filter(team=self.agency).count(), 0)

    def test_it_is_in_the_admin(self) -> None:
        self.assertTrue(admin.site.is_registered(Character))
        self.assertTrue(admin.site.is_registered(Generation))


class KeptClipTests(CharacterTestCase):
    """ "Edit & retry" of a video made with an uploaded clip that was not saved as a character offers that
    clip again, with its times, instead of dropping it."""

    def setUp(self) -> None:
        super().setUp()
        self.first = self.created(character_clip=self.clip(), character_start="1", character_end="3")
        self.keep = f'<input type="checkbox" name="keep_clip" value="{self.first.pk}" checked>'

    def retry(self, **fields: Any) -> Generation:
        """The edit & retry form as it comes, sent again with `fields` changed."""
        form = self.client.get(reverse("studio:index"), {"from": str(self.first.pk)}).context["form"]
        data = {**VALID, **{k: v for k, v in form.initial.items() if v not in (None, "", [])}, **fields}
        return self.created(**data)

    def test_edit_and_retry_offers_the_clip_with_its_times(self) -> None:
        page = self.client.get(reverse("studio:index"), {"from": str(self.first.pk)}).content.decode()
        self.assertIn(self.keep, page)
        self.assertIn("Keep the clip uploaded for the earlier video (fox.mp4)", page)
        self.assertIn('id="id_character_start"', page)
        self.assertRegex(page, r'name="character_start"[^>]*value="1"')

    def test_the_kept_clip_goes_upstream_again_without_a_second_copy(self) -> None:
        again = self.retry(prompt="The clay fox, waving again")
        self.assertEqual(again.character_clip.name, self.first.character_clip.name)
        sent = self.sent(again)
        self.assertEqual((sent["character_start"], sent["character_end"]), (1, 3))
        self.assertEqual(read_body(self.fetch_clip(sent["character_url"])), self.clip_bytes)
        self.assertEqual(len(self.stored_clips()), 1)

    def test_a_kept_clip_can_be_saved_as_a_character(self) -> None:
        again = self.retry(character_name="Clay Fox")
        fox = Character.objects.get()
        self.assertEqual(
            (fox.name, fox.clip.name, fox.start, fox.end), ("Clay Fox", again.character_clip.name, 1, 3)
        )

    def test_a_kept_clip_on_version_2_is_refused_beside_the_clip(self) -> None:
        self.refused(
            "character_url",
            "Characters are only available with AceDataCloud version 1.0.",
            keep_clip=str(self.first.pk),
            version="2.0",
            size="1280x720",
            duration="4",
            character_start="1",
            character_end="3",
        )

    def test_unticked_or_another_teams_clip_is_not_used(self) -> None:
        for label, keep in (("unticked", ""), ("another team's", str(self.first.pk))):
            with self.subTest(label):
                client = self.client
                if label != "unticked":
                    client = Client()
                    client.force_login(self.carol)
                self.refused(
                    "character_url",
                    "Add the character clip (an address or a file), or clear the times.",
                    client=client,
                    keep_clip=keep,
                    character_start="1",
                    character_end="3",
                )


class TeamClipTests(CharacterTestCase):
    """The studio's own pages play a stored clip through login-only, team-scoped views: its signed link,
    which opens it for a week without a login, goes to the video service and nowhere else."""

    def setUp(self) -> None:
        super().setUp()
        self.generation = self.created(
            character_clip=self.clip(), character_start="1", character_end="3", character_name="Clay Fox"
        )
        self.fox = Character.objects.get()
        self.urls = {
            "video": reverse("studio:generation_clip", args=[self.generation.pk]),
            "saved character": reverse("studio:saved_clip", args=[self.fox.pk]),
        }

    def test_it_plays_the_clip_to_the_team_with_seeking(self) -> None:
        for label, url in self.urls.items():
            with self.subTest(label):
                response = self.client.get(url, headers={"Range": "bytes=100-199"})
                self.assertEqual(response.status_code, 206)
                self.assertEqual(response["Content-Type"], "video/mp4")
                self.assertEqual(read_body(response), self.clip_bytes[100:200])

    def test_it_is_not_found_outside_the_team_nor_without_a_login(self) -> None:
        carol = Client()
        carol.force_login(self.carol)
        for label, url in self.urls.items():
            with self.subTest(label):
                self.assertEqual(carol.get(url).status_code, 404)
                self.assertEqual(Client().get(url).status_code, 302)

    def test_no_page_shows_the_signed_link(self) -> None:
        form = self.client.get(reverse("studio:index")).content.decode()
        self.assertIn(f'data-clip="{self.urls["saved character"]}"', form)
        page = self.client.get(self.generation.get_absolute_url()).content.decode()
        self.assertIn(f'<a href="{self.urls["video"]}">fox.mp4 (1–3 s)</a>', page)
        for html in (form, page):
            # Only the API call's copy, without its token.
            self.assertNotIn("/clips/", html.replace("/clips/\u2026", ""))


class ClipLinkTests(CharacterTestCase):
    def setUp(self) -> None:
        super().setUp()
        generation = self.created(character_clip=self.clip(), character_start="1", character_end="3")
        self.name = generation.character_clip.name or ""

    def test_a_signed_link_serves_the_clip_to_anyone(self) -> None:
        response = Client().get(characters.clip_path(self.name))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(read_body(response), self.clip_bytes)

    def test_forged_expired_and_stray_links_are_not_found(self) -> None:
        good = characters.clip_path(self.name).removeprefix("/clips/")
        week_ago = time.time() - characters.CLIP_LINK_SECONDS - 60
        with mock.patch("django.core.signing.time.time", return_value=week_ago):
            expired = signing.dumps(self.name, salt="character-clip")
        tokens = {
            "nonsense": "nonsense",
            "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
            "another salt": signing.dumps(self.name, salt="reference-image"),
            "expired": expired,
            "outside the clips": signing.dumps("videos/2026/01/secret.mp4", salt="character-clip"),
            "climbing out": signing.dumps("characters/../../studio.sqlite3", salt="character-clip"),
            "missing": signing.dumps("characters/2026/01/gone.mp4", salt="character-clip"),
        }
        for label, token in tokens.items():
            with self.subTest(label):
                self.assertEqual(Client().get(reverse("character_clip", args=[token])).status_code, 404)
