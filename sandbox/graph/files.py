"""SharePoint: the site, its default document library (drive) and resumable uploads.

Items are addressed the ways Graph allows and the msgraph-sdk produces:
`/sites/{site}/drive/root:/{path}:/content`, `/drives/{drive}/items/root:/{path}:/content`,
`/drives/{drive}/items/{id}/content`, `/drives/{drive}/items/{parent-id}:/{name}:/content`.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
from dataclasses import dataclass

from sandbox.constants import DRIVE_ID, SITE_ID, SITE_NAME
from sandbox.graph.core import (
    GraphError,
    GraphRequest,
    GraphResponse,
    Params,
    Router,
    ok,
    parameter,
)
from sandbox.state import ROOT_ID, DriveItem, Json, Store, UploadSession

SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024
CHUNK_LIMIT = 60 * 1024 * 1024
SESSION_LIFETIME = dt.timedelta(days=1)
_SITE = r"/sites/(?P<site>[^/]+)"
_REST = r"(?P<rest>/.*)?"
_CONTENT_RANGE = re.compile(r"bytes (?P<start>\d+)-(?P<end>\d+)/(?P<total>\d+)")
_BAD_NAME = re.compile(r'["*:<>?/\\|]')


def register(router: Router) -> None:
    router.add("GET", _SITE, get_site)
    router.add("GET", _SITE + r"/drives", list_drives)
    router.add("*", _SITE + r"/drive" + _REST, drive_request)
    router.add("*", _SITE + r"/drives/(?P<drive>[^/]+)" + _REST, drive_request)
    router.add("*", r"/drives/(?P<drive>[^/]+)" + _REST, drive_request)


def register_uploads(router: Router) -> None:
    """Routes for upload URLs, which live outside /v1.0 and carry no bearer token: the
    token in the URL is the credential, as with SharePoint's pre-authenticated URLs."""
    router.add("PUT", r"/_upload/(?P<token>[^/]+)", upload_chunk)
    router.add("GET", r"/_upload/(?P<token>[^/]+)", upload_status)
    router.add("DELETE", r"/_upload/(?P<token>[^/]+)", cancel_upload)


def check_site(site: str | None) -> None:
    if site is not None and site != SITE_ID:
        raise GraphError(404, "itemNotFound", "Requested site could not be found")


def site_resource(request: GraphRequest) -> Json:
    return {
        "id": SITE_ID,
        "name": SITE_NAME.lower(),
        "displayName": SITE_NAME,
        "webUrl": f"{request.base_url}/files",
    }


def get_site(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    check_site(params["site"])
    return ok(request.selected(site_resource(request)))


def list_drives(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    check_site(params["site"])
    return ok({"value": [_drive(request)]})


def drive_request(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    check_site(params.get("site"))
    if params.get("drive") not in (None, DRIVE_ID):
        raise GraphError(404, "itemNotFound", "The drive could not be found.")
    rest = params.get("rest") or ""
    if rest in ("", "/"):
        if request.method != "GET":
            raise GraphError(405, "BadRequest", "Only GET is allowed on a drive.")
        return ok(request.selected(_drive(request)))
    address = parse_address(rest)
    handler = _ACTIONS.get((request.method, address.action))
    if handler is None:
        raise GraphError(
            400,
            "invalidRequest",
            f"{request.method} {address.action or '(item)'} is not supported.",
        )
    return handler(store, request, address)


@dataclass(frozen=True)
class ItemAddress:
    base: str  # "root" or an item id
    path: list[str] | None  # names below the base, when addressed by path
    action: str  # "", "/content", "/children" or "/createUploadSession"


def parse_address(rest: str) -> ItemAddress:
    """Split `/root:/a/b.docx:/content`, `/items/{id}:/name:/content`, `/items/{id}` ..."""
    if rest == "/root" or rest.startswith(("/root:", "/root/")):
        base, tail = "root", rest[len("/root") :]
    elif rest.startswith("/items/"):
        match = re.match(r"/items/([^/:]+)", rest)
        if match is None:
            raise GraphError(400, "invalidRequest", "An item id is required.")
        base, tail = match[1], rest[match.end() :]
    else:
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{rest}'.")
    path: list[str] | None = None
    if tail.startswith(":"):
        # SharePoint names cannot contain ':', so the last one closes the path.
        inner = tail[1:]
        close = inner.rfind(":")
        raw_path, tail = (inner, "") if close < 0 else (inner[:close], inner[close + 1 :])
        path = _names(raw_path)
    return ItemAddress(base, path, tail.rstrip("/"))


def _names(raw_path: str) -> list[str]:
    return [_check_name(name) for name in raw_path.split("/") if name]


def _check_name(name: str) -> str:
    if not name or name in (".", "..") or _BAD_NAME.search(name) or name != name.strip():
        raise GraphError(400, "invalidRequest", f"The name '{name}' is not allowed.")
    return name


def _base(store: Store, address: ItemAddress) -> DriveItem:
    item = store.drive_item(ROOT_ID if address.base == "root" else address.base)
    if item is None:
        raise _item_not_found()
    return item


def resolve(store: Store, address: ItemAddress) -> DriveItem:
    item = _base(store, address)
    for name in address.path or []:
        child = store.child(item.id, name) if item.is_folder else None
        if child is None:
            raise _item_not_found()
        item = child
    return item


def _target(store: Store, address: ItemAddress) -> tuple[DriveItem, str]:
    """The folder and file name an upload writes to, creating missing folders the way
    Graph does for path-addressed uploads."""
    if not address.path:
        item = _base(store, address)
        if item.is_folder or item.parent_id is None:
            raise GraphError(400, "invalidRequest", "Upload to a file path or an existing file.")
        parent = store.drive_item(item.parent_id)
        assert parent is not None
        return parent, item.name
    folder = _base(store, address)
    for name in address.path[:-1]:
        existing = store.child(folder.id, name)
        if existing is not None and not existing.is_folder:
            raise GraphError(409, "nameAlreadyExists", f"'{name}' is a file, not a folder.")
        folder = existing or store.make_folder(folder.id, name)
    return folder, address.path[-1]


# -- item actions ----------------------------------------------------------------


def get_item(store: Store, request: GraphRequest, address: ItemAddress) -> GraphResponse:
    return ok(request.selected(drive_item_json(store, request.base_url, resolve(store, address))))


def delete_item(store: Store, request: GraphRequest, address: ItemAddress) -> GraphResponse:
    item = resolve(store, address)
    if item.parent_id is None:
        raise GraphError(403, "accessDenied", "The root folder cannot be deleted.")
    store.delete_item(item.id)
    return GraphResponse(204)


def list_children(store: Store, request: GraphRequest, address: ItemAddress) -> GraphResponse:
    folder = resolve(store, address)
    items = store.children(folder.id) if folder.is_folder else []
    return ok({"value": [drive_item_json(store, request.base_url, item) for item in items]})


def create_folder(store: Store, request: GraphRequest, address: ItemAddress) -> GraphResponse:
    parent = resolve(store, address)
    body = request.json()
    if not parent.is_folder or "folder" not in body:
        raise GraphError(400, "invalidRequest", "Only folders can be created this way.")
    name = _check_name(str(body.get("name") or ""))
    behaviour = str(body.get("@microsoft.graph.conflictBehavior", "fail"))
    existing = store.child(parent.id, name)
    if existing is not None and existing.is_folder and behaviour == "replace":
        return ok(drive_item_json(store, request.base_url, existing))
    folder = store.make_folder(parent.id, _resolve_conflict(store, parent, name, behaviour))
    return ok(drive_item_json(store, request.base_url, folder), 201)


def download(store: Store, request: GraphRequest, address: ItemAddress) -> GraphResponse:
    # Graph answers with a 302 to a download URL; the bytes themselves are simpler for
    # every client and the msgraph-sdk reads either.
    item = resolve(store, address)
    if item.is_folder:
        raise GraphError(400, "invalidRequest", "A folder has no content.")
    return GraphResponse(200, store.content(item.id), content_type=_mime_type(item.name))


def simple_upload(store: Store, request: GraphRequest, address: ItemAddress) -> GraphResponse:
    if len(request.body) > SIMPLE_UPLOAD_LIMIT:
        raise GraphError(
            413,
            "requestBodyTooLarge",
            "Simple upload is limited to 4 MB; use an upload session for larger files.",
        )
    parent, name = _target(store, address)
    behaviour = request.query.get("@microsoft.graph.conflictBehavior", "replace")
    name = _resolve_conflict(store, parent, name, behaviour)
    item, created = store.write_file(parent.id, name, request.body)
    return ok(drive_item_json(store, request.base_url, item), 201 if created else 200)


def create_upload_session(
    store: Store, request: GraphRequest, address: ItemAddress
) -> GraphResponse:
    parent, name = _target(store, address)
    item_options = parameter(request.json() if request.body else {}, "item") or {}
    behaviour = str(item_options.get("@microsoft.graph.conflictBehavior", "replace"))
    if behaviour not in ("replace", "fail", "rename"):
        raise GraphError(400, "invalidRequest", f"Unknown conflictBehavior '{behaviour}'.")
    if behaviour == "fail" and store.child(parent.id, name) is not None:
        raise _name_exists(name)
    expires = (dt.datetime.now(dt.UTC) + SESSION_LIFETIME).strftime("%Y-%m-%dT%H:%M:%SZ")
    session = store.open_upload_session(parent.id, name, behaviour, expires)
    return ok(
        {
            "uploadUrl": f"{request.base_url}/_upload/{session.token}",
            "expirationDateTime": session.expires,
            "nextExpectedRanges": ["0-"],
        }
    )


_ACTIONS = {
    ("GET", ""): get_item,
    ("DELETE", ""): delete_item,
    ("GET", "/children"): list_children,
    ("POST", "/children"): create_folder,
    ("GET", "/content"): download,
    ("PUT", "/content"): simple_upload,
    ("POST", "/createUploadSession"): create_upload_session,
}


# -- upload sessions ---------------------------------------------------------------


def upload_chunk(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    session = _session(store, params["token"])
    match = _CONTENT_RANGE.fullmatch((request.header("content-range") or "").strip())
    if match is None:
        raise GraphError(400, "invalidRequest", "Content-Range must be 'bytes start-end/total'.")
    start, end, total = int(match["start"]), int(match["end"]), int(match["total"])
    chunk = request.body
    if len(chunk) > CHUNK_LIMIT:
        raise GraphError(413, "requestBodyTooLarge", "A fragment may be at most 60 MiB.")
    if len(chunk) != end - start + 1:
        raise GraphError(
            400, "invalidRequest", "The Content-Range does not match the length of the body."
        )
    if session.total is not None and total != session.total:
        raise GraphError(400, "invalidRequest", "The declared total size changed mid-upload.")
    if start != session.received or end >= total:
        # Graph takes fragments strictly in order: a gap, an overlap or a resend of
        # bytes it already has is refused and the client must ask what it expects next.
        raise GraphError(
            416,
            "invalidRange",
            f"The fragment {start}-{end} is not the expected range {_next_range(session, total)}.",
        )
    store.append_chunk(session, total, chunk)
    received = start + len(chunk)
    if received < total:
        return ok(
            {
                "expirationDateTime": session.expires,
                "nextExpectedRanges": [f"{received}-{total - 1}"],
            },
            202,
        )
    return _finish_upload(store, request, session)


def _finish_upload(store: Store, request: GraphRequest, session: UploadSession) -> GraphResponse:
    refreshed = store.upload_session(session.token)
    assert refreshed is not None
    parent = store.drive_item(refreshed.parent_id)
    if parent is None:
        store.close_upload_session(session.token)
        raise GraphError(404, "itemNotFound", "The destination folder no longer exists.")
    name = _resolve_conflict(store, parent, refreshed.name, refreshed.conflict)
    item, created = store.write_file(parent.id, name, store.session_bytes(refreshed))
    store.close_upload_session(session.token)
    return ok(drive_item_json(store, request.base_url, item), 201 if created else 200)


def upload_status(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    session = _session(store, params["token"])
    return ok(
        {
            "expirationDateTime": session.expires,
            "nextExpectedRanges": [_next_range(session, session.total)],
        }
    )


def cancel_upload(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    store.close_upload_session(_session(store, params["token"]).token)
    return GraphResponse(204)


def _session(store: Store, token: str) -> UploadSession:
    session = store.upload_session(token)
    if session is None:
        raise GraphError(404, "itemNotFound", "The upload session was not found.")
    if session.expires < dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"):
        store.close_upload_session(token)
        raise GraphError(404, "itemNotFound", "The upload session has expired.")
    return session


def _next_range(session: UploadSession, total: int | None) -> str:
    return f"{session.received}-" if total is None else f"{session.received}-{total - 1}"


# -- shared ------------------------------------------------------------------------


def _resolve_conflict(store: Store, parent: DriveItem, name: str, behaviour: str) -> str:
    existing = store.child(parent.id, name)
    if existing is None or behaviour == "replace":
        if existing is not None and existing.is_folder:
            raise _name_exists(name)
        return name
    if behaviour == "fail":
        raise _name_exists(name)
    if behaviour != "rename":
        raise GraphError(400, "invalidRequest", f"Unknown conflictBehavior '{behaviour}'.")
    stem, dot, suffix = name.rpartition(".")
    stem, suffix = (stem, dot + suffix) if stem else (name, "")
    counter = 1
    while store.child(parent.id, f"{stem} {counter}{suffix}") is not None:
        counter += 1
    return f"{stem} {counter}{suffix}"


def drive_item_json(store: Store, base_url: str, item: DriveItem) -> Json:
    data: Json = {
        "id": item.id,
        "name": item.name,
        "size": item.size,
        "createdDateTime": item.created,
        "lastModifiedDateTime": item.modified,
        "eTag": f'"{{{item.id}}},{item.version}"',
        "cTag": f'"c:{{{item.id}}},{item.version}"',
    }
    if item.parent_id is not None:
        parent = store.drive_item(item.parent_id)
        parent_path = "/".join(store.path_of(parent)) if parent else ""
        data["parentReference"] = {
            "driveId": DRIVE_ID,
            "driveType": "documentLibrary",
            "siteId": SITE_ID,
            "id": item.parent_id,
            "path": "/drive/root:" + (f"/{parent_path}" if parent_path else ""),
        }
    if item.is_folder:
        data["webUrl"] = f"{base_url}/files"
        data["folder"] = {"childCount": len(store.children(item.id))}
        if item.parent_id is None:
            data["root"] = {}
    else:
        download_url = f"{base_url}/files/download/{item.id}"
        data["webUrl"] = download_url
        data["@microsoft.graph.downloadUrl"] = download_url
        data["file"] = {"mimeType": _mime_type(item.name)}
    return data


def _drive(request: GraphRequest) -> Json:
    return {
        "id": DRIVE_ID,
        "name": "Documents",
        "driveType": "documentLibrary",
        "webUrl": f"{request.base_url}/files",
    }


def _mime_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _item_not_found() -> GraphError:
    return GraphError(404, "itemNotFound", "The resource could not be found.")


def _name_exists(name: str) -> GraphError:
    return GraphError(409, "nameAlreadyExists", f"The specified item name '{name}' already exists.")
