"""The report's charts as PNG images (matplotlib's Agg renderer, no display needed).

Each figure is its own `Figure` object drawn on an Agg canvas, never through
`pyplot`, so nothing is shared between reports or threads.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from audits.grades import Grade
from reports.figures import GRADES, TREND_NAMES, TREND_STEPS, AuditReport

GRADE_COLOURS = {
    Grade.OUTSTANDING: "#1b5e20",
    Grade.GOOD: "#66bb6a",
    Grade.REQUIRES_IMPROVEMENT: "#ffb300",
    Grade.INADEQUATE: "#c62828",
}
AGREED, UP, DOWN = "#5c8ab8", "#66bb6a", "#c62828"
TREND_COLOURS = ("#1f4e79", "#2e7d32", "#ef6c00")
DPI = 100


@dataclass(frozen=True)
class Charts:
    grades_by_strand: bytes
    agreement_by_section: bytes
    timeliness_trend: bytes

    def items(self) -> tuple[tuple[str, bytes], ...]:
        return (
            ("grades-by-strand", self.grades_by_strand),
            ("agreement-by-section", self.agreement_by_section),
            ("timeliness-trend", self.timeliness_trend),
        )


def render_charts(report: AuditReport) -> Charts:
    return Charts(
        grades_by_strand=grades_by_strand(report),
        agreement_by_section=agreement_by_section(report),
        timeliness_trend=timeliness_trend(report),
    )


def _png(figure: Figure, **margins: float) -> bytes:
    FigureCanvasAgg(figure)
    # Fixed margins: matplotlib's automatic layout costs most of a chart's time.
    figure.subplots_adjust(**margins)
    out = io.BytesIO()
    # No software or date stamp: the same figures give the same bytes.
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _wrap(label: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(label, width)[:3])


def grades_by_strand(report: AuditReport) -> bytes:
    """Per strand, two stacked bars: the auditors' grades and the moderated grades."""
    rows = report.judgements.rows
    figure = Figure(figsize=(7.5, 3.8))
    axes = figure.add_subplot()
    width = 0.38
    for offset, which in ((-width / 2 - 0.01, "auditor"), (width / 2 + 0.01, "moderated")):
        bottoms = [0] * len(rows)
        for grade in GRADES:
            heights = [getattr(r, which).count(grade) for r in rows]
            axes.bar(
                [i + offset for i in range(len(rows))],
                heights,
                width,
                bottom=bottoms,
                color=GRADE_COLOURS[grade],
                label=grade.label if which == "auditor" else None,
                edgecolor="white",
                linewidth=0.5,
            )
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    axes.set_xticks(
        range(len(rows)), [_wrap(f"{r.label}\n(auditor | moderated)", 22) for r in rows]
    )
    axes.tick_params(axis="x", labelsize=7)
    axes.set_ylabel("Audits")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"Grades by strand, {report.period.label}", fontsize=10)
    axes.legend(fontsize=7, loc="upper right", frameon=False)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _png(figure, left=0.08, right=0.98, top=0.9, bottom=0.22)


def agreement_by_section(report: AuditReport) -> bytes:
    """Per area of practice: sections the moderator agreed, regraded up, regraded down."""
    sections = list(reversed(report.agreement.sections))
    figure = Figure(figsize=(7.5, max(3.0, 0.38 * len(sections) + 1.2)))
    axes = figure.add_subplot()
    positions = range(len(sections))
    agreed = [s.agreed for s in sections]
    up = [s.up for s in sections]
    down = [s.down for s in sections]
    axes.barh(positions, agreed, color=AGREED, label="Agreed")
    axes.barh(positions, up, left=agreed, color=UP, label="Regraded up")
    axes.barh(
        positions,
        down,
        left=[a + u for a, u in zip(agreed, up, strict=True)],
        color=DOWN,
        label="Regraded down",
    )
    axes.set_yticks(positions, [_wrap(s.label, 45) for s in sections])
    axes.tick_params(axis="y", labelsize=6)
    axes.set_xlabel("Moderated audits")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Moderation: agreement by section", fontsize=10)
    axes.legend(fontsize=7, loc="lower right", frameon=False)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _png(figure, left=0.42, right=0.98, top=0.93, bottom=0.1)


def timeliness_trend(report: AuditReport) -> bytes:
    """On-time rates of the main steps over the last months (gaps where nothing was due)."""
    points = report.trend
    figure = Figure(figsize=(7.5, 3.4))
    axes = figure.add_subplot()
    xs = list(range(len(points)))
    for colour, step in zip(TREND_COLOURS, TREND_STEPS, strict=True):
        values = [p.rate(step.value) for p in points]
        axes.plot(
            xs,
            [float("nan") if v is None else v for v in values],
            marker="o",
            color=colour,
            label=TREND_NAMES[step],
        )
    axes.set_xticks(xs, [p.label for p in points])
    axes.tick_params(axis="x", labelsize=7)
    axes.set_ylim(0, 105)
    axes.set_ylabel("% on time")
    axes.set_title("Timeliness by sample month", fontsize=10)
    axes.legend(fontsize=7, loc="lower left", frameon=False)
    axes.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _png(figure, left=0.09, right=0.98, top=0.9, bottom=0.12)
