"""The live tests' private PostgreSQL and Redis: started once per session, only when asked for."""

import pytest

from config.tests.servers import LiveServers


@pytest.fixture(scope="session")
def live_servers():
    servers = LiveServers()
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()
