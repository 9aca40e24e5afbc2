"""``switchyard whatif --config other.yaml``: logged traffic priced under another mix."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from budgets.pricing import PriceTable
from cli.database import CommandError, add_database_options, loaded_config
from cli.report_output import (
    add_output_options,
    add_selection_options,
    open_report,
    sampled,
    selection_from,
    show_report,
)
from replay.mix import TargetMix
from replay.recount import SAMPLE, measure, needed
from replay.whatif import whatif_report
from storage.body_samples import body_samples
from storage.logged_traffic import logged_requests


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    whatif = commands.add_parser(
        "whatif", help="price logged traffic as if another config's mix had served it"
    )
    add_selection_options(whatif)
    whatif.add_argument(
        "--logged-counts",
        action="store_true",
        help="keep every logged token count (no re-count with the target's tokenizer)",
    )
    add_output_options(whatif)
    add_database_options(whatif)


def run(args: argparse.Namespace) -> int:
    config = loaded_config(args)
    if config is None:
        raise CommandError("--config: give the config whose mix and prices to price with")
    selection = selection_from(args, now=datetime.now(UTC))
    url = args.db or config.database_url
    engine = open_report(url)
    mix = TargetMix(config)
    try:
        logged = sampled(args, logged_requests(engine, selection))
        wanted = {} if args.logged_counts else needed(logged, mix)
        samples = {model: body_samples(engine, selection, model, limit=SAMPLE) for model in wanted}
    finally:
        engine.dispose()
    prices = PriceTable.shipped().with_overrides(config.pricing)
    report = whatif_report(
        logged,
        mix,
        prices,
        selection=f"{_described(selection.describe(), args)}: {len(logged):,} requests",
        config_name=args.config,
        recount=measure(samples, wanted),
    )
    show_report(report, args)
    return 0


def _described(selection: str, args: argparse.Namespace) -> str:
    return selection if args.sample is None else f"{selection}; a sample of {args.sample}"


__all__ = ["add_parser", "run"]
