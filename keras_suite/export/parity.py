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
    """The largest and mean absolute difference of float outputs and the agreement of the others."""
    row = {"max_abs_diff": 0.0, "mean_abs_diff": 0.0, "agreement": 1.0}
    for key, ref in reference.items():
        out = np.asarray(outputs[key])
        ref = np.asarray(ref)
        if out.shape != ref.shape:
            raise ExportError(f"output '{key}' has shape {out.shape}, Keras gives {ref.shape}")
        if np.issubdtype(ref.dtype, np.floating):
            diff = np.abs(out.astype(np.float64) - ref)
            row["max_abs_diff"] = max(row["max_abs_diff"], float(diff.max()))
            row["mean_abs_diff"] = max(row["mean_abs_diff"], float(diff.mean()))
        else:
            row["agreement"] = min(row["agreement"], float(np.mean(out == ref)))
    return row


def judge(row, limits):
    """Whether a format's row is within `limits`: the largest `max_abs_diff`, the least `min_agreement`, and the
    least value of each app score (None: no limit)."""
    def within(name, limit):
        if limit is None:
            return True
        if name == "max_abs_diff":
            return row[name] <= limit
        return row["agreement" if name == "min_agreement" else name] >= limit

    return all(within(name, limit) for name, limit in limits.items())


def format_report(report):
    """One line per format; app-specific scores (Serving.scores) are columns after the standard ones."""
    rows = report["formats"].values()
    extra = [k for k in next(iter(rows), {}).get("limits", {}) if k not in ("max_abs_diff", "min_agreement")]
    lines = [f"{'format':<13}{'file':<20}{'size':>10}{'max|diff|':>11}{'agree':>8}{'ms/call':>9}"
             + "".join(f"{k:>12}" for k in extra) + "  ok"]
    for name, r in report["formats"].items():
        lines.append(f"{name:<13}{r['file']:<20}{r['bytes'] / 1e6:>8.2f}MB{r['max_abs_diff']:>11.2e}"
                     f"{r['agreement']:>8.4f}{r['ms_per_sample']:>9.2f}" + "".join(f"{r[k]:>12.6f}" for k in extra)
                     + f"  {'yes' if r['passed'] else 'NO'}")
    return "\n".join(lines)
