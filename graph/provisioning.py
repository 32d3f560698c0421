"""The tracker list on SharePoint, made and checked through Graph (msgraph-sdk).

`setup_tracker` makes the list, or adds what an existing one lacks: every column of
`application.tracker_list.TRACKER_COLUMNS` by its internal name and type, and the
index on AuditId. It changes nothing when all is there, and refuses, changing
nothing, when a column of one of those names has another type: turning a column into
another type is the admin's decision, since SharePoint converts or loses its values.
`check_tracker` says the same without changing anything, for `auditbot doctor`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from application.ports import GraphNotFound
from application.tracker_list import TRACKER_COLUMNS, ColumnType, TrackerColumn
from graph.client import MsGraph, _call

with warnings.catch_warnings():
    # The SDK's generated modules warn about their own deprecated classes when imported.
    warnings.simplefilter("ignore", DeprecationWarning)
    from msgraph.generated.models.boolean_column import BooleanColumn
    from msgraph.generated.models.choice_column import ChoiceColumn
    from msgraph.generated.models.column_definition import ColumnDefinition
    from msgraph.generated.models.date_time_column import DateTimeColumn
    from msgraph.generated.models.list_ import List_
    from msgraph.generated.models.list_info import ListInfo
    from msgraph.generated.models.text_column import TextColumn


class TrackerRefused(Exception):
    """The list has a column auditbot needs with another type: nothing was changed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class TrackerState:
    """What the site's tracker list lacks, or has wrongly."""

    list_id: str | None  # None: there is no such list
    missing: list[TrackerColumn] = field(default_factory=list)
    not_indexed: list[tuple[TrackerColumn, str]] = field(default_factory=list)  # (column, id)
    wrong: list[str] = field(default_factory=list)  # plain words, one a column

    @property
    def complete(self) -> bool:
        return self.list_id is not None and not (self.missing or self.not_indexed or self.wrong)


async def check_tracker(graph: MsGraph) -> TrackerState:
    lists = graph.client.sites.by_site_id(graph.settings.site_id).lists
    try:
        found = await _call(lists.by_list_id(graph.settings.tracker_list).get())
    except GraphNotFound:
        return TrackerState(list_id=None)
    list_id = str(found.id) if found is not None and found.id else graph.settings.tracker_list
    answer = await _call(lists.by_list_id(list_id).columns.get())
    have = {str(c.name): c for c in (answer.value if answer and answer.value else []) if c.name}
    state = TrackerState(list_id=list_id)
    for wanted in TRACKER_COLUMNS:
        column = have.get(wanted.name)
        if column is None:
            state.missing.append(wanted)
            continue
        problem = _type_problem(wanted, column)
        if problem:
            state.wrong.append(problem)
        elif wanted.indexed and not column.indexed:
            state.not_indexed.append((wanted, str(column.id or wanted.name)))
    return state


async def setup_tracker(graph: MsGraph) -> list[str]:
    """Makes the tracker list complete; returns what it changed, in plain words."""
    state = await check_tracker(graph)
    if state.wrong:
        raise TrackerRefused(state.wrong)
    lists = graph.client.sites.by_site_id(graph.settings.site_id).lists
    name = graph.settings.tracker_list
    if state.list_id is None:
        body = List_(
            display_name=name,
            list_=ListInfo(template="genericList"),
            columns=[_definition(column) for column in TRACKER_COLUMNS],
        )
        await _call(lists.post(body))
        return [f"created list '{name}'"] + [
            f"created column {column.name} ({_describe(column)})" for column in TRACKER_COLUMNS
        ]
    changes = []
    columns = lists.by_list_id(state.list_id).columns
    for column in state.missing:
        await _call(columns.post(_definition(column)))
        changes.append(f"created column {column.name} ({_describe(column)})")
    for column, column_id in state.not_indexed:
        await _call(
            columns.by_column_definition_id(column_id).patch(ColumnDefinition(indexed=True))
        )
        changes.append(f"indexed column {column.name}")
    return changes


def _describe(column: TrackerColumn) -> str:
    return column.type.words + (", indexed" if column.indexed else "")


def _definition(column: TrackerColumn) -> ColumnDefinition:
    definition = ColumnDefinition(
        name=column.name, display_name=column.display_name, indexed=column.indexed
    )
    if column.type is ColumnType.TEXT:
        definition.text = TextColumn(max_length=255)
    elif column.type is ColumnType.NOTE:
        definition.text = TextColumn(allow_multiple_lines=True)
    elif column.type is ColumnType.DATE_TIME:
        definition.date_time = DateTimeColumn(format="dateTime")
    elif column.type is ColumnType.BOOLEAN:
        definition.boolean = BooleanColumn()
    elif column.type is ColumnType.CHOICE:
        definition.choice = ChoiceColumn(choices=list(column.choices), allow_text_entry=False)
    return definition


def _facet(column: ColumnDefinition) -> str | None:
    for facet, value in (
        ("text", column.text),
        ("dateTime", column.date_time),
        ("boolean", column.boolean),
        ("choice", column.choice),
        ("number", column.number),
        ("personOrGroup", column.person_or_group),
        ("lookup", column.lookup),
        ("hyperlinkOrPicture", column.hyperlink_or_picture),
        ("calculated", column.calculated),
        ("currency", column.currency),
    ):
        if value is not None:
            return facet
    return None


_FACET_WORDS = {
    "text": "text",
    "dateTime": "date and time",
    "boolean": "yes/no",
    "choice": "choice",
    "number": "number",
    "personOrGroup": "person",
    "lookup": "lookup",
    "hyperlinkOrPicture": "hyperlink",
    "calculated": "calculated",
    "currency": "currency",
}


def _type_problem(wanted: TrackerColumn, column: ColumnDefinition) -> str | None:
    facet = _facet(column)
    if facet != wanted.type.facet:
        have = _FACET_WORDS.get(facet or "", "of an unknown type")
        return (
            f"column {wanted.name} is {have} but auditbot writes {wanted.type.words} to it: "
            f"change its type in the list settings, or delete the column if its values "
            f"are not needed, then run `auditbot setup sharepoint` again"
        )
    if wanted.type is ColumnType.TEXT and column.text and column.text.allow_multiple_lines:
        return (
            f"column {wanted.name} is text on several lines, which SharePoint cannot "
            f"index or filter on: make it a single line of text"
        )
    if wanted.type is ColumnType.CHOICE:
        offered: Any = column.choice.choices if column.choice else None
        lacking = [c for c in wanted.choices if c not in (offered or [])]
        if lacking:
            return (
                f"column {wanted.name} does not offer {', '.join(lacking)}: add "
                f"{'them' if len(lacking) > 1 else 'it'} to its choices"
            )
    return None
