//! Erasure in the store: a message (record, log entry, raw bytes, its place in its thread, the
//! replies to it) and the rest of a person's records (outbox, receivables). Both are erasure
//! batches ([`super::tx`]): what they rewrite gets new data keys, what they remove is shredded.

use chrono::{DateTime, Utc};

use super::*;

impl Store {
    /// Erase a stored message: its record, log entry and raw bytes (wiped on disk) go; its
    /// thread forgets it (and goes when empty); AP invoice records it carried stay, with the
    /// link to the message replaced and a vendor that was only the sender's address
    /// pseudonymised. A tombstone keeps the message from being stored again (the server still
    /// has it). The caller removes it from the index.
    pub fn erase_message(
        &self,
        id: &MessageId,
        reason: &str,
    ) -> Result<Option<ErasedMessage>, StoreError> {
        let Some(stored) = self.message(id)? else {
            return Ok(None);
        };
        let mut tx = self.begin_erasure();
        let idb = id.0.as_bytes();
        tx.remove(S_MESSAGES, idb);
        tx.remove(S_LOG, &stored.seq.to_be_bytes());
        tx.insert(
            S_ERASED,
            idb,
            enc(&serde_json::json!({ "at": Utc::now(), "reason": reason }))?,
        );
        decrement(&mut tx, C_MESSAGES)?;
        decrement(
            &mut tx,
            format!("{C_MAILBOX_PREFIX}{}", stored.message.mailbox).as_bytes(),
        )?;
        let thread_removed = forget_in_thread(&mut tx, &stored)?;
        // Accounting records stay; the person does not.
        let sender = stored
            .message
            .from
            .as_ref()
            .and_then(|a| a.email.clone())
            .unwrap_or_default();
        let mut invoices_kept = 0;
        // The invoice record this message was filed under: the same key the commit used.
        let invoice = invoice_key(&stored.message, &stored.decision).map(|(_, _, k)| k);
        if let Some(k) = invoice
            && let Some(mut rec) = tx.get_json::<InvoiceRecord>(S_INVOICES, k.as_bytes())?
            && rec.messages.contains(id)
        {
            for m in &mut rec.messages {
                if m == id {
                    *m = MessageId(format!("erased-{}", &id.0[..8]));
                }
            }
            if !sender.is_empty() && rec.vendor.eq_ignore_ascii_case(&sender) {
                rec.vendor = crate::model::pseudonym(&sender);
            }
            tx.insert(S_INVOICES, k.as_bytes(), enc(&rec)?);
            invoices_kept += 1;
        }
        // Replies to the erased message name the person too: they go, with their thread index
        // entry and the reply-period marker.
        let thread_replies: Vec<super::kv::Bytes> = self
            .tree
            .scan_prefix(key(
                S_THREAD_REPLIES,
                format!("{}\0", stored.thread_id.0).as_bytes(),
            ))
            .keys()
            .collect::<Result<_, _>>()?;
        for k in thread_replies {
            let outbox_id = strip(&k)
                .rsplit('\0')
                .next()
                .unwrap_or_default()
                .to_string();
            if let Some(r) = tx.get_json::<OutboxRecord>(S_OUTBOX, outbox_id.as_bytes())?
                && r.source_message == id.0
            {
                tx.remove(S_OUTBOX, outbox_id.as_bytes());
                tx.remove(S_THREAD_REPLIES, &k[2..]);
                let rate = format!("{}\0{}", r.mail.to.to_ascii_lowercase(), r.thread_id);
                tx.remove(S_REPLIED, rate.as_bytes());
            }
        }
        tx.apply()?;
        self.blobs.wipe(stored.raw)?;
        self.tree.flush()?;
        Ok(Some(ErasedMessage {
            id: id.clone(),
            thread_id: stored.thread_id,
            thread_removed,
            invoices_kept,
        }))
    }

    /// The rest of a data-protection erasure, once the address's messages are gone. Outbox
    /// records addressed to it (reminders and replies, sent or not) go, with their thread
    /// entries and reply-period markers. Records that only name it (the team's dispute notice)
    /// stay with the address replaced by its pseudonym: their ids keep them from being sent
    /// again. Receivables billed to it stay for the books, pseudonymised, and get no reminders.
    pub fn erase_contact_records(&self, address: &str) -> Result<ContactErasure, StoreError> {
        let address = address.to_lowercase();
        let alias = crate::model::pseudonym(&address);
        let named = regex::RegexBuilder::new(&regex::escape(&address))
            .case_insensitive(true)
            .build()
            .expect("an escaped literal is a valid pattern");
        let mut tx = self.begin_erasure();
        let mut done = ContactErasure::default();
        for r in self.records::<OutboxRecord>(S_OUTBOX) {
            let (_, mut r) = r?;
            let m = &mut r.mail;
            if !m.concerns(&address) {
                continue;
            }
            if !m.to.eq_ignore_ascii_case(&address) {
                for text in m.texts_mut() {
                    *text = named.replace_all(text, alias.as_str()).into_owned();
                }
                tx.insert(S_OUTBOX, r.id.as_bytes(), enc(&r)?);
                done.outbox_redacted.push(r.id);
                continue;
            }
            tx.remove(S_OUTBOX, r.id.as_bytes());
            if !r.thread_id.is_empty() {
                tx.remove(
                    S_THREAD_REPLIES,
                    format!("{}\0{}", r.thread_id, r.id).as_bytes(),
                );
                let rate = format!("{}\0{}", m.to.to_ascii_lowercase(), r.thread_id);
                tx.remove(S_REPLIED, rate.as_bytes());
            }
            done.outbox_removed.push(r.id);
        }
        for r in self.records::<Receivable>(S_RECEIVABLES) {
            let (_, mut r) = r?;
            if r.customer_email.eq_ignore_ascii_case(&address) {
                r.customer_email = alias.clone();
                tx.insert(
                    S_RECEIVABLES,
                    receivable_key(&r.invoice_number).as_bytes(),
                    enc(&r)?,
                );
                done.receivables_pseudonymised += 1;
            }
        }
        tx.apply()?;
        self.tree.flush()?;
        Ok(done)
    }
}

/// The erased message leaves its thread: an empty thread goes with its subject entry, another
/// one shows the subject of its oldest remaining message. True: the thread went.
fn forget_in_thread(tx: &mut Tx<'_>, stored: &StoredMessage) -> Result<bool, StoreError> {
    let mut removed = false;
    if let Some(mut thread) = tx.get_thread(&stored.thread_id)? {
        threads::remove_member(tx, &stored.thread_id, stored.seq);
        thread.count = thread.count.saturating_sub(1);
        if thread.count == 0 {
            tx.remove(S_THREADS, stored.thread_id.0.as_bytes());
            let subject = stored.message.normalized_subject.as_bytes();
            if let Some(mut entry) = threads::subject_entry(tx, subject)? {
                if entry.forget(&stored.thread_id) {
                    tx.remove(S_SUBJECTS, subject);
                } else {
                    threads::write_subject_entry(tx, subject, &entry)?;
                }
            }
            decrement(tx, C_THREADS)?;
            removed = true;
        } else {
            // The subject shown for the thread must not be the erased message's.
            let mut oldest: Option<(Option<DateTime<Utc>>, String)> = None;
            // The batch's own removal of this member is seen by the scan.
            for (_, m) in threads::members(tx, &stored.thread_id)? {
                if let Some(rec) = tx.get_json::<StoredMessage>(S_MESSAGES, m.0.as_bytes())?
                    && oldest.as_ref().is_none_or(|(d, _)| rec.message.date < *d)
                {
                    oldest = Some((rec.message.date, rec.message.subject.clone()));
                }
            }
            if let Some((date, subject)) = oldest {
                thread.first_date = date;
                thread.subject = subject;
            }
            tx.put_thread(&stored.thread_id, &thread)?;
        }
    }
    Ok(removed)
}

fn decrement(tx: &mut Tx<'_>, name: &[u8]) -> Result<(), StoreError> {
    let n = tx.counter(name)?;
    tx.set_counter(name, n.saturating_sub(1));
    Ok(())
}
