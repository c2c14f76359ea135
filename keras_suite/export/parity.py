"""Parity: every exported format is run on the same samples as Keras and scored against it."""

import time

import numpy as np

from keras_suite.errors import UserError


class ExportError(UserError):
    """An export that failed its parity check or could not be converted."""


def run_samples(call, samples):
    """Run `call(**sample)` on each sample; returns ({output: concatenated over the samples}, ms per sample)."""
    start = time.perf_counter()
    outs = [{k: np.asarray(v) for k, v in call(**sample).items()} for sample in samples]
    ms = (time.perf_counter() - start) * 1000 / len(samples)
    return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}, ms


def compare(reference, outputs):
    """The largest and mean absolute difference of the float outputs (None when there are none) and the share
    of equal values of the others (None when there are none)."""
    row = {"max_abs_diff": None, "mean_abs_diff": None, "agreement": None}
    for key, ref in reference.items():
        out = np.asarray(outputs[key])
        ref = np.asarray(ref)
        if out.shape != ref.shape:
            raise ExportError(f"output '{key}' has shape {out.shape}, Keras gives {ref.shape}")
        if np.issubdtype(ref.dtype, np.floating):
            diff = np.abs(out.astype(np.float64) - ref) if ref.size else np.zeros(1)
            row["max_abs_diff"] = max(row["max_abs_diff"] or 0.0, float(diff.max()))
            row["mean_abs_diff"] = max(row["mean_abs_diff"] or 0.0, float(diff.mean()))
        else:
            row["agreement"] = min(1.0 if row["agreement"] is None else row["agreement"],
                                   float(np.mean(out == ref)) if ref.size else 1.0)
    return row


def min_cosine(name):
    """A `Serving.scores` function for vector outputs: {"min_cosine": the lowest cosine similarity between a
    format's rows of output `name` and Keras'}."""
    def score(reference, outputs):
        ref, out = reference[name], np.asarray(outputs[name], np.float64)
        cos = np.sum(ref * out, -1) / (np.linalg.norm(ref, axis=-1) * np.linalg.norm(out, axis=-1) + 1e-12)
        return {"min_cosine": float(cos.min())}

    return score


LOWER_IS_BETTER = ("max_abs_diff", "probe_mean_abs_diff")
LABELS = {"max_abs_diff": "max|diff|", "probe_mean_abs_diff": "probe mean|diff|"}  # report column titles


def column(name):
    """The row key a limit applies to: min_agreement limits agreement, the others themselves."""
    return "agreement" if name == "min_agreement" else name


def judge(row, limits, lower=()):
    """The checks a format's row fails: each limit (None: not checked) is a largest value for the differences
    (LOWER_IS_BETTER) and the names in `lower`, a least one for the rest; a limit on a figure that could not be
    measured (None: nothing to compare) fails."""
    failed = []
    for name, limit in limits.items():
        value = row.get(column(name))
        below = name in LOWER_IS_BETTER or name in lower
        if limit is None:
            continue
        if value is None:
            failed.append(f"{column(name)}: nothing to compare")
        elif (value > limit) if below else (value < limit):
            failed.append(f"{column(name)} {value:.6g} ({'above' if below else 'below'} {limit:g})")
    return failed


def format_report(report):
    """One line per format with the figures that were checked: a column for each limit some format has."""
    rows = report["formats"]
    checked = [name for name in dict.fromkeys(k for r in rows.values() for k in r["limits"])
               if any(r["limits"].get(name) is not None for r in rows.values())]
    headers = [LABELS.get(column(name), column(name)) for name in checked]
    widths = [max(len(h), 18) + 2 for h in headers]
    lines = [f"{'format':<18}{'file':<24}{'size':>10}{'ms/call':>9}"
             + "".join(f"{h:>{w}}" for h, w in zip(headers, widths)) + "  ok"]
    if report.get("keras"):  # the task metrics of the Keras model, which the formats' limits derive from
        lines.append(f"{'keras':<18}{'(reference)':<24}{'':>10}{'':>9}" + "".join(
            f"{'-' if report['keras'].get(name) is None else format(report['keras'][name], '.4g'):>{width}}"
            if name in report["keras"] else f"{'':>{width}}" for name, width in zip(checked, widths)))
    for name, r in rows.items():
        cells = []
        for limit_name, width in zip(checked, widths):
            value, limit = r.get(column(limit_name)), r["limits"].get(limit_name)
            shown = "-" if value is None else f"{value:.4g}"
            cells.append(f"{shown + ('' if limit is None else f' ({limit:.4g})'):>{width}}")
        lines.append(f"{name:<18}{r['file']:<24}{r['bytes'] / 1e6:>8.2f}MB{r['ms_per_sample']:>9.2f}" + "".join(cells)
                     + f"  {'yes' if r['passed'] else 'NO'}")
    return "\n".join(lines)
