"""Typed settings, read from the environment (and `.env` by the CLI), checked once at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from audits.errors import ConfigError
from graph.client import GraphSettings

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
    app_password: str | None = Field(None, alias="MicrosoftAppPassword", repr=False)
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
    tracker_list: str = Field("audit-tracker", alias="AUDITBOT_TRACKER_LIST")
    graph_ca_bundle: str | None = Field(None, alias="AUDITBOT_GRAPH_CA_BUNDLE")
    mail_sender: str | None = Field(None, alias="AUDITBOT_MAIL_SENDER")
    teams_app_id: str | None = Field(None, alias="AUDITBOT_TEAMS_APP_ID")

    @property
    def graph_configured(self) -> bool:
        return bool(self.graph_url)

    def graph_settings(self) -> GraphSettings:
        missing = [
            name
            for name, value in (
                ("AUDITBOT_AUTHORITY", self.authority),
                ("AUDITBOT_CLIENT_ID", self.client_id),
                ("AUDITBOT_CLIENT_SECRET", self.client_secret),
                ("AUDITBOT_SHAREPOINT_SITE", self.sharepoint_site),
            )
            if not value
        ]
        if missing:
            raise ConfigError(f"AUDITBOT_GRAPH_URL is set but {', '.join(missing)} is not")
        assert self.graph_url and self.authority and self.client_id and self.client_secret
        assert self.sharepoint_site
        return GraphSettings(
            graph_url=self.graph_url,
            authority=self.authority,
            client_id=self.client_id,
            client_secret=self.client_secret,
            site_id=self.sharepoint_site,
            tracker_list=self.tracker_list,
            mail_sender=self.mail_sender,
            teams_app_id=self.teams_app_id,
            ca_bundle=self.graph_ca_bundle,
        )

    @property
    def chat_link(self) -> str | None:
        """A Teams link that opens the chat with the bot."""
        return (
            f"https://teams.microsoft.com/l/chat/0/0?users=28:{self.app_id}"
            if self.app_id
            else None
        )


def load_settings(env_file: Path | None = None) -> Settings:
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"setting {name}: {first['msg']}") from None
