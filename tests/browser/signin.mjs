// Sign-in without an LMS in Debian's Chromium, against the real OpenID Connect provider of
// tests/oidc: an invited participant (Swedish) signs in, opens the course, and signs out; a course
// leader (English) signs in, opens the run's page and the admin page for runs, where a form with
// mistakes puts focus on its error summary. axe-core checks every coursebridge page (WCAG 2.1
// A/AA); the signed-in home reflows at 320 px. Any violation fails.
//
// Usage: TOOL_URL=… JOIN_URL=… LEADER_JOIN_URL=… CHOICE_URL_SV=… CHOICE_URL_EN=… node signin.mjs
// (started by tests/api/browser.rs)
import { chromium } from "playwright-core";
import { checkPage } from "./checks.mjs";

const { TOOL_URL, JOIN_URL, LEADER_JOIN_URL, CHOICE_URL_SV, CHOICE_URL_EN } = process.env;
if (!TOOL_URL || !JOIN_URL || !LEADER_JOIN_URL) throw new Error("TOOL_URL, JOIN_URL and LEADER_JOIN_URL are required");

let stage = "start";
function step(name) {
  stage = name;
  console.log(name);
}
setTimeout(() => {
  console.error(`sign-in journey timed out during: ${stage}`);
  process.exit(1);
}, 120000).unref();

let checkedPages = 0;
const failures = [];

// axe-core, reflow at 320 px and focus indicators (checks.mjs).
async function axeCheck(page, label) {
  checkedPages += await checkPage(page, label, failures);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// Clicks the provider's button and logs in there as `account` (the test provider's login page is
// replaced by naming the account in the interaction URL); returns when the tool's home is shown.
async function signInAs(page, account) {
  await Promise.all([page.waitForURL(/\/interaction\//), page.click('[data-testid="providers"] a')]);
  const interaction = new URL(page.url());
  interaction.searchParams.set("as", account);
  await page.goto(interaction.toString());
  await page.waitForURL(/\/me$/);
}

async function participant(browser) {
  step("participant signs in by invitation (sv)");
  const context = await browser.newContext({ locale: "sv-SE" });
  const page = await context.newPage();
  await page.goto(JOIN_URL);
  expect((await page.textContent('[data-testid="invitation"]')).includes("Du är inbjuden"), "the invitation is shown");
  await axeCheck(page, "sv invitation");
  await signInAs(page, "nils");
  await axeCheck(page, "sv signed-in home");
  const cookies = await context.cookies(TOOL_URL);
  const session = cookies.find((c) => c.name === "cb_session");
  expect(session && session.httpOnly && session.sameSite === "Lax", "the session is an HttpOnly, SameSite=Lax cookie");
  expect(!page.url().includes("session="), "no session token in the URL");

  step("the course, first-party");
  await Promise.all([page.waitForURL(/\/course\?/), page.click('[data-testid="places"] a')]);
  await page.waitForSelector("h1");
  await axeCheck(page, "sv course overview, signed in");

  step("sign out");
  await page.goto(new URL("me", TOOL_URL).toString());
  await Promise.all([page.waitForURL(/\/signin$/, { timeout: 20000 }), page.click('button[type="submit"]')]);
  await axeCheck(page, "sv sign-in page after sign-out");
  const after = await page.goto(new URL("me", TOOL_URL).toString());
  expect(after.status() === 401, `after sign-out the home answers ${after.status()}`);
  await context.close();
}

// The question a participant of a regional LMS course answers once: axe in both languages, and
// after a submit without a choice, focus on the error summary that links to the first choice.
async function organisationChoice(browser) {
  for (const [lang, url] of [["sv", CHOICE_URL_SV], ["en", CHOICE_URL_EN]]) {
    step(`the organisation question (${lang})`);
    const context = await browser.newContext({ locale: lang === "sv" ? "sv-SE" : "en-GB" });
    const page = await context.newPage();
    await page.goto(url);
    await axeCheck(page, `${lang} organisation question`);
    await Promise.all([page.waitForNavigation(), page.click('form button[type="submit"]')]);
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute("data-testid"));
    expect(focused === "error-summary", `after a submit without a choice focus is on ${focused}`);
    await axeCheck(page, `${lang} organisation question with an error`);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    const target = await page.evaluate(() => location.hash);
    expect(target === "#organisation-0", `the error summary links to the first choice (${target})`);
    await context.close();
  }
}

async function leader(browser) {
  step("course leader signs in by invitation (en)");
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  await page.goto(new URL("signin", TOOL_URL).toString());
  await axeCheck(page, "en sign-in page");
  await page.goto(LEADER_JOIN_URL);
  await signInAs(page, "lena");
  await axeCheck(page, "en signed-in home");

  step("the run's page");
  await Promise.all([page.waitForURL(/\/leader\?/), page.click('a[href*="/leader?"]')]);
  await page.waitForSelector("h1");
  await axeCheck(page, "en course run page");

  step("the admin page for runs, a form with mistakes");
  await page.goto(new URL("admin/runs?session=", TOOL_URL).toString());
  await axeCheck(page, "en admin runs");
  await page.fill("#run-starts", "2027-09-01");
  await page.fill("#run-ends", "2027-08-01");
  await Promise.all([page.waitForNavigation(), page.click('form[action*="/admin/runs"] button[type="submit"]')]);
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute("data-testid"));
  expect(focused === "error-summary", `after a submit with mistakes focus is on ${focused}, not the error summary`);
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  expect(outline !== "none", "the focused error summary shows a focus indicator");
  await axeCheck(page, "en admin runs with mistakes");
  await context.close();
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  await participant(browser);
  await organisationChoice(browser);
  await leader(browser);
} finally {
  await browser.close();
}
console.log(`${checkedPages} pages checked, ${failures.length} violations`);
if (failures.length) {
  console.log(failures.join("\n"));
  process.exit(1);
}
console.log("0 violations");
