"""Derive the dashboard map's shapes (package data) from the ANCT outlines of ../shared/data.

    python scripts/make_shapes.py [--source-dir ../shared/data] [--output-dir pvd_reporting/outputs/dashboard/shapes]

Reads `epci-fr-2025.geojson` and `departements-fr-2025.geojson` (IGN Admin Express generalised by
ANCT, WGS84) and writes `epci.json` and `departements.json` (each shape with its name, `in` — the départements of an
EPCI, the région of a département — and its rings): every ring simplified by
Douglas–Peucker, coordinates rounded to 4 decimals (about 10 m), in a compact form the map reads
without any geometry library. Deterministic: the same sources give the same bytes, and a test
checks that the shipped files are what this script makes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from pvd_reporting.outputs.dashboard.region_map import (  # noqa: E402
    ATTRIBUTION,
    DEPARTMENTS_FILE,
    EPCI_FILE,
    SHAPES_DIR,
)

SOURCE_DIR = REPO.parent / "shared" / "data"
EPCI_SOURCE = "epci-fr-2025.geojson"
DEPARTMENTS_SOURCE = "departements-fr-2025.geojson"
DECIMALS = 4
# Degrees: about 30 m, below what a regional map at screen size can show, so shapes keep their
# look while near-collinear points go.
TOLERANCE = 0.0003

Point = tuple[float, float]


def _distance2(p: Point, a: Point, b: Point) -> float:
    """Squared distance from p to the segment ab."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == 0 and dy == 0:
        return (p[0] - a[0]) ** 2 + (p[1] - a[1]) ** 2
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return (p[0] - a[0] - t * dx) ** 2 + (p[1] - a[1] - t * dy) ** 2


def douglas_peucker(points: list[Point], tolerance: float) -> list[Point]:
    """The points kept by Douglas–Peucker (iterative: rings of any length, no recursion limit)."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    limit = tolerance * tolerance
    while stack:
        first, last = stack.pop()
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            d = _distance2(points[i], points[first], points[last])
            if d > worst:
                worst, index = d, i
        if index >= 0 and worst > limit:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def simplify_ring(ring: list[list[float]]) -> list[float]:
    """A closed ring, simplified and rounded, as a flat list x0, y0, x1, y1, … (closed)."""
    points = [(round(x, DECIMALS), round(y, DECIMALS)) for x, y, *_ in ring]
    deduped = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    simplified = douglas_peucker(deduped, TOLERANCE)
    if len(simplified) < 4:  # a ring needs three distinct corners: keep a tiny island as it was
        simplified = deduped
    return [c for p in simplified for c in p]


def _rings(geometry: dict[str, Any]) -> list[list[float]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [simplify_ring(ring) for polygon in polygons for ring in polygon if len(ring) >= 4]


def derive_epci(source: dict[str, Any]) -> dict[str, Any]:
    """By SIREN. The source cuts an EPCI that spans départements into one feature a département:
    its rings are joined again. The few features without a SIREN (island communes outside any
    EPCI) cannot be matched to a territory and are left out."""
    merged: dict[str, dict[str, Any]] = {}
    for f in source["features"]:
        p = f["properties"]
        if not p.get("siren_epci"):
            continue
        entry = merged.setdefault(p["siren_epci"], {"name": p["lib_epci"], "in": [], "rings": []})
        if p["insee_dep"] not in entry["in"]:
            entry["in"].append(p["insee_dep"])
        entry["rings"] += _rings(f["geometry"])
    features = {siren: {**e, "in": sorted(e["in"])} for siren, e in sorted(merged.items())}
    return {"attribution": ATTRIBUTION, "source": EPCI_SOURCE, "features": features}


def derive_departments(source: dict[str, Any]) -> dict[str, Any]:
    features = {}
    for f in sorted(source["features"], key=lambda f: f["properties"]["insee_dep"]):
        p = f["properties"]
        features[p["insee_dep"]] = {"name": p["lib_dep"], "in": [p["insee_reg"]], "rings": _rings(f["geometry"])}
    return {"attribution": ATTRIBUTION, "source": DEPARTMENTS_SOURCE, "features": features}


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path, default=SOURCE_DIR)
    parser.add_argument("--output-dir", type=Path, default=SHAPES_DIR)
    args = parser.parse_args(argv)
    sources = [args.source_dir / EPCI_SOURCE, args.source_dir / DEPARTMENTS_SOURCE]
    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        print(f"Fichier source introuvable : {', '.join(missing)}", file=sys.stderr)
        return 2
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for derive, source, name in ((derive_epci, sources[0], EPCI_FILE), (derive_departments, sources[1], DEPARTMENTS_FILE)):
        data = derive(json.loads(source.read_text("utf-8")))
        (args.output_dir / name).write_text(dumps(data), "utf-8")
        print(f"{name} : {len(data['features'])} contours, {(args.output_dir / name).stat().st_size} octets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
