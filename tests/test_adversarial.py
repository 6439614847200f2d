"""Hostile submissions: grading completes, the score cannot be forged, nothing leaks.

Each attack is the reference with one or two graded files changed. Its test
grades it as students are graded (``python -m grader``, as root in CI, so the
worker is confined) and asserts that grading completed, that results.json is
valid and small, that the score is exactly the reference's minus the tests of
the components the attack breaks (tests tagged with several components, such
as the end-to-end ones, go too), and that nothing the attack tried to reach was
reached. An attack that tries to read or write something it must not reach is
written so that its component works only if it succeeded: a successful attack
would show up as points the test does not expect.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from grader.report.results import SCHEMA
from grader.worker.runtime import assignment

from conftest import REFERENCE, ROOT, Graded, overlay, run_grader

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the confined worker needs root (CI and Gradescope run as root)")

PART1_CLASSES = {component.name: component.object for component in assignment.in_part(1)}
FILES = {Path(file).stem: file for file in assignment.graded_files()}  # conv, ..., sgd, models, train
JUDGE_TOKEN = "judge-secret-" + uuid.uuid4().hex  # in the judge's environment only
MAX_RESULTS_BYTES = 1_000_000


# --- building attacks --------------------------------------------------------------------

def reference_source(file: str) -> str:
    return (REFERENCE / FILES[file]).read_text()


def gate(cls: str, attack: str) -> str:
    """Code appended to a module: run ``attack`` at import; if it raises (the attack failed), every ``cls(...)`` raises."""
    body = textwrap.indent(textwrap.dedent(attack).strip(), "    ")
    return f'''

def _attack():
{body}


try:
    _attack()
except BaseException as _error:
    _REASON = "the attack failed: " + repr(_error)

    def _refuse(self, *args, **kwargs):
        raise RuntimeError(_REASON)

    {cls}.__init__ = _refuse
'''


def before(name: str, attack: str, method: str | None = None) -> str:
    """Code appended to a module: every call of function ``name`` (or of ``name.method``) runs ``attack`` first."""
    body = textwrap.indent(textwrap.dedent(attack).strip(), "    ")
    target = f"{name}.{method}" if method else name
    return f'''

_original = {target}


def _attacked(*args, **kwargs):
{body}
    return _original(*args, **kwargs)


{target if method else name} = _attacked
'''


def gated_file(component: str, attack: str) -> dict[str, str]:
    file = component if component in FILES else "conv"
    return {FILES[file]: reference_source(file) + gate(PART1_CLASSES[component], attack)}


def appended(file: str, code: str) -> dict[str, str]:
    return {FILES[file]: reference_source(file) + textwrap.dedent(code)}


@dataclass
class Places:
    """Where an attack aims, filled into its source: @ROOT@, @RESULTS@, @SIDE@ (a folder the worker may write), @TOKEN@."""

    root: Path
    results: Path
    side: Path
    root_only: Path  # a folder only root can reach

    def fill(self, text: str) -> str:
        return (text.replace("@ROOT@", str(self.root)).replace("@RESULTS@", str(self.results))
                .replace("@SIDE@", str(self.side)).replace("@TOKEN@", JUDGE_TOKEN).replace("@EDIT@", EDIT_MARK))


@dataclass
class Attack:
    """One hostile submission: the files it changes, the components it must cost, and what else to check."""

    name: str
    files: Callable[[], dict[str, str]]
    costs: frozenset[str] = frozenset()  # components whose tests must all fail
    spared: tuple[str, ...] = ()  # tests of those components whose property the attack leaves intact (name prefixes)
    writable_results_dir: bool = False  # give the attack its best chance: a results folder anyone may write
    config: Callable[[str], str] | None = None  # derives the grading policy (shorter time limits for endless loops)
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[Places], None] | None = None  # runs before grading
    check: Callable[[Graded, Places], None] | None = None  # runs after the common checks
    expect_returncode: int = 0

    def __repr__(self) -> str:
        return self.name


def shorter_limits(*suites: str, seconds: int = 3) -> Callable[[str], str]:
    """A copy of the config in which the tests of ``suites`` get ``seconds`` of wall time."""
    def derive(text: str) -> str:
        names = "|".join(map(re.escape, suites))
        pattern = re.compile(rf'^("(?:{names})::[^"]+" = \{{ points = [0-9.]+)(?:, timeout = [0-9.]+)?', re.M)
        return pattern.sub(rf"\1, timeout = {seconds}", text)
    return derive


# --- checks of side effects ------------------------------------------------------------------

def output_of(graded: Graded, component: str) -> str:
    return "\n".join(test["output"] for test in graded.failed if component in test["tags"])


def says(component: str, *fragments: str) -> Callable[[Graded, Places], None]:
    def check(graded: Graded, places: Places) -> None:
        text = output_of(graded, component)
        for fragment in fragments:
            assert fragment in text, f"{component}: {fragment!r} not in:\n{text[:3000]}"
    return check


def no_forgery(graded: Graded, places: Places) -> None:
    assert "forged" not in places.results.read_text()
    assert not places.results.is_symlink()


def all_of(*checks: Callable[[Graded, Places], None]) -> Callable[[Graded, Places], None]:
    def check(graded: Graded, places: Places) -> None:
        for each in checks:
            each(graded, places)
    return check


FORGED = json.dumps({"score": 100, "tests": [{"name": "forged", "score": 100, "max_score": 100}]})


def results_symlink(places: Places) -> None:
    victim = places.root_only / "victim.json"
    victim.write_text("victim")
    places.results.symlink_to(victim)


def results_read_only(places: Places) -> None:
    places.results.write_text(FORGED)
    places.results.chmod(0o444)


def victim_untouched(graded: Graded, places: Places) -> None:
    assert (places.root_only / "victim.json").read_text() == "victim"
    no_forgery(graded, places)


def daemon_is_dead(graded: Graded, places: Places) -> None:
    beat = places.side / "heartbeat"
    assert beat.exists(), "the daemon never ran"
    before = beat.stat().st_mtime_ns
    time.sleep(1.5)
    assert beat.stat().st_mtime_ns == before, "a process started by the submission is still running after grading"
    no_forgery(graded, places)


EDIT_MARK = "edited-by-an-adversarial-submission"


def grader_files_unchanged(graded: Graded, places: Places) -> None:
    import numpy
    for path in (ROOT / "grader/judge/compare.py", ROOT / "grader/config.toml", ROOT / "reference/part1_scratch/relu.py", Path(numpy.__file__)):
        assert EDIT_MARK not in path.read_text(), path


def big_file_removed(graded: Graded, places: Places) -> None:
    assert not list(Path("/tmp").glob("adversarial-big-*")), "the worker's file in /tmp outlived the grading"
    says("relu", "File too large")(graded, places)


def clean_output(graded: Graded, places: Places) -> None:
    text = json.dumps(graded.results, ensure_ascii=False)
    assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text
    assert "\ufffd" in text  # the invalid bytes, shown as replacement characters
    assert "end-of-call" not in "".join(test["output"] for test in graded.results["tests"])


def truncated_output(graded: Graded, places: Places) -> None:
    printed = [test["output"] for test in graded.results["tests"] if "--- your code printed ---" in test["output"]]
    assert printed and all(len(text) <= 8100 and "[... " in text for text in printed)


# --- the attacks -------------------------------------------------------------------------

ATTACKS = [
    # The results file.
    Attack("fake_results_written_at_import", lambda: gated_file("conv", """
        with open("@RESULTS@", "w") as handle:
            handle.write('FORGED')
        """.replace("FORGED", FORGED)), frozenset({"conv"}), check=no_forgery),
    Attack("results_path_is_a_symlink", lambda: {}, prepare=results_symlink, check=victim_untouched),
    Attack("results_path_is_a_read_only_file", lambda: {}, prepare=results_read_only, check=no_forgery),
    Attack("results_replaced_by_a_symlink_in_a_writable_folder", lambda: gated_file("conv", """
        import os
        os.symlink("@RESULTS@.victim", "@RESULTS@.link")
        os.replace("@RESULTS@.link", "@RESULTS@")
        with open("@RESULTS@.forged", "w") as handle:
            handle.write('FORGED')
        os.replace("@RESULTS@.forged", "@RESULTS@")
        raise RuntimeError("the results file could be replaced, but the judge writes last")
        """.replace("FORGED", FORGED)), frozenset({"conv"}), writable_results_dir=True, check=no_forgery),
    Attack("daemon_rewrites_results_after_grading", lambda: appended("train", """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                for _ in range(600):
                    try:
                        with open("@SIDE@/heartbeat", "w") as beat:
                            beat.write(str(time.time()))
                        with open("@RESULTS@.tmp", "w") as handle:
                            handle.write('FORGED')
                        os.replace("@RESULTS@.tmp", "@RESULTS@")
                    except OSError:
                        pass
                    time.sleep(0.1)
            os._exit(0)
        time.sleep(0.5)
        """.replace("FORGED", FORGED)), writable_results_dir=True, check=daemon_is_dead,
        env={"GRADER_NO_LANDLOCK": "1"}),  # Landlock refuses every write outside the worker's home: this tests the kill after grading
    # Leaving the call early, or never coming back.
    Attack("sys_exit_at_import", lambda: appended("conv", "import sys\nsys.exit(0)\n"), frozenset({"conv"}), check=says("conv", "SystemExit")),
    Attack("os_exit_in_forward", lambda: appended("maxpool", before("MaxPool2D", "import os\nos._exit(0)", "forward")),
           frozenset({"maxpool"}), check=says("maxpool", "exited with code 0")),
    Attack("atexit_and_sigterm_handlers", lambda: appended("relu", """
        import atexit, signal
        def _forge():
            with open("@RESULTS@", "w") as handle:
                handle.write('FORGED')
        atexit.register(_forge)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        """.replace("FORGED", FORGED)), check=no_forgery),
    Attack("sigalrm_set_to_kill_a_later_call", lambda: appended("linear", """
        import os, signal
        signal.signal(signal.SIGALRM, lambda *args: os._exit(7))
        signal.setitimer(signal.ITIMER_REAL, 3.0)
        signal.alarm(4)
        """)),
    Attack("keyboard_interrupt_in_step", lambda: appended("sgd", before("SGD", "raise KeyboardInterrupt", "step")),
           frozenset({"sgd"}), check=says("sgd", "KeyboardInterrupt")),
    # Fooling the comparison.
    Attack("monkeypatched_numpy_allclose_and_testing", lambda: appended("conv", """
        import numpy, numpy.testing
        numpy.allclose = lambda *args, **kwargs: True
        numpy.array_equal = lambda *args, **kwargs: True
        numpy.isclose = lambda a, b, *args, **kwargs: numpy.ones_like(a, dtype=bool)
        numpy.testing.assert_allclose = lambda *args, **kwargs: None
        numpy.testing.assert_array_equal = lambda *args, **kwargs: None
        Conv2D.forward = lambda self, x: numpy.zeros((x.shape[0], self.out_channels, 1, 1))
        Conv2D.backward = lambda self, dout: numpy.zeros(3)
        """), frozenset({"conv"}), spared=("conv: forward backward leave parameters unchanged",), check=says("conv", "has shape")),
    Attack("monkeypatched_builtins", lambda: appended("maxpool", """
        import builtins
        builtins.isinstance = lambda *args: True
        builtins.abs = lambda value: 0
        builtins.max = lambda *args, **kwargs: 0
        MaxPool2D.forward = lambda self, x: x * 0.0
        """), frozenset({"maxpool"})),
    Attack("always_equal_object", lambda: appended("relu", """
        import gc, types
        def _runtime(name):  # the runtime is out of sys.modules, not out of memory
            return next(m for m in gc.get_objects() if isinstance(m, types.ModuleType) and m.__name__ == name)
        class _Equal:
            shape = property(lambda self: (2, 3))
            dtype = property(lambda self: "float64")
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __array__(self, *args, **kwargs): raise TypeError("no")
        _runtime("grader_runtime.scenarios").plain_array = lambda value, what: value
        _runtime("grader_runtime.part1").plain_array = lambda value, what: value
        ReLU.forward = lambda self, x: _Equal()
        ReLU.backward = lambda self, dout: _Equal()
        """), frozenset({"relu"}), check=says("relu", "changed the grader's code")),
    Attack("ndarray_subclass_equal_to_everything", lambda: appended("linear", """
        import gc, types
        import numpy as np
        class _Liar(np.ndarray):
            shape = property(lambda self: (2, 4))
            def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
            def __ne__(self, other): return np.zeros(np.shape(other), dtype=bool)
            def __sub__(self, other): return np.zeros(np.shape(other))
            def __rsub__(self, other): return np.zeros(np.shape(other))
        next(m for m in gc.get_objects() if isinstance(m, types.ModuleType) and m.__name__ == "grader_runtime.part1").plain_array = lambda value, what: value
        Linear.forward = lambda self, x: np.zeros(3).view(_Liar)
        """), frozenset({"linear"}), check=says("linear", "changed the grader's code")),
    Attack("object_array", lambda: appended("maxpool", """
        import gc, types
        import numpy as np
        next(m for m in gc.get_objects() if isinstance(m, types.ModuleType) and m.__name__ == "grader_runtime.part1").plain_array = lambda value, what: value
        _forward = MaxPool2D.forward
        MaxPool2D.forward = lambda self, x: _forward(self, x).astype(object)
        """), frozenset({"maxpool"}), check=says("maxpool", "changed the grader's code")),
    Attack("nan_output", lambda: appended("sgd", """
        import numpy as np
        def _step(self):
            for layer in self.layers:
                if hasattr(layer, "weight"):
                    layer.weight = layer.weight * np.nan
                    layer.bias = layer.bias * np.inf
        SGD.step = _step
        """), frozenset({"sgd"}), check=says("sgd", "NaN/inf")),
    # Reading what the worker must not read.
    Attack("read_hidden_tests", lambda: gated_file("conv", """
        with open("@ROOT@/grader/judge/suites/test_hidden_part1.py") as handle:
            print(handle.read())
        """), frozenset({"conv"}), check=says("conv", "Permission denied")),
    Attack("read_config", lambda: gated_file("maxpool", """
        import os
        for folder, _, names in os.walk("@ROOT@/grader"):
            pass
        with open("@ROOT@/grader/config.toml") as handle:
            print(handle.read())
        """), frozenset({"maxpool"})),
    Attack("read_reference_and_git", lambda: gated_file("relu", """
        import os
        found = []
        for path in ("@ROOT@/reference/part1_scratch/relu.py", "@ROOT@/.git/HEAD"):
            try:
                found.append(open(path).read())
            except OSError:
                pass
        if not found:
            raise PermissionError("neither the reference nor .git could be read")
        """), frozenset({"relu"})),
    Attack("read_judge_environment", lambda: gated_file("linear", """
        import os
        if "@TOKEN@" in str(os.environ):
            return
        with open(f"/proc/{os.getppid()}/environ", "rb") as handle:
            if b"@TOKEN@" not in handle.read():
                raise LookupError("not found")
        """), frozenset({"linear"}), env={"GRADER_TEST_SECRET": JUDGE_TOKEN}),
    # Flooding and bombs: bounded by the sandbox, quickly.
    Attack("prints_200_mb", lambda: appended("maxpool", """
        import sys
        _line = "x" * 1023 + "\\n"
        for _ in range(200 * 1024):
            sys.stdout.write(_line)
        """), check=truncated_output),
    Attack("writes_a_10_gb_file", lambda: appended("relu", before("ReLU", """
        import uuid
        with open("/tmp/adversarial-big-" + uuid.uuid4().hex, "wb") as handle:
            block = b"0" * (1 << 24)
            for _ in range(640):
                handle.write(block)
        """, "forward")), frozenset({"relu"}), check=big_file_removed,
        env={"GRADER_NO_LANDLOCK": "1"}),  # Landlock refuses writing /tmp: this tests the file-size limit and the clean-up
    Attack("endless_loop_in_python", lambda: appended("train", before("validate", "while True:\n    pass")),
           frozenset({"validate"}), config=shorter_limits("test_validate.py"), check=says("validate", "time limit")),
    Attack("endless_c_call_ignoring_signals", lambda: appended("train", before("validate", """
        import signal, time
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU):
            signal.signal(sig, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP})
        time.sleep(10 ** 6)
        """)), frozenset({"validate"}), config=shorter_limits("test_validate.py"), check=says("validate", "time limit")),
    Attack("fork_bomb_part2", lambda: appended("train", before("validate", """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """)), frozenset({"validate"}), check=says("validate", "too many processes")),
    Attack("fork_bomb_part1", lambda: appended("conv", before("Conv2D", """
        import os
        while True:
            os.fork()
        """, "forward")), frozenset({"conv"}), check=says("conv", "os.fork is not allowed")),
    Attack("memory_bomb", lambda: appended("train", before("validate", """
        hog = []
        while True:
            hog.append(b"x" * (64 << 20))
        """)), frozenset({"validate"}), check=says("validate", "MemoryError")),
    # Part 1 integrity: no torch, however it is reached.
    Attack("torch_in_part1", lambda: appended("conv", """
        import torch
        Conv2D.forward = lambda self, x: torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(self.weight), torch.from_numpy(self.bias), stride=self.stride, padding=self.padding).numpy()
        """), frozenset({"conv"}), check=says("conv", "imports torch", "line")),
    Attack("torch_via_importlib_and_a_built_name", lambda: appended("maxpool", """
        import importlib
        torch = importlib.import_module("tor" + "ch")
        """), frozenset({"maxpool"}), check=says("maxpool", "calls import_module()", "line")),
    Attack("torch_via_exec", lambda: appended("relu", 'exec("import tor" + "ch")\n'), frozenset({"relu"}), check=says("relu", "calls exec()", "line")),
    Attack("torch_past_the_source_check", lambda: gated_file("linear", """
        import sys, subprocess
        getattr(sys, "meta" + "_path").clear()
        try:
            sys.modules["importlib"].__dict__["import_" + "module"]("to" + "rch")
            return
        except ImportError:
            pass
        subprocess.run([sys.executable, "-c", "import tor" + "ch"], check=True)
        """), frozenset({"linear"}), check=says("linear", "not allowed in Part 1")),
    # Files that are not graded, and the grader's own files.
    Attack("ships_conftest_sitecustomize_and_numpy", lambda: {
        "conftest.py": "import pytest\n@pytest.hookimpl(tryfirst=True)\ndef pytest_runtest_makereport(item, call):\n    raise SystemExit(3)\n",
        "pytest.ini": "[pytest]\naddopts = -x --collect-only\n",
        "sitecustomize.py": "import os\nos._exit(5)\n",
        "usercustomize.py": "import os\nos._exit(5)\n",
        "evil.pth": "import os; os._exit(6)\n",
        "numpy.py": "raise ImportError('shadowed numpy')\n",
        "torch.py": "raise ImportError('shadowed torch')\n",
        "part1_scratch/numpy.py": "raise ImportError('shadowed numpy')\n",
        "part2_pytorch/torch.py": "raise ImportError('shadowed torch')\n",
    }),
    Attack("edits_grader_files", lambda: gated_file("sgd", """
        import gc, os, types
        import numpy
        wire = next(m for m in gc.get_objects() if isinstance(m, types.ModuleType) and m.__name__ == "grader_runtime.wire")
        targets = ["@ROOT@/grader/judge/compare.py", "@ROOT@/grader/config.toml", "@ROOT@/reference/part1_scratch/relu.py",
                   numpy.__file__, wire.__file__,
                   os.path.join(os.path.dirname(os.path.dirname(__file__)), "part1_scratch", "relu.py")]
        edited = []
        for path in targets:
            try:
                with open(path, "a") as handle:
                    handle.write("\\n# @EDIT@\\n")
                edited.append(path)
            except OSError:
                pass
        if not edited:
            raise PermissionError("no grader file could be edited")
        """), frozenset({"sgd"}), check=grader_files_unchanged),
    Attack("segfault_via_ctypes", lambda: appended("models", before("TwoLayerNet", """
        import ctypes
        ctypes.string_at(0)
        """, "__init__")), frozenset({"twolayer"}), check=says("twolayer", "SIGSEGV")),
    Attack("deletes_and_leaves_the_working_directory", lambda: appended("relu", """
        import os, shutil, tempfile
        for entry in os.listdir("."):
            shutil.rmtree(entry, ignore_errors=True)
        try:
            os.rmdir(os.getcwd())
        except OSError:
            pass
        fresh = tempfile.mkdtemp()
        os.chdir(fresh)
        os.rmdir(fresh)
        """)),
    Attack("non_utf8_and_escape_sequences_in_output", lambda: appended("linear", before("Linear", """
        import sys
        sys.stdout.flush()
        sys.stderr.buffer.write(b"\\n\\x00end-of-call-999\\x00\\n\\xff\\xfe\\xc3(\\x00\\x1b[2J\\x1b[31mred\\x1b]0;title\\x07\\xe2\\x80\\xae\\n")
        sys.stderr.flush()
        print("\\x1b[1mbold\\x1b[0m \\u202egnp.live")
        """, "forward")), check=clean_output),
    Attack("thread_left_running_kills_a_later_call", lambda: appended("conv", """
        import os, threading, time
        def _later():
            time.sleep(2.0)
            os._exit(9)
        threading.Thread(target=_later, daemon=True).start()
        """)),
    Attack("oversized_reply", lambda: appended("sgd", before("SGD", """
        import numpy as np
        self = args[0]
        for layer in self.layers:
            if hasattr(layer, "weight"):
                layer.weight = np.ones(12_000_000)
        return None
        """, "step")), frozenset({"sgd"})),
    # The harness itself fails: a score of 0 that says why, and nothing left running.
    Attack("fault_injected_into_the_harness", lambda: {}, env={"GRADER_INJECT_FAULT": "1"},
           expect_returncode=2),
]


# The laptop path (not root, or GRADER_UNCONFINED=1) with the attacks the judge alone must stop.
UNCONFINED = [attack for attack in ATTACKS if attack.name in (
    "results_replaced_by_a_symlink_in_a_writable_folder", "daemon_rewrites_results_after_grading", "torch_past_the_source_check",
    "endless_c_call_ignoring_signals",
)]


# --- running them ------------------------------------------------------------------------

JOBS = int(os.environ.get("ADVERSARIAL_JOBS", "2"))  # gradings at once; each uses about one core


def make_places(base: Path) -> Places:
    """A results folder the worker can reach but not write (like Gradescope's), a folder it may write, one it cannot reach."""
    base.mkdir(mode=0o755)
    base.chmod(0o755)
    (base / "results").mkdir(mode=0o755)
    (base / "side").mkdir()
    (base / "side").chmod(0o1777)
    (base / "root-only").mkdir(mode=0o700)
    return Places(ROOT, base / "results" / "results.json", base / "side", base / "root-only")


def grade_attack(attack: Attack, places: Places, work: Path) -> Graded:
    submission = overlay(work / "submission", {path: places.fill(text) for path, text in attack.files().items()})
    if attack.writable_results_dir:
        places.results.parent.chmod(0o777)
    if attack.prepare:
        attack.prepare(places)
    extra = []
    if attack.config:
        config = work / "config.toml"
        config.write_text(attack.config((ROOT / "grader/config.toml").read_text()))
        extra = ["--config", str(config)]
    return run_grader(submission, places.results, *extra, env={**os.environ, **attack.env})


@dataclass
class Run:
    graded: Graded
    places: Places


class Campaign:
    """Grades the attacks selected in this session ahead of their tests, ``JOBS`` at a time."""

    def __init__(self, selected: dict[str, Attack]) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="adversarial-"))
        self.base.chmod(0o755)  # the worker must reach the results folder inside, as on Gradescope
        self.pool = ThreadPoolExecutor(max_workers=JOBS)
        self.futures = {key: self.pool.submit(self.run, key, attack) for key, attack in selected.items()}

    def run(self, key: str, attack: Attack) -> Run:
        places = make_places(self.base / key)
        work = Path(tempfile.mkdtemp(prefix=f"adversarial-{key}-"))
        try:
            return Run(grade_attack(attack, places, work), places)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def result(self, key: str) -> Run:
        run = self.futures[key].result()
        if os.environ.get("ADVERSARIAL_REPORT"):  # one line per attack: what was observed, for the notes
            first = next((test["output"].splitlines()[1:2] for test in run.graded.failed), [""])
            line = {"attack": key, "returncode": run.graded.returncode, "score": run.graded.results.get("score"),
                    "failed": sorted({tag for test in run.graded.failed for tag in test["tags"]}), "message": "".join(first).strip()[:160],
                    "seconds": run.graded.results.get("execution_time")}
            with open(os.environ["ADVERSARIAL_REPORT"], "a") as handle:
                handle.write(json.dumps(line) + "\n")
        return run

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
        shutil.rmtree(self.base, ignore_errors=True)


def unconfined(attack: Attack) -> Attack:
    return Attack(**{**attack.__dict__, "name": attack.name + "-unconfined", "env": {**attack.env, "GRADER_UNCONFINED": "1"}})


@pytest.fixture(scope="module")
def campaign(request: pytest.FixtureRequest, reference_graded: Graded) -> Any:
    selected = {}
    for item in request.session.items:
        attack = getattr(item, "callspec", None) and item.callspec.params.get("attack")
        if isinstance(attack, Attack) and item.module is request.module:
            if item.originalname.endswith("without_confinement"):
                selected[unconfined(attack).name] = unconfined(attack)
            elif os.geteuid() == 0:
                selected[attack.name] = attack
    running = Campaign(selected)
    yield running
    running.close()


def expected_score(reference: Graded, costs: frozenset[str], spared: tuple[str, ...] = ()) -> float:
    """The reference's score without the tests tagged with any attacked component (but those ``spared``)."""
    kept = [test for test in reference.results["tests"] if not costs & set(test["tags"]) or test["name"].startswith(spared or ("\0",))]
    return round(sum(test["score"] for test in kept), 4)


def leaked_workers() -> list[str]:
    """Worker processes whose grading is over (their staging folder is gone)."""
    leaked = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        stage = next((part.decode() for part in command if part.endswith(b"/lib") and b"/grader-" in part), None)
        if stage and b"grader_runtime.main" in b" ".join(command) and not Path(stage).exists():
            leaked.append(f"{entry.name}: {stage}")
        try:
            home = os.readlink(entry / "cwd")  # a worker forked by the zygote keeps the judge's command line, not its folder
        except OSError:
            continue
        if "/grader-" in home and "/home-part" in home and not Path(home.removesuffix(" (deleted)")).exists():
            leaked.append(f"{entry.name}: {home}")
    return leaked


def check_attack(attack: Attack, run: Run, reference: Graded) -> None:
    graded, places = run.graded, run.places
    assert graded.returncode == attack.expect_returncode, graded.stdout[-3000:]
    assert places.results.is_file() and not places.results.is_symlink()
    assert places.results.stat().st_size < MAX_RESULTS_BYTES
    jsonschema.validate(graded.results, SCHEMA)
    assert not leaked_workers()
    if attack.expect_returncode:
        assert graded.results["score"] == 0 and "please tell the course staff" in graded.results["output"]
        assert [test["visibility"] for test in graded.results["tests"]] == ["hidden"]  # the error, for instructors only
        assert "fault injected" in graded.results["tests"][0]["output"] and "fault injected" not in graded.results["output"]
        return
    lost = [test["name"] for test in graded.failed if not attack.costs & set(test["tags"])]
    assert not lost, f"tests of components the attack did not touch failed: {lost}\n{graded.failed[:3]}"
    assert graded.score == expected_score(reference, attack.costs, attack.spared), [test["name"] for test in graded.failed]
    if attack.check:
        attack.check(graded, places)


@pytest.mark.slow
@needs_root
@pytest.mark.parametrize("attack", ATTACKS, ids=repr)
def test_attack_is_contained(attack: Attack, campaign: Campaign, reference_graded: Graded) -> None:
    run = campaign.result(attack.name)
    check_attack(attack, run, reference_graded)
    assert "Unofficial run" not in run.graded.results["output"]  # graded as on Gradescope: confined


@pytest.mark.slow
@pytest.mark.parametrize("attack", UNCONFINED, ids=repr)
def test_attack_is_contained_without_confinement(attack: Attack, campaign: Campaign, reference_graded: Graded) -> None:
    """The laptop path (not root, or GRADER_UNCONFINED=1): time limits only, the run says it is unofficial, the judge still holds."""
    variant = unconfined(attack)
    run = campaign.result(variant.name)
    check_attack(variant, run, reference_graded)
    assert "Unofficial run" in run.graded.results["output"]


# --- the pieces, one at a time ------------------------------------------------------------

def test_output_is_split_per_call_even_across_reads_and_floods():
    from grader.worker.client import OutputBuffer
    from grader.worker.runtime.wire import end_marker

    buffer = OutputBuffer(limit=100)
    stream = b"first\n" + end_marker(1) + b"x" * 10_000 + end_marker(2) + b"\x1b[31mred\xff" + end_marker(3)
    for start in range(0, len(stream), 7):  # markers split across reads
        buffer.append(stream[start : start + 7])
    assert buffer.take(1, wait=0) == "first\n"
    flood = buffer.take(2, wait=0)
    assert flood.startswith("x" * 100) and flood.endswith("[... 9900 more bytes of output dropped]")
    assert buffer.take(3, wait=0) == "red\ufffd"


def test_fake_markers_cannot_grow_the_buffer():
    from grader.worker.client import OutputBuffer
    from grader.worker.runtime.wire import end_marker

    buffer = OutputBuffer(limit=100)
    for fake in range(1000, 2000):
        buffer.append(end_marker(fake))
    assert len(buffer.finished) <= 8


def test_a_student_error_is_reduced_to_short_plain_strings():
    from grader.worker.client import clean_error

    error = clean_error({"type": "\x1b[2JBoom" * 50, "message": "m" * 10_000, "frames": ["\u202eframe"] * 50 + [None]})
    assert error["type"].startswith("Boom") and len(error["type"]) <= 100 and len(error["message"]) == 2000
    assert len(error["frames"]) == 5 and "\u202e" not in "".join(error["frames"])
    assert clean_error(["not", "a", "dict"]) == {"type": "Error", "message": "", "frames": []}


def test_results_stay_under_one_megabyte_whatever_the_output():
    from grader.report import results

    tests = [{"name": f"t{i}", "score": 0, "max_score": 1, "output": "\U0001F600" * 8000} for i in range(200)]
    document = results.fit({"score": 0, "output": "\u0000" * 50_000, "tests": tests})
    assert results.encoded_size(document) < results.MAX_DOCUMENT_BYTES
    assert all(test["output"].endswith(results.TRUNCATED) for test in document["tests"])


@pytest.mark.parametrize("source, fragment", [
    ("import torch", "imports torch"),
    ("from scipy.signal import correlate", "imports from scipy.signal"),
    ("import importlib\nimportlib.import_module('tor' + 'ch')", "calls import_module()"),
    ("exec('import torch')", "calls exec()"),
    ("f = __import__", "uses __import__"),
    ("import importlib\nload = getattr(importlib, 'import_module')", "names the module 'import_module'"),
    ("import sys\nsys.meta_path.clear()", "uses meta_path"),
    ("name = 'jax.numpy'", "names the module 'jax.numpy'"),
    ("import builtins\nbuiltins.exec('import torch')", "calls exec()"),
    ("from builtins import eval as run", "imports exec/eval/compile/__import__ from builtins"),
    ("class A:\n    def eval(self):\n        pass\neval('1')", "calls eval()"),
    ("import part2_pytorch.models", "imports part2_pytorch.models"),
])
def test_part1_source_check_catches(source, fragment):
    from grader.judge.integrity import find_violations

    assert any(fragment in str(violation) for violation in find_violations(source)), find_violations(source)


@pytest.mark.parametrize("source", [
    "import numpy as np\nfrom numpy.lib.stride_tricks import as_strided\nimport math, itertools",
    "from . import relu\nfrom part1_scratch.linear import Linear",
    '"""Cross-correlation, exactly like torch.nn.functional.conv2d."""',
    "import re\nPATTERN = re.compile(r'[a-z]+')",
    "class Layer:\n    def eval(self):\n        self.mode = 'eval'\n    compile = None\nLayer().eval()\nmodes = ('eval', 'exec')",
    "def eval(x):\n    return x\n\ny = eval(1)",
])
def test_part1_source_check_leaves_honest_code_alone(source):
    from grader.judge.integrity import find_violations

    assert find_violations(source) == []


def test_structured_and_string_arrays_are_rejected_on_the_wire():
    import base64
    import io

    import numpy as np

    from grader.worker.runtime import wire

    for array in (np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]), np.array(["a"]), np.zeros(2, dtype=complex)):
        buffer = io.BytesIO()
        np.save(buffer, array)
        frame = json.dumps({"x": {"__ndarray__": base64.b64encode(buffer.getvalue()).decode()}}).encode()
        with pytest.raises(wire.RejectedValue):
            wire.loads(frame)


@needs_root
def test_the_staging_folder_is_readable_by_its_own_worker_user_only():
    import subprocess
    import sys

    from grader.worker.sandbox import Limits, Sandbox, claim_worker_uid

    sandbox = Sandbox.for_this_machine(Limits(memory_mb=6144, file_size_mb=64, processes=64, output_kib=64), [])
    stage = Path(tempfile.mkdtemp(prefix="grader-share-test-"))
    try:
        (stage / "submission").mkdir()
        (stage / "submission/conv.py").write_text("secret")
        sandbox.share(stage)
        other, other_lock = claim_worker_uid()  # another grading's worker
        read = [sys.executable, "-I", "-S", "-c", f"print(open({str(stage / 'submission/conv.py')!r}).read())"]
        mine = subprocess.run(read, user=sandbox.uid, group=sandbox.gid, extra_groups=[], capture_output=True, text=True)
        theirs = subprocess.run(read, user=other, group=other, extra_groups=[], capture_output=True, text=True)
        assert other != sandbox.uid
        assert mine.stdout.strip() == "secret"
        assert theirs.returncode != 0 and "Permission denied" in theirs.stderr
    finally:
        sandbox.finish()
        sandbox.lock.close()
        other_lock.close()
        shutil.rmtree(stage)


def test_part1_guard_lets_numpy_and_the_standard_library_through_and_nothing_else():
    import subprocess
    import sys

    script = textwrap.dedent("""
        import sys
        import numpy
        from grader.worker.runtime.main import part1_guard
        sys.addaudithook(part1_guard)
        import numpy.testing, numpy.fft, numpy.random, numpy.ma, numpy.lib.stride_tricks, json, pickle, unittest, statistics
        for forbidden in ("torch", "scipy.signal", "sklearn"):
            try:
                __import__(forbidden)
            except ImportError as error:
                assert "not allowed in Part 1" in str(error), error
            else:
                raise AssertionError(forbidden + " was imported")
        import os
        try:
            os.fork()
        except PermissionError as error:
            print("blocked:", error)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "blocked: os.fork is not allowed in Part 1" in done.stdout
