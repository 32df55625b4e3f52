"""The event-store suite on SQLite (a WAL file) and on PostgreSQL (its own schema)."""

from __future__ import annotations

import pytest

from tests.eventstore.store_suite import StoreSuite


class TestSQLite(StoreSuite):
    @pytest.fixture
    def url(self, sqlite_url: str) -> str:
        return sqlite_url


@pytest.mark.integration
class TestPostgreSQL(StoreSuite):
    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url
