"""Small PNG line charts for the weekly report's HTML page: one plotting function, matplotlib's Agg backend,
no state kept between calls. (The backtest page draws its own chart, a timeline of error ratios with the
firing intervals shaded: `backtest_output._chart`.)

A chart is a few named series of (x, y) points (y None where there is no data: the line breaks there,
nothing is drawn as if it were known) and horizontal reference lines (an objective, a threshold) drawn
dashed and named in the legend. Labels are taken as plain text: a `$` never starts mathtext and a leading
`_` never hides a series from the legend.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Points = Sequence[tuple[float, float | None]]

# Colours of the reference lines, by meaning, shared with the page's CSS.
OBJECTIVE = "#1a7f37"
WARNING = "#bf8700"
CRITICAL = "#cf222e"
NEUTRAL = "#57606a"


@dataclass(frozen=True)
class RefLine:
    """A horizontal line across the chart: an objective, a threshold, a limit."""

    value: float
    label: str
    color: str = CRITICAL
    style: str = "--"


def plain(text: str) -> str:
    """Text matplotlib shows as given: `$` escaped (no mathtext), a leading `_` kept visible."""
    text = text.replace("$", r"\$")
    return "\u200b" + text if text.startswith("_") else text


def line_chart(
    title: str,
    ylabel: str,
    series: Mapping[str, Points],
    lines: Sequence[RefLine] = (),
    xlabel: str = "day of the watch",
    size: tuple[float, float] = (5.2, 2.9),
    integer_x: bool = True,
) -> bytes:
    """A PNG of `series` (one line each, markers on the points) with `lines` as dashed references."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=size, dpi=110)
    try:
        for name, pts in series.items():
            xs = [x for x, _ in pts]
            ys = [float("nan") if y is None else y for _, y in pts]
            ax.plot(xs, ys, marker="o", markersize=3.5, linewidth=1.6, label=plain(name))
        for ref in lines:
            ax.axhline(ref.value, color=ref.color, linestyle=ref.style, linewidth=1.1, label=plain(ref.label))
        ax.set_title(plain(title), fontsize=10, loc="left")
        ax.set_xlabel(plain(xlabel), fontsize=8)
        ax.set_ylabel(plain(ylabel), fontsize=8)
        ax.tick_params(labelsize=8)
        if integer_x:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if len(series) > 2:  # many lines: the legend beside the plot, never over it
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        elif series or lines:
            ax.legend(fontsize=7, loc="best", framealpha=0.85)
        fig.tight_layout(pad=0.6)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    """The PNG as a `data:` URI, so a page carries its images inside it."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
