#!/usr/bin/env bash
# Installs what gatec needs to build and test, and nothing that is already
# there: Debian packages (apt-get, with sudo when not root) and a Python
# virtual environment (.venv) from requirements.txt. Silent when all is there.
#   scripts/install-deps.sh [--bench]    (--bench: also the benchmark peers)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(cmake ninja-build ccache clang-22 llvm-22-dev llvm-22-tools libmlir-22-dev
      mlir-22-tools libomp-22-dev libonnx-dev libprotobuf-dev protobuf-compiler
      python3-venv)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
fi
if [ ! -x .venv/bin/python ]; then
  echo "install-deps: creating .venv"
  "$PY" -m venv --system-site-packages .venv
fi
for req in requirements.txt; do
  if ! .venv/bin/python - "$req" <<'PYEOF' 2>/dev/null
import sys, re
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name = re.split(r"[<>=!~ ]", line)[0]
    try:
        version(name)
    except PackageNotFoundError:
        sys.exit(1)
PYEOF
  then
    echo "install-deps: installing Python packages from $req"
    .venv/bin/pip install -q -r "$req"
  fi
done

# The benchmarks' peers (PyPI's PyTorch 2, several GB with its CUDA wheels) live
# in a venv of their own that only `make bench` creates; `make test` never
# needs it.
if [ "${1:-}" = "--bench" ]; then
  if [ ! -x .venv-bench/bin/python ]; then
    echo "install-deps: creating .venv-bench (benchmark peers: PyTorch, ONNX Runtime)"
    "$PY" -m venv .venv-bench
  fi
  if ! .venv-bench/bin/python -c "import torch, onnxruntime, onnx, numpy" 2>/dev/null; then
    echo "install-deps: installing the benchmark peers into .venv-bench"
    .venv-bench/bin/pip install -q -r requirements.txt -r bench/requirements.txt
  fi
fi
