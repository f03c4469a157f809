// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ICertificateRegistry} from "./ICertificateRegistry.sol";
import {TrustRegistry} from "./TrustRegistry.sol";

/**
 * @title CertificateRegistry
 * @notice Anchors batches of certificate-of-origin document hashes and records
 * their revocation, replacement and erasure (crypto-shredding).
 * @dev Inherits {TrustRegistry} rather than calling it: the issuer check on every
 * anchoring is then one warm-able storage read instead of a cold external call
 * (2,600 gas more), which keeps a single anchoring under 50,000 gas.
 *
 * A batch of one document (root == document hash, empty proof) keeps that
 * document's status in the batch's own slot, already read for the issuer check,
 * so revoking a singly anchored certificate rewrites a warm slot instead of
 * filling a fresh one (about 30,000 gas instead of about 50,000). Documents of
 * larger batches get a status slot of their own; the batch slot then holds a
 * batch-wide status ({revokeBatch}).
 *
 * Batch trees use OpenZeppelin's sorted-pair keccak256 ({MerkleProof}). Leaves are
 * document hashes, which are themselves domain-separated hashes (never the raw
 * 64-byte concatenation of two nodes), so an inner node cannot pass as a leaf.
 */
contract CertificateRegistry is TrustRegistry, ICertificateRegistry {
    mapping(bytes32 root => Batch) internal _batches;
    mapping(bytes32 documentHash => DocumentStatus) internal _statuses;
    mapping(bytes32 documentHash => bytes32) internal _replacements;

    /// @param admin the consortium admin, able to admit countries.
    constructor(address admin) TrustRegistry(admin) {}

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Requirements: caller is an authorised (not suspended) issuer; `root` is
     * non-zero and not yet anchored; `documentCount` is non-zero. Emits {BatchAnchored}.
     */
    function anchor(bytes32 root, uint32 documentCount) external {
        _anchor(root, documentCount);
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Same requirements as {anchor}, plus equal array lengths. The payloads are
     * not stored, only logged: any node can read them back from the receipt.
     * Emits {BatchAnchored} and one {PayloadPublished} per document.
     */
    function anchorWithPayloads(bytes32 root, bytes32[] calldata documentHashes, bytes[] calldata payloads) external {
        uint256 count = documentHashes.length;
        if (count != payloads.length) revert CertificateRegistryPayloadMismatch(count, payloads.length);
        _anchor(root, uint32(count));
        for (uint256 i = 0; i < count; ++i) {
            emit PayloadPublished(documentHashes[i], root, payloads[i]);
        }
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Requirements: `proof` leads from `documentHash` to an anchored root; caller
     * is that root's issuer or its country's authority; the document is active.
     * Emits {CertificateRevoked}.
     */
    function revoke(bytes32 documentHash, bytes32[] calldata proof, uint8 reason) external {
        _changeStatus(documentHash, proof, DocumentState.Revoked, reason);
        emit CertificateRevoked(documentHash, msg.sender, reason);
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Requirements: as {revoke}; `replacement` is a different document, anchored
     * by an issuer of the same country. Emits {CertificateSuperseded}.
     */
    function supersede(
        bytes32 documentHash,
        bytes32[] calldata proof,
        bytes32 replacement,
        bytes32[] calldata replacementProof
    ) external {
        address issuer = _changeStatus(documentHash, proof, DocumentState.Superseded, 0);
        Batch storage next = _batches[MerkleProof.processProofCalldata(replacementProof, replacement)];
        if (
            replacement == documentHash ||
            next.issuer == address(0) ||
            _issuers[next.issuer].country != _issuers[issuer].country
        ) revert CertificateRegistryInvalidReplacement(documentHash, replacement);
        _replacements[documentHash] = replacement;
        _afterSupersede(documentHash, replacement);
        emit CertificateSuperseded(documentHash, replacement, msg.sender);
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Requirements: as {revoke}, except that revoked and superseded documents
     * may also be erased; erased is terminal. Emits {KeyDestroyed}.
     */
    function erase(bytes32 documentHash, bytes32[] calldata proof) external {
        _changeStatus(documentHash, proof, DocumentState.Erased, 0);
        emit KeyDestroyed(documentHash, msg.sender);
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Requirements: `root` is anchored; caller is its issuer or its country's
     * authority. Emits {BatchRevoked} only the first time.
     */
    function revokeBatch(bytes32 root, uint8 reason) external {
        Batch storage batch = _batches[root];
        if (batch.issuer == address(0)) revert CertificateRegistryNotAnchored(root, root);
        _checkMayChange(batch.issuer, root);
        if (batch.state != DocumentState.Active) return;
        batch.state = DocumentState.Revoked;
        batch.reason = reason;
        emit BatchRevoked(root, msg.sender, reason);
    }

    /// @inheritdoc ICertificateRegistry
    function batchOf(bytes32 root) external view returns (Batch memory) {
        return _batches[root];
    }

    /// @inheritdoc ICertificateRegistry
    function statusOf(bytes32 documentHash) external view returns (DocumentStatus memory, bytes32 replacement) {
        return (_statuses[documentHash], _replacements[documentHash]);
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Never reverts: an unknown document has a zero `issuer`. A batch-level
     * revocation shows as `Revoked` unless the document itself went further.
     */
    function inspect(bytes32 documentHash, bytes32[] calldata proof) external view returns (DocumentView memory view_) {
        bytes32 root = MerkleProof.processProofCalldata(proof, documentHash);
        Batch memory batch = _batches[root];
        if (root == documentHash && batch.documentCount != 1) batch = Batch(address(0), 0, 0, DocumentState.Active, 0);
        IssuerRecord memory issuer = _issuers[batch.issuer];
        view_.root = root;
        view_.issuer = batch.issuer;
        view_.country = issuer.country;
        view_.anchoredAt = batch.anchoredAt;
        view_.documentCount = batch.documentCount;
        view_.authorisedAtAnchoring =
            batch.issuer != address(0) &&
            wasAuthorisedAt(batch.issuer, issuer.country, uint48(batch.anchoredAt));
        view_.issuerActive = issuer.active;
        view_.state = batch.state;
        view_.reason = batch.reason;
        DocumentStatus memory own = _statuses[documentHash];
        if (root != documentHash && own.state != DocumentState.Active) {
            view_.state = own.state;
            view_.reason = own.reason;
            view_.changedAt = own.changedAt;
            view_.changedBy = own.changedBy;
        }
        view_.replacement = _replacements[documentHash];
    }

    function _anchor(bytes32 root, uint32 documentCount) private {
        if (!_issuers[msg.sender].active) revert CertificateRegistryIssuerNotAuthorised(msg.sender);
        if (root == bytes32(0) || documentCount == 0) revert CertificateRegistryEmptyBatch(root, documentCount);
        Batch storage batch = _batches[root];
        if (batch.issuer != address(0)) revert CertificateRegistryAlreadyAnchored(root, batch.anchoredAt);
        _batches[root] = Batch(msg.sender, uint40(block.timestamp), documentCount, DocumentState.Active, 0);
        emit BatchAnchored(root, msg.sender, documentCount);
    }

    /// @dev Shared gate of every per-document status change; returns the document's issuer.
    function _changeStatus(
        bytes32 documentHash,
        bytes32[] calldata proof,
        DocumentState next,
        uint8 reason
    ) private returns (address issuer) {
        return _changeStatusIn(documentHash, MerkleProof.processProofCalldata(proof, documentHash), next, reason);
    }

    /// @dev {_changeStatus} for a document already known to be under `root`.
    function _changeStatusIn(
        bytes32 documentHash,
        bytes32 root,
        DocumentState next,
        uint8 reason
    ) internal returns (address issuer) {
        Batch storage batch = _batches[root];
        issuer = batch.issuer;
        bool single = root == documentHash;
        if (issuer == address(0) || (single && batch.documentCount != 1)) {
            revert CertificateRegistryNotAnchored(documentHash, root);
        }
        _checkMayChange(issuer, documentHash);
        DocumentState current = batch.state;
        if (single) {
            _checkTransition(documentHash, current, next);
            batch.state = next;
            batch.reason = reason;
        } else {
            DocumentState own = _statuses[documentHash].state;
            if (own != DocumentState.Active) current = own;
            _checkTransition(documentHash, current, next);
            _statuses[documentHash] = DocumentStatus(next, reason, uint40(block.timestamp), msg.sender);
        }
    }

    /**
     * @dev The state of `documentHash` under `root`: the batch's own status, unless the
     * document (in a batch of several) went further. Zero issuer when not anchored there.
     */
    function _stateIn(bytes32 documentHash, bytes32 root) internal view returns (address issuer, DocumentState state) {
        Batch storage batch = _batches[root];
        issuer = batch.issuer;
        if (root == documentHash && batch.documentCount != 1) return (address(0), DocumentState.Active);
        state = batch.state;
        if (root != documentHash) {
            DocumentState own = _statuses[documentHash].state;
            if (own != DocumentState.Active) state = own;
        }
    }

    /// @dev Hook run when `documentHash` is superseded by `replacement`; does nothing here.
    function _afterSupersede(bytes32 documentHash, bytes32 replacement) internal virtual {}

    /// @dev Active documents may become anything; anything but erased may be erased.
    function _checkTransition(bytes32 documentHash, DocumentState current, DocumentState next) private pure {
        bool allowed = next == DocumentState.Erased ? current != DocumentState.Erased : current == DocumentState.Active;
        if (!allowed) revert CertificateRegistryInvalidStatusChange(documentHash, current);
    }

    function _checkMayChange(address issuer, bytes32 subject) internal view {
        if (msg.sender != issuer && msg.sender != authorityOf(_issuers[issuer].country)) {
            revert CertificateRegistryNotIssuer(msg.sender, subject);
        }
    }
}
