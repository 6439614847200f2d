#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (the
# only time it has network). It installs everything grading needs, so that
# run_autograder installs and downloads nothing:
#   1. the system python3 (3.10 on Ubuntu 22.04) with venv support; it is not replaced:
#      requirements.txt pins wheels for 3.10 and for newer Pythons;
#   2. a virtual environment with the pinned requirements, torch from the
#      CPU-only wheels (no CUDA libraries: a smaller image, a faster start);
#   3. the dataset the config selects (digits ship with scikit-learn);
#   4. a self-check: the template (the stubs) graded in the new image must score 0
#      with a valid results.json, or the build fails here rather than on every submission.
# Environment:
#   AUTOGRADER_ROOT     the folder laid out like /autograder (default /autograder)
#   GRADER_TORCH_INDEX  the index of torch's CPU-only wheels (default PyTorch's);
#                       empty: none, torch then comes from pip's configured index
set -euxo pipefail

ROOT=${AUTOGRADER_ROOT:-/autograder}
SOURCE=$ROOT/source
VENV=$ROOT/venv
TORCH_INDEX=${GRADER_TORCH_INDEX-https://download.pytorch.org/whl/cpu}
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
started=$SECONDS

if ! python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
  apt-get update
  apt-get install -y --no-install-recommends python3 python3-venv python3-pip
fi
PYTHON=$(command -v python3)

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
if [ -n "$TORCH_INDEX" ]; then
  # torch==X+cpu exists only on the CPU index: asking for it first makes the CPU-only
  # build certain where that index has the pinned version; the requirements then find
  # torch installed (==X accepts X+cpu). Where it has not, PyPI's build is used (checked below).
  cpu_pins=$(sed -En 's/^(torch|torchvision)==([^ ;#]+).*/\1==\2+cpu/p' "$SOURCE/requirements.txt")
  # shellcheck disable=SC2086  # one argument per pin
  "$VENV/bin/python" -m pip install --extra-index-url "$TORCH_INDEX" $cpu_pins \
    || echo "setup.sh: WARNING: $TORCH_INDEX has no $(echo $cpu_pins); installing the pinned versions from PyPI" >&2
  "$VENV/bin/python" -m pip install --extra-index-url "$TORCH_INDEX" -r "$SOURCE/requirements.txt"
else
  "$VENV/bin/python" -m pip install -r "$SOURCE/requirements.txt"
fi

cd "$SOURCE"
"$VENV/bin/python" - <<'PY'
from grader.config import load_config
from grader.data import load_dataset, prefetch

config = load_config()
prefetch(config.dataset, config.data_root)  # a no-op for digits
load_dataset(config.dataset, config.data_root, max_train=1, max_val=1)
print(f"dataset {config.dataset} ready (root {config.data_root})")
PY
"$VENV/bin/python" -c 'import grader.grade, torch, torchvision, sklearn'
if ! "$VENV/bin/python" -c 'import sys, torch; sys.exit(torch.version.cuda is not None)'; then
  set +x
  echo "setup.sh: WARNING: ****************************************************************" >&2
  echo "setup.sh: WARNING: torch is a CUDA build (several GB of libraries the grader never uses)." >&2
  echo "setup.sh: WARNING: Grading works, but the image is larger and slower to start." >&2
  echo "setup.sh: WARNING: ****************************************************************" >&2
  set -x
fi

"$VENV/bin/python" "$SOURCE/self_check.py" "$SOURCE/submission_template"

set +x
echo "=== autograder image ready in $((SECONDS - started)) s ==="
"$VENV/bin/python" -c 'import platform, torch; print("Python", platform.python_version(), "torch", torch.__version__, "CUDA build:", torch.version.cuda or "no")'
cat "$SOURCE/gradescope-settings.txt"
