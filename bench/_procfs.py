"""Resident memory and thread count of a process from /proc (Linux; no psutil needed)."""

from __future__ import annotations


def proc_status(pid: int) -> dict[str, int]:
    """
    Read ``VmRSS``, ``RssAnon``, ``RssShmem``, ``VmHWM`` [kB] and ``Threads`` of ``pid``.

    Returns {} if the process is gone.
    """
    out: dict[str, int] = {}
    try:
        with open(f'/proc/{pid}/status', encoding='ascii', errors='replace') as f:
            for line in f:
                key, _, value = line.partition(':')
                if key in ('VmRSS', 'RssAnon', 'RssShmem', 'VmHWM', 'Threads'):
                    out[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        return {}
    return out


def rss_mb(pid: int) -> float:
    """Resident set size [MB] (nan if the process is gone)."""
    return proc_status(pid).get('VmRSS', float('nan') * 1024) / 1024.0


def threads(pid: int) -> int:
    """Return the number of threads of ``pid`` (-1 if the process is gone)."""
    return proc_status(pid).get('Threads', -1)
