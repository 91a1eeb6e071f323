"""The limits of models/limits.py and the strict CSV reading: sizes worked out by hand."""

from __future__ import annotations

import pytest

from models.dataset import out_of_order, parse_csv
from models.errors import InputError
from models.limits import MAX_YAML_DEPTH, MAX_YAML_NODES, expanded_nodes, safe_yaml_load, text_problem


def test_expanded_nodes_counts_aliases_as_their_anchors():
    # root mapping 1 + key a 1 + list 1 + 2 scalars + key b 1 + alias (3 nodes) = 9
    assert expanded_nodes("a: &x [1, 2]\nb: *x\n") == (9, 2)


def test_an_alias_bomb_is_refused_and_a_plain_document_is_read():
    lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 8)]
    with pytest.raises(InputError, match=f"{MAX_YAML_NODES:,}"):
        safe_yaml_load("\n".join(lines), file="bomb.yaml")
    with pytest.raises(InputError, match=f"deeper than {MAX_YAML_DEPTH}"):
        safe_yaml_load("[" * 60 + "]" * 60, file="deep.yaml")
    assert safe_yaml_load('demand: 5e-1\nreason: "1e3"\n', file="ok.yaml") == {"demand": 0.5, "reason": "1e3"}


@pytest.mark.parametrize("text, problem", [("ok\ttext\n", None), ("nul\x00", "NUL"), ("\udfff", "surrogate"),
                                           ("bell\x07", "control")])
def test_text_problem(text, problem):
    found = text_problem(text)
    assert (found is None) if problem is None else (problem in found)


def test_periods_out_of_order_only_for_recognised_labels():
    assert out_of_order(["2026-01", "2026-03", "2026-02"]) == [("2026-03", "2026-02")]
    assert out_of_order(["2026-Q2", "2026-Q1"]) == [("2026-Q2", "2026-Q1")]
    assert out_of_order(["10", "9"]) == [("10", "9")]
    assert out_of_order(["spring", "autumn"]) == []


def test_parse_csv_is_strict_about_columns_and_fields():
    frame = parse_csv("a, b\n1, 2\n\n3,4\n", "t.csv")
    assert list(frame.columns) == ["a", "b"] and frame.values.tolist() == [["1", "2"], ["3", "4"]]
    with pytest.raises(InputError, match=r"t.csv, line 2: row has 3 fields, the header has 2"):
        parse_csv("a,b\n1,2,3\n", "t.csv")
    with pytest.raises(InputError, match="'a': column appears twice"):
        parse_csv("a,b,a\n1,2,3\n", "t.csv")
    with pytest.raises(InputError, match="empty"):
        parse_csv("", "t.csv")
