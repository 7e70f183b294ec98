"""Put a value a cell computed into the prose of the book: ``glue("name", value)``.

The text then quotes it with ``{glue:text}`name:.2f``` (myst-nb), so the prose and the output can
never disagree; a test (``tests/test_prose_numbers.py``) fails on a number in the prose that is
not glued. In the HTML book this is myst-nb's ``glue``. Where myst-nb is not installed (Colab) the
value is simply shown, and the prose keeps the value of the stored run.

Numbers are stored as plain Python numbers, and floats rounded to :data:`SIGNIFICANT` digits:
the stored output is compared as text by strict nbval, and the last bits of a float can differ
from one CPU to another, while the prose never shows that many digits.
"""

from __future__ import annotations

import math
import numbers

SIGNIFICANT = 6


def plain(value):
    """``value`` as a plain Python number (floats rounded to ``SIGNIFICANT`` digits)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return value
    digits = SIGNIFICANT - 1 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def glue(name: str, value, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the book's prose; show it too when ``display``."""
    value = plain(value)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # e.g. Colab: nothing renders the prose's references there
        if display:
            from IPython.display import display as show

            show(value)
        return
    myst_glue(name, value, display=display)
