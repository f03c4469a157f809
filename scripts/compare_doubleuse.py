"""Double use on both paths: one certificate presented at two ports, in two countries, and over-drawn.

Each attempt is made for real and what the path answered is recorded: on the
chain path importing Customs records a draw against an import declaration
(the contract keeps the balance); on the VC paths a verifier at each port
checks the credential. ``detected`` is whether the path's answer to the
attempt differed from an ordinary, first use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from registry.custody.apikeys import Principal, Role
from registry.errors import RegistryError
from registry.services.utilisation import Draw
from scripts.compare_chainpath import ChainNode, wait_anchored
from scripts.compare_vcpath import VcWorld, verifier
from scripts.compare_worker import EXAMPLES


def _attempt(action: Any) -> str:
    try:
        record, new, balance = action()
    except RegistryError as error:
        return f"refused ({type(error).__name__}): {error}"[:200]
    drawn = ", ".join(f"item {i['item_number']}: {i['drawn']}/{i['certified']}" for i in balance["items"])
    return f"recorded ({'new draw' if new else 'same declaration, nothing drawn again'}; {drawn})"


def _second_country_customs(chain: ChainNode) -> Principal:
    """A Customs account of SG (the exporting country, not the importing one)."""
    node = chain.node
    authority = node.context.api_keys.authenticate(chain.keys["authority"]["api_key"])
    _, key = node.governance.authorise_customs(authority, "SG Customs (double-use probe)")
    principal = node.context.api_keys.authenticate(key)
    assert principal.role is Role.CUSTOMS
    return principal


def chain_double_use(chain: ChainNode) -> dict[str, Any]:
    """One certificate (item 1: 1,200 units) drawn at port A, again at port B, abroad, and over-drawn."""
    node, issuer, customs = chain.node, chain.issuer, chain.customs
    row = node.issuing.register(issuer, [{**EXAMPLES[0], "certificate_number": "DOUBLE-USE-1"}])[0]
    wait_anchored(node)
    document = node.issuing.sealed_document(issuer, row.id)
    today = datetime.now(UTC).date()

    def use(who: Principal, declaration: str, item: int, quantity: str) -> Any:
        return lambda: node.utilisation.utilise(who, document.document_hash, declaration, today,
                                                [Draw(item, Decimal(quantity))], document=document)

    attempts = {
        "first_use_port_a": _attempt(use(customs, "JP-PORT-A-0001", 1, "1200")),
        "same_declaration_again": _attempt(use(customs, "JP-PORT-A-0001", 1, "1200")),
        "second_port_same_goods": _attempt(use(customs, "JP-PORT-B-0001", 1, "1")),
        "second_country": _attempt(use(_second_country_customs(chain), "SG-PORT-0001", 2, "1")),
        "over_drawn_in_one_declaration": _attempt(use(customs, "JP-PORT-B-0002", 2, "601")),
    }
    first = attempts["first_use_port_a"].startswith("recorded (new draw")
    return {"attempts": attempts,
            "detected": {k: first and not v.startswith("recorded (new draw") for k, v in attempts.items()
                         if k != "first_use_port_a"}}


def vc_double_use(world: VcWorld) -> dict[str, Any]:
    """One ``vc+jwt`` verified at port A, at port B, in another country, and for more than it certifies."""
    token = world.issuer.issue({**EXAMPLES[0], "certificate_number": "DOUBLE-USE-VC-1"}).jwt
    port_a, port_b, abroad = verifier(world), verifier(world), verifier(world)
    attempts = {"first_use_port_a": port_a.verify(world, token).value,
                "same_declaration_again": port_a.verify(world, token).value,
                "second_port_same_goods": port_b.verify(world, token).value,
                "second_country": abroad.verify(world, token).value,
                "over_drawn_in_one_declaration": port_b.verify(world, token).value}
    return {"attempts": attempts,
            "detected": {k: v != attempts["first_use_port_a"] for k, v in attempts.items() if k != "first_use_port_a"},
            "note": "the verifier checks authenticity, issuer, status and validity; no quantity is presented to it "
                    "and nothing it learns is shared with other verifiers"}
