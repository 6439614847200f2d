#!/usr/bin/env bash
# The harness's own tests (what CI runs): ./run_tests.sh [PYTEST ARGS]
set -euo pipefail
cd "$(dirname "$0")"
REQUIRED_EXTRAS=dev  # pytest-xdist, for -n
source scripts/ensure-env.sh
exec "$PYTHON" -m pytest tests -n "${TEST_JOBS:-2}" "$@"
