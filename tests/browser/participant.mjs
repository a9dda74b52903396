// The participant's journey in Debian's Chromium, with third-party cookies blocked: an LMS page on
// one site frames coursebridge on another (launches through the partitioned cookie, through platform
// storage, and by the new-window choice); the participant reads a module, types an answer, reloads
// and finds the draft, submits, sees "submitted", fills in the self-assessment. axe-core checks
// every coursebridge page (WCAG 2.1 A/AA rules) in Swedish and in English; any violation fails.
//
// Usage: LMS_URL=http://localhost:PORT/ node participant.mjs   (started by tests/api/browser.rs)
import { chromium } from "playwright-core";
import { axeSource, checkPage, clippedChartText, focusIndicators, reflowAt320 } from "./checks.mjs";

const LMS_URL = process.env.LMS_URL;
if (!LMS_URL) throw new Error("LMS_URL is required");

const TEXT = {
  sv: { draft: "Utkast", draftSaved: "Utkast sparat", submitted: "Inskickad", submit: "Skicka in", assessed: "Självskattningen är inskickad." },
  en: { draft: "Draft", draftSaved: "Draft saved", submitted: "Submitted", submit: "Submit", assessed: "The self-assessment is submitted." },
};

// Where the journey is, for the watchdog: a step that hangs (a page that never answers makes
// frame.evaluate wait forever) fails the journey with its name instead of stalling the suite.
let stage = "start";
function step(name) {
  stage = name;
  console.log(name);
}
setTimeout(() => {
  console.error(`browser journey timed out during: ${stage}`);
  process.exit(1);
}, 280000).unref();

let checkedPages = 0;
const failures = [];

// axe-core, reflow at 320 px and focus indicators (checks.mjs).
async function axeCheck(frame, label) {
  checkedPages += await checkPage(frame, label, failures);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// Where focus is after a page loaded from a submit, and whether that element is in the frame's view.
async function outcome(frame) {
  await frame.waitForFunction(() => document.readyState === "complete");
  return frame.evaluate(() => {
    const element = document.activeElement;
    const box = element.getBoundingClientRect();
    return {
      focused: element.getAttribute("data-testid"),
      inView: box.top > -2 && box.top < window.innerHeight && box.bottom > 0,
      top: Math.round(box.top),
      bottom: Math.round(box.bottom),
      viewport: window.innerHeight,
    };
  });
}

// Waits for a launched tool page and returns the frame that shows it; on failure says where the
// frame is and what it shows. A launch crosses sites twice inside the LMS's iframe (tool → platform
// → tool), so Chromium may move the frame to another renderer process; Playwright's handle of the
// frame taken before that can stay behind, showing the platform's URL, while the tool page has
// rendered in the frame's new incarnation. Every frame of the page is therefore asked, not only
// the handle.
async function landed(frame, selector = '[data-testid="role"]') {
  const page = frame.page();
  const isMain = frame === page.mainFrame();
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const candidates = isMain ? [frame] : [frame, ...page.frames().filter((f) => f !== page.mainFrame() && f !== frame)];
    for (const candidate of candidates) {
      const found = await Promise.race([
        candidate.$(selector).catch(() => null),
        new Promise((resolve) => setTimeout(() => resolve(null), 1000)),
      ]);
      if (found) {
        if (candidate !== frame) console.log(`(the tool page rendered in a new frame handle at ${candidate.url()})`);
        return candidate;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // The frame may be mid-navigation: its content is read with a bound, never waited on forever.
  const content = await Promise.race([
    frame.content().catch((e) => `(unreadable: ${e.message})`),
    new Promise((resolve) => setTimeout(() => resolve("(no content within 5 s)"), 5000)),
  ]);
  const others = page.frames().map((f) => f.url()).join(", ");
  throw new Error(`${selector} did not appear within 30 s\nframe at ${frame.url()} (page frames: ${others}):\n${String(content).slice(0, 3000)}`);
}

async function toolFrame(page) {
  const element = await page.waitForSelector("iframe", { timeout: 15000 });
  const frame = await element.contentFrame();
  expect(frame, "the LMS page has no tool frame");
  return frame;
}

async function journey(browser, lang, start) {
  step(`participant journey (${lang})`);
  const context = await browser.newContext({ locale: lang === "sv" ? "sv-SE" : "en-GB" });
  const page = await context.newPage();
  await start(page);
  const frame = await landed(await toolFrame(page));
  expect(new URL(frame.url()).hostname !== new URL(page.url()).hostname, "the tool must be framed from another site");

  // The browser really blocks third-party cookies: an unpartitioned cookie set inside the frame is
  // dropped, a partitioned one is kept (so the launch above used the partitioned login cookie).
  const cookies = await frame.evaluate(() => {
    document.cookie = "probe_plain=1; SameSite=None; Secure; path=/";
    document.cookie = "probe_partitioned=1; SameSite=None; Secure; Partitioned; path=/";
    return document.cookie;
  });
  expect(!cookies.includes("probe_plain=1"), `third-party cookies are not blocked (${cookies})`);

  expect((await frame.getAttribute("html", "lang")) === lang, `page language is not ${lang}`);
  await axeCheck(frame, `${lang} overview`);

  // Read the first module.
  await frame.click('a[href*="/course/m/ledarskap"]');
  await frame.waitForSelector("textarea#answer-vad-betyder-0");
  await axeCheck(frame, `${lang} module`);

  // "Så svarade andra kommuner" for the group task (closed until the group has submitted).
  const moduleUrl = frame.url();
  await frame.click('[data-testid="others-link-gemensam-mening"]');
  await frame.waitForSelector('[data-testid="others-closed"], [data-testid="others-none"]');
  await axeCheck(frame, `${lang} other municipalities' answers`);
  await frame.goto(moduleUrl);
  await frame.waitForSelector("textarea#answer-vad-betyder-0");

  // Type; the draft is saved while typing.
  const answer = lang === "sv" ? "Invånarna kan sköta sina ärenden när det passar dem." : "Residents can deal with the council whenever it suits them.";
  await frame.fill("textarea#answer-vad-betyder-0", answer);
  await frame.waitForFunction(
    (text) => document.querySelector("#task-vad-betyder .autosave-status")?.textContent.includes(text),
    TEXT[lang].draftSaved,
    { timeout: 10000 },
  );

  const draftStatus = await frame.textContent('[data-testid="task-status-vad-betyder"]');
  expect(draftStatus.includes(TEXT[lang].draftSaved) || draftStatus.includes(TEXT[lang].draft), `the status still says not started beside the saved draft: ${draftStatus}`);

  // Reload: the draft is there.
  await frame.goto(frame.url());
  await frame.waitForSelector("textarea#answer-vad-betyder-0");
  expect((await frame.inputValue("textarea#answer-vad-betyder-0")) === answer, "the draft is not back after a reload");

  // "Skicka in" asks first, since it cannot be undone: declined, nothing is sent.
  const asked = [];
  const answer_ = async (dialog, accept) => {
    asked.push(dialog.message());
    await (accept ? dialog.accept() : dialog.dismiss());
  };
  // (Had the declined one been sent, the task would be locked and have no button to click next.)
  page.once("dialog", (dialog) => answer_(dialog, false));
  await frame.click(`#task-vad-betyder button[value="submit"]`);

  // Submit, and see "submitted": the confirmation at the task has focus and is in view.
  page.on("dialog", (dialog) => answer_(dialog, true));
  await frame.click(`#task-vad-betyder button[value="submit"]`);
  await frame.waitForSelector('[data-testid="task-message-vad-betyder"]');
  expect(asked.length === 2 && asked[0].includes(lang === "sv" ? "ångra" : "undone"), `"Skicka in" did not ask first: ${JSON.stringify(asked)}`);
  const status = await frame.textContent('[data-testid="task-status-vad-betyder"]');
  expect(status.includes(TEXT[lang].submitted), `status after submit: ${status}`);
  const confirmed = await outcome(frame);
  expect(confirmed.focused === "task-message-vad-betyder" && confirmed.inView, `after a submit focus and view are not on the confirmation: ${JSON.stringify(confirmed)}`);
  await axeCheck(frame, `${lang} module after submit`);

  // A too-short answer: the error summary at the top has focus and view, and links to the field.
  await frame.fill("textarea#answer-vems-beslut-0", "IT");
  await frame.click(`#task-vems-beslut button[value="submit"]`);
  await frame.waitForSelector("#answer-vems-beslut-0-error");
  expect((await frame.getAttribute("textarea#answer-vems-beslut-0", "aria-invalid")) === "true", "error not tied to the field");
  const refused = await outcome(frame);
  expect(refused.focused === "error-summary" && refused.inView, `after a refused submit focus and view are not on the error summary: ${JSON.stringify(refused)}`);
  await frame.click('[data-testid="error-summary"] a[href="#answer-vems-beslut-0"]');
  await axeCheck(frame, `${lang} module with an error`);

  // The baseline self-assessment.
  await frame.goto(frame.url().replace(/\/course\/m\/[^?]+/, "/course/m/mobilisering").replace(/&notice=[^&#]*|&task=[^&#]*/g, ""));
  await frame.click('a[href*="/course/assessment/baseline"]');
  await frame.waitForSelector("select");
  await axeCheck(frame, `${lang} self-assessment form`);
  for (const select of await frame.$$("select")) {
    const name = await select.getAttribute("name");
    await select.selectOption(name.startsWith("current_") ? "mobilisering" : "acceleration");
  }
  await frame.click('button[value="submit"]');
  await frame.waitForSelector('[data-testid="result-table"]');
  expect((await frame.textContent('[data-testid="notice"]')).includes(TEXT[lang].assessed), "self-assessment not submitted");
  await axeCheck(frame, `${lang} self-assessment result`);

  // A page that does not exist: the error page is accessible too.
  const resultUrl = frame.url();
  await frame.goto(resultUrl.replace(/\/course\/assessment\/baseline/, "/course/m/finns-inte").replace(/&notice=[^&#]*/g, ""));
  await frame.waitForSelector('[data-testid="error-code"]', { state: "attached" });
  await axeCheck(frame, `${lang} not-found page`);
  await frame.goto(resultUrl);
  await frame.waitForSelector('[data-testid="result-table"]');

  // The accessibility statement, from the footer.
  await frame.click('footer a[href*="/accessibility"]');
  await frame.waitForSelector("#feedback-message");
  await axeCheck(frame, `${lang} accessibility statement`);

  // "Mina svar": the answers on one page, which prints without the navigation.
  await frame.goto(frame.url().replace(/\/accessibility\?/, "/course/my-answers?").replace(/&notice=[^&#]*/g, ""));
  await frame.waitForSelector('[data-testid="my-round-1"]');
  await axeCheck(frame, `${lang} my answers`);
  await page.emulateMedia({ media: "print" });
  const printed = await frame.evaluate(() => getComputedStyle(document.querySelector(".site-header")).display);
  await page.emulateMedia({ media: null });
  expect(printed === "none", `the printed answers show the header (${printed})`);

  // The organisation beside the course run.
  await frame.goto(frame.url().replace(/\/course\/my-answers\?/, "/course/comparison?"));
  await frame.waitForSelector("main h1");
  await axeCheck(frame, `${lang} comparison with the course run`);

  // Reflow at 320 CSS pixels: no horizontal scrolling on the overview.
  await page.setViewportSize({ width: 320, height: 640 });
  await frame.goto(frame.url().replace(/\/course\/comparison\?/, "/course?").replace(/&notice=[^&#]*/g, ""));
  await frame.waitForSelector('[data-testid="role"]');
  await axeCheck(frame, `${lang} overview at 320 px`);
  if (process.env.SCREENSHOT_DIR) {
    await page.setViewportSize({ width: 1000, height: 900 });
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/overview-${lang}.png` });
  }
  await context.close();
}

async function launched(browser, who, locale, user) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("dialog", (dialog) => dialog.accept()); // "Skicka in" asks first
  await page.goto(new URL(`lms/launch?as=${who}&locale=${locale}&user=${user}&course=review-loop`, LMS_URL).toString());
  const frame = await landed(await toolFrame(page));
  return { context, frame };
}

// The review loop: the instructor returns an answer with feedback, the participant revises, the
// instructor approves; axe-core on every instructor page in Swedish and English.
async function reviewLoop(browser) {
  step("review loop");
  const learner = await launched(browser, "participant", "sv-SE", "review-learner");
  await learner.frame.click('a[href*="/course/m/ledarskap"]');
  await learner.frame.fill("textarea#answer-vad-betyder-0", "Vi behöver börja i invånarnas behov.");
  await learner.frame.click('#task-vad-betyder button[value="submit"]');
  await learner.frame.waitForSelector('[data-testid="task-message-vad-betyder"]');
  const learnerModule = learner.frame.url().replace(/&notice=[^&#]*|&task=[^&#]*|#.*$/g, "");

  let submissionPath = null;
  for (const [locale, lang] of [["sv-SE", "sv"], ["en-GB", "en"]]) {
    const teacher = await launched(browser, "instructor", locale, `review-teacher-${lang}`);
    expect((await teacher.frame.getAttribute("html", "lang")) === lang, `instructor page language is not ${lang}`);
    await axeCheck(teacher.frame, `${lang} instructor dashboard`);
    const dashboardUrl = await teacher.frame.getAttribute('a[href*="/instructor/assessments"]', "href");
    await teacher.frame.goto(dashboardUrl);
    await teacher.frame.waitForSelector('[data-testid="suppressed-baseline"]');
    await axeCheck(teacher.frame, `${lang} self-assessment aggregates`);
    await teacher.frame.goto(dashboardUrl.replace("/instructor/assessments", "/course/comparison"));
    await teacher.frame.waitForSelector("main h1");
    await axeCheck(teacher.frame, `${lang} organisations compared`);
    await teacher.frame.goto(dashboardUrl.replace("/instructor/assessments", "/instructor"));
    await teacher.frame.waitForSelector('[data-testid="waiting-count"]');
    if (submissionPath) {
      // Reviewed already: open it by its address, with this instructor's session.
      const link = new URL(await teacher.frame.getAttribute('a[href*="session="]', "href"));
      const target = `${link.origin}${submissionPath}?session=${link.searchParams.get("session")}`;
      await teacher.frame.goto(target);
      const heading = await teacher.frame.textContent("h1");
      expect(heading && !heading.includes("fel") && !heading.includes("wrong"), `submission page for ${lang}: ${heading} at ${target}`);
    } else {
      await teacher.frame.click('a[href*="/instructor/submissions/"]');
      await teacher.frame.waitForSelector('[data-testid="submission-status"]');
      submissionPath = new URL(teacher.frame.url()).pathname;
    }
    await teacher.frame.waitForSelector('[data-testid="submission-status"]');
    await axeCheck(teacher.frame, `${lang} instructor submission`);
    if (lang === "sv") {
      await teacher.frame.fill("#feedback", "Ge ett exempel från din egen verksamhet.");
      await teacher.frame.click('button[value="return"]');
      await teacher.frame.waitForSelector('[data-testid="notice"]');
      await axeCheck(teacher.frame, "sv instructor dashboard after a decision");

      await learner.frame.goto(learnerModule);
      await learner.frame.waitForSelector(".feedback");
      expect((await learner.frame.textContent(".feedback")).includes("Ge ett exempel"), "feedback not shown to the participant");
      await learner.frame.fill("textarea#answer-vad-betyder-0", "Vi behöver börja i invånarnas behov, till exempel i hemtjänstens planering.");
      await learner.frame.click('#task-vad-betyder button[value="submit"]');
      await learner.frame.waitForSelector('[data-testid="task-message-vad-betyder"]');

      await teacher.frame.goto(teacher.frame.url());
      await teacher.frame.click('a[href*="/instructor/submissions/"]');
      await teacher.frame.waitForSelector('button[value="approve"]');
      await teacher.frame.click('button[value="approve"]');
      await teacher.frame.waitForSelector('[data-testid="notice"]');

      await learner.frame.goto(learnerModule);
      const status = await learner.frame.textContent('[data-testid="task-status-vad-betyder"]');
      expect(status.includes("Godkänd"), `participant status after approval: ${status}`);

      // A workshop occasion: the participant's overview then offers the workshop calendar.
      await teacher.frame.selectOption("#occasion-module", "ledarskap");
      await teacher.frame.fill("#occasion-date", "2030-03-15");
      await teacher.frame.fill("#occasion-time", "09:00");
      await teacher.frame.fill("#occasion-place", "Kommunhuset, sal 3");
      await Promise.all([
        teacher.frame.waitForNavigation(),
        teacher.frame.click('section[aria-labelledby="occasions-heading"] button[type="submit"]'),
      ]);
      await learner.frame.goto(learnerModule.replace(/\/course\/m\/ledarskap\?/, "/course?"));
      await learner.frame.waitForSelector('[data-testid="calendar-download"]');
      await axeCheck(learner.frame, "sv overview with the workshop calendar");
    }
    await teacher.context.close();
  }

  // The group shares its answer with the other municipalities; a course leader pins it for the
  // workshop; the participant's module page then shows it under the workshop's heading.
  step("shared group answers");
  await learner.frame.goto(learnerModule);
  await learner.frame.fill("textarea#answer-gemensam-mening-0", "Omställningen ger invånarna service på deras villkor.");
  await learner.frame.click('#task-gemensam-mening button[value="submit"]');
  await learner.frame.waitForSelector('[data-testid="exchange-gemensam-mening"] button[value="share"]');
  await learner.frame.click('[data-testid="exchange-gemensam-mening"] button[value="share"]');
  await learner.frame.waitForSelector('[data-testid="shared-gemensam-mening"]');
  const shared = await outcome(learner.frame);
  expect(shared.focused === "task-message-gemensam-mening" && shared.inView, `focus after sharing: ${JSON.stringify(shared)}`);
  await axeCheck(learner.frame, "sv module with a shared group answer");
  for (const [locale, lang] of [["en-GB", "en"], ["sv-SE", "sv"]]) {
    const leader = await launched(browser, "instructor", locale, `review-teacher-${lang}`);
    await leader.frame.click('[data-testid="shared-answers-link"]');
    await leader.frame.waitForSelector('button[data-testid^="pin-"]');
    await axeCheck(leader.frame, `${lang} shared answers for the course leader`);
    if (lang === "sv") {
      await leader.frame.click('button[data-testid^="pin-"]');
      await leader.frame.waitForSelector('[data-testid="notice"]');
      const pinned = await outcome(leader.frame);
      expect(pinned.focused === "notice" && pinned.inView, `focus after pinning: ${JSON.stringify(pinned)}`);
    }
    await leader.context.close();
  }
  await learner.frame.goto(learnerModule);
  await learner.frame.waitForSelector('[data-testid="pinned"]');
  await axeCheck(learner.frame, "sv module with a pinned answer");
  await learner.context.close();
}

// A network space across municipalities (seeded by tests/api/browser.rs: space-sv moderates it,
// space-en wrote a thread): the list, the space, a refused and a taken new thread with a file, a
// reply, the moderator's hiding and a member's report; axe-core on every page in both languages.
async function networkSpace(browser) {
  step("network spaces on the admin pages (en)");
  const admin = await launched(browser, "participant", "en-GB", "browser-admin");
  await admin.frame.click('[data-testid="admin-link"]');
  await admin.frame.waitForSelector('[data-testid="admin"]');
  await Promise.all([
    admin.frame.waitForURL((url) => url.pathname === "/admin/spaces"),
    admin.frame.click('nav a[href*="/admin/spaces?"]'),
  ]);
  await admin.frame.waitForSelector('[data-testid="admin-space"]');
  await axeCheck(admin.frame, "en /admin/spaces");
  await admin.frame.fill("#space-name", "Digitaliseringsstrateger");
  await Promise.all([admin.frame.waitForNavigation(), admin.frame.press("#space-name", "Enter")]);
  await admin.frame.waitForSelector('[data-testid="notice"]');
  const created = await outcome(admin.frame);
  expect(created.focused === "notice" && created.inView, `focus after creating a space: ${JSON.stringify(created)}`);
  await axeCheck(admin.frame, "en /admin/spaces after creating one");
  await admin.context.close();

  for (const [locale, lang] of [["sv-SE", "sv"], ["en-GB", "en"]]) {
    step(`network space (${lang})`);
    const member = await launched(browser, "participant", locale, `space-${lang}`);
    const frame = member.frame;
    await frame.click('[data-testid="spaces-link"]');
    await frame.waitForSelector('[data-testid="space"]');
    await axeCheck(frame, `${lang} network spaces`);
    await frame.click('[data-testid="space"] h2 a');
    await frame.waitForSelector('[data-testid="post-form"]');
    await axeCheck(frame, `${lang} network space`);

    // A thread without a title: the error summary has focus and links to the field.
    await frame.fill("#post-body", lang === "sv" ? "Hur ordnar ni nämndernas handlingar?" : "How do you handle the committees' papers?");
    await frame.click('[data-testid="post-submit"]');
    await frame.waitForSelector('[data-testid="error-summary"]');
    const refused = await outcome(frame);
    expect(refused.focused === "error-summary" && refused.inView, `after a refused post focus is not on the error summary: ${JSON.stringify(refused)}`);
    expect((await frame.getAttribute("#post-title", "aria-invalid")) === "true", "the post's error is not tied to the title");
    expect((await frame.inputValue("#post-body")).length > 0, "the refused post lost its text");
    await axeCheck(frame, `${lang} network space with an error`);

    // With a title and a file: the thread, with focus on the confirmation.
    await frame.fill("#post-title", lang === "sv" ? "Digitala nämndhandlingar" : "Digital committee papers");
    await frame.setInputFiles("#post-files", { name: `plan-${lang}.txt`, mimeType: "text/plain", buffer: Buffer.from("Plan för nämnderna\n") });
    await frame.click('[data-testid="post-submit"]');
    await frame.waitForSelector('a[href*="/spaces/files/"]');
    const posted = await outcome(frame);
    expect(posted.focused === "notice" && posted.inView, `focus after posting: ${JSON.stringify(posted)}`);
    await axeCheck(frame, `${lang} network thread`);
    await frame.fill("#post-body", lang === "sv" ? "Vi börjar med kommunstyrelsen." : "We start with the executive board.");
    await Promise.all([frame.waitForNavigation(), frame.click('[data-testid="post-submit"]')]);
    await frame.waitForSelector('[data-testid="notice"]');
    expect((await frame.textContent('[data-testid="notice"]')).length > 0, "no notice after the reply");
    await axeCheck(frame, `${lang} network thread with a reply`);

    // The other member's thread: the moderator (sv) hides it with a reason; the member (en) reports.
    await frame.click("nav a");
    await frame.waitForSelector('[data-testid="thread"]');
    const seeded = frame.locator('[data-testid="thread"] a', { hasText: lang === "sv" ? "E-arkiv" : "Informationsägare" });
    await seeded.click();
    await frame.waitForSelector('article[data-testid^="post-"]');
    if (lang === "sv") {
      await frame.click("details.moderation summary");
      await frame.fill('input[id^="hide-post-"]', "Hör hemma i ett annat nätverk");
      await frame.click('button[data-testid^="hide-post-"]');
      await frame.waitForSelector('[data-testid^="hidden-post-"]');
      const hidden = await outcome(frame);
      expect(hidden.focused === "notice" && hidden.inView, `focus after hiding: ${JSON.stringify(hidden)}`);
      await axeCheck(frame, "sv network thread, hidden by its moderator");
    } else {
      await frame.click("details.moderation summary");
      await frame.fill('input[id^="report-post-"]', "Off topic");
      await frame.click('button[data-testid^="report-post-"]');
      await frame.waitForSelector('[data-testid="notice"]');
      const reported = await outcome(frame);
      expect(reported.focused === "notice" && reported.inView, `focus after reporting: ${JSON.stringify(reported)}`);
      await axeCheck(frame, "en network thread after a report");
    }
    await member.context.close();
  }
}

// A browser that keeps no cookie at all for the framed tool (as Safari, which blocks even
// partitioned ones): the tool's login cookie is dropped whenever the login runs inside a frame.
async function withoutFramedCookies(context) {
  await context.route("**/lti/login**", async (route) => {
    let framed = false;
    try {
      framed = route.request().frame().parentFrame() !== null;
    } catch {
      framed = false; // a new window's first request comes before its frame exists: top level
    }
    // The request is sent again from here, and the browser's fetch metadata does not come along:
    // say what Chromium says, that this login runs in a frame (or a window).
    const sent = await route.request().allHeaders();
    sent["sec-fetch-dest"] = framed ? "iframe" : "document";
    const response = await route.fetch({ headers: sent });
    const headers = { ...response.headers() };
    if (framed) delete headers["set-cookie"];
    await route.fulfill({ response, headers });
  });
}

// Launches without a third-party cookie: through platform storage (postMessage to the LMS page),
// and, where the platform keeps nothing, by the new-window choice; the cookie path still works.
async function withoutCookies(browser) {
  step("launch through platform storage");
  const stored = await browser.newContext({ locale: "sv-SE" });
  await withoutFramedCookies(stored);
  const page = await stored.newPage();
  await page.goto(new URL("lms/launch?as=participant&locale=sv-SE&user=storage-learner&storage=1", LMS_URL).toString());
  await landed(await toolFrame(page));
  step("storage launch landed; counting reads");
  const reads = await page.evaluate(() => document.documentElement.dataset.ltiGetData);
  expect(reads === "1", `the launch did not read its proof from platform storage (${reads})`);
  step("closing the storage context");
  await stored.close();

  step("launch through storage found by lti.capabilities (no target named at login)");
  const asked = await browser.newContext({ locale: "sv-SE" });
  await withoutFramedCookies(asked);
  const askedPage = await asked.newPage();
  await askedPage.goto(new URL("lms/launch?as=participant&locale=sv-SE&user=capabilities-learner&storage=capabilities", LMS_URL).toString());
  await landed(await toolFrame(askedPage));
  const askedReads = await askedPage.evaluate(() => document.documentElement.dataset.ltiGetData);
  expect(askedReads === "1", `the launch did not find storage through lti.capabilities (${askedReads})`);
  await asked.close();

  step("launch with neither cookie nor storage: the new window");
  const neither = await browser.newContext({ locale: "sv-SE" });
  await withoutFramedCookies(neither);
  const lms = await neither.newPage();
  await lms.goto(new URL("lms/launch?as=participant&locale=sv-SE&user=window-learner&storage=0", LMS_URL).toString());
  const offer = await landed(await toolFrame(lms), '[data-testid="new-window"] a');
  step("new-window choice shown; axe");
  await axeCheck(offer, "sv new-window choice");
  step("opening the new window");
  const [popup] = await Promise.all([neither.waitForEvent("page"), offer.click('[data-testid="new-window"] a')]);
  await landed(popup.mainFrame());
  expect(popup.url().includes("/course"), `the new window did not open the course: ${popup.url()}`);
  step("closing the new-window context");
  await neither.close();

  step("launch through the cookie alone");
  const cookieOnly = await browser.newContext({ locale: "sv-SE" });
  const plain = await cookieOnly.newPage();
  await plain.goto(new URL("lms/launch?as=participant&locale=sv-SE&user=cookie-learner&storage=0", LMS_URL).toString());
  await landed(await toolFrame(plain));
  await cookieOnly.close();
}

// The instructor's content picker (deep linking) in both languages; the choice goes back to the
// LMS, which verifies the signed response.
async function deepLinking(browser) {
  for (const [locale, lang] of [["sv-SE", "sv"], ["en-GB", "en"]]) {
    step(`deep linking picker (${lang})`);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(new URL(`lms/launch?as=content&locale=${locale}`, LMS_URL).toString());
    const frame = await landed(await toolFrame(page), '[data-testid="deep-linking-form"]');
    expect((await frame.getAttribute("html", "lang")) === lang, `picker language is not ${lang}`);
    await axeCheck(frame, `${lang} deep linking picker`);
    await frame.check("#item-1");
    await frame.check("#item-2");
    await frame.click('[data-testid="deep-linking-form"] button[type="submit"]');
    // The choice goes back to the LMS: another cross-site navigation of the frame.
    await landed(frame, "text=2 objekt tillagda");
    await context.close();
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--test-third-party-cookie-phaseout",
    // The LMS and the tool both run on this machine (localhost and 127.0.0.1); Chromium's Local
    // Network Access checks would treat a script-started navigation between them as a public page
    // reaching into a private network, which real LMSes and tools on the internet are not.
    // Frames stay in their page's renderer process (no site-per-process): a launch moves the LMS's
    // iframe tool → platform → tool, and with out-of-process frames Playwright now and then lost
    // the frame's new process — the server log showed the tool page served in full while
    // Playwright still saw the frame at the platform's /auth, with no other frame on the page.
    // Cookie blocking and partitioning are keyed by the top-level site, not by process, so what
    // the journey checks is the same.
    "--disable-site-isolation-trials",
    "--disable-features=LocalNetworkAccessChecks,IsolateOrigins,site-per-process",
  ],
});
try {
  // axe really reports: a page with an unlabelled field and an image without text must fail.
  const probe = await browser.newPage();
  await probe.setContent('<!DOCTYPE html><html lang="sv"><head><title>probe</title></head><body><main><img src="x.png"><input type="text"></main></body></html>');
  await probe.evaluate(axeSource);
  const probed = await probe.evaluate(() => window.axe.run(document));
  expect(probed.violations.length >= 2, "axe-core did not report a known violation");
  // So do the reflow and focus checks: a 600 px wide block, and the pale ring of old (1.64:1).
  await probe.setContent('<!DOCTYPE html><html lang="sv"><head><title>probe</title><style>a:focus{outline:3px solid #ffbf47}</style></head><body><main><div style="width:600px">bred</div><a href="#x">länk</a><select><option>a</option></select><svg viewBox="0 0 100 20"><text x="60" y="12" font-size="11">Mål: Acceleration</text></svg></main></body></html>');
  const tooWide = await reflowAt320(probe.mainFrame());
  expect(tooWide && tooWide.includes("div"), `the reflow check did not see a 600 px block (${tooWide})`);
  const cut = await clippedChartText(probe.mainFrame());
  expect(cut.length === 1, `the chart check did not see a label past the chart's edge (${cut})`);
  const pale = await focusIndicators(probe.mainFrame());
  expect(pale.length === 2 && pale[0].startsWith("link") && pale[1].startsWith("dropdown"), `the focus check did not see the pale ring and the browser's own (${pale})`);
  await probe.close();

  await journey(browser, "sv", async (page) => {
    await page.goto(LMS_URL);
    await page.click("text=Starta som deltagare");
  });
  await journey(browser, "en", async (page) => {
    await page.goto(new URL("lms/launch?as=participant&locale=en-GB&user=browser-en", LMS_URL).toString());
  });
  await reviewLoop(browser);
  await withoutCookies(browser);
  await deepLinking(browser);
  await networkSpace(browser);
  // The opt-out page a mail links to: a tab of its own, no session, the browser's language; its one
  // button stops the mail and focus lands on the confirmation.
  const optOutUrls = process.env.OPT_OUT_URLS.split(" ");
  for (const [locale, lang, url] of [["en-GB", "en", optOutUrls[0]], ["sv-SE", "sv", optOutUrls[1]]]) {
    step(`mail opt-out (${lang})`);
    const context = await browser.newContext({ locale });
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('[data-testid="opt-out-button"]');
    expect((await page.getAttribute("html", "lang")) === lang, `opt-out page language is not ${lang}`);
    await axeCheck(page.mainFrame(), `${lang} mail opt-out`);
    await page.click('[data-testid="opt-out-button"]');
    await page.waitForSelector('[data-testid="opt-out-done"]');
    const after = await outcome(page.mainFrame());
    expect(after.focused === "opt-out-done" && after.inView, `focus after opting out: ${JSON.stringify(after)}`);
    await axeCheck(page.mainFrame(), `${lang} mail opted out`);
    await context.close();
  }
  for (const [locale, lang] of [["sv-SE", "sv"], ["en-GB", "en"]]) {
    step(`organisation overview (${lang})`);
    const contact = await launched(browser, "participant", locale, "browser-contact");
    await contact.frame.click('a[href*="/organisation?session="]');
    await contact.frame.waitForSelector('[data-testid="organisation"]');
    await axeCheck(contact.frame, `${lang} organisation overview`);
    await contact.context.close();
  }
  for (const [locale, lang, who] of [["sv-SE", "sv", "browser-admin"], ["en-GB", "en", "browser-orgadmin"]]) {
    step(`admin pages (${lang}, ${who})`);
    const admin = await launched(browser, "participant", locale, who);
    await admin.frame.click('[data-testid="admin-link"]');
    await admin.frame.waitForSelector('[data-testid="admin"]');
    await axeCheck(admin.frame, `${lang} admin home`);
    // An organisation's settings: a new webhook URL gets its signing secret shown once. (Loopback
    // and a closed port: events of this run go nowhere.)
    const form = '[data-testid="organisation-form"]';
    await admin.frame.fill(`${form} input[name="webhook_url"]`, `http://127.0.0.1:9/${lang}-hook`);
    await Promise.all([
      admin.frame.waitForSelector('[data-testid="admin-secret"]'),
      admin.frame.click(`${form} button[type="submit"]`),
    ]);
    await axeCheck(admin.frame, `${lang} admin webhook secret`);
    const pages = ["/admin/completions", "/admin/deliveries", "/admin/audit"];
    if (who === "browser-admin") pages.push("/admin/spaces");
    for (const path of pages) {
      // Wait for the new page itself: the old one has an h1 too.
      await Promise.all([
        admin.frame.waitForURL((url) => url.pathname === path),
        admin.frame.click(`nav a[href*="${path}?"]`),
      ]);
      await admin.frame.waitForSelector("main h1");
      await axeCheck(admin.frame, `${lang} ${path}`);
    }
    await admin.context.close();
  }
} catch (error) {
  console.error(`browser journey failed: ${error.stack || error}`);
  await browser.close();
  process.exit(1);
}
await browser.close();
if (failures.length) {
  console.error(`axe-core found ${failures.length} violation(s) on ${checkedPages} pages:\n${failures.join("\n")}`);
  process.exit(1);
}
console.log(`browser journey passed: ${checkedPages} pages checked with axe-core, 0 violations`);
