"""Run one submission's code in a sandbox, with limits, and get its outputs back.

One interface, :class:`Sandbox` (``probe``, ``run``, ``kill_all``), three implementations, chosen
with ``rnnbook grade --sandbox``:

- :class:`BubblewrapSandbox` (``bubblewrap``, the default): described below;
- :class:`UserSandbox` (``user``): for a container without user namespaces where the grader runs
  as root (Gradescope's): the student's code runs as an unprivileged user id that can read
  neither the answer keys (readable by root only: the probe checks it) nor the grader's files;
  every process of that user id is killed after the submission. No network or PID isolation;
- :class:`NoSandbox` (``none``, ``--no-sandbox``): the same limits, no isolation at all (unsafe).

:mod:`rnnbook.grade.warm` adds warm workers on top of :class:`BubblewrapSandbox`.

With bubblewrap, the student's code runs in :mod:`rnnbook.runner` inside ``bwrap`` (Debian
package ``bubblewrap``), one fresh process tree per submission (cold mode):

- new user, PID, network, IPC, UTS and cgroup namespaces (``--unshare-all``): no network at all,
  no view of the grader's or anyone else's processes; all capabilities dropped, no nested user
  namespaces; ``--die-with-parent`` and a fresh PID namespace, so when the runner exits or is
  killed every process it started dies with it;
- a file system built from nothing: read-only binds of ``/usr``, a few harmless files of ``/etc``,
  the Python installation and the ``rnnbook`` package folder -- bound at the fixed path
  ``/opt/rnnbook/rnnbook`` and imported from there, so grading works from any checkout, installed
  or not -- plus the submission's code cells and the hidden cases' *inputs* (read-only, at
  ``/opt/submission``). Not the repository, not the answer key, not the grades, not the other
  submissions, not ``/root`` or ``/home``;
- the only writable places are size-capped tmpfs mounts that vanish with the sandbox: the home
  folder (the working directory), ``/tmp`` and ``/dev/shm``. Nothing the code writes reaches the
  host's disk; the result and the progress go out through two file descriptors the grader opened;
- limits: ``RLIMIT_AS`` (per process), ``RLIMIT_FSIZE`` (per file, the result included),
  ``RLIMIT_NPROC`` (processes and threads: enforced by the kernel unless the grader runs as
  root), per-cell and per-call alarms in the runner, and here a wall-clock timeout and a
  watchdog that kills the whole sandbox when its processes together hold more than the memory
  limit (the sum of their proportional set sizes) or count more tasks than the process limit
  (it polls ``/proc`` five times a second, so it works without cgroups and as root).
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
PACKAGE_MOUNT = "/opt/rnnbook"  # the package is bound at PACKAGE_MOUNT/rnnbook
INPUT_MOUNT = "/opt/submission"  # the submission's cells and the cases (read-only)

#: harmless files of /etc that libraries read (dynamic linker cache, fonts, time zone)
ETC_FILES = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "localtime",
             "nsswitch.conf", "mime.types", "matplotlibrc"]


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot build a working sandbox here."""


@dataclass
class Limits:
    timeout: float = 300.0  # wall-clock seconds for one whole submission
    cell_timeout: float = 120.0  # seconds per code cell
    call_timeout: float = 30.0  # seconds per call of an exercise function on one case
    memory_mb: int = 4096  # RLIMIT_AS per process, and the total resident memory of the sandbox
    max_file_mb: int = 64  # RLIMIT_FSIZE: no file the notebook writes, nor the result, is larger
    disk_mb: int = 256  # the home folder's tmpfs (memory-backed)
    tmp_mb: int = 64  # /tmp and /dev/shm, each (memory-backed)
    max_procs: int = 256  # tasks (processes + threads) of the sandbox

    @property
    def call_cap(self) -> float:
        """No call may outlast the submission."""
        return min(self.call_timeout, self.timeout)


@dataclass
class RunOutcome:
    returncode: int | None
    timed_out: bool
    seconds: float
    log_tail: str  # the last lines the process printed (stdout and stderr), for diagnostics
    progress: str  # where the runner was last ("cell 7", "exercise forward", "done")
    killed_for: str = ""  # "memory" or "processes" when the watchdog stopped it
    peak_mb: float = 0.0
    peak_tasks: int = 0


def package_dir() -> Path:
    """The folder of the ``rnnbook`` package the grader runs (the checkout's, when editable)."""
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
    """Every host path the sandbox sees at its own path (read-only), outermost first."""
    return _outermost([Path("/usr")] + python_dirs())


def check_hidden(binds: list[Path], secret: list[Path]) -> None:
    """Refuse to run when a bound path would show a secret path (e.g. the key folder)."""
    for s in secret:
        s = Path(s).resolve()
        for b in binds:
            b = Path(b).resolve()
            if s == b or b in s.parents:
                raise SandboxUnavailable(
                    f"the sandbox would see {s} through {b}: keep the answer keys outside the "
                    "Python installation and the rnnbook package folder")


def sandbox_env(limits: Limits) -> dict:
    """The whole environment of the sandboxed process (nothing of the grader's leaks in)."""
    return {
        "HOME": SANDBOX_HOME, "USER": "student", "LANG": "C.UTF-8",
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "TMPDIR": "/tmp", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/ipython", "XDG_CACHE_HOME": "/tmp/cache", "KERAS_HOME": "/tmp/keras",
        "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
        # one thread per kernel: the grader already runs one submission per core
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "", "PYTHONHASHSEED": "0",
    }


def bwrap_prefix(inputs: Path | None, limits: Limits, secret: list[Path],
                 mqueue: bool = False) -> list[str]:
    """The ``bwrap ...`` arguments that build the sandbox around a command; ``inputs`` is the
    host folder shown read-only at :data:`INPUT_MOUNT`; ``mqueue`` mounts the IPC namespace's
    POSIX message queues at ``/dev/mqueue`` (a warm worker lists and removes them there)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (`bwrap`) is not installed: `apt-get install bubblewrap` (Debian/Ubuntu), "
            "or pass --no-sandbox to run students' code unsandboxed (unsafe).")
    binds = read_only_binds()
    check_hidden(binds + [package_dir()], secret)
    args = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--cap-drop", "ALL",
            "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    # The fresh /dev, /proc and /tmp come first, so that the read-only binds below are mounted on
    # top of them: a Python installation under /tmp stays visible.
    mb = 2**20
    args += ["--dev", "/dev", "--size", str(limits.tmp_mb * mb), "--tmpfs", "/dev/shm"]
    if mqueue:
        args += ["--mqueue", "/dev/mqueue"]
    args += ["--remount-ro", "/dev", "--proc", "/proc",
             "--size", str(limits.tmp_mb * mb), "--tmpfs", "/tmp"]
    for b in binds:
        args += ["--ro-bind", str(b), str(b)]
    args += ["--ro-bind", str(package_dir()), f"{PACKAGE_MOUNT}/rnnbook"]
    for link in ("bin", "lib", "lib64", "sbin"):  # merged /usr: these are links on Debian 12
        host = Path("/") / link
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{link}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{link}"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    if inputs is not None:
        args += ["--ro-bind", str(inputs), INPUT_MOUNT]
    args += ["--size", str(limits.disk_mb * mb), "--tmpfs", SANDBOX_HOME,
             "--chdir", SANDBOX_HOME, "--clearenv"]
    for key, value in sandbox_env(limits).items():
        args += ["--setenv", key, value]
    return args + ["--"]


def bootstrap(module_main: str, mount: str = PACKAGE_MOUNT) -> str:
    """Python code that imports ``rnnbook`` from ``mount`` (not from wherever the host's
    ``site-packages`` points) and runs ``module_main`` (``"rnnbook.runner:main"``)."""
    module, func = module_main.split(":")
    return (f"import sys; sys.path.insert(0, {mount!r}); import rnnbook; "
            f"assert rnnbook.__file__.startswith({mount!r}), rnnbook.__file__; "
            f"from {module} import {func}; raise SystemExit({func}())")


def runner_args(limits: Limits, chapter: str, inputs: str, fds: tuple[int, int] | None,
                mount: str = PACKAGE_MOUNT, out: str | None = None) -> list[str]:
    """The runner's command line (paths as the runner sees them)."""
    return ([sys.executable, "-I", "-B", "-c", bootstrap("rnnbook.runner:main", mount)]
            + runner_options(limits, chapter, f"{inputs}/cells.json", f"{inputs}/cases.npz",
                             fds, out))


def runner_options(limits: Limits, chapter: str, cells: str, cases: str,
                   fds: tuple[int, int] | None, out: str | None = None) -> list[str]:
    """The arguments of :func:`rnnbook.runner.main` (a warm worker's child calls it with them)."""
    cmd = ["--sources", cells, "--cases", cases, "--chapter", chapter, "--skip-checks",
           "--cell-timeout", f"{min(limits.cell_timeout, limits.timeout):g}",
           "--call-timeout", f"{limits.call_cap:g}", "--max-call-timeout", f"{limits.timeout:g}",
           "--memory-mb", str(limits.memory_mb), "--max-file-mb", str(limits.max_file_mb),
           "--max-procs", str(limits.max_procs + 64)]
    if fds is not None:
        cmd += ["--result-fd", str(fds[0]), "--progress-fd", str(fds[1])]
    else:
        cmd += ["--out", out, "--progress", f"{out}.progress"]
    return cmd


# ---- watching a process tree -------------------------------------------------------------------

def _proc_table() -> dict[int, tuple[int, int, int]]:
    """``{pid: (ppid, threads, rss pages)}`` of every process on the machine."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rfind(b")") + 2:].split()
        try:
            table[int(entry.name)] = (int(rest[1]), int(rest[17]), int(rest[21]))
        except (IndexError, ValueError):
            continue
    return table


def _pss(pid: int, rss_pages: int) -> int:
    """The proportional set size of a process in bytes (shared pages split between the processes
    that share them, so that forked children are not counted many times over); its resident set
    size when the kernel does not tell."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return rss_pages * os.sysconf("SC_PAGE_SIZE")


def tree_usage(root: int, skip: int | None = None) -> tuple[int, int]:
    """``(tasks, memory in bytes)`` of ``root`` and all its descendants: threads counted as
    tasks, memory as the sum of the processes' proportional set sizes. The process ``skip`` (a
    warm worker) is not counted itself; its descendants are."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    tasks = memory = 0
    stack, seen = [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        _, threads, pages = table[pid]
        if pid != skip:
            tasks += threads
            memory += _pss(pid, pages)
        stack.extend(children.get(pid, ()))
    return tasks, memory


def uid_usage(uid: int) -> tuple[int, int, list[int]]:
    """``(tasks, memory in bytes, pids)`` of every process of the user id ``uid``."""
    tasks = memory = 0
    pids = []
    for pid, (_, threads, pages) in _proc_table().items():
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
        except OSError:
            continue
        pids.append(pid)
        tasks += threads
        memory += _pss(pid, pages)
    return tasks, memory, pids


class _Tail(threading.Thread):
    """Reads a pipe to its end, keeping only the last ``limit`` bytes (nothing on disk)."""

    def __init__(self, pipe, limit: int = 4000):
        super().__init__(daemon=True)
        self.pipe, self.limit, self.data = pipe, limit, b""

    def run(self):
        try:
            while True:
                chunk = self.pipe.read1(65536) if hasattr(self.pipe, "read1") else \
                    self.pipe.read(65536)
                if not chunk:
                    break
                self.data = (self.data + chunk)[-self.limit:]
        except (OSError, ValueError):
            pass

    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


class Sandbox:
    """Runs one submission's runner with limits and returns how it ended (the interface).

    ``kind`` names the implementation (``bubblewrap``, ``user``, ``none``); ``isolated`` is
    False only for :class:`NoSandbox`. ``probe`` checks, before any submission runs, that the
    sandbox works here and hides the secret paths (raising :class:`SandboxUnavailable`);
    ``run`` runs the runner on ``inputs`` (``cells.json`` and ``cases.npz``), its outputs going
    to ``result``, and kills everything it started on timeout or over a limit; ``kill_all``
    stops every submission still running (the grader is interrupted)."""

    kind = "abstract"
    isolated = True
    description = ""
    poll_seconds = 0.25

    def __init__(self, limits: Limits, secret: list[Path]):
        self.limits, self.secret = limits, list(secret)
        self._live: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()

    # compatibility: True unless the sandbox is the unsafe one
    @property
    def sandboxed(self) -> bool:
        return self.isolated

    def probe(self, workdir: Path) -> dict:
        raise NotImplementedError

    def run(self, inputs: Path, chapter: str, result: Path,
            scratch: Path | None = None) -> RunOutcome:
        progress = result.with_name(result.name + ".progress")
        rfd = os.open(result, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        pfd = os.open(progress, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            cmd, env, cwd, preexec = self._command(inputs, chapter, (rfd, pfd), scratch)
            try:
                return self._watch(cmd, env, cwd, (rfd, pfd), progress, preexec)
            finally:
                self._after_run(scratch)
        finally:
            os.close(rfd)
            os.close(pfd)

    def _command(self, inputs, chapter, fds, scratch):
        """``(command, environment, working folder, preexec_fn)`` of one run."""
        raise NotImplementedError

    def _after_run(self, scratch) -> None:
        """Clean up after a run (kill what is left, remove files)."""

    def _usage(self, proc: subprocess.Popen) -> tuple[int, int]:
        return tree_usage(proc.pid)

    @staticmethod
    def _host_env() -> dict:
        # bwrap clears the environment itself (--clearenv); --no-sandbox gets the same variables
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}

    def _scratch_env(self, scratch: Path) -> dict:
        """The sandbox's environment with its home and caches in the host folder ``scratch``."""
        return {**sandbox_env(self.limits), "HOME": str(scratch), "TMPDIR": str(scratch),
                "MPLCONFIGDIR": str(scratch / ".mpl"), "IPYTHONDIR": str(scratch / ".ipython"),
                "XDG_CACHE_HOME": str(scratch / ".cache"), "KERAS_HOME": str(scratch / ".keras")}

    def _watch(self, cmd, env, cwd, fds, progress_path, preexec=None) -> RunOutcome:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                start_new_session=True, pass_fds=fds, preexec_fn=preexec)
        tail = _Tail(proc.stdout)
        tail.start()
        with self._lock:
            self._live[proc.pid] = proc
        timed_out, killed_for, peak_mb, peak_tasks = False, "", 0.0, 0
        memory = self.limits.memory_mb * 2**20
        try:
            while proc.poll() is None:
                if time.monotonic() - start > self.limits.timeout:
                    timed_out = True
                    break
                tasks, rss = self._usage(proc)
                peak_mb, peak_tasks = max(peak_mb, rss / 2**20), max(peak_tasks, tasks)
                if tasks > self.limits.max_procs:
                    killed_for = "processes"
                    break
                if rss > memory:
                    killed_for = "memory"
                    break
                time.sleep(self.poll_seconds)
        finally:
            # bubblewrap: the PID namespace dies with bwrap; otherwise the group is killed
            if proc.returncode is None or self.kind != "bubblewrap":
                self._kill_group(proc)
            with self._lock:
                self._live.pop(proc.pid, None)
        tail.join(5)
        try:
            proc.stdout.close()
        except OSError:
            pass
        return RunOutcome(None if timed_out or killed_for else proc.returncode, timed_out,
                          time.monotonic() - start, tail.text(), _read_small(progress_path),
                          killed_for, peak_mb, peak_tasks)

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


class BubblewrapSandbox(Sandbox):
    """One bwrap sandbox per submission (see the module's docstring)."""

    kind = "bubblewrap"
    description = "sandboxed (bubblewrap)"

    def probe(self, workdir: Path) -> dict:
        """Start one sandbox and report what it sees; raise :class:`SandboxUnavailable` when
        bubblewrap cannot run here, when Python or ``rnnbook`` cannot start inside it (with the
        real cause), or when the sandbox could see a secret path or the network."""
        code = ("import json, os, socket, rnnbook.runner\n"
                f"secret = {[str(s) for s in self.secret]!r}\n"
                "try:\n    socket.create_connection(('192.0.2.1', 80), timeout=1); net = True\n"
                "except OSError:\n    net = False\n"
                "print(json.dumps({'uid': os.getuid(), 'network': net,\n"
                "                  'visible': [s for s in secret if os.path.exists(s)]}))\n")
        boot = (f"import sys; sys.path.insert(0, {PACKAGE_MOUNT!r}); import rnnbook; "
                f"exec({code!r})")
        cmd = bwrap_prefix(None, self.limits, self.secret) + [
            sys.executable, "-I", "-B", "-c", boot]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                                  env=self._host_env(), cwd=workdir)
        except subprocess.TimeoutExpired:
            raise SandboxUnavailable("the sandbox did not start within 120 s") from None
        err = proc.stderr.strip()
        if proc.returncode != 0 and (err.startswith("bwrap:") or not err):
            raise SandboxUnavailable(
                "bubblewrap could not build the sandbox on this machine:\n  "
                + (err[-800:] or f"exit code {proc.returncode}")
                + "\nIt needs user namespaces: on the host, `sysctl "
                "kernel.unprivileged_userns_clone=1` (Debian) or "
                "`kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 24.04); in Docker, run "
                "the container with `--security-opt seccomp=unconfined --security-opt "
                "apparmor=unconfined` (or --privileged). Where the grader runs as root, "
                "`--sandbox user` runs the students' code as an unprivileged user instead. Or "
                "pass --no-sandbox to grade without any isolation (unsafe: only for code you "
                "trust).")
        if proc.returncode != 0:
            shown = ", ".join(map(str, read_only_binds()))
            raise SandboxUnavailable(
                "the sandbox started, but Python inside it failed -- this is not a namespace "
                f"problem:\n  {err[-1200:]}\nThe sandbox shows only {shown} "
                f"and the package folder {package_dir()} (at {PACKAGE_MOUNT}/rnnbook): is a "
                "module the grader needs installed somewhere else, or unreadable?")
        try:
            seen = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise SandboxUnavailable("the sandbox probe printed nothing usable: "
                                     f"{proc.stdout[-300:]}{err[-300:]}") from None
        if seen["visible"] or seen["network"]:
            raise SandboxUnavailable(f"the sandbox is not tight, refusing to grade: {seen}")
        seen["sandboxed"] = True
        return seen

    def _command(self, inputs, chapter, fds, scratch):
        cmd = bwrap_prefix(inputs, self.limits, self.secret) + runner_args(
            self.limits, chapter, INPUT_MOUNT, fds)
        return cmd, self._host_env(), inputs, None


#: the user id :class:`UserSandbox` runs students' code as (no account needed)
USER_SANDBOX_UID = 61000


class UserSandbox(Sandbox):
    """The student's code runs as an unprivileged user id (the grader must be root).

    For containers without user namespaces (Gradescope's). It protects the answer keys and the
    grader's files by file permissions: the keys must be readable by root only (the probe checks
    it, as that user); the runner's home and temporary folder are a scratch folder of its own.
    Every process of that user id is killed after each submission, and the kernel enforces the
    process limit (``RLIMIT_NPROC``: the user is not root). What it does not give: network
    isolation, a private view of the processes, a private ``/tmp`` (the files that user leaves
    in ``/tmp``, ``/var/tmp`` and ``/dev/shm`` are deleted after each submission), or a cap on
    the disk total (only on each file's size)."""

    kind = "user"
    description = "sandboxed (unprivileged user)"

    def __init__(self, limits: Limits, secret: list[Path], uid: int = USER_SANDBOX_UID):
        super().__init__(limits, secret)
        self.uid = uid

    def _demote(self):
        uid = self.uid

        def demote():
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.umask(0o077)
        return demote

    def probe(self, workdir: Path) -> dict:
        if os.geteuid() != 0:
            raise SandboxUnavailable("--sandbox user needs the grader to run as root (it runs "
                                     "the students' code as another user id).")
        # the answer keys and solution notebooks in the secret folders (listed here, as root)
        files = [str(f) for d in self.secret if Path(d).is_dir()
                 for f in sorted(Path(d).glob("*.npz")) + sorted(Path(d).glob("*.ipynb"))]
        code = ("import json, os, rnnbook.runner\n"
                f"files = {files!r}\n"
                "def readable(p):\n"
                "    try:\n"
                "        open(p, 'rb').close()\n"
                "        return True\n"
                "    except OSError:\n        return False\n"
                "found = [f for f in files if readable(f)]\n"
                "print(json.dumps({'uid': os.getuid(), 'visible': found}))\n")
        mount = str(package_dir().parent)
        cmd = [sys.executable, "-I", "-B", "-c",
               f"import sys; sys.path.insert(0, {mount!r}); import rnnbook; exec({code!r})"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/",
                                  env={**self._host_env(), "HOME": "/"},
                                  preexec_fn=self._demote())
        except subprocess.TimeoutExpired:
            raise SandboxUnavailable("the unprivileged user's probe did not finish in 120 s") \
                from None
        finally:
            kill_uid(self.uid)
        if proc.returncode != 0:
            raise SandboxUnavailable(
                f"Python cannot run as user id {self.uid}: {proc.stderr.strip()[-800:]}\nThe "
                "Python installation and the rnnbook package must be readable by every user.")
        seen = json.loads(proc.stdout.strip().splitlines()[-1])
        if seen["visible"]:
            raise SandboxUnavailable(
                f"user id {self.uid} can read {seen['visible'][:3]}: make the answer keys (and "
                "any solutions beside them) readable by root only (chmod 700 on their folder, "
                "600 on the files).")
        seen["sandboxed"] = True
        return seen

    def _command(self, inputs, chapter, fds, scratch):
        os.chown(scratch, self.uid, self.uid)
        os.chmod(scratch, 0o700)
        cmd = runner_args(self.limits, chapter, str(inputs), fds,
                          mount=str(package_dir().parent))
        return cmd, self._scratch_env(scratch), scratch, self._demote()

    def _usage(self, proc: subprocess.Popen) -> tuple[int, int]:
        tasks, memory, _ = uid_usage(self.uid)
        return tasks, memory

    def _after_run(self, scratch) -> None:
        kill_uid(self.uid)
        for folder in ("/tmp", "/var/tmp", "/dev/shm"):
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid == self.uid:
                        remove_tree(entry.path)
                except OSError:
                    pass


def kill_uid(uid: int, rounds: int = 100) -> None:
    """SIGKILL every process of the user id ``uid`` until none is left."""
    for _ in range(rounds):
        _, _, pids = uid_usage(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)


class NoSandbox(Sandbox):
    """``--sandbox none`` / ``--no-sandbox``: the same limits, no isolation (unsafe)."""

    kind = "none"
    isolated = False
    description = "UNSANDBOXED (--no-sandbox)"

    def probe(self, workdir: Path) -> dict:
        return {"sandboxed": False}

    def _command(self, inputs, chapter, fds, scratch):
        cmd = runner_args(self.limits, chapter, str(inputs), fds,
                          mount=str(package_dir().parent))
        return cmd, self._scratch_env(scratch), scratch, None


SANDBOXES = {"bubblewrap": BubblewrapSandbox, "user": UserSandbox, "none": NoSandbox}


def make_sandbox(kind: str, limits: Limits, secret: list[Path]) -> Sandbox:
    """The sandbox called ``kind`` (``bubblewrap``, ``user`` or ``none``)."""
    try:
        return SANDBOXES[kind](limits, secret)
    except KeyError:
        raise SandboxUnavailable(f"unknown sandbox {kind!r}: {', '.join(SANDBOXES)}") from None


def remove_tree(path) -> None:
    """Delete a folder, however deep (no recursion, no path longer than one name: it walks with
    directory descriptors) and whatever its permissions; never follows a link."""
    path = os.fspath(path)
    if not os.path.lexists(path):
        return
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
        return
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    parent = os.open(os.path.dirname(os.path.abspath(path)) or "/", flags)
    names = [os.path.basename(os.path.abspath(path))]
    fds = [parent]
    try:
        _chmod_quiet(names[-1], fds[-1])
        fds.append(os.open(names[-1], flags, dir_fd=fds[-1]))
        while len(fds) > 1:
            fd = fds[-1]
            descended = False
            with os.scandir(fd) as it:
                entries = list(it)
            for entry in entries:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if is_dir:
                    _chmod_quiet(entry.name, fd)
                    try:
                        child = os.open(entry.name, flags, dir_fd=fd)
                    except OSError:
                        continue
                    names.append(entry.name)
                    fds.append(child)
                    if len(fds) > 64:  # keep few descriptors open: climb back with ".." later
                        os.close(fds[-2])
                        fds[-2] = -1
                    descended = True
                    break
                try:
                    os.unlink(entry.name, dir_fd=fd)
                except FileNotFoundError:
                    pass
            if descended:
                continue
            # the folder is empty: close it, go up, remove it
            name = names.pop()
            fds.pop()
            if fds[-1] == -1:
                fds[-1] = os.open("..", flags, dir_fd=fd)
            os.close(fd)
            try:
                os.rmdir(name, dir_fd=fds[-1])
            except FileNotFoundError:
                pass
    finally:
        for fd in fds:
            if fd != -1:
                try:
                    os.close(fd)
                except OSError:
                    pass


def _chmod_quiet(name: str, dir_fd: int) -> None:
    try:
        os.chmod(name, 0o700, dir_fd=dir_fd, follow_symlinks=False)
    except (OSError, NotImplementedError):
        try:
            os.chmod(name, 0o700, dir_fd=dir_fd)
        except OSError:
            pass


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
