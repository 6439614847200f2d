#!/usr/bin/env bash
# Grade a submission exactly as Gradescope does:
#   ./run_grader.sh [SUBMISSION] [--results PATH]
# SUBMISSION is a folder or a .zip (default: submission_template). Exit 0 when
# grading completed, whatever the score; non-zero only if the grader itself failed.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure-env.sh
exec "$PYTHON" -m grader "$@"
