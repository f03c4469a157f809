"""``coo``: the command line of the registry (typer + rich).

``coo up`` runs a node. Every other command talks to a node over HTTP with an
API key (``--api-key`` or ``COO_API_KEY``), except ``coo verify --rpc-url``,
which verifies a sealed document straight against the chain, with no node.
Errors print as one readable line and exit non-zero.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.cli_network import network_app

if TYPE_CHECKING:
    from registry.sealing.document import SealedDocument

app = typer.Typer(help="Certificate of Origin registry", no_args_is_help=True, add_completion=False)
keys_app = typer.Typer(help="API keys", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

console = Console()
errors = Console(stderr=True)

NodeOpt = Annotated[str, typer.Option("--node", envvar="COO_NODE_URL", help="node base URL")]
KeyOpt = Annotated[str | None, typer.Option("--api-key", envvar="COO_API_KEY", help="bearer API key")]
HASH_RE = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
ACCEPTED_EXIT = 0
REFUSED_EXIT = 1
ERROR_EXIT = 2
PENDING_EXIT = 3
"""Exit status when the node accepted a change that is not on chain yet (HTTP 202): not done, not failed."""
MAX_ERRORS_SHOWN = 10
"""Failing fields shown on an error line; the rest are counted."""


def _error_line(message: str) -> None:
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True, soft_wrap=True)


def fail(message: str, code: int = ERROR_EXIT) -> NoReturn:
    """Print one line to stderr and exit with *code*."""
    _error_line(message)
    raise typer.Exit(code)


def _client(node: str, api_key: str | None) -> httpx.Client:
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return httpx.Client(base_url=node.rstrip("/"), headers=headers, timeout=60)


class Failure(Exception):
    """A request or a file that failed, as the one line to show; *unreachable* when the node did not answer."""

    def __init__(self, message: str, unreachable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unreachable = unreachable


def _problem_line(answer: httpx.Response) -> str:
    """An error answer as one line: the status, the title and every failing field (or the detail)."""
    try:
        body = answer.json()
    except ValueError:
        return f"{answer.status_code}: {answer.text[:200]}"
    if not isinstance(body, dict):
        return f"{answer.status_code}: {answer.text[:200]}"
    listed = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    if len(listed) > 1:
        shown = "; ".join(f"{e.get('loc')}: {e.get('msg')}" for e in listed[:MAX_ERRORS_SHOWN])
        more = f"; and {len(listed) - MAX_ERRORS_SHOWN} more" if len(listed) > MAX_ERRORS_SHOWN else ""
        return f"{answer.status_code} {body.get('title', '')}: {shown}{more}"
    return f"{answer.status_code} {body.get('title', '')}: {body.get('detail', answer.text)}"


def _request(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Send one request; an error answer or no answer raises :class:`Failure`."""
    try:
        answer = client.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        raise Failure(f"cannot reach the node at {client.base_url}: {type(error).__name__}", unreachable=True) from None
    if answer.status_code >= 400:
        raise Failure(_problem_line(answer))
    return answer


def _answer(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request; a refusal or an unreachable node ends the command with one line."""
    try:
        return _request(client, method, path, **kwargs)
    except Failure as failure:
        fail(failure.message)


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    answer = _answer(client, method, path, **kwargs)
    body = answer.json()
    if answer.status_code == 202 and isinstance(body, dict) and "write_id" in body:
        shown = "".join(f"\t{key} {body[key]}" for key in ("account", "api_key") if body.get(key))
        typer.echo(f"pending\tchain write {body['write_id']} ({body['kind']}){shown}")
        errors.print(f"{body['detail']}; see `coo chain-write {body['write_id']}`", highlight=False, soft_wrap=True)
        raise typer.Exit(PENDING_EXIT)
    return body


@app.command("chain-write")
def chain_write(write_id: int, node: NodeOpt = "http://127.0.0.1:8000", api_key: KeyOpt = None) -> None:
    """Show where a change the node accepted with 202 stands: pending, sent, settled or refused."""
    with _client(node, api_key) as client:
        result = _call(client, "GET", f"/v1/chain-writes/{write_id}")
    typer.echo(f"{result['id']}\t{result['kind']}\t{result['state']}"
               + (f"\t{result['error']}" if result["error"] else ""))


def _load_json(path: Path) -> Any:
    """The JSON in the file at *path*; raises :class:`Failure` saying what is wrong with it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise Failure(f"cannot read it: {error.strerror or type(error).__name__}") from None
    except ValueError as error:
        raise Failure(f"not valid JSON: {error}") from None


def _read_json(path: Path) -> Any:
    try:
        return _load_json(path)
    except Failure as failure:
        fail(f"{path}: {failure.message}")


# -- node ------------------------------------------------------------------------------


@app.command()
def up(
    demo: Annotated[bool, typer.Option("--demo", help="create a demo consortium and write demo-keys.json")] = False,
    host: Annotated[str | None, typer.Option(help="listen address (COO_HOST)")] = None,
    port: Annotated[str | None, typer.Option(metavar="PORT", help="listen port, 1 to 65535 (COO_PORT)")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="data directory (COO_DATA_DIR)")] = None,
    workers: Annotated[str | None, typer.Option(metavar="N", help="API worker processes beside one chain writer "
                                                "process; 1: one process (COO_WORKERS; default: cores)")] = None,
) -> None:
    """Start Anvil (unless COO_RPC_URL is set), deploy or reuse the contracts, and serve the API.

    With more than one worker, this process is the chain writer (the only one that sends
    transactions) and N API worker processes share the port and the store. Every setting
    is checked and the port bound first: a bad value or a busy port stops it with one
    line before anything is written, started or deployed.
    """
    from api.serve import serve

    given = {"host": host, "port": port, "data_dir": data_dir, "workers": workers}
    overrides = {k: v for k, v in given.items() if v is not None}
    try:
        serve(overrides, demo=demo)
    except Exception as error:  # one readable line, never a traceback
        fail(_describe(error))


def _describe(error: Exception) -> str:
    from registry.chain.messages import describe
    from registry.errors import ContractRevertError

    if isinstance(error, ContractRevertError):
        return describe(error)
    return str(error) or type(error).__name__


# -- issuers ---------------------------------------------------------------------------


@app.command()
def issue(
    files: Annotated[list[Path], typer.Argument(help="certificate JSON files")],
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
    mode: Annotated[str, typer.Option(help="hash-only or encrypted")] = "hash-only",
) -> None:
    """Register certificates, one request per file.

    Prints a line per registered file (path, id, status, document hash, certificate
    number) as soon as it is accepted, and an error line naming each file that could
    not be read, is not JSON, or the node refused (with the failing fields); carries on
    with the other files and exits 2 if any failed. Files are sent one by one, not as a
    batch: a batch is all or nothing, and one bad file must not hold back the others.
    """
    failed: list[Path] = []
    with _client(node, api_key) as client, Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=errors, transient=True, disable=len(files) < 2 or not errors.is_terminal,
    ) as progress:
        task = progress.add_task("registering", total=len(files))
        for position, path in enumerate(files):
            try:
                result = _register_file(client, path, mode)
            except Failure as failure:
                failed.append(path)
                _error_line(f"{path}: {failure.message}")
                if failure.unreachable:
                    failed.extend(_not_tried(files[position + 1:]))
                    break
            else:
                typer.echo(f"{path}\t{result['id']}\t{result['status']}\t{result['document_hash']}"
                           f"\t{result.get('certificate_number', '')}")
            progress.advance(task)
    if failed and len(files) > 1:
        fail(f"{len(failed)} of {len(files)} files not registered: {', '.join(map(str, failed))}")
    if failed:
        raise typer.Exit(ERROR_EXIT)


def _register_file(client: httpx.Client, path: Path, mode: str) -> dict[str, Any]:
    body = _load_json(path)
    if not isinstance(body, dict):
        raise Failure("does not hold a certificate (a JSON object)")
    answer: dict[str, Any] = _request(client, "POST", "/v1/certificates", params={"mode": mode}, json=body).json()
    return answer


def _not_tried(rest: list[Path]) -> list[Path]:
    if rest:
        _error_line(f"not tried, the node cannot be reached: {', '.join(map(str, rest))}")
    return rest


@app.command()
def status(certificate_id: str, node: NodeOpt = "http://127.0.0.1:8000", api_key: KeyOpt = None) -> None:
    """Show a certificate's status and anchoring."""
    with _client(node, api_key) as client:
        console.print_json(data=_call(client, "GET", f"/v1/certificates/{certificate_id}"))


@app.command()
def revoke(
    certificate_id: str,
    reason: Annotated[str, typer.Option(help="reason code, e.g. issued-in-error, fraud, "
                                             "not-confirmed")] = "issued-in-error",
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """Revoke a certificate with a reason."""
    with _client(node, api_key) as client:
        result = _call(client, "POST", f"/v1/certificates/{certificate_id}/revoke", json={"reason": reason})
    typer.echo(f"{certificate_id}\t{result['status']}")


@app.command()
def erase(
    certificate_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="confirm: destroying the key cannot be undone")] = False,
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """Destroy a certificate's key (crypto-shredding) and print the destruction receipt."""
    if not yes:
        fail("erasing destroys the certificate's key for good; repeat with --yes")
    with _client(node, api_key) as client:
        console.print_json(data=_call(client, "POST", f"/v1/certificates/{certificate_id}/erase"))


@app.command()
def erasure(certificate_id: str, node: NodeOpt = "http://127.0.0.1:8000", api_key: KeyOpt = None) -> None:
    """Show an erasure's state (erasing, erased) and the peer nodes that confirmed destroying the key."""
    with _client(node, api_key) as client:
        result = _call(client, "GET", f"/v1/certificates/{certificate_id}/erasure")
    typer.echo(f"{certificate_id}	{result['state']}	{len(result['acknowledgements'])} peer(s) confirmed")
    for ack in result["acknowledgements"]:
        typer.echo(f"  {ack['country']}	{ack['node_account']}	{ack['acknowledged_at']}")


# -- customs ---------------------------------------------------------------------------

requests_app = typer.Typer(help="retroactive verification requests", no_args_is_help=True)
app.add_typer(requests_app, name="requests")


def _draws(items: list[str]) -> list[dict[str, str | int]]:
    out: list[dict[str, str | int]] = []
    for item in items:
        number, sep, quantity = item.partition("=")
        if not sep or not number.strip().isdigit() or not quantity.strip():
            fail(f"--item {item!r}: write ITEM_NUMBER=QUANTITY, e.g. --item 1=250.5")
        out.append({"item_number": int(number), "quantity": quantity.strip()})
    return out


@app.command()
def utilise(
    certificate: Annotated[str, typer.Argument(help="certificate id or document hash")],
    declaration: Annotated[str, typer.Option(help="import declaration reference")],
    item: Annotated[list[str], typer.Option(help="ITEM_NUMBER=QUANTITY drawn; repeat for several items")],
    day: Annotated[str | None, typer.Option("--date", help="declaration date (YYYY-MM-DD, default today)")] = None,
    document: Annotated[Path | None, typer.Option(help="the sealed document, if the node does not hold it")] = None,
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """Record a use of a certificate against an import declaration (importing Customs)."""
    from datetime import UTC, datetime

    body: dict[str, Any] = {"declaration_reference": declaration, "items": _draws(item),
                            "date": day or datetime.now(UTC).date().isoformat()}
    if document is not None:
        body["document"] = _read_json(document)
    with _client(node, api_key) as client:
        result = _call(client, "POST", f"/v1/certificates/{certificate}/utilisations", json=body)
    table = Table("item", "certified", "drawn", "remaining", title=f"declaration {declaration}: recorded on chain")
    for line in result["items"]:
        table.add_row(str(line["item_number"]), f"{line['certified']} {line['unit'] or ''}", line["drawn"],
                      line["remaining"])
    console.print(table)


@requests_app.command("list")
def list_requests(
    status_: Annotated[str, typer.Option("--status", help="open, confirmed, not-confirmed or all")] = "open",
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """Verification requests you are party to, with their age."""
    with _client(node, api_key) as client:
        found = _call(client, "GET", "/v1/verification-requests", params={"status": status_})
    table = Table("id", "status", "age", "certificate", "reason")
    for r in found:
        table.add_row(str(r["id"]), r["status"], f"{r['age_seconds'] // 3600} h {r['age_seconds'] % 3600 // 60} min",
                      r["certificate_number"] or r["document_hash"], r["reason"] or "(held by the requesting node)")
    console.print(table)


@requests_app.command("open")
def open_request(
    certificate: Annotated[str, typer.Argument(help="certificate id or document hash")],
    reason: Annotated[str, typer.Option(help="why the origin is to be verified (kept off chain)")],
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """Open a retroactive verification request (importing Customs)."""
    with _client(node, api_key) as client:
        result = _call(client, "POST", f"/v1/certificates/{certificate}/verification-requests", json={"reason": reason})
    typer.echo(f"{result['id']}\t{result['status']}\t{result['document_hash']}")


@requests_app.command("answer")
def answer_request(
    request_id: Annotated[int, typer.Argument(help="the request's number")],
    confirmed: Annotated[bool, typer.Option("--confirmed/--not-confirmed", help="--not-confirmed revokes")],
    remarks: Annotated[str | None, typer.Option(help="remarks kept with the answer")] = None,
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """Answer a verification request (issuing body or its authority)."""
    body = {"answer": "confirmed" if confirmed else "not-confirmed", "remarks": remarks}
    with _client(node, api_key) as client:
        result = _call(client, "POST", f"/v1/verification-requests/{request_id}/answer", json=body)
    typer.echo(f"{result['id']}\t{result['status']}")


@app.command()
def verify(
    subject: Annotated[str, typer.Argument(help="sealed document, proof bundle or OpenAttestation v2 file, "
                                                 "QR token/URL, or document hash")],
    node: NodeOpt = "http://127.0.0.1:8000",
    rpc_url: Annotated[list[str] | None, typer.Option(
        "--rpc-url", help="verify offline against this chain; repeat it to read through several endpoints")] = None,
    quorum: Annotated[int | None, typer.Option(
        "--quorum", min=1, help="how many --rpc-url endpoints must answer alike (default: all of them)")] = None,
    contract: Annotated[str | None, typer.Option("--contract", envvar="COO_CONTRACT_ADDRESS",
                                                 help="registry address you trust (with --rpc-url)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the full report as JSON")] = False,
) -> None:
    """Verify a certificate. Exit 0 only for VALID; 1 for any other verdict; 2 on error.

    SUBJECT is read as a file when it is one, or when it looks like a path (a / or \\ in
    it, a leading ~ or ., or a .json ending: no hash, id or QR token has these), in which
    case a missing file is an error; anything else is a document hash or a verification code.
    With several --rpc-url endpoints the verdict needs --quorum of them to answer alike;
    if they disagree it is UNAVAILABLE, naming what each said.
    """
    path = Path(subject).expanduser()
    if _looks_like_path(subject) and not path.is_file():
        fail(f"{subject}: {'not a file' if path.exists() else 'no such file'}")
    if quorum is not None and not rpc_url:
        fail("--quorum counts --rpc-url endpoints: give them (a node verifies through its own)")
    report = _verify_offline(path, rpc_url, contract, quorum) if rpc_url else _verify_at(node, path, subject)
    _print_report(report, as_json)
    raise typer.Exit(ACCEPTED_EXIT if report["verdict"] == "VALID" else REFUSED_EXIT)


def _verify_at(node: str, path: Path, subject: str) -> dict[str, Any]:
    """The node's report on a sealed document file, a document hash or a verification code."""
    with _client(node, None) as client:
        if path.is_file():
            report = _call(client, "POST", "/v1/verify", json=_read_json(path))
        elif HASH_RE.match(subject):
            report = _call(client, "GET", f"/v1/verify/{subject if subject.startswith('0x') else '0x' + subject}")
        else:
            report = _call(client, "GET", f"/v/{subject.rsplit('/v/', 1)[-1]}")
    return dict(report)


def _looks_like_path(subject: str) -> bool:
    if "://" in subject:
        return False
    return any(c in subject for c in "/\\") or subject.startswith(("~", ".")) or subject.lower().endswith(".json")


def _verify_offline(path: Path, rpc_urls: list[str], contract: str | None, quorum: int | None) -> dict[str, Any]:
    from registry.openattestation.document import is_openattestation
    from registry.openattestation.identity import IdentityResolver
    from registry.openattestation.verifier import verify_offline as verify_openattestation
    from registry.pipelines.offline import verify_offline
    from registry.zk.verifier import is_bundle, verify_bundle_offline

    if not path.is_file():
        fail("offline verification needs a sealed document or proof bundle file")
    data = _read_json(path)
    if is_openattestation(data) and (len(rpc_urls) > 1 or (quorum or 1) > 1):
        fail("an OpenAttestation document is verified through one --rpc-url (no quorum for its DocumentStore)")
    try:
        if is_openattestation(data):  # its DocumentStore on this chain; identity by COO_OA_DNS_RESOLVER/_TRUST_LIST
            trust_list = os.environ.get("COO_OA_TRUST_LIST")
            identity = IdentityResolver.configured(os.environ.get("COO_OA_DNS_RESOLVER"),
                                                   Path(trust_list) if trust_list else None)
            report = verify_openattestation(data, rpc_url=rpc_urls[0], identity=identity)
        elif is_bundle(data):  # a zero-knowledge proof bundle (coo prove)
            report = verify_bundle_offline(data, rpc_url=rpc_urls, contract=contract, quorum=quorum)
        else:
            report = verify_offline(data, rpc_url=rpc_urls, contract=contract, quorum=quorum)
    except Exception as error:
        fail(_describe(error))
    return report.model_dump(mode="json")


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        console.print_json(data=report)
        return
    colour = {"VALID": "green", "VALID_WITH_WARNINGS": "yellow"}.get(report["verdict"], "red")
    console.print(f"[bold {colour}]{report['verdict']}[/]  {report.get('summary', '')}", highlight=False)
    for label, account, name in (("issuing body", "issuer", "issuer_name"),
                                 ("authority", "authority", "authority_name")):
        if report.get(account):
            shown = f"{report[name]} ({report[account]})" if report.get(name) else str(report[account])
            country = f" of {report['exporting_country']}" if report.get("exporting_country") else ""
            console.print(f"{label}{country}: {shown}", highlight=False, markup=False)
    table = Table(show_header=True, header_style="bold")
    table.add_column("check")
    table.add_column("outcome")
    table.add_column("why")
    marks = {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "warn": "[yellow]warn[/]", "skipped": "[dim]skipped[/]"}
    for check in report.get("checks", []):
        table.add_row(check["name"], marks.get(check["status"], check["status"]), check["reason"])
    console.print(table)


# -- research ------------------------------------------------------------------------


@app.command()
def bench(
    n: Annotated[int, typer.Option(help="certificates per registration run")] = 10_000,
    out: Annotated[Path, typer.Option(help="where bench.json and bench.md go")] = Path("results"),
) -> None:
    """Run the throughput benchmark (scripts/bench.py) and write results/bench.{json,md}."""
    _run_script("bench.py", ["--n", str(n), "--out", str(out)])


@app.command()
def compare(
    n: Annotated[int, typer.Option(help="certificates issued, verified and 1% revoked through both paths")] = 1_000,
    out: Annotated[Path, typer.Option(help="where comparison.{json,md} and the plots go")] = Path("results"),
) -> None:
    """Run the blockchain vs verifiable-credential comparison (scripts/compare.py)."""
    _run_script("compare.py", ["--n", str(n), "--out", str(out)])


def _run_script(name: str, args: list[str]) -> None:
    import subprocess

    script = Path(__file__).resolve().parent.parent / "scripts" / name
    if not script.exists():
        fail(f"{script} not found: run from a checkout of the project")
    raise typer.Exit(subprocess.call([sys.executable, str(script), *args]))


# -- keys ------------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Argument(help="admin, authority, issuer or customs")],
    country: Annotated[str | None, typer.Option(help="country the key acts for (customs, authority)")] = None,
    account: Annotated[str | None, typer.Option(help="issuer account (issuer keys)")] = None,
    label: Annotated[str, typer.Option(help="who holds the key")] = "",
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """Mint an API key on the node (admin key needed); prints the key once."""
    with _client(node, api_key) as client:
        result = _call(client, "POST", "/v1/keys", json={"role": role, "country": country,
                                                         "account": account, "label": label})
    typer.echo(result["api_key"])


# -- daily tools: listing, downloads, key management, disclosure, version -------------------


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _write_private(path: Path, data: bytes) -> None:
    """Write *data* to *path* readable by its owner only (0600), never half-written: a temporary file in the
    same directory, flushed to disk, then renamed over *path*."""
    import tempfile

    if path.is_dir():
        fail(f"cannot write {path}: it is a directory")
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror}")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        fail(f"cannot write {path}: {error.strerror}")


def _deliver(data: bytes, output: Path | None, binary: bool) -> None:
    """To *output*, or to stdout (binary only when stdout is not a terminal)."""
    if output is not None:
        _write_private(output, data)
        errors.print(f"wrote {output}", highlight=False, soft_wrap=True)
    elif binary and _stdout_is_terminal():
        fail("refusing to write a binary image to the terminal: give -o FILE or redirect the output")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="write here (0600) instead of stdout")]


@app.command("list")
def list_certificates(
    status_: Annotated[str | None, typer.Option("--status", help="pending, anchored, revoked, superseded "
                                                                 "or erased")] = None,
    number_prefix: Annotated[str | None, typer.Option("--number", help="certificate numbers starting so")] = None,
    importing: Annotated[str | None, typer.Option("--importing", help="importing country (ISO alpha-2)")] = None,
    since: Annotated[str | None, typer.Option(help="registered at or after (ISO 8601 date or time)")] = None,
    until: Annotated[str | None, typer.Option(help="registered before (ISO 8601 date or time)")] = None,
    limit: Annotated[int, typer.Option(help="certificates per page (1-200)")] = 50,
    cursor: Annotated[str | None, typer.Option("--cursor", help="start after this id (a previous page's next)")] = None,
    every: Annotated[bool, typer.Option("--all", help="follow every page to the end")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """List the certificates your key may see, newest first, a page at a time (--all: every page)."""
    given = {"status": status_, "number_prefix": number_prefix, "importing_country": importing, "since": since,
             "until": until, "limit": limit}
    params = {k: v for k, v in given.items() if v is not None}
    with _client(node, api_key) as client:
        found, cursor = _pages(client, "/v1/certificates", "certificates", params, cursor, every)
    if as_json:
        console.print_json(data={"certificates": found, "next": cursor})
        return
    console.print(_certificates_table(found))
    if cursor is not None:
        errors.print(f"more: coo list --cursor {cursor}", highlight=False, soft_wrap=True)


def _pages(client: httpx.Client, path: str, name: str, params: dict[str, Any], cursor: str | None,
           every: bool) -> tuple[list[dict[str, Any]], str | None]:
    """The items of one page after *cursor* (of every page, with *every*), and the cursor of the next."""
    found: list[dict[str, Any]] = []
    while True:
        page = _call(client, "GET", path, params={**params, **({"after": cursor} if cursor else {})})
        found += page[name]
        cursor = page["next"]
        if cursor is None or not every:
            return found, cursor


def _certificates_table(found: list[dict[str, Any]]) -> Table:
    when = "created_at" if any("created_at" in c for c in found) else "anchored_at"
    table = Table(title=f"{len(found)} certificate(s)")
    table.add_column("id", no_wrap=True, min_width=36)
    for column in ("number", "status", "importing", when.split("_")[0]):
        table.add_column(column)
    for c in found:
        table.add_row(c["id"], c["certificate_number"] or "(erased)", c["status"], c["importing_country"],
                      (c.get(when) or "")[:16].replace("T", " "))
    return table


@app.command()
def download(
    certificate_id: Annotated[str, typer.Argument(help="certificate id")],
    output: OutputOpt = None,
    qr: Annotated[str | None, typer.Option("--qr", help="the QR code instead: png or svg")] = None,
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """Download the sealed document to hand to the exporter, or its QR code for the paper copy (--qr)."""
    if qr not in (None, "png", "svg"):
        fail(f"--qr {qr}: choose png or svg")
    path = f"/v1/certificates/{certificate_id}/" + (f"qr.{qr}" if qr else "document")
    with _client(node, api_key) as client:
        answer = _answer(client, "GET", path)
    data = answer.content if qr else json.dumps(answer.json(), indent=2).encode() + b"\n"
    _deliver(data, output, binary=qr == "png")


def _sealed_document(path: Path) -> SealedDocument:
    """The sealed document in the file at *path*, or one line saying what is wrong with it."""
    from pydantic import ValidationError as ModelError

    from registry.sealing.document import SealedDocument

    try:
        return SealedDocument.model_validate(_read_json(path))
    except ModelError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        fail(f"{path} is not a sealed document: {where}: {first['msg']}")


@app.command()
def disclose(
    sealed: Annotated[Path, typer.Argument(help="the sealed document (JSON)")],
    withhold: Annotated[list[str], typer.Option("--withhold", help="a field or prefix to withhold, e.g. goods[1], "
                                                                   "exporter.address; repeat for several")],
    output: OutputOpt = None,
) -> None:
    """Withhold fields of a sealed document, offline; the partial document still verifies (coo verify)."""
    from registry.errors import ValidationError
    from registry.sealing.document import withhold as withhold_fields

    document = _sealed_document(sealed)
    try:
        partial = withhold_fields(document, withhold)
    except ValidationError as error:
        fail(str(error))
    _deliver(partial.model_dump_json(indent=2).encode() + b"\n", output, binary=False)


@app.command()
def prove(
    sealed: Annotated[Path, typer.Argument(help="the full sealed document (JSON), with its commitment's opening")],
    claim: Annotated[list[str], typer.Option("--claim", help="a claim, e.g. 'goods[0].rvc >= 40', "
                                                             "'goods[1].hs_code startswith 8481'; repeat for several")],
    output: OutputOpt = None,
) -> None:
    """Prove claims about a sealed document's confidential figures in zero knowledge, offline; writes the proof
    bundle (no value disclosed), which coo verify checks."""
    from registry.errors import RegistryError
    from registry.zk.prover import prove as prove_claims

    document = _sealed_document(sealed)
    try:
        bundle = prove_claims(document, claim)
    except RegistryError as error:
        fail(str(error))
    _deliver(bundle.model_dump_json(indent=2).encode() + b"\n", output, binary=False)


@keys_app.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """List the node's API keys: who each speaks for, never a secret (admin key needed)."""
    with _client(node, api_key) as client:
        found = _call(client, "GET", "/v1/keys")
    if as_json:
        console.print_json(data=found)
        return
    table = Table(title=f"{len(found)} key(s)")
    table.add_column("key id", no_wrap=True, min_width=16)
    for column in ("role", "country", "account", "label", "created"):
        table.add_column(column)
    for k in found:
        table.add_row(k["key_id"], k["role"], k["country"] or "", k["account"] or "", k["label"],
                      k["created_at"][:16].replace("T", " "))
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="the id in coo_<id>_<secret> (see coo keys list)")],
    node: NodeOpt = "http://127.0.0.1:8000",
    api_key: KeyOpt = None,
) -> None:
    """Revoke an API key at once (admin key needed); the node's last admin key cannot be revoked."""
    with _client(node, api_key) as client:
        _answer(client, "DELETE", f"/v1/keys/{key_id}")
    typer.echo(f"{key_id}\trevoked")


def _show_version(value: bool) -> None:
    from importlib.metadata import PackageNotFoundError, version

    if not value:
        return
    try:
        typer.echo(f"coo {version('coo-registry')}")
    except PackageNotFoundError:
        typer.echo("coo (version unknown: the coo-registry package is not installed)")
    raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                                help="print the version and exit")] = False) -> None:
    """Certificate of Origin registry."""


app.add_typer(network_app, name="network")


def main() -> None:
    """Entry point that never shows a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
