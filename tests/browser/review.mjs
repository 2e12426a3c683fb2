// The review queue in the page, keyboard first: open the queue, move with j/k to an item,
// press e and correct the least sure value, move to a bank-details item and press c.
// Prints what it observed as JSON; tests/browser.rs decides what is right.
// Usage: node review.mjs BASE_URL TOKEN CORRECT_SUBJECT NEW_VALUE CONFIRM_SUBJECT
import { chromium } from "playwright-core";

const [base, token, correctSubject, newValue, confirmSubject] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const observed = { dialogs: [], pageErrors: [], foreignRequests: [], visited: [] };

// Press j (or k) until the selected item's subject contains `subject`; note each stop.
async function moveTo(page, subject) {
  for (const key of ["j", "k"]) {
    for (let i = 0; i < 20; i++) {
      const current = await page.textContent(".review-item.selected .subject");
      observed.visited.push(current);
      if (current.includes(subject)) {
        await page.waitForSelector(`#review-detail h3:has-text("${subject}")`, { timeout: 10000 });
        return;
      }
      const before = current;
      await page.keyboard.press(key);
      await page.waitForFunction(
        (b) => document.querySelector(".review-item.selected .subject")?.textContent !== b,
        before, { timeout: 5000 }).catch(() => {});
      if ((await page.textContent(".review-item.selected .subject")) === before) break;
    }
  }
  throw new Error(`no review item "${subject}"`);
}

try {
  const page = await browser.newPage();
  page.on("dialog", (d) => { observed.dialogs.push(d.message()); d.dismiss(); });
  page.on("pageerror", (e) => observed.pageErrors.push(String(e)));
  page.on("request", (r) => {
    if (!r.url().startsWith(base)) observed.foreignRequests.push(r.url());
  });
  await page.goto(base + "/");
  await page.fill("#token", token);
  await page.click("#login-form button");
  await page.waitForFunction(() => document.getElementById("review-open").textContent !== "");
  observed.buttonCount = await page.textContent("#review-open");
  await page.click("#review-button");
  await page.waitForSelector(".review-item.selected");
  await page.waitForSelector("#review-detail .review-card");
  observed.counts = await page.textContent(".review-counts");
  observed.items = await page.$$eval(".review-item .subject", (s) => s.map((e) => e.textContent));
  // Keys are for the page, not for whatever had focus.
  await page.focus("body");

  await moveTo(page, correctSubject);
  observed.fieldRows = await page.$$eval(".review-fields tr", (rs) => rs.map((r) =>
    Array.from(r.children).map((c) => c.querySelector("input")?.value ?? c.textContent)));
  observed.marks = await page.$$eval(".review-text mark", (ms) => ms.map((m) => m.textContent));
  observed.waiting = await page.$$eval(".waiting", (ws) => ws.map((w) => w.textContent));
  await page.keyboard.press("e");
  observed.editing = await page.evaluate(() => document.activeElement?.name ?? null);
  await page.keyboard.type(newValue);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /corrected/.test(document.getElementById("review-status").textContent),
    null, { timeout: 10000 });
  observed.afterCorrect = await page.textContent("#review-status");
  observed.itemsAfterCorrect = await page.$$eval(".review-item .subject", (s) => s.map((e) => e.textContent));
  await page.focus("body");

  await moveTo(page, confirmSubject);
  observed.guardRows = await page.$$eval(".guard-compare tr", (rs) => rs.map((r) =>
    Array.from(r.children).map((c) => c.textContent)));
  observed.guardHeading = await page.textContent(".guard h4");
  await page.keyboard.press("c");
  await page.waitForFunction(() => /confirmed/.test(document.getElementById("review-status").textContent),
    null, { timeout: 10000 });
  observed.afterConfirm = await page.textContent("#review-status");
  observed.finalCounts = await page.textContent(".review-counts");
  observed.error = await page.textContent("#error");
  observed.planted = await page.evaluate(() => ({
    xssFlag: typeof window.__xss !== "undefined",
    scripts: Array.from(document.scripts).map((s) => s.src),
    handlers: Array.from(document.querySelectorAll("*")).flatMap((e) =>
      Array.from(e.attributes).filter((a) => a.name.startsWith("on")).map((a) => `${e.tagName}[${a.name}]`)),
    foreignElements: document.querySelectorAll("img, iframe, svg, object, embed, form[action], a[href^='javascript']").length,
  }));
} finally {
  await browser.close();
}
console.log(JSON.stringify(observed));
