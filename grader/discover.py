"""Find the graded files (``assignment.graded_files()``) in a submission, whatever its layout, and stage them.

A submission is a folder or a .zip holding the files in the template's layout,
flat, or nested under one extra folder. Only the graded files are taken: every
other file the student shipped (conftest.py, numpy.py, sitecustomize.py, ...)
stays behind. Nothing here imports student code.
"""
from __future__ import annotations

import shutil
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from gradescope_utils.autograder_utils.files import check_submitted_files

from .worker.runtime.assignment import component, components_in, graded_files

IGNORED_PARTS = ("__MACOSX", "__pycache__", ".git")
MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Discovery:
    """Where each graded file was found, and what went wrong."""

    found: dict[str, str]  # graded path -> where it was in the submission
    missing: tuple[str, ...] = ()
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # files that could not be read (a damaged .zip, a file over the size limit)

    def file_of(self, name: str) -> str:
        return component(name).file

    def problem_with(self, name: str) -> str | None:
        """Why this component cannot be graded, or None."""
        path = self.file_of(name)
        if path in self.ambiguous:
            return f"{PurePosixPath(path).name} appears {len(self.ambiguous[path])} times with different contents ({', '.join(self.ambiguous[path])}); keep one copy"
        if path in self.missing:
            return f"{PurePosixPath(path).name} was not found in the submission"
        return None

    def summary(self) -> str:
        """One message: what was expected, what was found, what is missing."""
        expected = graded_files()
        if not self.missing and not self.ambiguous:
            return "\n".join([f"Found all {len(expected)} graded files.", *self.notes])
        lines = [f"Found {len(self.found)} of {len(expected)} graded files.", *self.notes]
        lines += [f"  missing: {path} (no points for {', '.join(c.name for c in components_in(path))})" for path in self.missing]
        lines += [f"  ambiguous: {path} found at {', '.join(where)}" for path, where in self.ambiguous.items()]
        lines += [f"  found: {path} (at {where})" for path, where in self.found.items()]
        lines.append("Expected these names, in the template's folders, flat, or in one extra folder: " + ", ".join(expected))
        return "\n".join(lines)


def is_ignored(path: PurePosixPath) -> bool:
    name = path.name
    return (
        any(part in IGNORED_PARTS for part in path.parts)
        or name.startswith(("._", ".#"))
        or name.endswith(("~", ".pyc", ".swp", ".bak", ".orig"))
    )


def graded_names() -> set[str]:
    return {PurePosixPath(path).name for path in graded_files()}


def list_candidates(submission: Path) -> tuple[dict[str, bytes], list[str]]:
    """Every file of the submission whose name is a graded name, with its bytes; and what could not be read."""
    if submission.is_file() and (zipfile.is_zipfile(submission) or submission.suffix.lower() == ".zip"):
        return list_zip_candidates(submission)
    if not submission.is_dir():
        raise FileNotFoundError(f"submission {submission} is neither a folder nor a .zip file")
    candidates, notes, wanted = {}, [], graded_names()
    for path in sorted(submission.rglob("*.py")):  # symlinked folders are not entered
        relative = PurePosixPath(path.relative_to(submission).as_posix())
        if path.name not in wanted or is_ignored(relative) or path.is_symlink() or not path.is_file():
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            notes.append(f"  skipped: {relative} is larger than {MAX_FILE_BYTES // 1024} KiB")
            continue
        candidates[str(relative)] = path.read_bytes()
    return candidates, notes


def list_zip_candidates(archive_path: Path) -> tuple[dict[str, bytes], list[str]]:
    """Like ``list_candidates`` for a .zip: a damaged archive or member is a note, not a failure."""
    candidates, notes, wanted = {}, [], graded_names()
    try:
        with zipfile.ZipFile(archive_path) as archive:
            for info in archive.infolist():
                name = PurePosixPath(info.filename.replace("\\", "/"))  # zips made on Windows may use backslashes
                if info.is_dir() or name.name not in wanted or is_ignored(name):
                    continue
                if info.file_size > MAX_FILE_BYTES:
                    notes.append(f"  skipped: {name} is larger than {MAX_FILE_BYTES // 1024} KiB")
                    continue
                try:
                    candidates[str(name)] = archive.read(info)
                except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError, OSError) as error:
                    notes.append(f"  unreadable: {name} in {archive_path.name} ({error})")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        notes.append(f"  unreadable: {archive_path.name} is not a valid .zip file ({error})")
    return candidates, notes


def choose(graded: str, copies: dict[str, bytes]) -> str | None:
    """The copy to grade: the only one, one of identical ones, or the one in the template's folder."""
    if len(set(copies.values())) == 1:
        return min(copies, key=len)
    in_place = [where for where in copies if where == graded or where.endswith("/" + graded)]
    return in_place[0] if len(in_place) == 1 else None


def discover(submission: Path, destination: Path) -> Discovery:
    """Copy the graded files found in ``submission`` into ``destination`` in the template's layout."""
    candidates, notes = list_candidates(submission)
    found, ambiguous = {}, {}
    for graded in graded_files():
        copies = {where: data for where, data in candidates.items() if PurePosixPath(where).name == PurePosixPath(graded).name}
        if not copies:
            continue
        chosen = choose(graded, copies)
        if chosen is None:
            ambiguous[graded] = tuple(sorted(copies))
            continue
        target = destination / graded
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(copies[chosen])
        found[graded] = chosen
    missing = [path for path in check_submitted_files(graded_files(), base=str(destination)) if path not in ambiguous]
    return Discovery(found, tuple(missing), ambiguous, tuple(notes))


def add_provided_files(template: Path, destination: Path) -> None:
    """The grader's own package files (``__init__.py`` and helpers), never the student's."""
    for source in template.rglob("*.py"):
        relative = source.relative_to(template).as_posix()
        if relative not in graded_files() and "__pycache__" not in relative:
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
