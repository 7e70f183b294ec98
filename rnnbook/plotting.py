"""Figures that every chapter draws the same way: a colour-blind-safe palette and labelled axes.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies);
lines also differ by style, so a figure still reads in grey scale.
"""

from __future__ import annotations

import matplotlib

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS = [OKABE_ITO[k]
          for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1))]


def use_course_style() -> None:
    """Make the course palette and line styles matplotlib's default cycle."""
    from cycler import cycler

    matplotlib.rcParams["axes.prop_cycle"] = cycler(color=COLORS) + cycler(linestyle=LINESTYLES)
    matplotlib.rcParams["figure.figsize"] = (6.4, 3.6)
    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["axes.grid"] = True
    matplotlib.rcParams["grid.alpha"] = 0.3
    # An opaque white background: black text stays legible in the book's dark mode.
    matplotlib.rcParams["figure.facecolor"] = "white"
    matplotlib.rcParams["savefig.facecolor"] = "white"
    matplotlib.rcParams["savefig.transparent"] = False


def labelled_axes(xlabel: str, ylabel: str, title: str | None = None, *, ax=None, **subplots):
    """``fig, ax = plt.subplots()`` with the axes labelled; pass ``ax`` to label an existing
    one."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(**subplots)
    else:
        fig = ax.figure
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig, ax
