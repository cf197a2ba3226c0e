"""The transcripts of ``run_many``: one file name per target, unique, and
the directory they go to."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._many import _Plan

__all__ = ["log_names", "prepare_logdir"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def log_names(plans: Iterable[_Plan]) -> list[str]:
    """One file name per plan: ``host_port.log`` (``spawn_command.log``), made
    unique with ``-2``, ``-3``... when two targets share host and port.

    Unique as a file system that ignores case compares them (macOS, Windows):
    the first target to have a name keeps it, and a suffix skips any name
    another target has of its own or was given (``sh``, ``sh``, ``sh-2`` give
    ``sh``, ``sh-3``, ``sh-2``): two hosts writing one file lose a transcript.
    """
    stems = [_log_stem(plan) for plan in plans]
    taken = {stem.casefold() for stem in stems}  # own names, each kept by its first
    owned: set[str] = set()
    counts: dict[str, int] = {}  # the last suffix tried for a stem, not to retry them all
    names = []
    for stem in stems:
        key = stem.casefold()
        if key not in owned:
            owned.add(key)
            names.append(f"{stem}.log")
            continue
        count = counts.get(key, 1) + 1
        while f"{key}-{count}" in taken:
            count += 1
        counts[key] = count
        taken.add(f"{key}-{count}")
        names.append(f"{stem}-{count}.log")
    return names


def _log_stem(plan: _Plan) -> str:
    if plan.kind == "spawn":
        return "spawn_" + _UNSAFE.sub("_", " ".join(plan.argv))[:80]
    return f"{_UNSAFE.sub('_', plan.host)}_{plan.port}"


def prepare_logdir(logdir: str | os.PathLike[str] | None) -> Path | None:
    if logdir is None:
        return None
    path = Path(logdir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot use logdir {str(path)!r}: {exc}") from exc
    return path
