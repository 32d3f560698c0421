"""SharePoint lists: lists made with their columns, columns added or indexed later, and
items whose fields must be the list's columns.

As strict as SharePoint where the bot could go wrong: a field that is not a column (by
its internal `name`) is refused, a value must suit its column's type, and a filter on a
column that is not indexed is refused unless the client says it accepts the risk.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sandbox.constants import SITE_ID
from sandbox.graph.core import (
    GraphError,
    GraphRequest,
    GraphResponse,
    Params,
    Router,
    matches_filter,
    ok,
    parse_eq_filter,
)
from sandbox.graph.files import check_site
from sandbox.state import Json, ListItem, Store

_LISTS = r"/sites/(?P<site>[^/]+)/lists"
_LIST = _LISTS + r"/(?P<list>[^/]+)"
_COLUMNS = _LIST + r"/columns"
_COLUMN = _COLUMNS + r"/(?P<column>[^/]+)"
_ITEMS = _LIST + r"/items"
_ITEM = _ITEMS + r"/(?P<item>[^/]+)"
# Set by SharePoint, not by clients.
_SYSTEM_FIELDS = ("id", "Created", "Modified", "@odata.etag")
# Columns every list has, read-only to clients. `ID` is indexed by SharePoint itself.
_SYSTEM_COLUMNS: tuple[Json, ...] = (
    {"name": "ID", "displayName": "ID", "readOnly": True, "indexed": True, "number": {}},
    {"name": "Created", "displayName": "Created", "readOnly": True, "dateTime": {}},
    {"name": "Modified", "displayName": "Modified", "readOnly": True, "dateTime": {}},
)
# Every generic list starts with Title (https://learn.microsoft.com/en-us/graph/api/list-create).
_TITLE: Json = {"name": "Title", "displayName": "Title", "text": {"maxLength": 255}}
# The column types the sandbox knows (https://learn.microsoft.com/en-us/graph/api/resources/columndefinition).
COLUMN_TYPES = ("text", "number", "dateTime", "boolean", "choice")
PREFER_NON_INDEXED = "HonorNonIndexedQueriesWarningMayFailRandomly"


def register(router: Router) -> None:
    router.add("GET", _LISTS, list_lists)
    router.add("POST", _LISTS, create_list)
    router.add("GET", _LIST, get_list)
    router.add("GET", _COLUMNS, list_columns)
    router.add("POST", _COLUMNS, create_column)
    router.add("GET", _COLUMN, get_column)
    router.add("PATCH", _COLUMN, update_column)
    router.add("GET", _ITEMS, list_items)
    router.add("POST", _ITEMS, create_item)
    router.add("GET", _ITEM, get_item)
    router.add("DELETE", _ITEM, delete_item)
    router.add("GET", _ITEM + r"/fields", get_fields)
    router.add("PATCH", _ITEM + r"/fields", update_fields)


def list_lists(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    check_site(params["site"])
    return ok({"value": [_list_json(request, data) for data in store.lists()]})


def get_list(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    return ok(request.selected(_list_json(request, _find_list(store, params))))


def create_list(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    """POST /sites/{site}/lists (https://learn.microsoft.com/en-us/graph/api/list-create):
    a displayName, the list template, and the columns to make with it."""
    check_site(params["site"])
    body = request.json()
    name = body.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise GraphError(400, "invalidRequest", "A list needs a 'displayName'.")
    if "name" in body:
        # As Graph answers (OneDrive/onedrive-api-docs#645): the URL name is the server's.
        raise GraphError(
            400,
            "invalidRequest",
            "Cannot define a 'name' for a list as it is assigned by the server. "
            "Instead, provide 'displayName'",
        )
    if store.get_list(name) is not None:
        raise GraphError(
            409,
            "nameAlreadyExists",
            "A list, survey, discussion board, or document library with the specified title "
            "already exists in this Web site.  Please choose another title.",
        )
    template = (body.get("list") or {}).get("template", "genericList")
    if template != "genericList":
        raise GraphError(
            400, "invalidRequest", f"The sandbox makes only genericList lists, not {template!r}."
        )
    columns = [_TITLE]
    for definition in body.get("columns") or []:
        columns.append(_new_column(columns, definition))
    made = store.create_list(name.strip(), columns)
    return ok(_list_json(request, made), 201)


def list_columns(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    found = _find_list(store, params)
    return ok({"value": [_column_json(found, c) for c in _all_columns(store, found)]})


def get_column(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    found = _find_list(store, params)
    return ok(_column_json(found, _find_column(store, found, params["column"])))


def create_column(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    """POST /sites/{site}/lists/{list}/columns
    (https://learn.microsoft.com/en-us/graph/api/list-post-columns)."""
    found = _find_list(store, params)
    column = _new_column(_all_columns(store, found), request.json())
    store.add_column(found["id"], column)
    return ok(_column_json(found, column), 201)


def update_column(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    """PATCH a column (https://learn.microsoft.com/en-us/graph/api/columndefinition-update):
    the sandbox changes only `indexed`, `displayName` and `description`; a column's
    type is not changed in place (SharePoint converts values, the sandbox would not)."""
    found = _find_list(store, params)
    column = _find_column(store, found, params["column"])
    if column.get("readOnly"):
        raise GraphError(403, "accessDenied", f"Column '{column['name']}' is read-only.")
    changes = request.json()
    unknown = set(changes) - {"indexed", "displayName", "description"}
    if unknown:
        raise GraphError(
            400,
            "invalidRequest",
            f"The sandbox cannot change {', '.join(sorted(unknown))} of a column.",
        )
    if "indexed" in changes and not isinstance(changes["indexed"], bool):
        raise GraphError(400, "invalidRequest", "'indexed' must be true or false.")
    column = {**column, **changes}
    store.save_column(found["id"], column)
    return ok(_column_json(found, column))


def list_items(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    found = _find_list(store, params)
    items = store.list_items(found["id"])
    text = request.param("filter")
    if text:
        prop, value = parse_eq_filter(text)
        if prop[:1] == ["fields"] and len(prop) == 2:
            _check_filterable(store, found, prop[1], request)
        items = [item for item in items if matches_filter({"fields": item.fields}, prop, value)]
    expand = _expands_fields(request)
    return ok({"value": [item_json(request, item, expand) for item in items]})


def create_item(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    found = _find_list(store, params)
    fields = request.json().get("fields")
    if not isinstance(fields, dict):
        raise GraphError(400, "invalidRequest", "A list item needs a 'fields' object.")
    item = store.add_list_item(found["id"], _checked_fields(store, found, fields))
    return ok(item_json(request, item, expand=True), 201)


def get_item(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    item = _find_item(store, params)
    return ok(item_json(request, item, _expands_fields(request)))


def delete_item(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    store.delete_list_item(_find_item(store, params))
    return GraphResponse(204)


def get_fields(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    return ok(fields_json(_find_item(store, params)))


def update_fields(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    found = _find_list(store, params)
    item = _find_item(store, params)
    item = store.update_list_item(item, _checked_fields(store, found, request.json()))
    return ok(fields_json(item))


def item_json(request: GraphRequest, item: ListItem, expand: bool) -> Json:
    data: Json = {
        "id": str(item.id),
        "eTag": _etag(item),
        "createdDateTime": item.created,
        "lastModifiedDateTime": item.modified,
        "webUrl": f"{request.base_url}/tracker",
        "contentType": {"name": "Item"},
        "parentReference": {"siteId": SITE_ID},
    }
    if expand:
        data["fields"] = fields_json(item)
    return data


def fields_json(item: ListItem) -> Json:
    return {
        "@odata.etag": _etag(item),
        **item.fields,
        "id": str(item.id),
        "Created": item.created,
        "Modified": item.modified,
    }


def _etag(item: ListItem) -> str:
    return f'"{item.list_id}-{item.id},{item.version}"'


def _checked_fields(store: Store, found: Json, fields: Json) -> Json:
    """The fields a client may write, each an existing column by its internal name with
    a value of the column's type.

    SharePoint refuses a field that is not a column of the list, and matches fields by
    the column's internal `name`, not its display name: 400 invalidRequest "Field 'X'
    is not recognized" (https://learn.microsoft.com/en-us/graph/api/listitem-create;
    the error as reported in microsoftgraph/microsoft-graph-docs#2609 and
    microsoftgraph/msgraph-sdk-java#2054). Values follow the column's type
    (https://learn.microsoft.com/en-us/graph/api/resources/columndefinition)."""
    columns = {c["name"]: c for c in _all_columns(store, found)}
    checked: Json = {}
    for key, value in fields.items():
        if key in _SYSTEM_FIELDS:
            continue  # set by SharePoint; ignored, as SharePoint ignores them from apps
        column = columns.get(key)
        if column is None:
            raise GraphError(400, "invalidRequest", f"Field '{key}' is not recognized")
        if column.get("readOnly"):
            raise GraphError(400, "invalidRequest", f"Field '{key}' is read-only")
        checked[key] = _checked_value(column, value)
    return checked


def _checked_value(column: Json, value: Any) -> Any:
    """A value SharePoint would store in this column, or its refusal. null clears a
    column of any type; an empty string is not a number, a date or a choice."""
    if value is None:
        return None
    kind = column_type(column)
    name = column["name"]
    if kind == "text":
        if not isinstance(value, str):
            raise _bad_value(name, value, "Edm.String")
        limit = (column.get("text") or {}).get("maxLength", 255)
        multiline = (column.get("text") or {}).get("allowMultipleLines", False)
        if not multiline and len(value) > int(limit):
            raise GraphError(
                400,
                "invalidRequest",
                f"The value of field '{name}' is longer than its maximum of {limit} characters.",
            )
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad_value(name, value, "Edm.Double")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _bad_value(name, value, "Edm.Boolean")
        return value
    if kind == "dateTime":
        if not isinstance(value, str) or not _is_datetime(value):
            raise _bad_value(name, value, "Edm.DateTimeOffset")
        return value
    if kind == "choice":
        choices = (column.get("choice") or {}).get("choices") or []
        if not isinstance(value, str) or value not in choices:
            raise GraphError(
                400,
                "invalidRequest",
                f"The value {value!r} is not one of the choices of field '{name}'.",
            )
        return value
    return value  # pragma: no cover - every column made here has one of COLUMN_TYPES


def _bad_value(name: str, value: Any, edm: str) -> GraphError:
    return GraphError(
        400,
        "invalidRequest",
        f"Cannot convert the literal '{value}' to the expected type '{edm}' of field '{name}'.",
    )


def _is_datetime(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_filterable(store: Store, found: Json, name: str, request: GraphRequest) -> None:
    """SharePoint filters list items only on indexed columns, unless the client sends
    `Prefer: HonorNonIndexedQueriesWarningMayFailRandomly` and accepts that the query
    fails on large lists (https://learn.microsoft.com/en-us/graph/api/listitem-list,
    "Using the $filter query parameter"); the refusal is 400 invalidRequest."""
    columns = {c["name"]: c for c in _all_columns(store, found)}
    column = columns.get(name)
    if column is None:
        raise GraphError(400, "invalidRequest", f"Field '{name}' is not recognized")
    prefer = (request.header("Prefer") or "").lower()
    if column.get("indexed") or PREFER_NON_INDEXED.lower() in prefer:
        return
    raise GraphError(
        400,
        "invalidRequest",
        f"Field '{name}' cannot be referenced in filter or orderby as it is not indexed. "
        f"Provide the 'Prefer: {PREFER_NON_INDEXED}' header to allow this, but be warned "
        "that such queries may fail on large lists.",
    )


def column_type(column: Json) -> str | None:
    """A column's type is the one facet its definition carries (`"text": {}` etc.)."""
    return next((kind for kind in COLUMN_TYPES if column.get(kind) is not None), None)


def _new_column(existing: list[Json], definition: Any) -> Json:
    if not isinstance(definition, dict):
        raise GraphError(400, "invalidRequest", "A column definition must be an object.")
    name = definition.get("name")
    if not isinstance(name, str) or not name or not name.replace("_", "").isalnum():
        raise GraphError(
            400,
            "invalidRequest",
            "A column needs a 'name' of letters, digits and '_' (its internal name).",
        )
    kinds = [kind for kind in COLUMN_TYPES if definition.get(kind) is not None]
    if len(kinds) != 1:
        raise GraphError(
            400,
            "invalidRequest",
            f"Column '{name}' must have exactly one type facet, one of {', '.join(COLUMN_TYPES)}.",
        )
    if any(c["name"].lower() == name.lower() for c in existing):
        # SharePoint keeps one column per internal name (its SPException "A duplicate
        # field name ... was found"); Graph documents no status for it, so the sandbox
        # answers as Graph does for a list title already taken (list-create): 409.
        raise GraphError(409, "nameAlreadyExists", f'A duplicate field name "{name}" was found.')
    facet = definition[kinds[0]]
    if not isinstance(facet, dict):
        raise GraphError(400, "invalidRequest", f"Column '{name}': '{kinds[0]}' must be an object.")
    if kinds[0] == "choice" and not (facet.get("choices") or []):
        raise GraphError(400, "invalidRequest", f"Choice column '{name}' needs 'choices'.")
    indexed = definition.get("indexed", False)
    if not isinstance(indexed, bool):
        raise GraphError(400, "invalidRequest", "'indexed' must be true or false.")
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:column:{name.lower()}")),
        "name": name,
        "displayName": str(definition.get("displayName") or name),
        "description": str(definition.get("description") or ""),
        "indexed": indexed,
        "readOnly": False,
        "required": bool(definition.get("required", False)),
        kinds[0]: facet,
    }


def _all_columns(store: Store, found: Json) -> list[Json]:
    return [*_SYSTEM_COLUMNS, *store.columns(found["id"])]


def _find_column(store: Store, found: Json, ref: str) -> Json:
    for column in _all_columns(store, found):
        if ref in (column.get("id"), column["name"]):
            return column
    raise GraphError(404, "itemNotFound", "The specified column was not found.")


def _column_json(found: Json, column: Json) -> Json:
    data = {
        "id": column.get("id")
        or str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:column:{column['name'].lower()}")),
        "columnGroup": "Custom Columns",
        "description": "",
        "enforceUniqueValues": False,
        "hidden": False,
        "indexed": False,
        "readOnly": False,
        "required": False,
        **column,
    }
    return data


def _expands_fields(request: GraphRequest) -> bool:
    # "$expand=fields", "expand=fields" or "$expand=fields($select=AuditId,Status)".
    expand = request.param("expand") or ""
    return any(part.strip().startswith("fields") for part in expand.split(","))


def _find_list(store: Store, params: Params) -> Json:
    check_site(params["site"])
    found = store.get_list(params["list"])
    if found is None:
        raise GraphError(404, "itemNotFound", "The specified list was not found.")
    return found


def _find_item(store: Store, params: Params) -> ListItem:
    found = _find_list(store, params)
    item = store.list_item(found["id"], params["item"])
    if item is None:
        raise GraphError(404, "itemNotFound", "The specified list item was not found.")
    return item


def _list_json(request: GraphRequest, data: Json) -> Json:
    return {
        "id": data["id"],
        "name": "".join(ch for ch in data["displayName"] if ch.isalnum()),
        "displayName": data["displayName"],
        "createdDateTime": data["created"],
        "webUrl": f"{request.base_url}/tracker",
        "list": {"template": "genericList", "hidden": False},
    }
