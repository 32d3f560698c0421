"""Microsoft Graph v1.0, as much of it as auditbot uses."""

from sandbox.graph.core import GraphError, GraphRequest, GraphResponse
from sandbox.graph.service import GRAPH_PREFIX, GraphService

__all__ = ["GRAPH_PREFIX", "GraphError", "GraphRequest", "GraphResponse", "GraphService"]
