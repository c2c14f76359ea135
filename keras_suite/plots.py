"""Figures rendered to uint8 RGB arrays (for PNG previews and TensorBoard images) with matplotlib's Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def figure_to_array(fig):
    fig.canvas.draw()
    picture = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return picture


def attention_heatmaps(panels, columns=2):
    """One heatmap per (weights (T, S), source tokens (S), output tokens (T), title) panel, side by side."""
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 4.2 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (weights, source, output, title) in zip(axes.flat, panels):
        ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(source)), [_label(t) for t in source], fontsize=7, rotation=90)
        ax.set_yticks(range(len(output)), [_label(t) for t in output], fontsize=7)
        ax.set_xlabel("source")
        ax.set_ylabel("output")
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return figure_to_array(fig)


def _label(token):
    """A tick label that shows spaces and control characters."""
    return "␣" if token == " " else (repr(token)[1:-1] or "·")
