"""`voc docs`: serve a warehouse's dbt docs site (lineage, grains, tests) locally."""

from __future__ import annotations

import contextlib

import click

from voc.commands._output import err, step, warehouse_option


@click.command()
@warehouse_option()
@click.option("--port", default=8580, show_default=True, type=click.IntRange(0, 65535))
@click.option("--no-generate", is_flag=True, help="Serve what `voc build` generated last.")
def docs(warehouse, port, no_generate):
    """Generate the dbt docs of WAREHOUSE (unless --no-generate) and serve them on
    http://127.0.0.1:PORT until Ctrl-C. Port 0 picks a free one."""
    import functools
    import http.server

    from voc.warehouse.dbt_runner import generate_docs

    target = warehouse.parent / "dbt_target"
    if not no_generate:
        with step("dbt docs generate"):
            target = generate_docs(warehouse)
    if not (target / "index.html").is_file():
        raise click.ClickException(f"no docs in {target}: run `voc build` or drop --no-generate")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(target))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        host, real_port = server.server_address[:2]
        err.print(f"dbt docs on http://{host}:{real_port}/  (Ctrl-C to stop)")
        click.echo(f"http://{host}:{real_port}/", err=False)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it stops
            server.serve_forever()
