// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/**
 * @dev Issuer governance for certificates of origin: the consortium admits one
 * competent authority per country; each authority authorises, suspends and
 * reinstates the issuing bodies of its own country. Every change of an issuer's
 * standing is checkpointed by block number, so history is ordered by transactions
 * and never by (possibly equal) block timestamps.
 */
interface ITrustRegistry {
    /// @dev `country` is not two upper-case ASCII letters.
    error TrustRegistryInvalidCountry(bytes2 country);
    /// @dev `country` already has a competent authority.
    error TrustRegistryCountryAlreadyAdmitted(bytes2 country);
    /// @dev `country` has not been admitted.
    error TrustRegistryCountryNotAdmitted(bytes2 country);
    /// @dev `account` already acts as an authority or an issuer, or is the zero address.
    error TrustRegistryAccountInUse(address account);
    /// @dev `account` is the consortium admin, which may not also act for a country.
    error TrustRegistryAdminNotAllowed(address account);
    /// @dev `account` is not the competent authority of `country`.
    error TrustRegistryNotCountryAuthority(address account, bytes2 country);
    /// @dev `issuer` is already known to the registry.
    error TrustRegistryIssuerAlreadyKnown(address issuer);
    /// @dev `issuer` has never been authorised.
    error TrustRegistryUnknownIssuer(address issuer);
    /// @dev A name must be 1 to 128 bytes of UTF-8; this one is `length` bytes.
    error TrustRegistryInvalidName(uint256 length);

    /// @dev Emitted when the consortium admits `country` with its competent `authority`.
    event CountryAdmitted(bytes2 indexed country, address indexed authority);
    /// @dev Emitted when the authority of `country` changes from `previous` to `authority`.
    event AuthorityReplaced(bytes2 indexed country, address indexed previous, address indexed authority);
    /// @dev Emitted when `authority` authorises `issuer` for `country`.
    event IssuerAuthorised(address indexed issuer, bytes2 indexed country, address indexed authority);
    /// @dev Emitted when an issuer is suspended.
    event IssuerSuspended(address indexed issuer, bytes2 indexed country, address indexed authority);
    /// @dev Emitted when a suspended issuer is reinstated.
    event IssuerReinstated(address indexed issuer, bytes2 indexed country, address indexed authority);
    /// @dev Emitted when the authority of `country` names its issuing body `issuer`.
    event IssuerNamed(address indexed issuer, bytes2 indexed country, string name);
    /// @dev Emitted when the consortium admin names the current `authority` of `country`.
    event AuthorityNamed(bytes2 indexed country, address indexed authority, string name);

    /// @notice Admit `country` to the consortium with `authority` as its competent authority.
    function admitCountry(bytes2 country, address authority) external;

    /// @notice Replace the competent authority of `country` (for example after a key rotation).
    function replaceAuthority(bytes2 country, address authority) external;

    /// @notice Authorise `issuer` to issue certificates for the caller's country.
    function authoriseIssuer(address issuer) external;

    /// @notice Suspend `issuer`; certificates it anchored earlier stay valid.
    function suspendIssuer(address issuer) external;

    /// @notice Reinstate a suspended `issuer`.
    function reinstateIssuer(address issuer) external;
    /// @notice Name an issuing body of the caller's country, as verifiers will show it.
    function nameIssuer(address issuer, string calldata name) external;
    /// @notice Name the current competent authority of `country` (consortium admin only).
    function nameAuthority(bytes2 country, string calldata name) external;
    /// @notice The name registered for an issuer or an authority account, or the empty string.
    function nameOf(address account) external view returns (string memory);

    /// @notice The competent authority of `country`, or the zero address.
    function authorityOf(bytes2 country) external view returns (address);

    /// @notice The country `authority` speaks for, or zero.
    function countryOfAuthority(address authority) external view returns (bytes2);

    /// @notice The country `issuer` issues for, or zero if unknown.
    function issuerCountry(address issuer) external view returns (bytes2);

    /// @notice Whether `issuer` may anchor certificates now.
    function isAuthorised(address issuer) external view returns (bool);

    /// @notice Whether `issuer` was authorised for `country` at the end of block `blockNumber`.
    function wasAuthorisedAt(address issuer, bytes2 country, uint48 blockNumber) external view returns (bool);
}
