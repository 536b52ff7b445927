// A real OpenID Connect provider (the certified `oidc-provider` library) for
// the browser test: node server.mjs PORT REDIRECT_URI. Anyone may sign in on
// its development login page; each account's `roles` claim says
// "relief-staff", the value the test maps to Relief Hub's staff role.
import Provider from "oidc-provider";

const [port, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "reliefhub",
      client_secret: "reliefhub-test-secret",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  claims: { openid: ["sub"], profile: ["name", "roles"], email: ["email"] },
  // Streamlit reads the ID token's claims: put the scopes' claims there.
  conformIdTokenClaims: false,
  pkce: { required: () => false },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, name: `Test ${id}`, email: `${id}@example.org`, roles: ["relief-staff"] }),
  }),
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;
provider.listen(Number(port), "127.0.0.1", () => console.log(`ready ${issuer}`));
