"""Figures rendered to uint8 RGB arrays (for PNG previews and TensorBoard images) with matplotlib's Agg backend."""

import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def figure_to_array(fig):
    fig.canvas.draw()
    picture = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return picture


def _panel_grid(count, columns, width, height):
    """A figure of `count` panels in rows of `columns`, each `width` x `height` inches; (figure, the panels' axes
    in order), the grid's unused cells blank."""
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.axis("off")
    return fig, axes.flat[:count]


def attention_heatmaps(panels, columns=2):
    """One heatmap per (weights (T, S), source tokens (S), output tokens (T), title) panel, side by side."""
    fig, axes = _panel_grid(len(panels), columns, 5.5, 4.2)
    for ax, (weights, source, output, title) in zip(axes, panels):
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


def verification_figure(far, tar, auc, distances, same, threshold, title=""):
    """ROC (TAR against FAR, log FAR axis) beside the histograms of same and different pair distances with
    the decision threshold."""
    fig, (roc, hist) = plt.subplots(1, 2, figsize=(11, 4.2))
    floor = 1.0 / max(int(np.sum(~np.asarray(same, bool))), 1)
    roc.plot(np.maximum(far, floor), tar, lw=2, label=f"AUC {auc:.4f}")
    roc.set_xscale("log")
    roc.set_xlim(floor, 1.0)
    roc.set_ylim(0.0, 1.01)
    roc.set_xlabel("false accept rate")
    roc.set_ylabel("true accept rate")
    roc.grid(True, which="both", alpha=0.3)
    roc.legend(loc="lower right")
    roc.set_title(f"ROC {title}".strip())
    distances, same = np.asarray(distances), np.asarray(same, bool)
    bins = np.linspace(0.0, max(float(distances.max()), threshold) * 1.02, 50)
    hist.hist(distances[same], bins=bins, alpha=0.6, label="same identity")
    hist.hist(distances[~same], bins=bins, alpha=0.6, label="different identities")
    hist.axvline(threshold, color="k", ls="--", label=f"threshold {threshold:.3f}")
    hist.set_xlabel("squared embedding distance")
    hist.set_ylabel("pairs")
    hist.legend()
    hist.set_title("pair distances")
    fig.tight_layout()
    return figure_to_array(fig)


def precision_recall_figure(curves, names, aps, title=""):
    """Precision against recall per class ({class: (recall, precision)}) with each class's AP in the legend."""
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for c, (recall, precision) in curves.items():
        if len(recall):
            ax.plot(np.r_[0.0, recall], np.r_[1.0, np.maximum.accumulate(precision[::-1])[::-1]], lw=1.5,
                    label=f"{names[c]} AP50 {aps[c]:.3f}" if aps[c] is not None else names[c])
    ax.set_xlim(0, 1.0)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    ax.set_title(f"precision-recall at IoU 0.5 {title}".strip())
    fig.tight_layout()
    return figure_to_array(fig)


def loss_curves_figure(history, title=""):
    """The terms of a loss per step ([{term: value}]), each on its own log-scale panel."""
    terms = [k for k in history[0] if any(h[k] > 0 for h in history)]
    fig, axes = plt.subplots(1, len(terms), figsize=(3.2 * len(terms), 2.8), squeeze=False)
    steps = np.arange(1, len(history) + 1)
    for ax, term in zip(axes[0], terms):
        ax.plot(steps, [max(h[term], 1e-12) for h in history])
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(f"{term} {title}".strip(), fontsize=9)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return figure_to_array(fig)


def word_map_figure(vectors, words, panels):
    """One panel per (title, pairs): the pairs' words projected on the first two principal components of their
    vectors, an arrow from each a to its b (a relation the vectors hold shows as parallel arrows); a pair (word,
    None) is a plain point. `vectors` are rows of `words`."""
    index = {w: i for i, w in enumerate(words)}
    fig, axes = _panel_grid(len(panels), min(2, len(panels)), 6.4, 5.2)
    for ax, (title, pairs) in zip(axes, panels):
        names = list(dict.fromkeys(w for pair in pairs for w in pair if w is not None))
        points = np.asarray(vectors, np.float64)[[index[w] for w in names]]
        centred = points - points.mean(axis=0)
        basis = np.linalg.svd(centred, full_matrices=False)[2][:2] if len(names) > 1 else np.eye(2, points.shape[1])
        xy = dict(zip(names, centred @ basis.T))
        for a, b in pairs:
            if b is not None:
                ax.annotate("", xy=xy[b], xytext=xy[a], arrowprops={"arrowstyle": "->", "color": "tab:blue",
                                                                     "alpha": 0.6})
        ends = {b for _, b in pairs if b is not None}
        for name, (x, y) in xy.items():
            ax.scatter(x, y, s=14, color="tab:orange" if name in ends else "tab:blue")
            ax.annotate(name, (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
        if ends:
            ax.scatter([], [], s=14, color="tab:blue", label="a (arrow's tail)")
            ax.scatter([], [], s=14, color="tab:orange", label="b (arrow's head)")
            ax.legend(loc="best", fontsize=8)
        ax.set_title(title, fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return figure_to_array(fig)


def neighbours_figure(tables):
    """One panel per (word, [(neighbour, cosine), ...]): the neighbours as horizontal bars, nearest on top."""
    fig, axes = _panel_grid(len(tables), min(2, len(tables)), 5.6, 0.34 * max(len(t) for _, t in tables) + 1.2)
    for ax, (word, found) in zip(axes, tables):
        names, cosines = [n for n, _ in found][::-1], [c for _, c in found][::-1]
        ax.barh(names, cosines, color="tab:blue")
        ax.set_xlim(min(0.0, min(cosines)), 1.0)
        ax.set_xlabel("cosine similarity")
        ax.set_title(f"nearest to '{word}'", fontsize=11)
        ax.tick_params(axis="y", labelsize=9)
    fig.tight_layout()
    return figure_to_array(fig)


def caption_attention_figure(rows, max_words=10):
    """Show, attend and tell: per (image uint8 (S, S, 3), words (T), attention (T, G, G), title) row, the image
    under its caption, then the image again for each word (up to `max_words`) with where the decoder looked
    while writing that word (attention upsampled over the image, brighter = more weight). The title goes under
    the image."""
    columns = 1 + min(max_words, max(len(words) for _, words, _, _ in rows))
    titles = ["\n".join(textwrap.fill(line, 26) for line in title.splitlines()) for *_, title in rows]
    heights = [1.9 + 0.22 * (title.count("\n") + 1) for title in titles]
    fig, axes = plt.subplots(len(rows), columns, figsize=(1.9 * columns, sum(heights) + 0.3), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax_row, (image, words, maps, _), title in zip(axes, rows, titles):
        size = image.shape[0]
        ax_row[0].imshow(image)
        ax_row[0].set_title("image", fontsize=11)
        ax_row[0].set_xlabel(title, fontsize=9, loc="left")
        for ax, word, weights in zip(ax_row[1:], words, maps):
            ax.imshow(image)
            ax.imshow(weights, cmap="inferno", alpha=0.6, extent=(0, size, size, 0), interpolation="bilinear",
                      vmin=0.0, vmax=max(float(np.max(weights)), 1e-6))
            ax.set_title(_label(word), fontsize=11)
        for ax in ax_row:
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in ax_row[1 + len(words):]:
            ax.axis("off")
    fig.tight_layout()
    return figure_to_array(fig)


def image_grid_figure(images, title, columns=8, captions=None, panel=1.3):
    """`images` (N, S, S, C) uint8 in a titled grid of `columns` (each `panel` inches wide), each with its caption
    below when given."""
    images = np.asarray(images)
    count = len(images)
    columns = min(columns, count)
    fig, axes = _panel_grid(count, columns, panel, panel + (0.4 if captions else 0))
    for i, ax in enumerate(axes):
        image = images[i]
        ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if captions:
            ax.set_title(captions[i], fontsize=9)
    fig.suptitle(textwrap.fill(title, max(30, int(columns * panel * 9))), fontsize=12)
    fig.tight_layout(h_pad=2.5)
    return figure_to_array(fig)


def latent_scatter_figure(points, labels, names, title, axes_labels=("code 1", "code 2")):
    """A 2-D scatter of `points`, coloured by `labels` (-1: unlabelled) with a legend of `names`."""
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    labels = np.asarray(labels)
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    if not names or np.all(labels < 0):
        ax.scatter(points[:, 0], points[:, 1], s=12, alpha=0.7, color="tab:blue")
    else:
        for k, name in enumerate(names):
            keep = labels == k
            if keep.any():
                ax.scatter(points[keep, 0], points[keep, 1], s=12, alpha=0.75, color=cmap(k % cmap.N), label=name)
        ax.legend(title="label", markerscale=2, fontsize=9, loc="best")
    ax.set_xlabel(axes_labels[0])
    ax.set_ylabel(axes_labels[1])
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return figure_to_array(fig)


def saliency_figure(image, panels, title):
    """The image, then each (title, heat (H, W) in [0, 1]) of `panels` over a grey copy of it, in one row."""
    image = np.asarray(image, np.uint8)
    grey = image.mean(axis=-1) if image.shape[-1] == 3 else image[..., 0]
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(2.6 * (len(panels) + 1), 3.2))
    axes[0].imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=255)
    axes[0].set_title("input", fontsize=10)
    for ax, (name, heat) in zip(axes[1:], panels):
        ax.imshow(grey, cmap="gray", vmin=0, vmax=255)
        ax.imshow(heat, cmap="inferno", alpha=0.65, vmin=0, vmax=1)
        ax.set_title(name, fontsize=10)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return figure_to_array(fig)


def attack_curve_figure(rows, metric, title, xlabel):
    """`metric` against epsilon for FGSM and PGD (and, where the rows have "tflite", the same adversarial images
    through an exported file), from the attack's rows (the first: clean)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    clean = rows[0]
    for method, style in (("fgsm", "o--"), ("pgd", "s-")):
        keys = [(metric, "Keras")] + ([("tflite", "the same images through the .tflite")] if "tflite" in clean else [])
        for key, where in keys:
            points = [(0.0, clean[key])] + [(r["eps"], r[key]) for r in rows if r["method"] == method]
            ax.plot(*zip(*points), style, alpha=1.0 if key == metric else 0.5, label=f"{method.upper()} ({where})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(metric)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return figure_to_array(fig)
