"""`manage.py generate`: the same pipeline as the form, one JSON object per line."""

from __future__ import annotations

import io
import json
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import TestCase

from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Generation, State, Team
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
