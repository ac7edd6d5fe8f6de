"""Effective settings, read once from the environment and `.env` (prefix COALITION_)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COALITION_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///coalition.db", description="SQLAlchemy URL of the database."
    )
    log_level: LogLevel = Field(default="INFO", description="Logging level.")
    secret_key: SecretStr = Field(
        default=SecretStr("dev-only-change-me"),
        description="Key that signs session cookies and CSRF tokens; set it in production.",
    )
    host: str = Field(default="127.0.0.1", description="Address `coalition serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `coalition serve` uses.")

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, value: str) -> str:
        # Users paste libpq URLs; SQLAlchemy needs the psycopg 3 driver named explicitly.
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.removeprefix("postgres://")
        return value

    def masked(self) -> dict[str, Any]:
        """The settings as shown to people: secrets and URL passwords hidden."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                shown[name] = "********" if value.get_secret_value() else ""
            elif name == "database_url":
                shown[name] = mask_url_password(value)
            else:
                shown[name] = value
        return shown


def mask_url_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
