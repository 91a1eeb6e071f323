"""Input errors that name where the problem is: the file, the line and the column (or key).

Every loader in comptune raises `InputError` for a user's mistake, never a bare KeyError or
ValueError, so that the command line can exit with code 2 and the API can answer 4xx with the
location spelled out. Several problems are collected before raising so a user fixes a file in one
pass instead of one error at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

MAX_PROBLEMS_REPORTED = 20
VALID_IDS_SHOWN = 5


def valid_ids_hint(valid) -> str:
    """"(valid: central, east, …, 3 more)": the first few of `valid`, sorted."""
    ids = sorted({str(v) for v in valid})
    if not ids:
        return "(there are none)"
    more = f", … {len(ids) - VALID_IDS_SHOWN} more" if len(ids) > VALID_IDS_SHOWN else ""
    return f"(valid: {', '.join(ids[:VALID_IDS_SHOWN])}{more})"


def unknown_id(what: str, value: object, valid) -> str:
    """"unknown market 'nord' (valid: central, east, …, 3 more)": the message for an id that is not
    in `valid`, listing the first few valid ones so that a user sees what the data calls them."""
    return f"unknown {what} {value!r} {valid_ids_hint(valid)}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as it can be."""

    file: str
    message: str
    line: int | None = None  # 1-based line of a CSV file (the header is line 1)
    column: str | None = None  # CSV column, or a YAML/JSON key path such as adjustments[0].demand

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            label = "column" if self.file.endswith(".csv") else "key"
            where.append(f"{label} {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class InputError(ValueError):
    """Bad input data: a dataset folder, an assumption set, a plan folder or an outcomes file."""

    def __init__(self, problems: list[Problem]):
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = problems
        shown = [str(p) for p in problems[:MAX_PROBLEMS_REPORTED]]
        if len(problems) > MAX_PROBLEMS_REPORTED:
            shown.append(f"... and {len(problems) - MAX_PROBLEMS_REPORTED} more problems")
        super().__init__("\n".join(shown))

    @classmethod
    def single(cls, file: str, message: str, *, line: int | None = None, column: str | None = None):
        return cls([Problem(file=file, message=message, line=line, column=column)])


class ProblemCollector:
    """Gathers problems while a loader validates, then raises them all at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, message: str, *, line: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(file=file, message=message, line=line, column=column))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)


class RenamedFiles(ProblemCollector):
    """A view of a collector that reports problems under another file name.

    Validation speaks of `plan/targets.csv` or `actuals.csv`; a user who passed `~/q2/targets.csv`
    or `outcomes.csv` must read that path instead.
    """

    def __init__(self, inner: ProblemCollector, rename: Callable[[str], str]):
        self.inner, self.rename = inner, rename

    @property
    def problems(self) -> list[Problem]:  # type: ignore[override]
        return self.inner.problems

    def add(self, file: str, message: str, *, line: int | None = None, column: str | None = None) -> None:
        self.inner.add(self.rename(file), message, line=line, column=column)


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "PeriodRange", "constrained-str", "constrained-int",
              "constrained-float", "json-or-python", "lax-or-strict"}


def key_path(loc: tuple | list) -> str:
    """A pydantic error location as a key path such as adjustments[0].demand, without the type
    tags pydantic inserts for unions and validators (`int`, `function-after[...]`, ...)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part) in _TYPE_TAGS or "[" in str(part) or "(" in str(part):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out
