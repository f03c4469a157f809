// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
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
 * Keying. A certificate is the pair (batch root, document hash), and every piece
 * of state about it lives under that pair ({certificateKey}). The contract cannot
 * key by document hash alone: an anchoring shows it only a root, so any authorised
 * issuer can anchor a tree that contains somebody else's (public) document hash and
 * would otherwise revoke, erase or supersede it through its own root. Per (root,
 * hash) rather than per (issuer, hash) because the root is what every call already
 * proves with its Merkle proof and what a verifier reads from the document, and
 * because the status of a document anchored alone already lives in its batch slot,
 * keyed by root. "First anchoring issuer" cannot be told on chain (the hashes of a
 * batch are not shown at anchoring). The same hash under another root is another
 * certificate: it shows its own issuer, which a verifier compares with the issuer
 * the document names.
 *
 * A batch of one document (root == document hash, empty proof) keeps that
 * document's status in the batch's own slot, already read for the issuer check,
 * so revoking a singly anchored certificate rewrites a warm slot instead of
 * filling a fresh one (about 30,000 gas instead of about 50,000). Documents of
 * larger batches get a status slot of their own; the batch slot then holds a
 * batch-wide status ({revokeBatch}).
 *
 * Authorisation at anchoring is decided by transaction order: {anchor} refuses an
 * issuer that is not authorised when the transaction runs, so every anchored batch
 * was anchored while its issuer was authorised, whatever the block timestamps.
 *
 * Batch trees use OpenZeppelin's sorted-pair keccak256 ({MerkleProof}, see {_processProof}). Leaves are
 * document hashes, which are themselves domain-separated hashes (never the raw
 * 64-byte concatenation of two nodes), so an inner node cannot pass as a leaf.
 */
contract CertificateRegistry is TrustRegistry, ICertificateRegistry {
    struct Replacement {
        bytes32 documentHash;
        bytes32 root;
    }

    mapping(bytes32 root => Batch) internal _batches;
    mapping(bytes32 certificate => DocumentStatus) internal _statuses;
    mapping(bytes32 certificate => Replacement) internal _replacements;

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
     * @dev Same requirements as {anchor}, plus equal array lengths and `documentHashes`
     * making exactly the tree of `root` (in order, see `registry/merkle.py`), so nobody
     * publishes payloads for documents that are not in the batch. The payloads are
     * not stored, only logged: any node can read them back from the receipt.
     * Emits {BatchAnchored} and one {PayloadPublished} per document.
     */
    function anchorWithPayloads(bytes32 root, bytes32[] calldata documentHashes, bytes[] calldata payloads) external {
        uint256 count = documentHashes.length;
        if (count != payloads.length) revert CertificateRegistryPayloadMismatch(count, payloads.length);
        _anchor(root, uint32(count));
        bytes32 computed = _merkleRoot(documentHashes);
        if (computed != root) revert CertificateRegistryPayloadRootMismatch(root, computed);
        for (uint256 i = 0; i < count; ++i) {
            emit PayloadPublished(documentHashes[i], root, payloads[i]);
        }
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Requirements: `proof` leads from `documentHash` to an anchored root; caller
     * is that root's issuer or its country's authority; the document is active there.
     * Emits {CertificateRevoked}.
     */
    function revoke(bytes32 documentHash, bytes32[] calldata proof, uint8 reason) external {
        bytes32 root = _processProof(proof, documentHash);
        _changeStatusIn(documentHash, root, DocumentState.Revoked, reason);
        emit CertificateRevoked(documentHash, root, msg.sender, reason);
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Requirements: as {revoke}; `replacement` is a different document, anchored
     * by an issuer of the same country, still active, and the caller may change it too
     * (its issuer or that country's authority). An active replacement rules out
     * cycles: every document already in a chain of replacements is superseded.
     * Emits {CertificateSuperseded}.
     */
    function supersede(
        bytes32 documentHash,
        bytes32[] calldata proof,
        bytes32 replacement,
        bytes32[] calldata replacementProof
    ) external {
        bytes32 root = _processProof(proof, documentHash);
        bytes32 nextRoot = _processProof(replacementProof, replacement);
        address issuer = _changeStatusIn(documentHash, root, DocumentState.Superseded, 0);
        (address nextIssuer, DocumentState nextState) = _stateIn(replacement, nextRoot);
        if (
            replacement == documentHash ||
            nextIssuer == address(0) ||
            _issuers[nextIssuer].country != _issuers[issuer].country
        ) revert CertificateRegistryInvalidReplacement(documentHash, replacement);
        if (nextState != DocumentState.Active) {
            revert CertificateRegistryReplacementNotActive(replacement, nextRoot, nextState);
        }
        _checkMayChange(nextIssuer, replacement);
        _replacements[certificateKey(root, documentHash)] = Replacement(replacement, nextRoot);
        _afterSupersede(certificateKey(root, documentHash), certificateKey(nextRoot, replacement));
        emit CertificateSuperseded(documentHash, root, replacement, nextRoot, msg.sender);
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Requirements: as {revoke}, except that revoked and superseded documents
     * may also be erased; erased is terminal. Emits {KeyDestroyed}.
     */
    function erase(bytes32 documentHash, bytes32[] calldata proof) external {
        bytes32 root = _processProof(proof, documentHash);
        _changeStatusIn(documentHash, root, DocumentState.Erased, 0);
        emit KeyDestroyed(documentHash, root, msg.sender);
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
    function statusOf(
        bytes32 root,
        bytes32 documentHash
    ) external view returns (DocumentStatus memory, bytes32 replacement, bytes32 replacementRoot) {
        bytes32 key = certificateKey(root, documentHash);
        Replacement memory next = _replacements[key];
        return (_statuses[key], next.documentHash, next.root);
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev keccak256(root ‖ documentHash): a mapping key only, never a tree node.
     */
    function certificateKey(bytes32 root, bytes32 documentHash) public pure returns (bytes32) {
        return Hashes.efficientKeccak256(root, documentHash);
    }

    /**
     * @inheritdoc ICertificateRegistry
     * @dev Never reverts: an unknown document has a zero `issuer`. A batch-level
     * revocation shows as `Revoked` unless the document itself went further. Only
     * state recorded under this very root shows.
     */
    function inspect(bytes32 documentHash, bytes32[] calldata proof) external view returns (DocumentView memory view_) {
        bytes32 root = _processProof(proof, documentHash);
        Batch memory batch = _batches[root];
        if (root == documentHash && batch.documentCount != 1) batch = Batch(address(0), 0, 0, DocumentState.Active, 0);
        IssuerRecord memory issuer = _issuers[batch.issuer];
        bytes32 key = certificateKey(root, documentHash);
        view_.root = root;
        view_.issuer = batch.issuer;
        view_.country = issuer.country;
        view_.anchoredAt = batch.anchoredAt;
        view_.documentCount = batch.documentCount;
        view_.authorisedAtAnchoring = batch.issuer != address(0);
        view_.issuerActive = issuer.active;
        view_.state = batch.state;
        view_.reason = batch.reason;
        DocumentStatus memory own = _statuses[key];
        if (root != documentHash && own.state != DocumentState.Active) {
            view_.state = own.state;
            view_.reason = own.reason;
            view_.changedAt = own.changedAt;
            view_.changedBy = own.changedBy;
        }
        if (batch.issuer != address(0)) {
            view_.issuerName = _names[batch.issuer];
            view_.authority = authorityOf(issuer.country);
            view_.authorityName = _names[view_.authority];
            Replacement memory next = _replacements[key];
            view_.replacement = next.documentHash;
            view_.replacementRoot = next.root;
        }
    }

    function _anchor(bytes32 root, uint32 documentCount) private {
        if (!_issuers[msg.sender].active) revert CertificateRegistryIssuerNotAuthorised(msg.sender);
        if (root == bytes32(0) || documentCount == 0) revert CertificateRegistryEmptyBatch(root, documentCount);
        Batch storage batch = _batches[root];
        if (batch.issuer != address(0)) revert CertificateRegistryAlreadyAnchored(root, batch.anchoredAt);
        _batches[root] = Batch(msg.sender, uint40(block.timestamp), documentCount, DocumentState.Active, 0);
        emit BatchAnchored(root, msg.sender, documentCount);
    }

    /**
     * @dev Shared gate of every per-document status change of the document `documentHash`
     * of batch `root`; returns the root's issuer.
     */
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
            bytes32 key = certificateKey(root, documentHash);
            DocumentState own = _statuses[key].state;
            if (own != DocumentState.Active) current = own;
            _checkTransition(documentHash, current, next);
            _statuses[key] = DocumentStatus(next, reason, uint40(block.timestamp), msg.sender);
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
            DocumentState own = _statuses[certificateKey(root, documentHash)].state;
            if (own != DocumentState.Active) state = own;
        }
    }

    /// @dev Hook run when the certificate `certificate` is superseded by `replacement` (keys); does nothing here.
    function _afterSupersede(bytes32 certificate, bytes32 replacement) internal virtual {}

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

    /**
     * @dev {MerkleProof-processProofCalldata} (sorted-pair keccak256, the same root for the
     * same proof) without its per-step checked arithmetic and bounds checks, which the
     * ABI decoder already made for `proof`: about 60 gas less per step, which keeps the
     * revocation of a document of a batch of 1,024 within its gas budget.
     */
    function _processProof(bytes32[] calldata proof, bytes32 leaf) internal pure returns (bytes32 node) {
        assembly ("memory-safe") {
            node := leaf
            let end := add(proof.offset, shl(5, proof.length))
            for {
                let at := proof.offset
            } lt(at, end) {
                at := add(at, 0x20)
            } {
                let sibling := calldataload(at)
                switch lt(node, sibling)
                case 1 {
                    mstore(0x00, node)
                    mstore(0x20, sibling)
                }
                default {
                    mstore(0x00, sibling)
                    mstore(0x20, node)
                }
                node := keccak256(0x00, 0x40)
            }
        }
    }

    /**
     * @dev Root of the tree `registry/merkle.py` builds over `leaves`: adjacent pairs
     * hashed with {Hashes-commutativeKeccak256}, an odd last node promoted unchanged.
     */
    function _merkleRoot(bytes32[] calldata leaves) private pure returns (bytes32) {
        uint256 n = leaves.length;
        bytes32[] memory level = leaves;
        while (n > 1) {
            uint256 half = n / 2;
            for (uint256 i = 0; i < half; ++i) {
                level[i] = Hashes.commutativeKeccak256(level[2 * i], level[2 * i + 1]);
            }
            if (n % 2 == 1) level[half] = level[n - 1];
            n = half + n % 2;
        }
        return level[0];
    }
}
