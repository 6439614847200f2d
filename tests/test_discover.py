"""Finding the seven graded files, whatever the layout, and taking nothing else."""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.discover import discover
from grader.worker.runtime.assignment import graded_files

from conftest import REFERENCE

FLAT = {Path(path).name: path for path in graded_files()}


def template_layout(root: Path) -> Path:
    for path in graded_files():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REFERENCE / path, root / path)
    return root


def flat_layout(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, path in FLAT.items():
        shutil.copyfile(REFERENCE / path, root / name)
    return root


def nested_layout(root: Path) -> Path:
    template_layout(root / "assignment3")
    return root


def zipped(folder: Path, archive: Path, junk: bool = False) -> Path:
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                handle.write(path, path.relative_to(folder).as_posix())
        if junk:  # what macOS and editors add
            handle.writestr("__MACOSX/part1_scratch/._conv.py", b"\x00\x05\x16\x07junk")
            handle.writestr(".DS_Store", b"junk")
            handle.writestr("part1_scratch/__pycache__/conv.cpython-311.pyc", b"junk")
            handle.writestr("part1_scratch/conv.py~", b"old")
            handle.writestr("part1_scratch/.conv.py.swp", b"old")
    return archive


LAYOUTS = {"template": template_layout, "flat": flat_layout, "nested": nested_layout}


def assert_found_all(found, staged: Path) -> None:
    assert found.missing == () and found.ambiguous == {}
    for path in graded_files():
        assert (staged / path).read_bytes() == (REFERENCE / path).read_bytes()
    assert found.summary().startswith("Found all 7 graded files")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_is_found_in_a_folder(tmp_path, layout):
    found = discover(LAYOUTS[layout](tmp_path / "submission"), tmp_path / "staged")
    assert_found_all(found, tmp_path / "staged")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_is_found_in_a_zip_with_junk(tmp_path, layout):
    archive = zipped(LAYOUTS[layout](tmp_path / "submission"), tmp_path / "submission.zip", junk=True)
    found = discover(archive, tmp_path / "staged")
    assert_found_all(found, tmp_path / "staged")


def test_folder_junk_is_ignored(tmp_path):
    submission = template_layout(tmp_path / "submission")
    for junk in ("__MACOSX/part1_scratch/conv.py", "part1_scratch/__pycache__/conv.py", ".git/conv.py"):
        (submission / junk).parent.mkdir(parents=True, exist_ok=True)
        (submission / junk).write_text("raise SystemExit('junk')\n")
    (submission / ".DS_Store").write_bytes(b"junk")
    assert_found_all(discover(submission, tmp_path / "staged"), tmp_path / "staged")


def test_only_the_graded_files_are_taken(tmp_path):
    submission = template_layout(tmp_path / "submission")
    for extra in ("conftest.py", "sitecustomize.py", "numpy.py", "torch.py", "evil.pth", "pytest.ini",
                  "part1_scratch/numpy.py", "part1_scratch/__init__.py", "part2_pytorch/conftest.py"):
        (submission / extra).write_text("raise SystemExit('not graded')\n")
    discover(submission, tmp_path / "staged")
    taken = sorted(path.relative_to(tmp_path / "staged").as_posix() for path in (tmp_path / "staged").rglob("*") if path.is_file())
    assert taken == sorted(graded_files())


def test_missing_files_are_listed_with_what_was_found(tmp_path):
    submission = template_layout(tmp_path / "submission")
    (submission / "part1_scratch/relu.py").unlink()
    (submission / "part2_pytorch/train.py").unlink()
    found = discover(submission, tmp_path / "staged")
    assert found.missing == ("part1_scratch/relu.py", "part2_pytorch/train.py")
    summary = found.summary()
    assert "Found 5 of 7 graded files" in summary
    assert "missing: part1_scratch/relu.py (no points for relu)" in summary
    assert "missing: part2_pytorch/train.py (no points for train_epoch, validate)" in summary
    assert "found: part1_scratch/conv.py" in summary and "Expected these names" in summary
    assert found.problem_with("relu") == "relu.py was not found in the submission"
    assert found.problem_with("conv") is None


def test_identical_copies_are_accepted(tmp_path):
    submission = template_layout(tmp_path / "submission")
    shutil.copyfile(submission / "part1_scratch/conv.py", submission / "conv.py")
    assert_found_all(discover(submission, tmp_path / "staged"), tmp_path / "staged")


def test_the_copy_in_the_template_folder_wins_over_a_stray_one(tmp_path):
    submission = template_layout(tmp_path / "submission")
    (submission / "old").mkdir()
    (submission / "old/conv.py").write_text("# an older attempt\n")
    found = discover(submission, tmp_path / "staged")
    assert found.found["part1_scratch/conv.py"] == "part1_scratch/conv.py"


def test_different_copies_are_ambiguous_and_say_where(tmp_path):
    submission = flat_layout(tmp_path / "submission")
    (submission / "v2").mkdir()
    (submission / "v2/relu.py").write_text("# another version\n")
    found = discover(submission, tmp_path / "staged")
    assert set(found.ambiguous) == {"part1_scratch/relu.py"}
    assert "relu.py appears 2 times" in found.problem_with("relu") and "relu.py, v2/relu.py" in found.problem_with("relu")
    assert "ambiguous: part1_scratch/relu.py found at relu.py, v2/relu.py" in found.summary()
    assert found.problem_with("conv") is None


def test_symlinks_are_not_followed(tmp_path):
    secret = tmp_path / "secret"
    template_layout(secret)
    submission = tmp_path / "submission"
    submission.mkdir()
    os.symlink(secret / "part1_scratch", submission / "part1_scratch")  # a folder
    (submission / "part2_pytorch").mkdir()
    os.symlink(secret / "part2_pytorch/models.py", submission / "part2_pytorch/models.py")  # a file
    found = discover(submission, tmp_path / "staged")
    assert len(found.missing) == 7


def test_a_damaged_zip_is_a_note_not_a_crash(tmp_path):
    archive = tmp_path / "submission.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    found = discover(archive, tmp_path / "staged")
    assert len(found.missing) == 7
    assert "not a valid .zip file" in found.summary()


def test_a_corrupt_member_is_a_note(tmp_path):
    archive = zipped(template_layout(tmp_path / "submission"), tmp_path / "submission.zip")
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as handle:
        info = handle.getinfo("part1_scratch/relu.py")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start : start + 8] = b"\xff" * 8  # damaged bytes: the CRC check fails
    archive.write_bytes(bytes(data))
    found = discover(archive, tmp_path / "staged")
    assert found.missing == ("part1_scratch/relu.py",)
    assert "unreadable: part1_scratch/relu.py" in found.summary()


def test_windows_backslashes_in_a_zip(tmp_path):
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in graded_files():
            handle.writestr("assignment3\\" + path.replace("/", "\\"), (REFERENCE / path).read_bytes())
    assert_found_all(discover(archive, tmp_path / "staged"), tmp_path / "staged")


def test_oversized_files_are_skipped_with_a_note(tmp_path):
    submission = template_layout(tmp_path / "submission")
    (submission / "part1_scratch/sgd.py").write_bytes(b"#" * (2 * 1024 * 1024))
    found = discover(submission, tmp_path / "staged")
    assert found.missing == ("part1_scratch/sgd.py",)
    assert "skipped: part1_scratch/sgd.py is larger than" in found.summary()


def test_a_nonexistent_submission_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        discover(tmp_path / "nope", tmp_path / "staged")
