// What @govtechsg/open-attestation says of each document: stdin {documents} -> {results: [{signature, wrapped, data}]}.
import { getData, utils, verifySignature } from "@govtechsg/open-attestation";
import { readInput } from "./io.mjs";

const { documents } = await readInput();
const results = documents.map((document) => {
  let signature;
  try {
    signature = verifySignature(document);
  } catch (error) {
    signature = `error: ${error.message}`;
  }
  const wrapped = utils.isWrappedV2Document(document);
  return { signature, wrapped, data: wrapped ? getData(document) : null };
});
process.stdout.write(JSON.stringify({ results }));
