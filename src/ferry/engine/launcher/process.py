"""One run of a connector process: a private 0700 directory for its files, its own process group,
stderr captured line by line, and a watchdog that kills the whole group on timeout or silence.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ferry.engine.launcher.limits import Limits
from ferry.engine.launcher.programs import Program
from ferry.errors import ConfigError
from ferry.protocol import dumps

_TICK = 0.1
_STDERR_TAIL = 20
_STDERR_PENDING = 10_000
_PIPE_BUFFER = 1 << 20
_CHUNK = 1 << 20


class ConnectorProcess:
    """Runs `program` with `args`; `files` (name -> JSON value) are written into the private directory
    first, and `{name}` in `args` is replaced by the path the connector sees for that file."""

    def __init__(
        self,
        program: Program,
        args: Sequence[str],
        files: Mapping[str, Any],
        limits: Limits,
        *,
        with_stdin: bool = False,
    ) -> None:
        self.program = program
        self.args = list(args)
        self.files = dict(files)
        self.limits = limits
        self.with_stdin = with_stdin
        self.workdir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.killed: str | None = None
        """Why Ferry killed the process: 'timeout', 'heartbeat' or 'stopped'; None when it was not."""
        self.activity = 0
        """Bumped on every line read and every input written; the watchdog watches it move."""
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL)
        self._stderr_pending: deque[str] = deque(maxlen=_STDERR_PENDING)
        self._done = threading.Event()
        self._kill_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> ConnectorProcess:
        self.workdir = Path(tempfile.mkdtemp(prefix="ferry-connector-"))  # mode 0700
        try:
            self._write_files(self.workdir)
            self._spawn(self.workdir)
        except BaseException:
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.kill("stopped")
            self._reap_group()
        finally:
            self._done.set()
            for thread in self._threads:
                thread.join(timeout=5)
            for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr) if self.proc else ():
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def _write_files(self, workdir: Path) -> None:
        for name, value in self.files.items():
            fd = os.open(workdir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(dumps(value))

    def _spawn(self, workdir: Path) -> None:
        paths = {name: self.program.file_path(workdir, name) for name in self.files}
        args = [paths.get(a[1:-1], a) if a.startswith("{") and a.endswith("}") else a for a in self.args]
        argv = self.program.argv(args, workdir)
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if self.with_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.program.environment(),
                start_new_session=True,  # its own process group, so a kill reaches its children too
                bufsize=_PIPE_BUFFER,
            )
        except OSError as exc:
            raise ConfigError(
                f"connector '{self.program.name}' cannot be started: {exc.strerror or exc} ({argv[0]})",
                hint="Check that the program exists and is executable, or reinstall the connector.",
                connector=self.program.name,
            ) from None
        _widen_pipe(self.proc.stdout)
        _widen_pipe(self.proc.stdin)
        self._start_thread(self._read_stderr, "stderr")
        if self.limits.timeout or self.limits.heartbeat:
            self._start_thread(self._watch, "watchdog")

    def _start_thread(self, target: Any, what: str) -> None:
        thread = threading.Thread(target=target, name=f"ferry-{what}-{self.program.name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- I/O -------------------------------------------------------------------------------------

    @property
    def stdout(self) -> IO[bytes]:
        assert self.proc is not None
        assert self.proc.stdout is not None
        return self.proc.stdout

    @property
    def stdin(self) -> IO[bytes]:
        assert self.proc is not None
        assert self.proc.stdin is not None
        return self.proc.stdin

    def lines(self) -> Iterator[bytes]:
        """stdout line by line until the connector closes it."""
        for line in self.stdout:
            self.activity += 1
            yield line

    def chunks(self, size: int = _CHUNK) -> Iterator[bytes]:
        """stdout in pieces of whole lines, each ending with a newline (but perhaps the very last)."""
        stdout: Any = self.stdout  # a BufferedReader (Popen with bufsize > 0)
        read = stdout.read1
        rest = b""
        while data := read(size):
            self.activity += 1
            if rest:
                data = rest + data
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if cut:
                yield data[:cut]
        if rest:
            yield rest

    def stderr_lines(self) -> list[str]:
        """stderr lines not yet handed out (each line once)."""
        out: list[str] = []
        while self._stderr_pending:
            out.append(self._stderr_pending.popleft())
        return out

    @property
    def has_stderr(self) -> bool:
        return bool(self._stderr_pending)

    def _read_stderr(self) -> None:
        assert self.proc is not None
        assert self.proc.stderr is not None
        with contextlib.suppress(OSError, ValueError):
            for raw in self.proc.stderr:
                text = raw.decode("utf-8", errors="replace").rstrip()
                if text:
                    self.stderr_tail.append(text)
                    self._stderr_pending.append(text)

    # -- ending ----------------------------------------------------------------------------------

    def wait(self) -> int:
        """The exit code, once the process has ended (the watchdog still guards a process that hangs)."""
        assert self.proc is not None
        code = self.proc.wait()
        for thread in self._threads:
            if thread.name.startswith("ferry-stderr"):
                thread.join(timeout=5)  # the whole of stderr, for the error message
        return code

    def _watch(self) -> None:
        started = last_change = time.monotonic()
        seen = -1
        timeout, heartbeat = self.limits.timeout, self.limits.heartbeat
        while not self._done.wait(_TICK):
            if self.proc is None or self.proc.poll() is not None:
                return
            now = time.monotonic()
            if self.activity != seen:
                seen, last_change = self.activity, now
            if timeout and now - started > timeout:
                self.kill("timeout")
                return
            if heartbeat and now - last_change > heartbeat:
                self.kill("heartbeat")
                return

    def kill(self, reason: str) -> None:
        """SIGTERM the whole process group, then SIGKILL whatever is left after the grace period."""
        with self._kill_lock:
            if self.proc is None or self.killed is not None:
                return
            self.killed = reason
        pgid = self.proc.pid
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + self.limits.grace
        while time.monotonic() < deadline and not (self.proc.poll() is not None and not _group_alive(pgid)):
            time.sleep(0.05)
        _signal_group(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=self.limits.grace)
        if self.workdir is not None:
            self.program.after_kill(self.workdir)

    def _reap_group(self) -> None:
        """After the connector ended, nothing it started may outlive it (a helper it forgot to stop)."""
        if self.proc is not None and self.proc.poll() is not None:
            _signal_group(self.proc.pid, signal.SIGKILL)


def _widen_pipe(pipe: IO[bytes] | None) -> None:
    """A 1 MiB pipe instead of 64 KiB: far fewer context switches at a million lines (Linux only)."""
    if pipe is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BUFFER)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    if Path("/proc/self/stat").exists():
        return bool(group_members(pgid))  # zombies do not count: nobody may be left to reap them
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group `pgid`, from /proc (used by tests and checks)."""
    members: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members
