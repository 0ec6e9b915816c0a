"""The soak test, smaller: jobs through the real processes (gunicorn, two queue clusters, the simulator
with SIMULATOR_FAULTS), queue workers killed with SIGKILL, then every job checked. Opt-in, since it takes
a couple of minutes: `pytest -m soak tests/pipeline/test_soak.py`. The full run is `bench/soak.py`."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.test import SimpleTestCase

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.soak
class SoakTests(SimpleTestCase):
    def test_it_ends_every_job_rightly_once_and_billed_exactly_through_faults_and_kills(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            figures = Path(folder) / "soak.json"
            command = [sys.executable, "bench/soak.py", "--jobs", "60", "--kills", "3", "--kill-every", "8"]
            command += ["--report", "", "--json", str(figures), "--deadline", "400"]
            run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
            self.assertTrue(figures.exists(), run.stderr[-3000:])
            summary = json.loads(figures.read_text())
        self.assertEqual(summary["problems"], [], run.stdout[-3000:])
        self.assertEqual(run.returncode, 0)
        self.assertEqual(summary["wrong_state"], 0)
        self.assertEqual(summary["submits_per_job_max"], 1)
        self.assertEqual(summary["sha256_mismatches"], 0)
        self.assertGreater(summary["archived_files_checked"], 10)
        self.assertEqual(summary["ledger"]["difference"], 0)
        self.assertEqual(summary["ledger"]["charges"] + summary["ledger"]["releases"], 60)
        self.assertEqual(summary["ledger"]["released_though_made"], 0)
        # The races were played: a deadline passed while a job was being sent, an archive was taken over.
        self.assertGreater(summary["races"]["deadline_passed_mid_submit"], 0)
        self.assertGreater(summary["races"]["archive_taken_over"], 0)
        # The run really was hostile: workers died and the simulator misbehaved in each way asked for.
        self.assertEqual(len(summary["kill_times"]), 3)
        kinds = {key.split("@")[0] for key in summary["faults"]}
        self.assertTrue({"429", "500", "missing_callback", "duplicate_callback"} <= kinds, kinds)
