// One browser session against a running `deskmail serve`: sign in, search, open threads.
// Prints what it observed as JSON; tests/browser.rs decides what is right.
// Usage: node page.mjs BASE_URL TOKEN QUERY
import { chromium } from "playwright-core";

const [base, token, query] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const observed = { dialogs: [], pageErrors: [], foreignRequests: [], threads: [] };
try {
  const page = await browser.newPage();
  page.on("dialog", (d) => { observed.dialogs.push(d.message()); d.dismiss(); });
  page.on("pageerror", (e) => observed.pageErrors.push(String(e)));
  page.on("request", (r) => {
    if (!r.url().startsWith(base)) observed.foreignRequests.push(r.url());
  });
  await page.goto(base + "/");
  observed.loginShown = await page.isVisible("#login");
  await page.fill("#token", token);
  await page.click("#login-form button");
  await page.fill("#q", query);
  await page.press("#q", "Enter");
  await page.waitForSelector(".hit, #error:not([hidden])", { timeout: 10000 });
  observed.count = await page.textContent(".count").catch(() => null);
  observed.error = await page.textContent("#error");
  const hits = await page.$$(".hit");
  observed.hits = [];
  for (const h of hits) {
    observed.hits.push({
      subject: await h.$eval(".subject", (e) => e.textContent),
      snippet: await h.$eval(".snippet", (e) => e.textContent),
      marks: await h.$$eval("mark", (ms) => ms.map((m) => m.textContent)),
    });
  }
  for (let i = 0; i < hits.length; i++) {
    await (await page.$$(".hit"))[i].click();
    await page.waitForSelector("#thread .msg", { timeout: 10000 });
    observed.threads.push({
      text: await page.textContent("#thread"),
      categories: await page.$$eval("#thread .cat", (cs) => cs.map((c) => c.textContent)),
      fieldRows: await page.$$eval("#thread .fields tr", (rs) => rs.map((r) => r.textContent)),
      einvoiceHeadings: await page.$$eval("#thread .einvoice h3", (hs) => hs.map((h) => h.textContent)),
      einvoiceLineRows: await page.$$eval("#thread .einvoice-lines tr",
        (rs) => rs.map((r) => Array.from(r.children).map((c) => c.textContent))),
      einvoiceTotals: await page.$$eval("#thread .einvoice-totals tr", (rs) => rs.map((r) => r.textContent)),
      // Each message's antivirus warning, in message order (null: none), and every link the
      // thread offers (an attachment of a quarantined message must have none).
      virusWarnings: await page.$$eval("#thread .msg",
        (ms) => ms.map((m) => m.querySelector(".virus-warning")?.textContent ?? null)),
      warningIsFirst: await page.$$eval("#thread .msg",
        (ms) => ms.map((m) => m.firstElementChild?.classList.contains("virus-warning") ?? false)),
      links: await page.$$eval("#thread a[href]", (as) => as.map((a) => a.getAttribute("href"))),
    });
  }
  await page.click("#invoices-button");
  await page.waitForSelector("#invoices table", { timeout: 10000 });
  observed.invoiceRows = await page.$$eval("#invoices tr", (rs) => rs.map((r) => r.textContent));
  // Anything a hostile message could have planted.
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
