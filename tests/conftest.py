import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django_q.conf import Conf

from sorastudio.studio import providers
from tests.helpers import simulator_transport


@pytest.fixture(autouse=True)
def _studio_test_settings(settings_override: None) -> Iterator[None]:
    yield


@pytest.fixture
def settings_override(settings: pytest.FixtureRequest) -> Iterator[None]:
    """Every test: media in a fresh folder, the simulator instant, the queue in-process, and the upstream
    client wired to the simulator without a network."""
    media = Path(tempfile.mkdtemp(prefix="studio-data-"))
    settings.DATA_DIR = media
    settings.MEDIA_ROOT = str(media / "media")
    settings.SIMULATOR_SECONDS = 0
    settings.PUBLIC_BASE_URL = ""
    settings.SIMULATOR_BASE_URL = "http://testserver"
    previous_sync, previous_transport = Conf.SYNC, providers.transport_override
    Conf.SYNC = True
    providers.transport_override = simulator_transport()
    try:
        yield
    finally:
        Conf.SYNC = previous_sync
        providers.transport_override = previous_transport
        shutil.rmtree(media, ignore_errors=True)
