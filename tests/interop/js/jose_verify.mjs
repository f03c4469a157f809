// npm jose: verify a compact vc+jwt under a public JWK, accepting Ed25519 and EdDSA, and return its
// protected header and payload.
import * as jose from 'jose';
import {run} from './loader.mjs';

await run(async ({token, jwk}) => {
  const key = await jose.importJWK(jwk, 'Ed25519');
  const {payload, protectedHeader} = await jose.compactVerify(token, key, {algorithms: ['Ed25519', 'EdDSA']});
  return {header: protectedHeader, payload: JSON.parse(new TextDecoder().decode(payload))};
});
