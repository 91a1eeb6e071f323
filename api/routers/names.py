"""Names for the ids the API returns: markets, products, product groups, teams, reps, the plan
components of every stored plan version in words, and the people behind the tokens — so that a
client (the workbench) shows "Astrid Lindqvist" and "orders of new products" rather than R01 and
new_orders. Nothing here is a pay figure."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.db import store
from api.db.tables import PlanVersionRow, TokenRow
from api.deps import SessionDep, Viewer
from api.names import CLI_ACTOR, SERVICE_ACTOR, actor_words, component_words, dataset_words
from api.routers.common import ERRORS, NO_DATASET
from api.serialize import frame_from_json

router = APIRouter(prefix="/v1/names", tags=["session"], responses={**ERRORS, **NO_DATASET})


class Named(BaseModel):
    id: str = Field(..., description="The id the other resources use.")
    name: str = Field(..., description="What people call it.")


class ProductName(Named):
    group: str = Field(..., description="The product's group (`group:NAME` in a scope or component).")


class RepName(Named):
    market_id: str = Field(..., description="The rep's market.")
    team: str = Field(..., description="The rep's team.")


class ComponentName(BaseModel):
    component_id: str = Field(..., description="Component id.")
    metric: str = Field(..., description="revenue, margin, orders, quotes, meetings or calls.")
    products: str = Field(..., description="`*`, group:NAME or `;`-separated product ids.")
    label: str = Field(..., description="The component in words, e.g. 'orders of new products'.")


class PersonName(BaseModel):
    name: str = Field(..., description="A token's name as `created_by`, `decided_by` and the audit log's actor show it.")
    label: str = Field(..., description="Who it is in words ('the command line' for cli, 'an unnamed analyst "
                                        "token' for a token created without --name).")
    role: str | None = Field(None, description="The token's role (null for the command line).")


class NamesPublic(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "dataset": "Kestrel Automation", "currency": "EUR", "periods": ["2026-01", "2026-02"], "current_period": "2026-01",
        "markets": [{"id": "south", "name": "Southern Europe"}],
        "products": [{"id": "hmi-pro", "name": "HMI Pro operator panels", "group": "core"}],
        "groups": ["core"], "teams": ["South"],
        "reps": [{"id": "R25", "name": "Lucia Romano", "market_id": "south", "team": "South"}],
        "components": [{"component_id": "new_orders", "metric": "orders", "products": "group:new",
                        "label": "orders of new products"}],
        "people": [{"name": "cli", "label": "the command line", "role": None}]}]}}

    dataset: str = Field(..., description="The company's name.")
    currency: str = Field(..., description="Currency of every money figure.")
    periods: list[str] = Field(..., description="Period labels, in order.")
    current_period: str | None = Field(None, description="Last closed period.")
    markets: list[Named] = Field(..., description="Markets.")
    products: list[ProductName] = Field(..., description="Products with their group.")
    groups: list[str] = Field(..., description="Product groups.")
    teams: list[str] = Field(..., description="Teams.")
    reps: list[RepName] = Field(..., description="Reps with their market and team.")
    components: list[ComponentName] = Field(..., description="Every component of every stored plan version, in words "
                                            "(a review's candidates: its weight changes carry their own label).")
    people: list[PersonName] = Field(..., description="Every token's name in words, and the command line.")


@router.get("", response_model=NamesPublic)
def read_names(principal: Viewer, session: SessionDep) -> NamesPublic:
    """The names of the current dataset's markets, products, reps, teams, plan components and of the
    people behind the tokens."""
    dataset_row = store.current_dataset(session=session)
    tables = store.dataset_tables(session=session, dataset=dataset_row)
    groups, product_names = dataset_words(tables)
    markets, products, reps = tables["markets.csv"], tables["products.csv"], tables["reps.csv"]
    components: dict[str, ComponentName] = {}
    # only the components column: a plan version's targets can be large
    for content in session.scalars(select(PlanVersionRow.components)
                                   .where(PlanVersionRow.dataset_id == dataset_row.id)
                                   .order_by(PlanVersionRow.version.desc())):
        for row in frame_from_json(content).itertuples(index=False):
            components.setdefault(str(row.component_id), ComponentName(
                component_id=str(row.component_id), metric=str(row.metric), products=str(row.products),
                label=component_words(row.metric, row.products, groups=groups, product_names=product_names)))
    people = {name: PersonName(name=name, label=actor_words(name)) for name in (CLI_ACTOR, SERVICE_ACTOR)}
    for name, role in session.execute(select(TokenRow.name, TokenRow.role).order_by(TokenRow.id)):
        people[name] = PersonName(name=name, label=actor_words(name), role=role)
    company = dict(dataset_row.company)
    text = lambda value: str(value).strip()  # noqa: E731 - the tables' cells as the ids read elsewhere
    return NamesPublic(
        dataset=text(company.get("name", dataset_row.name)), currency=text(company.get("currency", "")),
        periods=[text(p) for p in company.get("periods", [])],
        current_period=None if company.get("current_period") is None else text(company["current_period"]),
        markets=[Named(id=text(r.market_id), name=text(r.name)) for r in markets.itertuples(index=False)],
        products=[ProductName(id=text(r.product_id), name=text(r.name), group=text(r.group))
                  for r in products.itertuples(index=False)],
        groups=list(groups), teams=sorted({text(t) for t in reps["team"]}),
        reps=[RepName(id=text(r.rep_id), name=text(r.name), market_id=text(r.market_id), team=text(r.team))
              for r in reps.itertuples(index=False)],
        components=list(components.values()), people=list(people.values()))
