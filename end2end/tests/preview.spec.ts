// Web previews in the browser: a learner's web app, started in their terminal, opens from the
// workbook's Ports menu in a tab of its own; its page cannot read Stacklab's session cookie or
// use Stacklab's API as the learner; another learner and a stranger are refused the same URL.
import { test, expect, hydrated, join, screenshots } from "./fixtures";

// The learner's app: its script says what it can see of Stacklab from the preview's origin.
const app = `<!doctype html><title>My app</title><h1>Hello from my sandbox</h1>
<p id="cookie"></p><p id="api"></p><p id="post"></p>
<script>
const main = "http://" + location.hostname + ":" + MAIN_PORT;
document.getElementById("cookie").textContent = "cookie=[" + document.cookie + "]";
fetch(main + "/api/me", { credentials: "include" })
  .then((r) => r.text())
  .then((t) => (document.getElementById("api").textContent = "api=read " + t), () => (document.getElementById("api").textContent = "api=blocked"));
fetch(main + "/api/logout", { method: "POST", credentials: "include", mode: "no-cors" })
  .then(() => (document.getElementById("post").textContent = "post=sent"), () => (document.getElementById("post").textContent = "post=failed"));
</script>`;

test("a learner's web app opens from the Ports menu, for them only", async ({ browser, page, baseURL }) => {
  const mainPort = new URL(baseURL!).port;
  await page.goto("/labs/netns-veth");
  await join(page, "Webb");
  await hydrated(page);
  const terminal = page.locator(".terminal-host:not([hidden])");
  await expect(terminal).toHaveAttribute("data-status", "live", { timeout: 20_000 });

  const html = Buffer.from(app.replace("MAIN_PORT", JSON.stringify(mainPort))).toString("base64");
  await terminal.locator(".xterm").click();
  await page.keyboard.type(
    `mkdir -p /tmp/site && echo ${html} | base64 -d > /tmp/site/index.html && (cd /tmp/site && setsid python3 -m http.server 8080 >/dev/null 2>&1 &)\n`,
  );

  // The Ports menu lists 8080 once the server listens (the list is read when the menu opens).
  const menu = page.locator(".ports-menu");
  await expect(async () => {
    if (await menu.getAttribute("open") !== null) await menu.locator("summary").click();
    await menu.locator("summary").click();
    await expect(menu.getByRole("link", { name: "Port 8080" })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  const [preview] = await Promise.all([page.context().waitForEvent("page"), menu.getByRole("link", { name: "Port 8080" }).click()]);
  await expect(preview.locator("h1")).toHaveText("Hello from my sandbox");
  const previewUrl = preview.url();
  expect(new URL(previewUrl).port, "a preview is an origin of its own").not.toBe(mainPort);

  // From the preview's origin: no Stacklab cookie to read, no answer from its API, and the
  // logout it tried to send did nothing.
  await expect(preview.locator("#cookie")).toHaveText("cookie=[]");
  await expect(preview.locator("#api")).toHaveText("api=blocked");
  await expect(preview.locator("#post")).not.toBeEmpty();
  const me = await page.request.get("/api/me");
  expect(me.status(), "the learner is still signed in").toBe(200);
  await preview.screenshot({ path: `${screenshots}/preview.png` });
  await preview.close();

  // Another learner, and a browser nobody signed in, get Stacklab's refusal instead.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto("/labs/netns-veth");
  await join(otherPage, "Nosy");
  await hydrated(otherPage);
  const refused = await otherPage.goto(previewUrl);
  expect(refused!.status()).toBe(403);
  await expect(otherPage.locator("body")).toContainText("belongs to another learner");
  await other.close();
  const stranger = await browser.newContext();
  const strangerPage = await stranger.newPage();
  const anonymous = await strangerPage.goto(previewUrl);
  expect(anonymous!.status()).toBe(401);

  // The learner shares it: the stranger opens the link and sees the app; once the learner
  // stops sharing, the stranger's next visit is refused.
  await menu.locator("summary").click();
  await menu.locator("summary").click();
  await menu.getByRole("listitem").filter({ hasText: "Port 8080" }).getByRole("button", { name: "Share" }).click();
  const shareLink = menu.getByRole("textbox", { name: "Share link for port 8080" });
  await expect(shareLink).toHaveValue(/\/share\/[A-Za-z0-9_-]+\/$/);
  const link = await shareLink.inputValue();
  expect(link).not.toContain("Webb");
  await strangerPage.goto(link);
  await expect(strangerPage.locator("h1")).toHaveText("Hello from my sandbox");
  await expect(strangerPage.locator("#cookie"), "the share's cookie is HttpOnly").toHaveText("cookie=[]");
  expect(new URL(strangerPage.url()).search, "the token leaves the address bar").toBe("");
  await menu.getByRole("button", { name: "Stop sharing" }).click();
  await expect(menu.getByRole("button", { name: "Share" })).toBeVisible();
  const ended = await strangerPage.reload();
  expect(ended!.status()).toBe(401);
  const deadLink = await strangerPage.goto(link);
  expect(deadLink!.status()).toBe(410);
  await stranger.close();
});
