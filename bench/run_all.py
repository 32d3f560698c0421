"""Every benchmark in one run, and one table of their key figures (`make bench`).

    .venv/bin/python bench/run_all.py [--quick] [--markdown]

Runs bench/timers.py, submit.py, startup.py, allocation.py, when it is there
report.py, and sqlite_driver.py, one after another in this process, each through its
`measure()`; a script that fails is shown as failed and the others still run.
--quick uses smaller sizes (a smoke run; its figures are not the budgets').
Exit status 1 when any figure is over its budget or any script failed.
Times are never asserted in tests: this machine may be busy; run it again.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import inspect
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rows import Row, table

ROOT = Path(__file__).resolve().parent.parent

FULL: dict[str, dict[str, Any]] = {
    "timers": {},
    "submit": {},
    "startup": {},
    "allocation": {},
    "report": {},
    "sqlite_driver": {},
}
QUICK: dict[str, dict[str, Any]] = {
    "timers": {"n": 5_000},
    "submit": {"users": 5, "per_user": 5},
    "startup": {"runs": 1},
    "allocation": {"audits": 20},
    "report": {},
    "sqlite_driver": {"turns": 10, "rounds": 1},
}


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _report_rows(module: Any) -> list[Row]:
    """bench/report.py has no `measure()` of its own: its `main()` prints, and returns
    0 within budget; the figure is how long that whole run took, and its verdict."""
    began = time.perf_counter()
    status = asyncio.run(module.main())
    took = time.perf_counter() - began
    return [
        Row(
            "monthly report bench (see its output above)",
            f"whole run {took:.0f} s",
            budget="< 5 s for the month",
            ok=status == 0,
        )
    ]


def run(name: str, options: dict[str, Any]) -> list[Row]:
    module = _load(name)
    measure: Callable[..., Any] | None = getattr(module, "measure", None)
    if measure is None:
        if name == "report" and hasattr(module, "main"):
            return _report_rows(module)
        raise RuntimeError(f"bench/{name}.py has no measure()")
    result = measure(**options)
    rows: list[Row] = asyncio.run(result) if inspect.isawaitable(result) else result
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("only", nargs="*", help="run only these (e.g. submit startup)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    rows: list[Row] = []
    failed = False
    for name, options in plan.items():
        if args.only and name not in args.only:
            continue
        if not (ROOT / "bench" / f"{name}.py").exists():
            print(f"== {name}: bench/{name}.py is not there, skipped", flush=True)
            continue
        print(f"== {name} ...", flush=True)
        began = time.perf_counter()
        try:
            got = run(name, options)
        except Exception:
            traceback.print_exc()
            got = [Row(f"bench/{name}.py", "FAILED (see above)", ok=False)]
            failed = True
        rows += got
        print(f"== {name}: {time.perf_counter() - began:.0f} s", flush=True)
    print()
    print(table(rows, markdown=args.markdown))
    return 1 if failed or any(r.ok is False for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
