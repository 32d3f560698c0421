"""Time to ready: `auditbot serve` started as a subprocess until GET /readyz answers 200;
and how long the light commands (`auditbot --help`, `audits`, `show`) take to answer.

    .venv/bin/python bench/startup.py [--runs 3]

Each run starts `auditbot serve` on a free port with a fresh SQLite database
(created and migrated by the start itself) and the demo roles, then asks
GET /readyz every 10 ms until it answers 200. The baseline, measured in the
same run, is a bare `python -c "import aiohttp"` subprocess: the least any
Python web service here can take. Prints the median of each and the ratio.

Each light command runs as a subprocess against a SQLite database holding the README's
four-audit sample, allocated first; the figure is the median wall time to its exit.

Budgets (docs/performance.md): ready to serve within 3 s of start; a light command
within 2x the bare import and under 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditbot.demo import ROLES_FILE
from bench.rows import Row, table

BUDGET = 3.0
LIGHT_BUDGET = 0.5  # seconds, and within LIGHT_RATIO of the bare import
LIGHT_RATIO = 2.0
TIMEOUT = 60.0
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def time_to_ready() -> tuple[float, float]:
    """Seconds from starting the process until /healthz, then /readyz, answer 200."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AUDITBOT_", "Microsoft"))},
            "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/startup.db",
            "AUDITBOT_ROLES_FILE": str(ROLES_FILE),
            "AUDITBOT_ALLOWED_TENANTS": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        }
        command = [str(BIN / "auditbot"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        began = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        alive = ready = None
        try:
            while time.perf_counter() - began < TIMEOUT:
                if process.poll() is not None:
                    raise RuntimeError(f"auditbot serve exited with {process.returncode}")
                if alive is None and _answers(f"http://127.0.0.1:{port}/healthz") == 200:
                    alive = time.perf_counter() - began
                if alive is not None and _answers(f"http://127.0.0.1:{port}/readyz") == 200:
                    ready = time.perf_counter() - began
                    break
                time.sleep(0.01)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if alive is None or ready is None:
            raise RuntimeError(f"auditbot serve was not ready within {TIMEOUT:.0f} s")
        return alive, ready


def time_bare_python() -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import aiohttp"], check=True)
    return time.perf_counter() - began


SAMPLE = """child_id,strand,team,social_worker,auditor,iro,moderator,team_manager,service_manager
1234567,Help and protection,Team 1,sam.social@council.example,ava.auditor@council.example,ira.iro@council.example,mo.moderator@council.example,tia.manager@council.example,sol.service@council.example
2345678,Children We Care For,Team 2,sid.worker@council.example,alex.atm@council.example,ira.iro@council.example,mo.moderator@council.example,tia.manager@council.example,sol.service@council.example
"""


def time_light_commands(runs: int) -> dict[str, list[float]]:
    """Wall seconds of `auditbot --help`, `audits` and `show ID`, each `runs` times."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AUDITBOT_", "Microsoft"))},
            "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/light.db",
        }
        Path(tmp, "sample.csv").write_text(SAMPLE)
        auditbot = str(BIN / "auditbot")
        subprocess.run(
            [auditbot, "allocate", "sample.csv"], env=env, cwd=tmp, check=True, capture_output=True
        )
        listed = subprocess.run(
            [auditbot, "audits"], env=env, cwd=tmp, check=True, capture_output=True, text=True
        )
        first = listed.stdout.splitlines()[1].split()[0]
        commands = {"--help": ["--help"], "audits": ["audits"], "show": ["show", first]}
        took: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                began = time.perf_counter()
                subprocess.run([auditbot, *argv], env=env, cwd=tmp, check=True, capture_output=True)
                took[name].append(time.perf_counter() - began)
        return took


def measure(runs: int = 3) -> list[Row]:
    alive, ready, bare = [], [], []
    for _ in range(runs):
        bare.append(time_bare_python())
        a, r = time_to_ready()
        alive.append(a)
        ready.append(r)
    light = time_light_commands(max(runs, 5))
    base, up, live = statistics.median(bare), statistics.median(ready), statistics.median(alive)
    rows = [
        Row(
            f"`auditbot {name}` to exit (median of {len(took)})",
            f"{statistics.median(took):.2f} s",
            f"{base:.2f} s (import aiohttp)",
            f"{statistics.median(took) / base:.1f}x",
            f"< {LIGHT_RATIO:.0f}x and < {LIGHT_BUDGET} s",
            statistics.median(took) < min(LIGHT_BUDGET, LIGHT_RATIO * base),
        )
        for name, took in light.items()
    ]
    return [
        *rows,
        Row(
            f"start to /readyz 200 (median of {runs})",
            f"{up:.2f} s",
            f"{base:.2f} s (import aiohttp)",
            f"{up / base:.1f}x",
            f"< {BUDGET:.0f} s",
            up < BUDGET,
        ),
        Row(
            f"start to /healthz 200 (median of {runs})",
            f"{live:.2f} s",
            f"{base:.2f} s (import aiohttp)",
            f"{live / base:.1f}x",
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(table(measure(args.runs)))
