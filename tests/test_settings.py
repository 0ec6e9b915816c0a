"""Settings come from the environment through small typed helpers that fail loudly."""

from __future__ import annotations

import os
import re
from pathlib import Path
from unittest import mock

from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase

from sorastudio import settings as studio_settings

ROOT = Path(__file__).resolve().parent.parent


class EnvHelperTests(SimpleTestCase):
    def test_it_reads_booleans_and_refuses_anything_else(self) -> None:
        for raw, expected in (("1", True), ("yes", True), ("FALSE", False), ("off", False), ("", True)):
            with mock.patch.dict(os.environ, {"X_FLAG": raw}):
                self.assertEqual(studio_settings.env_bool("X_FLAG", True), expected, raw)
        with (
            mock.patch.dict(os.environ, {"X_FLAG": "maybe"}),
            self.assertRaisesMessage(ImproperlyConfigured, "X_FLAG must be true or false"),
        ):
            studio_settings.env_bool("X_FLAG", True)

    def test_it_reads_numbers_and_refuses_bad_ones(self) -> None:
        with mock.patch.dict(os.environ, {"X_NUM": "12"}):
            self.assertEqual(studio_settings.env_int("X_NUM", 1), 12)
            self.assertEqual(studio_settings.env_float("X_NUM", 1.0), 12.0)
        with (
            mock.patch.dict(os.environ, {"X_NUM": "twelve"}),
            self.assertRaisesMessage(ImproperlyConfigured, "X_NUM must be a whole number"),
        ):
            studio_settings.env_int("X_NUM", 1)
        with (
            mock.patch.dict(os.environ, {"X_NUM": "-3"}),
            self.assertRaisesMessage(ImproperlyConfigured, "X_NUM must be at least 0"),
        ):
            studio_settings.env_float("X_NUM", 1.0, minimum=0)

    def test_it_reads_fault_rates_and_refuses_unknown_kinds_and_bad_rates(self) -> None:
        kinds = studio_settings.SIMULATOR_FAULT_KINDS
        with mock.patch.dict(os.environ, {"X_FAULTS": " 429=0.1, missing_callback=1,500=0 "}):
            rates = studio_settings.env_rates("X_FAULTS", kinds)
        self.assertEqual(rates, {"429": 0.1, "missing_callback": 1.0, "500": 0.0})
        with mock.patch.dict(os.environ, {"X_FAULTS": ""}):
            self.assertEqual(studio_settings.env_rates("X_FAULTS", kinds), {})
        for raw, message in (
            ("503=0.1", "is not kind=rate"),
            ("429", "is not kind=rate"),
            ("429=often", "must be a number"),
            ("timeout=1.5", "between 0 and 1"),
            ("timeout=-0.1", "between 0 and 1"),
        ):
            with (
                mock.patch.dict(os.environ, {"X_FAULTS": raw}),
                self.assertRaisesMessage(ImproperlyConfigured, message),
            ):
                studio_settings.env_rates("X_FAULTS", kinds)

    def test_it_reads_lists_and_choices(self) -> None:
        with mock.patch.dict(os.environ, {"X_LIST": " a.example , b.example,,"}):
            self.assertEqual(studio_settings.env_list("X_LIST", []), ["a.example", "b.example"])
        with (
            mock.patch.dict(os.environ, {"X_CHOICE": "openai"}),
            self.assertRaisesMessage(ImproperlyConfigured, "X_CHOICE must be one of"),
        ):
            studio_settings.env_choice("X_CHOICE", "simulator", {"simulator", "acedata"})


class SqliteTests(SimpleTestCase):
    def test_sqlite_waits_its_turn_instead_of_failing(self) -> None:
        database = studio_settings.DATABASES["default"]
        if database["ENGINE"] != "django.db.backends.sqlite3":
            self.skipTest("running on another database")
        options = database["OPTIONS"]
        self.assertIn("journal_mode=WAL", options["init_command"])
        self.assertEqual(options["transaction_mode"], "IMMEDIATE")
        self.assertGreaterEqual(options["timeout"], 20)


class DocumentationTests(SimpleTestCase):
    def test_the_readme_documents_every_environment_variable(self) -> None:
        source = (ROOT / "sorastudio" / "settings.py").read_text()
        names = set(re.findall(r'env_[a-z_]+\(\s*"([A-Z0-9_]+)"', source))
        self.assertGreater(len(names), 20)
        readme = (ROOT / "README.md").read_text()
        missing = sorted(name for name in names if f"`{name}`" not in readme)
        self.assertEqual(missing, [])

    def test_ci_runs_the_readme_test_command(self) -> None:
        readme = (ROOT / "README.md").read_text()
        self.assertIn("make test", readme)
        self.assertIn("make test", (ROOT / ".ci" / "run").read_text())

    def test_make_test_runs_on_sqlite_and_again_on_postgresql_with_redis(self) -> None:
        makefile = (ROOT / "Makefile").read_text()
        self.assertRegex(makefile, r"(?m)^test: test-sqlite test-postgres$")
        recipes = dict(re.findall(r"(?m)^(test-sqlite|test-postgres):.*\n((?:\t.*\n)+)", makefile))
        self.assertRegex(recipes["test-sqlite"], r"DATABASE_URL= REDIS_URL= .*\$\(PYTEST\)")
        self.assertIn("scripts/test-services", recipes["test-postgres"])
        self.assertRegex(
            recipes["test-postgres"], r"DATABASE_URL=\$\(TEST_DATABASE_URL\) REDIS_URL=\$\(TEST_REDIS_URL\)"
        )
        self.assertRegex(makefile, r"(?m)^TEST_DATABASE_URL := postgres://\S+@127\.0\.0\.1:5432/")
        self.assertRegex(makefile, r"(?m)^TEST_REDIS_URL := redis://127\.0\.0\.1:6379/")
