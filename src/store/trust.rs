//! What the store keeps for trust: the vendor registry (`g/<vendor id>` records, `y/<kind>:<key>`
//! identities: `vat:`, `iban:`, `domain:`, `name:`) and the review queue (`w/<message id>`), both
//! written in the same batch as the decision they come from; and the review's changes
//! (confirm, correct, reject), each one batch.

use chrono::{DateTime, Utc};

use super::{
    S_INVOICES, S_MESSAGES, S_OUTBOX, StoreError, StoredMessage, Tx, dec, enc, fold,
    update_receivable,
};
use crate::model::{Correction, Decision, ExtractedField, FieldValue, Message, Provenance};
use crate::outbound::{OutboxRecord, OutboxState};
use crate::review::{ReviewItem, ReviewState};
use crate::vendors::{self, IbanState, KnownIban, Observation, VendorRecord};

pub(super) const S_VENDORS: u8 = b'g';
pub(super) const S_VENDOR_KEYS: u8 = b'y';
pub(super) const S_REVIEW: u8 = b'w';
pub(super) const C_REVIEW_OPEN: &[u8] = b"review_open";
/// Messages whose decision changed after they were indexed (a correction): `z/<message id>`,
/// empty values, drained by whoever holds the index writer.
pub(super) const S_REINDEX: u8 = b'z';
/// A domain two vendors send from is a platform's: it identifies nobody.
const SHARED: &str = "*shared*";

/// Find the registry's vendor for what a message says: its VAT ID decides; without one (or
/// with one the registry has not seen) the IBAN, the vendor's own sending domain, then its
/// name, each only when the vendor found has no other VAT ID (two companies invoicing through
/// one platform, or a bank account that moved, are not merged).
fn find_vendor(t: &Tx<'_>, obs: &Observation) -> Result<Option<VendorRecord>, StoreError> {
    let lookup = |k: String| -> Result<Option<VendorRecord>, StoreError> {
        let Some(id) = t.get(S_VENDOR_KEYS, k.as_bytes())? else {
            return Ok(None);
        };
        if id == SHARED.as_bytes() {
            return Ok(None);
        }
        t.get_json::<VendorRecord>(S_VENDORS, &id)
    };
    if let Some(v) = &obs.vat_id
        && let Some(r) = lookup(format!("vat:{v}"))?
    {
        return Ok(Some(r));
    }
    let weaker = [
        obs.iban.as_ref().map(|i| format!("iban:{i}")),
        obs.domain
            .as_ref()
            .filter(|d| !vendors::is_free_mail(d))
            .map(|d| format!("domain:{d}")),
        obs.name.as_ref().map(|n| format!("name:{}", fold(n))),
    ];
    for k in weaker.into_iter().flatten() {
        if let Some(r) = lookup(k)? {
            let other_company = obs
                .vat_id
                .as_ref()
                .is_some_and(|v| !r.vat_ids.is_empty() && !r.vat_ids.contains(v));
            if !other_company {
                return Ok(Some(r));
            }
        }
    }
    Ok(None)
}

/// A known vendor whose domain the sender's imitates, and that domain.
fn imitated_vendor(t: &Tx<'_>, sender: &str) -> Result<Option<(VendorRecord, String)>, StoreError> {
    for (k, v) in t.scan(S_VENDOR_KEYS, b"domain:")? {
        let domain = String::from_utf8_lossy(&k["domain:".len()..]).into_owned();
        if v == SHARED.as_bytes() || !vendors::looks_like(sender, &domain) {
            continue;
        }
        if let Some(r) = t.get_json::<VendorRecord>(S_VENDORS, &v)? {
            return Ok(Some((r, domain)));
        }
    }
    Ok(None)
}

fn index_identity(t: &mut Tx<'_>, kind: &str, key: &str, id: &str) -> Result<(), StoreError> {
    let k = format!("{kind}:{key}");
    match t.get(S_VENDOR_KEYS, k.as_bytes())? {
        Some(existing) if existing != id.as_bytes() && kind == "domain" => {
            // Two vendors under one domain: a billing platform.
            t.insert(S_VENDOR_KEYS, k.as_bytes(), SHARED.as_bytes().to_vec());
        }
        Some(_) => {}
        None => t.insert(S_VENDOR_KEYS, k.as_bytes(), id.as_bytes().to_vec()),
    }
    Ok(())
}

/// The registry's part of a commit: recognise the vendor, run the guard (flags and a finding on
/// the decision), and learn what is new (a first IBAN is trusted; a later, different one waits
/// for an admin).
pub(super) fn observe_vendor(
    t: &mut Tx<'_>,
    msg: &Message,
    d: &mut Decision,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(obs) = vendors::observe(msg, d) else {
        return Ok(());
    };
    let known = find_vendor(t, &obs)?;
    if imitates_a_vendor(t, &obs, d)? {
        // An imitator learns nothing: its IBAN and domain never enter the registry.
        return Ok(());
    }
    let Some(mut record) = known.or_else(|| new_vendor(&obs, d, now)) else {
        return Ok(());
    };
    // A letter announcing new bank details is checked even from a vendor seen for the first
    // time: it is the fraudster's opening move.
    if let Some((flags, finding)) = vendors::check(&record, &obs) {
        for f in flags {
            if !d.flags.iter().any(|x| x == f) {
                d.flags.push(f.into());
            }
        }
        d.guard = Some(finding);
    }
    d.vendor_id = Some(record.id.clone());
    learn(&mut record, &obs, msg, d, now);
    save_vendor(t, &record)
}

/// Checked whoever the message claims to be from: an imitator copies the real vendor's name
/// and VAT ID, only its domain is its own. True (the decision flagged, with a finding) when
/// the sender's domain imitates a known vendor's.
fn imitates_a_vendor(
    t: &mut Tx<'_>,
    obs: &vendors::Observation,
    d: &mut Decision,
) -> Result<bool, StoreError> {
    let Some(domain) = &obs.domain else {
        return Ok(false);
    };
    if vendors::is_free_mail(domain)
        || t.get(S_VENDOR_KEYS, format!("domain:{domain}").as_bytes())?
            .is_some()
    {
        return Ok(false);
    }
    let Some((imitated, real)) = imitated_vendor(t, domain)? else {
        return Ok(false);
    };
    d.flags.push(vendors::FLAG_LOOKALIKE.into());
    d.guard = Some(vendors::lookalike_finding(&imitated, domain, &real));
    d.vendor_id = Some(imitated.id.clone());
    Ok(true)
}

/// A vendor enters the registry when a document names it (a VAT ID or a name): a bare domain
/// or IBAN says too little to be a vendor everyone else is matched to (such mail is still
/// checked, and flagged on the decision).
fn new_vendor(
    obs: &vendors::Observation,
    d: &mut Decision,
    now: DateTime<Utc>,
) -> Option<VendorRecord> {
    let Some(first) = obs.vat_id.clone().or_else(|| obs.name.clone()) else {
        if let Some((flags, finding)) = vendors::check_unknown(obs) {
            d.flags.extend(flags.into_iter().map(String::from));
            d.guard = Some(finding);
        }
        return None;
    };
    Some(VendorRecord {
        id: vendors::new_id(&first),
        name: obs.name.clone().unwrap_or_else(|| first.clone()),
        vat_ids: Vec::new(),
        ibans: Vec::new(),
        domains: Vec::new(),
        first_seen: now,
        last_seen: now,
        messages: 0,
    })
}

/// What the message adds to the vendor's record: its name, a VAT ID, an IBAN (trusted on first
/// use, unless a letter announcing a change is where it was read), a domain (not from mail
/// flagged for bank details).
fn learn(
    record: &mut VendorRecord,
    obs: &vendors::Observation,
    msg: &Message,
    d: &Decision,
    now: DateTime<Utc>,
) {
    if let Some(name) = &obs.name
        && record.vat_ids.contains(&record.name)
    {
        // Named after its VAT ID until a document gave its name.
        record.name = name.clone();
    }
    record.last_seen = now;
    record.messages += 1;
    if let Some(v) = &obs.vat_id
        && !record.vat_ids.contains(v)
    {
        record.vat_ids.push(v.clone());
    }
    if let Some(iban) = &obs.iban
        && !record.ibans.iter().any(|k| &k.iban == iban)
    {
        let state = if record.confirmed_ibans().is_empty() && !obs.announces_bank_change {
            IbanState::Confirmed
        } else {
            IbanState::Pending
        };
        record.ibans.push(KnownIban {
            iban: iban.clone(),
            state,
            since: now,
            source: msg.id.0.clone(),
        });
    }
    if let Some(domain) = &obs.domain
        && !vendors::is_free_mail(domain)
        && !record.domains.contains(domain)
        && !d.flags.iter().any(|f| f == vendors::FLAG_BANK_DETAILS)
    {
        record.domains.push(domain.clone());
    }
}

/// The record and the keys it is found by (VAT IDs, confirmed IBANs, domains, its name).
fn save_vendor(t: &mut Tx<'_>, record: &VendorRecord) -> Result<(), StoreError> {
    let id = &record.id;
    for v in &record.vat_ids {
        index_identity(t, "vat", v, id)?;
    }
    for i in record
        .ibans
        .iter()
        .filter(|i| i.state == IbanState::Confirmed)
    {
        index_identity(t, "iban", &i.iban, id)?;
    }
    for dom in &record.domains {
        index_identity(t, "domain", dom, id)?;
    }
    index_identity(t, "name", &fold(&record.name), id)?;
    t.insert(S_VENDORS, id.as_bytes(), enc(record)?);
    Ok(())
}

/// The review's part of a commit: when the decision needs a person, open an item and say so on
/// the decision. True when the message went to review.
pub(super) fn open_review(
    t: &mut Tx<'_>,
    msg: &Message,
    d: &mut Decision,
    thread: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let reasons = crate::review::reasons(msg, d, msg.role.is_some());
    if reasons.is_empty() {
        return Ok(false);
    }
    d.review_reasons = reasons.clone();
    let item = ReviewItem {
        message_id: msg.id.0.clone(),
        thread_id: thread.to_string(),
        category: d.category.clone(),
        subject: msg.subject.clone(),
        from: msg.from.as_ref().map(|a| a.to_string()).unwrap_or_default(),
        reasons,
        state: ReviewState::Open,
        version: 1,
        created_at: now,
        updated_at: now,
        decided_by: None,
        note: None,
    };
    t.insert(S_REVIEW, msg.id.0.as_bytes(), enc(&item)?);
    t.bump(C_REVIEW_OPEN, 1)?;
    Ok(true)
}

/// What a review change asks for.
#[derive(Debug, Clone)]
pub enum ReviewChange {
    Confirm,
    Correct(Vec<(String, FieldValue)>),
    Reject(Option<String>),
}

/// Why a review change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no message {0} in the review queue")]
    NotFound(String),
    #[error(
        "message {id} was changed by {by} (now version {current}, you sent {sent}): reload it and try again"
    )]
    Conflict {
        id: String,
        current: u32,
        sent: u32,
        by: String,
    },
    #[error("message {0} was already decided in review ({1:?})")]
    AlreadyDecided(String, ReviewState),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a review change did, for the audit record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReviewOutcome {
    pub item: ReviewItem,
    pub corrections: Vec<Correction>,
    /// Replies released to the outbox (or cancelled on a rejection).
    pub replies: Vec<String>,
    /// The message's fields changed: its index document must be replaced
    /// ([`crate::pipeline::catch_up_index`]).
    pub reindex: bool,
}

impl super::Store {
    /// Apply a person's decision on a message in review: confirm it as it is, correct fields
    /// (kept beside the original, used by the index and the invoice record), or reject it.
    /// `version` must be the item's current version (None: whatever it is, for the CLI). What
    /// waited for the review (replies, receivable updates) goes ahead, or is cancelled.
    pub fn review_decide(
        &self,
        message: &str,
        change: ReviewChange,
        by: &str,
        version: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<ReviewOutcome, ReviewError> {
        let mut t = self.begin();
        let mut item: ReviewItem = t
            .get_json(S_REVIEW, message.as_bytes())?
            .ok_or_else(|| ReviewError::NotFound(message.into()))?;
        if let Some(sent) = version
            && sent != item.version
        {
            return Err(ReviewError::Conflict {
                id: message.into(),
                current: item.version,
                sent,
                by: item.decided_by.clone().unwrap_or_else(|| "someone".into()),
            });
        }
        if !item.state.is_open() && !matches!(change, ReviewChange::Correct(_)) {
            return Err(ReviewError::AlreadyDecided(message.into(), item.state));
        }
        let mut stored: StoredMessage = t
            .get_json(S_MESSAGES, message.as_bytes())?
            .ok_or_else(|| ReviewError::NotFound(message.into()))?;
        let was_open = item.state.is_open();
        let mut corrections = Vec::new();
        let mut reindex = false;
        match &change {
            ReviewChange::Confirm => item.state = ReviewState::Confirmed,
            ReviewChange::Reject(note) => {
                item.state = ReviewState::Rejected;
                item.note = note.clone();
            }
            ReviewChange::Correct(fields) => {
                corrections = apply_corrections(&mut t, &mut stored, fields, by, now)?;
                item.state = ReviewState::Corrected;
                // The index's document still has the old values: queued for replacing.
                t.insert(S_REINDEX, message.as_bytes(), Vec::new());
                reindex = true;
            }
        }
        item.version += 1;
        item.updated_at = now;
        item.decided_by = Some(by.to_string());
        if was_open {
            let open = t.counter(C_REVIEW_OPEN)?;
            t.set_counter(C_REVIEW_OPEN, open.saturating_sub(1));
        }
        let released = if was_open {
            release_waiting(&mut t, &stored, &change, now)?
        } else {
            Vec::new()
        };
        t.insert(S_MESSAGES, message.as_bytes(), enc(&stored)?);
        t.insert(S_REVIEW, message.as_bytes(), enc(&item)?);
        t.apply()?;
        self.flush()?;
        Ok(ReviewOutcome {
            item,
            corrections,
            replies: released,
            reindex,
        })
    }

    /// The review queue: items in `state` (None: all), newest first.
    pub fn review_items(&self, state: Option<ReviewState>) -> Result<Vec<ReviewItem>, StoreError> {
        let mut out = Vec::new();
        for item in self.records::<ReviewItem>(S_REVIEW) {
            let (_, item) = item?;
            if state.is_none_or(|s| s == item.state) {
                out.push(item);
            }
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.created_at));
        Ok(out)
    }

    pub fn review_item(&self, message: &str) -> Result<Option<ReviewItem>, StoreError> {
        self.get_json(S_REVIEW, message.as_bytes())
    }

    /// Messages whose index documents must be replaced (their decisions were corrected).
    pub fn reindex_queue(&self) -> Result<Vec<crate::model::MessageId>, StoreError> {
        self.tree
            .scan_prefix(super::key(S_REINDEX, b""))
            .map(|kv| Ok(crate::model::MessageId(super::strip(&kv?.0))))
            .collect()
    }

    /// These were re-indexed (and the index committed).
    pub fn reindex_done(&self, ids: &[crate::model::MessageId]) -> Result<(), StoreError> {
        let mut t = self.begin();
        for id in ids {
            t.remove(S_REINDEX, id.0.as_bytes());
        }
        t.apply()
    }

    /// Items waiting for a person.
    pub fn review_open_count(&self) -> Result<u64, StoreError> {
        self.tx().counter(C_REVIEW_OPEN)
    }

    pub fn vendors(&self) -> Result<Vec<VendorRecord>, StoreError> {
        let mut out: Vec<VendorRecord> = self
            .records(S_VENDORS)
            .map(|r| Ok(r?.1))
            .collect::<Result<_, StoreError>>()?;
        out.sort_by_key(|v| v.name.to_lowercase());
        Ok(out)
    }

    /// A vendor by id, or by a VAT ID, IBAN, domain or name it is known under.
    pub fn vendor(&self, key: &str) -> Result<Option<VendorRecord>, StoreError> {
        if let Some(r) = self.get_json::<VendorRecord>(S_VENDORS, key.as_bytes())? {
            return Ok(Some(r));
        }
        let compact: String = key
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .flat_map(char::to_uppercase)
            .collect();
        for k in [
            format!("vat:{compact}"),
            format!("iban:{compact}"),
            format!("domain:{}", key.to_ascii_lowercase()),
            format!("name:{}", fold(key)),
        ] {
            match self.tree.get(super::key(S_VENDOR_KEYS, k.as_bytes()))? {
                Some(id) if id != SHARED.as_bytes() => {
                    return self.get_json::<VendorRecord>(S_VENDORS, &id);
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// An admin confirms an IBAN for a vendor (a pending one, or a new one they verified by
    /// phone). Returns the record; None when there is no such vendor.
    pub fn vendor_confirm_iban(
        &self,
        vendor: &str,
        iban: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<VendorRecord>, StoreError> {
        let Some(mut r) = self.vendor(vendor)? else {
            return Ok(None);
        };
        let iban: String = iban
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        let mut t = self.begin();
        match r.ibans.iter_mut().find(|k| k.iban == iban) {
            Some(k) => {
                k.state = IbanState::Confirmed;
                k.source = format!("admin {by}");
                k.since = now;
            }
            None => r.ibans.push(KnownIban {
                iban: iban.clone(),
                state: IbanState::Confirmed,
                since: now,
                source: format!("admin {by}"),
            }),
        }
        index_identity(&mut t, "iban", &iban, &r.id)?;
        t.insert(S_VENDORS, r.id.as_bytes(), enc(&r)?);
        t.apply()?;
        self.flush()?;
        Ok(Some(r))
    }
}

/// Correct fields on the stored decision: each correction kept with the value it replaced, the
/// field now the person's (confidence 100), the invoice record updated to match.
fn apply_corrections(
    t: &mut Tx<'_>,
    stored: &mut StoredMessage,
    fields: &[(String, FieldValue)],
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Correction>, StoreError> {
    let d = &mut stored.decision;
    let old_key = super::invoice_key(&stored.message, d).map(|(_, _, k)| k);
    let mut out = Vec::new();
    for (name, value) in fields {
        let before = d.fields.get(name).map(|f| f.value.canonical());
        let correction = Correction {
            field: name.clone(),
            before,
            after: value.canonical(),
            by: by.to_string(),
            at: now,
        };
        d.fields.insert(
            name.clone(),
            ExtractedField::new(
                value.clone(),
                Provenance {
                    rule: "correction".into(),
                    source: format!("corrected by {by}"),
                    matched: value.canonical(),
                },
                100,
            ),
        );
        d.corrections.push(correction.clone());
        out.push(correction);
    }
    // The invoice record follows the corrected number, vendor and amount.
    let new_key = super::invoice_key(&stored.message, d);
    if let Some(old) = &old_key
        && let Some(rec) = t.get(S_INVOICES, old.as_bytes())?
    {
        t.remove(S_INVOICES, old.as_bytes());
        if let Some((vendor, number, key)) = &new_key {
            let mut rec: crate::store::InvoiceRecord = dec(&rec)?;
            rec.vendor = vendor.clone();
            rec.invoice_number = number.clone();
            rec.amount = d.fields.get("amount_total").and_then(|f| match &f.value {
                FieldValue::Amount { value, .. } => Some(value.normalize().to_string()),
                _ => None,
            });
            rec.currency = d.fields.get("currency").map(|f| f.value.canonical());
            rec.due_date = d.fields.get("due_date").map(|f| f.value.canonical());
            t.insert(S_INVOICES, key.as_bytes(), enc(&rec)?);
        }
    }
    Ok(out)
}

/// After a decision in review: replies waiting for it are queued (confirm, correct) or
/// cancelled (reject), and a receivable it was about is updated (or simply released).
fn release_waiting(
    t: &mut Tx<'_>,
    stored: &StoredMessage,
    change: &ReviewChange,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let mut touched = Vec::new();
    let prefix = super::key(
        super::S_THREAD_REPLIES,
        format!("{}\0", stored.thread_id).as_bytes(),
    );
    let ids: Vec<String> = t
        .tree
        .scan_prefix(&prefix)
        .map(|kv| kv.map(|(k, _)| String::from_utf8_lossy(&k[prefix.len()..]).into_owned()))
        .collect::<Result<_, _>>()?;
    for id in ids {
        let Some(mut rec) = t.get_json::<OutboxRecord>(S_OUTBOX, id.as_bytes())? else {
            continue;
        };
        if rec.state != OutboxState::Review || rec.source_message != stored.message.id.0 {
            continue;
        }
        rec.state = match change {
            ReviewChange::Reject(_) => OutboxState::Cancelled,
            _ => OutboxState::Queued,
        };
        if matches!(change, ReviewChange::Correct(_)) {
            // Rendered from the values before the correction: rendered again before sending.
            rec.rerender = true;
        }
        rec.updated_at = now;
        t.insert(S_OUTBOX, id.as_bytes(), enc(&rec)?);
        touched.push(id);
    }
    let d = &stored.decision;
    if d.category.starts_with("ar.") {
        let fields = d.field_strings();
        // Whatever the outcome, the receivables stop waiting; a confirmed or corrected message
        // now changes them as it would have without review.
        super::release_receivables(t, &stored.message.id.0)?;
        if !matches!(change, ReviewChange::Reject(_)) {
            update_receivable(t, &fields, &d.category, &stored.message, None)?;
        }
    }
    Ok(touched)
}
