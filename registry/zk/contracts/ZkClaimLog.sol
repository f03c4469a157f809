// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @dev The Groth16 verifiers snarkjs generates, by number of public inputs.
interface IGroth16Verifier3 {
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c,
                         uint256[3] calldata pub) external view returns (bool);
}

interface IGroth16Verifier4 {
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c,
                         uint256[4] calldata pub) external view returns (bool);
}

/**
 * @title ZkClaimLog
 * @notice Checks a zero-knowledge claim about a sealed certificate on chain and records that it was verified.
 *
 * @dev A claim is a Groth16 proof for one of the predicate circuits (in the order of
 * `registry/zk/build.py`'s CIRCUITS: rvc_at_least, hs_prefix, value_at_most, value_at_least,
 * days_between_at_most) whose first public input is a CoO-zk-v1 commitment. The commitment is bound to
 * a document hash by its leaf and the leaf's path in the document's field tree:
 *
 *     leaf          = keccak256("CoO-zk-v1" ‖ commitment)
 *     document_hash = keccak256("CoO-document-v1" ‖ processProof(path, leaf))
 *
 * Whether that document is anchored and still active is the certificate registry's to say: read it
 * there (the event carries the document hash).
 */
contract ZkClaimLog {
    uint8 public constant CIRCUITS = 5;

    address[5] private _verifiers;

    error ZkClaimLogUnknownCircuit(uint8 circuit);
    error ZkClaimLogWrongInputCount(uint8 circuit, uint256 count);
    error ZkClaimLogNotInDocument(bytes32 documentHash, uint256 commitment);
    error ZkClaimLogInvalidProof(bytes32 documentHash, uint8 circuit);

    /// @notice A proof of a claim about the certificate with `documentHash` verified, recorded by `verifier`.
    event ClaimVerified(bytes32 indexed documentHash, uint8 indexed circuit, bytes32 publicInputs,
                        address indexed verifier);

    constructor(address[5] memory verifiers) {
        _verifiers = verifiers;
    }

    /// @notice The verifier contract of `circuit`.
    function verifierOf(uint8 circuit) external view returns (address) {
        _known(circuit);
        return _verifiers[circuit];
    }

    /**
     * @notice Whether `proof` proves the claim with `publicInputs` about the commitment sealed in `documentHash`.
     * @dev Requirements: a known circuit and its number of public inputs; the commitment under `documentHash`.
     */
    function check(bytes32 documentHash, bytes32[] calldata commitmentPath, uint8 circuit,
                   uint256[8] calldata proof, uint256[] calldata publicInputs) public view returns (bool) {
        _known(circuit);
        uint256 expected = circuit == 0 ? 3 : 4;
        if (publicInputs.length != expected) revert ZkClaimLogWrongInputCount(circuit, publicInputs.length);
        bytes32 leaf = keccak256(abi.encodePacked(bytes9("CoO-zk-v1"), bytes32(publicInputs[0])));
        bytes32 fieldsRoot = MerkleProof.processProofCalldata(commitmentPath, leaf);
        if (keccak256(abi.encodePacked(bytes15("CoO-document-v1"), fieldsRoot)) != documentHash) {
            revert ZkClaimLogNotInDocument(documentHash, publicInputs[0]);
        }
        uint256[2] memory a = [proof[0], proof[1]];
        uint256[2][2] memory b = [[proof[2], proof[3]], [proof[4], proof[5]]];
        uint256[2] memory c = [proof[6], proof[7]];
        if (expected == 3) {
            return IGroth16Verifier3(_verifiers[circuit]).verifyProof(
                a, b, c, [publicInputs[0], publicInputs[1], publicInputs[2]]);
        }
        return IGroth16Verifier4(_verifiers[circuit]).verifyProof(
            a, b, c, [publicInputs[0], publicInputs[1], publicInputs[2], publicInputs[3]]);
    }

    /**
     * @notice Verify a claim as {check} does and record it.
     * @dev Emits {ClaimVerified}. Reverts with ZkClaimLogInvalidProof when the proof does not verify.
     */
    function record(bytes32 documentHash, bytes32[] calldata commitmentPath, uint8 circuit,
                    uint256[8] calldata proof, uint256[] calldata publicInputs) external {
        if (!check(documentHash, commitmentPath, circuit, proof, publicInputs)) {
            revert ZkClaimLogInvalidProof(documentHash, circuit);
        }
        emit ClaimVerified(documentHash, circuit, keccak256(abi.encodePacked(publicInputs)), msg.sender);
    }

    function _known(uint8 circuit) private pure {
        if (circuit >= CIRCUITS) revert ZkClaimLogUnknownCircuit(circuit);
    }
}
