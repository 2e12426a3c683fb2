//! Imported receivables in the store: the ERP import, a person's status change, and what an
//! inbox decision does to them in the decision's own batch (`receivables` decides what; this
//! writes it).

use super::*;

impl Store {
    /// A person sets an invoice's status (e.g. reopens a disputed one). False: no such invoice.
    pub fn set_receivable_status(
        &self,
        number: &str,
        status: ReceivableStatus,
    ) -> Result<bool, StoreError> {
        let k = receivable_key(number);
        let mut tx = self.begin();
        let Some(mut r) = tx.get_json::<Receivable>(S_RECEIVABLES, k.as_bytes())? else {
            return Ok(false);
        };
        r.status = status;
        tx.insert(S_RECEIVABLES, k.as_bytes(), enc(&r)?);
        tx.apply()?;
        self.tree.flush()?;
        Ok(true)
    }

    /// Import receivables (upsert by invoice number): the ERP's amounts and dates win; what the
    /// inbox said (paid, disputed, promised) and the steps sent stay unless the file says paid,
    /// and an address erased on request stays pseudonymised.
    /// Returns (new, updated).
    pub fn import_receivables(&self, list: &[Receivable]) -> Result<(usize, usize), StoreError> {
        let mut tx = self.begin();
        let (mut new, mut updated) = (0, 0);
        for r in list {
            let k = receivable_key(&r.invoice_number);
            let mut rec = r.clone();
            match tx.get_json::<Receivable>(S_RECEIVABLES, k.as_bytes())? {
                Some(old) => {
                    if r.status == ReceivableStatus::Open {
                        rec.status = old.status;
                    }
                    rec.steps_sent = old.steps_sent;
                    // A message about it still waits for review when the ERP exports again.
                    rec.waiting_review = old.waiting_review;
                    // An erased contact stays erased when the ERP sends the invoice again.
                    if crate::model::is_pseudonym(&old.customer_email) {
                        rec.customer_email = old.customer_email;
                    }
                    updated += 1;
                }
                None => new += 1,
            }
            tx.insert(S_RECEIVABLES, k.as_bytes(), enc(&rec)?);
        }
        tx.apply()?;
        self.tree.flush()?;
        Ok((new, updated))
    }

    pub fn receivables(&self) -> Result<Vec<Receivable>, StoreError> {
        self.records(S_RECEIVABLES).map(|r| Ok(r?.1)).collect()
    }
}

/// A remittance, dispute or promise to pay about an imported receivable changes it in the same
/// batch as the decision; with `defer` (the message waits in review) the receivables it names
/// are only marked as waiting for that message. Which receivables it names, and what the
/// decision does to each, is `receivables`' call.
pub(super) fn update_receivable(
    t: &mut Tx<'_>,
    fields: &std::collections::BTreeMap<String, String>,
    category: &str,
    msg: &Message,
    defer: Option<&str>,
) -> Result<(), StoreError> {
    let keys = crate::receivables::named_by(category, fields, msg, |k| {
        t.get_json::<Receivable>(S_RECEIVABLES, k.as_bytes())
    })?;
    for k in keys {
        let Some(mut r) = t.get_json::<Receivable>(S_RECEIVABLES, k.as_bytes())? else {
            continue;
        };
        if let Some(waiting) = defer {
            r.waiting_review = Some(waiting.to_string());
            t.insert(S_RECEIVABLES, k.as_bytes(), enc(&r)?);
        } else if crate::receivables::apply_decision(&mut r, category, fields, &msg.id.0) {
            t.insert(S_RECEIVABLES, k.as_bytes(), enc(&r)?);
        }
    }
    Ok(())
}

/// Receivables waiting for a message's review stop waiting.
pub(super) fn release_receivables(t: &mut Tx<'_>, message: &str) -> Result<(), StoreError> {
    let mut waiting = Vec::new();
    for (k, v) in t.scan(S_RECEIVABLES, b"")? {
        let r: Receivable = dec(&v)?;
        if r.waiting_review.as_deref() == Some(message) {
            waiting.push((String::from_utf8_lossy(&k).into_owned(), r));
        }
    }
    for (k, mut r) in waiting {
        // The batch may already hold a newer copy.
        if let Some(newer) = t.get_json::<Receivable>(S_RECEIVABLES, k.as_bytes())? {
            r = newer;
        }
        r.waiting_review = None;
        t.insert(S_RECEIVABLES, k.as_bytes(), enc(&r)?);
    }
    Ok(())
}
