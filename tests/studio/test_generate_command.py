"""`manage.py generate`: the same pipeline as the form, one JSON object per line."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import TestCase

from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Team
from tests.helpers import make_member


class GenerateCommandTests(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)

    def run_command(self, *args: str) -> tuple[list[dict[str, object]], int]:
        out = io.StringIO()
        code = 0
        try:
            call_command("generate", *args, stdout=out)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        return lines, code

    def test_it_generates_and_waits_for_the_video(self) -> None:
        lines, code = self.run_command(
            "--prompt",
            "a lighthouse at night",
            "--user",
            "alice",
            "--model",
            "sora-2-pro",
            "--duration",
            "25",
            "--size",
            "large",
            "--orientation",
            "portrait",
            "--wait",
        )
        self.assertEqual(code, 0)
        final = lines[-1]
        self.assertEqual(final["state"], "succeeded")
        self.assertIsNone(final["error"])
        self.assertTrue(Path(str(final["video_path"])).is_file())
        generation = Generation.objects.get(pk=str(final["id"]))
        self.assertEqual((generation.team, generation.created_by), (self.team, self.alice))
        sent = SimTask.objects.get(pk=generation.upstream_task_id).request
        self.assertEqual((sent["duration"], sent["size"], sent["orientation"]), (25, "large", "portrait"))

    def test_it_passes_every_creative_option(self) -> None:
        lines, _ = self.run_command(
            "--prompt",
            "a robot",
            "--user",
            "alice",
            "--image-url",
            "https://example.com/a.png",
            "--image-url",
            "https://example.com/b.png",
            "--character-url",
            "https://example.com/c.mp4",
            "--character-start",
            "1",
            "--character-end",
            "3",
        )
        generation = Generation.objects.get(pk=str(lines[0]["id"]))
        sent = SimTask.objects.get(pk=generation.upstream_task_id).request
        self.assertEqual(sent["image_urls"], ["https://example.com/a.png", "https://example.com/b.png"])
        self.assertEqual((sent["character_start"], sent["character_end"]), (1, 3))

    def test_it_makes_a_v2_video(self) -> None:
        lines, code = self.run_command(
            "--prompt",
            "waves",
            "--user",
            "alice",
            "--version",
            "2.0",
            "--duration",
            "4",
            "--size",
            "1792x1024",
            "--wait",
        )
        self.assertEqual((code, lines[-1]["state"]), (0, "succeeded"))

    def test_it_exits_non_zero_when_the_video_fails(self) -> None:
        lines, code = self.run_command("--prompt", "a real person", "--user", "alice", "--wait")
        self.assertEqual(code, 1)
        self.assertEqual(lines[-1]["state"], "failed")
        self.assertIn("content_policy_violation", str(lines[-1]["error"]))
        self.assertIsNone(lines[-1]["video_path"])

    def test_without_wait_it_prints_the_job_and_returns(self) -> None:
        lines, code = self.run_command("--prompt", "a kite", "--user", "alice")
        self.assertEqual(code, 0)
        self.assertEqual(len(lines), 1)
        self.assertEqual(set(lines[0]) >= {"id", "state", "error", "video_path"}, True)

    def test_it_refuses_impossible_options_and_unknown_users_plainly(self) -> None:
        with self.assertRaisesMessage(CommandError, "25 seconds needs Sora 2 Pro"):
            self.run_command("--prompt", "x", "--user", "alice", "--duration", "25")
        with self.assertRaisesMessage(CommandError, "No user named 'zed'"):
            self.run_command("--prompt", "x", "--user", "zed")
        self.assertEqual(Generation.objects.count(), 0)
        self.assertFalse(Generation.objects.filter(state=State.QUEUED).exists())

    def test_someone_in_no_team_is_refused_and_gets_no_team_of_their_own(self) -> None:
        get_user_model().objects.create_user("frank", password="frank-pass-123")  # removed from Studio, say
        with self.assertRaisesMessage(CommandError, "frank is in no team"):
            self.run_command("--prompt", "x", "--user", "frank")
        self.assertEqual((Generation.objects.count(), Team.objects.count()), (0, 1))


class GenerateManyTests(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        make_member("alice", self.team)

    def run_command(self, *args: str) -> tuple[list[dict[str, object]], int]:
        return GenerateCommandTests.run_command(self, *args)  # type: ignore[arg-type]

    def test_it_makes_a_sora2api_video_with_its_own_options(self) -> None:
        lines, code = self.run_command(
            "--prompt",
            "a kite",
            "--user",
            "alice",
            "--provider",
            "sora2api",
            "--aspect-ratio",
            "portrait",
            "--quality",
            "hd",
            "--watermark",
            "Kite Co",
            "--wait",
        )
        self.assertEqual((code, lines[-1]["state"]), (0, "succeeded"))
        generation = Generation.objects.get(pk=str(lines[-1]["id"]))
        sent = SimTask.objects.get(pk=generation.upstream_task_id).request
        self.assertEqual(
            sent, {"prompt": "a kite", "aspectRatio": "portrait", "quality": "hd", "watermark": "Kite Co"}
        )

    def test_it_makes_variations(self) -> None:
        lines, code = self.run_command("--prompt", "a kite", "--user", "alice", "--variations", "3", "--wait")
        self.assertEqual(code, 0)
        self.assertEqual(len({line["id"] for line in lines}), 3)
        self.assertEqual(len(set(Generation.objects.values_list("group", flat=True))), 1)

    def test_it_makes_one_job_per_line_of_a_prompt_file_and_waits_for_all(self) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write("a red kite\n\na blue kite\na real person flying a kite\n")
        self.addCleanup(Path(fh.name).unlink)
        lines, code = self.run_command("--prompt-file", fh.name, "--user", "alice", "--wait")
        self.assertEqual(code, 1)  # one of them was refused
        final = {line["id"]: line["state"] for line in lines}
        self.assertEqual(sorted(final.values()), ["failed", "succeeded", "succeeded"])
        self.assertEqual(Generation.objects.count(), 3)

    def test_it_says_plainly_when_the_prompt_file_is_missing(self) -> None:
        with self.assertRaisesMessage(CommandError, "Cannot read"):
            self.run_command("--prompt-file", "/nonexistent/prompts.txt", "--user", "alice")
