// Wrap raw documents with @govtechsg/open-attestation and print them: stdin {documents, batch, obfuscate}.
// batch: wrap all in one Merkle tree (wrapDocuments), else one by one; obfuscate: paths hidden afterwards.
import { obfuscateDocument, wrapDocument, wrapDocuments } from "@govtechsg/open-attestation";
import { readInput } from "./io.mjs";

const { documents, batch = false, obfuscate = [] } = await readInput();
let wrapped = batch ? wrapDocuments(documents) : documents.map((d) => wrapDocument(d));
if (obfuscate.length) wrapped = wrapped.map((d) => obfuscateDocument(d, obfuscate));
process.stdout.write(JSON.stringify({ wrapped }));
