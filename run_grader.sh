#!/usr/bin/env bash
# Grade a submission exactly as Gradescope does:
#   ./run_grader.sh [SUBMISSION] [--results PATH]
# SUBMISSION is a folder or a .zip (default: submission_template). Exit 0 when
# grading completed, whatever the score; 124 when its time budget ran out and
# 130/143 when interrupted (results.json keeps the tests that finished); 2 when
# the grader itself failed.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure-env.sh
exec "$PYTHON" -m grader "$@"
