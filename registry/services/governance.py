"""Governance: the consortium admits countries; authorities authorise, suspend and reinstate issuing
bodies; admins mint API keys. Every change goes through the chain-write outbox."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from registry.chain.client import iso_country
from registry.custody.apikeys import Principal, Role
from registry.errors import (
    ConflictError,
    ContractRevertError,
    NotFoundError,
    PermissionDenied,
    WritePending,
)
from registry.services.context import (
    Service,
    ServiceContext,
    checksum_address,
)
from registry.storage.writelog import ChainWrite, WriteKind
from registry.types import same_account


class Governance(Service):
    """Admissions, authorisations, standing and API keys, behind role checks."""

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        for kind in (WriteKind.AUTHORISE_ISSUER, WriteKind.SUSPEND_ISSUER, WriteKind.REINSTATE_ISSUER):
            self.outbox.on_settled(kind, self._standing_changed)
        for kind in (WriteKind.ADMIT_COUNTRY, WriteKind.AUTHORISE_CUSTOMS, WriteKind.WITHDRAW_CUSTOMS,
                     WriteKind.NAME_ISSUER, WriteKind.NAME_AUTHORITY):
            self.outbox.on_settled(kind, lambda _: ctx.refresh_index())

    def admit_country(self, principal: Principal, country: str, authority: str | None,
                      name: str | None = None) -> tuple[str, str]:
        """Admit *country*; create its authority account here unless one is given; register the authority's
        *name* on chain when given (verifiers show it beside the address). Returns (address, API key)."""
        admin = self.ctx.signer_for(principal, Role.ADMIN)
        country = iso_country(country)
        account = checksum_address(authority) if authority else self.ctx.new_funded_account()
        key = self.api_keys.mint(Role.AUTHORITY, country=country, account=account,
                                 label=name or f"authority of {country}")
        naming = (WriteKind.NAME_AUTHORITY, admin, {"country": country, "name": name, "lane": f"country:{country}"},
                  f"name:country:{country}") if name else None
        self._send_then_name(WriteKind.ADMIT_COUNTRY, admin, {"country": country, "authority": account},
                             f"country:{country}", naming, account=account, api_key=key)
        return account, key

    def name_authority(self, principal: Principal, country: str, name: str) -> None:
        """Register (or change) the name of *country*'s current authority on chain (admin only)."""
        admin = self.ctx.signer_for(principal, Role.ADMIN)
        country = iso_country(country)
        self.send_governance(WriteKind.NAME_AUTHORITY, admin, {"country": country, "name": name,
                                                               "lane": f"country:{country}"},
                             f"name:country:{country}")

    def name_issuer(self, principal: Principal, issuer: str, name: str) -> None:
        """Register (or change) the name of an issuing body of the authority's own country on chain.

        Raises:
            ConflictError: the chain refuses it (not this authority's issuer).
        """
        authority = self.ctx.signer_for(principal, Role.AUTHORITY)
        account = checksum_address(issuer)
        self.send_governance(WriteKind.NAME_ISSUER, authority, {"account": account, "name": name,
                                                                "lane": f"standing:{account.lower()}"},
                             f"name:{account.lower()}")

    def _send_then_name(self, kind: WriteKind, signer: LocalAccount, args: Mapping[str, Any], subject: str,
                        naming: tuple[WriteKind, LocalAccount, Mapping[str, Any], str] | None, **shown: str) -> None:
        """Send a governance write, then the write naming its account. If the first is still pending, the
        name is recorded behind it in its lane (the worker sends it once the first settled), never lost."""
        try:
            self.send_governance(kind, signer, args, subject, **shown)
        except WritePending:
            if naming is not None:
                name_kind, name_signer, name_args, name_subject = naming
                self.outbox.log.add(name_kind, name_signer.address, name_args, subject=name_subject)
            raise
        if naming is not None:  # the account is admitted: its key stays whatever becomes of its name
            name_kind, name_signer, name_args, name_subject = naming
            try:
                self.send_governance(name_kind, name_signer, name_args, name_subject)
            except WritePending as pending:
                pending.shown.update(shown)
                raise

    def create_authority_account(self, principal: Principal, country: str, label: str) -> tuple[str, str]:
        """Create, on this node, the account of *country*'s competent authority, for the consortium
        admin (who may run another node) to admit. Nothing happens on chain. Returns (address, API key)."""
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("only an admin key may create authority accounts")
        account = self.ctx.new_funded_account()
        key = self.api_keys.mint(Role.AUTHORITY, country=country, account=account, label=label)
        return account, key

    def authorise_issuer(self, principal: Principal, label: str, issuer: str | None) -> tuple[str, str]:
        """Authorise an issuing body for the authority's country. Returns (address, API key)."""
        authority = self.ctx.signer_for(principal, Role.AUTHORITY)
        account = checksum_address(issuer) if issuer else self.ctx.new_funded_account()
        key = self.api_keys.mint(Role.ISSUER, country=principal.country, account=account, label=label)
        lane = f"standing:{account.lower()}"
        naming = (WriteKind.NAME_ISSUER, authority, {"account": account, "name": label, "lane": lane},
                  f"name:{account.lower()}")
        self._send_then_name(WriteKind.AUTHORISE_ISSUER, authority, {"account": account}, lane, naming,
                             account=account, api_key=key)
        return account, key

    def set_issuer_standing(self, principal: Principal, issuer: str, active: bool) -> None:
        """Suspend or reinstate an issuing body of the authority's own country."""
        authority = self.ctx.signer_for(principal, Role.AUTHORITY)
        self.ctx.standing.pop(issuer.lower(), None)
        kind = WriteKind.REINSTATE_ISSUER if active else WriteKind.SUSPEND_ISSUER
        self.send_governance(kind, authority, {"account": checksum_address(issuer)}, f"standing:{issuer.lower()}")

    def send_governance(self, kind: WriteKind, signer: LocalAccount, args: Mapping[str, Any], subject: str,
                        **shown: str) -> ChainWrite:
        """Send a governance write through the outbox; *shown* goes into a pending answer (the new key).

        A refused write takes the API key minted for it (*shown*'s ``api_key``) with it: no stray key is
        left for an account the chain never admitted."""
        try:
            return self.outbox.submit(kind, signer, args, subject=subject)
        except WritePending as pending:
            pending.shown.update(shown)
            raise
        except (ConflictError, ContractRevertError):
            if "api_key" in shown:
                self.api_keys.revoke(shown["api_key"].split("_")[1])
            raise

    def chain_write(self, principal: Principal, write_id: int) -> ChainWrite:
        """A chain write, for the account that signs it or an admin.

        Raises:
            NotFoundError: no such write, or not the caller's.
        """
        write = self.outbox.log.get(write_id)
        if principal.role is not Role.ADMIN and not same_account(principal.account, write.signer):
            raise NotFoundError("chain write", str(write_id))
        return write

    def mint_key(self, principal: Principal, role: Role, country: str | None, account: str | None, label: str) -> str:
        """Mint an API key (admin only)."""
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("only an admin key may mint API keys")
        return self.api_keys.mint(role, country=country, account=account, label=label)

    def keys(self, principal: Principal) -> list[tuple[Principal, float]]:
        """Every API key of this node, without its secret (admin only)."""
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("only an admin key may list API keys")
        return self.api_keys.listed()

    def revoke_key(self, principal: Principal, key_id: str) -> None:
        """Revoke an API key at once (admin only); the node's last admin key cannot be revoked.

        Raises:
            NotFoundError: no such key.
            ConflictError: it is the last admin key (nobody could manage keys any more).
        """
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("only an admin key may revoke API keys")
        found = {p.key_id: p for p, _ in self.api_keys.listed()}
        if key_id not in found:
            raise NotFoundError("API key", key_id)
        if found[key_id].role is Role.ADMIN and sum(p.role is Role.ADMIN for p in found.values()) == 1:
            raise ConflictError("this is the node's last admin key: mint another admin key before revoking it")
        self.api_keys.revoke(key_id)

    def _standing_changed(self, write: ChainWrite) -> None:
        self.ctx.standing[write.args["account"].lower()] = (time.monotonic(),
                                                            write.kind is not WriteKind.SUSPEND_ISSUER)
        self.ctx.refresh_index()

    def authorise_customs(self, principal: Principal, label: str, account: str | None = None) -> tuple[str, str]:
        """Admit a Customs account of the authority's country on chain; return (address, API key)."""
        authority = self.ctx.signer_for(principal, Role.AUTHORITY)
        address = to_checksum_address(account) if account else self.ctx.new_funded_account()
        key = self.api_keys.mint(Role.CUSTOMS, country=principal.country, account=address, label=label)
        self.send_governance(WriteKind.AUTHORISE_CUSTOMS, authority, {"account": address},
                                     f"customs:{address.lower()}", account=address, api_key=key)
        return address, key


__all__ = ["Governance"]
