"""What the benchmarks share: the machine they ran on, and their sections of docs/performance.md."""

from __future__ import annotations

import os
import platform
import re
import secrets
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "performance.md"


def production_env(data_dir: Path) -> dict[str, str]:
    """The environment of a studio run as in production (DEBUG off), on a data folder and SQLite database of
    the benchmark's own in `data_dir`, never the developer's; nothing in it reaches beyond loopback."""
    return {
        "DJANGO_SETTINGS_MODULE": "sorastudio.settings",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'bench.sqlite3'}",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "HTTPS": "false",
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "SORA_PROVIDER": "simulator",
        "EMAIL_HOST": "",
        "LOG_LEVEL": "WARNING",
    }


def machine(load_before: float | None = None) -> str:
    """CPU, cores, memory, Python, SQLite, kernel, the day, and how busy the machine was (the load average
    over the last minute: on 2 cores, anything near 1 or above means other work shared the CPU)."""
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
        total = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        memory = f"{int(total.group(1)) / 1024**2:.0f} GB RAM" if total else ""
    except OSError:
        pass
    load = f"load average {os.getloadavg()[0]:.1f} when it ended"
    if load_before is not None:
        load = f"load average {load_before:.1f} when it started, {os.getloadavg()[0]:.1f} when it ended"
    parts = [
        f"{cpu}, {os.cpu_count()} cores",
        memory,
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
        f"{platform.system()} {platform.release()}",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        load,
    ]
    return " · ".join(part for part in parts if part)


def publish(section: str, *, write: bool) -> None:
    """Print the section; with `write`, also put it in docs/performance.md."""
    print(section)
    if write:
        write_section(section)
        print("written to docs/performance.md", file=sys.stderr)


def write_section(section: str) -> None:
    """Put `section` (which starts with its "## " title) in place of the one of that title, or at the end,
    keeping every other section, and the sections whose titles start with it ("## Gallery: reading…")."""
    title = section.splitlines()[0]
    text = REPORT.read_text() if REPORT.exists() else "# Performance\n"
    old = re.search(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", text, re.M | re.S)
    if old:
        rest = text[old.end() :]
        text = text[: old.start()] + section + ("\n" if rest else "") + rest
    else:
        text = text.rstrip("\n") + "\n\n" + section
    REPORT.write_text(text)
