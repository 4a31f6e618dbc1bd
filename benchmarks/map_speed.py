"""What the map adds to `consolidate --no-images`, timed on a synthetic view of N territories.

    python benchmarks/map_speed.py [-n 1000] [--repeat 5]

The territories sit in real EPCI of all of France (the shipped shapes, cycled), every ORT status
in turn, so every shape is drawn: the national worst case. Times, best of --repeat: reading the
shapes (once a process), the map's block of the dashboard (figure + JSON), and the map's page of
`graphiques-<period>/`, and the sizes of what they write.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from pvd_reporting.consolidate.view import Consolidation, RegionView, TerritoryView  # noqa: E402
from pvd_reporting.format.schema import NOT_RECEIVED, ORT_STATUSES  # noqa: E402
from pvd_reporting.outputs.dashboard.plots import status_map  # noqa: E402
from pvd_reporting.outputs.dashboard.region_map import figure_json, load_shapes, map_page  # noqa: E402

PERIOD = "2025-T4"


def synthetic_view(n: int) -> Consolidation:
    shapes = load_shapes()
    sirens = list(shapes.epci)
    statuses = [*ORT_STATUSES, NOT_RECEIVED]
    territories = []
    for i in range(n):
        siren = sirens[i % len(sirens)]
        status = statuses[i % len(statuses)]
        territories.append(TerritoryView(
            key=f"pvd-00-{i:04d}", id_pvd=f"pvd-00-00-{i}", name=f"Territoire {i}",
            department=shapes.epci[siren].within[0], siren=siren, received=status != NOT_RECEIVED,
            ort_status=status, days_left=(i % 400) - 100, last_milestone="J5 — Stratégie de revitalisation validée"))
    region = RegionView(period=PERIOD, as_of=date(2025, 12, 31), region="France", expected=n, received=n,
                        valid=n, missing=0, ort_signed=0, ort_signed_share=None, median_months_j1_j8=None,
                        at_risk=0, overdue=0, leads_in_post=0, cadence_held=0)
    return Consolidation(region=region, territories=territories, reports=[])


def best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU time (the CPU time stays fair on a machine others share)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def measure(n: int, repeat: int) -> dict[str, tuple[float, float]]:
    cons = synthetic_view(n)

    def block() -> str:
        return figure_json(status_map(cons).figure)

    def chart_page() -> str:
        return map_page(status_map(cons, note_unmapped=True).figure, "Carte", "plotly.min.js")

    def cold_shapes() -> object:
        load_shapes.cache_clear()
        return load_shapes()

    shapes_s, block_s, page_s = best(cold_shapes, repeat), best(block, repeat), best(chart_page, repeat)
    total = (shapes_s[0] + block_s[0] + page_s[0], shapes_s[1] + block_s[1] + page_s[1])
    return {"shapes_s": shapes_s, "block_s": block_s, "chart_page_s": page_s, "total_s": total,
            "bytes": (float(len(block().encode())), float(len(chart_page().encode())))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    r = measure(args.n, args.repeat)
    print(f"Carte, {args.n} territoires (meilleur de {args.repeat}, temps écoulé / temps CPU) :")
    for key, text in (("shapes_s", "lecture des contours"), ("block_s", "bloc du tableau de bord"),
                      ("chart_page_s", "page graphiques/carte"), ("total_s", "total ajouté à consolidate")):
        wall, cpu = r[key]
        print(f"  {text:<28}{wall * 1000:7.1f} ms / {cpu * 1000:7.1f} ms")
    block_bytes, page_bytes = r["bytes"]
    print(f"  taille : bloc {block_bytes / 1e6:.2f} Mo, page {page_bytes / 1e6:.2f} Mo")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
