"""Read what a sandbox returned -- untrusted data -- without letting it hurt the grader.

The result is an ``.npz`` written inside the sandbox. Before NumPy reads it we check that it is
a regular file (no link, no FIFO), not larger than the limit, and that every array in it is a
plain numeric array whose declared size fits the limit (no pickles, no zip bomb, no header that
asks for terabytes). Only then ``np.load(..., allow_pickle=False)`` reads it.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile

import numpy as np

from rnnbook.checks.store import unpack

MAX_ENTRIES = 10_000
NUMERIC_KINDS = set("biuf")


class ResultError(ValueError):
    """The result file is missing or not a plain, bounded archive of numeric arrays."""


def _open_regular(path, max_bytes: int):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ResultError("no result file was written") from None
    except OSError as err:
        raise ResultError(f"the result file cannot be opened ({err.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ResultError("the result file is not a regular file")
    if info.st_size > max_bytes:
        os.close(fd)
        raise ResultError(f"the result file is {info.st_size} bytes, over the {max_bytes} limit")
    return os.fdopen(fd, "rb")


def load_result(path, max_bytes: int = 64 * 2**20) -> tuple[dict, dict]:
    """``(results, meta)`` as :func:`rnnbook.checks.core.unpack` gives them, or ResultError."""
    with _open_regular(path, max_bytes) as f:
        try:
            zf = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, ValueError) as err:
            raise ResultError(f"the result file is not an npz archive ({err})") from None
        with zf:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                raise ResultError(f"the result file has {len(infos)} entries")
            total = 0
            for info in infos:
                total += info.file_size
                if total > max_bytes:
                    raise ResultError("the result file unpacks to more than the size limit")
                if not info.filename.endswith(".npy"):
                    raise ResultError(f"unexpected entry {info.filename!r} in the result file")
                try:
                    with zf.open(info) as member:
                        version = np.lib.format.read_magic(member)
                        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                       else np.lib.format.read_array_header_2_0)
                        shape, _, dtype = read_header(member)
                except Exception as err:  # noqa: BLE001 -- any malformed header
                    raise ResultError(
                        f"entry {info.filename!r} is not a NumPy array ({err})") from None
                if dtype.hasobject or dtype.kind not in NUMERIC_KINDS or dtype.fields:
                    raise ResultError(f"entry {info.filename!r} has dtype {dtype}, not numbers")
                nbytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
                if nbytes > max_bytes:
                    raise ResultError(f"entry {info.filename!r} declares {nbytes} bytes")
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as npz:
                results, meta = unpack(npz)
        except Exception as err:  # noqa: BLE001 -- malformed names, bad CRC, bad JSON...
            raise ResultError(
                f"the result file cannot be read ({type(err).__name__}: {err})") from None
    if not isinstance(meta, dict):
        raise ResultError("the result file's meta data is not a mapping")
    return results, meta


def meta_list(meta: dict, key: str) -> list:
    value = meta.get(key, [])
    return value if isinstance(value, list) else []


def meta_dict(meta: dict, key: str) -> dict:
    value = meta.get(key, {})
    return value if isinstance(value, dict) else {}


def short(text, limit: int = 300) -> str:
    """A string from the sandbox, shortened and made one-line-safe for reports."""
    text = text if isinstance(text, str) else json.dumps(text)[:limit]
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
