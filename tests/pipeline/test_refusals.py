"""Content refusals (issue #12, item 10): both APIs often refuse under a generic code (AceDataCloud's
`api_error`, a bare Sora2API errorCode), and only their message says that the video was refused. The studio
must call it a refusal, keep the upstream's words, and offer Edit & retry first."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import httpx
from django.core.management import call_command
from django.test import SimpleTestCase, TestCase
from django.urls import reverse
from django.utils import timezone

from sorastudio.pipeline import tasks
from sorastudio.simulator.models import SimTask
from sorastudio.studio import presenters
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Team
from sorastudio.upstream import acedata, sora2api
from sorastudio.upstream.errors import REFUSAL_CODE, is_refusal
from tests.helpers import Recorder, make_job, make_member, make_row, upstream

# The generic refusal the issue quotes, as AceDataCloud sends it.
REAL_PEOPLE = "The request was rejected by the content policy: it appears to depict real people"

# (code, message) pairs in the wordings both services (and the models behind them) use.
REFUSALS = [
    ("api_error", REAL_PEOPLE),
    ("api_error", "This request was rejected by the safety system: the content may depict a real person."),
    ("500", "Generation failed: this content violates our content policy (it may show a real person)."),
    ("generation_failed", "Your prompt was flagged by our moderation system."),
    ("", "Content moderation failed, please modify the prompt"),
    ("400", "This content may violate our guardrails concerning similarity to third-party content."),
    ("api_error", "The image contains a public figure and cannot be used."),
    ("", "Prompt blocked: likeness of a celebrity"),
    ("failed", "The prompt contains prohibited content."),
    ("api_error", "Image may contain copyrighted material or a trademark"),
    ("", "Do not include images of real people or existing US brand logos"),
    ("", "NSFW content detected"),
    ("", "Your request violates our usage policies."),
    ("", "The video was filtered by the content filter"),
    ("", "Sensitive words detected in the prompt"),
    ("", "内容违规，请修改提示词"),
    ("content_policy_violation", ""),
    ("moderation_blocked", ""),
    ("CONTENT_POLICY", "Rejected"),
]

ORDINARY_ERRORS = [
    ("api_error", "Internal server error, something went wrong on the server."),
    ("api_error", "The video could not be generated because of an internal error."),
    ("500", "Task creation failed because of an internal error."),
    ("failed", "The upstream could not make this video."),
    ("generation_failed", "The upstream reported the video as failed."),
    ("bad_request", "duration must be one of 4, 8, 12"),
    ("bad_request", "The size parameter violates the allowed values"),
    ("bad_request", "The request was rejected: missing or invalid parameters."),
    ("too_many_requests", "Too many requests, you have exceeded the rate limit of the usage policy."),
    ("used_up", "Your balance has been used up, please recharge."),
    ("insufficient_credits", "Insufficient credits: the account does not have enough credits for this task"),
    ("invalid_token", "Unauthorized, invalid or missing authorization token."),
    ("", "upstream answered HTTP 500"),
    ("", "The server is under moderate load, try again later"),
    ("", "Access to this endpoint is prohibited for your plan"),
    ("", "A brand new task could not be created"),
    ("timed_out", "No result after 30 minutes."),
    ("", "cannot connect to the upstream: [Errno 111] Connection refused"),
    ("", "the upstream did not answer in time"),
    ("", "Inappropriate value for the parameter size"),
    ("service_unavailable", "The service is under maintenance"),
    ("", ""),
]


class ClassifierTests(SimpleTestCase):
    def test_it_recognises_refusals_from_their_code_or_their_words(self) -> None:
        for code, message in REFUSALS:
            with self.subTest(code=code, message=message):
                self.assertTrue(is_refusal(code, message))

    def test_it_leaves_ordinary_errors_alone(self) -> None:
        for code, message in ORDINARY_ERRORS:
            with self.subTest(code=code, message=message):
                self.assertFalse(is_refusal(code, message))

    def test_it_accepts_missing_and_numeric_values(self) -> None:
        self.assertFalse(is_refusal(None, None))
        self.assertFalse(is_refusal(500, None))
        self.assertTrue(is_refusal(None, "REJECTED BY THE CONTENT POLICY"))


class ParsingTests(SimpleTestCase):
    """The clients store a refusal under REFUSAL_CODE and keep the upstream's message as it came."""

    def test_it_reads_an_acedata_refusal_under_api_error(self) -> None:
        record = {
            "id": "t1",
            "response": {"success": False, "error": {"code": "api_error", "message": REAL_PEOPLE}},
        }
        status = acedata.parse_task(record)
        self.assertEqual((status.phase, status.error_code), ("failed", REFUSAL_CODE))
        self.assertEqual(status.error_message, REAL_PEOPLE)

    def test_it_leaves_an_acedata_internal_error_as_it_came(self) -> None:
        error = {"code": "api_error", "message": "Internal server error."}
        status = acedata.parse_task({"id": "t1", "response": {"success": False, "error": error}})
        self.assertEqual(status.error_code, "api_error")

    def test_it_reads_a_sora2api_refusal_under_a_generic_error_code(self) -> None:
        for error_code in (500, None, 0, "400"):
            with self.subTest(error_code=error_code):
                record = {
                    "taskId": "t2",
                    "successFlag": 3,
                    "errorCode": error_code,
                    "errorMessage": "This content violates our content policy.",
                }
                status = sora2api.parse_record(record)
                self.assertEqual((status.phase, status.error_code), ("failed", REFUSAL_CODE))
                self.assertEqual(status.error_message, "This content violates our content policy.")

    def test_it_reads_a_refusal_in_an_old_style_sora2api_callback(self) -> None:
        body = {"code": 500, "msg": "Rejected by moderation", "data": {"taskId": "t3", "resultUrls": []}}
        status = sora2api.parse_record(body)
        self.assertEqual((status.phase, status.error_code), ("failed", REFUSAL_CODE))
        self.assertEqual(status.error_message, "Rejected by moderation")


class SubmitRefusalTests(TestCase):
    """A refusal that comes as the submit's own error answer: the same request would be refused again."""

    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)

    def test_an_acedata_500_that_says_refused_is_not_retried(self) -> None:
        recorder = Recorder()
        body = {"success": False, "error": {"code": "api_error", "message": REAL_PEOPLE}, "trace_id": "r1"}
        recorder.fail_next("/sora/videos", httpx.Response(500, json=body))
        generation = make_job(self.team, self.alice, "a crowd at a concert")
        with upstream(recorder):
            tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, REFUSAL_CODE))
        self.assertEqual(generation.error_message, REAL_PEOPLE)
        self.assertEqual(len(recorder.calls("/sora/videos")), 1)

    def test_a_sora2api_400_that_says_refused_is_a_refusal(self) -> None:
        recorder = Recorder()
        body = {"code": 400, "msg": "Your prompt violates our content policy", "data": None}
        recorder.fail_next("/generate", httpx.Response(400, json=body))
        generation = make_job(
            self.team, self.alice, "a kite", provider="sora2api", version="", size="", quality="hd"
        )
        with upstream(recorder):
            tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, REFUSAL_CODE))
        self.assertTrue(generation.refused)


class PipelineTests(TestCase):
    """Through the simulator, whose "[sim:refused]" marker refuses under each API's generic code."""

    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)

    def run_job(self, generation: Generation) -> Generation:
        tasks.start(generation)
        generation.refresh_from_db()
        past = timezone.now() - timedelta(seconds=1)
        SimTask.objects.filter(pk=generation.upstream_task_id).update(
            created_at=past - timedelta(seconds=30), finishes_at=past
        )
        tasks.step()
        generation.refresh_from_db()
        return generation

    def test_the_acedata_simulator_refuses_under_api_error_and_the_job_is_a_refusal(self) -> None:
        generation = self.run_job(make_job(self.team, self.alice, "[sim:refused] two people dancing"))
        task = SimTask.objects.get(pk=generation.upstream_task_id)
        self.assertEqual(task.error_code, "api_error")  # the generic code is what came over the wire
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, REFUSAL_CODE))
        self.assertTrue(generation.refused)
        self.assertIn("rejected by the content policy", generation.error_message)
        self.assertIn("refused because the prompt", presenters.explanation(generation))
        self.assertNotIn("internal problem", presenters.explanation(generation))

    def test_the_sora2api_simulator_refuses_under_a_generic_error_code(self) -> None:
        job = make_job(
            self.team,
            self.alice,
            "[sim:refused] a singer on stage",
            provider="sora2api",
            version="",
            size="",
            quality="hd",
        )
        generation = self.run_job(job)
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, REFUSAL_CODE))
        self.assertIn("violates our content policy", generation.error_message)
        self.assertIn("refused because the prompt", presenters.explanation(generation))

    def test_an_internal_error_is_still_one(self) -> None:
        generation = self.run_job(make_job(self.team, self.alice, "[sim:error] a harbour"))
        self.assertEqual(generation.error_code, "api_error")
        self.assertFalse(generation.refused)
        self.assertIn("internal problem", presenters.explanation(generation))


class CardTests(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)
        self.client.force_login(self.alice)

    def failed(self, code: str, message: str) -> Generation:
        return make_row(
            self.team,
            self.alice,
            "Two people dancing in the rain",
            orientation="landscape",
            state=State.FAILED,
            error_code=code,
            error_message=message,
            finished_at=timezone.now(),
        )

    def actions(self, html: str, generation: Generation) -> str:
        card = html[html.index(f'id="card-{generation.pk}"') :]
        return card[card.index('<div class="actions">') : card.index("</article>")]

    def test_a_refusal_card_says_so_quotes_the_service_and_puts_edit_and_retry_first(self) -> None:
        generation = self.failed(REFUSAL_CODE, "Rejected: <b>real people</b> & brands")
        html = self.client.get(reverse("studio:index")).content.decode()
        self.assertIn("The video was refused because the prompt or a reference seems to show", html)
        self.assertIn("The service said: “Rejected: &lt;b&gt;real people&lt;/b&gt; &amp; brands”", html)
        self.assertNotIn("<b>real people</b>", html)
        actions = self.actions(html, generation)
        edit = f'<a class="button primary" href="/?from={generation.pk}#compose">Edit & retry</a>'
        self.assertIn(edit, actions)
        self.assertLess(actions.index(edit), actions.index(">Re-run</button>"))
        self.assertEqual(actions.count("Edit & retry"), 1)

    def test_the_video_page_of_a_refusal_also_puts_edit_and_retry_first(self) -> None:
        generation = self.failed(REFUSAL_CODE, REAL_PEOPLE)
        page = self.client.get(generation.get_absolute_url()).content.decode()
        self.assertIn(f"The service said: “{REAL_PEOPLE}”", page)
        actions = page[page.index('<div class="actions">') :]
        self.assertLess(
            actions.index('<a class="button primary" href="/?from='), actions.index(">Re-run</button>")
        )

    def test_an_ordinary_failure_keeps_re_run_first(self) -> None:
        generation = self.failed("api_error", "Internal server error.")
        html = self.client.get(reverse("studio:index")).content.decode()
        self.assertIn("The video service had an internal problem", html)
        actions = self.actions(html, generation)
        self.assertNotIn("button primary", actions)
        self.assertLess(actions.index(">Re-run</button>"), actions.index("Edit & retry"))


class GenerateCommandTests(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)

    def test_it_prints_the_refusal_and_the_services_own_words(self) -> None:
        out = io.StringIO()
        with self.assertRaises(SystemExit) as exit_:
            call_command(
                "generate", "--prompt", "[sim:refused] two people", "--user", "alice", "--wait", stdout=out
            )
        self.assertEqual(exit_.exception.code, 1)
        final = json.loads(out.getvalue().splitlines()[-1])
        self.assertEqual(final["state"], "failed")
        self.assertTrue(final["error"].startswith(f"{REFUSAL_CODE}: The video was refused because"))
        self.assertNotIn("internal problem", final["error"])
        self.assertEqual(final["upstream_message"], REAL_PEOPLE + ".")
        self.assertIs(final["refused"], True)
