// Signing in with the school's OpenID Connect provider: a real one (npm's oidc-provider, started
// here on loopback with its own login pages), in front of a Stacklab server of this test's own.
// A learner signs in through the provider's login page and joins a class that refuses anonymous
// joins, and comes back as the same learner; a member of staff (by the `groups` claim) reaches
// the instructor's pages and someone else does not; after the provider rotates its signing key
// sign-in still works; a cancelled sign-in and a forged answer are refused with a clear page.
import { Browser, Page } from "@playwright/test";
import { ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { test, expect, hydrated, screenshots, OwnServer } from "./fixtures";
import { instructorToken } from "../playwright.config";

const port = Number(process.env.STACKLAB_E2E_PORT ?? 3100);
const dataRoot = process.env.STACKLAB_E2E_DATA ?? "/tmp/stacklab-e2e";
const providerPort = port + 90;
const provider = `http://127.0.0.1:${providerPort}`;
const signInCode = "SIGNEDIN1";

const server = new OwnServer(port + 30, `${dataRoot}-own-oidc`, "stacklab-e2e-oidc", [
  "--sandbox-backend",
  "none",
  "--oidc-issuer",
  provider,
  "--oidc-client-id",
  "stacklab",
  "--oidc-client-secret",
  "stacklab-test-secret",
  "--oidc-redirect-url",
  `http://127.0.0.1:${port + 30}/auth/oidc/callback`,
  "--oidc-scopes",
  "openid profile email groups",
  "--oidc-staff",
  "groups=staff",
  "--oidc-label",
  "School ID",
]);

let providerProcess: ChildProcess;

async function startProvider() {
  providerProcess = spawn("node", ["oidc/provider.mjs"], {
    env: { ...process.env, OIDC_PORT: String(providerPort), OIDC_REDIRECT: `${server.url}/auth/oidc/callback` },
    stdio: ["ignore", "ignore", "ignore"],
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${provider}/.well-known/openid-configuration`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("oidc-provider did not come up");
}

/** The provider's development login and consent pages, as `login`. */
async function signInAtProvider(page: Page, login: string) {
  await expect(page).toHaveURL(new RegExp(`^${provider}/interaction/`));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();
  // Consent, the first time this person signs in to Stacklab.
  await page.getByRole("button", { name: "Continue" }).click();
}

async function freshPage(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

async function me(page: Page) {
  return (await page.request.get(`${server.url}/api/me`)).json();
}

test.describe("signing in with the school's provider", () => {
  test.beforeAll(async ({ request }) => {
    // A worker started again after a failure begins from nothing too.
    rmSync(server.dataDir, { recursive: true, force: true });
    await startProvider();
    await server.start();
    const made = await request.post(`${server.url}/api/instructor/classes`, {
      headers: { Authorization: `Bearer ${instructorToken}` },
      data: { name: "Signed-in class", code: signInCode, settings: { sign_in_required: true } },
    });
    expect(made.ok(), await made.text()).toBe(true);
  });
  test.afterAll(async () => {
    await server.stop();
    providerProcess?.kill();
    rmSync(server.dataDir, { recursive: true, force: true });
  });

  test("a learner signs in at the provider, joins a sign-in-only class, and comes back as the same learner", async ({ browser }) => {
    // Pages of their own: the provider's pages are not Stacklab's, whose fixture counts errors.
    const page = await freshPage(browser);
    await page.goto(`${server.url}/join`);
    await hydrated(page);
    // Anonymous joins are refused by this class, saying what to do.
    await page.getByLabel("Class code").fill(signInCode);
    await page.getByLabel("Your name").fill("Nobody");
    await page.getByRole("button", { name: "Join", exact: true }).click();
    await expect(page.locator('form[action="/join"] .error')).toContainText("This class is joined signed in");
    await page.screenshot({ path: `${screenshots}/oidc-join-refused.png` });

    await page.getByLabel("Class code").fill(signInCode);
    await page.getByRole("button", { name: "Sign in with School ID" }).click();
    await signInAtProvider(page, "ada");
    await expect(page).toHaveURL(`${server.url}/`);
    const ada = await me(page);
    expect(ada.display_name).toBe("Ada Lovelace");
    expect(ada.class_name).toBe("Signed-in class");
    await page.screenshot({ path: `${screenshots}/oidc-learner-home.png` });

    // Signed out, then in again with no class code: the same learner, progress and all.
    await page.request.post(`${server.url}/api/logout`);
    await page.goto(`${server.url}/join`);
    await hydrated(page);
    await page.getByRole("button", { name: "Sign in with School ID" }).click();
    // The provider remembers her and her consent: straight back.
    await expect(page).toHaveURL(`${server.url}/`);
    expect((await me(page)).learner_id).toBe(ada.learner_id);
  });

  test("staff from the staff group reach the instructor's pages; others are told they are not staff", async ({ browser }) => {
    const grace = await freshPage(browser);
    await grace.goto(`${server.url}/instructor`);
    await grace.getByRole("link", { name: "Sign in with School ID" }).click();
    await signInAtProvider(grace, "grace");
    await expect(grace).toHaveURL(`${server.url}/instructor`);
    // Her staff account is new: no class is hers until its owner (here the administrator) gives
    // her a role in it.
    await expect(grace.getByRole("heading", { name: "Classes" })).toBeVisible();
    await expect(grace.getByText("Signed-in class")).toHaveCount(0);
    const admin = { Authorization: `Bearer ${instructorToken}` };
    const classes = await (await grace.request.get(`${server.url}/api/instructor/classes`, { headers: admin })).json();
    const signedIn = classes.find((c: { name: string }) => c.name === "Signed-in class").id;
    const staff = await (await grace.request.get(`${server.url}/api/instructor/classes/${signedIn}/staff`, { headers: admin })).json();
    const account = staff.find((a: { name: string }) => a.name === "Grace Hopper");
    expect(account.login).toBeNull();
    const granted = await grace.request.post(`${server.url}/api/instructor/classes/${signedIn}/staff`, {
      headers: admin,
      data: { account: account.id, role: "instructor" },
    });
    expect(granted.status()).toBe(204);
    await grace.reload();
    await expect(grace.getByText("Signed-in class")).toBeVisible();
    expect((await grace.request.get(`${server.url}/api/instructor/classes/${signedIn}/grades.json`)).status()).toBe(200);

    const alan = await freshPage(browser);
    await alan.goto(`${server.url}/instructor`);
    await alan.getByRole("link", { name: "Sign in with School ID" }).click();
    await signInAtProvider(alan, "alan");
    await expect(alan.getByRole("heading", { name: "Not staff" })).toBeVisible();
    await expect(alan.locator("body")).toContainText("You are signed in as Alan Turing");
    expect((await alan.request.get(`${server.url}/api/instructor/classes`)).status()).toBe(403);
  });

  test("after the provider rotates its signing key, signing in still works", async ({ browser }) => {
    const rotated = await fetch(`${provider}/test/rotate`, { method: "POST" });
    expect(rotated.ok).toBe(true);
    // Alan, in no class yet: signed in, the join page asks only for the class code.
    const alan = await freshPage(browser);
    await alan.goto(`${server.url}/join`);
    await alan.getByRole("button", { name: "Sign in with School ID" }).click();
    await signInAtProvider(alan, "alan");
    await expect(alan).toHaveURL(new RegExp(`^${server.url}/join`));
    await expect(alan.locator('form[action="/join"]')).toContainText("You are signed in as Alan Turing");
    await expect(alan.getByLabel("Your name")).toHaveCount(0);
    await alan.getByLabel("Class code").fill(signInCode);
    await alan.getByRole("button", { name: "Join", exact: true }).click();
    await expect(alan).toHaveURL(`${server.url}/`);
    expect((await me(alan)).display_name).toBe("Alan Turing");
  });

  test("a cancelled sign-in and a forged answer are refused with a page that says so", async ({ browser }) => {
    const page = await freshPage(browser);
    await page.goto(`${server.url}/join`);
    await page.getByRole("button", { name: "Sign in with School ID" }).click();
    await expect(page).toHaveURL(new RegExp(`^${provider}/interaction/`));
    await page.getByRole("link", { name: /cancel/i }).click();
    await expect(page.getByRole("heading", { name: "Sign-in did not work" })).toBeVisible();
    await expect(page.getByRole("alert")).toContainText("The sign-in service did not sign you in");
    expect((await page.request.get(`${server.url}/api/me`)).status()).toBe(401);

    // An answer this browser never asked for (no sign-in under way): nobody is signed in.
    const forged = await page.goto(`${server.url}/auth/oidc/callback?state=made-up&code=made-up`);
    expect(forged?.status()).toBe(403);
    await expect(page.getByRole("alert")).toContainText("start again");
    expect((await page.request.get(`${server.url}/api/me`)).status()).toBe(401);
  });
});
