// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CertificateRegistry} from "./CertificateRegistry.sol";
import {ICustomsRegistry} from "./ICustomsRegistry.sol";

/**
 * @title CustomsRegistry
 * @notice The certificate registry with the state importing Customs write:
 * utilisation against import declarations and retroactive verification requests.
 * @dev Certificate terms come from a commitment inside the document hash (see
 * {ICustomsRegistry}), so anchoring costs nothing more. A replacement or certified
 * true copy draws on the ledger of the certificate it supersedes, so a quantity used
 * under the original stays used. Every mapping is keyed by certificate
 * ({certificateKey}: batch root and document hash), never by document hash alone.
 */
contract CustomsRegistry is CertificateRegistry, ICustomsRegistry {
    /// @dev Type tag of the terms leaf.
    bytes32 public constant TERMS_TYPEHASH =
        keccak256(
            "CoO-terms-v1(bytes32 salt,bytes2 importingCountry,uint40 validUntil,bytes32 parent,"
            "uint256[] quantities,uint16[] parentItems)"
        );
    uint8 private constant _REASON_NOT_CONFIRMED = 3;

    mapping(address account => bytes2) private _customs;
    mapping(bytes32 certificate => Registration) private _terms;
    mapping(bytes32 certificate => bytes32) private _ledgers;
    mapping(bytes32 ledger => mapping(uint256 item => uint256)) private _drawn;
    mapping(bytes32 ledgerAndDeclaration => bool) private _declarations;
    mapping(uint256 id => VerificationRequest) private _requests;
    mapping(bytes32 certificate => uint32) private _openRequests;
    uint256 private _requestCount;

    /// @param admin the consortium admin, able to admit countries.
    constructor(address admin) CertificateRegistry(admin) {}

    /**
     * @inheritdoc ICustomsRegistry
     * @dev Requirements: caller is a country authority; `account` is fresh. Emits {CustomsAuthorised}.
     */
    function authoriseCustoms(address account) external {
        bytes2 country = countryOfAuthority(msg.sender);
        if (country == bytes2(0)) revert TrustRegistryNotCountryAuthority(msg.sender, country);
        _checkFreshAccount(account);
        _customs[account] = country;
        emit CustomsAuthorised(account, country, msg.sender);
    }

    /**
     * @inheritdoc ICustomsRegistry
     * @dev Requirements: `account` is Customs of the caller's country. Emits {CustomsWithdrawn}.
     */
    function withdrawCustoms(address account) external {
        bytes2 country = _customs[account];
        if (country == bytes2(0)) revert CustomsRegistryUnknownCustoms(account);
        _checkAuthority(msg.sender, country);
        delete _customs[account];
        emit CustomsWithdrawn(account, country, msg.sender);
    }

    /**
     * @inheritdoc ICustomsRegistry
     * @dev Requirements: `proof` reaches an anchored root; the terms leaf is in the
     * document; a parent comes with one parent item per item, is registered under
     * `parentRoot`, and is imported into the country this certificate is exported
     * from (its issuer's). Emits {TermsRegistered} the first time only.
     */
    function registerTerms(
        bytes32 documentHash,
        bytes32[] calldata proof,
        Terms calldata terms,
        bytes32 salt,
        bytes32[] calldata termsProof,
        bytes32 parentRoot
    ) external {
        bytes32 root = _processProof(proof, documentHash);
        (address issuer, ) = _stateIn(documentHash, root);
        if (issuer == address(0)) revert CertificateRegistryNotAnchored(documentHash, root);
        Registration storage registration = _terms[certificateKey(root, documentHash)];
        if (registration.root != bytes32(0)) return;
        bytes32 leaf = keccak256(
            abi.encode(
                TERMS_TYPEHASH,
                salt,
                terms.importingCountry,
                terms.validUntil,
                terms.parent,
                keccak256(abi.encodePacked(terms.quantities)),
                keccak256(abi.encodePacked(terms.parentItems))
            )
        );
        bytes32 fieldsRoot = _processProof(termsProof, leaf);
        if (
            keccak256(abi.encodePacked("CoO-document-v1", fieldsRoot)) != documentHash ||
            terms.quantities.length == 0 ||
            (terms.parent == bytes32(0) ? terms.parentItems.length != 0 : terms.parentItems.length != terms.quantities.length)
        ) revert CustomsRegistryTermsMismatch(documentHash);
        if (terms.parent == bytes32(0)) parentRoot = bytes32(0);
        else _checkBackToBack(documentHash, _issuers[issuer].country, terms.parent, parentRoot);
        registration.root = root;
        registration.importingCountry = terms.importingCountry;
        registration.validUntil = terms.validUntil;
        registration.parent = terms.parent;
        registration.quantities = terms.quantities;
        registration.parentItems = terms.parentItems;
        registration.parentRoot = parentRoot;
        emit TermsRegistered(documentHash, root, terms.importingCountry, terms.validUntil, terms.parent, parentRoot);
    }

    /**
     * @inheritdoc ICustomsRegistry
     * @dev Requirements: terms registered under `root`; caller is Customs of the importing
     * country; the certificate (and a back-to-back parent) is active and unexpired; the
     * declaration has not drawn on this ledger before; no item goes beyond its certified
     * quantity. Emits {CertificateUtilised}.
     */
    function utilise(
        bytes32 documentHash,
        bytes32 root,
        bytes32 declaration,
        uint16[] calldata items,
        uint256[] calldata quantities
    ) external {
        Registration storage terms = _registered(documentHash, root);
        if (_customs[msg.sender] != terms.importingCountry) {
            revert CustomsRegistryNotCustoms(msg.sender, terms.importingCountry);
        }
        if (items.length == 0 || items.length != quantities.length) revert CustomsRegistryInvalidDraw(documentHash, 0);
        bytes32 ledger = _ledgerOf(certificateKey(root, documentHash));
        bytes32 key = keccak256(abi.encode(ledger, declaration));
        if (_declarations[key]) revert CustomsRegistryDeclarationRecorded(documentHash, declaration);
        _declarations[key] = true;
        (bytes32 parentLedger, uint16[] memory parentItems) = _drawAll(documentHash, terms, ledger, items, quantities);
        emit CertificateUtilised(
            documentHash,
            declaration,
            msg.sender,
            root,
            ledger,
            items,
            quantities,
            parentLedger,
            parentItems
        );
    }

    /**
     * @inheritdoc ICustomsRegistry
     * @dev Requirements: the certificate's terms are registered under `root`; caller is
     * Customs of its importing country (so no other administration can cast doubt on it).
     * Emits {VerificationRequested}.
     */
    function requestVerification(bytes32 documentHash, bytes32 root, bytes32 reasonHash) external returns (uint256 id) {
        bytes32 certificate = certificateKey(root, documentHash);
        Registration storage terms = _terms[certificate];
        if (terms.root == bytes32(0)) revert CustomsRegistryTermsNotRegistered(documentHash);
        if (_customs[msg.sender] != terms.importingCountry) {
            revert CustomsRegistryNotCustoms(msg.sender, terms.importingCountry);
        }
        id = ++_requestCount;
        _requests[id] = VerificationRequest(
            documentHash,
            root,
            reasonHash,
            msg.sender,
            uint40(block.timestamp),
            RequestState.Open,
            address(0),
            0
        );
        ++_openRequests[certificate];
        emit VerificationRequested(id, documentHash, msg.sender, root, reasonHash);
    }

    /**
     * @inheritdoc ICustomsRegistry
     * @dev Requirements: request `id` is open; caller is the issuer of the request's
     * root or its country's authority. Emits {VerificationAnswered}, and
     * {CertificateRevoked} when a not-confirmed answer revokes an active certificate.
     */
    function answerVerification(uint256 id, bool confirmed, bytes32 answerHash) external {
        VerificationRequest storage request = _requests[id];
        if (request.state == RequestState.None) revert CustomsRegistryUnknownRequest(id);
        if (request.state != RequestState.Open) revert CustomsRegistryRequestClosed(id, request.state);
        bytes32 documentHash = request.documentHash;
        bytes32 root = request.root;
        (address issuer, DocumentState state) = _stateIn(documentHash, root);
        _checkMayChange(issuer, documentHash);
        request.state = confirmed ? RequestState.Confirmed : RequestState.NotConfirmed;
        request.answeredBy = msg.sender;
        request.answeredAt = uint40(block.timestamp);
        --_openRequests[certificateKey(root, documentHash)];
        if (!confirmed && state == DocumentState.Active) {
            _changeStatusIn(documentHash, root, DocumentState.Revoked, _REASON_NOT_CONFIRMED);
            emit CertificateRevoked(documentHash, root, msg.sender, _REASON_NOT_CONFIRMED);
        }
        emit VerificationAnswered(id, documentHash, msg.sender, confirmed, answerHash);
    }

    /// @inheritdoc ICustomsRegistry
    function customsCountry(address account) external view returns (bytes2) {
        return _customs[account];
    }

    /// @inheritdoc ICustomsRegistry
    function termsOf(bytes32 documentHash, bytes32 root) external view returns (Registration memory) {
        return _terms[certificateKey(root, documentHash)];
    }

    /// @inheritdoc ICustomsRegistry
    function utilisationOf(
        bytes32 documentHash,
        bytes32 root,
        uint256 itemCount
    ) external view returns (bytes32 ledger, uint256[] memory drawn, uint32 openRequests) {
        bytes32 certificate = certificateKey(root, documentHash);
        ledger = _ledgerOf(certificate);
        drawn = new uint256[](itemCount);
        for (uint256 i = 0; i < itemCount; ++i) drawn[i] = _drawn[ledger][i];
        openRequests = _openRequests[certificate];
    }

    /// @inheritdoc ICustomsRegistry
    function requestOf(uint256 id) external view returns (VerificationRequest memory) {
        return _requests[id];
    }

    /// @inheritdoc ICustomsRegistry
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    /**
     * @dev A replacement (or certified true copy) continues the ledger of what it supersedes.
     * A certificate continues one ledger only: it cannot replace two certificates.
     */
    function _afterSupersede(bytes32 certificate, bytes32 replacement) internal override {
        if (_ledgers[replacement] != bytes32(0)) revert CertificateRegistryInvalidReplacement(certificate, replacement);
        _ledgers[replacement] = _ledgerOf(certificate);
    }

    /// @dev Customs accounts cannot also be issuers or authorities, nor the reverse.
    function _actsForCountry(address account) internal view override returns (bool) {
        return super._actsForCountry(account) || _customs[account] != bytes2(0);
    }

    /// @dev Reverts unless `parent` is registered under `parentRoot` and imported into `exportingCountry`.
    function _checkBackToBack(bytes32 documentHash, bytes2 exportingCountry, bytes32 parent, bytes32 parentRoot) private view {
        Registration storage parentTerms = _terms[certificateKey(parentRoot, parent)];
        if (parentTerms.root == bytes32(0)) revert CustomsRegistryTermsNotRegistered(parent);
        if (parentTerms.importingCountry != exportingCountry) {
            revert CustomsRegistryNotBackToBack(documentHash, exportingCountry, parent, parentTerms.importingCountry);
        }
    }

    /// @dev Registered, active and unexpired terms of the certificate (`root`, `documentHash`).
    function _registered(bytes32 documentHash, bytes32 root) private view returns (Registration storage terms) {
        terms = _terms[certificateKey(root, documentHash)];
        if (terms.root == bytes32(0)) revert CustomsRegistryTermsNotRegistered(documentHash);
        (, DocumentState state) = _stateIn(documentHash, root);
        if (state != DocumentState.Active) revert CustomsRegistryNotUsable(documentHash, uint8(state));
        if (block.timestamp > terms.validUntil) revert CustomsRegistryExpired(documentHash, terms.validUntil);
    }

    /// @dev Draw `quantities` of `items` on `ledger` and, for a back-to-back certificate, on its parent's.
    function _drawAll(
        bytes32 documentHash,
        Registration storage terms,
        bytes32 ledger,
        uint16[] calldata items,
        uint256[] calldata quantities
    ) private returns (bytes32 parentLedger, uint16[] memory parentItems) {
        bytes32 parent = terms.parent;
        Registration storage parentTerms = terms;
        if (parent != bytes32(0)) {
            parentTerms = _registered(parent, terms.parentRoot);
            parentLedger = _ledgerOf(certificateKey(terms.parentRoot, parent));
            parentItems = new uint16[](items.length);
        }
        for (uint256 i = 0; i < items.length; ++i) {
            uint256 item = items[i];
            _drawItem(documentHash, terms, ledger, item, quantities[i]);
            if (parent != bytes32(0)) {
                uint16 parentItem = terms.parentItems[item];
                _drawItem(parent, parentTerms, parentLedger, parentItem, quantities[i]);
                parentItems[i] = parentItem;
            }
        }
    }

    /// @dev Draw `quantity` of `item` of the certificate with `terms` on `ledger`.
    function _drawItem(
        bytes32 documentHash,
        Registration storage terms,
        bytes32 ledger,
        uint256 item,
        uint256 quantity
    ) private {
        if (item >= terms.quantities.length || quantity == 0) revert CustomsRegistryInvalidDraw(documentHash, item);
        uint256 certified = terms.quantities[item];
        uint256 drawn = _drawn[ledger][item];
        if (drawn + quantity > certified) {
            revert CustomsRegistryOverdrawn(documentHash, item, quantity, certified - drawn);
        }
        _drawn[ledger][item] = drawn + quantity;
    }

    function _ledgerOf(bytes32 certificate) private view returns (bytes32) {
        bytes32 ledger = _ledgers[certificate];
        return ledger == bytes32(0) ? certificate : ledger;
    }
}
