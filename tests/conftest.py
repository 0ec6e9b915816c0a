import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django_q.conf import Conf

from sorastudio.studio import providers
from tests.helpers import simulator_transport


@pytest.fixture(scope="session", autouse=True)
def _studio_defaults() -> None:
    """Defaults for the whole run, set before any test class starts, so that a class's or a test's own
    override_settings still wins: the simulator instant, no callbacks, the simulator at the test host."""
    django_settings.SIMULATOR_SECONDS = 0
    django_settings.PUBLIC_BASE_URL = ""
    django_settings.SIMULATOR_BASE_URL = "http://testserver"


@pytest.fixture(autouse=True)
def _studio_test_settings(settings_override: None) -> Iterator[None]:
    yield


@pytest.fixture
def settings_override(settings: pytest.FixtureRequest) -> Iterator[None]:
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
