"""Benchmark of the speed targets (docs/vitesse.md): consolidate against the floor and the plain pandas approach, in one run.

    python benchmarks/run.py [-n 1000] [--repeat 2] [--work DIR]
    python benchmarks/run.py --targets [-n 250] [--quarters 4] [--repeat 1]

Generates N workbooks with the project's writer (kept in --work between runs), then times, each
at least twice: the floor (python-calamine read + xlsxwriter write of the same rows), the plain
approach (pandas read_excel with openpyxl, concat, to_excel), `pvd-report consolidate
--no-images` end to end with its peak memory (whole process tree), cold (an empty cache, which it
fills) then warm (the same cache: nothing parsed), the same at N/4 and N/2, the load time of one
cache entry, and `pvd-report validate` on one workbook. Prints the ratios the targets are stated in.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pvd_reporting.format.schema import Schema

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from pvd_reporting.format.reference import SHIPPED_REFERENCE  # noqa: E402

REFERENCE = SHIPPED_REFERENCE  # the ANCT list of 2021, shipped with the package


def floor(paths: list[Path], out: Path) -> None:
    """The least any tool must do: read every sheet with calamine, write the rows with xlsxwriter."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    tables: dict[str, list[list[Any]]] = {}
    for path in paths:
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=True)
            # Blank rows skipped, as any reader must (the tables' hidden row under the header).
            tables.setdefault(name, []).extend(row for row in rows[1:] if any(v != "" for v in row))
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    for name, rows in tables.items():
        ws = book.add_worksheet(name[:31])
        for r, row in enumerate(rows):
            ws.write_row(r, 0, row)
    book.close()


def plain(paths: list[Path], out: Path) -> None:
    """What a data analyst would write first."""
    import pandas as pd

    frames: dict[str, list[object]] = {}
    for path in paths:
        for name, frame in pd.read_excel(path, sheet_name=None, engine="openpyxl").items():
            frames.setdefault(name, []).append(frame)
    with pd.ExcelWriter(out) as writer:
        for name, parts in frames.items():
            pd.concat(parts, ignore_index=True).to_excel(writer, sheet_name=name[:31], index=False)


class PeakRss:
    """Memory of a process and all its descendants, sampled every 20 ms.

    `peak` sums their RSS: pages shared between processes (libraries, a fork's copy-on-write
    pages) count once per process, so it overstates the tree's use. `peak_pss` sums their PSS
    (each shared page divided among its sharers): the memory the tree really holds.
    """

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.peak_pss, self._stop = pid, 0, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self, pid: int) -> list[int]:
        out = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    for child in fh.read().split():
                        out.extend(self._tree(int(child)))
        except OSError:
            pass
        return out

    def _memory(self, pid: int) -> tuple[int, int]:
        rss = pss = 0
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Rss:"):
                        rss = int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss = int(line.split()[1]) * 1024
        except OSError:
            pass
        return rss, pss

    def _run(self) -> None:
        while not self._stop.is_set():
            samples = [self._memory(p) for p in self._tree(self.pid)]
            self.peak = max(self.peak, sum(r for r, _ in samples))
            self.peak_pss = max(self.peak_pss, sum(p for _, p in samples))
            time.sleep(0.02)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.peak, self.peak_pss


def history_floor(paths: list[Path], latest: list[Path], out: Path) -> None:
    """The floor of a history run: read every quarter's files, write the consolidated quarter's rows."""
    from python_calamine import CalamineWorkbook

    for path in paths:
        if path in latest:
            continue
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python(skip_empty_area=True)
    floor(latest, out)


def history(args: argparse.Namespace) -> None:
    """Consolidate K quarters of N workbooks: cold (empty cache) against the floor, warm (cache
    filled), peak memory, and the time each added quarter costs."""
    from generate import generate_history, quarter_labels

    from pvd_reporting.format.reference import load_reference
    from pvd_reporting.format.schema import build_schema

    schema = build_schema()
    reference = load_reference(REFERENCE) if REFERENCE.exists() else None
    n, quarters = args.n, quarter_labels(args.quarters)
    t0 = time.perf_counter()
    src = args.work / f"historique-{args.quarters}x{n}-{data_stamp(schema)}"
    by_quarter = generate_history(src, n, quarters, schema, reference)
    every = [p for q in quarters for p in by_quarter[q]]
    print(f"{len(every)} classeurs prêts dans {src} ({len(quarters)} trimestres × {n}, "
          f"{time.perf_counter() - t0:.1f} s)")
    tmp = Path(tempfile.mkdtemp(prefix="pvd-bench-history-"))
    try:
        floor_s = best(lambda: history_floor(every, by_quarter[quarters[-1]], tmp / "floor.xlsx"), args.repeat)
        print(f"plancher (calamine {len(every)} + xlsxwriter {n})  : {floor_s:7.2f} s")
        cache = tmp / "cache"
        out = tmp / "out"
        cold, cold_peak = run_cli(["consolidate", str(src), "--output-dir", str(out), "--no-images", "--quiet",
                                   "--cache", str(cache)])
        print(f"consolidate à froid (cache vide)      : {cold:7.2f} s, mémoire max {cold_peak[0] / 2**20:.0f} Mo "
              f"(RSS), {cold_peak[1] / 2**20:.0f} Mo (PSS)")
        warm, warm_peak = run_cli(["consolidate", str(src), "--output-dir", str(out), "--no-images", "--quiet",
                                   "--cache", str(cache)])
        print(f"consolidate à chaud (cache rempli)    : {warm:7.2f} s, mémoire max {warm_peak[0] / 2**20:.0f} Mo")
        by_count: dict[int, float] = {}
        for k in range(1, len(quarters) + 1):
            paths = [str(src / q) for q in quarters[-k:]]
            shutil.rmtree(out, ignore_errors=True)
            by_count[k] = run_cli(["consolidate", *paths, "--output-dir", str(out), "--no-images", "--quiet"])[0]
            print(f"consolidate de {k} trimestre(s), sans cache : {by_count[k]:7.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"Machine : {platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()}")
    print(f"à froid / plancher                    : {cold / floor_s:.2f}×  (objectif ≤ 2×)")
    print(f"à chaud / à froid                     : {100 * warm / cold:.0f} %  (objectif ≤ 25 %)")
    print(f"mémoire max, somme des RSS            : {max(cold_peak[0], warm_peak[0]) / 2**20:.0f} Mo  "
          "(objectif < 600 Mo)")
    added = [by_count[k] - by_count[k - 1] for k in range(2, len(quarters) + 1)]
    print("temps par trimestre ajouté            : " + ", ".join(f"+{a:.2f} s" for a in added)
          + "  (à peu près constant attendu)")


def targets(args: argparse.Namespace) -> None:
    """The waiting times of a referent's quarter, each as a ratio measured in this one run:
    `template --region` (99 workbooks, and the same written by the writer alone), the demo's
    `consolidate` with images against `--no-images`, one quarter of N workbooks against the
    floor, and K quarters of N cold against the floor, warm against cold, peak memory."""
    from generate import generate, generate_history, quarter_labels

    from pvd_reporting.format.reference import load_reference
    from pvd_reporting.format.schema import build_schema

    schema = build_schema()
    reference = load_reference(REFERENCE) if REFERENCE.exists() else None
    tmp = Path(tempfile.mkdtemp(prefix="pvd-bench-targets-"))
    lines: list[tuple[str, str, str]] = []
    try:
        if reference is not None:
            region = ["template", "--region", "Grand Est", "--reference", str(REFERENCE), "--quiet", "--force"]
            template_s = min(run_cli([*region, "--output-dir", str(tmp / f"modeles-{i}")])[0] for i in range(args.repeat))
            count = len(list((tmp / "modeles-0").glob("*.xlsx")))
            writer_s = best(lambda: writer_only(schema, reference, tmp / "writer"), 1)
            print(f"template --region ({count} classeurs)       : {template_s:7.2f} s "
                  f"(écrits un à un par xlsxwriter, sans squelette : {writer_s:.2f} s)")
            lines.append((f"template --region, {count} classeurs", f"{template_s:.2f} s "
                          f"(xlsxwriter seul : {writer_s / template_s:.1f}× plus long)", "≤ 3 s"))
            attach_ms, template_ms = attachment_cost(schema, reference)
            whole_ms = writer_s / count * 1000
            print(f"pièce jointe reconduite / modèle pré-rempli / modèle écrit en entier : {attach_ms:.1f} ms / "
                  f"{template_ms:.1f} ms / {whole_ms:.1f} ms par classeur")
            lines.append(("pièce jointe d'une relance (classeur reconduit) / un modèle écrit en entier",
                          f"{attach_ms / whole_ms:.2f}× ({attach_ms:.0f} ms / {whole_ms:.0f} ms)", "≤ 1×"))
        demo = REPO / "workbooks"
        common = ["consolidate", str(demo), "--quiet", "--no-cache"]
        if reference is not None:
            common += ["--reference", str(REFERENCE)]
        # Times only: the memory sampler would slow the run with images (Chromium's processes) more.
        plain_s = min(run_cli([*common, "--no-images", "--output-dir", str(tmp / "demo-a")], memory=False)[0]
                      for _ in range(args.repeat))
        images_s = min(run_cli([*common, "--output-dir", str(tmp / "demo-b")], memory=False)[0]
                       for _ in range(args.repeat))
        print(f"démo consolidate avec images / sans     : {images_s:7.2f} s / {plain_s:.2f} s")
        lines.append(("démo, images / --no-images", f"{images_s / plain_s:.2f}× ({images_s:.1f} s / {plain_s:.1f} s)",
                      "≤ 2,5×"))

        n = args.n
        one_src = args.work / f"classeurs-{n}-{data_stamp(schema)}"
        paths = generate(one_src, n, schema, reference)
        floor_s = best(lambda: floor(paths, tmp / "floor.xlsx"), args.repeat)
        one = min(cold(one_src, tmp / "one", tmp / "one-cache")[0] for _ in range(args.repeat))
        print(f"un trimestre de {n} : consolidate / plancher : {one:7.2f} s / {floor_s:.2f} s")
        lines.append((f"un trimestre, {n} classeurs / plancher", f"{one / floor_s:.2f}×", "≤ 1,6×"))

        quarters = quarter_labels(args.quarters)
        start = time.perf_counter()
        src = args.work / f"historique-{args.quarters}x{n}-{data_stamp(schema)}"
        by_quarter = generate_history(src, n, quarters, schema, reference)
        print(f"{args.quarters} × {n} classeurs prêts ({time.perf_counter() - start:.1f} s)")
        every = [p for q in quarters for p in by_quarter[q]]
        hfloor = best(lambda: history_floor(every, by_quarter[quarters[-1]], tmp / "hfloor.xlsx"), args.repeat)
        cache = tmp / "hcache"
        hcold, cold_peak = run_cli(["consolidate", str(src), "--output-dir", str(tmp / "hout"), "--no-images",
                                    "--quiet", "--cache", str(cache)])
        hwarm, warm_peak = run_cli(["consolidate", str(src), "--output-dir", str(tmp / "hout"), "--no-images",
                                    "--quiet", "--cache", str(cache)])
        drafts = len(list((tmp / "hout").glob("relances-*/*.eml")))
        peak = max(cold_peak[0], warm_peak[0]) / 2**20
        peak_pss = max(cold_peak[1], warm_peak[1]) / 2**20
        print(f"{args.quarters} trimestres : froid {hcold:.2f} s, chaud {hwarm:.2f} s, plancher {hfloor:.2f} s, "
              f"{drafts} brouillons de relance, mémoire max {peak_pss:.0f} Mo (PSS), {peak:.0f} Mo (RSS)")
        lines.append((f"{args.quarters} trimestres × {n}, à froid / plancher",
                      f"{hcold / hfloor:.2f}× ({hcold:.1f} s / {hfloor:.1f} s, {drafts} brouillons)", "≤ 2×"))
        lines.append(("le même, à chaud / à froid", f"{100 * hwarm / hcold:.0f} % ({hwarm:.1f} s)", "≤ 25 %"))
        # The outputs are written by forked processes sharing the parent's pages: the sum of
        # their RSS counts those pages once per process; PSS divides each among its sharers.
        lines.append(("le même, mémoire max : somme des PSS (des RSS)", f"{peak_pss:.0f} Mo ({peak:.0f} Mo)",
                      "≤ 600 Mo"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"Machine : {platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()}")
    print("| mesure | cette exécution | objectif |")
    print("| --- | --- | --- |")
    for what, value, goal in lines:
        print(f"| {what} | {value} | {goal} |")


def attachment_cost(schema: Schema, reference: object) -> tuple[float, float]:
    """Per workbook, in ms: a reminder's attachment (a generated workbook carried forward to the
    next quarter, as bytes) and a pre-filled template (as bytes), over the region's territories."""
    from generate import territory_data

    from pvd_reporting.format.reference import Reference
    from pvd_reporting.outputs.workbook.carry import carried_bytes, prefilled_bytes

    assert isinstance(reference, Reference)
    territories = reference.in_region("Grand Est")
    sources = [territory_data(schema, i, t) for i, t in enumerate(territories)]
    start = time.perf_counter()
    for data in sources:
        carried_bytes(schema, data, "2026-T1")
    carried = (time.perf_counter() - start) / len(sources)
    start = time.perf_counter()
    for territory in territories:
        prefilled_bytes(schema, territory, "2026-T1")
    template = (time.perf_counter() - start) / len(territories)
    return carried * 1000, template * 1000


def writer_only(schema: Schema, reference: object, out: Path) -> None:
    """The region's workbooks written one by one by the writer, without the skeleton: what
    `template --region` cost before it (the formulas' preparation is remembered all the same)."""
    from pvd_reporting.format.reference import Reference
    from pvd_reporting.outputs.workbook.template import template_content
    from pvd_reporting.outputs.workbook.writer import write_workbook

    assert isinstance(reference, Reference)
    out.mkdir(parents=True, exist_ok=True)
    for i, territory in enumerate(reference.in_region("Grand Est")):
        write_workbook(out / f"{i}.xlsx", schema, template_content(schema, territory=territory), force=True)


def data_stamp(schema: Schema) -> str:
    """The format and configuration the generated workbooks follow, and the generator itself:
    workbooks kept in --work from an earlier format or generator are not reused (they would be
    measured full of errors)."""
    import hashlib

    # The generator and the workbook writer it calls: a change in how a workbook is written (its
    # dimension, its cells) is a change in what the benchmark reads.
    sources = [HERE / "generate.py", *sorted((REPO / "pvd_reporting" / "outputs" / "workbook").glob("*.py"))]
    generator = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    return hashlib.sha256(f"{schema.version}|{schema.config.fingerprint}|{generator}".encode()).hexdigest()[:8]


def run_cli(args: list[str], *, memory: bool = True) -> tuple[float, tuple[int, int]]:
    """Time one command (and its peak memory, unless `memory` is False: reading every process's
    smaps_rollup every 20 ms costs the measured processes time, the more so the more of them
    there are, as with Chromium's)."""
    cmd = [sys.executable, "-m", "pvd_reporting", *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = PeakRss(proc.pid) if memory and Path("/proc").exists() else None
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    peak = sampler.stop() if sampler else (0, 0)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} a échoué ({proc.returncode}) :\n{err.decode()}")
    return elapsed, peak


def consolidate_args(src: Path, out: Path, cache: Path) -> list[str]:
    return ["consolidate", str(src), "--output-dir", str(out), "--no-images", "--quiet", "--cache", str(cache)]


def cold(src: Path, out: Path, cache: Path) -> tuple[float, tuple[int, int]]:
    """A first run: every workbook parsed, and its cache entry written."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    return run_cli(consolidate_args(src, out, cache))


def warm(src: Path, out: Path, cache: Path) -> tuple[float, tuple[int, int]]:
    """A second run over the cache a cold run filled: nothing parsed."""
    shutil.rmtree(out, ignore_errors=True)
    return run_cli(consolidate_args(src, out, cache))


def entry_load_ms(paths: list[Path], cache: Path, schema: Schema) -> tuple[float, float]:
    """Per entry, in ms: the whole lookup (the file's hash, then its entry read and decoded), and
    the decoding alone."""
    from pvd_reporting.cache import Cache
    from pvd_reporting.consolidate.report_entry import REPORTS, ReportCache

    folder = Cache(cache)
    store = ReportCache(folder, schema)  # no reference list, as the CLI is run here
    start = time.perf_counter()
    hits = sum(store.lookup(p) is not None for p in paths)
    lookup = time.perf_counter() - start
    if hits != len(paths):
        raise SystemExit(f"cache incomplet : {hits} entrées sur {len(paths)}")
    keys = [store.key(p) for p in paths]
    start = time.perf_counter()
    for key in keys:
        assert key is not None
        folder.load(REPORTS, key)
    decode = time.perf_counter() - start
    return lookup / len(paths) * 1000, decode / len(paths) * 1000


def reading(paths: list[Path], cache: Path, schema: Schema) -> tuple[float, float]:
    """`read_all` alone, in seconds: into an empty cache (every file parsed, on every core), then
    from that cache. The rest of consolidate (the outputs) costs the same warm or cold."""
    from pvd_reporting.consolidate.reading import read_all

    shutil.rmtree(cache, ignore_errors=True)
    start = time.perf_counter()
    read_all(paths, schema, cache=cache)
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    read_all(paths, schema, cache=cache)
    return cold_s, time.perf_counter() - start


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description="Mesure les objectifs de vitesse (docs/vitesse.md).")
    parser.add_argument("-n", type=int, default=1000, help="nombre de classeurs (défaut 1000)")
    parser.add_argument("--repeat", type=int, default=2, help="mesures par étape, la meilleure est gardée")
    parser.add_argument("--work", type=Path, default=HERE / "out", help="dossier de travail (gardé)")
    parser.add_argument("--skip-plain", action="store_true", help="ne mesure pas l'approche pandas")
    parser.add_argument("--history", action="store_true",
                        help="mesure l'historique : --quarters trimestres de N classeurs chacun")
    parser.add_argument("--quarters", type=int, default=4, help="trimestres de la mesure --history (défaut 4)")
    parser.add_argument("--targets", action="store_true",
                        help="mesure les attentes du référent : template --region, images, un trimestre, "
                             "--quarters trimestres (rapports mesurés dans la même exécution)")
    args = parser.parse_args()
    if args.targets:
        targets(args)
        return
    if args.history:
        history(args)
        return

    from generate import generate

    from pvd_reporting.format.reference import load_reference
    from pvd_reporting.format.schema import build_schema

    schema = build_schema()
    reference = load_reference(REFERENCE) if REFERENCE.exists() else None
    n = args.n
    t0 = time.perf_counter()
    src = args.work / f"classeurs-{n}-{data_stamp(schema)}"
    paths = generate(src, n, schema, reference)
    print(f"{n} classeurs prêts dans {src} ({time.perf_counter() - t0:.1f} s)")

    tmp = Path(tempfile.mkdtemp(prefix="pvd-bench-"))
    results: dict[str, float] = {}
    try:
        results["floor"] = best(lambda: floor(paths, tmp / "floor.xlsx"), args.repeat)
        print(f"plancher (calamine + xlsxwriter)      : {results['floor']:7.2f} s")
        if not args.skip_plain:
            results["plain"] = best(lambda: plain(paths, tmp / "plain.xlsx"), args.repeat)
            print(f"approche simple (pandas + openpyxl)   : {results['plain']:7.2f} s")
        peaks = []
        runs = []
        warms = []
        for _ in range(args.repeat):
            elapsed, peak = cold(src, tmp / "consolidate", tmp / "cache")
            runs.append(elapsed)
            peaks.append(peak)
            warms.append(warm(src, tmp / "consolidate", tmp / "cache")[0])
        results["consolidate"] = min(runs)
        results["warm"] = min(warms)
        rss, pss = max(p[0] for p in peaks), max(p[1] for p in peaks)
        print(f"pvd-report consolidate --no-images    : {results['consolidate']:7.2f} s, "
              f"mémoire max {rss / 2**20:.0f} Mo (RSS), {pss / 2**20:.0f} Mo (PSS)")
        print(f"  le même, cache rempli (à chaud)     : {results['warm']:7.2f} s")
        lookup_ms, decode_ms = entry_load_ms(paths, tmp / "cache", schema)
        print(f"lecture d'une entrée du cache         : {lookup_ms:7.2f} ms (dont décodage {decode_ms:.2f} ms)")
        reads = [reading(paths, tmp / "cache-read", schema) for _ in range(args.repeat)]
        read_cold, read_warm = min(r[0] for r in reads), min(r[1] for r in reads)
        print(f"lecture seule (read_all), froid/chaud : {read_cold:7.2f} s / {read_warm:.2f} s")
        scaling = {}
        for part in (n // 4, n // 2):
            if part < 1:
                continue
            sub = tmp / f"part-{part}"
            sub.mkdir()
            for p in paths[:part]:
                os.symlink(p, sub / p.name)
            times = [cold(sub, tmp / f"out-{part}", tmp / f"cache-{part}")[0] for _ in range(args.repeat)]
            scaling[part] = min(times)
            print(f"consolidate sur {part:5d} classeurs       : {scaling[part]:7.2f} s")
        scaling[n] = results["consolidate"]
        one = paths[0]
        results["validate"] = min(run_cli(["validate", str(one), "--quiet"])[0] for _ in range(max(3, args.repeat)))
        print(f"pvd-report validate (un classeur)     : {results['validate']:7.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"Machine : {platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()}")
    print(f"consolidate / plancher                : {results['consolidate'] / results['floor']:.2f}×  (objectif ≤ 2×)")
    if "plain" in results:
        print(f"approche simple / consolidate         : {results['plain'] / results['consolidate']:.1f}×  (objectif ≥ 10×)")
    print(f"consolidate à froid / à chaud         : {results['consolidate'] / results['warm']:.1f}×  "
          "(à chaud : aucun classeur relu)")
    print(f"lecture seule à froid / à chaud       : {read_cold / read_warm:.1f}×")
    print(f"cache, par entrée                     : {lookup_ms:.2f} ms lue, {decode_ms:.2f} ms décodée")
    print(f"mémoire max, somme des RSS            : {rss / 2**20:.0f} Mo  (objectif < 500 Mo)")
    print(f"mémoire max, somme des PSS            : {pss / 2**20:.0f} Mo  (pages partagées comptées une fois)")
    per = {k: v / k for k, v in sorted(scaling.items())}
    spread = (max(per.values()) / min(per.values())) if per else 1.0
    print("temps par classeur selon N            : "
          + ", ".join(f"N={k}: {v * 1000:.1f} ms" for k, v in per.items())
          + f"  (écart {spread:.2f}×, linéaire si proche de 1)")
    print(f"validate un classeur                  : {results['validate']:.2f} s  (objectif < 0,5 s)")


if __name__ == "__main__":
    main()
