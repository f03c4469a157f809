// Digital Bazaar's vc-bitstring-status-list: make an (unsigned) BitstringStatusListCredential with the
// given bits set, encoded by their library.
import {createCredential, createList} from '@digitalbazaar/vc-bitstring-status-list';
import {run} from './loader.mjs';

await run(async ({id, issuer, validFrom, validUntil, revoked, length}) => {
  const list = await createList({length: length || 131072});
  for(const index of revoked) {
    list.setStatus(index, true);
  }
  const credential = await createCredential({id, list, statusPurpose: 'revocation'});
  return {credential: {...credential, issuer, validFrom, validUntil}};
});
