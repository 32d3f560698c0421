"""Exports the traces and metrics of audits.telemetry to Application Insights, when
APPLICATIONINSIGHTS_CONNECTION_STRING is set (azure-monitor-opentelemetry).

The libraries' own HTTP instrumentations stay off: their spans carry full URLs, and
Graph's name people (/users/<address>/events). Logs are not exported either: they go to
the App Service console log, which the council's Log Analytics already reads.
"""

from __future__ import annotations

from auditbot.settings import Settings

# Every instrumentation the distro would switch on by itself.
_OFF = (
    "azure_sdk",
    "django",
    "fastapi",
    "flask",
    "httpx",
    "psycopg2",
    "requests",
    "urllib",
    "urllib3",
)


def configure_telemetry(settings: Settings) -> bool:
    """Installs the exporter; False when no connection string is set (spans stay no-ops)."""
    if not settings.applicationinsights_connection_string:
        return False
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(
        connection_string=settings.applicationinsights_connection_string,
        disable_logging=True,
        instrumentation_options={name: {"enabled": False} for name in _OFF},
    )
    return True
