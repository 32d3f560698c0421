"""Typed settings, read from the environment (and `.env` by the CLI), checked once at start."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from audits.errors import ConfigError
from graph.settings import GraphSettings

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/auditbot.db"
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
APP_TYPES = ("SingleTenant", "MultiTenant", "UserAssignedMSI")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, alias="AUDITBOT_DATABASE_URL")
    roles_file: Path | None = Field(None, alias="AUDITBOT_ROLES_FILE")
    config_dir: Path | None = Field(None, alias="AUDITBOT_CONFIG_DIR")
    default_policy: str = Field("swindon", alias="AUDITBOT_DEFAULT_POLICY")
    demo_mode: bool = Field(False, alias="AUDITBOT_DEMO")
    log_level: str = Field("WARNING", alias="AUDITBOT_LOG_LEVEL")
    # None: JSON lines for `serve` (a log collector reads them), text for the other commands.
    log_format: Literal["json", "text"] | None = Field(None, alias="AUDITBOT_LOG_FORMAT")
    # Who runs the command line here (allocate, extend, reassign): recorded in the audit
    # trail as the one who acted, unless the command names someone with --by.
    operator: str | None = Field(None, alias="AUDITBOT_OPERATOR")

    # Bot Framework (Azure Bot registration).
    app_id: str | None = Field(None, alias="MicrosoftAppId")
    app_password: str | None = Field(None, alias="MicrosoftAppPassword", repr=False)
    app_tenant_id: str | None = Field(None, alias="MicrosoftAppTenantId")
    app_type: str = Field("SingleTenant", alias="MicrosoftAppType")
    allowed_tenants: str = Field("", alias="AUDITBOT_ALLOWED_TENANTS")
    # Only for a sovereign cloud or a test: where the Bot Framework's signing keys are
    # published (empty: Microsoft's public cloud).
    bot_openid_metadata_url: str = Field("", alias="AUDITBOT_BOT_OPENID_METADATA_URL")
    # The bot's certificate instead of MicrosoftAppPassword (a PEM with the key, or PFX).
    bot_certificate: Path | None = Field(None, alias="AUDITBOT_BOT_CERTIFICATE")
    bot_certificate_password: str | None = Field(
        None, alias="AUDITBOT_BOT_CERTIFICATE_PASSWORD", repr=False
    )

    # Microsoft Graph (production) or the local sandbox.
    graph_url: str | None = Field(None, alias="AUDITBOT_GRAPH_URL")
    authority: str | None = Field(None, alias="AUDITBOT_AUTHORITY")
    client_id: str | None = Field(None, alias="AUDITBOT_CLIENT_ID")
    client_secret: str | None = Field(
        None, validation_alias=AliasChoices("AUDITBOT_CLIENT_SECRET"), repr=False
    )
    # How auditbot signs in to Graph (docs/deploy.md): unset, a certificate when
    # AUDITBOT_CLIENT_CERTIFICATE is set, else the client secret.
    graph_credential: Literal["secret", "certificate", "managed_identity", "federated"] | None = (
        Field(None, alias="AUDITBOT_GRAPH_CREDENTIAL")
    )
    client_certificate: Path | None = Field(None, alias="AUDITBOT_CLIENT_CERTIFICATE")
    client_certificate_password: str | None = Field(
        None, alias="AUDITBOT_CLIENT_CERTIFICATE_PASSWORD", repr=False
    )
    # The user-assigned managed identity (its client id) for managed_identity / federated.
    managed_identity_client_id: str | None = Field(
        None, alias="AUDITBOT_MANAGED_IDENTITY_CLIENT_ID"
    )
    # When the client secrets expire (Entra shows it; auditbot cannot read it without
    # more permissions): `doctor` warns 30 days before.
    client_secret_expires: date | None = Field(None, alias="AUDITBOT_CLIENT_SECRET_EXPIRES")
    bot_secret_expires: date | None = Field(None, alias="AUDITBOT_BOT_SECRET_EXPIRES")
    sharepoint_site: str | None = Field(None, alias="AUDITBOT_SHAREPOINT_SITE")
    tracker_list: str = Field("audit-tracker", alias="AUDITBOT_TRACKER_LIST")
    graph_ca_bundle: str | None = Field(None, alias="AUDITBOT_GRAPH_CA_BUNDLE")
    mail_sender: str | None = Field(None, alias="AUDITBOT_MAIL_SENDER")
    teams_app_id: str | None = Field(None, alias="AUDITBOT_TEAMS_APP_ID")

    # The Teams app package (`auditbot manifest build`).
    privacy_url: str | None = Field(None, alias="AUDITBOT_PRIVACY_URL")
    terms_url: str | None = Field(None, alias="AUDITBOT_TERMS_URL")
    website_url: str | None = Field(None, alias="AUDITBOT_WEBSITE_URL")
    developer_name: str = Field("Children's Services QA", alias="AUDITBOT_DEVELOPER_NAME")
    bot_domain: str | None = Field(None, alias="AUDITBOT_BOT_DOMAIN")
    # Traces and metrics to Application Insights (auditbot.telemetry); unset: none.
    applicationinsights_connection_string: str | None = Field(
        None, alias="APPLICATIONINSIGHTS_CONNECTION_STRING", repr=False
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url

        try:
            driver = make_url(value).drivername
        except Exception:  # SQLAlchemy's ArgumentError says little more
            raise ValueError(
                "is not a database URL (sqlite+aiosqlite:///path.db or "
                "postgresql+asyncpg://user:password@host/db)"
            ) from None
        if driver not in DATABASE_DRIVERS:
            raise ValueError(
                f"uses '{driver}': it must start with sqlite+aiosqlite:/// or postgresql+asyncpg://"
            )
        return value

    @field_validator("app_type")
    @classmethod
    def _app_type(cls, value: str) -> str:
        for known in APP_TYPES:
            if value.strip().lower() == known.lower():
                return known
        raise ValueError(f"is '{value}': it must be one of {', '.join(APP_TYPES)}")

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"is '{value}': it must be one of {', '.join(LOG_LEVELS)}")
        return value.strip().upper()

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("developer_name")
    @classmethod
    def _developer_name(cls, value: str) -> str:
        if not value.strip() or len(value) > 32:
            raise ValueError("must be 1 to 32 characters (Teams shows it as the app's publisher)")
        return value

    @property
    def tenants(self) -> frozenset[str]:
        """The tenants served: AUDITBOT_ALLOWED_TENANTS, else the bot's own tenant."""
        listed = frozenset(t.strip() for t in self.allowed_tenants.split(",") if t.strip())
        return listed or (frozenset({self.app_tenant_id}) if self.app_tenant_id else frozenset())

    def problems(self) -> list[str]:
        """What is wrong with the settings taken together, one line each naming the setting.

        Kept apart from the field validators so tests may build settings with made-up
        tenant names; every start-up goes through `load_settings`, which checks these.
        """
        found: list[str] = []
        for entry in (t.strip() for t in self.allowed_tenants.split(",")):
            if entry and not is_guid(entry):
                found.append(
                    f"AUDITBOT_ALLOWED_TENANTS: '{entry}' is not a tenant id (a GUID such as "
                    "72f988bf-86f1-41af-91ab-2d7cd011db47); separate several with commas"
                )
        if self.app_id and not is_guid(self.app_id):
            found.append(
                f"MicrosoftAppId: '{self.app_id}' is not an app id (the GUID on the Azure Bot's "
                "Configuration page)"
            )
        if self.app_tenant_id and not is_guid(self.app_tenant_id):
            found.append(
                f"MicrosoftAppTenantId: '{self.app_tenant_id}' is not a tenant id (a GUID)"
            )
        if (
            self.app_id
            and self.app_type != "UserAssignedMSI"
            and not self.app_password
            and not self.bot_certificate
        ):
            found.append("MicrosoftAppPassword: MicrosoftAppId is set but its client secret is not")
        if self.app_id and self.app_type != "MultiTenant" and not self.app_tenant_id:
            found.append(
                f"MicrosoftAppTenantId: MicrosoftAppType is {self.app_type}, which needs the "
                "tenant id of the bot's Entra app"
            )
        if self.app_password and not self.app_id:
            found.append("MicrosoftAppId: MicrosoftAppPassword is set but the app id is not")
        if self.graph_url:
            found += [
                f"{name}: AUDITBOT_GRAPH_URL is set but {name} is not"
                for name in self._graph_missing()
            ]
        for name, url in (
            ("AUDITBOT_GRAPH_URL", self.graph_url),
            ("AUDITBOT_AUTHORITY", self.authority),
            ("AUDITBOT_PRIVACY_URL", self.privacy_url),
            ("AUDITBOT_TERMS_URL", self.terms_url),
            ("AUDITBOT_WEBSITE_URL", self.website_url),
        ):
            if url and not url.lower().startswith("https://"):
                found.append(f"{name}: '{url}' must start with https://")
        for name, path in (
            ("AUDITBOT_ROLES_FILE", self.roles_file),
            ("AUDITBOT_CLIENT_CERTIFICATE", self.client_certificate),
            ("AUDITBOT_BOT_CERTIFICATE", self.bot_certificate),
            (
                "AUDITBOT_GRAPH_CA_BUNDLE",
                Path(self.graph_ca_bundle) if self.graph_ca_bundle else None,
            ),
        ):
            if path is not None and not path.is_file():
                found.append(f"{name}: there is no file {path}")
        if self.operator is not None and "@" not in self.operator:
            found.append(
                f"AUDITBOT_OPERATOR: '{self.operator}' is not an e-mail address (the account "
                "of the QA officer or manager who runs the command line)"
            )
        if self.config_dir is not None and not self.config_dir.is_dir():
            found.append(f"AUDITBOT_CONFIG_DIR: there is no folder {self.config_dir}")
        return found

    @property
    def graph_configured(self) -> bool:
        return bool(self.graph_url)

    @property
    def graph_credential_kind(self) -> str:
        """The Graph credential in use: as set, else a certificate if one is named, else
        the client secret."""
        if self.graph_credential:
            return self.graph_credential
        return "certificate" if self.client_certificate else "secret"

    def _graph_missing(self) -> list[str]:
        kind = self.graph_credential_kind
        needed: list[tuple[str, object]] = [("AUDITBOT_AUTHORITY", self.authority)]
        if kind != "managed_identity":
            needed.append(("AUDITBOT_CLIENT_ID", self.client_id))
        own: dict[str, list[tuple[str, object]]] = {
            "secret": [("AUDITBOT_CLIENT_SECRET", self.client_secret)],
            "certificate": [("AUDITBOT_CLIENT_CERTIFICATE", self.client_certificate)],
            "managed_identity": [
                ("AUDITBOT_MANAGED_IDENTITY_CLIENT_ID", self.managed_identity_client_id)
            ],
            "federated": [("AUDITBOT_MANAGED_IDENTITY_CLIENT_ID", self.managed_identity_client_id)],
        }
        needed += own[kind]
        needed.append(("AUDITBOT_SHAREPOINT_SITE", self.sharepoint_site))
        return [name for name, value in needed if not value]

    def graph_settings(self) -> GraphSettings:
        missing = self._graph_missing()
        if missing:
            raise ConfigError(f"AUDITBOT_GRAPH_URL is set but {', '.join(missing)} is not")
        assert self.graph_url and self.authority and self.sharepoint_site
        return GraphSettings(
            graph_url=self.graph_url,
            authority=self.authority,
            client_id=self.client_id or str(self.managed_identity_client_id),
            credential=self.graph_credential_kind,
            client_secret=self.client_secret,
            certificate=str(self.client_certificate) if self.client_certificate else None,
            certificate_password=self.client_certificate_password,
            managed_identity_client_id=self.managed_identity_client_id,
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
    """The settings, checked: a wrong or missing one stops start-up with one line naming it."""
    try:
        settings = Settings(_env_file=env_file)
    except ValidationError as exc:
        raise ConfigError(f"setting {validation_problems(exc)[0]}") from None
    problems = settings.problems()
    if problems:
        raise ConfigError(f"setting {problems[0]}")
    return settings


def validation_problems(exc: ValidationError) -> list[str]:
    """Each of pydantic's complaints as "NAME: what is wrong"."""
    found = []
    for error in exc.errors():
        name = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        found.append(f"{name}: {message}")
    return found
