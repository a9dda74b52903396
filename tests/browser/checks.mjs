// What every coursebridge page is checked for in the browser journeys, beyond what axe-core sees:
// reflow at 320 CSS px (WCAG 1.4.10: the document is never wider than its viewport) and a focus
// indicator of at least 3:1 against the page behind it (1.4.11) on links, buttons, fields,
// dropdowns and scrollable regions, and chart labels the chart does not cut off. A page in an LMS
// frame is measured at a frame width of 320.
import fs from "node:fs";

export const axeSource = fs.readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

export const REFLOW_WIDTH = 320;

// Runs axe-core (WCAG 2.1 A/AA), then the reflow and focus checks; each problem is pushed to
// `failures` with the page's label. Returns the number of pages checked (1).
export async function checkPage(frame, label, failures) {
  await frame.evaluate(axeSource);
  const result = await frame.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  for (const violation of result.violations) {
    failures.push(`${label}: ${violation.id} (${violation.impact}) ${violation.help} — ${violation.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }
  const reflow = await reflowAt320(frame);
  if (reflow) failures.push(`${label}: reflow at ${REFLOW_WIDTH} px — ${reflow}`);
  for (const problem of await focusIndicators(frame)) failures.push(`${label}: focus indicator — ${problem}`);
  for (const problem of await clippedChartText(frame)) failures.push(`${label}: chart label cut off — ${problem}`);
  return 1;
}

// The texts of an SVG chart that run past its drawing area (which the viewBox cuts off).
export async function clippedChartText(frame) {
  return frame.evaluate(() =>
    [...document.querySelectorAll("svg[viewBox] text")]
      .filter((text) => {
        const view = text.ownerSVGElement.viewBox.baseVal;
        const box = text.getBBox();
        const matrix = text.parentNode.transform?.baseVal?.consolidate()?.matrix;
        const left = box.x + (matrix ? matrix.e : 0);
        // A unit either way is a glyph's side bearing, not a cut.
        return left < view.x - 1 || left + box.width > view.x + view.width + 1;
      })
      .map((text) => {
        const box = text.getBBox();
        return `"${text.textContent}" (${box.x.toFixed(1)}–${(box.x + box.width).toFixed(1)} of ${text.ownerSVGElement.viewBox.baseVal.width})`;
      }),
  );
}

// Narrows the page's viewport until the frame's own viewport is 320 CSS px wide, measures how much
// wider than that the document is, and puts the viewport back. Null when the page reflows;
// otherwise the width needed and the elements that stick out furthest.
export async function reflowAt320(pageOrFrame) {
  const frame = pageOrFrame.mainFrame ? pageOrFrame.mainFrame() : pageOrFrame;
  const page = frame.page();
  const before = page.viewportSize() || { width: 1280, height: 720 };
  const frameWidth = await frame.evaluate(() => document.documentElement.clientWidth);
  const chrome = before.width - frameWidth;
  await page.setViewportSize({ width: REFLOW_WIDTH + chrome, height: before.height });
  try {
    return await frame.evaluate((width) => {
      const root = document.documentElement;
      if (root.scrollWidth - root.clientWidth <= 1) return null;
      // What sticks out, outside any region that scrolls on its own: boxes past the edge, and
      // text past its box (a long word in a heading).
      const contained = (element) => {
        for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
          if (["auto", "scroll", "hidden"].includes(getComputedStyle(node).overflowX)) return true;
        }
        return false;
      };
      const wide = [...document.body.querySelectorAll("*")]
        .filter((element) => !contained(element))
        .map((element) => {
          const box = element.getBoundingClientRect();
          const scrolls = ["auto", "scroll", "hidden"].includes(getComputedStyle(element).overflowX);
          return { element, right: scrolls ? box.right : Math.max(box.right, box.left + element.scrollWidth) };
        })
        .filter(({ right }) => right > root.clientWidth + 1)
        .sort((a, b) => b.right - a.right)
        .slice(0, 3)
        .map(({ element, right }) => `${element.tagName.toLowerCase()}${element.className ? "." + String(element.className).split(" ").join(".") : ""} (${Math.round(right)} px)`);
      const describe = (element) => `${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""}${element.className ? "." + String(element.className).split(" ").join(".") : ""}`;
      const sections = [...document.querySelectorAll("body *")]
        .filter((element) => element.scrollWidth > root.clientWidth + 1 && !contained(element))
        .slice(-3)
        .map((element) => `${describe(element)} scrolls ${element.scrollWidth}`);
      return `${root.scrollWidth} px needed at ${root.clientWidth} (${width}): ${[...wide, ...sections].join(", ")}`;
    }, REFLOW_WIDTH);
  } finally {
    await page.setViewportSize(before);
  }
}

// Focuses the first link, button, field, dropdown and scrollable region of the page and reads the
// indicator each shows: a solid outline of at least 2 px whose colour has 3:1 against the
// background behind it. The browser's own ring (`auto`) is not accepted: its colour is not ours
// to promise.
export async function focusIndicators(pageOrFrame) {
  const frame = pageOrFrame.mainFrame ? pageOrFrame.mainFrame() : pageOrFrame;
  let seen = await readIndicators(frame);
  if (seen.unfocused) {
    // A frame from another site that no one has clicked in yet may not take focus from a script:
    // a click on its heading (which does nothing) lets it.
    await frame.click("h1");
    seen = await readIndicators(frame);
  }
  return seen.problems;
}

async function readIndicators(frame) {
  return frame.evaluate(() => {
    const channel = (c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    const rgb = (color) => (color.match(/[\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const contrast = (a, b) => {
      const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    const behind = (element) => {
      for (let node = element.parentElement; node; node = node.parentElement) {
        const [r, g, b, a = 1] = rgb(getComputedStyle(node).backgroundColor);
        if (a > 0) return [r, g, b];
      }
      return [255, 255, 255];
    };
    const kinds = {
      link: "main a[href]",
      button: "main button",
      field: "main textarea, main input:not([type=hidden]):not([type=radio]):not([type=checkbox])",
      dropdown: "main select",
      region: "main [tabindex='0']",
    };
    const problems = [];
    let unfocused = false;
    const previous = document.activeElement;
    for (const [kind, selector] of Object.entries(kinds)) {
      const element = document.querySelector(selector);
      if (!element) continue;
      element.focus({ preventScroll: true });
      if (document.activeElement !== element) {
        unfocused = true;
        continue;
      }
      const style = getComputedStyle(element);
      const width = parseFloat(style.outlineWidth);
      const ratio = contrast(rgb(style.outlineColor), behind(element));
      if (style.outlineStyle !== "solid" || width < 2 || ratio < 3) {
        problems.push(`${kind} ${element.tagName.toLowerCase()}: outline ${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}, ${ratio.toFixed(2)}:1`);
      }
    }
    if (previous && previous.focus) previous.focus({ preventScroll: true });
    return { problems, unfocused };
  });
}
