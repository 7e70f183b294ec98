"""Warm workers: one bubblewrap sandbox imports NumPy, TensorFlow and Keras once, then forks one
child per submission.

Starting Python and importing TensorFlow and Keras costs about 6 s of CPU; a child forked after
the imports runs a chapter's exercises in well under a second. A worker is one sandbox built
exactly like a cold one (:func:`rnnbook.grade.sandbox.bwrap_prefix`: same namespaces, same
read-only view, same tmpfs sizes), plus ``/dev/mqueue`` so that it can list the IPC namespace's
message queues. Inside it, :func:`worker_main`:

1. imports the heavy modules, makes itself non-dumpable (``PR_SET_DUMPABLE`` 0: a child of the
   same user id can then neither ptrace it nor read or write its memory through ``/proc``), and
   tells the grader it is ready;
2. per submission, receives the job over a socket pair (the file descriptors of the result, the
   progress and the output pipe come with it, as in cold mode: nothing is written to the host's
   disk) and forks a child, which closes the control socket, puts back the original environment,
   reseeds NumPy's global generator, and runs :func:`rnnbook.runner.main` with the same limits as
   a cold runner (``RLIMIT_FSIZE``, ``RLIMIT_NPROC``, cell and call alarms; ``RLIMIT_AS`` on top
   of the address space the imports already map);
3. after the child has ended, :func:`clean` leaves nothing of it behind: it kills every other
   process of the PID namespace (``kill(-1, SIGKILL)`` until only the sandbox's init and the
   worker are left), empties ``/tmp``, ``/dev/shm`` and the home folder, removes every System V
   shared memory segment, semaphore set and message queue and every POSIX message queue, and
   clears the user's keyrings; then it checks that all of it is empty and exits if not (the
   grader then starts a fresh worker). Only then does it tell the grader the child's exit code.

What the children share is only what the worker holds: the imported modules' memory, copied on
write by ``fork``, so a change one child makes to a module (``numpy.allclose = ...``) exists in
that child only; and the read-only file system view, which no child can change. The grader's side
(:class:`WarmPool`) watches each child like a cold sandbox -- the whole-submission timeout, and the
memory and task totals of everything in the sandbox but the worker itself -- and kills the whole
worker when a limit is crossed (the next submission gets a fresh worker). A child that kills or
stops its worker (they share a user id) loses nothing and gains nothing: the worker is replaced
and that submission is graded again in a cold sandbox of its own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import queue
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from rnnbook.grade.sandbox import (
    INPUT_MOUNT,
    SANDBOX_HOME,
    BubblewrapSandbox,
    Limits,
    RunOutcome,
    _proc_table,
    _read_small,
    _Tail,
    bootstrap,
    bwrap_prefix,
    remove_tree,
    runner_options,
    tree_usage,
)

#: modules a worker imports before forking: what the exercise notebooks and the runner import
PRELOAD = ("numpy", "tensorflow", "keras", "IPython.core.interactiveshell", "rnnbook.checks",
           "rnnbook.runner", "rnnbook.setup", "nbformat")
#: folders a child may write to, emptied after each child
WIPED = ("/tmp", "/dev/shm", SANDBOX_HOME)
MAX_MESSAGE = 65536
STARTUP_SECONDS = 300.0


# ---- inside the sandbox ----------------------------------------------------------------------

def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _other_pids() -> list[int]:
    """Live processes of this PID namespace other than its init (1) and this one (zombies,
    which init reaps, are not counted)."""
    me, pids = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (1, me):
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            pids.append(int(name))
    return pids


def in_sandbox() -> bool:
    """True inside a bubblewrap sandbox's own PID namespace (its init, pid 1, is bwrap)."""
    try:
        with open("/proc/1/cmdline", "rb") as f:
            return os.path.basename(f.read().split(b"\0", 1)[0]) == b"bwrap"
    except OSError:
        return False


def kill_others(seconds: float = 10.0) -> None:
    """SIGKILL every process of the namespace but init and this one, until none is left."""
    if not in_sandbox():  # kill(-1) outside a sandbox would kill every process of the user
        raise RuntimeError("kill_others() runs only inside a warm worker's sandbox")
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while True:  # reap our own children
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not _other_pids():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes survive: {_other_pids()[:10]}")
        time.sleep(0.01)


def _ipc_ids(kind: str) -> list[int]:
    """The ids of the System V IPC objects of one kind (``shm``, ``sem``, ``msg``)."""
    try:
        with open(f"/proc/sysvipc/{kind}") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return []
    return [int(line.split()[1]) for line in lines if line.split()]


def remove_ipc() -> None:
    """Remove every System V IPC object and POSIX message queue of the IPC namespace."""
    libc = _libc()
    ipc_rmid = 0
    for kind, remove in (("shm", lambda i: libc.shmctl(i, ipc_rmid, None)),
                         ("sem", lambda i: libc.semctl(i, 0, ipc_rmid)),
                         ("msg", lambda i: libc.msgctl(i, ipc_rmid, None))):
        for ident in _ipc_ids(kind):
            remove(ident)
    if os.path.isdir("/dev/mqueue"):
        for name in os.listdir("/dev/mqueue"):
            try:
                os.unlink(f"/dev/mqueue/{name}")
            except OSError:
                pass


def clear_keyrings() -> None:
    """Empty the user's keyrings (keyctl KEYCTL_CLEAR on the user and user-session keyrings):
    keys added there would outlive the child."""
    libc = _libc()
    keyctl, clear = 250, 7  # x86-64 syscall number; KEYCTL_CLEAR
    if os.uname().machine != "x86_64":
        keyctl = {"aarch64": 219}.get(os.uname().machine)
        if keyctl is None:
            return
    for ring in (-4, -5):  # KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING
        libc.syscall(keyctl, clear, ring)


def wipe(folder: str) -> None:
    """Delete everything inside ``folder`` (the folder itself stays)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for name in entries:
        remove_tree(os.path.join(folder, name))


def clean() -> None:
    """Leave nothing of the last child for the next one; raise when something stays."""
    kill_others()
    for folder in WIPED:
        wipe(folder)
    remove_ipc()
    clear_keyrings()
    left = [f"{f}/{n}" for f in WIPED for n in os.listdir(f)]
    left += [f"{k} {i}" for k in ("shm", "sem", "msg") for i in _ipc_ids(k)]
    if os.path.isdir("/dev/mqueue"):
        left += [f"mqueue {n}" for n in os.listdir("/dev/mqueue")]
    if left or _other_pids():
        raise RuntimeError(f"the worker could not clean up: {left[:10]}")


def _address_space_mb() -> int:
    """This process's virtual memory size (``VmSize``), in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) // 1024 + 1
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _child(job: dict, fds: list[int], sock: socket.socket, environ: dict) -> None:
    """In the forked child: run the submission like a cold runner, then exit (never returns)."""
    code = 1
    try:
        sock.close()
        result_fd, progress_fd, log_fd = fds
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        os.environ.clear()
        os.environ.update(environ)
        os.chdir(SANDBOX_HOME)
        import numpy

        numpy.random.seed()  # fresh entropy, as a new process would have
        from rnnbook.runner import main

        limits = Limits(**job["limits"])
        # RLIMIT_AS counts the address space the worker's imports already map (TensorFlow maps
        # gigabytes): the child may add --memory-mb to it, as a cold runner may map --memory-mb
        # in all. The total of the sandbox's memory is watched by the grader either way.
        limits.memory_mb += _address_space_mb()
        argv = runner_options(limits, job["chapter"], job["cells"], job["cases"],
                              (result_fd, progress_fd))
        code = main(argv)
    except SystemExit as err:
        code = err.code if isinstance(err.code, int) else 1
    except BaseException:  # noqa: BLE001 -- report it in the log, exit non-zero
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(code if isinstance(code, int) else 1)


def worker_main(argv=None) -> int:
    """The worker: ``--control-fd N``; see the module's docstring."""
    args = list(sys.argv[1:] if argv is None else argv)
    control = int(args[args.index("--control-fd") + 1])
    if not in_sandbox():
        raise SystemExit("rnnbook.grade.warm: a worker runs only inside its bubblewrap sandbox")
    environ = dict(os.environ)
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    _libc().prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
    sock = socket.socket(fileno=control)
    clean()
    sock.send(json.dumps({"ready": os.getpid()}).encode())
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 3)
        except OSError:
            return 0
        if not data:
            return 0
        job = json.loads(data)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(job, fds, sock, environ)
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            code = 128 - code  # as bwrap reports a signal: 128 + its number
        clean()
        sock.send(json.dumps({"done": code}).encode())


# ---- the grader's side -----------------------------------------------------------------------

class WorkerLost(RuntimeError):
    """The worker died or stopped during a job (its child killed or stopped it)."""


class WorkerNotStarted(RuntimeError):
    """A worker could not start (its imports failed, or it did not answer in time)."""


class WarmWorker:
    """One worker sandbox, driven by one grader thread at a time."""

    def __init__(self, sandbox: BubblewrapSandbox, folder: Path):
        self.sandbox, self.folder = sandbox, folder
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.worker_pid: int | None = None
        self.log: _Tail | None = None

    @property
    def limits(self) -> Limits:
        return self.sandbox.limits

    def start(self) -> None:
        here, there = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = bwrap_prefix(self.folder, self.limits, self.sandbox.secret, mqueue=True) + [
            sys.executable, "-I", "-B", "-c", bootstrap("rnnbook.grade.warm:worker_main"),
            "--control-fd", str(there.fileno())]
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                cwd=self.folder, env=self.sandbox._host_env(), start_new_session=True,
                pass_fds=[there.fileno()])
        finally:
            there.close()
        self.sock = here
        self.log = _Tail(self.proc.stdout)
        self.log.start()
        with self.sandbox._lock:
            self.sandbox._live[self.proc.pid] = self.proc
        ready, _, _ = select.select([here], [], [], STARTUP_SECONDS)
        message = here.recv(MAX_MESSAGE) if ready else b""
        try:
            ns_pid = json.loads(message)["ready"]
        except (ValueError, KeyError, TypeError):
            text = self.log.text()[-800:] if self.log else ""
            self.stop()
            raise WorkerNotStarted(f"the warm worker did not start: {text}") from None
        self.worker_pid = self._host_pid(ns_pid)

    def _host_pid(self, ns_pid: int) -> int | None:
        """The host's pid of the worker (its pid inside the sandbox is ``ns_pid``)."""
        for pid in _descendants(self.proc.pid):
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("NSpid:") and int(line.split()[-1]) == ns_pid \
                                and len(line.split()) > 2:
                            return pid
            except (OSError, ValueError):
                continue
        return None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            self.sandbox._kill_group(self.proc)
            with self.sandbox._lock:
                self.sandbox._live.pop(self.proc.pid, None)
        if self.sock is not None:
            self.sock.close()
        self.proc = self.sock = self.worker_pid = None

    def _stopped(self) -> bool:
        """True when the worker is stopped (SIGSTOP) or traced: it will never answer."""
        if self.worker_pid is None:
            return False
        try:
            with open(f"/proc/{self.worker_pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        return state in (b"T", b"t", b"Z", b"X")

    def run(self, cells: bytes, chapter: str, result: Path) -> RunOutcome:
        """Run one submission; raise :class:`WorkerLost` when the worker went away."""
        if not self.alive():
            self.start()
        (self.folder / "cells.json").write_bytes(cells)
        progress = result.with_name(result.name + ".progress")
        rfd = os.open(result, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        pfd = os.open(progress, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        log_r, log_w = os.pipe()
        tail = _Tail(os.fdopen(log_r, "rb"))
        tail.start()
        limits = self.limits
        job = {"chapter": chapter, "cells": f"{INPUT_MOUNT}/cells.json",
               "cases": f"{INPUT_MOUNT}/cases-{chapter}.npz",
               "limits": {k: getattr(limits, k) for k in Limits.__dataclass_fields__}}
        start = time.monotonic()
        timed_out, killed_for, peak_mb, peak_tasks, code = False, "", 0.0, 0, None
        try:
            try:
                socket.send_fds(self.sock, [json.dumps(job).encode()], [rfd, pfd, log_w])
            except OSError:
                raise WorkerLost("the worker is gone") from None
            finally:
                os.close(log_w)
            memory = limits.memory_mb * 2**20
            while True:
                ready, _, _ = select.select([self.sock], [], [], self.sandbox.poll_seconds)
                if ready:
                    try:
                        code = json.loads(self.sock.recv(MAX_MESSAGE))["done"]
                    except (OSError, ValueError, KeyError, TypeError):
                        raise WorkerLost("the worker died during the submission") from None
                    break
                if not self.alive() or self._stopped():
                    raise WorkerLost("the worker died or was stopped during the submission")
                if time.monotonic() - start > limits.timeout:
                    timed_out = True
                    break
                tasks, rss = tree_usage(self.proc.pid, skip=self.worker_pid)
                peak_mb, peak_tasks = max(peak_mb, rss / 2**20), max(peak_tasks, tasks)
                if tasks > limits.max_procs:
                    killed_for = "processes"
                    break
                if rss > memory:
                    killed_for = "memory"
                    break
        except WorkerLost:
            self.stop()
            raise
        finally:
            os.close(rfd)
            os.close(pfd)
        if timed_out or killed_for:
            self.stop()  # the whole worker goes; the next submission gets a fresh one
        tail.join(5)
        return RunOutcome(code, timed_out, time.monotonic() - start, tail.text(),
                          _read_small(progress), killed_for, peak_mb, peak_tasks)


def _descendants(root: int) -> list[int]:
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, ()))
    return out


class WarmPool:
    """Up to ``size`` warm workers, each used by one grader thread at a time. A submission whose
    worker is lost is graded again by ``cold`` (one sandbox of its own)."""

    def __init__(self, cold: BubblewrapSandbox, workdir: Path, cases: dict, size: int):
        self.cold, self.workdir, self.cases, self.size = cold, workdir, dict(cases), size
        self.idle: queue.SimpleQueue = queue.SimpleQueue()
        self.made = 0
        self.lost = 0
        self.start_failures = 0
        self.broken = False
        self.lock = threading.Lock()
        self.workers: list[WarmWorker] = []

    def _worker(self) -> WarmWorker:
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            pass
        with self.lock:
            self.made += 1
            folder = self.workdir / f"worker-{self.made}"
        folder.mkdir()
        os.chmod(folder, 0o755)
        for chapter, path in self.cases.items():
            os.link(path, folder / f"cases-{chapter}.npz")
        worker = WarmWorker(self.cold, folder)
        with self.lock:
            self.workers.append(worker)
        return worker

    def run(self, inputs: Path, chapter: str, result: Path) -> RunOutcome:
        """Like :meth:`Sandbox.run` on a folder holding ``cells.json``."""
        if self.broken:  # workers cannot start here: every submission goes cold
            return self.cold.run(inputs, chapter, result)
        cells = (inputs / "cells.json").read_bytes()
        worker = self._worker()
        try:
            return worker.run(cells, chapter, result)
        except WorkerNotStarted as err:
            with self.lock:
                self.start_failures += 1
                if self.start_failures >= 2 and not self.broken:
                    self.broken = True
                    print(f"rnnbook grade: warm workers cannot start here ({err}); grading "
                          "cold.", file=sys.stderr)
            return self.cold.run(inputs, chapter, result)
        except WorkerLost:
            with self.lock:
                self.lost += 1
            return self.cold.run(inputs, chapter, result)
        finally:
            try:
                (worker.folder / "cells.json").unlink()
            except OSError:
                pass
            self.idle.put(worker)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
