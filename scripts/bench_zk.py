"""Zero-knowledge benchmark: proof size, proving and verifying time per predicate, gas of on-chain verification.

Usage: ``python scripts/bench_zk.py [--rounds 3] [--out results]`` (part of ``make bench``).

A certificate with confidential figures is sealed locally, every predicate is proven ``--rounds`` times
(one Node process per proof, as ``coo prove`` of one claim pays it) and verified off chain (snarkjs) as
often; then the generated verifiers and ``ZkClaimLog`` are deployed on a fresh Anvil and each claim is
checked by ``eth_call`` and recorded in a transaction, whose gas is reported. Times are medians, in
seconds, on a shared machine: compare them with each other rather than across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import machine, timed  # noqa: E402  (the timing loop shared with bench.py)
from eth_account import Account  # noqa: E402

from registry.chain.client import ChainClient  # noqa: E402
from registry.chain.nodes import NodeProcess  # noqa: E402
from registry.domain.certificate import parse_certificate  # noqa: E402
from registry.sealing.document import build_sealed_document  # noqa: E402
from registry.sealing.fields import seal  # noqa: E402
from registry.sealing.merkle import MerkleTree  # noqa: E402
from registry.sealing.terms import terms_for  # noqa: E402
from registry.zk import node  # noqa: E402
from registry.zk.build import load_manifest  # noqa: E402
from registry.zk.bundle import ProofBundle  # noqa: E402
from registry.zk.commitment import commit  # noqa: E402
from registry.zk.onchain import ClaimLog  # noqa: E402
from registry.zk.prover import prove  # noqa: E402

CLAIMS = {
    "rvc_at_least": "goods[1].rvc >= 40",
    "hs_prefix": "goods[0].hs_code startswith 8481",
    "value_at_most": "goods[0].fob_value <= 100000",
    "value_at_least": "goods[2].quantity >= 2000",
    "days_between_at_most": "issue_date - transport.departure_date <= 365",
}


def sealed_document() -> Any:
    data = json.loads((ROOT / "examples" / "rcep-sg-jp.json").read_text())
    data["goods"][1]["non_originating_value"] = "9000.00"
    certificate = parse_certificate(data)
    body = certificate.to_json()
    zk = commit([(body, certificate.confidential())])[0]
    sealed = seal(body, terms_for(body), zk)
    tree = MerkleTree([sealed.document_hash])
    return build_sealed_document(body, sealed, tree.root, [], chain_id=31337, contract="0x" + "11" * 20)


def off_chain(document: Any, rounds: int) -> tuple[dict[str, dict[str, Any]], ProofBundle]:
    figures: dict[str, dict[str, Any]] = {}
    bundle: ProofBundle | None = None
    for circuit, claim in CLAIMS.items():
        proving, verifying = [], []
        for _ in range(rounds):
            seconds, one = timed(lambda claim=claim: prove(document, [claim]))
            proving.append(seconds)
            proof = one.claims[0]
            request = [{"circuit": proof.circuit, "proof": proof.proof.model_dump(),
                        "publicSignals": proof.public_inputs}]
            seconds, verdict = timed(lambda request=request: node.verify(request))
            assert verdict == [True], verdict
            verifying.append(seconds)
        figures[circuit] = {"claim": claim, "prove_s": statistics.median(proving),
                            "verify_s": statistics.median(verifying),
                            "proof_json_bytes": len(one.claims[0].proof.model_dump_json()),
                            "public_inputs": len(one.claims[0].public_inputs)}
        print(f"{circuit}: prove {figures[circuit]['prove_s']:.2f} s, verify {figures[circuit]['verify_s']:.2f} s",
              file=sys.stderr)
    seconds, bundle = timed(lambda: prove(document, list(CLAIMS.values())))
    figures["all five in one bundle"] = {"prove_s": seconds, "bundle_json_bytes": len(bundle.model_dump_json())}
    return figures, bundle


def on_chain(bundle: ProofBundle, work: Path) -> dict[str, Any]:
    with NodeProcess(kind="anvil", state_file=work / "anvil.json") as anvil:
        chain = ChainClient.connect(anvil.url)
        deployer, recorder = Account.create(), Account.create()
        for account in (deployer, recorder):
            chain.fund(account.address)
        log = ClaimLog(chain.w3)
        log.deploy_all(deployer)
        gas: dict[str, Any] = {}
        # gas of the transaction that verifies and records (eth_estimateGas of `check` alone is no measure: the
        # generated verifier turns a pairing call starved of gas into `false`, not a revert)
        for claim in bundle.claims:
            assert log.check(bundle, claim)
            result = log.record(recorder, bundle, claim)
            gas[claim.circuit] = {"record_gas": result.gas_used, "calldata_bytes": len(bytes.fromhex(
                log.contract.encode_abi("record", args=list(log.arguments(bundle, claim)))[2:]))}
    return gas


def markdown(results: dict[str, Any]) -> str:
    rows = ["| predicate | proving (s) | verifying off chain (s) | proof (JSON bytes) | verify and record on chain "
            "(gas) | its calldata (bytes) |", "|---|---:|---:|---:|---:|---:|"]
    for circuit in CLAIMS:
        off, on = results["off_chain"][circuit], results["on_chain"][circuit]
        rows.append(f"| `{circuit}` ({off['claim']}) | {off['prove_s']:.2f} | {off['verify_s']:.2f} | "
                    f"{off['proof_json_bytes']} | {on['record_gas']:,} | {on['calldata_bytes']:,} |")
    together = results["off_chain"]["all five in one bundle"]
    return "\n".join([
        "# Zero-knowledge claims: measured", "", *rows, "",
        f"All five claims in one bundle: proven in {together['prove_s']:.2f} s (one Node process), bundle "
        f"{together['bundle_json_bytes']:,} bytes of JSON. A Groth16 proof is 256 bytes as contract calldata "
        "(8 words) whatever the predicate.", "",
        f"Run {results['when']} on {results['machine']}; medians of {results['rounds']} rounds; reproduce with "
        f"`{results['command']}`.", ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="coo-bench-zk-"))
    document = sealed_document()
    figures, bundle = off_chain(document, args.rounds)
    results = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": f"{os.cpu_count()} cores",
               "command": "make bench", "rounds": args.rounds, "off_chain": figures,
               "on_chain": on_chain(bundle, work), "ceremony": load_manifest()["ceremony"], "host": machine()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-zk.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "bench-zk.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
