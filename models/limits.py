"""The limits on what one input may hold, in one place for the command line and the service.

Every size and magnitude a user's input is checked against is a constant here (README "Input
limits" lists them with the reasons): lengths of names, ids and reasons; entries of a list; the
magnitude of numbers in a dataset, in actuals and of assumption factors; the size of a YAML
document after its aliases are expanded; and the largest id, version or offset the API accepts
(its integer columns are 32-bit on PostgreSQL). `clean_text` is the one check of free text: no NUL
byte, no lone surrogate (neither can be stored in PostgreSQL or encoded as UTF-8) and no other
control character except tab and line breaks. `formula_problem` keeps ids from starting like a
spreadsheet formula (`= + - @`); `spreadsheet_text` neutralizes free text in the CSV reports.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

import yaml
from pydantic import AfterValidator, StringConstraints

from models.errors import InputError

# Text
MAX_NAME_LENGTH = 200  # assumption-set names, token names (the database columns hold 200)
MAX_ID_LENGTH = 100  # rep, product and market ids, `group:NAME` specs, scope entries
MAX_PERIOD_LENGTH = 50  # a period label in company.yaml (the actuals table holds 50)
MAX_REASON_LENGTH = 5_000  # an adjustment's or a decision's reason

# Lists
MAX_SCOPE_IDS = 10_000  # ids in one scope list of an adjustment (markets, products, reps, periods)
MAX_ADJUSTMENTS = 1_000  # adjustments in one assumption set
MAX_ACTUALS_ROWS = 500_000  # rows in one actuals request

# Numbers
MIN_FACTOR, MAX_FACTOR = 1e-3, 1e3  # an assumption factor (demand, price, cost, conversion, hours)
MAX_QUANTITY = 1e9  # an actuals count (orders, calls, meetings, quotes) of one rep, product and period
MAX_NUMBER = 1e12  # any number in a dataset file or company.yaml (prices, pay, hours, demand, targets)
MIN_NONZERO = 1e-9  # smallest magnitude of a non-zero number in a dataset file or company.yaml
MAX_ID = 2**31 - 1  # largest id, version, offset or seed the API accepts (32-bit integer columns)

# Documents
MAX_YAML_BYTES = 5_000_000  # an assumption file or company.yaml
MAX_YAML_NODES = 100_000  # nodes of a YAML document once its aliases (`*anchor`) are expanded
MAX_YAML_DEPTH = 50  # nesting of lists and mappings in a YAML document

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SUSPECT_TEXT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]"  # what `text_problem` may object to (fast pre-filter)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it holds a lone surrogate)"
    if "\x00" in value:
        return "must not contain a NUL byte"
    if _CONTROL.search(value):
        return "must not contain control characters (other than tab and line breaks)"
    return None


def clean_text(value: str) -> str:
    """A pydantic after-validator: `value` unchanged, or ValueError saying what is wrong."""
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


FORMULA_START = ("=", "+", "-", "@")  # a spreadsheet reads a cell starting with one of these as a formula
FORMULA_TRIGGERS = (*FORMULA_START, "\t", "\r")  # and these too, once the tab or CR is dropped


def formula_problem(value: str) -> str | None:
    """Why `value` may not be an id (rep, product, market, component, period): it starts like a
    formula, so an export opened in a spreadsheet could run it (`=cmd|' /C calc'!A0`)."""
    if value.startswith(FORMULA_START):
        return f"must not start with {value[0]!r} (= + - @ start a formula in a spreadsheet)"
    return None


def not_formula(value: str) -> str:
    """A pydantic after-validator: ids never start like a spreadsheet formula."""
    problem = formula_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def spreadsheet_text(value):
    """Free text as a CSV cell a spreadsheet shows as text: a leading `'` when it starts like a
    formula (the OWASP advice; spreadsheets hide the quote). Anything not a string is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return value


Text = Annotated[str, AfterValidator(clean_text)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(clean_text),
                 AfterValidator(not_blank)]
Ident = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH), AfterValidator(clean_text),
                  AfterValidator(not_blank), AfterValidator(not_formula)]
Reason = Annotated[str, StringConstraints(max_length=MAX_REASON_LENGTH), AfterValidator(clean_text)]


def magnitude_problem(value: float, *, maximum: float = MAX_NUMBER, minimum_nonzero: float = MIN_NONZERO) -> str | None:
    """Why a finite number is out of the accepted magnitudes, or None."""
    if not math.isfinite(value):
        return "must be finite"
    if abs(value) > maximum:
        return f"must be at most {maximum:g} in magnitude (got {value:g})"
    if value != 0 and abs(value) < minimum_nonzero:
        return f"must be 0 or at least {minimum_nonzero:g} in magnitude (got {value:g})"
    return None


class NumberLoader(yaml.SafeLoader):
    """The safe loader, with YAML 1.2's floats: `1e-3` and `5E2` are numbers (YAML 1.1 reads a
    float without a dot as text). A quoted scalar stays text, so `"0.5"` is never a number."""


NumberLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"), list("-+0123456789."))


def safe_yaml_load(text: str, *, file: str):
    """Parse a YAML (or JSON) document after checking its size and its size once aliases are
    expanded, so that an alias bomb is refused in linear time, before anything is built."""
    if len(text) > MAX_YAML_BYTES:
        raise InputError.single(file, f"document larger than {MAX_YAML_BYTES:,} characters")
    try:
        nodes, depth = expanded_nodes(text)
        if depth > MAX_YAML_DEPTH:
            raise InputError.single(file, f"document nested deeper than {MAX_YAML_DEPTH} levels; refused")
        if nodes > MAX_YAML_NODES:
            raise InputError.single(file, f"document expands to more than {MAX_YAML_NODES:,} values "
                                          "(through its aliases); refused")
        return yaml.load(text, Loader=NumberLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError.single(file, f"not valid YAML or JSON: {exc}") from None


def expanded_nodes(text: str) -> tuple[int, int]:
    """Values (scalars and collections) of a YAML document with every alias expanded, and its
    deepest nesting, from the parser's events (linear in the text); stops past either limit."""
    anchored: dict[str, int] = {}
    stack: list[list] = [[None, 0]]  # [anchor, nodes so far] per open collection; the bottom is the stream
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            stack.append([event.anchor, 1])
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, size = stack.pop()
            if anchor is not None:
                anchored[anchor] = size
            stack[-1][1] += size
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchored[event.anchor] = 1
            stack[-1][1] += 1
        elif isinstance(event, yaml.AliasEvent):
            stack[-1][1] += anchored.get(event.anchor, 1)
        depth = max(depth, len(stack) - 1)
        if stack[-1][1] > MAX_YAML_NODES or depth > MAX_YAML_DEPTH:
            return stack[-1][1], depth
    return stack[0][1], depth
