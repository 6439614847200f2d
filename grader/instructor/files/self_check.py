"""setup.sh's last step: grade the template (the stubs) in the new image, as a submission is graded.

    python self_check.py SUBMISSION_TEMPLATE

It passes when the grading ends with a valid results.json, a score of 0, every
test failed and every visible test says "not implemented yet" (the stubs raise
NotImplementedError). Anything else (the harness failing, the score-0 fallback,
crashed workers, a grading that does not end) means the image cannot grade: it
prints why and exits 1, which fails setup.sh, so the instructor sees it when
uploading the autograder, not when students submit.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parent
GRADING_LIMIT_SECONDS = 570  # run_autograder's own limit on a grading
STUB_MESSAGE = "not implemented yet"
SHOWN = 5  # test names quoted per problem


def problems(document: dict[str, Any]) -> list[str]:
    """What makes ``document`` something other than the stubs' honest 0."""
    from jsonschema import ValidationError  # the venv's: importable once setup.sh installed it

    from grader.report.results import validate

    try:
        validate(document)
    except ValidationError as error:
        return [f"results.json does not follow Gradescope's format: {error.message}"]
    tests = document["tests"]
    errors = [test["output"] for test in tests if test.get("max_score") == 0 and test.get("visibility") == "hidden"]
    if not tests or errors:  # the harness fell back: its error is in a hidden entry
        return [f"no test ran: {(document.get('output') or '(no output)').splitlines()[0]} {' '.join(errors)[:500]}"]
    found = []
    if document["score"] != 0:
        found.append(f"the stubs scored {document['score']}, not 0")
    passed = [test["name"] for test in tests if test.get("status") == "passed"]
    if passed:
        found.append(f"{len(passed)} tests passed with the stubs: {', '.join(passed[:SHOWN])}")
    silent = [test["name"] for test in tests if test.get("visibility", "visible") == "visible" and STUB_MESSAGE not in test.get("output", "")]
    if silent:
        found.append(f"{len(silent)} visible tests do not say '{STUB_MESSAGE}': {', '.join(silent[:SHOWN])}")
    return found


def grade(template: Path, results: Path) -> tuple[str, float]:
    """Run the grading exactly as run_autograder does; its console output and wall time."""
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "grader", str(template), "--results", str(results), "--quiet"],
                              cwd=SOURCE, capture_output=True, text=True, timeout=GRADING_LIMIT_SECONDS)
        console = f"exit code {done.returncode}\n{done.stdout}{done.stderr}"
    except subprocess.TimeoutExpired as expired:
        console = f"still grading after {GRADING_LIMIT_SECONDS} s\n{expired.stdout or ''}"
    return console, time.monotonic() - started


def main(argv: list[str]) -> int:
    template = Path(argv[0]) if argv else SOURCE / "submission_template"
    with tempfile.TemporaryDirectory(prefix="self-check-") as folder:
        results = Path(folder) / "results.json"
        console, seconds = grade(template, results)
        try:
            document = json.loads(results.read_text())
            found = problems(document)
        except (OSError, ValueError) as error:
            document, found = {}, [f"no readable results.json ({error})"]
    if found:
        print("self-check: FAILED: this image cannot grade submissions (grading the template, the stubs):", file=sys.stderr)
        print("\n".join(f"  - {problem}" for problem in found), file=sys.stderr)
        print(f"The grader's console ({console.count(chr(10))} lines; the last 3000 characters):\n{console[-3000:]}", file=sys.stderr)
        return 1
    total = sum(test.get("max_score", 0) for test in document["tests"])
    print(f"self-check: OK: the template graded in {seconds:.0f} s: 0/{total:g}, all {len(document['tests'])} tests failed, "
          f"the visible ones with '{STUB_MESSAGE}'")
    print("The grader's summary for this image:\n  " + document.get("output", "").strip().replace("\n", "\n  "))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
