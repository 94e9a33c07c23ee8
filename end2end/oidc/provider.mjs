// A real OpenID Provider for the browser tests: npm's oidc-provider (a certified implementation)
// on loopback, with its development login pages, a confidential client for Stacklab, and three
// people: two learners and a member of staff (by the `groups` claim). Its signing key is made at
// start; POST /test/rotate replaces it, as a provider rotating its keys does, so the tests can
// see Stacklab fetch the new key.
import http from "node:http";
import Provider from "oidc-provider";
import { exportJWK, generateKeyPair } from "jose";

const port = Number(process.env.OIDC_PORT ?? 3190);
const issuer = `http://127.0.0.1:${port}`;
const redirect = process.env.OIDC_REDIRECT ?? "http://127.0.0.1:3102/auth/oidc/callback";

export const people = {
  ada: { name: "Ada Lovelace", email: "ada@school.test", groups: ["students"] },
  alan: { name: "Alan Turing", email: "alan@school.test", groups: ["students"] },
  grace: { name: "Grace Hopper", email: "grace@school.test", groups: ["staff", "cs-dept"] },
};

let generation = 0;

async function provider() {
  generation += 1;
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `test-key-${generation}`, alg: "RS256", use: "sig" };
  const oidc = new Provider(issuer, {
    clients: [
      {
        client_id: "stacklab",
        client_secret: "stacklab-test-secret",
        redirect_uris: [redirect],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    jwks: { keys: [jwk] },
    claims: { openid: ["sub"], profile: ["name"], email: ["email"], groups: ["groups"] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ["stacklab-tests-only"] },
    async findAccount(_ctx, id) {
      const person = people[id];
      if (!person) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...person }) };
    },
  });
  // The development login pages accept any password; an unknown login is refused by findAccount.
  oidc.proxy = false;
  return oidc;
}

let current = await provider();
http
  .createServer(async (req, res) => {
    if (req.method === "POST" && req.url === "/test/rotate") {
      current = await provider();
      res.writeHead(200, { "content-type": "text/plain" }).end(`test-key-${generation}\n`);
      return;
    }
    current.callback()(req, res);
  })
  .listen(port, "127.0.0.1", () => console.log(`oidc-provider at ${issuer} (client stacklab, back to ${redirect})`));
