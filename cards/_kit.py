"""Small parts every card is made of, on top of adaptive-cards-py.

Text is never Markdown. Teams renders a subset of Markdown in `TextBlock`
and `FactSet` (and each client differently: the desktop client follows
CommonMark, the mobile clients have their own parser that understands only
`\\*` and `\\_` as escapes), so escaping cannot be made right everywhere.
Every piece of text is therefore a `TextRun` inside a `RichTextBlock`, which
the schema defines as plain text ("Markdown is not supported") in every
client: `**bold**`, `<b>`, `[link](…)`, `# heading` or "3. Title" show as
typed. Two sequences are still special in a TextRun: `{{DATE(…)}}` /
`{{TIME(…)}}`, which clients format, and `${…}`, which Adaptive Card
templating would expand; `plain()` puts an invisible word joiner (U+2060)
between their characters so they show as typed and are never evaluated.
Input values are left exactly as stored: they are the answer being edited.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

from adaptive_cards.card import (
    ActionSet,
    ActionT,
    ActionToggleVisibility,
    AdaptiveCard,
    Column,
    ColumnSet,
    Container,
    ElementT,
    InputChoice,
    InputChoiceSet,
    InputText,
    RichTextBlock,
    TargetElement,
    TextRun,
)
from adaptive_cards.types import (
    ChoiceInputStyle,
    Colors,
    ContainerStyle,
    FontSize,
    FontType,
    FontWeight,
    Spacing,
    TextInputStyle,
    VerticalAlignment,
)

from cards.schema import CARD_VERSION

MAX_CARD_BYTES = 28 * 1024  # Teams refuses a card message much over 28 KB
LONG_TEXT = 10_000  # evidence, impact, comments
SHORT_TEXT = 4_000  # summaries, reasons, notes
EMAIL_LENGTH = 254
EMAIL_REGEX = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

_WORD_JOINER = "\u2060"
_SPECIAL = re.compile(r"(?<=\{)(?=\{)|(?<=\$)(?=\{)")

Element = ElementT
Action = ActionT


def plain(value: str) -> str:
    """`value` as a TextRun should carry it: never evaluated as a date function or template."""
    return _SPECIAL.sub(_WORD_JOINER, value) if "{" in value else value


def run(
    value: str,
    *,
    bold: bool = False,
    size: FontSize | None = None,
    color: Colors | None = None,
    subtle: bool = False,
    italic: bool = False,
    mono: bool = False,
) -> TextRun:
    return TextRun(
        text=plain(value),
        weight=FontWeight.BOLDER if bold else None,
        size=size,
        color=color,
        is_subtle=True if subtle else None,
        italic=True if italic else None,
        font_type=FontType.MONOSPACE if mono else None,
    )


def line(*runs: TextRun, separator: bool = False, spacing: Spacing | None = None) -> RichTextBlock:
    return RichTextBlock(inlines=list(runs), separator=True if separator else None, spacing=spacing)


def text(
    value: str,
    *,
    bold: bool = False,
    size: FontSize | None = None,
    color: Colors | None = None,
    subtle: bool = False,
    italic: bool = False,
    separator: bool = False,
    spacing: Spacing | None = None,
) -> RichTextBlock:
    return line(
        run(value, bold=bold, size=size, color=color, subtle=subtle, italic=italic),
        separator=separator,
        spacing=spacing,
    )


def heading(value: str, *, color: Colors | None = None) -> RichTextBlock:
    return text(value, bold=True, size=FontSize.LARGE, color=color)


def subheading(value: str, *, color: Colors | None = None) -> RichTextBlock:
    return text(value, bold=True, size=FontSize.MEDIUM, color=color, spacing=Spacing.MEDIUM)


def subtle(value: str) -> RichTextBlock:
    return text(value, subtle=True, spacing=Spacing.NONE)


def fact(label: str, value: str, *, color: Colors | None = None) -> RichTextBlock:
    """'Label: value' on one line; the value may be anyone's words."""
    separator = " " if label.endswith("?") else ": "
    return line(run(label + separator, bold=True), run(value, color=color))


def block(label: str, value: str) -> list[Element]:
    """A label above a long value (evidence, comments)."""
    return [text(label, bold=True, spacing=Spacing.MEDIUM), text(value)]


def bullets(items: Iterable[str], *, color: Colors | None = None) -> list[Element]:
    return [line(run("• "), run(item, color=color), spacing=Spacing.SMALL) for item in items]


def box(
    items: Sequence[Element],
    *,
    style: ContainerStyle | None = None,
    element_id: str | None = None,
    hidden: bool = False,
    separator: bool = False,
) -> Container:
    return Container(
        items=list(items),
        style=style,
        id=element_id,
        is_visible=False if hidden else None,
        separator=True if separator else None,
        spacing=Spacing.MEDIUM if separator else None,
    )


def toggle(title: str, target: str) -> ActionSet:
    """A button that shows or hides the element with id `target`, without a round trip."""
    return ActionSet(
        actions=[
            ActionToggleVisibility(title=title, target_elements=[TargetElement(element_id=target)])
        ]
    )


def show_hide(show: str, hide: str, target: str) -> list[Element]:
    """A "show" button that, pressed, shows the element with id `target` and turns into a
    "hide" button (and back), without a round trip: two buttons, one visible at a time,
    each toggling the element and both buttons."""
    ids = (f"{target}-show", f"{target}-hide")
    targets = [TargetElement(element_id=x) for x in (target, *ids)]
    return [
        ActionSet(
            id=element_id,
            is_visible=None if visible else False,
            actions=[ActionToggleVisibility(title=title, target_elements=targets)],
        )
        for element_id, title, visible in ((ids[0], show, True), (ids[1], hide, False))
    ]


def row(item: Element, action: Action) -> ColumnSet:
    """A line of text with its own button at the end (one button per line, so a
    long list never meets Teams' limit on the buttons in one set)."""
    return ColumnSet(
        columns=[
            Column(
                items=[item], width="stretch", vertical_content_alignment=VerticalAlignment.CENTER
            ),
            Column(
                items=[ActionSet(actions=[action])],
                width="auto",
                vertical_content_alignment=VerticalAlignment.CENTER,
            ),
        ]
    )


def buttons(*actions: Action) -> ActionSet:
    return ActionSet(actions=list(actions))


def text_input(
    input_id: str,
    label: str,
    *,
    value: str | None = None,
    max_length: int = LONG_TEXT,
    multiline: bool = True,
    required: bool = False,
    error: str | None = None,
    placeholder: str | None = None,
) -> InputText:
    if required and not error:
        raise ValueError(f"required input '{input_id}' needs an error message")
    return InputText(
        id=input_id,
        label=label,
        value=value or None,
        max_length=max_length,
        is_multiline=True if multiline else None,
        is_required=True if required else None,
        error_message=error if required else None,
        placeholder=placeholder,
    )


def email_input(
    input_id: str, label: str, *, value: str | None = None, required: bool = False, error: str
) -> InputText:
    return InputText(
        id=input_id,
        label=label,
        value=value or None,
        max_length=EMAIL_LENGTH,
        style=TextInputStyle.EMAIL,
        regex=EMAIL_REGEX,
        is_required=True if required else None,
        error_message=error,
    )


def choices(
    input_id: str,
    label: str,
    options: Sequence[tuple[str, str]],
    *,
    value: str | None = None,
    expanded: bool = False,
    multi: bool = False,
    required: bool = False,
    error: str | None = None,
    placeholder: str | None = None,
) -> InputChoiceSet:
    """`options` are (value, title) pairs; titles are our words or the template's labels."""
    if required and not error:
        raise ValueError(f"required input '{input_id}' needs an error message")
    return InputChoiceSet(
        id=input_id,
        label=label,
        choices=[InputChoice(title=title, value=key) for key, title in options],
        value=value or None,
        style=ChoiceInputStyle.EXPANDED if expanded or multi else ChoiceInputStyle.COMPACT,
        is_multi_select=True if multi else None,
        is_required=True if required else None,
        error_message=error if required else None,
        placeholder=placeholder if not (expanded or multi) else None,
        wrap=True,
    )


def _frozen(*_: object, **__: object) -> NoReturn:
    raise TypeError("a built card is frozen: build a new one")


class Built(dict[str, Any]):
    """A finished card: plain JSON, frozen all the way down (its lists are `Frozen`).

    Every dict in it is a Built and every list a Frozen; neither can be changed, so a
    copy of one is the thing itself, as with a tuple, and `Built(card)` of a Built is
    that card. botbuilder deep-copies every activity it sends and msrest copies each
    value it serialises (`bot.patches`); for a card that copying cost more than
    building it. Freezing a card of 300 nodes takes about 0.1 ms, once.
    """

    __slots__ = ()

    def __new__(cls, tree: Any = (), /) -> Built:
        return tree if type(tree) is cls else super().__new__(cls)

    def __init__(self, tree: Any = (), /) -> None:
        if tree is not self:
            pairs = tree.items() if isinstance(tree, dict) else dict(tree).items()
            super().__init__({key: _freeze(value) for key, value in pairs})

    __setitem__ = __delitem__ = __ior__ = _frozen
    clear = pop = popitem = setdefault = update = _frozen

    def __copy__(self) -> Built:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Built:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return Built, (dict(self),)


class Frozen(list[Any]):
    """A list inside a Built card: frozen, so its copies are itself."""

    __slots__ = ()

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _frozen
    append = extend = insert = remove = pop = clear = sort = reverse = _frozen

    def __copy__(self) -> Frozen:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Frozen:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return Frozen, (list(self),)


def _freeze(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return Built(value)
    if kind is list:
        return Frozen([_freeze(item) for item in value])
    return value  # str, int, float, bool, None, or already frozen


def card(body: Sequence[Element], actions: Sequence[Action] = ()) -> dict[str, Any]:
    """The card as the JSON dict Teams receives (schema 1.5)."""
    builder = AdaptiveCard.new().version(CARD_VERSION).add_items(list(body))
    if actions:
        builder = builder.add_actions(list(actions))
    built = builder.create()
    # What `to_json` writes, as a dict straight from pydantic (no JSON text to re-read).
    return Built(built.model_dump(mode="json", exclude_none=True, by_alias=True, warnings=False))


def inner_card(body: Sequence[Element], actions: Sequence[Action] = ()) -> AdaptiveCard:
    """A card shown inside another (Action.ShowCard)."""
    builder = AdaptiveCard.new().version(CARD_VERSION).add_items(list(body))
    if actions:
        builder = builder.add_actions(list(actions))
    return builder.create()


def size_of(built: dict[str, Any]) -> int:
    """Bytes on the wire as the Bot Framework client sends it (ASCII-escaped JSON)."""
    return len(json.dumps(built).encode("ascii"))


def fits(built: dict[str, Any]) -> bool:
    return size_of(built) <= MAX_CARD_BYTES


def fitted(build: Callable[[int | None], dict[str, Any]], longest: int) -> dict[str, Any]:
    """`build(None)` if it fits; else `build(limit)` with read-only texts cut ever shorter.

    Only text shown for reading is cut (the stored answer is untouched); the
    text in an input box never is, since saving the box would cut the answer.
    """
    built = build(None)
    limit = longest
    while not fits(built) and limit > 200:
        limit = limit * 3 // 4
        built = build(limit)
    return built


def cut(value: str, limit: int | None) -> str:
    return shorten(value, limit) if limit else value


def shorten(value: str, limit: int) -> str:
    """At most `limit` characters, marked as cut when it is."""
    if len(value) <= limit:
        return value
    return value[: max(0, limit - 1)].rstrip() + "…"
