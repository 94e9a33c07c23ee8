// Stacklab as an LTI 1.3 tool in an LMS: a real platform (PyPI's lti1p3platform, served by
// end2end/lti/platform.py on loopback) in front of a Stacklab server of this test's own, with
// real sandboxes. A teacher adds a lab to the course by deep linking; a learner launched from the
// link lands in the lab, passes steps, and the LMS receives each new score (points earned out of
// the lab's points) on the link's line item; with the LMS down a score waits — through a restart
// of Stacklab and a rotation of its key — and arrives when the LMS is back; the roster came from
// the LMS; forged and replayed launches are refused with a page that says why.
import { Browser, Page } from "@playwright/test";
import { ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { test, expect, hydrated, screenshots, OwnServer } from "./fixtures";
import { instructorToken } from "../playwright.config";

const port = Number(process.env.STACKLAB_E2E_PORT ?? 3100);
const dataRoot = process.env.STACKLAB_E2E_DATA ?? "/tmp/stacklab-e2e";
const platformPort = port + 91;
const lms = `http://127.0.0.1:${platformPort}`;
const toolPort = port + 40;
const tool = `http://127.0.0.1:${toolPort}`;
const registrations = `${dataRoot}-lti-platforms.toml`;
const admin = { Authorization: `Bearer ${instructorToken}` };

const server = new OwnServer(toolPort, `${dataRoot}-own-lti`, "stacklab-e2e-lti", [
  "--public-url",
  tool,
  "--lti-platforms",
  registrations,
]);

let platform: ChildProcess;

async function startPlatform() {
  const python = `${process.env.STACKLAB_LTI_VENV ?? "/var/cache/stacklab/lti-platform"}/bin/python`;
  platform = spawn(python, ["lti/platform.py"], {
    env: { ...process.env, LTI_PORT: String(platformPort), LTI_TOOL: tool },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${lms}/jwks`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the LTI platform did not come up");
}

type Score = { lineitem: string; userId: string; scoreGiven: number; scoreMaximum: number; activityProgress: string; gradingProgress: string };

async function lmsState(): Promise<{ links: Record<string, { custom: { lab: string }; lineitem: string }>; lineitems: Record<string, { scoreMaximum: number }>; scores: Score[]; refused_scores: number }> {
  return (await fetch(`${lms}/test/state`)).json();
}

/** The latest score the LMS holds for `user`. */
async function latestScore(user: string): Promise<Score | undefined> {
  return (await lmsState()).scores.filter((s) => s.userId === user).at(-1);
}

async function freshPage(browser: Browser): Promise<Page> {
  return (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
}

/** Runs the Run buttons of the step the page shows, and waits for the step to pass. */
async function passStep(page: Page, step: string) {
  const buttons = page.locator(".step .prose button.run");
  for (let i = 0; i < (await buttons.count()); i++) {
    await buttons.nth(i).click();
    await page.waitForTimeout(300);
  }
  await expect(page.locator(`.step-item[data-step="${step}"]`)).toHaveAttribute("data-state", "done", { timeout: 20_000 });
}

async function courseClass(page: Page): Promise<string> {
  const classes = await (await page.request.get(`${tool}/api/instructor/classes`, { headers: admin })).json();
  return classes.find((c: { name: string }) => c.name === "Operating systems 101").id;
}

test.describe("an LMS launches Stacklab (LTI 1.3)", () => {
  test.describe.configure({ timeout: 240_000 });

  test.beforeAll(async () => {
    rmSync(server.dataDir, { recursive: true, force: true });
    mkdirSync(dataRoot.replace(/\/[^/]*$/, "") || "/", { recursive: true });
    writeFileSync(
      registrations,
      [
        "[[platform]]",
        'label = "Test LMS"',
        `issuer = "${lms}"`,
        'client_id = "stacklab-tool"',
        `login_url = "${lms}/auth"`,
        `token_url = "${lms}/token"`,
        `jwks_url = "${lms}/jwks"`,
        'deployments = ["deployment-1"]',
        "",
      ].join("\n"),
    );
    await startPlatform();
    await server.start();
  });
  // A test that took the LMS down and failed before bringing it back leaves it down for the next.
  test.afterEach(async () => {
    await fetch(`${lms}/test/up`, { method: "POST" });
  });
  test.afterAll(async () => {
    await server.stop();
    platform?.kill();
    rmSync(server.dataDir, { recursive: true, force: true });
    rmSync(registrations, { force: true });
  });

  test("a teacher adds a lab to the course by deep linking, and the course's roster comes along", async ({ browser }) => {
    const grace = await freshPage(browser);
    await grace.goto(`${lms}/launch?user=grace&deep_link=1`);
    await expect(grace.getByRole("heading", { name: "Add a Stacklab lab" })).toBeVisible();
    await expect(grace.locator("main")).toContainText("Choose the lab this new link in Test LMS opens");
    await grace.screenshot({ path: `${screenshots}/lti-deep-link.png` });
    await grace.getByRole("button", { name: /network namespace and a veth cable/ }).click();
    // Back in the LMS, which checked the signed answer against Stacklab's published keys.
    await expect(grace.getByRole("heading", { name: "Links added" })).toBeVisible();
    await expect(grace.locator('[data-link="link-1"]')).toContainText("network namespace");
    const state = await lmsState();
    expect(state.links["link-1"].custom.lab).toBe("netns-veth");
    expect(state.lineitems[state.links["link-1"].lineitem].scoreMaximum).toBe(8);

    // The launch made the course's class, Grace its owner, and read the roster: the active
    // learners are in the class before they ever come (the inactive one is not).
    const klass = await courseClass(grace);
    await expect
      .poll(async () => {
        const dash = await (await grace.request.get(`${tool}/api/instructor/classes/${klass}/dashboard`, { headers: admin })).json();
        return dash.learners.map((l: { name: string }) => l.name).sort();
      })
      .toEqual(["Ada Lovelace", "Linus Torvalds"]);
    const staff = await (await grace.request.get(`${tool}/api/instructor/classes/${klass}/staff`, { headers: admin })).json();
    expect(staff.find((a: { name: string }) => a.name === "Grace Hopper").role).toBe("owner");
  });

  test("a learner launched from the link passes steps, and the LMS receives each new score", async ({ browser }) => {
    const ada = await freshPage(browser);
    await ada.goto(`${lms}/launch?user=ada&link=link-1`);
    await expect(ada).toHaveURL(`${tool}/labs/netns-veth`);
    await hydrated(ada);
    await expect(ada.locator(".terminal-host:not([hidden])")).toHaveAttribute("data-status", "live", { timeout: 20_000 });
    // Ada Lovelace is the learner the roster made: the LMS's name, one learner per person.
    const me = await (await ada.request.get(`${tool}/api/me`)).json();
    expect(me.display_name).toBe("Ada Lovelace");
    expect(me.class_name).toBe("Operating systems 101");

    await passStep(ada, "netns");
    await expect.poll(async () => (await latestScore("user-ada"))?.scoreGiven, { timeout: 20_000 }).toBe(2);
    const first = (await latestScore("user-ada"))!;
    expect([first.scoreMaximum, first.activityProgress, first.gradingProgress]).toEqual([8, "InProgress", "FullyGraded"]);

    await ada.goto(`${tool}/labs/netns-veth/steps/2`);
    await hydrated(ada);
    await passStep(ada, "veth");
    await expect.poll(async () => (await latestScore("user-ada"))?.scoreGiven, { timeout: 20_000 }).toBe(5);
    await ada.screenshot({ path: `${screenshots}/lti-learner-lab.png` });
  });

  test("with the LMS down a score waits, through a restart and a key rotation, and arrives when it is back", async ({ browser }) => {
    // Down until the test brings it back, after the restart: a score sent before it would pass
    // without having waited through one.
    const down = await fetch(`${lms}/test/down?seconds=600`, { method: "POST" });
    expect(down.ok).toBe(true);
    const ada = await freshPage(browser);
    await ada.goto(`${lms}/launch?user=ada&link=link-1`);
    await ada.goto(`${tool}/labs/netns-veth/steps/3`);
    await hydrated(ada);
    await expect(ada.locator(".terminal-host:not([hidden])")).toHaveAttribute("data-status", "live", { timeout: 20_000 });
    await passStep(ada, "ping");

    // The teacher's dashboard says the score is not there yet, and what the LMS said.
    const grace = await freshPage(browser);
    await grace.goto(`${lms}/launch?user=grace&link=link-1`);
    const klass = await courseClass(grace);
    await expect(grace).toHaveURL(`${tool}/instructor/classes/${klass}`);
    await hydrated(grace);
    await grace.getByText("LMS gradebook").click();
    const row = grace.locator(".gradebook tr[data-status]", { hasText: "Ada Lovelace" });
    await expect(async () => {
      await grace.getByRole("button", { name: "Refresh" }).click();
      await expect(row).toHaveAttribute("data-status", "failed", { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    await expect(row).toContainText("7 / 8");
    await expect(row).toContainText("503");
    await grace.screenshot({ path: `${screenshots}/lti-gradebook-waiting.png` });
    expect((await latestScore("user-ada"))?.scoreGiven).toBe(5);

    // Stacklab restarts (killed, as a crash) and its key is rotated while the LMS is away: the
    // outbox is in the store, and the LMS fetches the new key when it sees it.
    await server.kill9();
    await server.start();
    const rotated = await grace.request.post(`${tool}/api/instructor/lti/keys`, { headers: admin });
    expect(rotated.ok()).toBe(true);
    const jwks = await (await fetch(`${tool}/lti/jwks`)).json();
    expect(jwks.keys).toHaveLength(2);
    expect((await latestScore("user-ada"))?.scoreGiven).toBe(5);
    expect((await fetch(`${lms}/test/up`, { method: "POST" })).ok).toBe(true);

    await expect.poll(async () => (await latestScore("user-ada"))?.scoreGiven, { timeout: 120_000, intervals: [2_000] }).toBe(7);
    expect((await lmsState()).refused_scores).toBeGreaterThan(0);
    await expect(async () => {
      await grace.reload();
      await hydrated(grace);
      await grace.getByText("LMS gradebook").click();
      await expect(row).toHaveAttribute("data-status", "sent", { timeout: 2_000 });
    }).toPass({ timeout: 30_000 });
  });

  test("forged, replayed and unknown launches are refused with a page that says why", async ({ browser }) => {
    const page = await freshPage(browser);
    await page.goto(`${lms}/launch?user=ada&link=link-1&forge=signature`);
    await expect(page.getByRole("heading", { name: "The launch did not work" })).toBeVisible();
    await expect(page.getByRole("alert")).toContainText("could not be trusted (its signature is wrong)");
    expect((await page.request.get(`${tool}/api/me`)).status()).toBe(401);

    await page.goto(`${lms}/launch?user=ada&link=link-1&forge=deployment`);
    await expect(page.getByRole("alert")).toContainText("deployment (deployment-unknown) is not registered");

    // A launch that went through, posted again: its state is used up.
    const fine = await freshPage(browser);
    await fine.goto(`${lms}/launch?user=linus&link=link-1`);
    await expect(fine).toHaveURL(`${tool}/labs/netns-veth`);
    const replay = await freshPage(browser);
    await replay.goto(`${lms}/test/replay`);
    await expect(replay.getByRole("alert")).toContainText("was used already");
    expect((await replay.request.get(`${tool}/api/me`)).status()).toBe(401);

    // An LMS nobody registered.
    await page.goto(`${tool}/lti/login?iss=https://lms.elsewhere.test&login_hint=x&target_link_uri=${tool}/lti/launch`);
    await expect(page.getByRole("alert")).toContainText("is not registered with Stacklab");
    await page.screenshot({ path: `${screenshots}/lti-refused.png` });
  });

  test("the administrator reads the tool's URLs and registers an LMS on the page", async ({ browser }) => {
    const page = await freshPage(browser);
    await page.goto(`${tool}/instructor/login?token=${instructorToken}`);
    await page.goto(`${tool}/instructor`);
    await hydrated(page);
    await page.getByText("LMS (LTI 1.3)").click();
    const settings = page.locator(".lti-settings");
    await expect(settings.locator(".tool-urls")).toContainText(`${tool}/lti/login`);
    await expect(settings.locator(".tool-urls")).toContainText(`${tool}/lti/jwks`);
    await expect(settings.locator("tbody tr", { hasText: "Test LMS" })).toContainText("from the registrations file");

    await settings.getByLabel("LMS name").fill("Canvas test");
    await settings.getByLabel("Issuer (platform id)").fill("https://canvas.test.instructure.com");
    await settings.getByLabel("Client id").fill("10000000000001");
    await settings.getByLabel("Authentication request URL").fill("https://sso.test.canvaslms.com/api/lti/authorize_redirect");
    await settings.getByLabel("Access token URL").fill("not a url");
    await settings.getByLabel("Public keyset URL").fill("https://sso.test.canvaslms.com/api/lti/security/jwks");
    await settings.getByLabel("Deployment ids").fill("7:abc, 8:def");
    await settings.getByRole("button", { name: "Register LMS" }).click();
    await expect(settings.getByRole("alert")).toContainText("token_url must be an http(s) URL");
    await settings.getByLabel("Access token URL").fill("https://sso.test.canvaslms.com/login/oauth2/token");
    await settings.getByRole("button", { name: "Register LMS" }).click();
    await expect(settings.getByRole("status")).toContainText("Canvas test is registered.");
    await expect(settings.locator("tbody tr", { hasText: "Canvas test" })).toContainText("7:abc, 8:def");
    await page.screenshot({ path: `${screenshots}/lti-settings.png` });
    await settings.getByRole("button", { name: "Remove Canvas test" }).click();
    await expect(settings.locator("tbody tr", { hasText: "Canvas test" })).toHaveCount(0);
  });
});
