"""A Gradescope autograder for one chapter: ``rnnbook gradescope STEM --out autograder.zip``.

The zip holds what Gradescope's `autograder specification
<https://gradescope-autograders.readthedocs.io/en/latest/specs/>`_ asks for:

- ``setup.sh`` (run once, as root, when Gradescope builds the image): installs bubblewrap when it
  can, the pinned dependencies (``requirements.txt``: the versions this checkout pins), then the
  ``rnnbook`` wheel shipped in ``wheels/`` (``--no-deps``), and makes the answer key readable by
  root only;
- ``run_autograder`` (run once per submission, as root): ``python3 -I -m
  rnnbook.grade.gradescope run``, which grades the notebook in ``/autograder/submission/`` with
  the grader (same key, same judge, same feedback as ``rnnbook grade``) and writes
  ``/autograder/results/results.json``: a top-level ``score``, the Markdown report as ``output``,
  and ``tests``, one per exercise, each with ``name``, ``score``, ``max_score``, ``status``,
  ``output`` (the CSV's feedback) and ``visibility``;
- ``keys/STEM.npz`` (the answer key), ``config.json`` (the chapter and the limits).

The root ``/autograder`` comes from ``RNNBOOK_AUTOGRADER_ROOT`` when it is set (a test lays out a
temporary one). The sandbox is chosen at run time (``RNNBOOK_SANDBOX`` or ``auto``): bubblewrap
where user namespaces work, otherwise -- Gradescope's containers usually lack them, and run as
root -- the unprivileged-user sandbox, which runs the student's code as a user id that cannot
read the key (``chmod 600``, owned by root). Never unsandboxed unless ``RNNBOOK_SANDBOX=none``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from rnnbook.grade.grading import GraderError, default_key_dir, load_key
from rnnbook.grade.sandbox import Limits, SandboxUnavailable, make_sandbox, package_dir

ROOT_ENV = "RNNBOOK_AUTOGRADER_ROOT"
SANDBOX_ENV = "RNNBOOK_SANDBOX"
#: the packages a grading run needs (besides rnnbook), pinned from the checkout's requirements.txt
RUNTIME = ("tensorflow-cpu", "keras", "numpy", "matplotlib", "ipython", "nbformat")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-python3}"
if ! command -v bwrap >/dev/null 2>&1; then
    # the sandbox of choice; without it (or without user namespaces) the students' code runs as
    # an unprivileged user that cannot read the key
    apt-get install -y --no-install-recommends bubblewrap \\
        || echo "setup.sh: bubblewrap not installed; the unprivileged-user sandbox will be used"
fi
"$PYTHON" -m pip install --no-cache-dir -r "$SOURCE/requirements.txt"
"$PYTHON" -m pip install --no-cache-dir --no-deps --force-reinstall "$SOURCE"/wheels/*.whl
# the answer key: readable by root only (the students' code never runs as root)
chown -R root:root "$SOURCE/keys" 2>/dev/null || true
chmod 700 "$SOURCE/keys"
chmod 600 "$SOURCE"/keys/*
"$PYTHON" -I -c "import rnnbook.grade.gradescope" && echo "setup.sh: rnnbook installed"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this once per submission, as root; it writes results/results.json.
ROOT="${RNNBOOK_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"
exec "$PYTHON" -I -m rnnbook.grade.gradescope run --root "$ROOT"
"""


def pinned_requirements(root: Path) -> str:
    """The lines of ``requirements.txt`` that pin :data:`RUNTIME` (installed versions when the
    checkout has no such file)."""
    wanted = {name.replace("_", "-") for name in RUNTIME}
    lines = []
    path = Path(root) / "requirements.txt"
    if path.is_file():
        for raw in path.read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            name = line.split("==", 1)[0].strip().lower().replace("_", "-")
            if "==" in line and name in wanted:
                lines.append(line)
                wanted.discard(name)
    if wanted:
        from importlib import metadata

        for name in sorted(wanted):
            lines.append(f"{name}=={metadata.version(name)}")
    return "\n".join(lines) + "\n"


def build_wheel(folder: Path, source: Path) -> Path:
    """Build the ``rnnbook`` wheel of the checkout ``source`` into ``folder`` (no network)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "--no-index", "-q", "-w", str(folder),
                           str(source)], capture_output=True, text=True)
    wheels = sorted(Path(folder).glob("rnnbook-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise GraderError(f"could not build the rnnbook wheel: {proc.stderr[-1500:]}")
    return wheels[-1]


def _add(zf: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build(chapter: str, out: Path, key_dir: Path | None = None, wheel: Path | None = None,
          limits: Limits | None = None) -> Path:
    """Write the autograder zip of ``chapter`` to ``out``."""
    key_dir = Path(key_dir or default_key_dir())
    load_key(chapter, key_dir)  # GraderError when missing or stale
    source = package_dir().parent
    limits = limits or Limits()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(wheel) if wheel else build_wheel(Path(tmp), source)
        config = {"chapter": chapter,
                  "limits": {k: getattr(limits, k) for k in Limits.__dataclass_fields__}}
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            _add(zf, "setup.sh", SETUP_SH.encode(), 0o755)
            _add(zf, "run_autograder", RUN_AUTOGRADER.encode(), 0o755)
            _add(zf, "requirements.txt", pinned_requirements(source).encode())
            _add(zf, "config.json", json.dumps(config, indent=1).encode())
            _add(zf, f"wheels/{wheel.name}", wheel.read_bytes())
            _add(zf, f"keys/{chapter}.npz", (key_dir / f"{chapter}.npz").read_bytes(), 0o600)
        out.write_bytes(buf.getvalue())
    return out


# ---- run_autograder ------------------------------------------------------------------------

def choose_sandbox(limits: Limits, secret: list[Path], workdir: Path) -> str:
    """``RNNBOOK_SANDBOX`` when set; else bubblewrap when it works here, else the
    unprivileged-user sandbox (the grader must be root)."""
    wanted = os.environ.get(SANDBOX_ENV, "auto")
    if wanted != "auto":
        return wanted
    try:
        make_sandbox("bubblewrap", limits, secret).probe(workdir)
        return "bubblewrap"
    except SandboxUnavailable as err:
        print(f"bubblewrap cannot be used here ({str(err).splitlines()[0]}); "
              "using the unprivileged-user sandbox", file=sys.stderr)
        return "user"


def pick_notebook(folder: Path, chapter: str) -> tuple[Path | None, str]:
    """The submitted notebook to grade, or ``None`` and why."""
    from rnnbook.grade.submissions import chapter_from_name, find_notebooks

    if not folder.is_dir():
        return None, "no submission folder was found."
    found, _ = find_notebooks([str(folder)])
    if len(found) == 1:
        return Path(found[0]), ""
    named = [p for p in found if chapter_from_name(os.path.basename(p), [chapter]) == chapter]
    if len(named) == 1:
        return Path(named[0]), ""
    if not found:
        return None, (f"no notebook (.ipynb) was found in your submission: upload your "
                      f"{chapter}.ipynb.")
    return None, (f"{len(found)} notebooks were found in your submission: upload only your "
                  f"{chapter}.ipynb.")


def results_json(rows: list[dict], report_text: str, seconds: float) -> dict:
    """Gradescope's results.json from the grader's CSV rows of one submission."""
    tests = []
    for row in rows:
        tests.append({"name": row["exercise"] or "notebook",
                      "score": float(row["points"]), "max_score": float(row["max_points"]),
                      "status": "passed" if row["status"] == "passed" else "failed",
                      "output": f"{row['status']}: {row['feedback']}",
                      "visibility": "visible"})
    return {"score": round(sum(t["score"] for t in tests), 2),
            "execution_time": int(round(seconds)), "output": report_text,
            "output_format": "md", "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests}


def _failed(key, message: str, seconds: float) -> dict:
    rows = [{"exercise": name, "points": 0, "max_points": key.points[name] if key else 0,
             "status": "error", "feedback": message} for name in (key.exercises if key else [""])]
    return results_json(rows, f"**The autograder could not grade this submission.** {message}",
                        seconds)


def run(root: Path) -> int:
    """Grade ``root/submission`` and write ``root/results/results.json``; 0 unless even the
    results could not be written."""
    from rnnbook.grade import report
    from rnnbook.grade.cli import Grader, parse_args

    start = time.monotonic()
    root = Path(root)
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    source = root / "source"
    key = None
    try:
        config = json.loads((source / "config.json").read_text())
        chapter = config["chapter"]
        key_dir = source / "keys"
        key = load_key(chapter, key_dir)
        limits = Limits(**config.get("limits", {}))
        notebook, why = pick_notebook(root / "submission", chapter)
        if notebook is None:
            data = _failed(key, why, time.monotonic() - start)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                os.chmod(tmp, 0o755)
                kind = choose_sandbox(limits, [key_dir, source], Path(tmp))
            out = results / "grades.csv"
            args = parse_args([
                "--out", str(out), "--feedback-dir", str(results / "feedback"),
                "--chapter", chapter, "--key-dir", str(key_dir), "--sandbox", kind, "--cold",
                "--jobs", "1", "--timeout", f"{limits.timeout:g}",
                "--cell-timeout", f"{limits.cell_timeout:g}",
                "--call-timeout", f"{limits.call_timeout:g}",
                "--memory-mb", str(limits.memory_mb), "--max-procs", str(limits.max_procs),
                "--disk-mb", str(limits.disk_mb), "--", str(notebook)])
            grader = Grader(args)
            grader.probed = kind == "bubblewrap" and os.environ.get(SANDBOX_ENV, "auto") == "auto"
            code = grader.run()
            rows_by_sub = report.read_grades(out)
            name = next(iter(rows_by_sub), None)
            if code != 0 or name is None:
                raise GraderError(f"the grader exited with status {code}")
            text = (grader.feedback_dir / report.report_name(name)).read_text()
            data = results_json(rows_by_sub[name], text, time.monotonic() - start)
    except Exception as err:  # noqa: BLE001 -- the student still gets a results.json
        print(f"rnnbook gradescope: {type(err).__name__}: {err}", file=sys.stderr)
        data = _failed(key, "Please tell your instructor (the autograder's log says why).",
                       time.monotonic() - start)
    tmp = results / ".results.json.tmp"
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, results / "results.json")
    print(f"results.json: score {data['score']}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    """``rnnbook gradescope STEM --out autograder.zip`` (and ``run``, for run_autograder)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:
        p = argparse.ArgumentParser(prog="rnnbook gradescope run")
        p.add_argument("--root", default=os.environ.get(ROOT_ENV, "/autograder"))
        return run(Path(p.parse_args(argv[1:]).root))
    p = argparse.ArgumentParser(
        prog="rnnbook gradescope", allow_abbrev=False,
        description="Build a Gradescope autograder (a zip to upload) for one chapter.")
    p.add_argument("chapter", metavar="STEM", help="the chapter, e.g. 02_rnn")
    p.add_argument("--out", required=True, type=Path, help="the zip to write")
    p.add_argument("--key-dir", type=Path, default=None,
                   help="folder of the answer keys (default: solutions/keys of the checkout)")
    p.add_argument("--wheel", type=Path, default=None,
                   help="an rnnbook wheel to ship (default: build one from this checkout)")
    args = p.parse_args(argv)
    try:
        path = build(args.chapter, args.out, args.key_dir, args.wheel)
    except (GraderError, OSError) as err:
        print(f"rnnbook gradescope: error: {err}", file=sys.stderr)
        return 2
    print(f"Wrote {path}: upload it as the assignment's autograder (Configure Autograder > Zip "
          "file upload).", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
