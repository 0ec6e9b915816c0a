"""The import contracts of pyproject.toml's [tool.importlinter]: lib/ imports no app, upstream/ imports no
app, no lib and no Django. Run by import-linter, which reads the imports without importing anything."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.test import SimpleTestCase

ROOT = Path(__file__).resolve().parent.parent
# The entry point of the `lint-imports` script, run by this interpreter: no need to find the venv's bin.
LINT_IMPORTS = "import sys; from importlinter import cli; sys.exit(cli.lint_imports_command())"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over the sorastudio package in `root`, with this checkout's contracts."""
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class ImportContractTests(SimpleTestCase):
    def test_it_keeps_every_import_contract(self) -> None:
        result = lint_imports(ROOT)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("0 broken", result.stdout)

    def test_it_catches_an_app_imported_from_lib_and_django_from_upstream(self) -> None:
        """The contracts bite: a copy of the package with one forbidden import in each is refused."""
        with tempfile.TemporaryDirectory() as tmp:
            package = Path(tmp) / "sorastudio"
            skip = shutil.ignore_patterns("__pycache__", "locale", "static", "templates")
            shutil.copytree(ROOT / "sorastudio", package, ignore=skip)
            with (package / "lib" / "ranged.py").open("a") as lib:
                lib.write("\nfrom sorastudio.studio import models  # noqa\n")
            with (package / "upstream" / "errors.py").open("a") as upstream:
                upstream.write("\nimport django  # noqa\n")
            result = lint_imports(Path(tmp))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("lib imports no app BROKEN", result.stdout)
        self.assertIn("upstream imports no app, no lib and no Django BROKEN", result.stdout)
        self.assertIn("sorastudio.lib.ranged -> sorastudio.studio.models", result.stdout)
