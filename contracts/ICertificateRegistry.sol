// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/**
 * @dev Anchoring and lifecycle of certificates of origin. An authorised issuer
 * anchors the Merkle root of a batch of document hashes; any document of a batch
 * is later addressed by its hash plus the Merkle proof that leads to its root.
 *
 * A certificate is the pair (root, document hash): its status, replacement, terms,
 * utilisation and verification requests are all kept under that pair, and only the
 * root's issuer or its country's authority changes them. The same hash anchored
 * under another root (by anyone) is another certificate with a state of its own.
 */
interface ICertificateRegistry {
    /// @dev Lifecycle of one document. `Active` is the state of every anchored, untouched document.
    enum DocumentState {
        Active,
        Revoked,
        Superseded,
        Erased
    }

    /// @dev One anchored batch, packed in one storage slot. `state` and `reason` hold the
    /// status of the whole batch, which for a batch of one document is that document's status.
    struct Batch {
        address issuer;
        uint40 anchoredAt;
        uint32 documentCount;
        DocumentState state;
        uint8 reason;
    }

    /// @dev Status of one document of a multi-document batch, packed in one storage slot.
    struct DocumentStatus {
        DocumentState state;
        uint8 reason;
        uint40 changedAt;
        address changedBy;
    }

    /// @dev Everything a verifier needs about one document, read in one call. `changedAt` and
    /// `changedBy` are zero when the status lives in the batch slot (read them from the event).
    /// `authority` is the issuer's country's current authority; the names are those governance
    /// registered (empty when none was).
    struct DocumentView {
        bytes32 root;
        address issuer;
        bytes2 country;
        uint40 anchoredAt;
        uint32 documentCount;
        bool authorisedAtAnchoring;
        bool issuerActive;
        DocumentState state;
        uint8 reason;
        uint40 changedAt;
        address changedBy;
        bytes32 replacement;
        bytes32 replacementRoot;
        string issuerName;
        address authority;
        string authorityName;
    }

    /// @dev The caller is not an authorised issuer.
    error CertificateRegistryIssuerNotAuthorised(address account);
    /// @dev The root is zero or the document count is zero.
    error CertificateRegistryEmptyBatch(bytes32 root, uint32 documentCount);
    /// @dev `root` was already anchored at `anchoredAt`.
    error CertificateRegistryAlreadyAnchored(bytes32 root, uint40 anchoredAt);
    /// @dev The proof of `documentHash` does not lead to an anchored root.
    error CertificateRegistryNotAnchored(bytes32 documentHash, bytes32 root);
    /// @dev `account` is neither the issuer of `documentHash` nor its country's authority.
    error CertificateRegistryNotIssuer(address account, bytes32 documentHash);
    /// @dev `documentHash` is in `state`, from which the requested change is not allowed.
    error CertificateRegistryInvalidStatusChange(bytes32 documentHash, DocumentState state);
    /// @dev The replacement must be another anchored document of the same country.
    error CertificateRegistryInvalidReplacement(bytes32 documentHash, bytes32 replacement);
    /// @dev The replacement `replacement` under `replacementRoot` is in `state`, not active.
    error CertificateRegistryReplacementNotActive(bytes32 replacement, bytes32 replacementRoot, DocumentState state);
    /// @dev Array lengths of a payload batch disagree.
    error CertificateRegistryPayloadMismatch(uint256 documents, uint256 payloads);
    /// @dev The document hashes of a payload batch make the tree `computed`, not the anchored `root`.
    error CertificateRegistryPayloadRootMismatch(bytes32 root, bytes32 computed);

    /// @dev Emitted when `issuer` anchors the batch `root` of `documentCount` documents.
    event BatchAnchored(bytes32 indexed root, address indexed issuer, uint32 documentCount);
    /// @dev Emitted, in encrypted-payload mode, with the ciphertext of one anchored document.
    event PayloadPublished(bytes32 indexed documentHash, bytes32 indexed root, bytes ciphertext);
    /// @dev Emitted when the document `documentHash` of batch `root` is revoked.
    event CertificateRevoked(bytes32 indexed documentHash, bytes32 indexed root, address indexed by, uint8 reason);
    /// @dev Emitted when the document `documentHash` of batch `root` is superseded by `replacement` of `replacementRoot`.
    event CertificateSuperseded(
        bytes32 indexed documentHash,
        bytes32 indexed root,
        bytes32 indexed replacement,
        bytes32 replacementRoot,
        address by
    );
    /// @dev Emitted when the key of the document `documentHash` of batch `root` is destroyed (crypto-shredding); terminal.
    event KeyDestroyed(bytes32 indexed documentHash, bytes32 indexed root, address indexed by);
    /// @dev Emitted when a whole batch is revoked (for example after a key compromise).
    event BatchRevoked(bytes32 indexed root, address indexed by, uint8 reason);

    /// @notice Anchor a batch root covering `documentCount` documents.
    function anchor(bytes32 root, uint32 documentCount) external;

    /// @notice Anchor a batch root and publish each document's ciphertext in the event log.
    function anchorWithPayloads(bytes32 root, bytes32[] calldata documentHashes, bytes[] calldata payloads) external;

    /// @notice Revoke one document with a reason code.
    function revoke(bytes32 documentHash, bytes32[] calldata proof, uint8 reason) external;

    /// @notice Mark one document as superseded by an anchored `replacement`.
    function supersede(
        bytes32 documentHash,
        bytes32[] calldata proof,
        bytes32 replacement,
        bytes32[] calldata replacementProof
    ) external;

    /// @notice Record that the key of a document was destroyed. Terminal.
    function erase(bytes32 documentHash, bytes32[] calldata proof) external;

    /// @notice Revoke every document of a batch at once.
    function revokeBatch(bytes32 root, uint8 reason) external;

    /// @notice The anchoring record of `root` (zero issuer when not anchored).
    function batchOf(bytes32 root) external view returns (Batch memory);

    /// @notice The status record of the document `documentHash` of the multi-document batch `root`.
    function statusOf(
        bytes32 root,
        bytes32 documentHash
    ) external view returns (DocumentStatus memory, bytes32 replacement, bytes32 replacementRoot);

    /// @notice The key under which the certificate (`root`, `documentHash`) keeps its state.
    function certificateKey(bytes32 root, bytes32 documentHash) external pure returns (bytes32);

    /// @notice Anchoring, authorisation and status of `documentHash`, given its batch proof.
    function inspect(bytes32 documentHash, bytes32[] calldata proof) external view returns (DocumentView memory);
}
