"""Deleting videos (one, or several ticked in the gallery), the trash an admin restores them from, and the
purge of what has been in the trash longer than the team keeps it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from sorastudio.pipeline import submit, tasks
from sorastudio.studio.models import Character, Event, Generation, GenerationImage, State
from tests.helpers import TeamTestCase, make_finished, make_row

HTMX = {"HX-Request": "true"}


class TrashTestCase(TeamTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.agency.trash_days = 7
        cls.agency.save()

    def setUp(self) -> None:
        self.video = make_finished(self.studio, self.alice, "A paper boat in the rain")

    def said(self, response: Any) -> list[str]:
        return [str(m) for m in get_messages(response.wsgi_request)]

    def in_trash(self, video: Generation) -> bool:
        return Generation.objects.get(pk=video.pk).deleted_at is not None

    def deleted_long_ago(self, video: Generation, days: int) -> None:
        video.soft_delete(self.dana)
        Generation.objects.filter(pk=video.pk).update(deleted_at=timezone.now() - timedelta(days=days))

    def live(self, prompt: str = "Still going") -> Generation:
        return make_row(self.studio, self.alice, prompt, state=State.RUNNING)


class DeleteTests(TrashTestCase):
    def url(self, video: Generation | None = None) -> str:
        return reverse("studio:delete", args=[(video or self.video).pk])

    def test_the_maker_moves_a_video_to_the_trash(self) -> None:
        response = self.as_(self.alice).post(self.url(), headers={"Referer": "http://testserver/?q=boat"})
        self.assertRedirects(response, "http://testserver/?q=boat", fetch_redirect_response=False)
        self.assertTrue(self.in_trash(self.video))
        until = timezone.localdate() + timedelta(days=30)
        self.assertEqual(len(self.said(response)), 1)
        self.assertIn("1 video went to the trash. An admin can restore it until", self.said(response)[0])
        self.assertIn(str(until.year), self.said(response)[0])
        event = Event.objects.get(generation=self.video, kind="deleted")
        self.assertEqual(event.actor, self.alice)
        self.assertNotContains(self.as_(self.alice).get(reverse("studio:index")), "A paper boat in the rain")

    def test_another_creator_or_reviewer_may_not_and_an_admin_may(self) -> None:
        self.assertEqual(self.as_(self.bob).post(self.url()).status_code, 403)
        self.assertFalse(self.in_trash(self.video))
        self.assertEqual(self.as_(self.dana).post(self.url()).status_code, 302)
        self.assertEqual(Generation.objects.get(pk=self.video.pk).deleted_by, self.dana)

    def test_an_outsider_gets_404(self) -> None:
        self.assertEqual(self.as_(self.carol).post(self.url()).status_code, 404)
        self.assertFalse(self.in_trash(self.video))

    def test_htmx_replaces_the_card_with_a_note(self) -> None:
        response = self.as_(self.alice).post(self.url(), headers=HTMX)
        body = response.content.decode().strip()
        self.assertTrue(
            body.startswith(f'<article class="card removed" id="card-{self.video.pk}" role="status">')
        )
        self.assertIn("1 video went to the trash", body)
        self.assertEqual(self.said(response), [])  # said on the spot, not again on the next page

    def test_a_video_still_being_made_is_not_deleted(self) -> None:
        running = self.live()
        response = self.as_(self.alice).post(self.url(running))
        self.assertEqual(response.status_code, 302)
        self.assertFalse(self.in_trash(running))
        self.assertEqual(
            self.said(response), ["This video is still being made: delete it once it has finished."]
        )
        refreshed = self.as_(self.alice).post(self.url(running), headers=HTMX)
        self.assertEqual(refreshed["HX-Refresh"], "true")

    def test_only_a_post_deletes(self) -> None:
        self.assertEqual(self.as_(self.alice).get(self.url()).status_code, 405)


class BulkDeleteTests(TrashTestCase):
    url = reverse("studio:bulk_delete")

    def test_a_creator_deletes_their_own_finished_videos_and_is_told_about_the_rest(self) -> None:
        second = make_finished(self.studio, self.alice, "A kite")
        bobs = make_finished(self.studio, self.bob, "Bob's lighthouse")
        running = self.live()
        chosen = [self.video, second, bobs, running]
        response = self.as_(self.alice).post(self.url, {"ids": [v.pk for v in chosen]})
        self.assertRedirects(response, reverse("studio:index"))
        self.assertEqual([self.in_trash(v) for v in chosen], [True, True, False, False])
        said = self.said(response)
        self.assertIn("2 videos went to the trash. An admin can restore them until", said[0])
        self.assertEqual(
            said[1:],
            [
                "1 video is still being made, so it was not deleted.",
                "1 video was made by someone else, so it was not deleted: only an admin can.",
            ],
        )

    def test_an_admin_deletes_anyones(self) -> None:
        bobs = make_finished(self.studio, self.bob, "Bob's lighthouse")
        self.as_(self.dana).post(self.url, {"ids": [self.video.pk, bobs.pk]})
        self.assertTrue(self.in_trash(self.video))
        self.assertTrue(self.in_trash(bobs))

    def test_any_id_that_is_not_one_of_the_teams_visible_videos_is_404_and_nothing_is_deleted(self) -> None:
        theirs = make_finished(self.agency, self.carol, "Agency's video")
        trashed = make_finished(self.studio, self.alice, "Old")
        trashed.soft_delete(self.alice)
        for other in (theirs.pk, trashed.pk, "2f1e0c3a-0000-4000-8000-000000000000", "not-an-id"):
            with self.subTest(other=other):
                response = self.as_(self.dana).post(self.url, {"ids": [self.video.pk, other]})
                self.assertEqual(response.status_code, 404)
                self.assertFalse(self.in_trash(self.video))

    def test_nothing_ticked_says_so(self) -> None:
        response = self.as_(self.alice).post(self.url)
        self.assertRedirects(response, reverse("studio:index"))
        self.assertEqual(self.said(response), ["Tick one or more videos first."])


class TrashPageTests(TrashTestCase):
    def test_it_is_for_admins_only(self) -> None:
        for user in (self.alice, self.bob):
            with self.subTest(user=user.username):
                self.assertEqual(self.as_(user).get(reverse("studio:trash")).status_code, 403)

    def test_it_lists_the_deleted_videos_with_who_when_and_the_purge_date(self) -> None:
        self.video.soft_delete(self.alice)
        kept = make_finished(self.studio, self.alice, "A kite over the dunes")
        theirs = make_finished(self.agency, self.carol, "Agency's draft")
        theirs.soft_delete(self.carol)
        page = self.as_(self.dana).get(reverse("studio:trash"))
        self.assertContains(page, "A paper boat in the rain")
        self.assertNotContains(page, kept.prompt)
        self.assertNotContains(page, theirs.prompt)
        self.assertContains(page, "Deleted by alice")
        purge = self.video.purge_after()
        self.assertContains(page, f"Purged on {date_format(purge)}")
        self.assertContains(page, f'action="{reverse("studio:restore", args=[self.video.pk])}"')
        self.assertContains(page, f'src="{reverse("studio:poster", args=[self.video.pk])}?trash=1"')

    def test_an_empty_trash_says_so(self) -> None:
        self.assertContains(self.as_(self.dana).get(reverse("studio:trash")), "The trash is empty.")


class RestoreTests(TrashTestCase):
    def url(self) -> str:
        return reverse("studio:restore", args=[self.video.pk])

    def test_an_admin_restores_within_the_retention_period(self) -> None:
        self.deleted_long_ago(self.video, days=29)
        response = self.as_(self.dana).post(self.url())
        self.assertRedirects(response, reverse("studio:trash"))
        self.assertFalse(self.in_trash(self.video))
        self.assertEqual(self.said(response), ["“A paper boat in the rain” is back in the gallery."])
        self.assertContains(self.as_(self.alice).get(reverse("studio:index")), "A paper boat in the rain")
        self.assertEqual(Event.objects.get(generation=self.video, kind="restored").actor, self.dana)

    def test_after_the_retention_period_it_says_it_is_too_late(self) -> None:
        self.deleted_long_ago(self.video, days=31)
        response = self.as_(self.dana).post(self.url())
        self.assertRedirects(response, reverse("studio:trash"))
        self.assertTrue(self.in_trash(self.video))
        self.assertIn("it can no longer be restored", self.said(response)[0])
        self.assertContains(self.as_(self.dana).get(reverse("studio:trash")), "Past the retention period")

    def test_only_an_admin_of_the_team_restores(self) -> None:
        self.video.soft_delete(self.alice)
        self.assertEqual(self.as_(self.alice).post(self.url()).status_code, 403)
        self.assertEqual(self.as_(self.bob).post(self.url()).status_code, 403)
        self.assertEqual(self.as_(self.carol).post(self.url()).status_code, 404)
        self.assertTrue(self.in_trash(self.video))

    def test_a_video_not_in_the_trash_is_404(self) -> None:
        self.assertEqual(self.as_(self.dana).post(self.url()).status_code, 404)


class DeletedVideoTests(TrashTestCase):
    def test_a_deleted_video_is_404_everywhere_but_the_trash(self) -> None:
        image = GenerationImage.objects.create(
            generation=self.video, file=ContentFile(b"\x89PNG fake", name="ref.png"), content_type="image/png"
        )
        self.video.soft_delete(self.alice)
        pk = self.video.pk
        urls = [
            reverse("studio:generation", args=[pk]),
            reverse("studio:video", args=[pk]),
            f"{reverse('studio:video', args=[pk])}?download=1",
            reverse("studio:poster", args=[pk]),
            reverse("studio:upload_image", args=[pk, image.pk]),
            image.public_url(),
        ]
        for user in (self.alice, self.dana):
            for url in urls:
                with self.subTest(user=user.username, url=url):
                    self.assertEqual(self.as_(user).get(url).status_code, 404)
        card_url = reverse("studio:generation_card", args=[pk])
        card = self.as_(self.alice).get(card_url, headers={**HTMX, "HX-Target": f"card-{pk}"})
        self.assertEqual(card.status_code, 404)

    def test_its_poster_is_shown_in_the_trash_to_admins_only(self) -> None:
        self.video.soft_delete(self.alice)
        poster = f"{reverse('studio:poster', args=[self.video.pk])}?trash=1"
        self.assertEqual(self.as_(self.dana).get(poster).status_code, 200)
        self.assertEqual(self.as_(self.alice).get(poster).status_code, 404)
        self.assertEqual(self.as_(self.carol).get(poster).status_code, 404)
        visible = make_finished(self.studio, self.alice, "Not deleted")
        self.assertEqual(
            self.as_(self.dana).get(f"{reverse('studio:poster', args=[visible.pk])}?trash=1").status_code, 404
        )


class PurgeTests(TrashTestCase):
    def files(self, video: Generation) -> list[str | None]:
        names = [video.video.name, video.poster.name, video.character_clip.name]
        names += [image.file.name for image in video.uploads.all()]
        return [name for name in names if name]

    def exists(self, names: list[str | None]) -> list[bool]:
        return [default_storage.exists(str(name)) for name in names]

    def purge(self) -> int:
        with self.captureOnCommitCallbacks(execute=True):
            return Generation.objects.purge_expired()

    def test_it_purges_what_is_past_its_teams_retention_with_its_files(self) -> None:
        old = self.video
        recent = make_finished(self.studio, self.alice, "Deleted last week")
        theirs = make_finished(self.agency, self.carol, "Agency's, deleted ten days ago")
        self.deleted_long_ago(old, days=31)
        self.deleted_long_ago(recent, days=7)
        self.deleted_long_ago(theirs, days=10)  # Agency keeps its trash for 7 days
        gone = self.files(old) + self.files(theirs)
        self.assertEqual(self.exists(gone), [True] * 4)

        self.assertEqual(self.purge(), 2)
        self.assertEqual(set(Generation.objects.values_list("pk", flat=True)), {recent.pk})
        self.assertEqual(self.exists(gone), [False] * 4)
        self.assertEqual(self.exists(self.files(recent)), [True, True])
        self.assertEqual(self.purge(), 0)

    def test_it_keeps_the_files_another_video_still_uses(self) -> None:
        original = self.video
        original.character_clip.save("clip.mp4", ContentFile(b"clip"), save=True)
        GenerationImage.objects.create(
            generation=original, file=ContentFile(b"\x89PNG fake", name="ref.png"), content_type="image/png"
        )
        # A re-run shares the uploaded image and the clip; a saved character shares the clip too.
        again = submit.rerun(original, self.alice, simulated=True)
        Character.objects.create(
            team=self.studio, name="Captain", clip=original.character_clip.name, start=0, end=2
        )
        shared = [original.character_clip.name, original.uploads.get().file.name]
        own = [original.video.name, original.poster.name]
        self.assertEqual(self.files(again), shared)

        self.deleted_long_ago(original, days=40)
        self.assertEqual(self.purge(), 1)
        self.assertEqual(self.exists(own), [False, False])
        self.assertEqual(self.exists(shared), [True, True])

        Generation.objects.filter(pk=again.pk).update(state=State.FAILED)
        Character.objects.all().delete()
        self.deleted_long_ago(Generation.objects.get(pk=again.pk), days=40)
        self.assertEqual(self.purge(), 1)
        self.assertEqual(self.exists(shared), [False, False])

    def test_the_one_minute_tick_purges(self) -> None:
        self.deleted_long_ago(self.video, days=31)
        with self.captureOnCommitCallbacks(execute=True):
            tasks.tick()
        self.assertFalse(Generation.objects.filter(pk=self.video.pk).exists())
