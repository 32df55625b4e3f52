"""Where the event store lives: a SQLite file under the data dir, or a database URL."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

SQLITE_FILE_NAME = "events.sqlite3"
SUPPORTED_SCHEMES = ("sqlite", "postgresql")


class StoreSettings(BaseModel):
    """The event store's settings; the app shell composes them from the global settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    db_url: str | None = Field(
        None,
        description="SQLAlchemy URL (sqlite:///FILE or postgresql+psycopg://...); unset: "
        f"a SQLite file {SQLITE_FILE_NAME} under data_dir",
    )
    data_dir: Path = Field(Path("data"), description="where the default SQLite file lives")
    store_page_limit: int = Field(
        1000, ge=1, le=100_000, description="largest page an event-store query returns"
    )

    @field_validator("db_url")
    @classmethod
    def _known_scheme(cls, url: str | None) -> str | None:
        if url is None:
            return None
        scheme = url.split(":", 1)[0].split("+", 1)[0]
        if scheme not in SUPPORTED_SCHEMES or "://" not in url:
            raise ValueError(
                f"database URL {url!r} is neither sqlite:///FILE nor postgresql+psycopg://..."
            )
        return url

    @property
    def url(self) -> str:
        if self.db_url is not None:
            return self.db_url
        return f"sqlite:///{self.data_dir / SQLITE_FILE_NAME}"
