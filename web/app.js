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

async function api(path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const res = await fetch(path, { headers: { Authorization: "Bearer " + token } });
  if (res.status === 401) {
    signOut();
    throw new Error("Your token was refused; sign in again.");
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || res.status + " " + res.statusText);
  return body;
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
  const results = $("results");
  results.replaceChildren(el("p", { class: "count" }, "Searching…"));
  try {
    const r = await api("/api/search?limit=50&q=" + encodeURIComponent(q));
    const list = [el("p", { class: "count" }, `${r.total_threads} threads`)];
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
        el("div", { class: "meta" }, `deskmail reply · ${r.state} · to ${r.to} · ${(r.updated_at || "").replace("T", " ").slice(0, 16)}`),
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
  return el("article", { class: "msg", "data-message": m.id },
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

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  $("login").hidden = false;
  $("signout").hidden = true;
  $("invoices-button").hidden = true;
}

function signedIn() {
  $("login").hidden = true;
  $("signout").hidden = false;
  $("invoices-button").hidden = false;
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
  if (sessionStorage.getItem(TOKEN_KEY)) signedIn(); else signOut();
});
