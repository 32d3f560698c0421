"""infra/main.bicep, parsed (tests/support/bicep.py) and checked: the resources a council
needs, every setting the bot reads given to it, no secret in plain text, HTTPS only and
TLS 1.2 or newer everywhere, parameters documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from auditbot.settings import Settings
from tests.support import bicep
from tests.support.bicep import Call, Member, Obj, Ref, Str, get, literal, walk

ROOT = Path(__file__).resolve().parents[1]
MAIN = ROOT / "infra" / "main.bicep"
SECRETS = "Microsoft.KeyVault/vaults/secrets"

# Settings auditbot reads that an Azure installation does not set, each with its reason.
NOT_IN_AZURE = {
    "AUDITBOT_DEMO": "demo mode, never in production",
    "AUDITBOT_OPERATOR": "who runs the command line: set in the admin's own shell",
    "AUDITBOT_BOT_OPENID_METADATA_URL": "only for a sovereign cloud or a test",
    "AUDITBOT_GRAPH_CA_BUNDLE": "only for the local sandbox",
    "MicrosoftAppPassword": "the bot signs in as the managed identity",
    "AUDITBOT_BOT_CERTIFICATE": "the bot signs in as the managed identity",
    "AUDITBOT_BOT_CERTIFICATE_PASSWORD": "the bot signs in as the managed identity",
    "AUDITBOT_BOT_SECRET_EXPIRES": "the bot has no secret",
    "AUDITBOT_CLIENT_SECRET": "Graph is signed in for through the federated credential",
    "AUDITBOT_CLIENT_CERTIFICATE": "Graph is signed in for through the federated credential",
    "AUDITBOT_CLIENT_CERTIFICATE_PASSWORD": "Graph is signed in for through the federated credential",
    "AUDITBOT_CLIENT_SECRET_EXPIRES": "Graph has no secret",
}
# Given only when the parameter behind it is (concat of optional settings).
OPTIONAL = {
    "AUDITBOT_MAIL_SENDER",
    "AUDITBOT_TEAMS_APP_ID",
    "AUDITBOT_ALLOWED_TENANTS",
    "AUDITBOT_CONFIG_DIR",
    "AUDITBOT_WEBSITE_URL",
}
# Read from Key Vault: what holds a password or a key.
KEY_VAULT = {"AUDITBOT_DATABASE_URL", "APPLICATIONINSIGHTS_CONNECTION_STRING"}
SECRET_NAME = re.compile(r"password|secret|connectionstring|instrumentationkey|apikey", re.I)


def _template(text: str | None = None) -> bicep.Template:
    return bicep.parse(text if text is not None else MAIN.read_text())


def _setting_names() -> set[str]:
    names = set()
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias or info.alias or name
        names |= set(getattr(alias, "choices", [alias]))
    return {str(n) for n in names} | {"APPLICATIONINSIGHTS_CONNECTION_STRING"}


def _app_settings(t: bicep.Template) -> dict[str, object]:
    """The web app's settings, name → value expression, through concat() and variables."""
    [web] = t.of_type("Microsoft.Web/sites")
    found: dict[str, object] = {}
    root = get(web.properties, "properties", "siteConfig", "appSettings")
    pending = [root]
    while pending:
        for node in walk(pending.pop()):
            if isinstance(node, Ref) and node.name in t.variables:
                pending.append(t.variables[node.name])
            if isinstance(node, Obj) and set(node.items) == {"name", "value"}:
                found[str(literal(node.items["name"]))] = node.items["value"]
    return found


def _refers_to(node: object, t: bicep.Template, resource_type: str) -> bool:
    """Whether the expression reads a property of a resource of that type."""
    names = {r.name for r in t.of_type(resource_type)}
    return any(
        isinstance(n, Member) and isinstance(n.target, Ref) and n.target.name in names
        for n in walk(node)
    )


def plain_text_secrets(t: bicep.Template) -> list[str]:
    """Where a secret would be written in plain text: a password, secret or connection string
    given as text or from a parameter not marked @secure(); a secret setting not read from
    Key Vault; a Key Vault secret whose value is text."""
    problems = []
    secure = {name for name, p in t.params.items() if p.decorated("secure")}
    for name, param in t.params.items():
        if SECRET_NAME.search(name) and name not in secure:
            problems.append(f"param {name} holds a secret but is not @secure()")
        if name in secure and param.default is not None and literal(param.default) is not None:
            problems.append(f"param {name} has a secret written as its default")
    for resource in t.resources:
        for node in walk(resource.body):
            if not isinstance(node, Obj):
                continue
            for key, value in node.items.items():
                if not SECRET_NAME.search(key) or key.lower().endswith("uri"):
                    continue
                if literal(value) is not None:
                    problems.append(f"{resource.name}.{key} is written as text")
                elif isinstance(value, Ref) and value.name in t.params and value.name not in secure:
                    problems.append(f"{resource.name}.{key} comes from a parameter not @secure()")
    for secret in t.of_type(SECRETS):
        value = get(secret.properties, "properties", "value")
        if value is None or literal(value) is not None:
            problems.append(f"Key Vault secret {secret.name} is given as text")
    for name, value in _app_settings(t).items():
        if name in KEY_VAULT or SECRET_NAME.search(name):
            text = value.parts[0] if isinstance(value, Str) and value.parts else None
            if not (
                isinstance(text, str)
                and text.startswith("@Microsoft.KeyVault(SecretUri=")
                and _refers_to(value, t, SECRETS)
            ):
                problems.append(f"app setting {name} is not a Key Vault reference")
    return problems


def insecure_transport(t: bicep.Template) -> list[str]:
    """Where HTTP, or TLS older than 1.2, would be allowed."""
    problems = []
    for web in t.of_type("Microsoft.Web/sites"):
        props = get(web.properties, "properties")
        if literal(get(props, "httpsOnly")) is not True:
            problems.append(f"{web.name}: httpsOnly is not true")
        for key in ("minTlsVersion", "scmMinTlsVersion"):
            if literal(get(props, "siteConfig", key)) != "1.2":
                problems.append(f"{web.name}: siteConfig.{key} is not '1.2'")
        if literal(get(props, "siteConfig", "ftpsState")) != "Disabled":
            problems.append(f"{web.name}: FTP is not disabled")
    configured = {
        literal(get(c.properties, "name")): literal(get(c.properties, "properties", "value"))
        for c in t.of_type("Microsoft.DBforPostgreSQL/flexibleServers/configurations")
    }
    if configured.get("require_secure_transport") != "on":
        problems.append("PostgreSQL: require_secure_transport is not on")
    if configured.get("ssl_min_protocol_version") not in ("TLSv1.2", "TLSv1.3"):
        problems.append("PostgreSQL: ssl_min_protocol_version is not TLSv1.2 or newer")
    for secret in t.of_type(SECRETS):
        value = get(secret.properties, "properties", "value")
        text = (
            "".join(p for p in value.parts if isinstance(p, str)) if isinstance(value, Str) else ""
        )
        if text.startswith("postgresql") and "ssl=require" not in text:
            problems.append(f"{secret.name}: the database URL does not ask for TLS (ssl=require)")
    for bot in t.of_type("Microsoft.BotService/botServices"):
        endpoint = get(bot.properties, "properties", "endpoint")
        if not (isinstance(endpoint, Str) and str(endpoint.parts[0]).startswith("https://")):
            problems.append(f"{bot.name}: the messaging endpoint is not https://")
    for vault in t.of_type("Microsoft.KeyVault/vaults"):
        if literal(get(vault.properties, "properties", "enableRbacAuthorization")) is not True:
            problems.append(f"{vault.name}: not governed by Azure RBAC")
    return problems


def test_the_bicep_parses_and_has_every_resource():
    t = _template()
    types = {r.resource_type for r in t.resources}
    for needed in (
        "Microsoft.BotService/botServices",
        "Microsoft.BotService/botServices/channels",
        "Microsoft.Web/serverfarms",
        "Microsoft.Web/sites",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Microsoft.DBforPostgreSQL/flexibleServers/databases",
        "Microsoft.KeyVault/vaults",
        SECRETS,
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.Insights/components",
        "Microsoft.Authorization/roleAssignments",
    ):
        assert needed in types, needed
    for resource in t.resources:
        assert re.fullmatch(r"[\w.]+(/\w+)+@\d{4}-\d{2}-\d{2}(-preview)?", resource.type), resource


def test_the_azure_bot_is_single_tenant_and_runs_as_the_managed_identity():
    t = _template()
    [bot] = t.of_type("Microsoft.BotService/botServices")
    props = get(bot.properties, "properties")
    assert literal(get(bot.properties, "kind")) == "azurebot"
    # A managed identity lives in one tenant: UserAssignedMSI is single tenant, with no
    # app password at all (SingleTenant would need one).
    assert literal(get(props, "msaAppType")) == "UserAssignedMSI"
    assert get(props, "msaAppTenantId") == Ref("tenantId")
    [identity] = t.of_type("Microsoft.ManagedIdentity/userAssignedIdentities")
    assert get(props, "msaAppMSIResourceId") == Member(Ref(identity.name), "id")
    [channel] = t.of_type("Microsoft.BotService/botServices/channels")
    assert literal(get(channel.properties, "name")) == "MsTeamsChannel"
    [web] = t.of_type("Microsoft.Web/sites")
    assert literal(get(web.properties, "identity", "type")) == "UserAssigned"
    settings = _app_settings(t)
    assert literal(settings["MicrosoftAppType"]) == "UserAssignedMSI"
    assert literal(settings["AUDITBOT_GRAPH_CREDENTIAL"]) == "federated"
    # The managed identity may read Key Vault's secrets (and nothing more).
    [grant] = t.of_type("Microsoft.Authorization/roleAssignments")
    assert get(grant.properties, "scope") == Ref("vault")
    assert "4633458b-17de-408a-b874-0445c86b69e6" in str(t.variables.values())


def test_the_app_service_probes_healthz_and_readyz():
    t = _template()
    [web] = t.of_type("Microsoft.Web/sites")
    assert literal(get(web.properties, "properties", "siteConfig", "healthCheckPath")) == "/readyz"
    assert literal(_app_settings(t)["WEBSITE_WARMUP_PATH"]) == "/healthz"
    assert literal(get(web.properties, "properties", "siteConfig", "alwaysOn")) is True
    command = literal(get(web.properties, "properties", "siteConfig", "appCommandLine"))
    assert "auditbot.cli db upgrade" in command and "auditbot.cli serve" in command
    # The paths are the bot's own.
    assert '"/healthz"' in (ROOT / "bot" / "server.py").read_text()
    assert '"/readyz"' in (ROOT / "auditbot" / "health.py").read_text()


def test_every_setting_the_bot_reads_is_provided():
    given = _app_settings(_template())
    wanted = _setting_names()
    missing = wanted - set(given) - set(NOT_IN_AZURE)
    assert missing == set(), f"settings the Bicep does not give: {sorted(missing)}"
    assert set(NOT_IN_AZURE) <= wanted, "NOT_IN_AZURE names a setting auditbot no longer reads"
    unknown = {n for n in given if n.startswith(("AUDITBOT_", "Microsoft")) and n not in wanted}
    assert unknown == set(), f"app settings auditbot does not read: {sorted(unknown)}"
    assert set(given) >= OPTIONAL


def test_no_secret_is_in_plain_text():
    t = _template()
    assert plain_text_secrets(t) == []
    assert t.params["postgresAdminPassword"].decorated("secure")
    # The check can fail: a database URL written into the settings is caught.
    leaky = MAIN.read_text().replace(
        "'@Microsoft.KeyVault(SecretUri=${databaseUrl.properties.secretUri})'",
        "'postgresql+asyncpg://auditbot:hunter2@db/auditbot'",
    )
    assert plain_text_secrets(_template(leaky)) == [
        "app setting AUDITBOT_DATABASE_URL is not a Key Vault reference"
    ]
    leaky = MAIN.read_text().replace(
        "administratorLoginPassword: postgresAdminPassword",
        "administratorLoginPassword: 'hunter2hunter2hunter2'",
    )
    assert plain_text_secrets(_template(leaky)) == [
        "postgres.administratorLoginPassword is written as text"
    ]


def test_https_only_and_tls_1_2_everywhere():
    assert insecure_transport(_template()) == []
    weak = MAIN.read_text().replace("minTlsVersion: '1.2'", "minTlsVersion: '1.0'", 1)
    weak = weak.replace("httpsOnly: true", "httpsOnly: false")
    assert insecure_transport(_template(weak)) == [
        "web: httpsOnly is not true",
        "web: siteConfig.minTlsVersion is not '1.2'",
    ]


def test_every_parameter_is_documented_and_given():
    t = _template()
    for name, param in t.params.items():
        [description] = [
            d for d in param.decorators if isinstance(d, Call) and d.function == Ref("description")
        ] or [None]
        assert description is not None and len(str(literal(description.args[0]))) > 20, name
    given = json.loads((ROOT / "infra" / "main.parameters.json").read_text())["parameters"]
    assert set(given) <= set(t.params), set(given) - set(t.params)
    required = {n for n, p in t.params.items() if p.default is None}
    assert required <= set(given), required - set(given)


@pytest.mark.parametrize(
    "broken",
    [
        "resource x 'Microsoft.Web/sites@2023-12-01' = {\n  name: 'a'\n",
        "param p string = 'unclosed\n",
        "resource x 'Microsoft.Web/sites@2023-12-01' = {\n  name: 'a' kind: 'b'\n}\n",
        "parameter p string\n",
        "var v = {\n  a: 1\n  a: 2\n}\n",
    ],
)
def test_the_parser_refuses_what_bicep_refuses(broken):
    with pytest.raises(bicep.BicepError):
        bicep.parse(broken)


def test_the_parser_reads_nested_resources_loops_and_interpolation():
    t = bicep.parse(
        "param names array\n"
        "resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = {\n"
        "  name: 'db-${names[0]}-x'\n"
        "  resource dbs 'databases' = [for n in names: {\n"
        "    name: n\n"
        "  }]\n"
        "}\n"
        "output url string = 'https://${server.properties.fullyQualifiedDomainName}/'\n"
    )
    [server, dbs] = sorted(t.resources, key=lambda r: r.name, reverse=True)
    assert dbs.type == "Microsoft.DBforPostgreSQL/flexibleServers/databases@2022-12-01"
    name = get(server.properties, "name")
    assert isinstance(name, Str) and name.parts[0] == "db-" and name.parts[-1] == "-x"
    assert isinstance(t.outputs["url"], Str)
