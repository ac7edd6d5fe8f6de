"""Empty import templates: the header row plus one example row, in CSV, XLSX or JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from coalition.io.rows import ResourceSpec
from coalition.io.specs import SPECS, get_spec
from coalition.io.tabular import Format, detect_format

_EXTENSION: dict[Format, str] = {"csv": ".csv", "xlsx": ".xlsx", "json": ".json"}


def write_template(
    resource: str | ResourceSpec[Any], path: Path | str, format: str | None = None
) -> Path:
    """Write the template of one resource to `path`; the format comes from `format` or the
    extension. Returns the path written."""
    spec = get_spec(resource) if isinstance(resource, str) else resource
    path = Path(path)
    kind = detect_format(path, format)
    header = [c.name for c in spec.columns]
    example = [c.example for c in spec.columns]
    if kind == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerow(example)
    elif kind == "json":
        # Values as text: the reader accepts JSON numbers too, text keeps "2.50" exact.
        path.write_text(
            json.dumps([dict(zip(header, example, strict=True))], indent=2, ensure_ascii=False)
            + "\n",
            encoding="utf-8",
        )
    else:
        _write_xlsx(spec, path)
    return path


def write_templates(directory: Path | str, format: str = "csv") -> list[Path]:
    """One template per resource in `directory` (created if needed), named `<resource>.<ext>`."""
    kind = detect_format(Path(directory), format)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_template(spec, folder / f"{name}{_EXTENSION[kind]}", kind)
        for name, spec in SPECS.items()
    ]


def _write_xlsx(spec: ResourceSpec[Any], path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = spec.name
    sheet.append([c.name for c in spec.columns])
    sheet.append([c.example or None for c in spec.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, len(column.name) + 2, len(column.example))
    sheet.freeze_panes = "A2"
    # A second sheet explains each column; readers only look at the first sheet.
    help_sheet = workbook.create_sheet("columns")
    help_sheet.append(["column", "required", "format", "description"])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    for column in spec.columns:
        help_sheet.append([
            column.name,
            "yes" if column.required else "no",
            column.parse.describe(),
            column.description,
        ])
    workbook.save(path)
