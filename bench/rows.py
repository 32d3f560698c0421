"""What every bench script hands to `bench/run_all.py`: one row per key figure."""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    baseline: str = "-"
    ratio: str = "-"
    budget: str = "-"
    ok: bool | None = None  # None: no budget for this figure, shown for context

    @property
    def verdict(self) -> str:
        return "-" if self.ok is None else "ok" if self.ok else "OVER"


HEADER = ("figure", "measured", "baseline", "ratio", "budget", "ok/OVER")


def table(rows: Sequence[Row], markdown: bool = False) -> str:
    cells = [
        HEADER,
        *((r.figure, r.measured, r.baseline, r.ratio, r.budget, r.verdict) for r in rows),
    ]
    if markdown:
        lines = ["| " + " | ".join(c) + " |" for c in cells]
        lines.insert(1, "|" + "---|" * len(HEADER))
        return "\n".join(lines)
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)) for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc), in MB."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted samples."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
