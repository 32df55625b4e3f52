"""Database fixtures of the event-store suite (shared with the CLI tests)."""

from tests.store_support import postgres_url, sqlite_url, url

__all__ = ["postgres_url", "sqlite_url", "url"]
