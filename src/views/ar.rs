//! The AR view: each imported receivable with how late it is on a given day, the last reminder
//! deskmail queued about it and the inbox message that set its status. `GET /api/receivables`
//! answers with it and the page's Receivables view shows it. The day is passed in; the store is
//! read once for the outbox and once per message that set a status.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::ViewError;
use crate::model::MessageId;
use crate::outbound::{OutboxRecord, OutboxState};
use crate::receivables::{Receivable, receivable_key};
use crate::store::{Store, StoredMessage};

/// One receivable as the AR view shows it: the stored record (every field as before) and what
/// is worked out around it.
#[derive(Debug, Clone, Serialize)]
pub struct ReceivableRow {
    #[serde(flatten)]
    pub receivable: Receivable,
    /// Days past the due date on the view's day (negative: days still to go).
    pub days_overdue: i64,
    /// Past due and still chased: open, or promised for a day that has passed.
    pub overdue: bool,
    /// The latest reminder queued about this invoice, whatever became of it.
    pub last_reminder: Option<LastReminder>,
    /// The inbox message that set the status (remittance, dispute, promise to pay).
    pub status_event: Option<StatusEvent>,
}

/// A reminder from the outbox, as far as the AR view needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastReminder {
    pub id: String,
    /// The cadence step (days from the due date) it was for this invoice; None on a reminder
    /// queued before outbox records named their invoices (found by its text instead).
    pub step: Option<i32>,
    pub state: OutboxState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub subject: String,
    pub last_error: Option<String>,
}

/// The message that changed a receivable's status: enough to name it and open its thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusEvent {
    pub message_id: String,
    /// The rest is None when the message is no longer stored (erased, or past retention).
    pub thread_id: Option<String>,
    pub subject: Option<String>,
    /// The message's Date header, else when it was stored.
    pub date: Option<DateTime<Utc>>,
    pub category: Option<String>,
}

/// The AR view of `receivables` on `today`, in the order given.
pub fn receivable_rows(
    store: &Store,
    receivables: Vec<Receivable>,
    today: NaiveDate,
) -> Result<Vec<ReceivableRow>, ViewError> {
    let outbox = store.outbox_list()?;
    receivables
        .into_iter()
        .map(|r| {
            let event = match r.status_message() {
                Some(id) => {
                    let stored = store.message(&MessageId(id.to_string()))?;
                    Some(status_event(id, stored.as_ref()))
                }
                None => None,
            };
            Ok(row(r, today, &outbox, event))
        })
        .collect()
}

/// One row: the receivable on `today`, its last reminder among `outbox`, the event given.
pub fn row(
    receivable: Receivable,
    today: NaiveDate,
    outbox: &[OutboxRecord],
    status_event: Option<StatusEvent>,
) -> ReceivableRow {
    let last_reminder = last_reminder(&receivable, outbox).map(|(rec, step)| LastReminder {
        id: rec.id.clone(),
        step,
        state: rec.state,
        created_at: rec.created_at,
        updated_at: rec.updated_at,
        subject: rec.mail.subject.clone(),
        last_error: rec.last_error.clone(),
    });
    ReceivableRow {
        days_overdue: receivable.days_overdue(today),
        overdue: receivable.is_overdue(today),
        receivable,
        last_reminder,
        status_event,
    }
}

/// What the view says about the message `id` that set a status (`stored`: None if it is gone).
pub fn status_event(id: &str, stored: Option<&StoredMessage>) -> StatusEvent {
    StatusEvent {
        message_id: id.to_string(),
        thread_id: stored.map(|m| m.thread_id.0.clone()),
        subject: stored.map(|m| m.message.subject.clone()),
        date: stored.map(|m| m.message.date.unwrap_or(m.stored_at)),
        category: stored.map(|m| m.decision.category.clone()),
    }
}

/// The latest reminder about `r` (by when it was queued) and its step for `r`.
pub fn last_reminder<'a>(
    r: &Receivable,
    outbox: &'a [OutboxRecord],
) -> Option<(&'a OutboxRecord, Option<i32>)> {
    outbox
        .iter()
        .filter_map(|rec| reminder_step(r, rec).map(|step| (rec, step)))
        .max_by_key(|(rec, _)| rec.created_at)
}

/// Some(step) when `rec` is a reminder about `r`. A reminder names its invoices; one queued
/// before it did is recognised as a record with no source message, sent to the customer,
/// whose subject or text names the invoice number as a whole word (step unknown).
fn reminder_step(r: &Receivable, rec: &OutboxRecord) -> Option<Option<i32>> {
    if !rec.invoices.is_empty() {
        let key = receivable_key(&r.invoice_number);
        return rec
            .invoices
            .iter()
            .find(|s| receivable_key(&s.invoice_number) == key)
            .map(|s| Some(s.step));
    }
    let older = rec.source_message.is_empty()
        && rec.thread_id.is_empty()
        && rec.mail.to.eq_ignore_ascii_case(&r.customer_email)
        && (names(&rec.mail.subject, &r.invoice_number)
            || names(&rec.mail.body_text, &r.invoice_number));
    older.then_some(None)
}

/// Does `text` name `number` as a whole word ("INV-1" is not named by "INV-10")?
fn names(text: &str, number: &str) -> bool {
    if number.is_empty() {
        return false;
    }
    let part_of_number = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '/');
    text.match_indices(number).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + number.len()..].chars().next();
        !before.is_some_and(part_of_number) && !after.is_some_and(part_of_number)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::{Outgoing, ReminderStep};
    use crate::receivables::ReceivableStatus;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn receivable(number: &str, due: &str) -> Receivable {
        Receivable {
            invoice_number: number.into(),
            customer: "Acme".into(),
            customer_email: "ap@acme.example".into(),
            amount: "100.00".into(),
            currency: "EUR".into(),
            issue_date: d("2026-10-01"),
            due_date: d(due),
            timezone: None,
            status: ReceivableStatus::Open,
            steps_sent: vec![],
            waiting_review: None,
        }
    }

    fn record(id: &str, at: &str, to: &str, body: &str, steps: &[(&str, i32)]) -> OutboxRecord {
        let at: DateTime<Utc> = at.parse().unwrap();
        OutboxRecord {
            id: id.into(),
            state: OutboxState::Sent,
            created_at: at,
            updated_at: at,
            attempts: 1,
            next_attempt_at: None,
            last_error: None,
            mail: Outgoing {
                from: "ar@ourcompany.example".into(),
                to: to.into(),
                subject: "Payment reminder".into(),
                message_id: format!("{id}@ourcompany.example"),
                in_reply_to: None,
                references: vec![],
                body_text: body.into(),
                body_html: None,
                template: "ar-reminder".into(),
            },
            source_message: String::new(),
            thread_id: String::new(),
            rerender: false,
            invoices: steps
                .iter()
                .map(|(n, s)| ReminderStep {
                    invoice_number: n.to_string(),
                    step: *s,
                })
                .collect(),
        }
    }

    #[test]
    fn the_last_reminder_is_the_newest_that_names_the_invoice() {
        let r = receivable("INV-1", "2026-11-01");
        let outbox = vec![
            record(
                "a",
                "2026-11-02T09:00:00Z",
                "ap@acme.example",
                "",
                &[("INV-1", 0)],
            ),
            record(
                "b",
                "2026-11-08T09:00:00Z",
                "ap@acme.example",
                "",
                &[("INV-1", 7), ("INV-2", -3)],
            ),
            // Newer, but about another invoice only.
            record(
                "c",
                "2026-11-20T09:00:00Z",
                "ap@acme.example",
                "INV-1 was paid",
                &[("INV-10", 14)],
            ),
            // A reply in a thread, to the customer, naming the number: not a reminder.
            OutboxRecord {
                source_message: "m1".into(),
                thread_id: "t1".into(),
                ..record("d", "2026-11-21T09:00:00Z", "ap@acme.example", "INV-1", &[])
            },
        ];
        let (rec, step) = last_reminder(&r, &outbox).unwrap();
        assert_eq!((rec.id.as_str(), step), ("b", Some(7)));
        assert!(last_reminder(&receivable("INV-3", "2026-11-01"), &outbox).is_none());
    }

    #[test]
    fn a_reminder_from_before_records_named_invoices_is_found_by_its_text() {
        let r = receivable("INV-1", "2026-11-01");
        let outbox = vec![
            record(
                "old",
                "2026-11-08T09:00:00Z",
                "AP@acme.example",
                "INV-1    100.00 EUR  7 days overdue",
                &[],
            ),
            // Names INV-10, not INV-1; and one to someone else.
            record(
                "other",
                "2026-11-09T09:00:00Z",
                "ap@acme.example",
                "INV-10 100.00 EUR",
                &[],
            ),
            record(
                "else",
                "2026-11-10T09:00:00Z",
                "ap@beta.example",
                "INV-1",
                &[],
            ),
        ];
        let (rec, step) = last_reminder(&r, &outbox).unwrap();
        assert_eq!((rec.id.as_str(), step), ("old", None));
        assert!(names("invoice INV-1.", "INV-1"));
        assert!(!names("INV-1-B", "INV-1"));
        assert!(!names("XINV-1", "INV-1"));
    }

    #[test]
    fn a_row_counts_days_against_the_day_given() {
        let r = receivable("INV-1", "2026-12-10");
        let early = row(r.clone(), d("2026-12-04"), &[], None);
        assert_eq!((early.days_overdue, early.overdue), (-6, false));
        let late = row(r, d("2026-12-14"), &[], None);
        assert_eq!((late.days_overdue, late.overdue), (4, true));
        assert!(late.last_reminder.is_none());
        let json = serde_json::to_value(&late).unwrap();
        // The stored record's fields stay where they were; the view's are added beside them.
        assert_eq!(json["invoice_number"], "INV-1");
        assert_eq!(json["status"], "open");
        assert_eq!(json["due_date"], "2026-12-10");
        assert_eq!(json["days_overdue"], 4);
        assert_eq!(json["last_reminder"], serde_json::Value::Null);
        assert_eq!(status_event("m9", None).thread_id, None);
    }
}
