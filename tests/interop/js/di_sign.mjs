// Digital Bazaar's vc + data-integrity + eddsa-jcs-2022: issue (add an embedded proof to) the credential
// it is given, with the private JWK it is given, loading only local documents.
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createSignCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {makeLoader, run} from './loader.mjs';

await run(async ({credential, jwk, id, controller, cooUrls, documents}) => {
  const {documentLoader} = makeLoader({cooUrls, documents});
  const signer = (await Ed25519Multikey.fromJwk({jwk, secretKey: true, id, controller})).signer();
  const suite = new DataIntegrityProof({signer, cryptosuite: createSignCryptosuite()});
  return {credential: await vc.issue({credential, suite, documentLoader})};
});
