//! The outbox in the store: replies, reminders and dispute notices with their state, the
//! reminders queued with the cadence steps they cover.

use chrono::{DateTime, Utc};

use super::*;

impl Store {
    /// Write an outbox record (`flush`: make it durable before going on, e.g. before sending).
    pub fn outbox_put(&self, rec: &OutboxRecord, flush: bool) -> Result<(), StoreError> {
        let mut tx = self.begin();
        tx.insert(S_OUTBOX, rec.id.as_bytes(), enc(rec)?);
        tx.apply()?;
        if flush {
            self.tree.flush()?;
        }
        Ok(())
    }

    pub fn outbox_get(&self, id: &str) -> Result<Option<OutboxRecord>, StoreError> {
        self.get_json(S_OUTBOX, id.as_bytes())
    }

    /// Every outbox record, oldest first.
    pub fn outbox_list(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut v: Vec<OutboxRecord> = self
            .records(S_OUTBOX)
            .map(|r| Ok(r?.1))
            .collect::<Result<_, StoreError>>()?;
        v.sort_by_key(|r| r.created_at);
        Ok(v)
    }

    /// The replies deskmail made in one thread, oldest first.
    pub fn outbox_for_thread(&self, thread: &ThreadId) -> Result<Vec<OutboxRecord>, StoreError> {
        let mut v = Vec::new();
        for k in self
            .tree
            .scan_prefix(key(S_THREAD_REPLIES, format!("{}\0", thread.0).as_bytes()))
            .keys()
        {
            let k = strip(&k?);
            if let Some(r) = self.outbox_get(k.rsplit('\0').next().unwrap_or_default())? {
                v.push(r);
            }
        }
        v.sort_by_key(|r| r.created_at);
        Ok(v)
    }

    /// Queued records whose time has come.
    pub fn outbox_due(&self, now: DateTime<Utc>) -> Result<Vec<OutboxRecord>, StoreError> {
        Ok(self
            .outbox_list()?
            .into_iter()
            .filter(|r| {
                r.state == OutboxState::Queued && r.next_attempt_at.is_none_or(|t| t <= now)
            })
            .collect())
    }

    /// At start: records left `sending` by a stopped daemon become `uncertain`.
    pub fn outbox_mark_uncertain(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        for mut r in self.outbox_list()? {
            if r.state == OutboxState::Sending {
                r.state = OutboxState::Uncertain;
                r.updated_at = Utc::now();
                r.last_error = Some("the daemon stopped while sending: maybe delivered".into());
                self.outbox_put(&r, false)?;
                n += 1;
            }
        }
        self.tree.flush()?;
        Ok(n)
    }

    /// Put the record back in the queue (after a failure, or an uncertain send someone checked).
    pub fn outbox_retry(&self, id: &str) -> Result<Option<OutboxRecord>, StoreError> {
        let Some(mut r) = self.outbox_get(id)? else {
            return Ok(None);
        };
        r.state = OutboxState::Queued;
        r.next_attempt_at = None;
        r.updated_at = Utc::now();
        self.outbox_put(&r, true)?;
        Ok(Some(r))
    }

    /// Queue a payment reminder and record, in the same batch, the cadence steps it covers
    /// (invoice number, step offset): the plan never offers those steps again, and a record id
    /// that exists is never queued twice. Durable when it returns. False: already queued.
    pub fn queue_reminder(
        &self,
        rec: &OutboxRecord,
        steps: &[(String, i32)],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin();
        if tx.contains(S_OUTBOX, rec.id.as_bytes())? {
            return Ok(false);
        }
        for (number, offset) in steps {
            let k = receivable_key(number);
            if let Some(mut r) = tx.get_json::<Receivable>(S_RECEIVABLES, k.as_bytes())? {
                if !r.steps_sent.contains(offset) {
                    r.steps_sent.push(*offset);
                }
                tx.insert(S_RECEIVABLES, k.as_bytes(), enc(&r)?);
            }
        }
        tx.insert(S_OUTBOX, rec.id.as_bytes(), enc(rec)?);
        tx.apply()?;
        self.tree.flush()?;
        Ok(true)
    }

    /// Queue a record unless one with its id exists (deterministic ids make this exactly once);
    /// a record about a thread is listed with the thread's replies. False: already there.
    pub fn queue_once(&self, rec: &OutboxRecord) -> Result<bool, StoreError> {
        let mut tx = self.begin();
        if tx.contains(S_OUTBOX, rec.id.as_bytes())? {
            return Ok(false);
        }
        tx.insert(S_OUTBOX, rec.id.as_bytes(), enc(rec)?);
        if !rec.thread_id.is_empty() {
            tx.insert(
                S_THREAD_REPLIES,
                format!("{}\0{}", rec.thread_id, rec.id).as_bytes(),
                Vec::new(),
            );
        }
        tx.apply()?;
        self.tree.flush()?;
        Ok(true)
    }
}
