"""The demo: every app trained briefly on its embedded data (its `demo.yaml`), shown at work (its examples:
evaluate, predict, translate, generate, verify), exported with parity, then one summary table and a report
page with the pictures and texts each app made (`<runs>/report.html`)."""

import contextlib
import dataclasses
import html
import io
import os
import re
import sys
import time
import traceback
from pathlib import Path

from keras_suite.apps import APPS
from keras_suite.config import load_config
from keras_suite.errors import EnvironmentFailure, UserError
from keras_suite.export import format_report
from keras_suite.files import read_json, write_text
from keras_suite.runs import Run

CONFIG_DIR = Path(__file__).parent / "configs"
_EPOCH_PICTURE = re.compile(r"(.+)_epoch(\d+)\.png$")


@dataclasses.dataclass
class Stop:
    """What one app did in the tour."""

    app: str
    run: Run = None
    headline: object = None
    train_seconds: float = 0.0
    seconds: float = 0.0
    formats: list = dataclasses.field(default_factory=list)
    exported: bool = False
    uses: list = dataclasses.field(default_factory=list)  # (command line, printed text)
    parity: str = ""
    folder: Path = None
    error: str = ""


class _Tee(io.TextIOBase):
    """Text written to the terminal and kept."""

    def __init__(self, stream):
        self.stream, self.kept = stream, io.StringIO()

    def write(self, text):
        self.stream.write(text)
        return self.kept.write(text)

    def flush(self):
        self.stream.flush()


def _command(app, command, config_files=(), dotted=None, plain=None):
    """Run one command of `app` in this process; returns (its result, what it printed)."""
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        result = APPS.get(app).load()().run(command, list(config_files), dict(dotted or {}), dict(plain or {}))
    return result, tee.kept.getvalue()


def visit(app, runs, config="demo"):
    """Train `app` with its shipped `config`, run its examples and export it; a failure is kept, not raised."""
    stop = Stop(app)
    print(f"\n=== {app}: train ({config}.yaml) ===", flush=True)
    started = time.time()
    try:
        stop.run, _ = _command(app, "train", [CONFIG_DIR / app / f"{config}.yaml"], {"train.runs_dir": str(runs)})
        stop.train_seconds = time.time() - started
        instance = APPS.get(app).load()()
        cfg = load_config(instance.config_cls, [stop.run.config])
        stop.folder = stop.run.file("examples")
        stop.folder.mkdir(exist_ok=True)
        for command, args in instance.examples(cfg, stop.run, stop.folder):
            line = " ".join([f"keras-suite {app} {command} run={stop.run}", *(f"{k}={v}" for k, v in args.items())])
            print(f"\n=== {line} ===", flush=True)
            _, printed = _command(app, command, plain={"run": str(stop.run), **args})
            stop.uses.append((line, printed))
        stop.headline = instance.headline(stop.run)
        stop.formats = list(cfg.export.formats)
        print(f"\n=== {app}: export {','.join(stop.formats)} ===", flush=True)
        target, _ = _command(app, "export", dotted={"export.out_dir": str(runs / "exports")},
                             plain={"run": str(stop.run), "overwrite": "true"})
        stop.parity, stop.exported = format_report(read_json(Path(target) / "parity.json")), True
    except (UserError, EnvironmentFailure) as e:
        stop.error = str(e)
    except Exception:  # noqa: BLE001 - one app's bug must not hide the others' results
        stop.error = traceback.format_exc().strip().splitlines()[-1]
    if stop.error:
        print(f"error: {app}: {stop.error}", file=sys.stderr)
    stop.seconds = time.time() - started
    print(f"=== {app}: {stop.seconds:.0f} s in all, training {stop.train_seconds:.0f} s ===", flush=True)
    return stop


def summary(stops):
    """The table: app | metric | value | target | train s | export."""
    rows = [("app", "metric", "value", "target", "train s", "export")]
    for s in stops:
        h = s.headline
        value = "-" if h is None or h.value is None else f"{h.value:.4f}"
        target = "-" if h is None or h.target is None else f"{'>=' if h.higher_is_better else '<='} {h.target:g}"
        if h is not None and h.met is not None:
            target += " (met)" if h.met else " (not yet)"
        export = "failed: " + s.error if s.error else ("ok: " + ",".join(s.formats) if s.exported else "-")
        rows.append((s.app, "-" if h is None else h.metric, value, target, f"{s.train_seconds:.0f}", export))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5] for r in rows)


def pictures(stop):
    """The PNGs a person looks at: each preview's last epoch, evaluation pictures, the examples' outputs."""
    if stop.run is None:
        return []
    latest, others = {}, []
    for path in sorted(stop.run.previews.glob("*.png")):
        match = _EPOCH_PICTURE.match(path.name)
        if match:
            if int(match.group(2)) >= latest.get(match.group(1), (0, None))[0]:
                latest[match.group(1)] = (int(match.group(2)), path)
        else:
            others.append(path)
    outputs = sorted(stop.run.predictions.glob("*.png")) + sorted((stop.folder or stop.run.path).glob("*.png"))
    return [path for _, path in latest.values()] + others + outputs


def report(stops, path):
    """An HTML page (next to the runs it shows) with the summary and, per app, its pictures and texts."""
    base = Path(path).parent

    def rel(p):
        return html.escape(os.path.relpath(p, base))

    parts = ["<!doctype html><meta charset='utf-8'><title>keras-suite demo</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}img{max-width:100%;border:1px solid #ccc;"
             "margin:4px}figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figcaption{font-size:90%;"
             "color:#555}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}</style>",
             "<h1>keras-suite demo</h1><p>Every app trained briefly on its embedded data, shown at work, and exported "
             "(each format checked against Keras).</p>", f"<pre>{html.escape(summary(stops))}</pre>"]
    for s in stops:
        parts.append(f"<h2 id='{s.app}'>{s.app}</h2>")
        if s.run is not None:
            parts.append(f"<p>run <code>{rel(s.run.path)}</code>, trained in {s.train_seconds:.0f} s</p>")
        if s.error:
            parts.append(f"<p><b>failed:</b> {html.escape(s.error)}</p>")
        for picture in pictures(s):
            parts.append(f"<figure><a href='{rel(picture)}'><img src='{rel(picture)}'></a>"
                         f"<figcaption>{html.escape(picture.name)}</figcaption></figure>")
        for line, printed in s.uses:
            parts.append(f"<h3><code>{html.escape(line)}</code></h3><pre>{html.escape(printed.strip()[-4000:])}</pre>")
        if s.parity:
            parts.append(f"<h3>export parity</h3><pre>{html.escape(s.parity)}</pre>")
    return write_text(path, "\n".join(parts) + "\n")


def tour(apps, runs, config="demo"):
    """Visit each app; print the summary; write the report. Returns the stops."""
    runs = Path(runs)
    started = time.time()
    stops = [visit(app, runs, config) for app in apps]
    page = report(stops, runs / "report.html")
    print(f"\n=== demo: {len(stops)} apps in {(time.time() - started) / 60:.1f} min ===\n{summary(stops)}\n\n"
          f"report: {page}\nTensorBoard: tensorboard --logdir {runs}")
    return stops
