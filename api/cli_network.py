"""``coo network``: a local consortium network of chain nodes, and the production (Besu) configuration.

``coo network up`` writes a network directory (genesis, each member's keys) and starts
one EthereumJS chain node per member, detached, then prints each node's RPC URL and
what a member's ``coo up`` needs to use it. ``coo network down`` stops them.
``coo network up --besu DIR`` only writes a Besu/QBFT configuration (the production
recipe, see ``hardhat-free-anvil.md``) and starts nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from registry.chain.besu import write_besu_config
from registry.chain.network import Network, require_client, stop_detached
from registry.errors import ChainUnavailableError

network_app = typer.Typer(help="a local consortium network of chain nodes", no_args_is_help=True)
DirOpt = Annotated[Path, typer.Option("--dir", help="the network directory")]
DEFAULT_DIR = Path("data/network")
ERROR_EXIT = 2


def fail(message: str) -> NoReturn:
    """One line to stderr and exit 2, as every ``coo`` command fails (this module is loaded by ``api.cli``)."""
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(ERROR_EXIT)


@network_app.command("up")
def up(
    nodes: Annotated[int, typer.Option("--nodes", min=2, max=16, help="members, one chain node each")] = 4,
    block_time: Annotated[int, typer.Option("--block-time", min=1, max=60, help="seconds between blocks")] = 2,
    directory: DirOpt = DEFAULT_DIR,
    besu: Annotated[Path | None, typer.Option("--besu", help="only write a Besu/QBFT configuration here")] = None,
) -> None:
    """Start a local network of chain nodes sealing one Clique chain (or write a Besu/QBFT configuration)."""
    if besu is not None:
        try:
            validators = write_besu_config(besu, nodes, block_time)
        except (ValueError, OSError) as error:
            fail(str(error))
        typer.echo(f"Besu/QBFT configuration for {len(validators)} validators written to {besu} (not started)")
        return
    try:
        require_client()
        network = Network.create(directory, nodes, block_time, detach=True)
        network.start()
        network.wait_for_block(1)
    except (ValueError, OSError, ChainUnavailableError) as error:
        fail(f"network not started: {error}")
    description = network.describe()
    for member, url in zip(network.members, network.urls, strict=True):
        typer.echo(f"node {member.index}\t{url}\tsealer {member.sealer}")
    env = " ".join(f"{k}={v}" for k, v in network.node_env(0).items())
    typer.echo(f"a member's node on node 0 (any node will do): {env} coo up")
    typer.echo(f"writes settle at {description['confirmations']} blocks; stop the network with "
               f"`coo network down --dir {directory}`")


@network_app.command("down")
def down(directory: DirOpt = DEFAULT_DIR) -> None:
    """Stop the chain nodes ``coo network up`` started in the network directory."""
    try:
        stopped = stop_detached(directory)
    except ValueError as error:
        fail(str(error))
    typer.echo(f"stopped {len(stopped)} chain node(s)")
