import pytest
from django.test import Client

from tests.factories import start_positioning


@pytest.fixture
def positioning(client, version):
    """A draft positioning started by the `client` browser, granted to its session only."""
    return start_positioning(client)


@pytest.fixture
def outsider(version):
    """Another browser, with its own session and its own positioning."""
    other = Client()
    start_positioning(other)
    return other
