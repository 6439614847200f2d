#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (the
# only time it has network). It installs everything grading needs, so that
# run_autograder installs and downloads nothing:
#   1. the system python3 (3.10 on Ubuntu 22.04) with venv support; it is not replaced:
#      requirements.txt pins wheels for 3.10 and for newer Pythons;
#   2. a virtual environment with the pinned requirements, torch from the
#      CPU-only wheels (no CUDA libraries: a smaller image, a faster start);
#   3. the dataset the config selects (digits ship with scikit-learn).
# AUTOGRADER_ROOT (default /autograder) moves everything, for trying it elsewhere.
set -euxo pipefail

ROOT=${AUTOGRADER_ROOT:-/autograder}
SOURCE=$ROOT/source
VENV=$ROOT/venv
TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1

if ! python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
  apt-get update
  apt-get install -y --no-install-recommends python3 python3-venv python3-pip
fi
PYTHON=$(command -v python3)

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
# With the CPU index as an extra index, `torch==X` resolves to `X+cpu` where that
# index has it (local versions rank higher) and to PyPI's wheel where it does not.
"$VENV/bin/python" -m pip install --extra-index-url "$TORCH_CPU_INDEX" -r "$SOURCE/requirements.txt"

cd "$SOURCE"
"$VENV/bin/python" - <<'PY'
from grader.config import load_config
from grader.data import load_dataset, prefetch

config = load_config()
prefetch(config.dataset, config.data_root)  # a no-op for digits
load_dataset(config.dataset, config.data_root, max_train=1, max_val=1)
print(f"dataset {config.dataset} ready (root {config.data_root})")
PY
"$VENV/bin/python" -c 'import grader.grade, torch, torchvision, sklearn; print("torch", torch.__version__)'
