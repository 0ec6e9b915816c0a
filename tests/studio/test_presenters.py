"""The words pages use for a video, its timeline and the audit trail: the presenters, and the template
filters and tag that hand them to the templates."""

from __future__ import annotations

from datetime import timedelta

from django.template import Context, Template
from django.test import TestCase
from django.utils import timezone

from sorastudio.studio import presenters
from sorastudio.studio.models import Event, Generation, State
from sorastudio.teams import presenters as audit
from sorastudio.teams.models import AuditEntry
from tests.helpers import TeamTestCase, make_row


def video(**fields: object) -> Generation:
    """An unsaved video with AceDataCloud's usual settings; `fields` override them."""
    settings = {"provider": "acedata", "model": "sora-2", "version": "1.0", "duration": 10, "size": "small"}
    return Generation(prompt="A paper boat", **{**settings, **fields})


class SettingsTests(TestCase):
    def test_it_names_each_setting_as_the_video_page_shows_it(self) -> None:
        shown = video(provider="sora2api", size="large", quality="hd", orientation="portrait")
        shown.character_clip.name = "characters/2026/12/the fox.mp4"
        self.assertEqual(presenters.model_label(shown), "Sora 2")
        self.assertEqual(presenters.size_label(shown), "HD")
        self.assertEqual(presenters.quality_label(shown), "HD")
        self.assertEqual(presenters.orientation_label(shown), "Portrait")
        self.assertEqual(presenters.provider_label(shown), "Sora2API")
        self.assertEqual(presenters.character_clip_label(shown), "the fox.mp4")

    def test_it_shows_unknown_values_as_they_are(self) -> None:
        odd = video(provider="elsewhere", model="sora-9", size="tiny", quality="ultra", orientation="16:9")
        self.assertEqual(
            [presenters.model_label(odd), presenters.size_label(odd), presenters.quality_label(odd)],
            ["sora-9", "tiny", "ultra"],
        )
        self.assertEqual(presenters.orientation_label(odd), "16:9")
        self.assertEqual(presenters.provider_label(odd), "elsewhere")
        self.assertEqual(presenters.character_clip_label(odd), "")

    def test_it_puts_the_settings_in_a_line(self) -> None:
        self.assertEqual(
            presenters.summary(video(orientation="landscape", watermark="demo")),
            "Sora 2 · v1.0 · 10 s · Standard · landscape · watermark “demo”",
        )
        self.assertEqual(
            presenters.summary(video(provider="sora2api", version="", size="", quality="hd")),
            "Sora2API · 10 s · HD",
        )

    def test_it_explains_a_failure_in_plain_words(self) -> None:
        self.assertIn("run out of credit", presenters.explanation(video(error_code="used_up")))
        self.assertEqual(
            presenters.explanation(video(error_code="weird", error_message="The service said no")),
            "The service said no",
        )
        self.assertEqual(
            presenters.explanation(video(error_code="weird")), "Something went wrong while making this video."
        )


class TimelineTests(TestCase):
    def test_it_names_events_and_the_services_phases(self) -> None:
        self.assertEqual(presenters.event_label(Event(kind="archived")), "Saved to the studio's storage")
        self.assertEqual(presenters.event_label(Event(kind="something_new")), "Something new")
        self.assertEqual(
            presenters.event_phase_label(Event(kind="polled", detail={"phase": "pending"})),
            "waiting to start",
        )
        self.assertEqual(presenters.phase_label("strange"), "strange")
        self.assertEqual(presenters.event_phase_label(Event(kind="retry")), "")


class ProgressTests(TeamTestCase):
    def setUp(self) -> None:
        presenters._TYPICAL_CACHE.clear()

    def live(self, seconds_ago: float, state: str = State.RUNNING) -> Generation:
        return make_row(
            self.studio,
            self.alice,
            state=state,
            created_at=timezone.now() - timedelta(seconds=seconds_ago),
        )

    def test_it_measures_a_live_job_against_the_typical_time_of_its_kind(self) -> None:
        job = self.live(45)
        now = job.created_at + timedelta(seconds=45)
        self.assertEqual(presenters.progress(job, now), {"percent": 50, "slow": False, "typical": 90.0})
        late = presenters.progress(job, job.created_at + timedelta(seconds=200))
        self.assertEqual((late["percent"], late["slow"]), (95, True))

    def finished(self, seconds: float, **fields: object) -> Generation:
        """A finished job, made `seconds` after it was sent (after 5 s in the studio's queue)."""
        done = self.live(0, state=State.SUCCEEDED)
        done.submitted_at = done.created_at + timedelta(seconds=5)
        done.upstream_finished_at = done.submitted_at + timedelta(seconds=seconds)
        for name, value in fields.items():
            setattr(done, name, value)
        done.save()
        return done

    def test_it_learns_the_typical_time_from_the_studios_own_finished_jobs(self) -> None:
        for _n in range(3):
            self.finished(30)
        job = self.live(0)
        presenters.prime_typical_seconds([job])
        with self.assertNumQueries(0):
            self.assertEqual(presenters.typical_seconds(job), 30.0)

    def test_it_learns_only_from_real_runs_of_the_same_service_model_and_length(self) -> None:
        """Demo rows, runs too short to be real, failures and other kinds of job teach it nothing, both
        one job at a time and a page's worth at once; left with nothing, it falls back on the usual time."""
        for _n in range(3):
            self.finished(0.02)  # the simulator at SIMULATOR_SECONDS=0, from before seed_demo marked rows
            self.finished(30, demo=True)
            self.finished(30, state=State.FAILED)
            self.finished(30, simulated=True)
            self.finished(30, provider="sora2api")
            self.finished(30, model="sora-2-pro")
            self.finished(30, duration=15)
        job = self.live(0)
        self.assertEqual(presenters.typical_seconds(job), 90.0)  # capabilities.TYPICAL_SECONDS
        presenters._TYPICAL_CACHE.clear()
        presenters.prime_typical_seconds([job])
        with self.assertNumQueries(0):
            self.assertEqual(presenters.typical_seconds(job), 90.0)
        for _n in range(3):
            self.finished(60)
        presenters._TYPICAL_CACHE.clear()
        self.assertEqual(presenters.typical_seconds(job), 60.0)
        presenters._TYPICAL_CACHE.clear()
        presenters.prime_typical_seconds([job])
        with self.assertNumQueries(0):
            self.assertEqual(presenters.typical_seconds(job), 60.0)

    def test_a_sent_job_is_timed_from_its_submit_not_from_its_wait_in_the_queue(self) -> None:
        job = self.live(100)
        job.submitted_at = job.created_at + timedelta(seconds=55)
        now = job.created_at + timedelta(seconds=100)
        self.assertEqual(presenters.progress(job, now), {"percent": 50, "slow": False, "typical": 90.0})

    def test_a_waiting_job_has_no_progress_but_its_place_in_line(self) -> None:
        queued = self.live(300, state=State.QUEUED)
        queued.queue_place = 3  # type: ignore[attr-defined]
        self.assertEqual(presenters.progress(queued), {"waiting": True, "place": 3})
        in_their_line = self.live(300)
        in_their_line.upstream_phase = "pending"
        self.assertEqual(presenters.progress(in_their_line), {"waiting": True, "place": None})
        in_their_line.upstream_phase = "processing"
        self.assertEqual(presenters.progress(in_their_line)["percent"], 95)

    def test_the_queue_places_count_the_services_queued_jobs_in_the_order_asked(self) -> None:
        first, second = self.live(30, state=State.QUEUED), self.live(20, state=State.QUEUED)
        other_service = self.live(40, state=State.QUEUED)
        Generation.objects.filter(pk=other_service.pk).update(provider="sora2api")
        running = self.live(50)
        # The service's line is the whole studio's: another team's job asked for first is ahead.
        Generation.objects.filter(pk=self.live(60, state=State.QUEUED).pk).update(team=self.agency)
        third = self.live(10, state=State.QUEUED)
        places = {g.pk: g.queue_place for g in Generation.objects.with_queue_places()}  # type: ignore[attr-defined]
        self.assertEqual(
            [places[g.pk] for g in (first, second, third, other_service, running)], [2, 3, 4, 1, None]
        )

    def test_a_job_being_saved_is_nearly_done(self) -> None:
        job = self.live(1, state=State.ARCHIVING)
        self.assertEqual(presenters.progress(job)["percent"], 99)


class FilterTests(TeamTestCase):
    def test_the_templates_filters_and_tag_say_what_the_presenters_say(self) -> None:
        job = video(orientation="portrait", state=State.RUNNING, created_at=timezone.now())
        event = Event(kind="polled", detail={"phase": "processing"})
        page = Template(
            "{% load generation_tags %}{{ g|model_label }}|{{ g|size_label }}|{{ g|orientation_label }}|"
            "{{ g|provider_label }}|{{ g|summary }}|{{ e|event_label }}|{{ e|phase_label }}|"
            "{% progress g as p %}{{ p.percent }}"
        ).render(Context({"g": job, "e": event}))
        self.assertEqual(
            page,
            "Sora 2|Standard|Portrait|AceDataCloud|Sora 2 · v1.0 · 10 s · Standard · portrait|"
            "Progress read from the video service|being made|2",
        )

    def test_the_audit_filters_say_who_did_what(self) -> None:
        entry = AuditEntry.record(
            AuditEntry.Kind.ROLE_CHANGED,
            team=self.studio,
            actor=self.dana,
            subject=self.alice,
            before="creator",
            after="reviewer",
        )
        paused = AuditEntry(kind=AuditEntry.Kind.SERVICE_PAUSED, details={"provider": "acedata"})
        page = Template("{% load audit_tags %}{{ e|audit_who }}: {{ e|audit_text }}")
        self.assertEqual(page.render(Context({"e": entry})), "dana: alice: Creator → Reviewer")
        self.assertEqual(
            page.render(Context({"e": paused})),
            "The studio: AceDataCloud paused: the studio’s account is out of credit",
        )
        self.assertEqual(audit.who(AuditEntry(kind=AuditEntry.Kind.CREDIT_GRANTED)), "The command line")
