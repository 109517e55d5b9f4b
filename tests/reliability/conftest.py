import pytest

from tests.factories import start_positioning

from .server import Gunicorn


@pytest.fixture
def positioning(client, version):
    """A draft positioning started by the `client` browser."""
    return start_positioning(client)


@pytest.fixture
def gunicorn(transactional_db, version, tmp_path):
    """start(workers=...) -> a gunicorn serving this test's database; stopped after the test."""
    servers: list[Gunicorn] = []

    def start(*, workers: int = 3, timeout: int = 30) -> Gunicorn:
        server = Gunicorn(workers=workers, log=tmp_path / f"gunicorn-{len(servers)}.log", timeout=timeout)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()
