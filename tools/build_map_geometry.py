"""Cut a compact Europe-and-surroundings GeoJSON out of world-atlas TopoJSON.

The logistics map is drawn offline in the browser, so it needs country outlines that ship with
the package. The full world at 1:50m is 740 KB of TopoJSON plus a decoder; the region the
coalition's supply lines cross (Iceland to the Caspian, North Africa to the North Cape) clipped
and rounded to 0.01 degrees (about 1 km, finer than the 1:50m source) is a fraction of that and
loads as plain GeoJSON with ``JSON.parse``.

Usage::

    python tools/build_map_geometry.py countries-50m.json out.geo.json

Only the standard library is used, so ``tools/vendor_assets.sh`` can run it with any Python 3.11+.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

# west, south, east, north in degrees. Wide enough for Iceland, Portugal, the Caucasus and the
# Levant, so a map zoomed to Ukraine and its western neighbours never shows an empty edge.
DEFAULT_BBOX: tuple[float, float, float, float] = (-26.0, 30.0, 52.0, 72.0)
DECIMALS = 2

Point = tuple[float, float]
Ring = list[Point]


def decode_arcs(topology: dict[str, Any]) -> list[list[Point]]:
    """Turn quantized, delta-encoded TopoJSON arcs into absolute lon/lat coordinates."""
    transform = topology.get("transform")
    arcs: list[list[Point]] = []
    for raw in topology["arcs"]:
        if transform is None:
            arcs.append([(float(p[0]), float(p[1])) for p in raw])
            continue
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        points: list[Point] = []
        for p in raw:
            x += p[0]
            y += p[1]
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_from_arcs(indexes: list[int], arcs: list[list[Point]]) -> Ring:
    """Join the arcs of one ring; a negative index means the arc reversed (``~i``)."""
    ring: Ring = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        # Consecutive arcs share their joining point; keep it once.
        ring.extend(arc[1:] if ring else arc)
    return ring


def clip_ring(ring: Ring, bbox: tuple[float, float, float, float]) -> Ring:
    """Sutherland-Hodgman clipping of one polygon ring against an axis-aligned box.

    Rings that cross the box edge gain segments along the edge, which is harmless for filled
    shapes and lies outside any view that is smaller than the box.
    """
    west, south, east, north = bbox
    # (axis, boundary, keep points on the greater side?)
    edges = ((0, west, True), (0, east, False), (1, south, True), (1, north, False))
    output = ring
    for axis, boundary, keep_greater in edges:
        source, output = output, []
        if not source:
            break

        def inside(p: Point, axis: int = axis, b: float = boundary, g: bool = keep_greater) -> bool:
            return p[axis] >= b if g else p[axis] <= b

        previous = source[-1]
        for current in source:
            if inside(current):
                if not inside(previous):
                    output.append(_cross(previous, current, axis, boundary))
                output.append(current)
            elif inside(previous):
                output.append(_cross(previous, current, axis, boundary))
            previous = current
    return output


def _cross(a: Point, b: Point, axis: int, boundary: float) -> Point:
    """Where segment a-b meets the line ``coordinate[axis] == boundary``."""
    t = (boundary - a[axis]) / (b[axis] - a[axis])
    if axis == 0:
        return (boundary, a[1] + t * (b[1] - a[1]))
    return (a[0] + t * (b[0] - a[0]), boundary)


def compact(ring: Ring) -> list[list[float]]:
    """Round, drop repeated points and close the ring; rings that collapse are dropped."""
    out: list[list[float]] = []
    for lon, lat in ring:
        point = [round(lon, DECIMALS), round(lat, DECIMALS)]
        if not out or out[-1] != point:
            out.append(point)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    if len(out) < 3:
        return []
    out.append(out[0])
    return out


def build(topology: dict[str, Any], bbox: tuple[float, float, float, float]) -> dict[str, Any]:
    arcs = decode_arcs(topology)
    features: list[dict[str, Any]] = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        kind = geometry.get("type")
        if kind == "Polygon":
            polygons = [geometry["arcs"]]
        elif kind == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue  # null geometries carry no outline
        clipped: list[list[list[list[float]]]] = []
        for polygon in polygons:
            rings = [compact(clip_ring(ring_from_arcs(r, arcs), bbox)) for r in polygon]
            # A polygon whose outer ring left the box is gone, whatever its holes did.
            if rings and rings[0]:
                clipped.append([r for r in rings if r])
        if not clipped:
            continue
        features.append(
            {
                "type": "Feature",
                "id": geometry.get("id"),
                "properties": {"name": geometry.get("properties", {}).get("name")},
                "geometry": {"type": "MultiPolygon", "coordinates": clipped},
            }
        )
    features.sort(key=lambda f: str(f["properties"]["name"]))
    return {"type": "FeatureCollection", "bbox": list(bbox), "features": features}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="world-atlas countries-*.json (TopoJSON)")
    parser.add_argument("target", type=Path, help="GeoJSON file to write")
    parser.add_argument(
        "--bbox",
        type=float,
        nargs=4,
        default=DEFAULT_BBOX,
        metavar=("WEST", "SOUTH", "EAST", "NORTH"),
    )
    args = parser.parse_args()
    topology = json.loads(args.source.read_text(encoding="utf-8"))
    collection = build(topology, tuple(args.bbox))
    # One feature per line keeps diffs readable when the source is re-vendored.
    features = collection["features"]
    lines = [json.dumps(f, separators=(",", ":"), ensure_ascii=False) for f in features]
    text = (
        '{"type":"FeatureCollection","bbox":'
        + json.dumps(collection["bbox"], separators=(",", ":"))
        + ',"features":[\n'
        + ",\n".join(lines)
        + "\n]}\n"
    )
    args.target.parent.mkdir(parents=True, exist_ok=True)
    args.target.write_text(text, encoding="utf-8")
    print(f"{args.target}: {len(collection['features'])} countries, {len(text.encode())} bytes")


if __name__ == "__main__":
    main()
