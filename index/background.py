"""Detached jobs behind a lock file: work a command leaves behind so that its user does not wait for it.

`start` takes `<root>/.<name>.lock` (flock), starts the job with that open lock, and lets go of its own
copy: the lock is then held exactly as long as the job lives (an exit, a crash or kill -9 releases it),
so a second command never starts the same job twice, even while the first one still runs. The job has
its own session (Ctrl-C in the terminal does not reach it) and writes to `<root>/.<name>.log`.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

__all__ = ["start", "running", "log_path"]

_LOG = logging.getLogger("briefbot")


def _lock_path(root: Path, name: str) -> Path:
    return root / f".{name}.lock"


def log_path(root: Path, name: str) -> Path:
    return root / f".{name}.log"


def start(root: Path, name: str, argv: Sequence[str]) -> bool:
    """Run `python *argv` detached unless job `name` already runs under `root`; True when this call started it."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = os.open(_lock_path(root, name), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:  # no place for the lock: the work is left for a later command
        _LOG.warning("cannot start %s in the background: %s", name, error)
        return False
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with log_path(root, name).open("ab") as log:
            job = subprocess.Popen([sys.executable, *argv], stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, pass_fds=(lock,), start_new_session=True)
    except BlockingIOError:  # it runs already
        return False
    except OSError as error:  # the command goes on without it; a later command tries again
        _LOG.warning("cannot start %s in the background: %s", name, error)
        return False
    finally:
        os.close(lock)  # the job's copy keeps the lock
    # Reaped when it ends, so a long-lived parent (`briefbot serve`) keeps no zombie.
    threading.Thread(target=job.wait, name=f"briefbot-{name}", daemon=True).start()
    return True


def running(root: Path) -> bool:
    """True while any job started under `root` holds its lock."""
    for path in root.glob(".*.lock"):
        try:
            lock = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(lock)
    return False
