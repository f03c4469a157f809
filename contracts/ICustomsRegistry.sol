// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/**
 * @title ICustomsRegistry
 * @notice What importing and exporting administrations both write: utilisation of
 * certificates against import declarations, and retroactive verification requests.
 *
 * @dev The contract learns a certificate's terms (importing country, validity,
 * certified quantities, back-to-back parent) from a salted commitment the issuer
 * sealed into the document hash: one extra leaf of the document's field tree,
 *
 *     keccak256(abi.encode(TERMS_TYPEHASH, salt, importingCountry, validUntil, parent,
 *               keccak256(abi.encodePacked(quantities)), keccak256(abi.encodePacked(parentItems))))
 *
 * Anyone holding the sealed document can register the terms with a proof of that
 * leaf; nothing is stored at anchoring time. Terms, utilisation and verification
 * requests are kept per certificate, the pair (batch root, document hash), like
 * its status (see {ICertificateRegistry}): registering a document's terms under
 * another issuer's root gives that root's certificate terms, never the genuine one.
 *
 * A back-to-back certificate names its parent by document hash (committed) and by
 * the parent's batch root (given at registration). It is accepted only when its
 * exporting country, the country of its issuer, is the parent's importing country,
 * so the parent is drawn down only by Customs of the back-to-back certificate's
 * importing country, through certificates issued where the parent's goods arrived.
 */
interface ICustomsRegistry {
    /// @dev A certificate's terms as committed by its issuer. Quantities are in millionths of the item's unit.
    struct Terms {
        bytes2 importingCountry;
        uint40 validUntil;
        bytes32 parent;
        uint256[] quantities;
        uint16[] parentItems;
    }

    /// @dev Registered terms of one certificate, with its batch root and (back-to-back) its parent's root.
    struct Registration {
        bytes32 root;
        bytes2 importingCountry;
        uint40 validUntil;
        bytes32 parent;
        uint256[] quantities;
        uint16[] parentItems;
        bytes32 parentRoot;
    }

    /// @dev Lifecycle of a retroactive verification request.
    enum RequestState {
        None,
        Open,
        Confirmed,
        NotConfirmed
    }

    /// @dev One verification request. The reason text is kept off chain; its hash is here.
    struct VerificationRequest {
        bytes32 documentHash;
        bytes32 root;
        bytes32 reasonHash;
        address openedBy;
        uint40 openedAt;
        RequestState state;
        address answeredBy;
        uint40 answeredAt;
    }

    /// @dev `account` is not a Customs account of `country` (zero: of any country).
    error CustomsRegistryNotCustoms(address account, bytes2 country);
    /// @dev `account` is not a Customs account.
    error CustomsRegistryUnknownCustoms(address account);
    /// @dev The terms given do not hash to a leaf of `documentHash`, or are malformed.
    error CustomsRegistryTermsMismatch(bytes32 documentHash);
    /// @dev No terms have been registered for `documentHash`.
    error CustomsRegistryTermsNotRegistered(bytes32 documentHash);
    /// @dev `documentHash` is revoked, superseded or erased (`state`), and cannot be used.
    error CustomsRegistryNotUsable(bytes32 documentHash, uint8 state);
    /// @dev `documentHash` was valid until `validUntil`.
    error CustomsRegistryExpired(bytes32 documentHash, uint40 validUntil);
    /// @dev A draw names an unknown goods item, a zero quantity, or no item at all.
    error CustomsRegistryInvalidDraw(bytes32 documentHash, uint256 item);
    /// @dev Drawing `requested` of `item` would exceed the certified quantity: only `remaining` is left.
    error CustomsRegistryOverdrawn(bytes32 documentHash, uint256 item, uint256 requested, uint256 remaining);
    /// @dev `declaration` has already drawn on `documentHash`.
    error CustomsRegistryDeclarationRecorded(bytes32 documentHash, bytes32 declaration);
    /// @dev A back-to-back certificate exported from `exportingCountry` may not draw on `parent`, imported into
    /// `parentImportingCountry`.
    error CustomsRegistryNotBackToBack(
        bytes32 documentHash,
        bytes2 exportingCountry,
        bytes32 parent,
        bytes2 parentImportingCountry
    );
    /// @dev There is no verification request `id`.
    error CustomsRegistryUnknownRequest(uint256 id);
    /// @dev Verification request `id` has already been answered.
    error CustomsRegistryRequestClosed(uint256 id, RequestState state);

    /// @dev Emitted when a country's authority admits a Customs account.
    event CustomsAuthorised(address indexed account, bytes2 indexed country, address indexed by);
    /// @dev Emitted when a country's authority withdraws a Customs account.
    event CustomsWithdrawn(address indexed account, bytes2 indexed country, address indexed by);
    /// @dev Emitted when the committed terms of the certificate (`root`, `documentHash`) are registered.
    event TermsRegistered(
        bytes32 indexed documentHash,
        bytes32 indexed root,
        bytes2 indexed importingCountry,
        uint40 validUntil,
        bytes32 parent,
        bytes32 parentRoot
    );
    /**
     * @dev Emitted for each recorded use of a certificate against an import declaration.
     * `ledger` is the certificate key ({ICertificateRegistry-certificateKey}) whose quantities
     * were drawn (its own, or that of the certificate it replaced); for a back-to-back
     * certificate `parentLedger` and `parentItems` say what of its parent was drawn down
     * by the same quantities (zero and empty otherwise).
     */
    event CertificateUtilised(
        bytes32 indexed documentHash,
        bytes32 indexed declaration,
        address indexed customs,
        bytes32 root,
        bytes32 ledger,
        uint16[] goodsItems,
        uint256[] quantities,
        bytes32 parentLedger,
        uint16[] parentItems
    );
    /// @dev Emitted when importing Customs opens a retroactive verification request.
    event VerificationRequested(
        uint256 indexed id,
        bytes32 indexed documentHash,
        address indexed customs,
        bytes32 root,
        bytes32 reasonHash
    );
    /// @dev Emitted when the issuing body or its authority answers a verification request.
    event VerificationAnswered(uint256 indexed id, bytes32 indexed documentHash, address indexed by, bool confirmed, bytes32 answerHash);

    /**
     * @notice Admit `account` as Customs of the caller's country (caller: a country authority).
     */
    function authoriseCustoms(address account) external;

    /// @notice Withdraw a Customs account of the caller's country.
    function withdrawCustoms(address account) external;

    /**
     * @notice Register the terms committed in `documentHash` for the certificate its
     * `proof` leads to (anyone may; idempotent).
     * @param proof path from `documentHash` to its anchored batch root.
     * @param terms the committed terms.
     * @param salt the terms leaf's salt.
     * @param termsProof path from the terms leaf to the document's field root.
     * @param parentRoot batch root of the back-to-back parent (zero without a parent).
     */
    function registerTerms(
        bytes32 documentHash,
        bytes32[] calldata proof,
        Terms calldata terms,
        bytes32 salt,
        bytes32[] calldata termsProof,
        bytes32 parentRoot
    ) external;

    /**
     * @notice Record one use of a certificate against an import declaration (caller:
     * Customs of the certificate's importing country). A back-to-back certificate
     * also draws down its parent.
     * @param declaration hash of the import declaration reference.
     * @param items goods item indexes (0-based, in certificate order).
     * @param quantities quantity drawn per entry of `items`, in millionths of the unit.
     */
    function utilise(
        bytes32 documentHash,
        bytes32 root,
        bytes32 declaration,
        uint16[] calldata items,
        uint256[] calldata quantities
    ) external;

    /**
     * @notice Open a retroactive verification request (caller: Customs of the certificate's
     * importing country, once its terms are registered).
     * @param reasonHash hash of the reason text, which stays off chain.
     * @return id the request's number.
     */
    function requestVerification(bytes32 documentHash, bytes32 root, bytes32 reasonHash) external returns (uint256 id);

    /**
     * @notice Answer request `id` (caller: the document's issuer or its authority).
     * A not-confirmed answer revokes an active document (reason 3, not confirmed).
     */
    function answerVerification(uint256 id, bool confirmed, bytes32 answerHash) external;

    /// @notice Country of a Customs account (zero if none).
    function customsCountry(address account) external view returns (bytes2);

    /// @notice Registered terms of the certificate (`root`, `documentHash`) (zero root if none).
    function termsOf(bytes32 documentHash, bytes32 root) external view returns (Registration memory);

    /**
     * @notice Utilisation state of the certificate (`root`, `documentHash`): the ledger it
     * draws on (its own, or that of the certificate it replaced), the quantity drawn for
     * each of its first `itemCount` items, and how many verification requests on it are open.
     */
    function utilisationOf(
        bytes32 documentHash,
        bytes32 root,
        uint256 itemCount
    ) external view returns (bytes32 ledger, uint256[] memory drawn, uint32 openRequests);

    /// @notice Verification request `id`.
    function requestOf(uint256 id) external view returns (VerificationRequest memory);

    /// @notice Number of verification requests ever opened.
    function requestCount() external view returns (uint256);
}
