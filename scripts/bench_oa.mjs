// OpenAttestation's side of the benchmark (its pinned npm packages, on the benchmark's Anvil).
// stdin {rpc_url, key, documents, verify, location}: deploy a DocumentStore (@govtechsg/document-store's ABI and
// bytecode), wrap every document in one batch and issue its Merkle root (timed: wrap, then issue until mined),
// verify the first `verify` wrapped documents one after the other with @govtechsg/oa-verify (timed), then revoke
// one target hash (its gas). The DNS-TXT identity step is answered in memory for `location`, which spares
// oa-verify a network round trip that a real verification pays. Prints one JSON object; the key stays on stdin.
import { createRequire } from "node:module";
import { ethers } from "ethers";
import { wrapDocuments } from "@govtechsg/open-attestation";
import { isValid, openAttestationVerifiers, verificationBuilder } from "@govtechsg/oa-verify";

const require = createRequire(import.meta.url);
const { DocumentStoreFactory } = require("@govtechsg/document-store");

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { rpc_url: rpcUrl, key, documents, verify: verifyCount, location } = JSON.parse(Buffer.concat(chunks));

const provider = new ethers.providers.JsonRpcProvider(rpcUrl);
const wallet = new ethers.Wallet(key, provider);
const factory = new ethers.ContractFactory(DocumentStoreFactory.abi, DocumentStoreFactory.bytecode, wallet);
const store = await factory.deploy("Bench issuer", wallet.address);
await store.deployed();
const { chainId } = await provider.getNetwork();
const seconds = (started) => Number(process.hrtime.bigint() - started) / 1e9;

let started = process.hrtime.bigint();
const wrapped = wrapDocuments(documents.map((document) => ({
  ...document,
  issuers: [{ name: "Bench issuer", documentStore: store.address, identityProof: { type: "DNS-TXT", location } }],
})));
const wrapS = seconds(started);
started = process.hrtime.bigint();
await (await store.issue(`0x${wrapped[0].signature.merkleRoot}`)).wait();
const issueS = seconds(started);

const record = `openatts net=ethereum netId=${chainId} addr=${store.address}`;
const inMemoryDns = async (domain) => ({
  AD: false, Answer: domain === location ? [{ name: domain, type: 16, TTL: 60, data: `"${record}"` }] : [],
});
const verify = verificationBuilder(openAttestationVerifiers, { provider, dnsResolvers: [inMemoryDns] });
let valid = 0;
started = process.hrtime.bigint();
for (const document of wrapped.slice(0, verifyCount)) {
  if (isValid(await verify(document))) valid += 1;
}
const verifyS = seconds(started);

const receipt = await (await store.revoke(`0x${wrapped[0].signature.targetHash}`)).wait();
process.stdout.write(JSON.stringify({
  documents: wrapped.length, wrap_s: wrapS, issue_s: issueS, verified: Math.min(verifyCount, wrapped.length),
  valid, verify_s: verifyS, revoke_gas: receipt.gasUsed.toNumber(), wrapped_bytes: JSON.stringify(wrapped[0]).length,
}));
