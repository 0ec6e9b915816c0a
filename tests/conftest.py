import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from django_q.conf import Conf

from sorastudio.studio import providers
from tests.helpers import simulator_transport


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A test database file of this run's own, so that two runs on one machine never share one."""
    database = django_settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        test = database.setdefault("TEST", {})
        name = Path(test.get("NAME") or django_settings.DATA_DIR / "test-studio.sqlite3")
        test["NAME"] = str(name.with_name(f"{name.stem}-{os.getpid()}{name.suffix}"))


@pytest.fixture(scope="session", autouse=True)
def _studio_defaults() -> None:
    """Defaults for the whole run, set before any test class starts, so that a class's or a test's own
    override_settings still wins: the simulator instant, no callbacks, the simulator at the test host."""
    django_settings.SIMULATOR_SECONDS = 0
    django_settings.PUBLIC_BASE_URL = ""
    django_settings.SIMULATOR_BASE_URL = "http://testserver"


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
