"""What goes into the zips: the grader's files that grading imports, and how they are written.

The file lists are derived, never maintained by hand: ``grading_files`` starts
from the entry point, the suites that ship and the worker's runtime, and follows
their imports (read from the source, nothing is executed), so an instructor-only
module (these commands, corpus tools, anything that touches ``reference/``)
never ships, and a module that grading needs always does.
"""
from __future__ import annotations

import ast
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..calibration import CALIBRATION_FILE, calibration_path
from ..config import GraderConfig
from ..grade import GRADER_DIR, PROJECT_DIR, SUITES_DIR
from ..worker.client import RUNTIME_DIR
from ..worker.runtime.assignment import graded_files

FILES_DIR = Path(__file__).with_name("files")  # setup.sh, run_autograder, self_check.py, the student README
SETTINGS = "gradescope-settings.txt"  # the Gradescope settings to pick, with measured memory and times
REFERENCE_DIR = PROJECT_DIR / "reference"
EXECUTABLE = 0o755
UNIX = 3  # ZipInfo.create_system: unzip then applies the entries' modes, whatever OS wrote the zip
SKIPPED = ("__pycache__", ".pyc", ".pytest_cache")
ZIP_DATE = (2024, 1, 1, 0, 0, 0)  # fixed, so that the same sources give the same zip


class PackageError(ValueError):
    """The config or the sources cannot be packaged as asked; the message says why."""


@dataclass(frozen=True)
class Entry:
    """One file of a zip: where it goes, its bytes, its mode."""

    name: str
    data: bytes
    mode: int = 0o644

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, {len(self.data)} bytes, {self.mode:o})"


def shipped(name: str, data: bytes) -> Entry:
    """A file as the zips carry it, the same whatever the instructor's OS and checkout.

    A script (``*.sh``, or any file that starts with ``#!``) gets LF line endings:
    a Windows checkout may have CRLF, and bash then fails on ``\r``. A file that
    starts with ``#!`` is run directly, so it is executable; everything else is
    0o644 (Windows reports no executable bits to copy).
    """
    if name.endswith(".sh") or data.startswith(b"#!"):
        data = data.replace(b"\r\n", b"\n")
    return Entry(name, data, EXECUTABLE if data.startswith(b"#!") else 0o644)


def skipped(path: Path) -> bool:
    return any(part in SKIPPED or part.endswith(".pyc") for part in path.parts)


def module_file(name: str) -> Path | None:
    """The source file of module ``name`` (``grader.judge.plugin``) under the project, if it is one."""
    base = PROJECT_DIR.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """Every module name ``path`` imports (absolute, or resolved from relative), at any depth of its code."""
    parts = list(path.relative_to(PROJECT_DIR).parts[:-1])  # the package the file belongs to (or is)
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else [])) if node.level else node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name == "grader" or name.startswith("grader.")}


def grading_files(suites: list[Path]) -> list[Path]:
    """The grader's own sources a grading run needs, given the suite files that ship.

    Args:
        suites: the ``test_*.py`` files to include (all of them for Gradescope, the
            public ones for the handout).

    Returns:
        Sorted paths under ``grader/``: the import closure of ``grader/__main__.py``
        and ``suites``, every package ``__init__.py`` on the way, the worker's
        runtime folder (copied whole into each staging folder) and the data files
        beside them (``pytest.ini``); not ``config*.toml`` nor ``calibration.json``, written separately.
    """
    runtime = {path for path in RUNTIME_DIR.rglob("*") if path.is_file() and not skipped(path)}
    todo = [GRADER_DIR / "__main__.py", *suites, *(path for path in runtime if path.suffix == ".py")]
    found: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in found:
            continue
        found.add(path)
        for name in imported_modules(path):
            pieces = name.split(".")
            for depth in range(1, len(pieces) + 1):  # the module and every package above it
                source = module_file(".".join(pieces[:depth]))
                if source is not None and source not in found:
                    todo.append(source)
    found |= runtime
    folders = {path.parent for path in found}
    data = [
        path for folder in folders for path in folder.iterdir()
        if path.is_file() and path.suffix not in (".py", ".pyc", ".toml") and path.name != CALIBRATION_FILE and not skipped(path)
    ]
    if SUITES_DIR / "pytest.ini" not in data:
        raise PackageError(f"{SUITES_DIR / 'pytest.ini'} is missing")
    return sorted(found | set(data))


def suite_files(config: GraderConfig, *, public_only: bool) -> list[Path]:
    """The suite files to ship: all, or those whose tests are all visible.

    Raises:
        PackageError: a file mixes visible tests with tests students must not
            see; the handout can leave out files, not parts of them.
    """
    everything = sorted(SUITES_DIR.glob("test_*.py"))
    if not public_only:
        return everything
    public = []
    for path in everything:
        visibilities = {policy.visibility for key, policy in config.tests.items() if key.split("::")[0] == path.name}
        if visibilities == {"visible"}:
            public.append(path)
        elif "visible" in visibilities:
            hidden = sorted(key for key, policy in config.tests.items() if key.split("::")[0] == path.name and policy.visibility != "visible")
            raise PackageError(
                f"{path.name} holds visible tests and tests students must not see ({', '.join(hidden)}); "
                f"the handout leaves out whole files, so move those into a suite of their own (e.g. test_hidden_{path.stem.removeprefix('test_')}.py) "
                f"and list it under [[parts]]"
            )
    return public


def grader_entries(config: GraderConfig, suites: list[Path], prefix: str = "") -> list[Entry]:
    """The grader's files (see ``grading_files``), the config as ``grader/config.toml`` and the reference's curves beside it, if calibrated."""
    entries = [shipped(prefix + path.relative_to(PROJECT_DIR).as_posix(), path.read_bytes()) for path in grading_files(suites)]
    entries.append(shipped(prefix + "grader/config.toml", config.path.read_bytes()))
    if calibration_path(config).is_file():
        entries.append(shipped(prefix + f"grader/{CALIBRATION_FILE}", calibration_path(config).read_bytes()))
    return entries


def project_entry(relative: str, prefix: str = "") -> Entry:
    """A file of the project, at the same place under ``prefix``."""
    return shipped(prefix + relative, (PROJECT_DIR / relative).read_bytes())


def file_entry(file_name: str, name: str, text: str | None = None) -> Entry:
    """One of the templates in ``files/``, as it is or with ``text`` in its place."""
    return shipped(name, text.encode() if text is not None else (FILES_DIR / file_name).read_bytes())


def write_zip(path: Path, entries: list[Entry]) -> Path:
    """Write ``entries`` (sorted, fixed dates, Unix modes) to ``path`` atomically; refuse duplicates."""
    names = [entry.name for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PackageError(f"two files would be written to {', '.join(duplicates)}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in sorted(entries, key=lambda e: e.name):
            info = zipfile.ZipInfo(entry.name, ZIP_DATE)
            info.create_system = UNIX
            info.external_attr = (0o100000 | entry.mode) << 16  # a regular file with these permissions
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entry.data)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_bytes(buffer.getvalue())
    temporary.replace(path)
    return path


def unpack(archive: Path, destination: Path) -> Path:
    """Extract like ``unzip`` (and Gradescope): keep each file's Unix permissions, which zipfile drops."""
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            target = Path(opened.extract(info, destination))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                target.chmod(mode)
    return destination


def reference_leaks(entries: list[Entry]) -> list[str]:
    """Entries that are, or hold, the reference solution: a path under ``reference/`` or a graded file's text."""
    solution = {}
    for graded in graded_files():
        path = REFERENCE_DIR / graded
        if path.is_file():
            solution[normalized(path.read_bytes())] = graded
    leaks = []
    for entry in entries:
        pure = PurePosixPath(entry.name)
        if "reference" in pure.parts:
            leaks.append(f"{entry.name} (a path under reference/)")
        elif normalized(entry.data) in solution:
            leaks.append(f"{entry.name} (the text of reference/{solution[normalized(entry.data)]})")
    return leaks


def normalized(data: bytes) -> bytes:
    """Text without blank lines or trailing spaces, so a re-saved copy still matches."""
    return b"\n".join(line.rstrip() for line in data.splitlines() if line.strip())


def describe(path: Path) -> str:
    """A listing for the console: each file with its size, then the total."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    lines = [f"{info.file_size:>9,}  {info.filename}" for info in infos]
    lines.append(f"{len(infos)} files, {sum(i.file_size for i in infos):,} bytes unpacked, {path.stat().st_size:,} bytes zipped: {path}")
    return "\n".join(lines)
