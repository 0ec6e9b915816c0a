"""What a studio's database holds, as JSON: every table's rows (a count and a digest), every model's rows
through the ORM, every stored file's digest, the ledger's balances and the content types' ids.

Run against the DATA_DIR in the environment (`DATA_DIR=… python tests/premove/manifest.py`). It finds models
by name, not by app, so the same script describes a database before the models moved between apps (on the
main of 2026-12-03, commit c622c78, which made premove.json) and after (tests/test_migrations.py), and the
two descriptions must match. (Its table digests were worked out again from premove.sql.gz when rows came
to be read by column name, for the studio's first new column since: the same rows, another digest.)"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Tables whose rows a move between apps rewrites on purpose, compared by the test on their own terms.
REWRITTEN = {"django_migrations", "django_content_type"}
PROJECT = "sorastudio."
# Columns added by migrations since premove.json was made: left out of their tables' digests, so the rows
# that were there compare as they were (a new column's value is its default, which the migration sets).
ADDED_COLUMNS = {"studio_generation": {"demo"}, "studio_comment": {"drawing", "guest_name", "link_id"}}
# Models added since: their tables start empty, and the permissions Django makes for them are left out.
ADDED_MODELS = {"reviewlink", "clientverdict", "linkfailure", "apitoken"}


def _added_since(table: str, row: dict[str, Any]) -> bool:
    return table == "auth_permission" and str(row["codename"]).split("_", 1)[-1] in ADDED_MODELS


def table_rows(connection: Any) -> dict[str, dict[str, Any]]:
    """Each table's row count and a digest of its rows, each row read by column name (a migration that
    rebuilds a table may reorder its columns), without the columns added since (ADDED_COLUMNS)."""
    tables = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            if table in REWRITTEN:
                continue
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the schema itself
            names = [column[0] for column in cursor.description]
            added = ADDED_COLUMNS.get(table, set())
            read = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            rows = sorted(
                json.dumps(
                    {name: value for name, value in row.items() if name not in added},
                    default=str,
                    sort_keys=True,
                )
                for row in read
                if not _added_since(table, row)
            )
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            tables[table] = {"rows": len(rows), "sha256": digest}
    return tables


def project_models() -> list[Any]:
    from django.apps import apps

    return sorted(
        (model for model in apps.get_models() if model.__module__.startswith(PROJECT)),
        key=lambda model: model.__name__,
    )


def files(models: list[Any]) -> dict[str, str]:
    from django.core.files.storage import default_storage
    from django.db.models import FileField

    found = {}
    for model in models:
        fields = [field.name for field in model._meta.get_fields() if isinstance(field, FileField)]
        for row in model.objects.order_by("pk").values("pk", *fields):
            for name in fields:
                if row[name]:
                    with default_storage.open(row[name]) as stored:
                        digest = hashlib.sha256(stored.read()).hexdigest()
                    found[f"{model.__name__}:{row['pk']}:{name}:{row[name]}"] = digest
    return found


def balances(models: list[Any]) -> dict[str, int]:
    from django.db.models import Sum

    ledger = next(model for model in models if model.__name__ == "LedgerEntry")
    sums = ledger.objects.values("team_id", "user_id", "kind").annotate(total=Sum("credits"))
    return {f"{row['team_id']}:{row['user_id']}:{row['kind']}": row["total"] for row in sums}


def manifest() -> dict[str, Any]:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django_q.models import Schedule

    models = project_models()
    types = ContentType.objects.filter(app_label__in=["studio", "teams", "billing", "pipeline", "simulator"])
    return {
        "tables": table_rows(connection),
        "models": {model.__name__: model.objects.count() for model in models},
        "files": files(models),
        "balances": balances(models),
        "content_types": {kind.model: kind.pk for kind in types},
        "labels": {kind.model: kind.app_label for kind in types},
        "schedules": {row.name: row.func for row in Schedule.objects.all()},
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sorastudio.settings")
    import django

    django.setup()
    json.dump(manifest(), sys.stdout, indent=1, sort_keys=True)
