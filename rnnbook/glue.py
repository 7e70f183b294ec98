"""Put a value a cell computed into the prose of the book: ``glue("name", value)``.

The text then quotes it with ``{glue:text}`name:.2f``` (myst-nb), so the prose and the output can
never disagree; a test (``tests/test_prose_numbers.py``) fails on a number in the prose that is
not glued. In the HTML book this is myst-nb's ``glue``. Where myst-nb is not installed (Colab) the
value is simply shown, and the prose keeps the value of the stored run.
"""

from __future__ import annotations


def glue(name: str, value, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the book's prose; show it too when ``display``."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # e.g. Colab: nothing renders the prose's references there
        if display:
            from IPython.display import display as show

            show(value)
        return
    myst_glue(name, value, display=display)
