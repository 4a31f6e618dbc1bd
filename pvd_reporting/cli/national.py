"""`pvd-report national`: the régions rolled up for ANCT (README, Pour l'ANCT)."""

from __future__ import annotations

from pathlib import Path

import click

from pvd_reporting.cli.common import ClickProgress, handle_errors, period_option, quiet_option
from pvd_reporting.cli.terminal import echo_lines
from pvd_reporting.consolidate.national import NothingToRollUp
from pvd_reporting.format.french import fr_money
from pvd_reporting.outputs.report import plural
from pvd_reporting.pipeline.national import NationalRun, run_national


@click.command()
@click.argument("paths", nargs=-1, metavar="FICHIER...", type=click.Path(path_type=Path))
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("national"),
              show_default=True, help="Dossier où écrire la synthèse, le tableau de bord et la base nationale.")
@period_option("Trimestre à consolider, ex. 2025-T4 (par défaut : le dernier trimestre publié par le plus "
               "grand nombre de régions).")
@click.option("--avec-contacts", "contacts", is_flag=True,
              help="Garde les noms, mails et téléphones de l'annuaire et le nom du chef de projet "
                   "(par défaut : ils restent dans les régions, le chef de projet n'est dit qu'« en poste »).")
@quiet_option
@handle_errors
def national_command(paths: tuple[Path, ...], output_dir: Path, period: str | None, contacts: bool,
                     quiet: bool) -> None:
    """Consolide les régions : synthèse nationale, tableau de bord national, base nationale.

    Lit les fichiers historique-pvd.sqlite écrits par « pvd-report consolidate » dans chaque
    région (fichiers, ou dossiers qui en contiennent) et écrit dans le dossier de sortie
    synthese-nationale-<période>.xlsx, tableau-de-bord-national-<période>.html et
    historique-national.sqlite. Chaque fichier .sqlite est reconnu à son contenu, quel que soit
    son nom ; un fichier illisible, endommagé ou partiel (--departement) est nommé et écarté.
    Deux fichiers d'une même région : celui qui publie le trimestre le plus récent, puis la
    publication la plus récente, est retenu. Une région en retard ou absente pour la période
    est nommée, jamais comptée à zéro.
    Code de sortie : 0 si la synthèse est écrite, 2 en cas de mauvaise utilisation ou si aucun
    fichier n'est lisible.

    \b
    Exemples :
      pvd-report national regions/ --output-dir national/
      pvd-report national grand-est/historique-pvd.sqlite bretagne/historique-pvd.sqlite
      pvd-report national regions/ --period 2025-T4 --quiet
    """
    try:
        run = run_national(list(paths), output_dir=output_dir, period=period, contacts=contacts,
                           progress=ClickProgress(quiet))
    except NothingToRollUp as exc:
        echo_lines((f"{path} : écarté, {reason}." for path, reason in exc.refused), err=True)
        raise
    echo_lines(run.notices, err=True)
    _echo(run)


def _echo(run: NationalRun) -> None:
    r = run.rollup
    n = r.nation
    previous = f" (T-1 : {r.previous})" if r.previous else ""
    missing = r.missing_regions
    lines = [
        f"Synthèse nationale — période {r.period}{previous}",
        f"  Régions remontées : {r.reporting} sur {len(r.regions)}"
        + (f" · non remontées : {', '.join(missing)}" if missing else ""),
        f"  Territoires reçus : {n.received} sur {n.expected} attendus · manquants : {n.missing}",
        f"  ORT signées : {n.signed} (dont {n.signed_late} après l'échéance) · à risque : {n.at_risk}"
        f" · échéance dépassée : {n.overdue}",
        f"  Coût total : {fr_money(n.cost / 100)} · reste à financer : {fr_money(n.remaining / 100)}",
    ]
    if r.late_regions:
        lines.append("  Régions en retard, non comptées : "
                     + ", ".join(f"{row.region} (dernier trimestre publié : {row.late})" for row in r.late_regions))
    left_out = len(r.refused) + len(r.set_aside)
    if left_out:
        lines.append(f"  {plural(left_out, 'fichier écarté', 'fichiers écartés')} :")
        lines.extend(f"    {path} : {reason}" for path, reason in r.refused)
        lines.extend(f"    {h.path} : {why}" for h, why in r.set_aside)
    notes = [(h, note) for h in r.histories for note in h.notes]
    if notes:
        lines.append("  Lu en partie :")
        lines.extend(f"    {h.path} : {note}" for h, note in notes)
    if r.duplicates:
        lines.append(f"  Territoires trouvés dans deux régions : {len(r.duplicates)}")
        lines.extend(f"    {d.name} ({d.key}) : {', '.join(d.regions)} — "
                     + (f"compté en {d.counted_in}" if d.counted_in else "compté dans aucune, à arbitrer")
                     for d in r.duplicates)
    if r.differences:
        lines.append(f"  Chiffres différents de ceux publiés par la région : {len(r.differences)} (onglet Anomalies)")
    lines.append("Fichiers écrits :")
    lines.extend(f"  {path}" for path in run.written)
    echo_lines(lines)
