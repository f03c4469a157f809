// Deploy a DocumentStore (@govtechsg/document-store's own ABI and bytecode) and wrap and issue documents on it
// with @govtechsg/open-attestation, as a TradeTrust issuer does. stdin {rpc_url, key, documents, location,
// issue = true}: every document's issuers get the store and DNS-TXT identity at `location`; all are wrapped in
// one batch and its Merkle root issued. Prints {store, chain_id, wrapped}.
import { createRequire } from "node:module";
import { ethers } from "ethers";
import { wrapDocuments } from "@govtechsg/open-attestation";
import { readInput } from "./io.mjs";

const require = createRequire(import.meta.url);
const { DocumentStoreFactory } = require("@govtechsg/document-store");

const { rpc_url: rpcUrl, key, documents, location, issue = true, name = "Interop issuer" } = await readInput();
const provider = new ethers.providers.JsonRpcProvider(rpcUrl);
const wallet = new ethers.Wallet(key, provider);
const factory = new ethers.ContractFactory(DocumentStoreFactory.abi, DocumentStoreFactory.bytecode, wallet);
const store = await factory.deploy(name, wallet.address);
await store.deployed();
const raw = documents.map((document) => ({
  ...document,
  issuers: [{ name, documentStore: store.address, identityProof: { type: "DNS-TXT", location } }],
}));
const wrapped = wrapDocuments(raw);
if (issue) await (await store.issue(`0x${wrapped[0].signature.merkleRoot}`)).wait();
const { chainId } = await provider.getNetwork();
process.stdout.write(JSON.stringify({ store: store.address, chain_id: chainId, wrapped }));
