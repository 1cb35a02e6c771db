#!/usr/bin/env bash
# Fits the bundled models on a GPU machine that has PyTorch but neither node nor ../shared/data,
# then the rest of each recipe (export, checks, evaluation, card) runs here with --from-fit.
#
#   guards/training/gpu_fit.sh pack            # here: ../shared/data -> .devdata/shared-data.tar.xz (git-ignored, ~9 MB)
#   guards/training/gpu_fit.sh fit OUT [ARGS]  # there: unpack, fit every job at once, each job's fit to OUT/NAME.tar
#   guards/training/gpu_fit.sh finish DIR      # here (PYTHON=the venv's python): each DIR/NAME.tar -> a model folder
#
# Jobs: JOBS="NAME=MODEL ..." (MODEL pg or cg; default "pg=pg cg=cg"), each with ARGS_NAME (split
# on spaces) after the common ARGS, e.g. JOBS="s1=pg s2=pg" ARGS_s1="--train-seed 1" ARGS_s2="--train-seed 2"
# for two seeds of Prompt Guard. At most 4 jobs: the device returns 8 files of at most 16 MiB,
# 64 MiB in all, and a job's tar (fit.pt, spm.model, its log and arguments) is about 14 MiB.
# `finish` runs each job's script with the arguments its fit ran with, into MODELS_DIR/NAME
# (without MODELS_DIR: the shipped folders, for jobs named pg and cg only). Through the session's
# device tool: command `guards/training/gpu_fit.sh fit $OUT`, carry [".devdata"]. DEVICE=cpu runs
# `fit` without a GPU (how the script itself is tested).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cmd="${1:-}"
shift || true

script_of() {
  case "$1" in
    pg) echo train_prompt_guard.py ;;
    cg) echo train_content_guard.py ;;
    *) echo "unknown model '$1' (pg or cg)" >&2; return 2 ;;
  esac
}

case "$cmd" in
  pack)
    data="$(cd "${DATA:-$repo/../shared/data}" && pwd)"
    mkdir -p "$repo/.devdata"
    # Stored as data/ whatever the folder is called, where `fit` looks for it.
    tar -C "$data" --transform 's,^\.,data,' -cf - . | xz -T0 -6 > "$repo/.devdata/shared-data.tar.xz"
    ls -l "$repo/.devdata/shared-data.tar.xz"
    ;;
  fit)
    out="${1:?usage: gpu_fit.sh fit OUT [ARGS]}"
    shift
    export PYTHONUNBUFFERED=1
    jobs="${JOBS:-pg=pg cg=cg}"
    count=$(wc -w <<< "$jobs")
    [ "$count" -le 4 ] || { echo "at most 4 jobs (the device returns at most 64 MiB)"; exit 2; }
    # Before unpacking anything: what the scripts import up to the fit (the tokenizer needs sentencepiece's protobuf module).
    python3 -c "import numpy, torch, sentencepiece; from sentencepiece import sentencepiece_model_pb2" || { echo "missing Python packages (carry them as wheels: the device README)"; exit 3; }
    python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available() and torch.cuda.get_device_name(0))"
    tmp="$(mktemp -d)"
    tar -C "$tmp" -xJf "$repo/.devdata/shared-data.tar.xz"
    # Every job at once: the GPU is far from full with one, and each script's data work is CPU-bound.
    threads=$(( $(nproc) / count )); [ "$threads" -ge 1 ] || threads=1
    mkdir -p "$out"
    pids=()
    for job in $jobs; do
      name="${job%%=*}"; model="${job#*=}"
      script="$(script_of "$model")"
      extra_var="ARGS_$name"; extra="${!extra_var:-}"
      mkdir -p "$tmp/$name"
      printf '%s\n%s\n' "$model" "$extra $*" > "$tmp/$name/job.txt"
      # shellcheck disable=SC2086 # ARGS_NAME is split on spaces on purpose
      python3 "$here/$script" --data "$tmp/data" --device "${DEVICE:-cuda}" --threads "$threads" --stop-after-fit \
        --work "$tmp/$name" $extra "$@" > "$tmp/$name/fit.log" 2>&1 &
      pids+=("$!")
    done
    status=0
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    for job in $jobs; do
      name="${job%%=*}"
      tail -n 3 "$tmp/$name/fit.log"
      if [ -f "$tmp/$name/fit.pt" ]; then
        tar -C "$tmp/$name" -cf "$out/$name.tar" fit.pt spm.model fit.log job.txt
      else
        echo "$name: no fit"; cp "$tmp/$name/fit.log" "$out/$name.log"; status=1
      fi
    done
    ls -l "$out"
    exit "$status"
    ;;
  finish)
    dir="${1:?usage: gpu_fit.sh finish DIR}"
    data="${DATA:-$repo/../shared/data}"
    cd "$repo"
    status=0
    for archive in "$dir"/*.tar; do
      name="$(basename "$archive" .tar)"
      work="$(mktemp -d)"
      tar -C "$work" -xf "$archive"
      model="$(sed -n 1p "$work/job.txt")"; args="$(sed -n 2p "$work/job.txt")"
      if [ -n "${MODELS_DIR:-}" ]; then target="$MODELS_DIR/$name"
      elif [ "$name" = pg ] || [ "$name" = cg ]; then target="$repo/guards/models/$([ "$model" = pg ] && echo prompt || echo content)-guard-small"
      else echo "$name: set MODELS_DIR (only jobs named pg and cg go to the shipped folders)"; status=1; continue; fi
      echo "== $name ($model $args) -> $target"
      # shellcheck disable=SC2086 # the fit's own arguments, as it recorded them
      "${PYTHON:-python3}" "$here/$(script_of "$model")" --from-fit "$work" --data "$data" --work "$work/finish" --out "$target" $args || status=1
    done
    exit "$status"
    ;;
  *)
    sed -n '2,17p' "$0"
    exit 2
    ;;
esac
