// deskmail's page. Every string from mail is hostile: it is only ever put into the page as
// text (textContent / createTextNode), never as HTML, and the CSP forbids inline script.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "deskmail-token";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function api(path, send) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const init = { headers: { Authorization: "Bearer " + token } };
  if (send !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(send);
  }
  const res = await fetch(path, init);
  if (res.status === 401) {
    signOut();
    throw new Error("Your token was refused; sign in again.");
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(body.error || res.status + " " + res.statusText);
    err.status = res.status;
    throw err;
  }
  return body;
}

// An outbox state as a person reads it.
function replyState(state) {
  return state === "review" ? "waiting for review" : state;
}

// Highlights are UTF-8 byte ranges: slice the bytes, then decode each piece.
function highlighted(snippet, ranges) {
  const bytes = new TextEncoder().encode(snippet);
  const dec = new TextDecoder();
  const out = el("div", { class: "snippet" });
  let last = 0;
  for (const [s, e] of ranges || []) {
    if (s < last || e > bytes.length) continue;
    out.append(dec.decode(bytes.slice(last, s)));
    out.append(el("mark", {}, dec.decode(bytes.slice(s, e))));
    last = e;
  }
  out.append(dec.decode(bytes.slice(last)));
  return out;
}

async function search(q) {
  showError("");
  $("thread").hidden = true;
  $("invoices").hidden = true;
  $("review").hidden = true;
  $("ar").hidden = true;
  const results = $("results");
  results.replaceChildren(el("p", { class: "count" }, "Searching…"));
  try {
    const r = await api("/api/search?limit=50&q=" + encodeURIComponent(q));
    const more = r.more_threads ? "more than " : "";
    const list = [el("p", { class: "count" }, `${more}${r.total_threads} threads, ${r.total_messages} messages`)];
    for (const t of r.threads) {
      const hit = el("article", { class: "hit", tabindex: "0", "data-thread": t.thread_id },
        el("div", { class: "subject" }, t.subject || "(no subject)"),
        el("div", { class: "meta" },
          el("span", { class: "cat" }, t.category), " ",
          `${t.message_count} message${t.message_count === 1 ? "" : "s"} · ${(t.last_date || "").slice(0, 10)}`),
        highlighted(t.snippet, t.highlights));
      hit.addEventListener("click", () => openThread(t.thread_id));
      hit.addEventListener("keydown", (ev) => { if (ev.key === "Enter") openThread(t.thread_id); });
      list.push(hit);
    }
    results.replaceChildren(...list);
  } catch (e) {
    results.replaceChildren();
    showError(e.message);
  }
}

function address(a) {
  if (!a) return "";
  return a.name ? `${a.name} <${a.email}>` : a.email || "";
}

async function openThread(id) {
  showError("");
  $("invoices").hidden = true;
  const pane = $("thread");
  pane.hidden = false;
  pane.replaceChildren(el("p", {}, "Loading…"));
  try {
    const t = await api("/api/threads/" + encodeURIComponent(id));
    const parts = [el("h2", {}, t.subject || "(no subject)")];
    for (const m of t.messages) {
      const full = await api("/api/messages/" + encodeURIComponent(m.id));
      parts.push(renderMessage(full));
    }
    for (const r of t.replies || []) {
      parts.push(el("article", { class: "msg reply", "data-reply": r.id },
        el("div", { class: "meta" }, `deskmail reply · ${replyState(r.state)} · to ${r.to} · ${(r.updated_at || "").replace("T", " ").slice(0, 16)}`),
        el("div", { class: "subject" }, r.subject),
        r.last_error ? el("div", { class: "why" }, r.last_error) : null,
        el("pre", { class: "body" }, r.body_text || "")));
    }
    pane.replaceChildren(...parts);
  } catch (e) {
    pane.replaceChildren();
    showError(e.message);
  }
}

function renderMessage(full) {
  const m = full.message, d = full.decision;
  const fields = el("table", { class: "fields" },
    el("tr", {}, el("th", {}, "field"), el("th", {}, "value"), el("th", {}, "from"), el("th", {}, "rule")));
  for (const [name, f] of Object.entries(d.fields || {})) {
    fields.append(el("tr", {},
      el("td", {}, name),
      el("td", {}, String((full.fields || {})[name] ?? "")),
      el("td", {}, `${f.provenance.source}: “${f.provenance.matched}”`),
      el("td", {}, f.provenance.rule)));
  }
  const rules = el("ul", { class: "why" });
  for (const r of d.matched_rules || []) {
    rules.append(el("li", {}, `${r.rule} (${r.file}): ${(r.why || []).join("; ")}`));
  }
  const einvoice = d.einvoice ? renderEInvoice(d.einvoice) : null;
  const einvoiceErrors = (d.einvoice_errors || []).length
    ? el("ul", { class: "why" }, ...d.einvoice_errors.map((e) => el("li", {}, `no e-invoice read: ${e}`)))
    : null;
  const attachments = el("ul", { class: "attachments" });
  for (const a of m.attachments || []) {
    attachments.append(el("li", {}, `${a.name || "(unnamed)"} — ${a.content_type}, ${a.size} bytes`));
  }
  // Quarantined by the antivirus scan: said first and loudly; the API refuses its attachments.
  const virus = d.virus
    ? el("div", { class: "virus-warning", role: "alert" },
      `Quarantined: the antivirus scan found ${d.virus}. Do not open or forward its attachments; they are not served.`)
    : null;
  return el("article", { class: "msg", "data-message": m.id },
    virus,
    el("div", { class: "meta" }, `${(m.date || "").replace("T", " ").slice(0, 16)} · ${address(m.from)}`),
    el("div", { class: "subject" }, m.subject || "(no subject)"),
    el("div", {}, el("span", { class: "cat" }, d.category),
      ...(d.flags || []).map((f) => el("span", { class: "cat flag" }, f))),
    Object.keys(d.fields || {}).length ? fields : null,
    einvoice,
    einvoiceErrors,
    rules,
    (m.attachments || []).length ? attachments : null,
    el("pre", { class: "body" }, m.body_text || ""));
}

const SYNTAX = { ubl: "UBL", cii: "CII", zugferd1: "ZUGFeRD 1.0 CII" };

// A structured e-invoice as an agent reads it: format, parties, line items, VAT, totals.
function renderEInvoice(e) {
  const text = (v) => (v === null || v === undefined ? "—" : String(v));
  const pct = (v) => (v === null || v === undefined ? "—" : `${Number(v)} %`);
  const cur = e.currency || "";
  const party = (label, p) => el("div", { class: "party" },
    el("strong", {}, label + ": "), p.name || p.trading_name || "—",
    p.vat_id ? ` · VAT ID ${p.vat_id}` : "",
    (p.address || []).length ? el("div", { class: "why" }, p.address.join(", ")) : null);
  const lines = el("table", { class: "einvoice-lines" },
    el("tr", {}, ...["#", "description", "quantity", "unit price", "net", "VAT"].map((h) => el("th", {}, h))));
  (e.lines || []).forEach((l, i) => lines.append(el("tr", {},
    el("td", {}, text(l.id ?? i + 1)), el("td", {}, l.description),
    el("td", {}, `${text(l.quantity)} ${l.unit || ""}`.trim()), el("td", {}, text(l.unit_price)),
    el("td", {}, text(l.net_amount)), el("td", {}, pct(l.vat_rate)))));
  const vat = el("table", { class: "einvoice-vat" },
    el("tr", {}, ...["VAT category", "rate", "taxable", "tax"].map((h) => el("th", {}, h))));
  for (const v of e.vat || []) {
    vat.append(el("tr", {}, el("td", {}, text(v.category)), el("td", {}, pct(v.rate)),
      el("td", {}, text(v.taxable)), el("td", {}, text(v.tax))));
  }
  const t = e.totals || {};
  const totals = el("table", { class: "einvoice-totals" });
  for (const [label, value] of [["Sum of lines", t.line_total], ["Allowances", t.allowances],
    ["Charges", t.charges], ["Total without VAT", t.net], ["VAT", t.tax],
    ["Total with VAT", t.total], ["Paid", t.prepaid], ["Rounding", t.rounding], ["Amount due", t.due]]) {
    if (value !== null && value !== undefined) {
      totals.append(el("tr", {}, el("th", {}, label), el("td", {}, `${value} ${cur}`)));
    }
  }
  const problems = [...(e.arithmetic || []), ...(e.visual_mismatch || [])];
  return el("section", { class: "einvoice" },
    el("h3", {}, `E-invoice · ${e.kind === "credit_note" ? "credit note" : "invoice"} ${text(e.number)} · ${e.profile} (${SYNTAX[e.syntax] || e.syntax})`),
    el("div", { class: "why" }, `${e.source} · issued ${text(e.issue_date)} · due ${text(e.due_date)} · ${cur}`),
    party("Seller", e.seller || {}), party("Buyer", e.buyer || {}),
    e.iban ? el("div", {}, `IBAN ${e.iban}${e.bic ? " · BIC " + e.bic : ""}`) : null,
    (e.lines || []).length ? lines : el("div", { class: "why" }, "no line items in this profile"),
    (e.vat || []).length ? vat : null,
    totals,
    problems.length ? el("ul", { class: "einvoice-problems" }, ...problems.map((p) => el("li", {}, p))) : null);
}

async function showInvoices() {
  showError("");
  $("thread").hidden = true;
  $("review").hidden = true;
  $("ar").hidden = true;
  const pane = $("invoices");
  pane.hidden = false;
  try {
    const r = await api("/api/invoices");
    const table = el("table", { class: "invoice-list" },
      el("tr", {}, ...["vendor", "invoice", "amount", "due", "messages"].map((h) => el("th", {}, h))));
    for (const i of r.invoices) {
      table.append(el("tr", {},
        el("td", {}, i.vendor),
        el("td", {}, i.invoice_number),
        el("td", {}, [i.amount, i.currency].filter(Boolean).join(" ")),
        el("td", {}, i.due_date || ""),
        el("td", {}, String(i.messages.length))));
    }
    pane.replaceChildren(el("h2", {}, `Invoices (${r.invoices.length})`), table);
  } catch (e) {
    pane.replaceChildren();
    showError(e.message);
  }
}


// ---- The review queue: what a person must look at, one message at a time, keyboard first.

const review = { items: [], selected: 0, current: null };

async function refreshReviewCount() {
  try {
    const q = await api("/api/review");
    $("review-open").textContent = q.open ? `(${q.open})` : "";
  } catch (e) {
    $("review-open").textContent = "";
  }
}

function reviewStatus(message) {
  $("review-status").textContent = message;
}

async function showReview(keepId) {
  showError("");
  $("thread").hidden = true;
  $("invoices").hidden = true;
  $("ar").hidden = true;
  $("results").replaceChildren();
  $("review").hidden = false;
  try {
    const q = await api("/api/review");
    review.items = q.items || [];
    $("review-open").textContent = q.open ? `(${q.open})` : "";
    const counts = Object.entries(q.by_reason || {}).map(([reason, n]) =>
      el("span", { class: "cat flag", "data-reason": reason }, `${reason} ${n}`));
    $("review").querySelector(".review-counts").replaceChildren(
      el("strong", {}, `${q.open} open`), " ", ...counts);
    const list = $("review-list");
    list.replaceChildren(...review.items.map((i, n) => {
      const li = el("li", { class: "review-item", tabindex: "-1", "data-id": i.message_id },
        el("div", { class: "subject" }, i.subject || "(no subject)"),
        el("div", { class: "meta" }, `${i.from} · ${i.category}`),
        el("div", { class: "why" }, i.reasons.map(reasonCode).join(", ")));
      li.addEventListener("click", () => selectReview(n));
      return li;
    }));
    if (!review.items.length) {
      $("review-detail").replaceChildren(el("p", {}, "Nothing waits for review."));
      return;
    }
    const keep = keepId ? review.items.findIndex((i) => i.message_id === keepId) : -1;
    await selectReview(keep >= 0 ? keep : Math.min(review.selected, review.items.length - 1));
  } catch (e) {
    showError(e.message);
  }
}

function reasonCode(reason) {
  return reason.split(":")[0];
}

async function selectReview(n) {
  review.selected = n;
  const items = $("review-list").children;
  for (let i = 0; i < items.length; i++) items[i].classList.toggle("selected", i === n);
  if (items[n]) items[n].scrollIntoView({ block: "nearest" });
  const id = review.items[n].message_id;
  try {
    const r = await api("/api/review/" + encodeURIComponent(id));
    if (review.items[review.selected]?.message_id !== id) return; // moved on meanwhile
    review.current = r;
    $("review-detail").replaceChildren(renderReview(r));
  } catch (e) {
    showError(e.message);
  }
}

// The text a value came from, with every extracted value's words marked.
function markedText(text, needles) {
  const out = el("pre", { class: "body review-text" });
  const found = [];
  for (const n of needles) {
    if (!n || n.length < 2) continue;
    const at = text.indexOf(n);
    if (at >= 0) found.push([at, at + n.length]);
  }
  found.sort((a, b) => a[0] - b[0]);
  let last = 0;
  for (const [s, e] of found) {
    if (s < last) continue;
    out.append(text.slice(last, s), el("mark", {}, text.slice(s, e)));
    last = e;
  }
  out.append(text.slice(last));
  return out;
}

function renderReview(r) {
  const item = r.item;
  const reasons = el("ul", { class: "review-reasons" }, ...item.reasons.map((x) => el("li", {}, x)));
  // Lowest confidence first: that is where the eye (and "e") should go.
  const fields = Object.entries(r.fields || {}).sort((a, b) => a[1].confidence - b[1].confidence);
  const form = el("form", { id: "correct-form", autocomplete: "off" });
  const table = el("table", { class: "review-fields" },
    el("tr", {}, ...["field", "value", "sure", "from", "why not sure"].map((h) => el("th", {}, h))));
  for (const [name, f] of fields) {
    const input = el("input", { name, value: f.value, "data-original": f.value, "aria-label": name });
    table.append(el("tr", { class: f.doubt ? "doubtful" : "" },
      el("td", {}, name), el("td", {}, input), el("td", {}, `${f.confidence}%`),
      el("td", {}, `${f.source}: “${f.matched}”`), el("td", { class: "why" }, f.doubt || "")));
  }
  form.append(table,
    el("div", { class: "review-actions" },
      el("button", { type: "submit", id: "save-button" }, "Save corrections"),
      el("button", { type: "button", id: "confirm-button" }, "Confirm (c)"),
      el("button", { type: "button", id: "reject-button" }, "Reject")));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); saveCorrections(); });
  form.querySelector("#confirm-button").addEventListener("click", () => decide("confirm", {}));
  form.querySelector("#reject-button").addEventListener("click", () => decide("reject", {}));
  const parts = [
    el("h3", {}, item.subject || "(no subject)"),
    el("div", { class: "meta" }, `${item.from} · ${r.category} · ${item.state} · version ${item.version}`),
    reasons,
  ];
  if (r.guard) parts.push(renderGuard(r.guard));
  parts.push(fields.length ? form : el("p", { class: "why" }, "No values were extracted."));
  if (!fields.length) {
    const actions = el("div", { class: "review-actions" },
      el("button", { type: "button", id: "confirm-button" }, "Confirm (c)"),
      el("button", { type: "button", id: "reject-button" }, "Reject"));
    actions.querySelector("#confirm-button").addEventListener("click", () => decide("confirm", {}));
    actions.querySelector("#reject-button").addEventListener("click", () => decide("reject", {}));
    parts.push(actions);
  }
  for (const c of r.corrections || []) {
    parts.push(el("div", { class: "why" }, `corrected ${c.field}: ${c.before ?? "(none)"} → ${c.after} by ${c.by}`));
  }
  for (const w of r.replies || []) {
    parts.push(el("div", { class: "waiting" }, `reply ${w.template} to ${w.to}: ${replyState(w.state)}`));
  }
  const needles = fields.map(([, f]) => f.matched);
  for (const t of r.texts || []) {
    if (!t.text) continue;
    parts.push(el("h4", {}, t.source), markedText(t.text, needles));
  }
  return el("article", { class: "review-card", "data-message": item.message_id }, ...parts);
}

// The vendor guard's old and new details side by side.
function renderGuard(g) {
  const row = (label, known, now) => el("tr", {}, el("th", {}, label), el("td", {}, known), el("td", { class: "changed" }, now));
  const table = el("table", { class: "guard-compare" },
    el("tr", {}, el("th", {}, ""), el("th", {}, `known for ${g.vendor}`), el("th", {}, "this message")));
  table.append(row("IBAN", (g.known_ibans || []).join(", ") || "none confirmed", g.new_iban || "—"));
  table.append(row("domain", (g.known_domains || []).join(", ") || "—", g.sender_domain || "—"));
  return el("section", { class: "guard" },
    el("h4", {}, "Vendor guard: do not pay before checking by phone"),
    table,
    el("ul", { class: "why" }, ...(g.findings || []).map((f) => el("li", {}, f))));
}

async function decide(action, extra) {
  const r = review.current;
  if (!r) return;
  const id = r.item.message_id;
  try {
    const out = await api(`/api/review/${encodeURIComponent(id)}/${action}`,
      { version: r.item.version, ...extra });
    // The queue first, then the word that the decision is done: whoever reads the status
    // (a person, or the browser test) then sees the queue as it is after the decision.
    await showReview(action === "correct" ? id : undefined);
    reviewStatus(`${r.item.subject}: ${out.item.state}` +
      (out.replies && out.replies.length ? ` (${out.replies.length} reply ${action === "reject" ? "cancelled" : "released"})` : ""));
  } catch (e) {
    showError(e.message);
    if (e.status === 409) await showReview(id); // show what the other person did
  }
}

function saveCorrections() {
  const fields = {};
  for (const input of $("correct-form").querySelectorAll("input")) {
    if (input.value.trim() !== input.dataset.original) fields[input.name] = input.value.trim();
  }
  if (!Object.keys(fields).length) {
    showError("Nothing was changed: edit a value, or confirm with c.");
    return;
  }
  showError("");
  decide("correct", { fields });
}

// j/k move through the queue, e edits the least sure value, c confirms; not while typing.
function reviewKeys(ev) {
  if ($("review").hidden || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const typing = ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement;
  if (typing) {
    if (ev.key === "Escape") ev.target.blur();
    return;
  }
  if (!review.items.length) return;
  if (ev.key === "j" && review.selected + 1 < review.items.length) selectReview(review.selected + 1);
  else if (ev.key === "k" && review.selected > 0) selectReview(review.selected - 1);
  else if (ev.key === "e") {
    const first = document.querySelector("#correct-form input");
    if (first) { ev.preventDefault(); first.focus(); first.select(); }
  } else if (ev.key === "c") decide("confirm", {});
  else return;
  ev.preventDefault();
}

// ---- Receivables: the AR ledger with what the inbox and the cadence did to each invoice.

const AR_FILTERS = [
  ["all", () => true],
  ["open", (r) => r.status === "open"],
  ["overdue", (r) => r.overdue],
  ["disputed", (r) => r.status === "disputed"],
  ["promised", (r) => r.status === "promised"],
  ["paid", (r) => r.status === "paid"],
];
const ar = { rows: [], shown: [], filter: "all", selected: 0, today: "" };

// The person's own calendar day: days overdue count from the date on their desk, not the
// server's (UTC) one.
function localDay() {
  const d = new Date();
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function overdueText(days) {
  if (days > 0) return `${plural(days, "day")} overdue`;
  if (days === 0) return "due today";
  return `due in ${plural(-days, "day")}`;
}

function statusText(r) {
  return r.status === "promised" ? `promised until ${r.until}` : r.status;
}

function reminderText(m) {
  if (!m) return "—";
  const step = m.step === null || m.step === undefined ? "reminder"
    : `step ${m.step > 0 ? "+" : ""}${m.step}`;
  return `${step} · ${(m.created_at || "").slice(0, 10)} · ${replyState(m.state)}`;
}

async function showReceivables() {
  showError("");
  $("thread").hidden = true;
  $("invoices").hidden = true;
  $("review").hidden = true;
  $("results").replaceChildren();
  $("ar").hidden = false;
  try {
    const r = await api("/api/receivables?today=" + encodeURIComponent(localDay()));
    ar.today = r.today;
    // Most overdue first; not yet due last, soonest first.
    ar.rows = (r.receivables || []).slice().sort((a, b) =>
      b.days_overdue - a.days_overdue || a.invoice_number.localeCompare(b.invoice_number));
    renderReceivables();
  } catch (e) {
    showError(e.message);
  }
}

function setArFilter(name) {
  const current = ar.shown[ar.selected]?.invoice_number;
  ar.filter = name;
  renderReceivables(current);
}

function renderReceivables(keepNumber) {
  const test = (AR_FILTERS.find(([n]) => n === ar.filter) || AR_FILTERS[0])[1];
  ar.shown = ar.rows.filter(test);
  $("ar-filters").replaceChildren(...AR_FILTERS.map(([name, t]) => {
    const b = el("button", { type: "button", class: "ar-filter", "data-filter": name,
      "aria-pressed": String(name === ar.filter) }, `${name} (${ar.rows.filter(t).length})`);
    b.addEventListener("click", () => setArFilter(name));
    return b;
  }));
  $("ar-count").textContent = `${plural(ar.shown.length, "receivable")} · as of ${ar.today}`;
  const body = $("ar-list").querySelector("tbody");
  body.replaceChildren(...ar.shown.map((r, n) => {
    const event = r.status_event;
    let changed = el("span", { class: "why" }, "—");
    if (event && event.thread_id) {
      const open = el("button", { type: "button", class: "ar-event", "data-thread": event.thread_id },
        `${event.category} · ${(event.date || "").slice(0, 10)}`);
      open.addEventListener("click", (ev) => { ev.stopPropagation(); selectReceivable(n); openArThread(event.thread_id); });
      changed = el("div", {}, open, el("div", { class: "why" }, event.subject || ""));
    } else if (event) {
      changed = el("span", { class: "why" }, "a message no longer stored");
    }
    const m = r.last_reminder;
    const tr = el("tr", { class: "ar-row", tabindex: "-1", "data-invoice": r.invoice_number },
      el("td", {}, r.invoice_number),
      el("td", {}, r.customer, el("div", { class: "why" }, r.customer_email)),
      el("td", { class: "num" }, `${r.amount} ${r.currency}`),
      el("td", {}, r.due_date),
      el("td", { class: r.overdue ? "ar-overdue" : "" }, overdueText(r.days_overdue)),
      el("td", {}, el("span", { class: "cat ar-status" }, statusText(r)),
        r.waiting_review ? el("div", { class: "waiting" }, "waiting for review") : null),
      el("td", { class: "ar-reminder" }, reminderText(m),
        m && m.last_error ? el("div", { class: "why" }, m.last_error) : null),
      el("td", { class: "ar-changed" }, changed));
    tr.addEventListener("click", () => selectReceivable(n));
    return tr;
  }));
  if (!ar.shown.length) {
    body.append(el("tr", {}, el("td", { colspan: "8", class: "why" }, "No receivables here.")));
    return;
  }
  const keep = keepNumber ? ar.shown.findIndex((r) => r.invoice_number === keepNumber) : -1;
  selectReceivable(keep >= 0 ? keep : 0);
}

// The thread opens below the list, which stays as it was (j/k go on from the same row).
async function openArThread(id) {
  await openThread(id);
  if (!$("ar").hidden) $("thread").scrollIntoView({ block: "start" });
}

function selectReceivable(n) {
  ar.selected = n;
  const rows = $("ar-list").querySelectorAll("tbody tr.ar-row");
  rows.forEach((tr, i) => tr.classList.toggle("selected", i === n));
  if (rows[n]) rows[n].scrollIntoView({ block: "nearest" });
}

// j/k move through the list, Enter opens the thread of the message that changed the selected
// invoice (as a click on it does); not while typing, and Enter on a button is the button's.
function arKeys(ev) {
  if ($("ar").hidden || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  if (!ar.shown.length) return;
  if (ev.key === "j" && ar.selected + 1 < ar.shown.length) selectReceivable(ar.selected + 1);
  else if (ev.key === "k" && ar.selected > 0) selectReceivable(ar.selected - 1);
  else if (ev.key === "Enter" && !(t instanceof HTMLButtonElement)) {
    const event = ar.shown[ar.selected].status_event;
    if (event && event.thread_id) openArThread(event.thread_id);
    else showError(`${ar.shown[ar.selected].invoice_number}: no message changed it.`);
  } else return;
  ev.preventDefault();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  $("login").hidden = false;
  $("signout").hidden = true;
  $("invoices-button").hidden = true;
  $("ar-button").hidden = true;
  $("review-button").hidden = true;
}

function signedIn() {
  $("login").hidden = true;
  $("signout").hidden = false;
  $("invoices-button").hidden = false;
  $("ar-button").hidden = false;
  $("review-button").hidden = false;
  refreshReviewCount();
  const q = new URLSearchParams(location.hash.slice(1)).get("q");
  if (q) { $("q").value = q; search(q); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    signedIn();
  });
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = $("q").value.trim();
    if (!q) return;
    history.replaceState(null, "", "#q=" + encodeURIComponent(q));
    search(q);
  });
  $("signout").addEventListener("click", signOut);
  $("invoices-button").addEventListener("click", showInvoices);
  $("review-button").addEventListener("click", () => showReview());
  $("ar-button").addEventListener("click", showReceivables);
  document.addEventListener("keydown", reviewKeys);
  document.addEventListener("keydown", arKeys);
  if (sessionStorage.getItem(TOKEN_KEY)) signedIn(); else signOut();
});
