"""SharePoint lists: the audit tracker, one item per audit, upserted by its AuditId.

The sandbox does not enforce column definitions: any field name is accepted, where
SharePoint would refuse a column the list does not have.
"""

from __future__ import annotations

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
_ITEMS = _LIST + r"/items"
_ITEM = _ITEMS + r"/(?P<item>[^/]+)"
# Set by SharePoint, not by clients.
_SYSTEM_FIELDS = ("id", "Created", "Modified", "@odata.etag")


def register(router: Router) -> None:
    router.add("GET", _LISTS, list_lists)
    router.add("GET", _LIST, get_list)
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


def list_items(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    found = _find_list(store, params)
    items = store.list_items(found["id"])
    text = request.param("filter")
    if text:
        prop, value = parse_eq_filter(text)
        items = [item for item in items if matches_filter({"fields": item.fields}, prop, value)]
    expand = _expands_fields(request)
    return ok({"value": [item_json(request, item, expand) for item in items]})


def create_item(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    found = _find_list(store, params)
    fields = request.json().get("fields")
    if not isinstance(fields, dict):
        raise GraphError(400, "invalidRequest", "A list item needs a 'fields' object.")
    item = store.add_list_item(found["id"], _user_fields(fields))
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
    item = store.update_list_item(_find_item(store, params), _user_fields(request.json()))
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


def _user_fields(fields: Json) -> Json:
    return {key: value for key, value in fields.items() if key not in _SYSTEM_FIELDS}


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
        "name": data["id"],
        "displayName": data["displayName"],
        "createdDateTime": data["created"],
        "webUrl": f"{request.base_url}/tracker",
        "list": {"template": "genericList", "hidden": False},
    }
