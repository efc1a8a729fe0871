"""The benchmark's processes, started with the commands the Procfile gives production (so the
worker's pool, its concurrency and gunicorn's workers and threads are read from one place), and
their peak memory.

`procfile_argv("worker")` is the Procfile line as argv with its `NAME=value` prefixes returned
as environment; `.venv/bin/X` becomes the running interpreter's X. The benchmark then swaps only
what must differ (its own queue, bind address, log level) and keeps every other option.
"""

import contextlib
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def procfile_argv(name: str, procfile: Path = ROOT / "Procfile") -> tuple[list[str], dict]:
    """The Procfile's command for process `name` as (argv, env prefixes)."""
    for line in procfile.read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            break
    else:
        raise SystemExit(f"the Procfile has no {name!r} process")
    words, env = shlex.split(command), {}
    while words and "=" in words[0] and not words[0].startswith(("-", ".", "/")):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    if words[0].startswith(".venv/bin/"):
        words[0] = str(BIN / words[0].removeprefix(".venv/bin/"))
    return words, env


def option_set(argv: list[str], names: tuple[str, ...], value: str | None) -> list[str]:
    """argv with option `names` (e.g. ("-Q", "--queues")) set to `value`, added when absent;
    `value=None` removes it. Handles both `-Q x` and `--queues=x`."""
    out, i, found = [], 0, False
    while i < len(argv):
        word = argv[i]
        if word in names:
            i += 2
        elif any(word.startswith(n + "=") for n in names if n.startswith("--")):
            i += 1
        else:
            out.append(word)
            i += 1
            continue
        if value is not None and not found:
            out += [names[0], value]
        found = True
    if value is not None and not found:
        out += [names[0], value]
    return out


def worker_argv(*, queue: str, name: str) -> tuple[list[str], dict]:
    """The Procfile's Celery worker on the benchmark's queue, logging at WARNING, with the floor task."""
    argv, env = procfile_argv("worker")
    argv = option_set(argv, ("-Q", "--queues"), queue)
    argv = option_set(argv, ("-l", "--loglevel"), "warning")
    argv = option_set(argv, ("-n", "--hostname"), f"{name}@%h")
    return argv + ["--include", "benchmarks.floor", "--without-heartbeat"], env


def relay_argv() -> tuple[list[str], dict]:
    argv, env = procfile_argv("relay")
    return argv + ["--no-escalation"], env


def web_argv(*, port: int) -> tuple[list[str], dict]:
    argv, env = procfile_argv("web")
    argv = option_set(argv, ("-b", "--bind"), f"127.0.0.1:{port}")
    argv = option_set(argv, ("--log-level",), "warning")
    return option_set(argv, ("--access-logfile",), None), env


def start(argv_env: tuple[list[str], dict], env: dict) -> subprocess.Popen:
    argv, prefixes = argv_env
    return subprocess.Popen(argv, cwd=ROOT, env={**env, **prefixes}, stdout=subprocess.DEVNULL)


def stop(*procs: subprocess.Popen) -> None:
    """One at a time, in the order given (a worker shutting down still acks on Redis)."""
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def peak_rss_mb(label: str, pid: int) -> dict[str, float]:
    """VmHWM of a process and each of its children (a prefork pool, gunicorn's workers), in MB,
    keyed `label`, `label.1`, `label.2`…"""
    figures = {}
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for n, p in enumerate(pids):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    figures[label if n == 0 else f"{label}.{n}"] = round(int(line.split()[1]) / 1024, 1)
    return figures


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
