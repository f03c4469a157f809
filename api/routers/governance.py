"""Governance: the consortium admits countries; authorities govern their issuers; admins mint keys."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Path, status

from api.deps import CurrentAdmin, CurrentAuthority, DocumentsDep, GovernanceDep
from api.limits import GuardedRoute
from api.schemas import (
    PENDING_RESPONSES,
    AccountCreated,
    AuthorityAccountCreate,
    CountryCreate,
    CustomsCreate,
    IssuerCreate,
    KeyCreate,
    KeyCreated,
    KeyListed,
    NameSet,
    PeerSet,
)
from registry.custody.apikeys import Role

router = APIRouter(route_class=GuardedRoute, tags=["governance"])

Address = Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="issuer account")


@router.post("/v1/governance/countries",
             responses=PENDING_RESPONSES, status_code=status.HTTP_201_CREATED, summary="Admit a country")
def admit_country(body: CountryCreate, admin: CurrentAdmin, governance: GovernanceDep) -> AccountCreated:
    """Records the country's competent authority on chain and returns an authority API key."""
    account, key = governance.admit_country(admin, body.country, body.authority, body.authority_name)
    return AccountCreated(account=account, api_key=key)


@router.put("/v1/governance/countries/{country}/authority-name", responses=PENDING_RESPONSES,
            status_code=status.HTTP_204_NO_CONTENT, summary="Name a country's authority")
def name_authority(body: NameSet, admin: CurrentAdmin, governance: GovernanceDep,
                   country: str = Path(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")) -> None:
    """Registered on chain for the country's current authority; every verifier shows it beside the address."""
    governance.name_authority(admin, country, body.name)


@router.post("/v1/governance/authority-accounts", status_code=status.HTTP_201_CREATED,
             summary="Create this node's authority account, for the consortium admin to admit")
def create_authority_account(body: AuthorityAccountCreate, admin: CurrentAdmin,
                             governance: GovernanceDep) -> AccountCreated:
    """For a country whose node is not the consortium admin's: the key stays on this node; send the
    address to the consortium admin, who admits the country with it (`POST /v1/governance/countries`)."""
    account, key = governance.create_authority_account(admin, body.country, body.label)
    return AccountCreated(account=account, api_key=key)


@router.post("/v1/governance/issuers",
             responses=PENDING_RESPONSES, status_code=status.HTTP_201_CREATED, summary="Authorise an issuing body")
def authorise_issuer(body: IssuerCreate, authority: CurrentAuthority,
                     governance: GovernanceDep) -> AccountCreated:
    """For the calling authority's own country; returns the issuer's API key."""
    account, key = governance.authorise_issuer(authority, body.label, body.account)
    return AccountCreated(account=account, api_key=key)


@router.post("/v1/governance/issuers/{address}/suspend",
             responses=PENDING_RESPONSES, status_code=status.HTTP_204_NO_CONTENT,
             summary="Suspend an issuing body")
def suspend(authority: CurrentAuthority, governance: GovernanceDep, address: str = Address) -> None:
    """Certificates it anchored before stay valid; it can anchor nothing new."""
    governance.set_issuer_standing(authority, address, active=False)


@router.post("/v1/governance/issuers/{address}/reinstate",
             responses=PENDING_RESPONSES, status_code=status.HTTP_204_NO_CONTENT,
             summary="Reinstate a suspended issuing body")
def reinstate(authority: CurrentAuthority, governance: GovernanceDep, address: str = Address) -> None:
    """Lifts a suspension."""
    governance.set_issuer_standing(authority, address, active=True)


@router.put("/v1/governance/issuers/{address}/name", responses=PENDING_RESPONSES,
            status_code=status.HTTP_204_NO_CONTENT, summary="Rename an issuing body")
def name_issuer(body: NameSet, authority: CurrentAuthority, governance: GovernanceDep,
                address: str = Address) -> None:
    """For the calling authority's own issuers only (409 for another country's): registered on chain, shown
    by every verifier beside the issuer's address."""
    governance.name_issuer(authority, address, body.name)


@router.post("/v1/governance/customs",
             responses=PENDING_RESPONSES, status_code=status.HTTP_201_CREATED, summary="Admit a Customs account")
def authorise_customs(body: CustomsCreate, authority: CurrentAuthority,
                      governance: GovernanceDep) -> AccountCreated:
    """For the calling authority's own country: the account may record utilisation of certificates
    imported into it and open verification requests. Returns its customs API key."""
    account, key = governance.authorise_customs(authority, body.label, body.account)
    return AccountCreated(account=account, api_key=key)


@router.put("/v1/governance/peers/{country}", status_code=status.HTTP_204_NO_CONTENT,
            summary="Configure another country's node")
def set_peer(body: PeerSet, admin: CurrentAdmin, documents: DocumentsDep,
             country: str = Path(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")) -> None:
    """Where this node asks for data keys of that country's encrypted certificates, with the
    Customs API key that node minted for us (kept encrypted under this node's key)."""
    documents.set_peer(admin, country, body.url, body.api_key)


@router.get("/v1/keys", summary="List this node's API keys")
def list_keys(admin: CurrentAdmin, governance: GovernanceDep) -> list[KeyListed]:
    """Who each key speaks for and when it was minted; never a secret (the node keeps only salted hashes)."""
    return [KeyListed(key_id=p.key_id, role=p.role.value, country=p.country, account=p.account, label=p.label,
                      created_at=datetime.fromtimestamp(created, UTC)) for p, created in governance.keys(admin)]


@router.delete("/v1/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API key")
def revoke_key(admin: CurrentAdmin, governance: GovernanceDep,
               key_id: str = Path(pattern=r"^[0-9a-f]{16}$", description="the id in coo_<id>_<secret>")) -> None:
    """At once: the next request with it is 401. The node's last admin key cannot be revoked (409)."""
    governance.revoke_key(admin, key_id)


@router.post("/v1/keys", status_code=status.HTTP_201_CREATED, summary="Mint an API key")
def mint_key(body: KeyCreate, admin: CurrentAdmin, governance: GovernanceDep) -> KeyCreated:
    """The key is shown once; the node keeps only its hash."""
    key = governance.mint_key(admin, Role(body.role), body.country, body.account, body.label)
    return KeyCreated(api_key=key, role=body.role)
