"""Execute notebooks top to bottom and store their outputs (for authors, tests and the benchmark).

``python -m rnnbook.notebooks book/02_rnn.ipynb solutions/02_rnn.ipynb`` executes each notebook in
a fresh kernel, in its own folder, and writes it back with its outputs, so that strict nbval has
something to compare. It stops at the first failing cell and leaves that notebook unchanged.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat


def execute(path: Path, timeout: int = 600, write: bool = True) -> float:
    """Execute one notebook; return the seconds it took. Raises on a failing cell."""
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)  # widget state is machine-specific noise
    if write:
        from rnnbook.exercises import clean_metadata, render

        clean_metadata(nb)
        path.write_text(render(nb))  # byte for byte what the generator writes
    return seconds


def unexecuted_cells(path: Path) -> list[int]:
    """Indices of non-empty code cells with no execution count (nbval would compare nothing)."""
    nb = nbformat.read(path, as_version=4)
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.source.strip() and c.execution_count is None]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="rnnbook execute",
                                description="Execute notebooks and store their outputs.")
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    p.add_argument("--dry-run", action="store_true", help="execute but do not write")
    args = p.parse_args(argv)
    status = 0
    for path in args.notebooks:
        try:
            seconds = execute(path, args.timeout, write=not args.dry_run)
        except Exception as err:  # report and go on with the next notebook
            print(f"FAILED {path}: {type(err).__name__}: {str(err)[-2000:]}", file=sys.stderr)
            status = 1
            continue
        print(f"{path}: {seconds:.1f} s")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
