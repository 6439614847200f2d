# Sourced by run_grader.sh and run_tests.sh: sets PYTHON to an interpreter that has
# the grader's requirements: the active one if it has them, else ./.venv (created once).
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "The grader needs Python 3.10 or newer (found: $("$python" --version 2>&1))." >&2
  exit 2
fi
if "$python" scripts/has_requirements.py requirements.txt 2>/dev/null; then
  PYTHON=$python
else
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python scripts/has_requirements.py requirements.txt 2>/dev/null; then
    echo "The active Python lacks the grader's requirements: installing them into ./.venv (first run only, a few minutes)..." >&2
    [ -x .venv/bin/python ] || "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt >&2
  fi
  PYTHON=.venv/bin/python
fi
export PYTHON
