# Sourced by run_grader.sh and run_tests.sh: sets PYTHON to an interpreter that has what they
# need, in pyproject.toml's supported ranges (run_tests.sh adds the extras named in
# REQUIRED_EXTRAS): the active one if it has it, else ./.venv, built once from
# requirements.txt's pins (Gradescope's versions).
#
# GRADER_TORCH_INDEX: the extra package index for torch when .venv is built. Unset: PyTorch's
# CPU-only wheels on Linux without an NVIDIA GPU (about 1 GB on disk instead of 6), none
# elsewhere; empty: no extra index (PyPI's torch); a URL: that index.
python=${PYTHON:-python3}
check=(scripts/has_requirements.py)
for extra in ${REQUIRED_EXTRAS:-}; do check+=(--extra "$extra"); done
VENV_COMPLETE=.venv/.complete  # written last: a .venv without it is a failed install, rebuilt

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "The grader needs Python 3.10 or newer (found: $("$python" --version 2>&1))." >&2
  exit 2
fi

torch_index() {
  if [ -n "${GRADER_TORCH_INDEX+set}" ]; then
    echo "$GRADER_TORCH_INDEX"
  elif [ "$(uname -s)" = Linux ] && ! { command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; }; then
    echo https://download.pytorch.org/whl/cpu
  fi
}

build_venv() {
  local index pip_args=(install --disable-pip-version-check -r requirements.txt)
  index=$(torch_index)
  echo "Installing the grader's pinned requirements (Gradescope's versions) into ./.venv, once:" >&2
  "$python" -c 'from grader.requirements import pins; print("  " + ", ".join(str(pin) for pin in pins() if pin.applies()))' >&2
  if [ -n "$index" ]; then
    pip_args+=(--extra-index-url "$index")
    echo "About 300 MB to download and 1.2 GB on disk: torch's CPU-only wheels from $index (GRADER_TORCH_INDEX changes the index; empty: PyPI's torch)." >&2
  else
    echo "Up to 3 GB to download and 6 GB on disk: torch from PyPI, with its CUDA libraries on Linux (GRADER_TORCH_INDEX=URL picks another index)." >&2
  fi
  rm -rf .venv
  "$python" -m venv .venv
  if ! .venv/bin/python -m pip "${pip_args[@]}" >&2; then
    echo "Installing into ./.venv failed (pip's message is above). The next run starts it again." >&2
    exit 1
  fi
  touch "$VENV_COMPLETE"
}

if problems=$("$python" "${check[@]}" 2>&1); then
  PYTHON=$python
else
  echo "The active Python ($(command -v "$python")) cannot grade:" >&2
  echo "$problems" | sed 's/^/  /' >&2
  if [ -f "$VENV_COMPLETE" ] && .venv/bin/python "${check[@]}" >/dev/null 2>&1; then
    echo "Using ./.venv instead (built by an earlier run)." >&2
  else
    build_venv
  fi
  PYTHON=.venv/bin/python
fi
export PYTHON
