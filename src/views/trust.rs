//! What `deskmail review …` and `deskmail vendors …` print (text or JSON), used by the CLI, the
//! control socket and the API; and the review decision itself (store change, index, audit),
//! which all three perform the same way.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use super::{ViewError, load_message, resolve};
use crate::model::{Decision, FieldValue};
use crate::privacy::IndexUpdates;
use crate::review::{ReviewState, parse_correction, reason_code};
use crate::store::{ReviewChange, ReviewError, ReviewOutcome, Store};

/// Counts of open items per reason code.
fn counts(items: &[crate::review::ReviewItem]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for i in items.iter().filter(|i| i.state.is_open()) {
        for r in &i.reasons {
            *out.entry(reason_code(r).to_string()).or_insert(0) += 1;
        }
    }
    out
}

/// `deskmail review list`: the queue (open items unless `all`), with counts per reason.
pub fn review_list(store: &Store, all: bool, json: bool) -> Result<String, ViewError> {
    let items = store.review_items(if all { None } else { Some(ReviewState::Open) })?;
    let by_reason = counts(&items);
    if json {
        return Ok(serde_json::to_string_pretty(
            &json!({ "open": store.review_open_count()?, "by_reason": by_reason, "items": items }),
        )? + "\n");
    }
    let mut out = String::new();
    let reasons: Vec<String> = by_reason.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let _ = writeln!(
        out,
        "{} open{}",
        store.review_open_count()?,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        }
    );
    for i in &items {
        let codes: Vec<&str> = i.reasons.iter().map(|r| reason_code(r)).collect();
        let _ = writeln!(
            out,
            "{}  {:<9} {:<22} {:<40} {}",
            &i.message_id[..12.min(i.message_id.len())],
            format!("{:?}", i.state).to_lowercase(),
            i.category,
            codes.join(","),
            i.subject
        );
    }
    Ok(out)
}

/// One field as the review shows it: value, how sure, why not, and where it came from.
fn field_json(d: &Decision) -> serde_json::Value {
    d.fields
        .iter()
        .map(|(k, f)| {
            (
                k.clone(),
                json!({
                    "value": f.value.canonical(),
                    "confidence": f.confidence,
                    "doubt": f.doubt,
                    "source": f.provenance.source,
                    "rule": f.provenance.rule,
                    "matched": f.provenance.matched,
                }),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// `deskmail review show ID`: why it is in review, every field beside the text it came from,
/// the vendor guard's old and new details, the replies waiting for it.
pub fn review_show(store: &Store, id_prefix: &str, json: bool) -> Result<String, ViewError> {
    let id = resolve(store, id_prefix)?;
    let item = store
        .review_item(&id.0)?
        .ok_or_else(|| ViewError::NotFound(format!("message {id} is not in the review queue")))?;
    let (msg, d, thread) = load_message(store, &id)?;
    let waiting: Vec<_> = store
        .outbox_for_thread(&thread)?
        .into_iter()
        .filter(|r| r.source_message == id.0)
        .map(|r| json!({ "id": r.id, "state": r.state, "template": r.mail.template, "to": r.mail.to }))
        .collect();
    if json {
        return review_json(&item, &msg, &d, waiting);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "review {}  {:?}  version {}",
        item.message_id, item.state, item.version
    );
    let _ = writeln!(out, "{}  {}  {}", d.category, item.from, item.subject);
    for r in &item.reasons {
        let _ = writeln!(out, "  why: {r}");
    }
    let _ = writeln!(out, "fields:");
    for (k, f) in &d.fields {
        let _ = writeln!(
            out,
            "  {k:<16} {:<24} {:>3}%  {}  «{}»{}",
            f.value.canonical(),
            f.confidence,
            f.provenance.source,
            f.provenance.matched,
            f.doubt
                .as_deref()
                .map(|w| format!("  — {w}"))
                .unwrap_or_default()
        );
    }
    if let Some(g) = &d.guard {
        write_guard(&mut out, g);
    }
    for c in &d.corrections {
        let _ = writeln!(
            out,
            "corrected {}: {} → {} by {} at {}",
            c.field,
            c.before.as_deref().unwrap_or("(none)"),
            c.after,
            c.by,
            c.at.to_rfc3339()
        );
    }
    for w in waiting {
        let _ = writeln!(
            out,
            "reply {} {} waits: {}",
            w["id"], w["template"], w["state"]
        );
    }
    Ok(out)
}

/// `review show --json`: the item, the message, the texts the values came from, the decision
/// with its fields, guard and corrections, and the replies waiting on it.
fn review_json(
    item: &crate::review::ReviewItem,
    msg: &crate::model::Message,
    d: &Decision,
    waiting: Vec<serde_json::Value>,
) -> Result<String, ViewError> {
    // The texts the values came from, named as the fields' provenance names them, so the
    // page can show each value beside its words.
    let mut texts = vec![
        json!({ "source": "subject", "text": msg.subject }),
        json!({ "source": "body", "text": bounded(&msg.body_text) }),
    ];
    for a in &msg.attachments {
        if let Some(t) = &a.text {
            let name = a.name.as_deref().unwrap_or("(unnamed)");
            texts.push(json!({ "source": format!("attachment:{name}"), "text": bounded(t) }));
        }
    }
    Ok(serde_json::to_string_pretty(&json!({
        "item": item,
        "message": { "id": msg.id, "from": msg.from, "subject": msg.subject, "date": msg.date },
        "texts": texts,
        "category": d.category,
        "confidence": d.confidence,
        "overall_confidence": d.overall_confidence(),
        "fields": field_json(d),
        "flags": d.flags,
        "guard": d.guard,
        "corrections": d.corrections,
        "replies": waiting,
    }))? + "\n")
}

/// The vendor guard's finding, for `review show`: the IBANs known and the message's, the sender's
/// domain against the known ones, and what was found.
fn write_guard(out: &mut String, g: &crate::model::GuardFinding) {
    let _ = writeln!(out, "vendor guard: {} ({})", g.vendor, g.vendor_id);
    let _ = writeln!(
        out,
        "  known IBANs:   {}",
        if g.known_ibans.is_empty() {
            "none".to_string()
        } else {
            g.known_ibans.join(", ")
        }
    );
    if let Some(new) = &g.new_iban {
        let _ = writeln!(out, "  this message:  {new}");
    }
    if let Some(s) = &g.sender_domain {
        let _ = writeln!(
            out,
            "  sender domain: {s} (known: {})",
            g.known_domains.join(", ")
        );
    }
    for f in &g.findings {
        let _ = writeln!(out, "  {f}");
    }
}

/// A text cut to what a reviewer reads (the first 64 KiB, on a character boundary).
fn bounded(text: &str) -> &str {
    const MAX: usize = 64 * 1024;
    if text.len() <= MAX {
        return text;
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What a person decided, as the CLI, the socket and the API send it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decide {
    Confirm,
    /// `field=value` strings, each checked against the field's kind.
    Correct {
        fields: Vec<String>,
    },
    Reject {
        note: Option<String>,
    },
}

/// Why a decision in review failed, for the caller's status code.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error(transparent)]
    View(#[from] ViewError),
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<crate::review::CorrectionError>),
    #[error(transparent)]
    Review(ReviewError),
}

impl From<ReviewError> for DecideError {
    fn from(e: ReviewError) -> Self {
        DecideError::Review(e)
    }
}

/// Confirm, correct or reject a message in review: the store change (replies and receivables
/// that waited go ahead or are cancelled), the index brought up to the correction, and an audit
/// record naming who changed what. `version`: the item's version the caller saw.
pub fn decide(
    store: &Store,
    index: &dyn IndexUpdates,
    id_prefix: &str,
    decision: &Decide,
    actor: &str,
    role: &str,
    version: Option<u32>,
) -> Result<ReviewOutcome, DecideError> {
    let id = resolve(store, id_prefix)?;
    let change = match decision {
        Decide::Confirm => ReviewChange::Confirm,
        Decide::Reject { note } => ReviewChange::Reject(note.clone()),
        Decide::Correct { fields } => {
            let stored = store
                .message(&id)
                .map_err(ViewError::from)?
                .ok_or_else(|| ViewError::NotFound(format!("message {id} not found")))?;
            let mut parsed: Vec<(String, FieldValue)> = Vec::new();
            let mut errors = Vec::new();
            for spec in fields {
                match parse_correction(spec, &stored.decision) {
                    Ok(p) => parsed.push(p),
                    Err(e) => errors.push(e),
                }
            }
            if !errors.is_empty() || parsed.is_empty() {
                if parsed.is_empty() && errors.is_empty() {
                    return Err(DecideError::View(ViewError::Invalid(
                        "a correction needs at least one field=value".into(),
                    )));
                }
                return Err(DecideError::Invalid(errors));
            }
            ReviewChange::Correct(parsed)
        }
    };
    let action = match decision {
        Decide::Confirm => "review confirm",
        Decide::Correct { .. } => "review correct",
        Decide::Reject { .. } => "review reject",
    };
    let result = store.review_decide(&id.0, change, actor, version, chrono::Utc::now());
    let mut targets = vec![format!("message:{id}")];
    match &result {
        Ok(outcome) => {
            for c in &outcome.corrections {
                targets.push(format!(
                    "{}: {} -> {}",
                    c.field,
                    c.before.as_deref().unwrap_or("(none)"),
                    c.after
                ));
            }
        }
        Err(e) => targets.push(e.to_string()),
    }
    store
        .audit(crate::audit::AuditEntry {
            actor: actor.to_string(),
            role: Some(role.to_string()),
            action: action.into(),
            targets: targets
                .iter()
                .map(|t| crate::audit::pseudonymise_addresses(t))
                .collect(),
            outcome: match &result {
                Ok(_) => "ok".into(),
                Err(ReviewError::Conflict { .. }) => "409 conflict".into(),
                Err(e) => format!("refused: {e}"),
            },
        })
        .and_then(|_| store.flush())
        .map_err(ViewError::from)?;
    let outcome = result?;
    if outcome.reindex
        && let Err(e) = index.catch_up(store)
    {
        tracing::warn!(error = %e, "The corrected message is re-indexed at the next start");
    }
    Ok(outcome)
}

/// A review decision as the CLI prints it.
pub fn outcome_text(outcome: &ReviewOutcome) -> String {
    let mut out = format!(
        "review {}: {:?} (version {})\n",
        outcome.item.message_id, outcome.item.state, outcome.item.version
    );
    for c in &outcome.corrections {
        let _ = writeln!(
            out,
            "  {}: {} → {}",
            c.field,
            c.before.as_deref().unwrap_or("(none)"),
            c.after
        );
    }
    for r in &outcome.replies {
        let verb = if outcome.item.state == ReviewState::Rejected {
            "cancelled"
        } else {
            "released"
        };
        let _ = writeln!(out, "  reply {r}: {verb}");
    }
    out
}

/// `deskmail vendors list`.
pub fn vendors_list(store: &Store, json: bool) -> Result<String, ViewError> {
    super::list_view(&store.vendors()?, json, "no vendors yet", |v| {
        Ok(format!(
            "{}  {:<36} VAT {:<16} IBANs {}  domains {}  last {}",
            v.id,
            v.name,
            v.vat_ids.join(","),
            v.ibans
                .iter()
                .map(|i| format!(
                    "{}{}",
                    i.iban,
                    if i.state == crate::vendors::IbanState::Pending {
                        " (pending)"
                    } else {
                        ""
                    }
                ))
                .collect::<Vec<_>>()
                .join(", "),
            v.domains.join(","),
            v.last_seen.format("%Y-%m-%d")
        ))
    })
}

/// `deskmail vendors show KEY` (id, VAT ID, IBAN, domain or name).
pub fn vendor_show(store: &Store, key: &str, json: bool) -> Result<String, ViewError> {
    let v = store
        .vendor(key)?
        .ok_or_else(|| ViewError::NotFound(format!("no vendor known as {key:?}")))?;
    if json {
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    let mut out = format!("vendor {}  {}\n", v.id, v.name);
    let _ = writeln!(out, "  VAT IDs: {}", v.vat_ids.join(", "));
    for i in &v.ibans {
        let _ = writeln!(
            out,
            "  IBAN {}  {:?} since {} ({})",
            i.iban,
            i.state,
            i.since.format("%Y-%m-%d"),
            i.source
        );
    }
    let _ = writeln!(out, "  domains: {}", v.domains.join(", "));
    let _ = writeln!(
        out,
        "  first seen {}, last seen {}, {} messages",
        v.first_seen.format("%Y-%m-%d"),
        v.last_seen.format("%Y-%m-%d"),
        v.messages
    );
    Ok(out)
}

/// An admin confirms an IBAN for a vendor: the registry change and its audit record.
pub fn vendor_confirm_iban(
    store: &Store,
    key: &str,
    iban: &str,
    actor: &str,
) -> Result<String, ViewError> {
    let compact: String = iban
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    if !crate::extract::ids::iban_checksum_holds(&compact) {
        return Err(ViewError::Invalid(format!(
            "{iban:?} is not a valid IBAN (its check digits do not hold)"
        )));
    }
    let v = store
        .vendor_confirm_iban(key, &compact, actor, chrono::Utc::now())?
        .ok_or_else(|| ViewError::NotFound(format!("no vendor known as {key:?}")))?;
    store.audit(crate::audit::AuditEntry {
        actor: actor.to_string(),
        role: Some("admin".into()),
        action: "vendors confirm-iban".into(),
        targets: vec![format!("vendor:{}", v.id), format!("iban:{compact}")],
        outcome: "ok".into(),
    })?;
    store.flush()?;
    Ok(format!("{}: IBAN {compact} confirmed\n", v.name))
}

/// `deskmail review export --since DATE DIR`: every message confirmed or corrected since DATE
/// as `DIR/<id>.eml` and a `[[rule.example]]` block in `DIR/examples.toml`, ready to paste
/// under a rule (the expected values are the reviewed ones).
pub fn review_export(
    store: &Store,
    since: chrono::NaiveDate,
    dir: &std::path::Path,
) -> Result<String, ViewError> {
    let io = |e: std::io::Error| ViewError::Invalid(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let from = since.and_time(chrono::NaiveTime::MIN).and_utc();
    let mut blocks = String::from(
        "# Reviewed messages as rule examples (deskmail review export). Paste a block under the\n# rule it belongs to; `file` is relative to this directory.\n\n",
    );
    let mut n = 0;
    for item in store.review_items(None)? {
        if !matches!(item.state, ReviewState::Confirmed | ReviewState::Corrected)
            || item.updated_at < from
        {
            continue;
        }
        let id = crate::model::MessageId(item.message_id.clone());
        let Some(stored) = store.message(&id)? else {
            continue;
        };
        let name = format!("{}.eml", item.message_id);
        std::fs::write(dir.join(&name), store.raw_bytes(&stored)?).map_err(io)?;
        blocks.push_str(&crate::review::example_block(&name, &stored.decision));
        blocks.push('\n');
        n += 1;
    }
    std::fs::write(dir.join("examples.toml"), blocks).map_err(io)?;
    Ok(format!(
        "exported {n} reviewed messages to {}\n",
        dir.display()
    ))
}
