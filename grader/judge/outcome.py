"""What the report needs of each test: its metadata and its outcome (a leaf module: plugin and report both use it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..worker.runtime import assignment

if TYPE_CHECKING:  # feedback.py imports pytest and NumPy; this module stays a leaf
    from .feedback import Feedback


@dataclass(frozen=True)
class TestMeta:
    """Everything the report needs to know about one test, from the config and the test's marks."""

    __test__ = False  # not a pytest test class

    key: str
    name: str
    number: str
    points: float
    visibility: str
    timeout: float
    tags: tuple[str, ...]
    part: int
    hide_errors: str | None = None

    @property
    def components(self) -> tuple[str, ...]:
        """The tags that name components of the assignment: the test holds their points."""
        known = assignment.names()
        return tuple(tag for tag in self.tags if tag in known)


@dataclass
class TestOutcome:
    __test__ = False  # not a pytest test class
    meta: TestMeta
    passed: bool = True
    message: str = ""
    output: str = ""
    seconds: float = 0.0
    ran: bool = False  # False for the tests a stopped grading never reached
    evidence: list[dict[str, Any]] = field(default_factory=list)  # figure data of a failed test, for the HTML report
    feedback: Feedback | None = None  # a failed check's message in parts; None for passes and tests that could not run
