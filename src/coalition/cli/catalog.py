"""`coalition catalog ...`"""

from __future__ import annotations

import typer

from coalition.catalog import service as catalog_service
from coalition.catalog.models import CapabilityArea
from coalition.catalog.schemas import ItemTypeRead
from coalition.cli._run import JsonOption, print_json, print_record, print_table, service_call

app = typer.Typer(help="The catalog of item types.", no_args_is_help=True)


@app.command("list")
def list_items(
    category: str | None = typer.Option(None, help="Category code (includes sub-categories)."),
    area: CapabilityArea | None = typer.Option(None, "--area", help="Capability area."),
    group: str | None = typer.Option(None, "--group", help="Compatibility group."),
    search: str | None = typer.Option(None, "--search", "-q"),
    limit: int = typer.Option(100, min=1, max=500),
    as_json: bool = JsonOption,
) -> None:
    """List item types."""
    rows = service_call(lambda s: [ItemTypeRead.model_validate(i) for i in
                                   catalog_service.list_item_types(
                                       s, category=category, capability_area=area,
                                       compatibility_group=group, search=search,
                                       limit=limit).items])
    if as_json:
        print_json(rows)
        return
    print_table("Item types", ["code", "name", "unit", "EUR/unit", "area", "group"],
                [(i.code, i.name, i.unit, f"{i.unit_value_eur:,.0f}" if i.unit_value_eur else "",
                  i.capability_area.value, i.compatibility_group or "") for i in rows],
                numeric=["EUR/unit"])


@app.command("show")
def show_item(code: str, as_json: bool = JsonOption) -> None:
    """Show an item type and its substitutes."""
    item, subs = service_call(lambda s: (
        ItemTypeRead.model_validate(catalog_service.get_item_type(s, code=code)),
        [ItemTypeRead.model_validate(i) for i in catalog_service.substitutes(s, code=code)]))
    if as_json:
        print_json({"item_type": item, "substitutes": subs})
        return
    print_record(item.name, item)
    if subs:
        print_table("Substitutes (same compatibility group)", ["code", "name"],
                    [(i.code, i.name) for i in subs])
