"""`python -m sandbox [--port N] [--state-dir DIR] [--print-env]`: run the sandbox alone.
Faults come from SANDBOX_* environment variables (see `Faults.from_env`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sandbox import DEFAULT_PORT, Faults, run_sandbox, sandbox_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--state-dir", type=Path, default=Path("var/sandbox"))
    parser.add_argument("--print-env", action="store_true", help="print settings and exit")
    args = parser.parse_args(argv)
    if args.print_env:
        for key, value in sandbox_env(args.port, args.state_dir).items():
            print(f"{key}={value}")
        return 0
    try:
        faults = Faults.from_env()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    run_sandbox(args.state_dir, args.port, faults)
    return 0


if __name__ == "__main__":
    sys.exit(main())
