"""`voc kafka start | stop | status`: the project's single-node Kafka broker."""

from __future__ import annotations

from pathlib import Path

import click

from voc.commands._output import emit_json, err, fail
from voc.kafka import broker
from voc.kafka.clients import BrokerUnavailable


@click.group(name="kafka")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="VOC_KAFKA_HOME",
    help="Folder for the broker's jars, data and logs. Default: <repo>/.voc/kafka.",
)
@click.pass_context
def kafka(ctx: click.Context, home: Path | None) -> None:
    """Start, stop and inspect the project's Kafka broker (KRaft, one node on 127.0.0.1).

    The first start fetches the broker's jars with Maven (needs `mvn` and Java 17+).
    """
    ctx.obj = home or broker.default_home()


@kafka.command()
@click.option("--port", type=click.IntRange(1, 65535), default=broker.DEFAULT_PORT,
              show_default=True, help="Client (PLAINTEXT) port.")  # fmt: skip
@click.option("--controller-port", type=click.IntRange(1, 65535),
              default=broker.DEFAULT_CONTROLLER_PORT, show_default=True,
              help="KRaft controller port.")  # fmt: skip
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), default=90,
              show_default=True, help="Seconds to wait for the broker to answer.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (last line).")
@click.pass_obj
def start(home: Path, port: int, controller_port: int, timeout_s: float, as_json: bool) -> None:
    """Start the broker in the background (if not running) and create missing topics."""
    from voc.kafka.topics import ensure_topics

    try:
        if not (home / "lib" / ".complete").exists():
            err.print("[dim]fetching the Kafka broker's jars with Maven (once) ...[/]")
        with err.status("[bold]starting Kafka[/] ..."):
            info = broker.start(
                home, port=port, controller_port=controller_port, timeout_s=timeout_s
            )
            created = ensure_topics(info.bootstrap)
    except (broker.BrokerError, BrokerUnavailable, RuntimeError) as exc:
        fail(str(exc))
    if info.already_running:
        err.print(f"Kafka is already running at {info.bootstrap} (pid {info.pid}).")
    else:
        err.print(
            f"[green]✓[/] Kafka running at {info.bootstrap} (pid {info.pid}, "
            f"ready in {info.started_in_s:.1f} s); log: {info.log_path}"
        )
    if created:
        err.print(f"created topics: {', '.join(created)}")
    if as_json:
        emit_json({"running": True, **info.to_dict(), "topics_created": created})


@kafka.command()
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), default=30,
              show_default=True, help="Seconds to wait after SIGTERM before SIGKILL.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (last line).")
@click.pass_obj
def stop(home: Path, timeout_s: float, as_json: bool) -> None:
    """Stop the broker (data is kept for the next start)."""
    try:
        stopped = broker.stop(home, timeout_s=timeout_s)
    except broker.BrokerError as exc:
        fail(str(exc))
    err.print("Kafka stopped." if stopped else "Kafka was not running.")
    if as_json:
        emit_json({"running": False, "stopped": stopped, "home": str(home)})


@kafka.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (last line).")
@click.pass_obj
def status(home: Path, as_json: bool) -> None:
    """Say whether the broker runs, its pid, address and topics (exit 0 either way)."""
    st = broker.status(home)
    if as_json:
        emit_json(st.to_dict())
        return
    if not st.running:
        click.echo(f"stopped (bootstrap {st.bootstrap} when running; home {st.home})")
        return
    state = "running" if st.reachable else "running (not answering yet)"
    click.echo(f"{state}  pid {st.pid}  bootstrap {st.bootstrap}")
    click.echo(f"topics: {', '.join(st.topics) if st.topics else '(none)'}")
