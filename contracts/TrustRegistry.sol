// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {ITrustRegistry} from "./ITrustRegistry.sol";

/**
 * @title TrustRegistry
 * @notice Who may issue certificates of origin for which country, and since when.
 * @dev The consortium admin holds `DEFAULT_ADMIN_ROLE` and admits countries. Each
 * country has exactly one competent authority, which governs only its own issuers.
 * The current standing of an issuer is kept in one packed slot (read by every
 * anchoring); its history is kept as OpenZeppelin checkpoints keyed by block
 * number (written only when the standing changes): two changes in blocks with the
 * same timestamp stay in transaction order. The admin account never acts for a
 * country (authority, issuer or Customs), so it cannot govern a country's issuers.
 */
contract TrustRegistry is AccessControl, ITrustRegistry {
    using Checkpoints for Checkpoints.Trace208;

    struct IssuerRecord {
        bytes2 country;
        bool active;
    }

    mapping(bytes2 country => address) private _authorities;
    mapping(address authority => bytes2) private _authorityCountries;
    mapping(address issuer => IssuerRecord) internal _issuers;
    mapping(address issuer => Checkpoints.Trace208) private _standing;
    mapping(address account => string) internal _names;

    /// @dev Reverts unless the caller is the competent authority of `country`.
    modifier onlyAuthorityOf(bytes2 country) {
        _checkAuthority(msg.sender, country);
        _;
    }

    /// @param admin the consortium admin, able to admit countries.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /**
     * @inheritdoc ITrustRegistry
     * @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; `country` is two upper-case
     * letters and not yet admitted; `authority` is non-zero and holds no other role.
     * Emits {CountryAdmitted}.
     */
    function admitCountry(bytes2 country, address authority) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkCountryCode(country);
        if (_authorities[country] != address(0)) revert TrustRegistryCountryAlreadyAdmitted(country);
        _checkFreshAccount(authority);
        _authorities[country] = authority;
        _authorityCountries[authority] = country;
        emit CountryAdmitted(country, authority);
    }

    /**
     * @inheritdoc ITrustRegistry
     * @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; `country` is admitted;
     * `authority` is non-zero and holds no other role. Emits {AuthorityReplaced}.
     */
    function replaceAuthority(bytes2 country, address authority) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address previous = _authorities[country];
        if (previous == address(0)) revert TrustRegistryCountryNotAdmitted(country);
        _checkFreshAccount(authority);
        delete _authorityCountries[previous];
        _authorities[country] = authority;
        _authorityCountries[authority] = country;
        emit AuthorityReplaced(country, previous, authority);
    }

    /**
     * @inheritdoc ITrustRegistry
     * @dev Requirements: caller is a competent authority; `issuer` is non-zero, not
     * yet known, and not an authority. Emits {IssuerAuthorised}.
     */
    function authoriseIssuer(address issuer) external {
        bytes2 country = _authorityCountries[msg.sender];
        if (country == bytes2(0)) revert TrustRegistryNotCountryAuthority(msg.sender, country);
        if (_issuers[issuer].country != bytes2(0)) revert TrustRegistryIssuerAlreadyKnown(issuer);
        _checkFreshAccount(issuer);
        _issuers[issuer] = IssuerRecord({country: country, active: true});
        _standing[issuer].push(uint48(block.number), 1);
        emit IssuerAuthorised(issuer, country, msg.sender);
    }

    /**
     * @inheritdoc ITrustRegistry
     * @dev Requirements: `issuer` is known; caller is its country's authority.
     * Emits {IssuerSuspended} only if the issuer was active.
     */
    function suspendIssuer(address issuer) external onlyAuthorityOf(_knownIssuerCountry(issuer)) {
        _setActive(issuer, false);
    }

    /**
     * @inheritdoc ITrustRegistry
     * @dev Requirements: `issuer` is known; caller is its country's authority.
     * Emits {IssuerReinstated} only if the issuer was suspended.
     */
    function reinstateIssuer(address issuer) external onlyAuthorityOf(_knownIssuerCountry(issuer)) {
        _setActive(issuer, true);
    }

    /**
     * @inheritdoc ITrustRegistry
     * @dev Requirements: `issuer` is known; caller is its country's authority; `name` is
     * 1 to 128 bytes. Emits {IssuerNamed}.
     */
    function nameIssuer(address issuer, string calldata name) external onlyAuthorityOf(_knownIssuerCountry(issuer)) {
        _checkName(name);
        _names[issuer] = name;
        emit IssuerNamed(issuer, _issuers[issuer].country, name);
    }

    /**
     * @inheritdoc ITrustRegistry
     * @dev Requirements: caller has `DEFAULT_ADMIN_ROLE`; `country` is admitted; `name`
     * is 1 to 128 bytes. The name belongs to the current authority account: a replaced
     * authority keeps its own, and its successor has none until named. Emits {AuthorityNamed}.
     */
    function nameAuthority(bytes2 country, string calldata name) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address authority = _authorities[country];
        if (authority == address(0)) revert TrustRegistryCountryNotAdmitted(country);
        _checkName(name);
        _names[authority] = name;
        emit AuthorityNamed(country, authority, name);
    }

    /// @inheritdoc ITrustRegistry
    function nameOf(address account) external view returns (string memory) {
        return _names[account];
    }

    /// @inheritdoc ITrustRegistry
    function authorityOf(bytes2 country) public view returns (address) {
        return _authorities[country];
    }

    /// @inheritdoc ITrustRegistry
    function countryOfAuthority(address authority) public view returns (bytes2) {
        return _authorityCountries[authority];
    }

    /// @inheritdoc ITrustRegistry
    function issuerCountry(address issuer) public view returns (bytes2) {
        return _issuers[issuer].country;
    }

    /// @inheritdoc ITrustRegistry
    function isAuthorised(address issuer) external view returns (bool) {
        return _issuers[issuer].active;
    }

    /**
     * @inheritdoc ITrustRegistry
     * @dev A change made in block `blockNumber` counts as already made.
     */
    function wasAuthorisedAt(address issuer, bytes2 country, uint48 blockNumber) public view returns (bool) {
        return _issuers[issuer].country == country && _standing[issuer].upperLookup(blockNumber) == 1;
    }

    /// @dev Flip an issuer's standing and checkpoint it; emits only when something changed.
    function _setActive(address issuer, bool active) internal {
        IssuerRecord storage record = _issuers[issuer];
        if (record.active == active) return;
        record.active = active;
        _standing[issuer].push(uint48(block.number), active ? 1 : 0);
        if (active) emit IssuerReinstated(issuer, record.country, msg.sender);
        else emit IssuerSuspended(issuer, record.country, msg.sender);
    }

    /// @dev Reverts unless `account` is the authority of `country`.
    function _checkAuthority(address account, bytes2 country) internal view {
        if (country == bytes2(0) || _authorities[country] != account) {
            revert TrustRegistryNotCountryAuthority(account, country);
        }
    }

    function _knownIssuerCountry(address issuer) private view returns (bytes2 country) {
        country = _issuers[issuer].country;
        if (country == bytes2(0)) revert TrustRegistryUnknownIssuer(issuer);
    }

    /// @dev The admin role is never granted to an account that acts for a country.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (role == DEFAULT_ADMIN_ROLE && _actsForCountry(account)) revert TrustRegistryAccountInUse(account);
        return super._grantRole(role, account);
    }

    function _checkFreshAccount(address account) internal view {
        if (account == address(0) || _actsForCountry(account)) revert TrustRegistryAccountInUse(account);
        if (hasRole(DEFAULT_ADMIN_ROLE, account)) revert TrustRegistryAdminNotAllowed(account);
    }

    /// @dev Whether `account` is an authority, an issuer or (in a subclass) Customs.
    function _actsForCountry(address account) internal view virtual returns (bool) {
        return _authorityCountries[account] != bytes2(0) || _issuers[account].country != bytes2(0);
    }

    function _checkName(string calldata name) private pure {
        uint256 length = bytes(name).length;
        if (length == 0 || length > 128) revert TrustRegistryInvalidName(length);
    }

    function _checkCountryCode(bytes2 country) private pure {
        bytes1 a = country[0];
        bytes1 b = country[1];
        if (a < "A" || a > "Z" || b < "A" || b > "Z") revert TrustRegistryInvalidCountry(country);
    }
}
