#!/usr/bin/env bash
# Run the large (GPU) settings of chapters 7-9 on a machine with an NVIDIA GPU, time them, and
# measure Keras's cuDNN LSTM against the generic one. Writes the results as JSON, with the GPU's
# name, for the book to glue (rnnbook.bench.gpu_results(); see CONTRIBUTING.md).
#
#   scripts/gpu_check.sh [--install] [--limit SECONDS] [--out FILE] [NOTEBOOK ...]
#   scripts/gpu_check.sh --dry-run [...]      the same logic on a CPU, in seconds (see below)
#
#   NOTEBOOK      default: book/07_lstm.ipynb book/08_gru.ipynb book/09_irnn.ipynb
#   --limit S     wall-clock limit per notebook (default 1800 s); one over it is stopped,
#                 marked "timeout", and the next one runs
#   --out FILE    default rnnbook/data/gpu_results.json (a dry run: _build/gpu_check/...)
#   --install     first install requirements.txt with TensorFlow's GPU build
#                 (tensorflow[and-cuda] at the pinned version) instead of tensorflow-cpu;
#                 without it the script installs nothing
#   --dry-run     no GPU needed or used (CUDA_VISIBLE_DEVICES=): the notebooks run their large
#                 path in smoke mode (RNNBOOK_SMOKE=1) with local download stand-ins, and the
#                 LSTM timing uses tiny shapes. It tests this script, not the GPU.
#
# The notebooks are executed with nbclient into _build/gpu_check/ (the stored CPU outputs in
# book/ are not touched). Exit status: 0 all ran, 1 a notebook failed or timed out, 2 no GPU or
# a set-up problem.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[gpu_check] %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

DRY_RUN=0 INSTALL=0 LIMIT=1800 OUT="" NOTEBOOKS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --install) INSTALL=1 ;;
    --limit) LIMIT=${2:?--limit needs seconds}; shift ;;
    --out) OUT=${2:?--out needs a file}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) NOTEBOOKS+=("$1") ;;
  esac
  shift
done
[[ "$LIMIT" =~ ^[0-9]+$ ]] || die "--limit wants whole seconds, got $LIMIT"
[ ${#NOTEBOOKS[@]} -gt 0 ] || NOTEBOOKS=(book/07_lstm.ipynb book/08_gru.ipynb book/09_irnn.ipynb)
for nb in "${NOTEBOOKS[@]}"; do [ -f "$nb" ] || die "no notebook $nb"; done
PYTHON=${PYTHON:-$(command -v python3 || command -v python || true)}
[ -n "$PYTHON" ] || die "no Python found"
WORK=_build/gpu_check
mkdir -p "$WORK"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0

if [ "$INSTALL" = 1 ]; then
  tf=$(sed -n 's/^tensorflow-cpu==\([0-9.]*\).*/\1/p' requirements.txt)
  [ -n "$tf" ] || die "requirements.txt pins no tensorflow-cpu version"
  say "installing requirements.txt with tensorflow[and-cuda]==$tf (GPU build)"
  grep -v '^tensorflow-cpu' requirements.txt > "$WORK/requirements-gpu.txt"
  echo "tensorflow[and-cuda]==$tf" >> "$WORK/requirements-gpu.txt"
  "$PYTHON" -m pip uninstall -y -q tensorflow-cpu >/dev/null 2>&1 || true
  "$PYTHON" -m pip install -q -r "$WORK/requirements-gpu.txt"
fi

GPU_NAME="" GPU_DRIVER="" GPU_MEMORY=""
if [ "$DRY_RUN" = 1 ]; then
  say "dry run: no GPU used; large path in smoke mode with local stand-ins for the downloads"
  export CUDA_VISIBLE_DEVICES="" RNNBOOK_SMOKE=1
  export RNNBOOK_DOWNLOADS KERAS_HOME="$WORK/keras"
  RNNBOOK_DOWNLOADS=$("$PYTHON" -c 'import sys; from rnnbook.data import write_stand_ins
print(write_stand_ins(sys.argv[1]))' "$WORK/stand-ins")
  LSTM_ARGS="batch=4, steps=8, features=3, units=8, repeats=2"
  OUT=${OUT:-$WORK/gpu_results.json}
  GPU_NAME="none (dry run on a CPU)"
else
  command -v nvidia-smi >/dev/null 2>&1 ||
    die "nvidia-smi not found: this needs a machine with an NVIDIA GPU and its driver" \
        "(or --dry-run to test the script on a CPU)"
  IFS=',' read -r GPU_NAME GPU_DRIVER GPU_MEMORY < <(nvidia-smi \
      --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -n 1) ||
    die "nvidia-smi failed: is the driver loaded?"
  GPU_NAME=$(echo "$GPU_NAME" | xargs) GPU_DRIVER=$(echo "$GPU_DRIVER" | xargs)
  GPU_MEMORY=$(echo "$GPU_MEMORY" | xargs)
  say "GPU: $GPU_NAME (driver $GPU_DRIVER, $GPU_MEMORY)"
  seen=$(timeout 300 "$PYTHON" -c 'import tensorflow as tf
print(len(tf.config.list_physical_devices("GPU")))' 2>/dev/null | tail -n 1) || seen=0
  [ "${seen:-0}" -gt 0 ] 2>/dev/null ||
    die "TensorFlow sees no GPU (tensorflow-cpu installed?): run again with --install," \
        "or pip install 'tensorflow[and-cuda]' at the version requirements.txt pins"
  LSTM_ARGS=""
  OUT=${OUT:-rnnbook/data/gpu_results.json}
fi

status=0
: > "$WORK/notebooks.jsonl"
for nb in "${NOTEBOOKS[@]}"; do
  name=$(basename "$nb" .ipynb)
  say "running $nb (limit ${LIMIT} s)"
  set +e
  timeout --kill-after=30 "$LIMIT" "$PYTHON" -c 'import json, sys
from rnnbook.bench import execute_timed
print(json.dumps(execute_timed(sys.argv[1], sys.argv[2], timeout=int(sys.argv[3]))))' \
    "$nb" "$WORK/$name.ipynb" "$LIMIT" > "$WORK/$name.json" 2> "$WORK/$name.log"
  rc=$?
  set -e
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    printf '{"notebook": "%s", "seconds": %s, "status": "timeout (over %s s)"}\n' \
      "$nb" "$LIMIT" "$LIMIT" >> "$WORK/notebooks.jsonl"
    status=1
  elif [ $rc -ne 0 ] || ! tail -n 1 "$WORK/$name.json" | grep -q '^{'; then
    printf '{"notebook": "%s", "seconds": null, "status": "FAILED to run (exit %s): see %s"}\n' \
      "$nb" "$rc" "$WORK/$name.log" >> "$WORK/notebooks.jsonl"
    status=1
  else
    tail -n 1 "$WORK/$name.json" >> "$WORK/notebooks.jsonl"
    grep -q '"status": "ok"' "$WORK/$name.json" || status=1
  fi
done

say "timing Keras's LSTM: cuDNN kernel against the generic one"
set +e
timeout --kill-after=30 600 "$PYTHON" -c "import json
from rnnbook.bench import lstm_kernel_speed
print(json.dumps(lstm_kernel_speed($LSTM_ARGS)))" > "$WORK/lstm.json" 2> "$WORK/lstm.log"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo '{"status": "FAILED: see '"$WORK/lstm.log"'"}' > "$WORK/lstm.json"
  status=1
fi

"$PYTHON" - "$OUT" "$DRY_RUN" "$LIMIT" "$GPU_NAME" "$GPU_DRIVER" "$GPU_MEMORY" "$WORK" <<'EOF'
import datetime, json, platform, sys
from pathlib import Path

out, dry_run, limit, name, driver, memory, work = sys.argv[1:8]
notebooks = [json.loads(line) for line in Path(work, "notebooks.jsonl").read_text().splitlines()]
lstm = json.loads(Path(work, "lstm.json").read_text().strip().splitlines()[-1])
tf_version = lstm.pop("tensorflow", None)
speeds = {f"{Path(n['notebook']).stem}:{k}": v
          for n in notebooks for k, v in (n.get("speeds") or {}).items()}
results = {
    "gpu": {"name": name, "driver": driver or None, "memory": memory or None},
    "dry_run": dry_run == "1",
    "date": datetime.date.today().isoformat(),
    "tensorflow": tf_version, "python": platform.python_version(),
    "limit_per_notebook_s": int(limit),
    "notebooks": notebooks, "speeds": speeds, "lstm": lstm,
}
Path(out).parent.mkdir(parents=True, exist_ok=True)
Path(out).write_text(json.dumps(results, indent=1) + "\n")

print(f"GPU: {name}" + (f" (driver {driver}, {memory})" if driver else ""))
print(f"{'notebook':28s} {'seconds':>8s}  status")
for n in notebooks:
    seconds = "-" if n.get("seconds") is None else f"{n['seconds']:.1f}"
    print(f"{n['notebook']:28s} {seconds:>8s}  {n['status']}")
    if n.get("settings"):
        print(f"{'':28s} {'':>8s}  {n['settings']}")
for key, value in sorted(speeds.items()):
    print(f"glued {key}: {value}")
if "generic_vs_cudnn_train_step" in lstm:
    kernel = "cuDNN" if lstm["cudnn"] else "no GPU: generic kernel both times"
    print(f"LSTM {lstm['shape']}: generic / cuDNN = {lstm['generic_vs_cudnn_forward']}x "
          f"forward, {lstm['generic_vs_cudnn_train_step']}x training step ({kernel})")
else:
    print(f"LSTM timing: {lstm.get('status')}")
print(f"results written to {out}")
EOF
exit $status
