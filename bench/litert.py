"""What each exported file is worth on a phone, one table per export: format | size | the app's own metric
(Keras first) | ms per call with 1 and 2 threads | GPU delegate | full int8, from the export's parity.json and
compat.json (the export measured all of it).

Run: python bench/litert.py saved_models/<app>/<name> [...]   (Markdown on stdout, for bench/RESULTS.md)
"""

import argparse
import json
from pathlib import Path


def _verdict(target):
    if target["supported"] == "yes":
        return "yes"
    blocker = target.get("first_blocker", {})
    first = blocker.get("op", "?") + (f" ({blocker['reason']})" if blocker.get("reason") else "")
    if target["supported"] == "partial":
        return f"partial {target['main_graph_ops_taken']}/{target['main_graph_ops']}; first {first}"
    return f"no; first {first}"


def table(folder):
    folder = Path(folder)
    parity = json.loads((folder / "parity.json").read_text())
    compat = json.loads((folder / "compat.json").read_text()) if (folder / "compat.json").is_file() else {}
    metrics = list(parity.get("keras") or {})
    head = ["format", "file", "size", *metrics, "ms 1 thread", "ms 2 threads", "GPU delegate", "full int8"]
    lines = [f"`{folder}` ({parity.get('task_samples', parity['samples'])} held-out samples)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    if metrics:
        keras = parity["keras"]
        lines.append("| keras | `model.keras` | " + f"{parity['keras_model_bytes'] / 1e6:.2f} MB | "
                     + " | ".join(f"{keras[m]:.4f}" for m in metrics) + " | | | | |")
    for name, row in parity["formats"].items():
        targets = compat.get(row["file"], {}).get("targets")
        cells = [name, f"`{row['file']}`", f"{row['bytes'] / 1e6:.2f} MB",
                 *(f"{row[m]:.4f}" if row.get(m) is not None else "-" for m in metrics),
                 *(f"{row[k]:.3g}" if k in row else "-" for k in ("ms_1_thread", "ms_2_threads")),
                 _verdict(targets["gpu"]) if targets else "-", _verdict(targets["full_int8"]) if targets else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("exports", nargs="+", help="export folders (saved_models/<app>/<name>)")
    for folder in parser.parse_args().exports:
        print(table(folder), end="\n\n")


if __name__ == "__main__":
    main()
