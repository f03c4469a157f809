// A JSON-LD document loader that never touches the network: it serves the VC 2.0 base context (from
// Digital Bazaar's packaged copy), this project's context (from the repository's file, under the URLs
// the caller names) and the documents the caller hands over (DID documents, status list credentials);
// anything else is refused. Every script reads one JSON file named on the command line and prints one
// JSON object: {"ok": true, ...} or {"ok": false, "error": "..."}.
import fs from 'node:fs';
import {contexts} from '@digitalbazaar/credentials-context';

export const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
export const DEFAULT_COO = 'https://coo-registry.example/contexts/certificate-of-origin/v1';
const COO_FILE = new URL('../../../contexts/certificate-of-origin/v1.jsonld', import.meta.url);

export function makeLoader({cooUrls = [DEFAULT_COO], documents = {}} = {}) {
  const coo = JSON.parse(fs.readFileSync(COO_FILE, 'utf8'));
  const served = new Map([[VC_V2, contexts.get(VC_V2)]]);
  for(const url of cooUrls) {
    served.set(url, coo);
  }
  for(const [url, document] of Object.entries(documents)) {
    served.set(url, document);
  }
  const requested = [];
  const documentLoader = async url => {
    requested.push(url);
    if(served.has(url)) {
      return {contextUrl: null, documentUrl: url, document: structuredClone(served.get(url))};
    }
    const [did, fragment] = url.split('#');
    if(fragment !== undefined && served.has(did)) {
      const method = (served.get(did).verificationMethod || []).find(m => m.id === url);
      if(method) {
        return {contextUrl: null, documentUrl: url,
          document: {'@context': served.get(did)['@context'], ...structuredClone(method)}};
      }
    }
    throw new Error(`refusing to load ${url}: not one of the documents served locally`);
  };
  return {documentLoader, requested};
}

export async function run(work) {
  try {
    const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
    const result = await work(input);
    process.stdout.write(JSON.stringify({ok: true, ...result}) + '\n');
  } catch(error) {
    const details = error && error.details || {};
    const code = (error && error.code) || details.code || (details.event && details.event.code) || null;
    process.stdout.write(JSON.stringify({ok: false, error: String(error && error.message || error), code}) + '\n');
  }
}
