"""Names people read instead of ids: a plan component in words ("margin on HMI Pro operator panels",
"orders of new products"), the person or tool behind an audit actor ("the command line", "an
unnamed analyst token"), and the dataset's names for markets, products, reps and teams.

The workbench reads these from `GET /v1/names` (and each review's components from its weight
changes), the committee workbook (api/export.py) from here directly, so a component reads the
same on the page and in the file. Ids stay available beside the words (hover, a column).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from models.dataset import GROUP_PREFIX

METRIC_WORDS = {"revenue": "revenue", "margin": "margin", "orders": "orders", "quotes": "quotes",
                "meetings": "meetings", "calls": "calls"}
MONEY_METRICS = ("revenue", "margin")
PRODUCTS_LISTED = 3  # a component on more products names the first ones and counts the rest

# the names `comptune token create` and the test fixtures give a token when none is chosen
DEFAULT_TOKEN_NAME = re.compile(r"^(viewer|analyst|approver|admin)-token(?:-(\d+))?$")
CLI_ACTOR = "cli"
SERVICE_ACTOR = "service"  # the jobs the service runs record their outcome as this actor


def component_words(metric: str, products: str, *, groups: Mapping[str, Iterable[str]],
                    product_names: Mapping[str, str]) -> str:
    """A component's metric and product spec in words.

    `groups` maps a group to its product ids, `product_names` a product id to its name. "*" is every
    product ("revenue"); `group:new` reads "new products"; a list of ids that is exactly one group
    reads as that group; otherwise the products by name ("margin on HMI Pro and MES Core").
    """
    what = METRIC_WORDS.get(str(metric), str(metric))
    spec = str(products).strip()
    if spec in ("", "*"):
        return what
    joiner = "on" if metric in MONEY_METRICS else "of"
    if spec.startswith(GROUP_PREFIX):
        return f"{what} {joiner} {spec[len(GROUP_PREFIX):]} products"
    ids = [p.strip() for p in spec.split(";") if p.strip()]
    for group, members in groups.items():
        if set(ids) == set(members) and len(ids) > 1:
            return f"{what} {joiner} {group} products"
    names = [product_names.get(p, p) for p in ids]
    if len(names) > PRODUCTS_LISTED:
        listed = ", ".join(names[:PRODUCTS_LISTED - 1])
        return f"{what} {joiner} {listed} and {len(names) - PRODUCTS_LISTED + 1} more products"
    if len(names) > 1:
        return f"{what} {joiner} {', '.join(names[:-1])} and {names[-1]}"
    return f"{what} {joiner} {names[0]}"


def actor_words(name: str) -> str:
    """Who an audit actor or a `created_by` is, in words: the command line for `cli`, "an unnamed
    analyst token" for a token created without `--name`, the token's name otherwise."""
    if name == CLI_ACTOR:
        return "the command line"
    if name == SERVICE_ACTOR:
        return "the service"
    match = DEFAULT_TOKEN_NAME.match(name)
    if match:
        role, number = match.groups()
        return f"an unnamed {role} token" + (f" (#{number})" if number else "")
    return name


def dataset_words(tables: Mapping[str, object]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """(groups → product ids, product id → name) from a dataset's `products.csv` frame."""
    products = tables["products.csv"]
    groups: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for row in products.itertuples(index=False):
        product_id = str(row.product_id).strip()
        groups.setdefault(str(row.group).strip(), []).append(product_id)
        names[product_id] = str(row.name).strip()
    return groups, names
