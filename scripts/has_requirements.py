"""Exit 0 when this Python has what grading needs, in the supported ranges; else name each problem and exit 1.

    python scripts/has_requirements.py [--extra NAME]...

The ranges are pyproject.toml's [project] dependencies (plus the named optional extras,
e.g. ``dev`` for the harness's tests). Any version in range will do, so a student's own
environment is used as it is; only a missing or out-of-range package sends
run_grader.sh to build .venv. Needs nothing but the standard library.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from grader.requirements import declared, problems  # noqa: E402  (after the path is set)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--extra", action="append", default=[], help="an optional extra of pyproject.toml to require too")
found = problems(declared(tuple(parser.parse_args().extra)))
for problem in found:
    print(problem, file=sys.stderr)
sys.exit(1 if found else 0)
