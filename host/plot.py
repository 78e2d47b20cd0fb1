"""`microapp plot out.json -o run.png`: a run's summary drawn as tracks over (simulated) time.

Top to bottom: the app's log lines as marks (the first words of some as labels), each output
pin's level as a step line, mesh messages sent, interrupts delivered (up) and dropped with a
signal (down) per tick, faults as red lines across every track, and any
time series the summary carries under "tracks" ({name: [[time s, value], ...]}: switch state,
power, presence, interrupts per tick, as the world grows). matplotlib is an optional extra:
`pip install microapp-host[plot]` (run.sh installs it with the test extra).
"""
from __future__ import annotations

import json
from typing import Any

LABELS = 12  # log lines labelled with their text; the others are marks only


class PlotError(Exception):
    """The summary cannot be read or drawn: one line for the CLI."""


def load_summary(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            summary = json.load(f)
    except OSError as e:
        raise PlotError(f"{path}: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise PlotError(f"{path}: not a summary from `microapp run --json` ({e})") from None
    if not isinstance(summary, dict) or "ticks" not in summary or "log" not in summary:
        raise PlotError(f"{path}: not a summary from `microapp run --json` (no ticks or log)")
    return summary


def plot_summary(path: str, output: str) -> None:
    summary = load_summary(path)
    try:
        import matplotlib
    except ImportError:
        raise PlotError("plotting needs matplotlib: pip install 'microapp-host[plot]'") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    try:
        figure = draw(summary, plt, title=path)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise PlotError(f"{path}: a summary this plot cannot read ({type(e).__name__}: {e})") from None
    try:
        figure.savefig(output, dpi=110)
    except OSError as e:
        raise PlotError(f"{output}: {e.strerror}") from None
    except ValueError as e:  # an extension matplotlib does not know
        raise PlotError(f"{output}: {e}") from None
    finally:
        plt.close(figure)


def draw(summary: dict, plt: Any, title: str = "run"):
    """The figure: one track per row, sharing the time axis."""
    end_s = summary.get("time_ms", 0) / 1000 or max(
        [t for t, *_ in summary["log"] + summary.get("pins", [])] + [0.1])
    pins: dict[int, list[tuple[float, int]]] = {}
    for t, pin, level in summary.get("pins", []):
        pins.setdefault(pin, []).append((t, level))
    extra = summary.get("tracks", {}) or {}
    per_tick = summary.get("per_tick", {}) or {}
    rows = ["log"] + [f"pin {p}" for p in sorted(pins)] + ["mesh sent", "interrupts"] + sorted(extra)
    heights = [2.0] + [0.8] * (len(rows) - 1)
    figure, axes = plt.subplots(len(rows), 1, sharex=True, figsize=(10, 1.2 + 0.9 * sum(heights)),
                                gridspec_kw={"height_ratios": heights}, squeeze=False)
    axes = [a[0] for a in axes]
    log = summary["log"]
    ax = axes[0]
    ax.vlines([t for t, _ in log], 0, 1, color="tab:blue", linewidth=0.8)
    step = max(1, len(log) // LABELS)
    for i, (t, text) in enumerate(log[::step][:LABELS]):
        ax.text(t, 1.05 + 0.35 * (i % 3), text[:24], fontsize=7, rotation=0, va="bottom")
    ax.set_ylim(0, 2.2)
    ax.set_yticks([])
    ax.set_ylabel(f"log\n({len(log)})", rotation=0, ha="right", va="center")
    for ax, pin in zip(axes[1:], sorted(pins)):
        changes = pins[pin]
        times = [0.0] + [t for t, _ in changes] + [end_s]
        levels = [0] + [v for _, v in changes] + [changes[-1][1]]
        ax.step(times, levels, where="post", color="tab:green")
        ax.set_ylim(-0.2, 1.2)
        ax.set_yticks([0, 1], ["low", "high"], fontsize=7)
        ax.set_ylabel(f"pin {pin}", rotation=0, ha="right", va="center")
    ax = axes[1 + len(pins)]
    sent = summary.get("mesh_sent", [])
    ax.plot([m[0] for m in sent], [m[1] for m in sent], "v", color="tab:purple", markersize=4)
    ax.set_ylabel(f"mesh sent\n({len(sent)})\nto stone", rotation=0, ha="right", va="center")
    stones = sorted({m[1] for m in sent})
    ax.set_yticks(stones, [str(s) for s in stones], fontsize=7)
    ax.set_ylim(min(stones + [0]) - 0.5, max(stones + [0]) + 0.5)
    ax = axes[2 + len(pins)]
    delivered = per_tick.get("interrupts delivered", [])
    dropped = per_tick.get("interrupts dropped", [])
    ax.vlines([t for t, _ in delivered], 0, [n for _, n in delivered], color="tab:green", linewidth=2,
              label="delivered")
    ax.vlines([t for t, _ in dropped], 0, [-n for _, n in dropped], color="tab:red", linewidth=2,
              label="dropped (signalled)")
    ax.axhline(0, color="black", linewidth=0.5)
    top = max([n for _, n in delivered + dropped] + [1])
    ax.set_ylim(-top * 1.3, top * 1.3)
    ax.set_yticks([-top, 0, top], [str(top), "0", str(top)], fontsize=7)
    ax.set_ylabel("interrupts\nper tick", rotation=0, ha="right", va="center")
    if delivered or dropped:
        ax.legend(loc="upper left", fontsize=7, bbox_to_anchor=(1.0, 1.0))
    for ax, name in zip(axes[3 + len(pins):], sorted(extra)):
        points = extra[name]
        ax.step([t for t, _ in points], [v for _, v in points], where="post", color="tab:orange")
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
    faults = summary.get("faults", [])
    for ax in axes:
        for fault in faults:
            ax.axvline(fault["time_ms"] / 1000, color="tab:red", linewidth=1.2, alpha=0.7)
        ax.grid(axis="x", alpha=0.3)
    if faults:
        first = faults[0]
        axes[0].text(first["time_ms"] / 1000, 2.15, f" fault: {first['where']}: {first['error'][:40]}"
                     + (f" (+{len(faults) - 1})" if len(faults) > 1 else ""), color="tab:red",
                     fontsize=7, va="top")
    axes[-1].set_xlim(0, end_s)
    axes[-1].set_xlabel("time (s)")
    interrupts = summary.get("interrupts", {})
    state = "" if summary.get("enabled", True) else ", disabled"
    cut = f", interrupted: {summary['interrupted']}" if summary.get("interrupted") else ""
    figure.suptitle(f"{title}: {summary['ticks']} ticks, {interrupts.get('delivered', 0)}/"
                    f"{interrupts.get('generated', 0)} interrupts delivered, {len(faults)} faults{state}{cut}",
                    fontsize=9)
    figure.tight_layout()
    return figure
