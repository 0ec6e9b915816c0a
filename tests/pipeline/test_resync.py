"""A video's timeline (polled, charged, released, resync) and "Resync from provider", on the simulator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from sorastudio.billing.models import LedgerEntry
from sorastudio.pipeline import outcomes, tasks
from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Event, Generation, State
from tests.helpers import Recorder, TeamTestCase, error_body, make_finished, make_job, upstream


@override_settings(SIMULATOR_SECONDS=600)
class ResyncTestCase(TeamTestCase):
    def make(self, prompt: str = "a paper boat in the rain", **params: Any) -> Generation:
        return make_job(self.studio, self.alice, prompt, **params)

    def running(self, prompt: str = "a paper boat in the rain") -> Generation:
        generation = self.make(prompt)
        tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)
        return generation

    def age_upstream(self, generation: Generation, seconds: float) -> None:
        """Make the simulated task look `seconds` old (it is processing after a few seconds)."""
        SimTask.objects.filter(pk=generation.upstream_task_id).update(
            created_at=timezone.now() - timedelta(seconds=seconds)
        )

    def finish_upstream(self, generation: Generation) -> None:
        past = timezone.now() - timedelta(seconds=1)
        SimTask.objects.filter(pk=generation.upstream_task_id).update(
            created_at=past - timedelta(seconds=30), finishes_at=past
        )

    def client_for(self, user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def resync(self, user: Any, generation: Generation, **headers: str) -> Any:
        return self.client_for(user).post(reverse("studio:resync", args=[generation.pk]), headers=headers)

    def kinds(self, generation: Generation) -> list[str]:
        return list(generation.events.values_list("kind", flat=True))


class TimelineTests(ResyncTestCase):
    def test_it_writes_a_polled_line_only_when_a_poll_changes_the_phase(self) -> None:
        generation = self.running()
        tasks.step()  # still pending: the phase the submit left is unchanged
        self.age_upstream(generation, 30)
        tasks.step()
        tasks.step()
        tasks.step()
        polled = Event.objects.filter(generation=generation, kind="polled")
        self.assertEqual(list(polled.values_list("detail", flat=True)), [{"phase": "processing"}])

    def test_it_writes_the_charge_with_its_credits_when_the_video_is_made(self) -> None:
        generation = self.running()
        self.finish_upstream(generation)
        tasks.step()
        credits = LedgerEntry.objects.get(generation=generation, kind="reserve").credits
        charged = Event.objects.get(generation=generation, kind="charged")
        self.assertEqual(charged.detail, {"credits": credits})
        self.assertNotIn("released", self.kinds(generation))

    def test_it_writes_the_release_with_its_credits_when_the_video_fails(self) -> None:
        generation = self.running("a real person on a beach")  # the simulator refuses it when it ends
        self.finish_upstream(generation)
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.FAILED)
        credits = LedgerEntry.objects.get(generation=generation, kind="reserve").credits
        self.assertEqual(
            Event.objects.get(generation=generation, kind="released").detail, {"credits": credits}
        )
        self.assertEqual(self.kinds(generation)[-2:], ["failed", "released"])

    def test_a_second_settle_writes_no_second_line(self) -> None:
        generation = self.running()
        self.finish_upstream(generation)
        tasks.step()
        generation.refresh_from_db()
        self.assertFalse(LedgerEntry.settle(generation))
        self.assertEqual(self.kinds(generation).count("charged"), 1)

    def test_the_page_shows_the_new_lines_in_words(self) -> None:
        generation = self.running()
        self.age_upstream(generation, 30)
        tasks.step()
        self.finish_upstream(generation)
        tasks.step()
        page = self.client_for(self.alice).get(generation.get_absolute_url()).content.decode()
        self.assertIn("Progress read from the video service — being made", page)
        credits = LedgerEntry.objects.get(generation=generation, kind="reserve").credits
        self.assertIn(f"Credits charged — {credits} credits", page)


class ResyncTests(ResyncTestCase):
    def time_out(self, generation: Generation) -> None:
        """Ended here as the follower ends a job with no result in time, whatever the upstream does next."""
        outcomes.failed(
            generation,
            "timed_out",
            "No result after 30 minutes.",
            from_states=(State.RUNNING,),
            state=State.TIMED_OUT,
        )

    def test_it_moves_a_running_job_the_provider_has_finished(self) -> None:
        generation = self.running()
        self.finish_upstream(generation)
        client = self.client_for(self.alice)
        response = client.post(reverse("studio:resync", args=[generation.pk]))
        self.assertRedirects(response, generation.get_absolute_url(), fetch_redirect_response=False)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)  # archived inline: the queue runs in-process
        resync = Event.objects.get(generation=generation, kind="resync")
        self.assertEqual(resync.actor, self.alice)
        self.assertEqual(resync.detail["phase"], "succeeded")
        self.assertContains(
            client.get(response["Location"]), "The video service says: made. The video is now “Ready”."
        )

    def test_a_moved_job_reloads_the_page_under_htmx(self) -> None:
        generation = self.running()
        self.finish_upstream(generation)
        response = self.resync(self.alice, generation, HX_Request="true", HX_Target="resync")
        self.assertEqual(response.headers["HX-Refresh"], "true")

    def test_it_says_what_the_provider_says_of_a_job_still_in_progress(self) -> None:
        generation = self.running()
        self.age_upstream(generation, 30)
        response = self.resync(self.dana, generation, HX_Request="true", HX_Target="resync")
        body = response.content.decode()
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("<html", body)
        self.assertIn("The video service says: being made. Nothing new: the video carries on.", body)
        self.assertIn('id="timeline" class="timeline" hx-swap-oob="true"', body)
        self.assertIn("Re-read from the video service — dana — being made", body)
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.upstream_phase), (State.RUNNING, "processing"))
        # A person's resync is its own line, not a poll's.
        self.assertEqual(self.kinds(generation).count("polled"), 0)

    def test_it_never_reopens_a_finished_job(self) -> None:
        generation = self.running()
        self.time_out(generation)
        self.finish_upstream(generation)  # ...and the provider made it after all
        response = self.resync(self.alice, generation, HX_Request="true", HX_Target="resync")
        self.assertIn(
            "The video service says: made. This video had already ended here, so nothing changed.",
            response.content.decode(),
        )
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.TIMED_OUT, "timed_out"))
        self.assertEqual(Event.objects.get(generation=generation, kind="resync").detail["phase"], "succeeded")
        self.assertEqual(LedgerEntry.objects.filter(generation=generation, kind="charge").count(), 0)

    def test_it_shows_the_providers_reason_for_a_failed_task(self) -> None:
        generation = self.running("a real person on a beach")
        self.time_out(generation)
        self.finish_upstream(generation)
        response = self.resync(self.alice, generation, HX_Request="true", HX_Target="resync")
        self.assertIn("The video service says: failed (content_policy_violation).", response.content.decode())

    def test_it_reports_a_provider_it_cannot_read_and_changes_nothing(self) -> None:
        generation = self.running()
        recorder = Recorder()
        with upstream(recorder):
            recorder.fail_next("/sora/tasks", httpx.Response(503, json=error_body("api_error")))
            response = self.resync(self.alice, generation, HX_Request="true", HX_Target="resync")
        self.assertIn("The video service could not be read (api_error).", response.content.decode())
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)
        self.assertEqual(
            Event.objects.get(generation=generation, kind="resync").detail, {"problem": "api_error"}
        )

    def test_it_says_so_for_a_video_that_never_reached_the_provider(self) -> None:
        video = make_finished(self.studio, self.alice)
        response = self.resync(self.alice, video, HX_Request="true", HX_Target="resync")
        self.assertIn("has not reached the video service yet", response.content.decode())
        self.assertFalse(video.events.filter(kind="resync").exists())

    def test_it_works_as_a_plain_form_with_a_message(self) -> None:
        generation = self.running()
        client = self.client_for(self.alice)
        response = client.post(reverse("studio:resync", args=[generation.pk]), follow=True)
        self.assertContains(response, "Nothing new: the video carries on.")

    def test_only_the_maker_and_the_admins_may_resync(self) -> None:
        generation = self.running()
        self.assertEqual(self.resync(self.bob, generation).status_code, 403)
        self.assertEqual(self.resync(self.carol, generation).status_code, 404)
        self.assertFalse(Event.objects.filter(generation=generation, kind="resync").exists())
        page = self.client_for(self.bob).get(generation.get_absolute_url()).content.decode()
        self.assertNotIn("Resync from provider", page)
        page = self.client_for(self.alice).get(generation.get_absolute_url()).content.decode()
        self.assertIn("Resync from provider", page)

    def test_it_wants_a_csrf_token_and_a_post(self) -> None:
        generation = self.running()
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.alice)
        url = reverse("studio:resync", args=[generation.pk])
        self.assertEqual(client.post(url).status_code, 403)
        self.assertEqual(self.client_for(self.alice).get(url).status_code, 405)
