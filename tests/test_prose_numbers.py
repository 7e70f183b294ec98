"""Numbers in the book's prose come from cells: a number a cell computes is glued, not typed.

The scan reads the Markdown cells of ``book/`` and fails on any numeric literal that is not
exempt. Exempt are: maths (``$...$``, ``$$...$$``, ``\\begin{...}``), code (inline and fenced),
MyST roles and directives (``{glue:text}`...```, ``{cite}`...```, ``{doc}`...```), link targets
and HTML tags, small structural integers (0 to 10: chapter numbers, seed counts, "a bias of
1"), years (1600-2099), the number of an ordered-list item, and figures quoted from a paper:
a sentence that carries a ``{cite...}`` role may quote the paper's numbers.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from helpers import ROOT

BOOK = sorted((ROOT / "book").glob("*.ipynb"))

_STRIP = [
    re.compile(r"```.*?```", re.S),  # fenced code and directives
    re.compile(r":::.*?:::", re.S),  # colon fences (their bodies may hold prose: scanned below)
    re.compile(r"\$\$.*?\$\$", re.S),  # display maths
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S),  # amsmath environments
    re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$"),  # inline maths
    re.compile(r"<!--.*?-->", re.S),  # comments
    re.compile(r"<[^>\n]+>"),  # HTML tags and their attributes
    re.compile(r"\{[\w:+-]+\}`[^`]*`"),  # MyST roles: glue, cite, doc, numref, ref, ...
    re.compile(r"``[^`]*``|`[^`\n]*`"),  # inline code
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"^\([\w.-]+\)=\s*$", re.M),  # MyST targets
    re.compile(r"^\s*(?:\d+\.|[-*+])\s+", re.M),  # list markers (numbered items)
]
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def _fenced_prose(markdown: str) -> str:
    """The bodies of ``:::{note}`` style colon fences: prose, so scanned too."""
    return "\n".join(m.group(1) for m in re.finditer(r":::\{?[\w-]*\}?[^\n]*\n(.*?):::",
                                                     markdown, re.S))


def _exempt(token: str) -> bool:
    if "," not in token and "." not in token and "e" not in token.lower():
        value = int(token)
        if value <= 10 or (len(token) == 4 and 1600 <= value <= 2099):
            return True
    return False


def unglued_numbers(markdown: str) -> list[str]:
    """The numeric literals of a Markdown text that should have been glued from a cell."""
    text = markdown + "\n" + _fenced_prose(markdown)
    found = []
    for sentence in _SENTENCE.split(text):
        cites = "{cite" in sentence
        for pattern in _STRIP:
            sentence = pattern.sub(" ", sentence)
        if cites:
            continue
        for m in _NUMBER.finditer(sentence):
            token = m.group(0)
            if not _exempt(token):
                found.append(token)
    return found


def test_the_scan_catches_typed_numbers_and_exempts_the_rest():
    assert unglued_numbers("The test MAE is 23.79 and the IRNN reached 0.57.") == ["23.79", "0.57"]
    assert unglued_numbers("It has 1,115,394 characters; 86% of them.") == ["1,115,394", "86"]
    assert unglued_numbers("A loss of 3e-4, at T = 100 steps.") == ["3e-4", "100"]
    assert unglued_numbers("The MAE is {glue:text}`mae:.2f` on $T = 100$ with `units=32`.") == []
    assert unglued_numbers("Three seeds, 5 at most, in chapter 7 (1997).") == []
    assert unglued_numbers("Le et al. used 100 units on sequences of 400 steps "
                           "{cite}`le2015irnn`. We use 32.") == ["32"]
    assert unglued_numbers("See [chapter 2](../book/02_rnn.ipynb) and {doc}`02_rnn`.") == []
    assert unglued_numbers("11. an eleventh item\n12. and a twelfth") == []
    maths = "$$\\sum_{k=1}^{100} x_k$$ and \\begin{align}a &= 250\\end{align}"
    assert unglued_numbers(maths) == []
    assert unglued_numbers(":::{note}\nIt learned 97 of them.\n:::") == ["97"]
    assert unglued_numbers("<img src='fig-123.png' width=600> float32 and H200") == []


@pytest.mark.parametrize("path", BOOK, ids=[p.stem for p in BOOK])
def test_every_number_in_the_prose_is_glued_from_a_cell(path):
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        numbers = unglued_numbers(cell.source)
        if numbers:
            problems.append(f"cell {i}: {', '.join(numbers)}")
    assert not problems, (
        "numbers typed into the prose: glue them from the cell that computes them "
        "(rnnbook.glue.glue + {glue:text}`name:fmt`), write maths or code, or cite the paper "
        "they come from in the same sentence:\n  " + "\n  ".join(problems))
