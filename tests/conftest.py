import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import override_settings
from django.utils import translation
from django_q.brokers import get_broker
from django_q.conf import Conf

from sorastudio.pipeline import providers
from tests.helpers import simulator_transport


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser modules first: they take the longest, so started first the short modules fill in around
    them, and the two workers of `make test` (`-n 2 --dist loadfile --no-loadscope-reorder`) end together.
    pytest-django runs transactional tests last, and xdist by default runs the modules with the most
    tests first: either way the few-but-slow browser modules came last, on one worker while the other
    sat idle. (No test relies on what a migration writes, which a transactional test's flush removes.)"""
    items.sort(key=lambda item: item.get_closest_marker("browser") is None)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> Iterator[None]:
    """A test database of this run's own (a file on SQLite, a database on PostgreSQL), so that two runs on
    one machine never share one nor drop the other's. pytest-django has already suffixed the name with
    the xdist worker (test_sorastudio_gw0)."""
    database = django_settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if database["ENGINE"].endswith("sqlite3"):
        name = Path(test.get("NAME") or django_settings.DATA_DIR / "test-studio.sqlite3")
        test["NAME"] = str(name.with_name(f"{name.stem}-{os.getpid()}{name.suffix}"))
    else:
        test["NAME"] = f"{test.get('NAME') or 'test_' + database['NAME']}_{os.getpid()}"
    yield
    # After pytest-django has dropped the test database: SQLite leaves its WAL files beside the deleted one.
    if database["ENGINE"].endswith("sqlite3"):
        for leftover in ("-wal", "-shm"):
            Path(test["NAME"] + leftover).unlink(missing_ok=True)


@pytest.fixture(scope="session", autouse=True)
def _queue_of_this_run() -> Iterator[None]:
    """On Redis, a queue of this test process's own: the Redis server is shared by every run and every xdist
    worker, and a browser test's worker must only take the tasks of its own test database. The queue
    worker it starts inherits the name through Q_CLUSTER_NAME. (The ORM broker's queue lives in the test
    database, which is this process's own already.)"""
    if not django_settings.REDIS_URL:
        yield
        return
    name = f"{Conf.PREFIX}-test-{os.getpid()}"
    previous = Conf.PREFIX, Conf.CLUSTER_NAME, Conf.Q_STAT, os.environ.get("Q_CLUSTER_NAME")
    Conf.PREFIX = Conf.CLUSTER_NAME = name
    Conf.Q_STAT = f"django_q:{name}:cluster"
    os.environ["Q_CLUSTER_NAME"] = name
    try:
        yield
    finally:
        broker = get_broker()
        for key in broker.connection.scan_iter(f"django_q:{name}:*"):
            broker.connection.delete(key)
        Conf.PREFIX, Conf.CLUSTER_NAME, Conf.Q_STAT, cluster_name = previous
        if cluster_name is None:
            os.environ.pop("Q_CLUSTER_NAME", None)
        else:
            os.environ["Q_CLUSTER_NAME"] = cluster_name


@pytest.fixture(scope="session", autouse=True)
def _studio_defaults() -> Iterator[None]:
    """Defaults for the whole run, set before any test class starts, so that a class's or a test's own
    override_settings still wins: the simulator instant, no callbacks, the simulator at the test host."""
    django_settings.SIMULATOR_SECONDS = 0
    django_settings.PUBLIC_BASE_URL = ""
    django_settings.SIMULATOR_BASE_URL = "http://testserver"
    # Static files from the source folders, as in development: with DEBUG off by default the settings ask
    # for collectstatic's manifest, which a test run of changed files must not depend on. And a fast hasher.
    static = override_settings(
        STORAGES={
            **django_settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        WHITENOISE_USE_FINDERS=True,
        # Django's advice for test runs: a password hashed with PBKDF2's million rounds costs about half a
        # second, and nearly every test makes a person or logs one in. PBKDF2 stays listed, for a hash
        # made by a subprocess (a management command) to still be read.
        PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.MD5PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        ],
    )
    static.enable()
    yield
    static.disable()


@pytest.fixture(autouse=True)
def _studio_test_settings(request: pytest.FixtureRequest) -> None:
    # Browser tests run a real queue worker and serve its files, so they set up their own class-wide
    # data folder, queue and upstream wiring (tests/browser.py) instead of this per-test one.
    if request.node.get_closest_marker("browser") is None:
        request.getfixturevalue("settings_override")


@pytest.fixture(autouse=True)
def _english_by_default() -> Iterator[None]:
    """A request in another language leaves that language active in the thread (LocaleMiddleware does not
    switch back), so every test starts in the default language whatever ran before it in this worker."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _no_kept_fragments() -> None:
    """Every test starts without the gallery's kept cards and filters of earlier tests in this worker."""
    caches["template_fragments"].clear()


@pytest.fixture
def settings_override(settings: Any) -> Iterator[None]:
    """Every test: data and media in a fresh folder, the queue in-process, and the upstream client wired to
    the simulator without a network."""
    media = Path(tempfile.mkdtemp(prefix="studio-data-"))
    settings.DATA_DIR = media
    settings.MEDIA_ROOT = str(media / "media")
    previous_sync, previous_transport = Conf.SYNC, providers.transport_override
    Conf.SYNC = True
    providers.transport_override = simulator_transport()
    try:
        yield
    finally:
        Conf.SYNC = previous_sync
        providers.transport_override = previous_transport
        shutil.rmtree(media, ignore_errors=True)
