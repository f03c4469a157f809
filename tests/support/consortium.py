"""The test consortium (SG and JP: an authority, issuers and Customs each) and example certificates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry.chain.client import ChainClient


@dataclass(frozen=True)
class Consortium:
    """The accounts of the test consortium."""

    admin: LocalAccount
    sg_authority: LocalAccount
    jp_authority: LocalAccount
    sg_issuer: LocalAccount
    sg_issuer_2: LocalAccount
    jp_issuer: LocalAccount
    stranger: LocalAccount
    jp_customs: LocalAccount
    sg_customs: LocalAccount


def new_consortium() -> Consortium:
    """Fresh random accounts for every role."""
    return Consortium(*(Account.create() for _ in range(9)))


def set_up_consortium(client: ChainClient, people: Consortium, *, deploy: bool = True) -> None:
    """Fund every account, deploy the registry (unless already) and admit SG and JP with their issuers and Customs."""
    for account in vars(people).values():
        client.fund(account.address)
    if deploy:
        client.deploy(people.admin)
    client.admit_country(people.admin, "SG", people.sg_authority.address)
    client.admit_country(people.admin, "JP", people.jp_authority.address)
    client.authorise_issuer(people.sg_authority, people.sg_issuer.address)
    client.authorise_issuer(people.sg_authority, people.sg_issuer_2.address)
    client.authorise_issuer(people.jp_authority, people.jp_issuer.address)
    client.transact(people.jp_authority, "authoriseCustoms", people.jp_customs.address)
    client.transact(people.sg_authority, "authoriseCustoms", people.sg_customs.address)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str = "rcep-sg-jp", **changes: object) -> dict[str, object]:
    """An example certificate with a fresh certificate number (and *changes* applied)."""
    import json
    import uuid

    data: dict[str, object] = json.loads((EXAMPLES / f"{name}.json").read_text())
    data["certificate_number"] = f"T-{uuid.uuid4().hex[:16].upper()}"
    data.update(changes)
    return data


__all__ = ["EXAMPLES", "Consortium", "example", "new_consortium", "set_up_consortium"]
