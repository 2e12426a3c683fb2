// The Receivables view in the page: open it on a fixed day in a fixed time zone, read every
// row, move with j/k, open the remittance's thread with Enter and the dispute's with a click,
// try each filter. Prints what it observed as JSON; tests/browser.rs decides what is right.
// Usage: node ar.mjs BASE_URL TOKEN CLOCK TIMEZONE ENTER_INVOICE CLICK_INVOICE
import { chromium } from "playwright-core";

const [base, token, clock, timezoneId, enterInvoice, clickInvoice] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const observed = { dialogs: [], pageErrors: [], consoleErrors: [], foreignRequests: [], path: [] };

const rows = (page) => page.$$eval("#ar-list tbody tr.ar-row", (rs) => rs.map((r) => ({
  invoice: r.dataset.invoice,
  selected: r.classList.contains("selected"),
  cells: Array.from(r.children).map((c) => c.textContent),
})));
const selected = (page) => page.getAttribute("#ar-list tr.ar-row.selected", "data-invoice");
const thread = (page) => page.evaluate(() => ({
  visible: !document.getElementById("thread").hidden,
  messages: Array.from(document.querySelectorAll("#thread .msg[data-message]")).map((m) => m.dataset.message),
  categories: Array.from(document.querySelectorAll("#thread .msg .cat")).map((c) => c.textContent),
  subject: document.querySelector("#thread h2")?.textContent ?? null,
}));

try {
  const context = await browser.newContext({ timezoneId });
  const page = await context.newPage();
  // The person's clock: the page counts days overdue from their calendar day.
  await page.clock.setFixedTime(new Date(clock));
  page.on("dialog", (d) => { observed.dialogs.push(d.message()); d.dismiss(); });
  page.on("pageerror", (e) => observed.pageErrors.push(String(e)));
  // Chromium's own favicon request (the page has none) is not the page's error.
  page.on("console", (m) => {
    const url = m.location()?.url || "";
    if (m.type() === "error" && !url.endsWith("/favicon.ico")) observed.consoleErrors.push(`${m.text()} ${url}`);
  });
  page.on("request", (r) => {
    if (!r.url().startsWith(base)) observed.foreignRequests.push(r.url());
  });
  await page.goto(base + "/");
  await page.fill("#token", token);
  await page.click("#login-form button");
  await page.click("#ar-button");
  await page.waitForSelector("#ar-list tr.ar-row.selected", { timeout: 10000 });
  observed.count = await page.textContent("#ar-count");
  observed.filters = await page.$$eval(".ar-filter", (bs) => bs.map((b) => b.textContent));
  observed.rows = await rows(page);

  // Keys are for the page, not for the button that was clicked.
  await page.evaluate(() => document.activeElement?.blur());
  observed.path.push(await selected(page));
  for (const key of ["j", "j", "k"]) {
    await page.keyboard.press(key);
    observed.path.push(await selected(page));
  }
  // j/k to the invoice to open, then Enter.
  for (const key of ["j", "k"]) {
    for (let i = 0; i < 10 && (await selected(page)) !== enterInvoice; i++) {
      const before = await selected(page);
      await page.keyboard.press(key);
      if ((await selected(page)) === before) break;
    }
  }
  observed.enterSelected = await selected(page);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#thread .msg[data-message]", { timeout: 10000 });
  observed.enterThread = await thread(page);
  observed.arStillShown = await page.isVisible("#ar-list");

  await page.click(`#ar-list tr[data-invoice="${clickInvoice}"] .ar-event`);
  await page.waitForSelector("#thread .msg[data-message]", { timeout: 10000 });
  observed.clickThread = await thread(page);
  observed.clickSelected = await selected(page);

  observed.filtered = {};
  for (const f of ["disputed", "overdue", "promised", "paid", "open", "all"]) {
    await page.click(`.ar-filter[data-filter="${f}"]`);
    observed.filtered[f] = (await rows(page)).map((r) => r.invoice);
  }
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
