"""The four Ofsted-style grades and the rules that tie an overall grade to its sections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Grade(StrEnum):
    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def rank(self) -> int:
        """Higher is better: Outstanding 4 ... Inadequate 1."""
        return _RANKS[self]

    @classmethod
    def parse(cls, text: str) -> Grade:
        """Accepts the key ("requires_improvement") or the words a person types."""
        key = " ".join(str(text).lower().replace("_", " ").replace("-", " ").split())
        for grade in cls:
            if key in (grade.value.replace("_", " "), grade.label.lower()):
                return grade
        if key in ("ri",):
            return cls.REQUIRES_IMPROVEMENT
        raise ValueError(
            f"'{text}' is not a grade: use Outstanding, Good, Requires Improvement or Inadequate"
        )


_LABELS = {
    Grade.OUTSTANDING: "Outstanding",
    Grade.GOOD: "Good",
    Grade.REQUIRES_IMPROVEMENT: "Requires Improvement",
    Grade.INADEQUATE: "Inadequate",
}
_RANKS = {
    Grade.OUTSTANDING: 4,
    Grade.GOOD: 3,
    Grade.REQUIRES_IMPROVEMENT: 2,
    Grade.INADEQUATE: 1,
}


class GradeRule(StrEnum):
    """Appendix 6 of the Swindon framework (grade descriptors)."""

    OUTSTANDING_NEEDS_ALL_OUTSTANDING = "outstanding_needs_all_outstanding"
    GOOD_NEEDS_LIMITING_JUDGEMENTS = "good_needs_limiting_judgements"


@dataclass(frozen=True)
class GradeIssue:
    rule: GradeRule
    message: str


def check_overall(
    overall: Grade,
    section_grades: Mapping[str, Grade],
    unmet_limiting: list[str],
) -> list[GradeIssue]:
    """What is inconsistent about an overall grade, given the section grades.

    `section_grades` excludes the overall section itself; `unmet_limiting`
    names the limiting judgements answered as not met.
    """
    issues: list[GradeIssue] = []
    if overall is Grade.OUTSTANDING:
        below = sorted(s for s, g in section_grades.items() if g is not Grade.OUTSTANDING)
        if below:
            issues.append(
                GradeIssue(
                    GradeRule.OUTSTANDING_NEEDS_ALL_OUTSTANDING,
                    "An overall Outstanding needs every section graded Outstanding; "
                    f"not Outstanding: {', '.join(below)}",
                )
            )
    if overall in (Grade.OUTSTANDING, Grade.GOOD) and unmet_limiting:
        issues.append(
            GradeIssue(
                GradeRule.GOOD_NEEDS_LIMITING_JUDGEMENTS,
                f"An overall {overall.label} needs every limiting judgement met; "
                f"not met: {', '.join(unmet_limiting)}",
            )
        )
    return issues
