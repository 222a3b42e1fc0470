"""`newsdesk watch`: refresh feeds on an interval (each round an incremental ingest; Ctrl-C stops it cleanly)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

MIN_EVERY, MAX_EVERY = 60.0, 24 * 3600.0  # politer than a minute is not needed, rarer than a day is not watching
_EVERY = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNIT = {"": 60.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_every(text: str) -> float:
    """An interval such as "30m", "2h", "90s" or "45" (minutes) in seconds, within one minute and one day.

    >>> parse_every("30m"), parse_every("2h"), parse_every("90s"), parse_every("45")
    (1800.0, 7200.0, 90.0, 2700.0)
    >>> parse_every("5s")
    Traceback (most recent call last):
    ValueError: --every 5s is shorter than a minute; feeds are refreshed at most once a minute
    """
    match = _EVERY.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"--every {text!r} is not an interval: use e.g. 30m, 2h or 90s")
    seconds = float(match.group(1)) * _UNIT[match.group(2)]
    if seconds < MIN_EVERY:
        raise ValueError(f"--every {text} is shorter than a minute; feeds are refreshed at most once a minute")
    if seconds > MAX_EVERY:
        raise ValueError(f"--every {text} is longer than a day; use a daily cron job instead")
    return seconds


def watch(run_once: Callable[[], int], every: float, rounds: int | None = None,
          sleep: Callable[[float], None] = time.sleep) -> int:
    """Call ``run_once`` now and then every ``every`` seconds (``rounds`` times, or until interrupted).

    A round that fails is reported by ``run_once`` and the next one still runs: one bad refresh (a feed down
    for an hour) must not end the watch. Returns the last round's exit code.
    """
    code = 0
    done = 0
    while rounds is None or done < rounds:
        started = time.monotonic()
        code = run_once()
        done += 1
        if rounds is not None and done >= rounds:
            break
        sleep(max(0.0, every - (time.monotonic() - started)))
    return code
