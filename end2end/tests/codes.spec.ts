// One-time join codes: the instructor makes them on the dashboard; one joins a learner, and the
// same code is refused to the next person who types it.
import { test, expect, hydrated, screenshots } from "./fixtures";

test("a one-time code joins once and is refused the second time", async ({ browser }) => {
  const instructor = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await instructor.goto("/instructor/login?token=e2e-instructor-token-0001");
  await hydrated(instructor);
  const classes = await (await instructor.request.get("/api/instructor/classes")).json();
  await instructor.goto(`/instructor/classes/${classes[0].id}`);
  await hydrated(instructor);
  await instructor.getByText("One-time join codes").click();
  await instructor.getByLabel("Make").fill("2");
  await instructor.getByRole("button", { name: "Make codes" }).click();
  await expect(instructor.locator(".one-time-code")).toHaveCount(2);
  const code = (await instructor.locator(".one-time-code").first().textContent())!;
  await instructor.screenshot({ path: `${screenshots}/one-time-codes.png` });

  const first = await (await browser.newContext()).newPage();
  await first.goto("/join");
  await first.getByLabel("Class code").fill(code);
  await first.getByLabel("Your name").fill("Once Only");
  await first.getByRole("button", { name: "Join" }).click();
  await expect(first.locator(".viewer-name")).toHaveText("Once Only");

  const second = await (await browser.newContext()).newPage();
  await second.goto("/join");
  await second.getByLabel("Class code").fill(code);
  await second.getByLabel("Your name").fill("Second Try");
  await second.getByRole("button", { name: "Join" }).click();
  await expect(second.getByText("This one-time code was already used")).toBeVisible();

  // The dashboard says who used it.
  await instructor.getByText("One-time join codes").click();
  await instructor.getByText("One-time join codes").click();
  await expect(instructor.locator(".code-list li", { hasText: code })).toContainText("used by Once Only");
  for (const page of [instructor, first, second]) await page.context().close();
});
