// npm jose: sign a payload as a compact JWS with the private JWK it is given, under the header it is given.
import * as jose from 'jose';
import {run} from './loader.mjs';

await run(async ({payload, jwk, header}) => {
  const key = await jose.importJWK(jwk, header.alg);
  const token = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header).sign(key);
  return {token};
});
