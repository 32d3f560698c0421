"""Outlook mail: POST /users/{id}/sendMail, and the sender's Sent Items to read it back."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.graph.core import (
    GraphError,
    GraphRequest,
    GraphResponse,
    Params,
    Router,
    collection,
    parameter,
)
from sandbox.graph.users import find_user
from sandbox.state import Json, Store, now_iso

_USER = r"/users/(?P<user>[^/]+)"


def register(router: Router) -> None:
    router.add("POST", _USER + r"/sendMail", send_mail)
    router.add("GET", _USER + r"/mailFolders/(?i:sentitems)/messages", sent_items)


def send_mail(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"], "ErrorInvalidUser")
    body = request.json()
    message = parameter(body, "message")
    if not isinstance(message, dict):
        raise GraphError(400, "ErrorInvalidRequest", "The request must contain a 'message'.")
    recipients = [
        *_addresses(message.get("toRecipients")),
        *_addresses(message.get("ccRecipients")),
        *_addresses(message.get("bccRecipients")),
    ]
    if not recipients:
        raise GraphError(
            400, "ErrorInvalidRecipients", "At least one recipient isn't valid or is missing."
        )
    stored: Json = {
        "id": "AAMk" + secrets.token_urlsafe(33),
        "sentDateTime": now_iso(),
        "from": {
            "emailAddress": {"name": user["displayName"], "address": user["userPrincipalName"]}
        },
        "subject": message.get("subject") or "",
        "body": message.get("body") or {"contentType": "text", "content": ""},
        "toRecipients": message.get("toRecipients") or [],
        "ccRecipients": message.get("ccRecipients") or [],
        "bccRecipients": message.get("bccRecipients") or [],
        "importance": message.get("importance", "normal"),
        "saveToSentItems": parameter(body, "saveToSentItems") is not False,
    }
    store.add_mail(user["id"], stored)
    return GraphResponse(202)


def sent_items(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"], "ErrorInvalidUser")
    mine = [
        message
        for message in store.mail()
        if message["from"]["emailAddress"]["address"] == user["userPrincipalName"]
        and message["saveToSentItems"]
    ]
    return collection(mine)


def _addresses(recipients: Any) -> list[str]:
    if not isinstance(recipients, list):
        return []
    found = []
    for recipient in recipients:
        email = recipient.get("emailAddress") if isinstance(recipient, dict) else None
        address = email.get("address") if isinstance(email, dict) else None
        if not address:
            raise GraphError(400, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
        found.append(str(address))
    return found
