"""A studio made before the models moved into their apps (teams, billing, pipeline) migrates to today's code
and loses nothing: every row of every table, every stored file, every ledger balance.

tests/premove/ holds that studio as it was made on the main of 2026-12-03 (commit c622c78): `seed_demo`'s two
teams and 24 finished videos, plus a row of each model the demo leaves empty (a quota, a price, a pause, an
invitation, an audit entry, a character, a reference image). premove.json is what tests/premove/manifest.py
said of it then; the same script, run on the migrated copy with today's code, must say the same.

The copy is SQLite, what `make run` uses; the migrations themselves only change Django's idea of which app
owns a table (SeparateDatabaseAndState), so no SQL differs between the databases."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from django.test import SimpleTestCase

ROOT = Path(__file__).resolve().parent.parent
PREMOVE = ROOT / "tests" / "premove"
# Where each model lives now; a model not listed is still where it was. The content type keeps its id, so
# permissions and the admin's history stay attached.
# Rewritten on purpose: the queue's schedule names the tick's function, which moved with the pipeline.
REWRITTEN = {"django_q_schedule"}
MOVED: dict[str, str] = {
    **dict.fromkeys(["team", "membership", "invitation", "auditentry"], "teams"),
    **dict.fromkeys(["priceoverride", "quota", "ledgerentry", "providerpause"], "billing"),
    **dict.fromkeys(["polllease", "upstreamcall"], "pipeline"),
}


def restore(data_dir: Path) -> None:
    with gzip.open(PREMOVE / "premove.sql.gz", "rt") as dump:
        database = sqlite3.connect(data_dir / "studio.sqlite3")
        database.executescript(dump.read())
        database.close()
    with tarfile.open(PREMOVE / "media.tar.xz") as media:
        media.extractall(data_dir, filter="data")


def run(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "DATA_DIR": str(data_dir), "DATABASE_URL": "", "REDIS_URL": ""}
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class PreMoveDatabaseTests(SimpleTestCase):
    before: dict[str, Any]
    after: dict[str, Any]
    migrate_output: str

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.before = json.loads((PREMOVE / "premove.json").read_text())
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            restore(data_dir)
            cls.migrate_output = run(data_dir, "manage.py", "migrate", "--noinput")
            run(data_dir, "manage.py", "makemigrations", "--check", "--dry-run")
            cls.after = json.loads(run(data_dir, str(PREMOVE / "manifest.py")))

    def test_it_keeps_every_row_of_every_table(self) -> None:
        for table, contents in self.before["tables"].items():
            if table in REWRITTEN:
                continue
            with self.subTest(table=table):
                self.assertEqual(self.after["tables"].get(table), contents)

    def test_it_points_the_one_schedule_at_the_tick_where_it_lives_now(self) -> None:
        self.assertEqual(self.before["tables"]["django_q_schedule"]["rows"], 1)
        self.assertEqual(self.after["tables"]["django_q_schedule"]["rows"], 1)
        self.assertEqual(self.after["schedules"], {"sorastudio-tick": "sorastudio.pipeline.tasks.tick"})

    def test_it_finds_every_row_through_the_models_where_they_live_now(self) -> None:
        # Models added since (client review links, say) start empty; every older one has all its rows.
        after = dict(self.after["models"])
        added = {name: after.pop(name) for name in set(after) - set(self.before["models"])}
        self.assertEqual(after, self.before["models"])
        self.assertEqual(set(added.values()), set() if not added else {0})
        self.assertGreater(min(self.before["models"].values()), 0, "every model has rows to lose")

    def test_it_keeps_every_stored_file(self) -> None:
        self.assertEqual(self.after["files"], self.before["files"])
        self.assertGreaterEqual(len(self.before["files"]), 50)

    def test_it_keeps_every_ledger_balance(self) -> None:
        self.assertEqual(self.after["balances"], self.before["balances"])

    def test_it_keeps_the_content_types_ids_under_their_new_apps(self) -> None:
        for model, pk in self.before["content_types"].items():
            with self.subTest(model=model):
                self.assertEqual(self.after["content_types"].get(model), pk)
        labels = {model: label for model, label in self.after.get("labels", {}).items()}
        for model, app in MOVED.items():
            with self.subTest(moved=model):
                self.assertEqual(labels.get(model), app)
