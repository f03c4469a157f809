// Digital Bazaar's vc + data-integrity + eddsa-jcs-2022: verify a credential's embedded proof (and, when
// asked, its Bitstring Status List entry with vc-bitstring-status-list), loading only local documents.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {makeLoader, run} from './loader.mjs';

await run(async ({credential, documents, cooUrls, now, status}) => {
  const {documentLoader, requested} = makeLoader({cooUrls, documents});
  const suite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});
  // 'bitstring': Digital Bazaar's own status check; 'skip': the entry is not theirs to read (a registry entry)
  const check = status === 'bitstring' ? checkStatus : async () => ({verified: true});
  const result = await vc.verifyCredential({credential, suite, documentLoader, checkStatus: check,
    now: now ? new Date(now) : undefined});
  const statuses = ((result.statusResult || {}).results || []).map(r => r.status);
  const error = result.error ? String(result.error.message || result.error) : null;
  const errors = (result.results || []).filter(r => r.error).map(r => String(r.error.message || r.error));
  const statusError = result.statusResult && result.statusResult.error ?
    String(result.statusResult.error.message) : null;
  return {verified: result.verified, error, errors, statuses, statusError, requested};
});
