// The DocumentStore contract as @govtechsg/document-store ships it (typechain factory): ABI, creation bytecode, version.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { DocumentStoreFactory } = require("@govtechsg/document-store");
const { version } = require("@govtechsg/document-store/package.json");

process.stdout.write(JSON.stringify({
  contractName: "DocumentStore",
  source: `@govtechsg/document-store@${version}`,
  abi: DocumentStoreFactory.abi,
  bytecode: DocumentStoreFactory.bytecode,
}));
