"""Verifying certificate credentials: every failure lands in its own check with its own verdict."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from registry.domain.report import CHECK_NAMES, CheckStatus, Verdict
from registry.vc.credential import issue_credential, secure_credential
from registry.vc.errors import StatusUnavailableError
from registry.vc.jose import b64url_encode, sign_compact
from registry.vc.keys import IssuerKey, did_web
from registry.vc.resolver import Resolver
from registry.vc.status_list import StatusList, build_status_list_credential, issue_status_list_credential
from registry.vc.verify import NO_LEDGER, HttpStatusFetcher, verify_credential
from tests.registry.vc.support import CERTIFICATE, ISSUED_AT, NOW, STATUS_URL, World, make_world

PASS, FAIL, SKIPPED, WARN = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.SKIPPED, CheckStatus.WARN


@pytest.fixture
def world() -> World:
    return make_world()


def _payload(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return payload


def _with_payload(token: str, payload: dict[str, Any]) -> str:
    head, _, signature = token.split(".")
    return f"{head}.{b64url_encode(json.dumps(payload).encode())}.{signature}"


# -- the happy path and revocation -------------------------------------------------------


def test_an_issued_credential_verifies_as_valid_with_every_check_in_the_chain_paths_order(world: World) -> None:
    report = world.verify()
    assert report.verdict is Verdict.VALID, report.summary
    chain_only = ("declaration_match", "verification_request", "flags", "commitment", "claim")
    assert [c.name for c in report.checks] == [n for n in CHECK_NAMES if n not in chain_only]
    statuses = {c.name: c.status for c in report.checks}
    assert statuses == {"integrity": PASS, "anchored": SKIPPED, "issuer_authorised": PASS, "status": PASS,
                        "validity": PASS, "readable": PASS, "utilisation": SKIPPED}
    assert report.check("anchored").reason == NO_LEDGER
    assert report.disclosed == CERTIFICATE
    assert (report.certificate_number, report.issuer, report.exporting_country) == (
        "SG-RCEP-2026-007734", world.issuer.did, "SG")
    assert report.checked_at == NOW


def test_a_revocation_shows_once_the_issuer_republishes_its_list(world: World) -> None:
    world.status.revoke(world.issued.status_index)
    assert world.verify().verdict is Verdict.VALID  # the host still serves the list signed before
    world.publish(NOW)
    report = world.verify()
    assert report.verdict is Verdict.REVOKED
    assert report.check("status").status is FAIL and report.summary.startswith("REVOKED:")
    assert report.check("status").details["status_index"] == world.issued.status_index


def test_revoking_another_credential_leaves_this_one_valid(world: World) -> None:
    other = issue_credential(CERTIFICATE | {"certificate_number": "SG-RCEP-2026-007735"}, world.issuer,
                             world.status.reserve(STATUS_URL), ISSUED_AT)
    world.status.revoke(other.status_index)
    world.publish(NOW)
    assert world.verify().verdict is Verdict.VALID
    assert world.verify(other.jwt).verdict is Verdict.REVOKED


# -- integrity ---------------------------------------------------------------------------


def test_a_tampered_payload_fails_integrity(world: World) -> None:
    payload = _payload(world.issued.jwt)
    payload["credentialSubject"]["goods"][0]["quantity"] = "9600"
    report = world.verify(_with_payload(world.issued.jwt, payload))
    assert report.verdict is Verdict.INVALID
    assert report.check("integrity").status is FAIL and "signature" in report.check("integrity").reason
    assert report.disclosed is None
    assert report.check("status").status is SKIPPED


def test_a_credential_signed_with_another_key_under_the_issuers_name_fails_integrity(world: World) -> None:
    impostor = IssuerKey(IssuerKey.generate().private_key, world.issuer.did)
    token = issue_credential(CERTIFICATE, impostor, StatusList().reserve(STATUS_URL), ISSUED_AT).jwt
    report = world.verify(token)
    assert report.verdict is Verdict.INVALID
    assert report.check("integrity").status is FAIL
    assert "not an assertion method" in report.check("integrity").reason  # its key id is not in the DID document


def test_a_signature_by_another_key_with_the_issuers_key_id_fails_integrity(world: World) -> None:
    credential = _payload(world.issued.jwt)
    token = sign_compact(credential, IssuerKey.generate().private_key, kid=world.issuer.kid)
    report = world.verify(token)
    assert report.verdict is Verdict.INVALID and "signature" in report.check("integrity").reason


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b", "e30.e30.e30", "x.y.z.w"])
def test_garbage_is_invalid_and_nothing_is_fetched(world: World, token: str) -> None:
    report = world.verify(token or ".")
    assert report.verdict is Verdict.INVALID and report.check("integrity").status is FAIL
    assert report.check("readable").status is SKIPPED
    assert world.did_host.lookups == [] and world.status_host.fetches == 0


def test_a_token_naming_the_fully_specified_ed25519_algorithm_verifies(world: World) -> None:
    token = sign_compact(world.issued.credential, world.issuer.private_key, kid=world.issuer.kid, alg="Ed25519")
    assert world.verify(token).verdict is Verdict.VALID


def test_an_unsigned_alg_none_token_is_invalid(world: World) -> None:
    head = b64url_encode(json.dumps({"alg": "none", "typ": "vc+jwt", "kid": world.issuer.kid}).encode())
    body = world.issued.jwt.split(".")[1]
    report = world.verify(f"{head}.{body}.")
    assert report.verdict is Verdict.INVALID and "algorithm" in report.check("integrity").reason


def test_a_token_of_another_type_is_invalid(world: World) -> None:
    token = sign_compact(world.issued.credential, world.issuer.private_key, kid=world.issuer.kid, typ="JWT")
    assert world.verify(token).check("integrity").status is FAIL


def test_a_vc_claim_wrapper_is_refused(world: World) -> None:
    wrapped = {"vc": world.issued.credential, "issuer": world.issuer.did, "credentialSubject": {}}
    token = sign_compact(wrapped, world.issuer.private_key, kid=world.issuer.kid)
    report = world.verify(token)
    assert report.verdict is Verdict.INVALID and "'vc'" in report.check("integrity").reason


def test_a_signed_credential_of_another_type_fails_integrity(world: World) -> None:
    credential = dict(world.issued.credential, type=["VerifiableCredential", "AlumniCredential"])
    report = world.verify(secure_credential(credential, world.issuer))
    assert report.verdict is Verdict.INVALID and "CertificateOfOriginCredential" in report.check("integrity").reason


# -- issuer_authorised -------------------------------------------------------------------


def test_an_issuer_missing_from_the_trust_list_is_invalid_and_its_did_is_never_resolved(world: World) -> None:
    world.trust = {"SG": set()}
    report = world.verify()
    assert report.verdict is Verdict.INVALID
    assert report.check("issuer_authorised").status is FAIL
    assert report.check("integrity").status is SKIPPED
    assert world.did_host.lookups == [] and world.status_host.fetches == 0


def test_an_issuer_trusted_for_another_country_is_invalid(world: World) -> None:
    world.trust = {"MY": {world.issuer.did}}
    report = world.verify()
    assert report.verdict is Verdict.INVALID and "for exporting country SG" in report.check("issuer_authorised").reason


def test_a_self_made_did_key_issuer_verifies_offline_only_once_trusted() -> None:
    issuer = IssuerKey.generate()
    world = make_world(issuer=issuer)
    assert world.verify().verdict is Verdict.VALID
    assert world.did_host.lookups == []  # did:key needs no host
    world.trust = {"SG": {did_web("coo.customs.gov.sg")}}
    assert world.verify().verdict is Verdict.INVALID


# -- status --------------------------------------------------------------------------------


def test_a_status_list_under_131072_entries_is_invalid_in_the_status_check(world: World) -> None:
    credential = build_status_list_credential(world.status, issuer_did=world.issuer.did, url=STATUS_URL, now=NOW)
    short = gzip.compress(bytes(131_072 // 8 - 1))
    credential["credentialSubject"]["encodedList"] = "u" + b64url_encode(short)
    world.status_host.publish(STATUS_URL, secure_credential(credential, world.issuer))
    report = world.verify()
    assert report.verdict is Verdict.INVALID
    assert report.check("status").status is FAIL and "STATUS_LIST_LENGTH_ERROR" in report.check("status").reason
    assert report.check("integrity").status is PASS


def test_a_status_list_signed_by_someone_else_is_invalid(world: World) -> None:
    stranger = IssuerKey.generate()
    world.status_host.publish(STATUS_URL, issue_status_list_credential(StatusList(), stranger, STATUS_URL, NOW).jwt)
    report = world.verify()
    assert report.verdict is Verdict.INVALID and report.check("status").status is FAIL


def test_a_forged_status_list_under_the_issuers_name_is_invalid(world: World) -> None:
    forger = IssuerKey(IssuerKey.generate().private_key, world.issuer.did)
    credential = build_status_list_credential(StatusList(), issuer_did=world.issuer.did, url=STATUS_URL, now=NOW)
    world.status_host.publish(STATUS_URL, sign_compact(credential, forger.private_key, kid=world.issuer.kid))
    report = world.verify()
    assert report.verdict is Verdict.INVALID and "signature" in report.check("status").reason


def test_an_index_beyond_the_list_is_a_range_error(world: World) -> None:
    credential = dict(world.issued.credential)
    credential["credentialStatus"] = dict(credential["credentialStatus"], statusListIndex="131072")
    report = world.verify(secure_credential(credential, world.issuer))
    assert report.verdict is Verdict.INVALID and "RANGE_ERROR" in report.check("status").reason


def test_a_credential_without_a_revocation_entry_is_invalid(world: World) -> None:
    credential = {k: v for k, v in world.issued.credential.items() if k != "credentialStatus"}
    report = world.verify(secure_credential(credential, world.issuer))
    assert report.verdict is Verdict.INVALID and "no revocation status entry" in report.check("status").reason


def test_a_list_for_another_purpose_does_not_answer_for_revocation(world: World) -> None:
    suspensions = StatusList(purpose="suspension")
    world.status_host.publish(STATUS_URL, issue_status_list_credential(suspensions, world.issuer, STATUS_URL, NOW).jwt)
    report = world.verify()
    assert report.verdict is Verdict.INVALID and "STATUS_VERIFICATION_ERROR" in report.check("status").reason


def test_a_list_published_at_another_url_is_refused(world: World) -> None:
    other = issue_status_list_credential(world.status, world.issuer, "https://coo.customs.gov.sg/other", NOW).jwt
    world.status_host.publish(STATUS_URL, other)
    assert world.verify().check("status").status is FAIL


def test_a_stale_status_list_gives_unavailable_not_valid(world: World) -> None:
    world.publish(NOW - timedelta(days=2))  # a replayed copy, long past its validUntil
    report = world.verify()
    assert report.verdict is Verdict.UNAVAILABLE
    assert report.check("status").status is SKIPPED and "expired" in report.check("status").reason


# -- hosts down ------------------------------------------------------------------------------


def test_an_unreachable_status_host_gives_unavailable(world: World) -> None:
    world.status_host.up = False
    report = world.verify()
    assert report.verdict is Verdict.UNAVAILABLE
    assert report.check("status").status is SKIPPED and report.check("integrity").status is PASS
    assert report.summary.startswith("UNAVAILABLE:") and "do not accept" in report.summary
    assert not report.accepted


def test_an_unreachable_did_host_gives_unavailable(world: World) -> None:
    world.did_host.up = False
    report = world.verify()
    assert report.verdict is Verdict.UNAVAILABLE
    assert report.check("integrity").status is SKIPPED and report.check("status").status is SKIPPED
    assert report.disclosed is None


def test_a_revocation_outranks_expiry(world: World) -> None:
    world.status.revoke(world.issued.status_index)
    world.publish(NOW + timedelta(days=400))
    assert world.verify(now=NOW + timedelta(days=400)).verdict is Verdict.REVOKED


# -- validity ----------------------------------------------------------------------------------


def test_an_expired_credential_is_expired(world: World) -> None:
    later = NOW + timedelta(days=365)
    world.publish(later)
    report = world.verify(now=later)
    assert report.verdict is Verdict.EXPIRED
    assert report.check("validity").status is FAIL and "2027-11-09T23:59:59Z" in report.check("validity").reason
    assert report.check("status").status is PASS


def test_an_expired_credential_stays_expired_when_the_status_host_is_down(world: World) -> None:
    world.status_host.up = False
    assert world.verify(now=NOW + timedelta(days=365)).verdict is Verdict.EXPIRED


def test_a_credential_is_not_valid_before_its_issue_date(world: World) -> None:
    world.publish(ISSUED_AT - timedelta(days=3))
    report = world.verify(now=ISSUED_AT - timedelta(days=2))
    assert report.verdict is Verdict.INVALID and report.check("validity").status is FAIL


def test_it_is_valid_on_the_last_second_of_its_last_day(world: World) -> None:
    last = world.issued.credential["validUntil"]
    moment = NOW.replace(year=2027, month=11, day=9, hour=23, minute=59, second=59)
    world.publish(moment)
    assert last == "2027-11-09T23:59:59Z" and world.verify(now=moment).verdict is Verdict.VALID


def test_flags_give_valid_with_warnings_like_the_chain_path() -> None:
    world = make_world(CERTIFICATE | {"issued_retrospectively": True})
    report = world.verify()
    assert report.verdict is Verdict.VALID_WITH_WARNINGS and report.accepted
    assert report.checks[-1].name == "flags" and report.checks[-1].status is WARN


def test_a_naive_verification_time_is_refused(world: World) -> None:
    with pytest.raises(ValueError):
        world.verify(now=NOW.replace(tzinfo=None))


# -- over HTTP ------------------------------------------------------------------------------------


class Server:
    """One httpx MockTransport playing the issuer's web host (DID document and status list)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.up = True
        self.list_token = issue_status_list_credential(world.status, world.issuer, STATUS_URL, NOW).jwt
        self.hits: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        self.hits.append(request.url.path)
        if request.url.path == "/.well-known/did.json":
            return httpx.Response(200, json=self.world.issuer.did_document())
        if str(request.url) == STATUS_URL:
            return httpx.Response(200, text=self.list_token, headers={"content-type": "application/vc+jwt"})
        return httpx.Response(404)


def _http_verify(world: World, server: Server, fetcher: HttpStatusFetcher, resolver: Resolver) -> Verdict:
    return verify_credential(world.issued.jwt, resolver=resolver, status_fetcher=fetcher,
                             trusted_issuers=world.trust, now=NOW).verdict


def test_over_http_a_revocation_propagates_only_when_the_cached_list_expires(world: World) -> None:
    server, clock = Server(world), [0.0]
    client = httpx.Client(transport=httpx.MockTransport(server))
    fetcher = HttpStatusFetcher(client, ttl=60, clock=lambda: clock[0])
    resolver = Resolver(http=client, clock=lambda: clock[0])
    assert _http_verify(world, server, fetcher, resolver) is Verdict.VALID
    world.status.revoke(world.issued.status_index)
    server.list_token = issue_status_list_credential(world.status, world.issuer, STATUS_URL, NOW).jwt
    clock[0] = 59.0
    assert _http_verify(world, server, fetcher, resolver) is Verdict.VALID  # still inside the TTL
    clock[0] = 60.5
    assert _http_verify(world, server, fetcher, resolver) is Verdict.REVOKED
    assert fetcher.fetches == 2 and fetcher.bytes_fetched > 0
    assert server.hits.count("/.well-known/did.json") == 1  # the DID document is cached too


def test_over_http_a_host_that_goes_down_gives_unavailable_once_the_cache_lapses(world: World) -> None:
    server, clock = Server(world), [0.0]
    client = httpx.Client(transport=httpx.MockTransport(server))
    fetcher = HttpStatusFetcher(client, ttl=30, clock=lambda: clock[0])
    resolver = Resolver(http=client, ttl=30, clock=lambda: clock[0])
    assert _http_verify(world, server, fetcher, resolver) is Verdict.VALID
    server.up = False
    assert _http_verify(world, server, fetcher, resolver) is Verdict.VALID  # both answers still cached
    clock[0] = 31.0
    assert _http_verify(world, server, fetcher, resolver) is Verdict.UNAVAILABLE


def test_over_http_the_lists_own_ttl_caps_the_cache(world: World) -> None:
    server, clock = Server(world), [0.0]
    server.list_token = issue_status_list_credential(world.status, world.issuer, STATUS_URL, NOW, ttl_ms=5_000).jwt
    client = httpx.Client(transport=httpx.MockTransport(server))
    fetcher = HttpStatusFetcher(client, ttl=3_600, clock=lambda: clock[0])
    fetcher.fetch(STATUS_URL)
    clock[0] = 6.0
    fetcher.fetch(STATUS_URL)
    assert fetcher.fetches == 2


def test_a_status_list_over_plain_http_is_refused_except_on_loopback() -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, text="token")))
    with pytest.raises(StatusUnavailableError, match="STATUS_RETRIEVAL_ERROR"):
        HttpStatusFetcher(client).fetch("http://coo.customs.gov.sg/v1/status-lists/revocation-1")
    with pytest.raises(StatusUnavailableError, match="STATUS_RETRIEVAL_ERROR"):
        HttpStatusFetcher(client, allow_http=True).fetch("http://coo.customs.gov.sg/list")
    assert HttpStatusFetcher(client, allow_http=True).fetch("http://127.0.0.1:8000/list") == "token"


def test_a_status_host_answering_an_error_gives_unavailable(world: World) -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    report = verify_credential(world.issued.jwt, resolver=world.did_host, status_fetcher=HttpStatusFetcher(client),
                               trusted_issuers=world.trust, now=NOW)
    assert report.verdict is Verdict.UNAVAILABLE and "503" in report.check("status").reason


def test_a_status_list_issued_a_moment_after_the_verification_time_is_accepted(world: World) -> None:
    world.publish(NOW + timedelta(seconds=1))  # fetched, and so issued, after the verifier fixed its `now`
    report = world.verify()
    assert report.verdict is Verdict.VALID, report.check("status").reason


def test_a_status_list_dated_well_in_the_future_is_refused(world: World) -> None:
    world.publish(NOW + timedelta(minutes=10))
    report = world.verify()
    assert report.verdict is Verdict.INVALID and "dated in the future" in report.check("status").reason
