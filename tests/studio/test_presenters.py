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

    def test_it_learns_the_typical_time_from_the_studios_own_finished_jobs(self) -> None:
        for _n in range(3):
            done = self.live(0, state=State.SUCCEEDED)
            done.upstream_finished_at = done.created_at + timedelta(seconds=30)
            done.save()
        job = self.live(0)
        presenters.prime_typical_seconds([job])
        with self.assertNumQueries(0):
            self.assertEqual(presenters.typical_seconds(job), 30.0)

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
