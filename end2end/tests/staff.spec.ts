// Staff accounts: the administrator makes one on the instructor's page; its owner signs in with
// the login and password, makes a class of their own (and so owns it), gives another account a
// role in it from the dashboard, and that account then sees the class but not the others'.
import { test, expect, hydrated } from "./fixtures";

test("a staff account signs in with its password, owns the class it makes, and gives another a role", async ({ browser, page }) => {
  const stamp = Date.now() % 1_000_000;
  const [ines, omar] = [`ines${stamp}`, `omar${stamp}`];
  const password = "a password long enough";
  // The administrator makes two accounts.
  await page.goto("/instructor/login?token=e2e-instructor-token-0001");
  await hydrated(page);
  await page.getByText("Staff accounts").click();
  for (const [name, login] of [["Inès", ines], ["Omar", omar]]) {
    await page.getByLabel("Staff member's name").fill(name);
    await page.getByLabel("Their login").fill(login);
    await page.getByLabel("Their password").fill(password);
    await page.getByRole("button", { name: "Make account" }).click();
    await expect(page.locator(".staff-accounts")).toContainText(`${name} can now sign in as ${login}.`);
  }

  // Inès signs in with her login, sees no class, makes one.
  const inesPage = await (await browser.newContext()).newPage();
  await inesPage.goto("/instructor");
  await inesPage.getByLabel("Login").fill(ines);
  await inesPage.getByLabel("Password").fill(password);
  await inesPage.getByRole("button", { name: "Sign in" }).click();
  await expect(inesPage).toHaveURL(/\/instructor$/);
  await hydrated(inesPage);
  await expect(inesPage.getByText("E2E class")).toHaveCount(0);
  await inesPage.getByText("New class").click();
  await inesPage.getByLabel("Name", { exact: true }).fill("Inès's class");
  await inesPage.getByRole("button", { name: "Create class" }).click();
  await expect(inesPage).toHaveURL(/\/instructor\/classes\/c\w+$/);
  const classId = inesPage.url().split("/").pop()!;

  // She owns it: the staff of the class are hers to set. Omar becomes its assistant.
  await inesPage.getByText("Staff of this class").click();
  await inesPage.getByLabel("Role of Omar").selectOption("assistant");
  await expect(inesPage.locator(".class-staff [role=status]")).toHaveText("Omar is now assistant of this class.");

  // Omar sees the class's dashboard, without the controls of those who run it.
  const omarPage = await (await browser.newContext()).newPage();
  await omarPage.goto("/instructor");
  await omarPage.getByLabel("Login").fill(omar);
  await omarPage.getByLabel("Password").fill(password);
  await omarPage.getByRole("button", { name: "Sign in" }).click();
  await expect(omarPage.getByText("Inès's class")).toBeVisible();
  await omarPage.goto(`/instructor/classes/${classId}`);
  await hydrated(omarPage);
  await expect(omarPage.locator(".class-facts")).toBeVisible();
  await expect(omarPage.getByText("Staff of this class")).toHaveCount(0);
  await expect(omarPage.getByText("One-time join codes")).toHaveCount(0);
  expect((await omarPage.request.get(`/api/instructor/classes/${classId}/grades.json`)).status()).toBe(403);

  // A wrong password gets nobody in.
  const wrong = await (await browser.newContext()).newPage();
  await wrong.goto("/instructor");
  await wrong.getByLabel("Login").fill(ines);
  await wrong.getByLabel("Password").fill("not her password at all");
  await wrong.getByRole("button", { name: "Sign in" }).click();
  await expect(wrong).toHaveURL(/error=wrong-password/);
  expect((await wrong.request.get("/api/instructor/classes")).status()).toBe(403);
});
