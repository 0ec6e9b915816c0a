"""How the code is laid out, checked: the import contracts of pyproject.toml's [tool.importlinter] (which
app may import which; run by import-linter, which reads the imports without importing anything), views
imported by URLconfs alone, and no import cycle between any two modules. The last two read the same import
graph, with grimp (import-linter's own), including imports inside functions and under TYPE_CHECKING: a
cycle bridged by a late import is still a cycle."""

from __future__ import annotations

import json
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

    def test_it_catches_an_app_imported_from_lib_django_from_upstream_and_a_layer_from_below(self) -> None:
        """The contracts bite: a copy of the package with one forbidden import in each is refused."""
        with tempfile.TemporaryDirectory() as tmp:
            package = Path(tmp) / "sorastudio"
            skip = shutil.ignore_patterns("__pycache__", "locale", "static", "templates")
            shutil.copytree(ROOT / "sorastudio", package, ignore=skip)
            with (package / "lib" / "ranged.py").open("a") as lib:
                lib.write("\nfrom sorastudio.studio import models  # noqa\n")
            with (package / "upstream" / "errors.py").open("a") as upstream:
                upstream.write("\nimport django  # noqa\n")
            with (package / "billing" / "costs.py").open("a") as billing:
                billing.write("\n\ndef late():\n    from sorastudio.pipeline import tasks  # noqa\n")
            result = lint_imports(Path(tmp))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("lib imports no app BROKEN", result.stdout)
        self.assertIn("upstream imports no app, no lib and no Django BROKEN", result.stdout)
        self.assertIn("sorastudio.lib.ranged -> sorastudio.studio.models", result.stdout)
        self.assertIn("pipeline > billing > the studio's models > teams > lib BROKEN", result.stdout)
        self.assertIn("sorastudio.billing.costs -> sorastudio.pipeline.tasks", result.stdout)


# The graph of the sorastudio package under `root`, read in a fresh interpreter (this one has already
# imported this checkout's package), as each module and the modules it imports.
GRAPH = (
    "import grimp, json; g = grimp.build_graph('sorastudio', cache_dir=None); "
    "print(json.dumps({m: sorted(g.find_modules_directly_imported_by(m)) for m in g.modules}))"
)


class Graph:
    def __init__(self, imports: dict[str, list[str]]) -> None:
        self.modules = set(imports)
        self.imports = {module: set(imported) for module, imported in imports.items()}

    def find_modules_directly_imported_by(self, module: str) -> set[str]:
        return self.imports[module]

    def find_modules_that_directly_import(self, module: str) -> set[str]:
        return {importer for importer, imported in self.imports.items() if module in imported}


def import_graph(root: Path = ROOT) -> Graph:
    result = subprocess.run(
        [sys.executable, "-c", GRAPH], cwd=root, capture_output=True, text=True, timeout=120, check=True
    )
    return Graph(json.loads(result.stdout))


def is_views(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "views" or last.endswith("_views")


def is_urlconf(module: str) -> bool:
    return module == "sorastudio.urls" or module.endswith(".urls")


def views_importers(graph: Graph) -> dict[str, set[str]]:
    """Each views module and the modules other than URLconfs that import it."""
    return {
        views: {m for m in graph.find_modules_that_directly_import(views) if not is_urlconf(m)}
        for views in sorted(filter(is_views, graph.modules))
    }


def cycles(graph: Graph) -> list[list[str]]:
    """The import cycles between modules (migrations left out), each as its modules, by Tarjan's
    strongly connected components."""
    modules = {m for m in graph.modules if ".migrations" not in m}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module) & modules:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while (top := stack.pop()) != module:
                component.append(top)
            if component:
                found.append(sorted([module, *component]))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


class LayoutTests(SimpleTestCase):
    graph: Graph

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.graph = import_graph()

    def test_it_imports_views_from_urlconfs_alone(self) -> None:
        importers = views_importers(self.graph)
        self.assertIn("sorastudio.studio.views", importers)
        self.assertEqual({views: found for views, found in importers.items() if found}, {})

    def test_it_has_no_import_cycle(self) -> None:
        self.assertEqual(cycles(self.graph), [])

    def test_it_finds_a_view_imported_elsewhere_and_a_cycle(self) -> None:
        """The two checks bite: in a copy of the package, a template tag that imports a view is found, and
        so is the cycle a late import makes."""
        with tempfile.TemporaryDirectory() as tmp:
            package = Path(tmp) / "sorastudio"
            skip = shutil.ignore_patterns("__pycache__", "locale", "static", "templates")
            shutil.copytree(ROOT / "sorastudio", package, ignore=skip)
            with (package / "studio" / "templatetags" / "studio_tags.py").open("a") as tags:
                tags.write("\nfrom sorastudio.studio import review_views  # noqa\n")
            with (package / "lib" / "ranged.py").open("a") as lib:
                lib.write("\n\ndef late():\n    from sorastudio.lib import storage  # noqa\n")
            with (package / "lib" / "storage.py").open("a") as lib:
                lib.write("\n\ndef late():\n    from sorastudio.lib import ranged  # noqa\n")
            graph = import_graph(Path(tmp))
        self.assertIn(
            "sorastudio.studio.templatetags.studio_tags",
            views_importers(graph)["sorastudio.studio.review_views"],
        )
        self.assertIn(["sorastudio.lib.ranged", "sorastudio.lib.storage"], cycles(graph))
