"""Run one submission's code in a bubblewrap sandbox, with limits, and get its outputs back.

The student's notebook runs in ``python -m rnnbook.runner`` inside ``bwrap`` (Debian package
``bubblewrap``), one fresh process tree per submission:

- new user, PID, network, IPC, UTS and cgroup namespaces (``--unshare-all``): no network at all
  (only a loopback device), no view of the grader's or anyone else's processes; all capabilities
  dropped, no nested user namespaces; ``--die-with-parent`` and a fresh PID namespace, so when
  the runner exits or is killed every process it started dies with it;
- a file system built from nothing: read-only binds of ``/usr``, a few harmless files of
  ``/etc``, the Python installation (its site-packages) and the ``rnnbook`` package folder --
  and nothing else of the host: not the repository (so not ``solutions/`` nor the hidden expected
  outputs), not the grades file, not the other submissions, not ``/root`` or ``/home``;
- the only writable places: a private scratch folder (the working directory and ``$HOME``,
  deleted afterwards), a fresh size-capped ``/tmp`` and ``/dev/shm``;
- limits: ``RLIMIT_AS`` (memory), ``RLIMIT_FSIZE`` (any file, the result included), a per-cell
  and per-call alarm in the runner, and a wall-clock timeout here that kills the whole process
  group (and with it the PID namespace).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import site
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import rnnbook

SANDBOX_HOME = "/home/student"
SANDBOX_UID = 1000

#: harmless files of /etc that libraries read (dynamic linker cache, fonts, time zone)
ETC_FILES = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "localtime",
             "nsswitch.conf", "mime.types", "matplotlibrc"]


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces here."""


@dataclass
class Limits:
    timeout: float = 300.0  # wall-clock seconds for one whole submission
    cell_timeout: float = 120.0  # seconds per code cell
    call_timeout: float = 30.0  # seconds per call of an exercise function on one case
    memory_mb: int = 4096  # RLIMIT_AS: TensorFlow maps ~1.8 GB of address space to start
    max_file_mb: int = 64  # RLIMIT_FSIZE: no file the notebook writes, nor the result, is larger
    tmp_mb: int = 256  # size of the sandbox's /tmp and /dev/shm (memory-backed)


@dataclass
class RunOutcome:
    returncode: int | None
    timed_out: bool
    seconds: float
    log_tail: str  # the last lines the process printed (stdout and stderr), for diagnostics
    progress: str  # where the runner was last ("cell 7", "exercise forward", "done")


def package_dir() -> Path:
    """The folder of the installed ``rnnbook`` package (the repository's, when editable)."""
    return Path(rnnbook.__file__).resolve().parent


def python_dirs() -> list[Path]:
    """Where the Python installation and its packages live (bound read-only)."""
    dirs = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    for p in site.getsitepackages() + [site.getusersitepackages()]:
        if p and Path(p).is_dir() and p in sys.path:
            dirs.add(Path(p).resolve())
    dirs.add(Path(sys.executable).resolve().parent)
    return sorted(_outermost(dirs))


def _outermost(paths) -> list[Path]:
    """Drop the paths that lie inside another path of the set."""
    paths = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for p in paths:
        if not any(p == k or k in p.parents for k in kept):
            kept.append(p)
    return kept


def read_only_binds() -> list[Path]:
    """Every host path the sandbox sees (read-only), outermost first."""
    binds = [Path("/usr")] + python_dirs() + [package_dir()]
    return _outermost(binds)


def check_hidden(binds: list[Path], secret: list[Path]) -> None:
    """Refuse to run when a bound path would show a secret path (e.g. ``solutions/``)."""
    for s in secret:
        s = s.resolve()
        for b in binds:
            if s == b or b in s.parents:
                raise SandboxUnavailable(
                    f"the sandbox would see {s} through {b}: install rnnbook so that the "
                    "solutions and hidden expected outputs lie outside the Python installation "
                    "and the rnnbook package folder (e.g. `pip install -e .` from the repository)")


def sandbox_env(limits: Limits) -> dict:
    """The whole environment of the sandboxed process (nothing of the grader's leaks in)."""
    home = SANDBOX_HOME
    return {
        "HOME": home, "USER": "student", "LANG": "C.UTF-8", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "TMPDIR": "/tmp", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/ipython", "XDG_CACHE_HOME": "/tmp/cache", "KERAS_HOME": "/tmp/keras",
        "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
        # one thread per kernel: the grader already runs one submission per core
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "", "PYTHONHASHSEED": "0",
    }


def bwrap_prefix(scratch: Path, limits: Limits, secret: list[Path]) -> list[str]:
    """The ``bwrap ...`` arguments that build the sandbox around a command."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (`bwrap`) is not installed: `apt-get install bubblewrap` (Debian/Ubuntu), "
            "or pass --no-sandbox to run students' code unsandboxed (unsafe).")
    binds = read_only_binds()
    check_hidden(binds, secret)
    args = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--cap-drop", "ALL",
            "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    # The fresh /dev, /proc and /tmp come first, so that the read-only binds below are mounted on
    # top of them: a checkout or a Python installation under /tmp (CI's fresh clone may live
    # there) stays visible instead of being hidden by the new, empty /tmp.
    tmp_bytes = str(limits.tmp_mb * 2**20)
    args += ["--dev", "/dev", "--size", tmp_bytes, "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
             "--proc", "/proc", "--size", tmp_bytes, "--tmpfs", "/tmp"]
    for b in binds:
        args += ["--ro-bind", str(b), str(b)]
    for link in ("bin", "lib", "lib64", "sbin"):  # merged /usr: these are links on Debian 12
        host = Path("/") / link
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{link}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{link}"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    args += ["--bind", str(scratch), SANDBOX_HOME, "--chdir", SANDBOX_HOME, "--clearenv"]
    for key, value in sandbox_env(limits).items():
        args += ["--setenv", key, value]
    return args + ["--"]


def runner_args(limits: Limits, chapter: str, workdir: str) -> list[str]:
    """The runner's command line (paths as the runner sees them)."""
    return [sys.executable, "-I", "-B", "-m", "rnnbook.runner", f"{workdir}/submission.ipynb",
            "--chapter", chapter, "--cases", "hidden", "--out", f"{workdir}/.result.npz",
            "--skip-checks", "--progress", f"{workdir}/.progress",
            "--cell-timeout", f"{min(limits.cell_timeout, limits.timeout):g}",
            "--call-timeout", f"{limits.call_timeout:g}",
            "--memory-mb", str(limits.memory_mb), "--max-file-mb", str(limits.max_file_mb)]


class Sandbox:
    """Builds and runs the command of one submission; ``sandboxed=False`` is the unsafe mode."""

    def __init__(self, limits: Limits, secret: list[Path], sandboxed: bool = True):
        self.limits, self.secret, self.sandboxed = limits, list(secret), sandboxed
        self._live: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def command(self, scratch: Path, chapter: str) -> list[str]:
        if not self.sandboxed:
            return runner_args(self.limits, chapter, str(scratch))
        return bwrap_prefix(scratch, self.limits, self.secret) + runner_args(
            self.limits, chapter, SANDBOX_HOME)

    def probe(self, workdir: Path) -> dict:
        """Start one sandbox and report what it sees; raise :class:`SandboxUnavailable` when
        bubblewrap cannot run here, or when the sandbox could see a secret path."""
        if not self.sandboxed:
            return {"sandboxed": False}
        scratch = Path(workdir) / "probe"
        scratch.mkdir()
        code = ("import json, os, socket, rnnbook.runner\n"
                f"secret = {[str(s) for s in self.secret]!r}\n"
                "try:\n    socket.create_connection(('192.0.2.1', 80), timeout=1); net = True\n"
                "except OSError:\n    net = False\n"
                "print(json.dumps({'uid': os.getuid(), 'network': net,\n"
                "                  'visible': [s for s in secret if os.path.exists(s)]}))\n")
        cmd = bwrap_prefix(scratch, self.limits, self.secret) + [sys.executable, "-I", "-B", "-c", code]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                                  env=self._host_env())
        except subprocess.TimeoutExpired:
            raise SandboxUnavailable("the sandbox did not start within 120 s") from None
        if proc.returncode != 0:
            raise SandboxUnavailable(
                "bubblewrap could not build the sandbox on this machine:\n  "
                + (proc.stderr.strip()[-800:] or f"exit code {proc.returncode}")
                + "\nIt needs user namespaces: on the host, `sysctl kernel.unprivileged_userns_clone=1`"
                " (Debian) or `kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 24.04); in "
                "Docker, run the container with `--security-opt seccomp=unconfined "
                "--security-opt apparmor=unconfined` (or --privileged). Or pass --no-sandbox to "
                "grade without any isolation (unsafe: only for code you trust).")
        try:
            seen = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise SandboxUnavailable(f"the sandbox probe printed nothing usable: {proc.stdout[-300:]}"
                                     f"{proc.stderr[-300:]}") from None
        if seen["visible"] or seen["network"]:
            raise SandboxUnavailable(f"the sandbox is not tight, refusing to grade: {seen}")
        seen["sandboxed"] = True
        return seen

    @staticmethod
    def _host_env() -> dict:
        # bwrap clears the environment itself (--clearenv); --no-sandbox gets the same variables
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}

    def run(self, scratch: Path, chapter: str, log_path: Path) -> RunOutcome:
        """Run the runner on ``scratch/submission.ipynb``; kill the whole group on timeout."""
        cmd = self.command(scratch, chapter)
        env = self._host_env()
        if not self.sandboxed:
            env = {**sandbox_env(self.limits), "HOME": str(scratch), "TMPDIR": str(scratch),
                   "MPLCONFIGDIR": str(scratch / ".mpl"), "IPYTHONDIR": str(scratch / ".ipython"),
                   "XDG_CACHE_HOME": str(scratch / ".cache"), "KERAS_HOME": str(scratch / ".keras")}
        start = time.monotonic()
        timed_out = False
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=scratch, env=env, start_new_session=True)
            with self._lock:
                self._live[proc.pid] = proc
            try:
                proc.wait(timeout=self.limits.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                # Sandboxed, the PID namespace died with the runner; only a hung (or interrupted)
                # run needs killing. Unsandboxed, leftovers of the group are killed too.
                if proc.returncode is None or not self.sandboxed:
                    self._kill_group(proc)
                with self._lock:
                    self._live.pop(proc.pid, None)
        seconds = time.monotonic() - start
        return RunOutcome(None if timed_out else proc.returncode, timed_out, seconds,
                          _tail(log_path), _read_small(scratch / ".progress"))

    @staticmethod
    def remove_scratch(path: Path) -> None:
        """Delete a scratch folder, even one whose permissions the student's code changed."""
        for root, dirs, _ in os.walk(path):
            for d in dirs:
                p = os.path.join(root, d)
                if not os.path.islink(p):
                    try:
                        os.chmod(p, 0o700)
                    except OSError:
                        pass
        shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def _kill_group(proc: subprocess.Popen) -> None:
        """SIGKILL the process group (bwrap's PID namespace dies with its first process)."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass

    def kill_all(self) -> None:
        """Kill every submission still running (the grader is being interrupted)."""
        with self._lock:
            live = list(self._live.values())
        for proc in live:
            self._kill_group(proc)


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _read_small(path: Path, limit: int = 200) -> str:
    """Read a small file the sandbox wrote, without following links or blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        import stat
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return os.read(fd, limit).decode("utf-8", "replace").strip()
    finally:
        os.close(fd)
