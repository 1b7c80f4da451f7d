// A new user's first minutes, through the TypeScript client generated from Roster's schema:
// types from openapi-typescript (generated/roster.d.ts), calls through openapi-fetch.
//
//     node dist/flow.js http://127.0.0.1:8000
//
// scripts/clients.sh generates the types, compiles this file with `tsc --strict` and runs it. Every
// body is typed by the schema: a 400 is a `ValidationProblem`, a 401 a `Problem`. Exits non-zero at
// the first surprise.
import { randomBytes } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/roster.js";

type Problem = components["schemas"]["Problem"];
type ValidationProblem = components["schemas"]["ValidationProblem"];
type TokenPair = components["schemas"]["TokenPair"];
type Profile = components["schemas"]["Profile"];

class FlowFailed extends Error {}

function expect(condition: unknown, what: string): asserts condition {
  if (!condition) {
    throw new FlowFailed(what);
  }
  console.log(`ok   ${what}`);
}

function bearer(token: string): { headers: { Authorization: string } } {
  return { headers: { Authorization: `Bearer ${token}` } };
}

async function run(baseUrl: string): Promise<void> {
  const roster = createClient<paths>({ baseUrl });
  const email = `typescript-client-${randomBytes(6).toString("hex")}@example.com`;
  const password = randomBytes(18).toString("base64url");

  const registration = { email, password, first_name: "Grace" };
  const created = await roster.POST("/api/v1/auth/register/", { body: registration });
  expect(created.response.status === 201 && created.data, "register: 201 User");
  expect(created.data.email === email && !created.data.email_verified, "the new user");

  const again = await roster.POST("/api/v1/auth/register/", { body: registration });
  expect(again.response.status === 400 && again.error, "duplicate: 400");
  const invalid: ValidationProblem = again.error;
  expect(invalid.status === 400 && invalid.errors?.["email"]?.length, "ValidationProblem names `email`");

  const login = await roster.POST("/api/v1/auth/token/", { body: { email, password } });
  expect(login.data, "log in: TokenPair");
  const pair: TokenPair = login.data;

  const verified = await roster.POST("/api/v1/auth/token/verify/", { body: { token: pair.access } });
  expect(verified.response.status === 200 && verified.data, "verify the access token: TokenVerified");

  const me = await roster.GET("/api/v1/users/me/", bearer(pair.access));
  expect(me.data?.email === email, "read me: Profile");

  const patched = await roster.PATCH("/api/v1/users/me/", {
    ...bearer(pair.access),
    body: { first_name: "Ada", last_name: "Lovelace" },
  });
  expect(patched.data, "patch me: Profile");
  const profile: Profile = patched.data;
  expect(profile.first_name === "Ada" && profile.last_name === "Lovelace", "names changed");
  const reread = await roster.GET("/api/v1/users/me/", bearer(pair.access));
  expect(reread.data?.first_name === "Ada", "and stored");

  const refused = await roster.GET("/api/v1/users/me/", bearer("not-a-token"));
  expect(refused.response.status === 401 && refused.error, "bad token: 401");
  const problem: Problem = refused.error;
  expect(problem.status === 401 && problem.title, "Problem says why");
  expect(refused.response.headers.get("WWW-Authenticate")?.startsWith("Bearer"), "with a Bearer challenge");

  const rotated = await roster.POST("/api/v1/auth/token/refresh/", { body: { refresh: pair.refresh } });
  expect(rotated.data && rotated.data.refresh !== pair.refresh, "refresh: rotated");
  const fresh: TokenPair = rotated.data;
  const withFresh = await roster.GET("/api/v1/users/me/", bearer(fresh.access));
  expect(withFresh.data?.email === email, "the new access token works");

  const logout = await roster.POST("/api/v1/auth/logout/", { body: { refresh: fresh.refresh } });
  expect(logout.response.status === 204, "log out: 204");
  const ended = await roster.GET("/api/v1/users/me/", bearer(fresh.access));
  expect(ended.response.status === 401 && ended.error?.status === 401, "its access token: 401");
  const spent = await roster.POST("/api/v1/auth/token/refresh/", { body: { refresh: fresh.refresh } });
  expect(spent.response.status === 401 && spent.error?.status === 401, "spent refresh: 401");
}

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error("usage: node dist/flow.js BASE_URL");
  process.exit(2);
}
try {
  await run(baseUrl);
  console.log("TypeScript client flow: all steps passed");
} catch (failure) {
  if (!(failure instanceof FlowFailed)) {
    throw failure;
  }
  console.error(`FAIL ${failure.message}`);
  process.exit(1);
}
