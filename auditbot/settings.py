"""Typed settings, read from the environment (and `.env` by the CLI), checked once at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from audits.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/auditbot.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, alias="AUDITBOT_DATABASE_URL")
    roles_file: Path | None = Field(None, alias="AUDITBOT_ROLES_FILE")
    config_dir: Path | None = Field(None, alias="AUDITBOT_CONFIG_DIR")
    default_policy: str = Field("swindon", alias="AUDITBOT_DEFAULT_POLICY")
    demo_mode: bool = Field(False, alias="AUDITBOT_DEMO")
    log_level: str = Field("WARNING", alias="AUDITBOT_LOG_LEVEL")

    # Bot Framework (Azure Bot registration).
    app_id: str | None = Field(None, alias="MicrosoftAppId")
    app_password: str | None = Field(None, alias="MicrosoftAppPassword")
    app_tenant_id: str | None = Field(None, alias="MicrosoftAppTenantId")
    app_type: str = Field("SingleTenant", alias="MicrosoftAppType")
    allowed_tenants: str = Field("", alias="AUDITBOT_ALLOWED_TENANTS")

    # Microsoft Graph (production) or the local sandbox.
    graph_url: str | None = Field(None, alias="AUDITBOT_GRAPH_URL")
    authority: str | None = Field(None, alias="AUDITBOT_AUTHORITY")
    client_id: str | None = Field(None, alias="AUDITBOT_CLIENT_ID")
    client_secret: str | None = Field(
        None, validation_alias=AliasChoices("AUDITBOT_CLIENT_SECRET"), repr=False
    )
    sharepoint_site: str | None = Field(None, alias="AUDITBOT_SHAREPOINT_SITE")


def load_settings(env_file: Path | None = None) -> Settings:
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"setting {name}: {first['msg']}") from None
