//! What `show`, `thread` and `stats` print, as text or JSON. In the library so that the CLI
//! (store opened directly) and the daemon's control socket (store held by the daemon) print the
//! same thing.

use std::fmt::Write as _;

mod ar;
mod trust;
pub use ar::{LastReminder, ReceivableRow, StatusEvent, receivable_rows};
pub use trust::{
    Decide, DecideError, decide, outcome_text, review_export, review_list, review_show,
    vendor_confirm_iban, vendor_show, vendors_list,
};

use crate::model::{Decision, Message, MessageId, RawMail, ThreadId};
use crate::parse::{ParseLimits, parse};
use crate::rules::einvoice::EINVOICE_RULE;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("{0}")]
    NotFound(String),
    /// The request itself is wrong (a bad value, a missing argument): the caller can fix it.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A message id from any unique prefix of it.
fn resolve(store: &Store, id_prefix: &str) -> Result<MessageId, ViewError> {
    store.resolve_message_id(id_prefix)?.ok_or_else(|| {
        ViewError::NotFound(format!(
            "no single message with an id starting {id_prefix:?}"
        ))
    })
}

/// `deskmail show`: a message with its decision: category, fields, the rules that fired and why.
pub fn show(store: &Store, id_prefix: &str, json: bool) -> Result<String, ViewError> {
    let id = resolve(store, id_prefix)?;
    let (msg, decision, thread) = load_message(store, &id)?;
    if json {
        let v = serde_json::json!({ "message": msg, "decision": decision, "thread_id": thread, "fields": decision.field_strings(), "overall_confidence": decision.overall_confidence() });
        Ok(serde_json::to_string_pretty(&v)? + "\n")
    } else {
        message_text(store, &msg, &decision, &thread)
    }
}

/// `deskmail thread`: every message of a thread with its category and key fields.
pub fn thread(store: &Store, id_prefix: &str, json: bool) -> Result<String, ViewError> {
    let tid = store.resolve_thread_id(id_prefix)?.ok_or_else(|| {
        ViewError::NotFound(format!(
            "no single thread with an id starting {id_prefix:?}"
        ))
    })?;
    let rec = store
        .thread(&tid)?
        .ok_or_else(|| ViewError::NotFound(format!("thread {tid} not found")))?;
    let mut rows = Vec::new();
    for mid in &rec.messages {
        let stored = store
            .message(mid)?
            .ok_or_else(|| ViewError::NotFound(format!("message {mid} missing")))?;
        rows.push((stored.message, stored.decision));
    }
    rows.sort_by_key(|(m, _)| m.date);
    let mut out = String::new();
    if json {
        let msgs: Vec<_> = rows
            .iter()
            .map(|(m, d)| serde_json::json!({ "id": m.id, "date": m.date, "from": m.from, "subject": m.subject, "category": d.category, "fields": d.field_strings(), "flags": d.flags, "confidence": d.overall_confidence(), "review_reasons": d.review_reasons }))
            .collect();
        // What deskmail sent (or will send) in this thread.
        let replies: Vec<_> = store
            .outbox_for_thread(&rec.thread_id)?
            .into_iter()
            .map(|r| serde_json::json!({ "id": r.id, "state": r.state, "to": r.mail.to, "subject": r.mail.subject, "created_at": r.created_at, "updated_at": r.updated_at, "template": r.mail.template, "body_text": r.mail.body_text, "last_error": r.last_error }))
            .collect();
        out = serde_json::to_string_pretty(
            &serde_json::json!({ "thread_id": rec.thread_id, "subject": rec.subject, "messages": msgs, "replies": replies }),
        )? + "\n";
    } else {
        let _ = writeln!(
            out,
            "thread {}  {}  ({} messages)",
            rec.thread_id,
            rec.subject,
            rec.messages.len()
        );
        for (m, d) in &rows {
            let fields: Vec<String> = d
                .field_strings()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(
                out,
                "  {}  {}  {:<24} {}  {}\n      {}",
                &m.id.0[..12],
                m.date.map_or("(no date)".into(), |d| d
                    .format("%Y-%m-%d %H:%M")
                    .to_string()),
                d.category,
                m.from.as_ref().map(|a| a.to_string()).unwrap_or_default(),
                m.subject,
                if fields.is_empty() {
                    "-".to_string()
                } else {
                    fields.join("  ")
                }
            );
        }
    }
    Ok(out)
}

/// A decision as `deskmail rules test --json` and the rule dry-run API print it.
pub fn decision_json(d: &Decision) -> serde_json::Value {
    let provenance: serde_json::Map<String, serde_json::Value> = d
        .fields
        .iter()
        .map(|(k, f)| {
            (
                k.clone(),
                serde_json::to_value(&f.provenance).unwrap_or_default(),
            )
        })
        .collect();
    serde_json::json!({
        "category": d.category,
        "fields": d.field_strings(),
        "matched_rules": d.matched_rules,
        "actions": d.actions,
        "provenance": provenance,
        "flags": d.flags,
        "einvoice": d.einvoice,
        "einvoice_errors": d.einvoice_errors,
        "rules_version": d.rules_version,
        "confidence": d.confidence,
        "overall_confidence": d.overall_confidence(),
        "field_confidence": d.fields.iter().map(|(k, f)| (k.clone(), serde_json::json!({
            "confidence": f.confidence, "doubt": f.doubt }))).collect::<serde_json::Map<_, _>>(),
        "review_reasons": d.review_reasons,
        "vendor_id": d.vendor_id,
        "guard": d.guard,
        "corrections": d.corrections,
    })
}

/// `deskmail stats`: counts of what is stored.
/// The audit chain checked against its head, key and anchors, as JSON: `{"intact": true,
/// "records": …, "keyed": …, "unkeyed_prefix": …, "anchors": …, "last_anchor": …, "text": …}`
/// or `{"intact": false, "seq": N, "reason": …, "text": …}`. A verified head is anchored.
pub fn audit_verify(store: &Store) -> Result<String, ViewError> {
    let answer = match store.audit_verify()? {
        Ok(v) => {
            store.anchor_audit_head()?;
            let mut j = serde_json::to_value(&v)?;
            j["intact"] = true.into();
            j["text"] = format!("audit log {v}").into();
            j
        }
        Err(e) => serde_json::json!({
            "intact": false,
            "seq": e.seq,
            "reason": e.reason,
            "text": format!("audit log broken: {e}"),
        }),
    };
    Ok(serde_json::to_string(&answer)?)
}

pub fn stats(store: &Store, json: bool) -> Result<String, ViewError> {
    let s = store.stats()?;
    if json {
        Ok(serde_json::to_string(&s)? + "\n")
    } else {
        Ok(format!(
            "messages {}, threads {}, invoices {}, rejected {}\n",
            s.messages, s.threads, s.invoices, s.rejected
        ))
    }
}

/// The stored message, re-parsed from its raw bytes so the body and attachment text are there.
fn load_message(store: &Store, id: &MessageId) -> Result<(Message, Decision, ThreadId), ViewError> {
    let stored = store
        .message(id)?
        .ok_or_else(|| ViewError::NotFound(format!("message {id} not found")))?;
    let raw = RawMail {
        role: stored.message.role,
        mailbox: stored.message.mailbox.clone(),
        origin: stored.message.origin.clone(),
        bytes: store.raw_bytes(&stored)?,
    };
    let msg = parse(&raw, &ParseLimits::default()).unwrap_or(stored.message);
    Ok((msg, stored.decision, stored.thread_id))
}

pub fn decision_text(d: &Decision) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "category: {}{}  confidence {}% (overall {}%)",
        d.category,
        d.category_rule
            .as_ref()
            .map_or(String::new(), |r| format!("  (rule {r:?})")),
        d.confidence,
        d.overall_confidence()
    );
    for r in &d.review_reasons {
        let _ = writeln!(out, "in review: {r}");
    }
    if !d.flags.is_empty() {
        let _ = writeln!(out, "flags: {}", d.flags.join(", "));
    }
    if d.fields.is_empty() {
        let _ = writeln!(out, "fields: none");
    } else {
        let _ = writeln!(out, "fields:");
        for (name, f) in &d.fields {
            // An e-invoice field's source already names the business term and the document.
            let doubt = f
                .doubt
                .as_deref()
                .map_or(String::new(), |w| format!(" — doubt: {w}"));
            if f.provenance.rule == EINVOICE_RULE {
                let _ = writeln!(
                    out,
                    "  {name:<16} {:<14} {:>3}% from {}{doubt}",
                    f.value.canonical(),
                    f.confidence,
                    f.provenance.source
                );
                continue;
            }
            let _ = writeln!(
                out,
                "  {name:<16} {:<14} {:>3}% from {} by rule {:?}: {:?}{doubt}",
                f.value.canonical(),
                f.confidence,
                f.provenance.source,
                f.provenance.rule,
                f.provenance.matched
            );
        }
    }
    if let Some(e) = &d.einvoice {
        let _ = writeln!(out);
        out.push_str(&crate::einvoice::summary_text(e));
        for m in &e.visual_mismatch {
            let _ = writeln!(out, "PDF text disagrees with the XML: {m}");
        }
        let _ = writeln!(out);
    }
    for e in &d.einvoice_errors {
        let _ = writeln!(out, "no e-invoice read: {e}");
    }
    if let Some(g) = &d.guard {
        for f in &g.findings {
            let _ = writeln!(out, "vendor guard ({}): {f}", g.vendor);
        }
    }
    for c in &d.corrections {
        let _ = writeln!(
            out,
            "corrected {} by {}: {} -> {}",
            c.field,
            c.by,
            c.before.as_deref().unwrap_or("(none)"),
            c.after
        );
    }
    if d.matched_rules.is_empty() {
        let _ = writeln!(out, "matched rules: none");
    }
    for m in &d.matched_rules {
        let _ = writeln!(
            out,
            "matched rule {:?} ({}): {}",
            m.rule,
            m.file,
            m.why.join("; ")
        );
    }
    for a in &d.actions {
        let _ = writeln!(out, "action: {a}");
    }
    let _ = writeln!(out, "rules version: {}", d.rules_version);
    out
}

fn message_text(
    store: &Store,
    msg: &Message,
    d: &Decision,
    thread: &ThreadId,
) -> Result<String, ViewError> {
    let mut out = String::new();
    if let Some(virus) = &d.virus {
        let _ = writeln!(
            out,
            "WARNING: quarantined by the antivirus scan: {virus}; do not open its attachments"
        );
    }
    let _ = writeln!(out, "message {}  (thread {thread})", msg.id);
    let _ = writeln!(
        out,
        "from:    {}",
        msg.from.as_ref().map(|a| a.to_string()).unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "to:      {}",
        msg.to
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "date:    {}",
        msg.date.map_or("(none)".into(), |d| d.to_rfc3339())
    );
    let _ = writeln!(out, "subject: {}", msg.subject);
    let _ = writeln!(out, "source:  {} ({})", msg.origin, msg.mailbox);
    for a in &msg.attachments {
        let _ = writeln!(
            out,
            "attachment: {} ({}, {} bytes, sha256 {}){}",
            a.name.as_deref().unwrap_or("(unnamed)"),
            a.content_type,
            a.size,
            &a.sha256[..16],
            a.text_error
                .as_ref()
                .map_or(String::new(), |e| format!(" — no text: {e}"))
        );
        if let Some(e) = &a.einvoice {
            let _ = writeln!(out, "  e-invoice: {}", crate::einvoice::format_label(e));
        }
    }
    for w in &msg.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let _ = writeln!(out);
    out.push_str(&decision_text(d));
    let _ = writeln!(out);
    // For a person, render HTML with layout (html2text); the pipeline used the fast renderer.
    let body = if msg.body_was_html {
        store
            .raw(&msg.id)?
            .and_then(|raw| {
                crate::parse::mail_parser()
                    .parse(&raw)
                    .and_then(|m| m.body_html(0).map(|h| h.into_owned()))
            })
            .and_then(|html| html2text::from_read(html.as_bytes(), 100).ok())
            .unwrap_or_else(|| msg.body_text.clone())
    } else {
        msg.body_text.clone()
    };
    let _ = writeln!(out, "{body}");
    Ok(out)
}

/// A list as pretty JSON, or one text line per item (`empty` when there are none).
fn list_view<T: serde::Serialize>(
    list: &[T],
    json: bool,
    empty: &str,
    line: impl Fn(&T) -> Result<String, ViewError>,
) -> Result<String, ViewError> {
    if json {
        return Ok(serde_json::to_string_pretty(list)? + "\n");
    }
    if list.is_empty() {
        return Ok(format!("{empty}\n"));
    }
    list.iter().map(|item| Ok(line(item)? + "\n")).collect()
}

/// `deskmail invoices list`: the imported receivables with their status.
pub fn invoices(store: &Store, json: bool) -> Result<String, ViewError> {
    list_view(&store.receivables()?, json, "no imported invoices", |r| {
        Ok(format!(
            "{:<16} {:<24} {:>12} {}  due {}  {}",
            r.invoice_number,
            r.customer,
            r.amount,
            r.currency,
            r.due_date,
            r.status.name()
        ))
    })
}

/// `deskmail outbox list`: replies, reminders and notices with their state.
pub fn outbox(store: &Store, json: bool) -> Result<String, ViewError> {
    list_view(&store.outbox_list()?, json, "the outbox is empty", |r| {
        Ok(format!(
            "{}  {:<18} {}  to {}  {}{}",
            r.id,
            match r.state {
                // Say what it waits for, not just a state name.
                crate::outbound::OutboxState::Review => "waiting for review".to_string(),
                other => serde_json::to_value(other)?
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            },
            r.updated_at.format("%Y-%m-%d %H:%M:%S"),
            r.mail.to,
            r.mail.subject,
            r.last_error
                .as_deref()
                .map_or(String::new(), |e| format!("\n    {e}"))
        ))
    })
}

/// `deskmail reminders preview`: what the cadence would send on `day`, and why (the whole day:
/// sending hours are not applied).
pub fn reminders(
    store: &Store,
    cadence: &crate::receivables::Cadence,
    day: chrono::NaiveDate,
    json: bool,
) -> Result<String, ViewError> {
    let noon = day
        .and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| ViewError::NotFound(format!("no noon on {day}")))?;
    let plan = crate::receivables::plan_with(&store.receivables()?, cadence, noon, false);
    if json {
        return Ok(serde_json::to_string_pretty(&plan)? + "\n");
    }
    let mut out = String::new();
    if plan.is_empty() {
        let _ = writeln!(out, "{day}: no reminders");
    }
    for p in &plan {
        let _ = writeln!(
            out,
            "{day}: to {} <{}> with {}:",
            p.customer, p.customer_email, p.template
        );
        for (number, step, why) in &p.invoices {
            let _ = writeln!(out, "    {number} (step {step:+}): {why}");
        }
    }
    Ok(out)
}
