#!/usr/bin/env bash
# The main job on embedded data: every app trained briefly, shown at work and exported; a summary table and
# a report page. DEMO_APPS=segmentation,face picks some apps.
set -euo pipefail
BIN=${1:-.venv/bin}
RUNS=${2:-runs}
"$BIN/keras-suite" list
"$BIN/keras-suite" demo --runs "$RUNS/demo" ${DEMO_APPS:+--apps "$DEMO_APPS"}
