// jsonld (v9) safe-mode expansion and RDFC-1.0 canonicalisation of one credential: counts what went in
// and what came out, so a dropped term shows even if safe mode let it pass.
import jsonld from 'jsonld';
import {makeLoader, run} from './loader.mjs';

function leaves(value, skip) {
  if(Array.isArray(value)) {
    return value.reduce((n, v) => n + leaves(v, skip), 0);
  }
  if(value !== null && typeof value === 'object') {
    return Object.entries(value).filter(([k]) => !skip.has(k)).reduce((n, [, v]) => n + leaves(v, skip), 0);
  }
  return 1;
}

const INPUT_SKIP = new Set(['@context']);

function expandedLeaves(value) {
  // each input leaf comes out as one @value, one @id (a node's id or an IRI-valued term) or one @type
  if(Array.isArray(value)) {
    return value.reduce((n, v) => n + expandedLeaves(v), 0);
  }
  if(value === null || typeof value !== 'object') {
    return 0;
  }
  if('@value' in value) {
    return 1;
  }
  let n = ('@id' in value ? 1 : 0) + (Array.isArray(value['@type']) ? value['@type'].length : 0);
  for(const [k, v] of Object.entries(value)) {
    if(k !== '@id' && k !== '@type') {
      n += expandedLeaves(v);
    }
  }
  return n;
}

await run(async ({credential, cooUrls}) => {
  const {documentLoader, requested} = makeLoader({cooUrls});
  const expanded = await jsonld.expand(credential, {documentLoader, safe: true});
  const nquads = await jsonld.canonize(credential, {documentLoader, safe: true, algorithm: 'RDFC-1.0',
    format: 'application/n-quads'});
  return {leavesIn: leaves(credential, INPUT_SKIP), leavesOut: expandedLeaves(expanded),
    quads: nquads.split('\n').filter(Boolean).length, requested};
});
