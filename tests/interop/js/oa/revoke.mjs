// Revoke a hash (a target hash or a Merkle root) on a DocumentStore: stdin {rpc_url, key, store, hash}.
import { createRequire } from "node:module";
import { ethers } from "ethers";
import { readInput } from "./io.mjs";

const require = createRequire(import.meta.url);
const { DocumentStoreFactory } = require("@govtechsg/document-store");

const { rpc_url: rpcUrl, key, store, hash } = await readInput();
const wallet = new ethers.Wallet(key, new ethers.providers.JsonRpcProvider(rpcUrl));
const contract = new ethers.Contract(store, DocumentStoreFactory.abi, wallet);
const receipt = await (await contract.revoke(`0x${hash.replace(/^0x/, "")}`)).wait();
process.stdout.write(JSON.stringify({ revoked: hash, block: receipt.blockNumber }));
