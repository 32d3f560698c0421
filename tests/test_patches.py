"""The library patches (bot.patches) and the library parts they rely on.

Each test fails when an upgrade moves what a patch or a private reach expects, so the
saving is not silently lost (or a send broken) by `pip install -U`.
"""

from __future__ import annotations

import copy
import inspect
import json
import pickle
from datetime import UTC, datetime

import aiosqlite
import docx
import pytest
from botbuilder.core import CardFactory, TurnContext
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdConfig
from botframework.connector.auth.verify_options import VerifyOptions
from msrest.serialization import Serializer
from msrest.universal_http.requests import ClientRetryPolicy

import cards
from bot import patches, signing_keys
from cards import Built
from store.sqlite_driver import one_hop_dbapi


def test_applying_twice_changes_nothing_more() -> None:
    patches.apply()
    once = (ClientRetryPolicy.safe_codes, Serializer.serialize_object)
    patches.apply()
    assert (ClientRetryPolicy.safe_codes, Serializer.serialize_object) == once
    assert patches.MSREST_SERIALIZE_OBJECT is not patches._plain_json_at_once


# ---------------------------------------------------------------- msrest retry policy


def test_msrest_builds_its_retry_policy_from_safe_codes() -> None:
    # The patch only pays while msrest tests each of 999 codes against `safe_codes`.
    source = inspect.getsource(ClientRetryPolicy.__init__)
    assert "not in self.safe_codes" in source
    assert isinstance(patches.MSREST_SAFE_CODES, list) and 400 in patches.MSREST_SAFE_CODES


def test_the_retry_policy_is_the_same_with_the_codes_as_a_set() -> None:
    patches.apply()
    assert isinstance(ClientRetryPolicy.safe_codes, frozenset)
    expected = [i for i in range(999) if i not in patches.MSREST_SAFE_CODES]
    assert ClientRetryPolicy().policy.status_forcelist == expected


# ------------------------------------------------------------ msrest serialize_object


def test_msrest_serialize_object_has_the_signature_the_patch_takes() -> None:
    parameters = inspect.signature(patches.MSREST_SERIALIZE_OBJECT).parameters
    assert list(parameters) == ["self", "attr", "kwargs"]
    assert parameters["kwargs"].kind is inspect.Parameter.VAR_KEYWORD


def test_plain_json_serialises_as_msrest_would() -> None:
    patches.apply()
    serializer = Serializer()
    tree = {"type": "AdaptiveCard", "body": [{"text": "é", "n": 1, "x": 1.5, "on": True}]}
    tree["none"] = None  # type: ignore[assignment]
    own = patches.MSREST_SERIALIZE_OBJECT(serializer, tree)
    ours = serializer.serialize_object(tree)
    assert ours == own and ours is not tree
    when = {"at": datetime(2025, 1, 2, tzinfo=UTC)}  # not plain JSON: msrest's own way
    assert serializer.serialize_object(when) == patches.MSREST_SERIALIZE_OBJECT(serializer, when)


def test_a_built_card_goes_out_as_it_is_and_needs_the_patch() -> None:
    card = cards.help_card()
    assert isinstance(card, Built)
    # msrest alone takes only exactly `dict` for a JSON object: a Built would be sent as
    # its str(). The patch is what makes a Built card sendable.
    assert isinstance(patches.MSREST_SERIALIZE_OBJECT(Serializer(), card), str)
    patches.apply()
    activity = Activity(type="message", attachments=[CardFactory.adaptive_card(card)])
    sent = activity.serialize()
    assert sent["attachments"][0]["content"] is card
    assert json.loads(json.dumps(sent))["attachments"][0]["content"] == card


# ------------------------------------------------------------- botbuilder's deep copy


def test_botbuilder_deep_copies_what_it_sends_and_a_built_card_is_not_copied() -> None:
    # The reason a Built card is frozen (and so its own copy): botbuilder copies each
    # activity it sends, card and all.
    assert "deepcopy(act)" in inspect.getsource(TurnContext.send_activities)
    card = cards.help_card()
    activity = Activity(type="message", attachments=[CardFactory.adaptive_card(card)])
    assert copy.deepcopy(activity).attachments[0].content is card


# ---------------------------------------------------- the connector's client validation


def test_a_connector_client_keeps_its_serializer_as_serialize() -> None:
    client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url="https://bot.example/")
    assert isinstance(client._serialize, Serializer)
    assert client._serialize.client_side_validation is True
    assert "if self.client_side_validation" in inspect.getsource(Serializer.body)
    patches.skip_client_side_validation(client)
    assert client._serialize.client_side_validation is False


# -------------------------------------------------------------- botbuilder signing keys


def test_botbuilder_reads_signing_keys_as_the_patch_expects() -> None:
    # A static method of one argument, called when an extractor is made; its result
    # is asked `await .get(key_id)` for an _OpenIdConfig(public_key, endorsements).
    original = inspect.getattr_static(JwtTokenExtractor, "get_open_id_metadata")
    assert isinstance(original, staticmethod)
    assert list(inspect.signature(patches.BOTBUILDER_GET_OPEN_ID_METADATA).parameters) == [
        "metadata_url"
    ]
    assert isinstance(JwtTokenExtractor.metadataCache, dict)
    assert "JwtTokenExtractor.get_open_id_metadata(metadata_url)" in inspect.getsource(
        JwtTokenExtractor.__init__
    )
    assert "await self.open_id_metadata.get(key_id)" in inspect.getsource(JwtTokenExtractor)
    assert list(inspect.signature(_OpenIdConfig).parameters) == ["public_key", "endorsements"]


def test_after_apply_botbuilder_reads_keys_through_signing_keys() -> None:
    patches.apply()
    url = "https://keys.example/v1/.well-known/openidconfiguration"
    options = VerifyOptions(issuer=[], audience=None, clock_tolerance=0, ignore_expiration=False)
    extractor = JwtTokenExtractor(options, url, ["RS256"])
    assert isinstance(extractor.open_id_metadata, signing_keys.SigningKeys)
    assert JwtTokenExtractor.metadataCache[url] is extractor.open_id_metadata
    del JwtTokenExtractor.metadataCache[url]


# ---------------------------------------------------------------- a built card, frozen


def test_a_built_card_is_frozen_all_the_way_down() -> None:
    card = cards.help_card()
    body = card["body"]
    assert isinstance(body, list) and isinstance(body[0], Built)
    for change in (
        lambda: card.__setitem__("x", 1),
        lambda: card.update(x=1),
        lambda: card.pop("body"),
        lambda: body.append({}),
        lambda: body.__setitem__(0, {}),
        lambda: body[0].setdefault("x", 1),
    ):
        with pytest.raises(TypeError, match="frozen"):
            change()
    assert Built(card) is card and copy.copy(body) is body
    assert pickle.loads(pickle.dumps(card)) == card
    plain = json.loads(json.dumps(card))
    assert plain == card and type(Built(plain)["body"][0]) is Built


# ------------------------------------------------- private parts reached, not patched


def test_aiosqlite_still_has_what_the_one_trip_driver_uses() -> None:
    # Without them `one_hop_dbapi` falls back to SQLAlchemy's adapter, silently slower
    # (bench/sqlite_driver.py); tests/test_hot_path.py counts the trips.
    assert one_hop_dbapi() is not None
    assert inspect.iscoroutinefunction(aiosqlite.Connection._execute)
    assert list(inspect.signature(aiosqlite.Connection._execute).parameters)[:2] == ["self", "fn"]


def test_python_docx_elements_take_a_style_id() -> None:
    # reports/ set the style id on the element: setting `.style` by name walks every
    # style of the document (about 4 ms a paragraph).
    doc = docx.Document()
    table = doc.add_table(rows=1, cols=1)
    table._tbl.tblStyle_val = doc.styles["Table Grid"].style_id
    paragraph = doc.add_paragraph()
    paragraph._p.style = doc.styles["Heading 1"].style_id
    assert table.style.name == "Table Grid" and paragraph.style.name == "Heading 1"
