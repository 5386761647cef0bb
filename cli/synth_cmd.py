"""`clause synth`: write a realistic synthetic year of episodes as a bulk CSV folder."""
from __future__ import annotations

import click

from cli.app import fail_on_domain_errors, main


@main.command()
@click.option("--children", type=click.IntRange(min=1), required=True, help="How many children (each has at least one episode).")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same files.")
@click.option("--episodes", type=click.IntRange(min=1), help="Total episodes (default: 2.88 a child, the UK's ratio).")
@click.option("--year", type=click.IntRange(1990, 2100), default=2024, show_default=True, help="The year the episodes fall in.")
@click.option("--profile", type=click.Choice(["clause", "ssd", "ssda903"]), default="clause", show_default=True,
              help="clause: the bulk CSV folder; ssd, ssda903: the same year as that extract's tables (what it can say).")
@click.argument("out_dir", type=click.Path(file_okay=False))
@fail_on_domain_errors
def synth(children: int, seed: int, episodes: int | None, year: int, profile: str, out_dir: str) -> None:
    """Write children.csv, episodes.csv, actions.csv, statuses.csv and flags.csv for a synthetic year (judge it
    --at the next 1 January), or, with --profile ssd|ssda903, that extract's CSV tables."""
    from facts.bulk import write_bulk
    from facts.synth import synthesize
    facts = synthesize(children, seed, episodes, year)
    if profile == "clause":
        write_bulk(facts, out_dir)
    else:
        from facts.extracts import load_profile
        from facts.extracts.write import as_extract, write_extract
        facts = as_extract(facts, profile, seed, year)
        write_extract(facts, out_dir, load_profile(profile), profile)
    click.echo(f"{out_dir}: {len(facts.children)} children, {len(facts.episodes)} episodes, "
               f"{len(facts.actions)} recorded actions in {year}; evaluate --at {year + 1}-01-01T00:00", err=True)
