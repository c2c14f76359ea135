#!/usr/bin/env bash
# The main job on embedded data: train the segmentation app, evaluate, export, predict on an image.
set -euo pipefail
BIN=${1:-.venv/bin}
RUNS=${2:-runs}
KS="$BIN/keras-suite"

"$KS" list
# DEMO_ARGS adds config overrides, e.g. DEMO_ARGS="train.epochs=15" for the full default run (~13 min).
# shellcheck disable=SC2086
"$KS" segmentation train train.runs_dir="$RUNS" train.epochs=4 ${DEMO_ARGS:-}
RUN=$(ls -d "$RUNS"/segmentation/*/ | sort | tail -n 1)
RUN=${RUN%/}
"$KS" segmentation evaluate run="$RUN"
"$KS" segmentation export run="$RUN" formats=saved_model,tflite,tflite_fp16,tflite_int8 overwrite=true
"$BIN/python" - "$RUN/sample.png" <<'PY'
import sys
from keras_suite.data.scenes import make_scenes
from keras_suite.visuals.images import write_png
images, _ = make_scenes("shapes", 1, 96, seed=2024)
write_png(sys.argv[1], images[0])
PY
"$KS" segmentation predict run="$RUN" image="$RUN/sample.png"
cat <<MSG

Done. Results:
  run directory      $RUN  (config.yaml, metrics.json, eval_test.json, previews/*.png, predictions/)
  exported models    saved_models/segmentation/$(basename "$RUN")/  (SavedModel, TFLite float/fp16/int8, parity.json)
  TensorBoard        $BIN/tensorboard --logdir $RUNS
MSG
