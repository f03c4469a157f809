// Verify a document with OpenAttestation's own verifier (@govtechsg/oa-verify), its DNS step pointed at a local
// resolver: stdin {rpc_url, document, dns: "127.0.0.1:<port>"}. Prints {valid, fragments: [{name, type, status,
// reason}]}. The resolver is oa-verify's documented hook (`dnsResolvers`): a function of the domain answering as
// DNS-over-HTTPS JSON does, here from node's own resolver sent to the given server.
import { Resolver } from "node:dns/promises";
import { ethers } from "ethers";
import { isValid, openAttestationVerifiers, verificationBuilder } from "@govtechsg/oa-verify";
import { readInput } from "./io.mjs";

const { rpc_url: rpcUrl, document, dns } = await readInput();
const resolver = new Resolver({ timeout: 2000, tries: 1 });
resolver.setServers([dns]);
const localDns = async (domain) => {
  const records = await resolver.resolveTxt(domain).catch((error) => {
    if (error.code === "ENOTFOUND" || error.code === "ENODATA") return [];
    throw error;
  });
  return { AD: false, Answer: records.map((chunks) => ({ name: domain, type: 16, TTL: 60, data: `"${chunks.join("")}"` })) };
};
const verify = verificationBuilder(openAttestationVerifiers, {
  provider: new ethers.providers.JsonRpcProvider(rpcUrl),
  dnsResolvers: [localDns],
});
const fragments = await verify(document);
process.stdout.write(JSON.stringify({
  valid: isValid(fragments),
  fragments: fragments.map(({ name, type, status, reason }) => ({ name, type, status, reason })),
}));
