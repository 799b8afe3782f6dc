"""The `voc` command line. Subcommands load lazily so that `voc --help` stays fast
(Beam, dbt and scikit-learn take seconds to import)."""

from __future__ import annotations

import importlib
import importlib.util

import click

# name -> (module:attribute, one-line help shown by `voc --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("voc.commands.demo:demo", "Run the whole loop on simulated data, end to end."),
    "simulate": (
        "voc.commands.simulate:simulate",
        "Write seeded simulated streams and ground truth.",
    ),
    "run": ("voc.commands.run:run", "Run the pipeline on files or Kafka into the warehouse."),
    "build": ("voc.commands.build:build", "Check raw data quality and build the dbt marts."),
    "catalog": ("voc.commands.catalog:catalog", "Validate, inspect and import scenario catalogs."),
    "eval": ("voc.commands.eval:eval_group", "Measure tagging and breakpoint detection."),
    "tag": ("voc.commands.tag:tag", "Tag a CSV export of contacts with the catalog's scenarios."),
    "untagged": ("voc.commands.untagged:untagged", "Cluster untagged contacts, with examples."),
    "label": ("voc.commands.label:label", "Label untagged contacts; the next run tags with them."),
    "kafka": ("voc.commands.kafka:kafka", "Start, stop and inspect the project's Kafka broker."),
    "produce": ("voc.commands.produce:produce", "Publish stream files to Kafka topics."),
    "alerts": ("voc.commands.alerts:alerts", "Alert episodes, owners, and delivery to channels."),
    "issues": ("voc.commands.issues:issues", "Root-cause issues tracked to a verified fix."),
    "report": ("voc.commands.report:report", "The weekly issue-closure report (HTML and PDF)."),
    "dashboard": ("voc.commands.dashboard:dashboard", "Serve the web dashboard on a warehouse."),
    "detect": ("voc.commands.detect:detect", "Backtest the breakpoint detectors on a CSV."),
    "docs": ("voc.commands.docs:docs", "Serve the dbt docs site of a warehouse on 127.0.0.1."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, (target, _) in COMMANDS.items() if _importable(target))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attr = COMMANDS[cmd_name][0].split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][1]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _importable(target: str) -> bool:
    return importlib.util.find_spec(target.split(":")[0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="voc-loop")
def main() -> None:
    """VOC Loop: streaming voice-of-the-customer analytics.

    Contacts (calls, tickets, app events, social posts) are validated, stitched
    to each customer's journey, tagged with a root-cause scenario and watched
    for journey breakpoints; a DuckDB warehouse and dbt marts hold the results.

    Start with `voc demo`.
    """


if __name__ == "__main__":
    main()
