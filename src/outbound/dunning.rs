//! Payment reminders and dispute notices: the `[dunning]` cadence's plan turned into outbox
//! records.
//!
//! [`Dunning::tick`] runs every minute in the daemon (and once in `run --once`, at `--now`).
//! For each customer the plan names it renders the latest due step's template with all of the
//! customer's invoices, and writes the outbox record **and** the steps it covers in one store
//! batch: a step is queued exactly once however often the tick runs or the daemon restarts.
//! A dispute the inbox recorded gets one notice to the team (`notify`); its id comes from the
//! invoice and the disputing message, so a second tick finds it queued already.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use tracing::{error, info};

use super::send::OutboundConfig;
use super::{Draft, OutboxRecord, Outgoing, ReminderStep, TemplateError, Templates, outbox_ids};
use crate::receivables::{Cadence, PlannedReminder, Receivable, ReceivableStatus};
use crate::store::{Store, StoreError};

/// What reminders and notices need besides the cadence.
pub struct Dunning {
    pub cadence: Cadence,
    pub templates: Templates,
    /// From address of reminders and notices.
    pub from: String,
    /// Dry run: record as held, never send.
    pub hold: bool,
}

/// One invoice as a template sees it.
#[derive(Debug, Clone, Serialize)]
pub struct InvoiceVars {
    pub number: String,
    pub amount: String,
    pub currency: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Days past the due date (negative: days before it).
    pub days_overdue: i64,
    /// The cadence step this email is for this invoice.
    pub step: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Total {
    pub currency: String,
    pub amount: String,
}

/// Variables of a reminder template.
#[derive(Debug, Clone, Serialize)]
pub struct ReminderVars {
    pub customer: String,
    pub customer_email: String,
    pub our_address: String,
    pub today: NaiveDate,
    /// The latest step among the invoices (the one that chose the template).
    pub step: i32,
    pub invoices: Vec<InvoiceVars>,
    /// Sum per currency.
    pub totals: Vec<Total>,
    /// The invoices as an aligned plain-text table, ready to drop into a template.
    pub invoice_table: String,
    /// The totals in one line, e.g. "1200.50 EUR + 80.00 USD".
    pub total_text: String,
}

/// Variables of the dispute notice template.
#[derive(Debug, Clone, Serialize)]
pub struct DisputeVars {
    pub customer: String,
    pub customer_email: String,
    pub invoice: InvoiceVars,
    pub message_id: String,
    pub message_subject: String,
    pub message_from: String,
    pub thread_id: String,
    pub today: NaiveDate,
}

/// What one tick queued.
#[derive(Debug, Default, Clone, Serialize)]
pub struct TickReport {
    pub reminders: usize,
    pub notices: usize,
}

impl Dunning {
    /// From `[dunning]` and `[outbound]` (templates directory, From address, dry run).
    pub fn new(cadence: &Cadence, o: &OutboundConfig) -> Result<Dunning, TemplateError> {
        Ok(Dunning {
            cadence: cadence.clone(),
            templates: Templates::from_option(o.templates.as_deref())?,
            from: cadence.from.clone().unwrap_or_else(|| o.from.clone()),
            hold: o.dry_run,
        })
    }

    /// Every step's template and the notice template render with exactly the variables they
    /// will get (a misspelt variable is an error at `config check`, not at send time).
    pub fn check(&self) -> Vec<String> {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date");
        let invoice = InvoiceVars {
            number: "X".into(),
            amount: "1.00".into(),
            currency: "EUR".into(),
            issue_date: day,
            due_date: day,
            days_overdue: 0,
            step: 0,
        };
        let reminder = ReminderVars {
            customer: "x".into(),
            customer_email: "x@x".into(),
            our_address: "x@x".into(),
            today: day,
            step: 0,
            invoices: vec![invoice.clone()],
            totals: vec![Total {
                currency: "EUR".into(),
                amount: "1.00".into(),
            }],
            invoice_table: String::new(),
            total_text: String::new(),
        };
        let mut errors: Vec<String> = self
            .cadence
            .steps
            .iter()
            .filter_map(|s| {
                self.templates
                    .check_context(&s.template, &reminder)
                    .err()
                    .map(|e| format!("[dunning] step {:+}: {e}", s.offset))
            })
            .collect();
        if self.cadence.notify.is_some() {
            let notice = DisputeVars {
                customer: "x".into(),
                customer_email: "x@x".into(),
                invoice,
                message_id: "x".into(),
                message_subject: "x".into(),
                message_from: "x".into(),
                thread_id: "x".into(),
                today: day,
            };
            if let Err(e) = self
                .templates
                .check_context(&self.cadence.dispute_template, &notice)
            {
                errors.push(format!("[dunning] notify: {e}"));
            }
        }
        errors
    }

    /// Queue what is due at `now`: reminders per the plan, notices for new disputes.
    pub fn tick(&self, store: &Store, now: DateTime<Utc>) -> Result<TickReport, StoreError> {
        let receivables = store.receivables()?;
        let by_number: BTreeMap<String, &Receivable> = receivables
            .iter()
            .map(|r| (r.invoice_number.clone(), r))
            .collect();
        let mut report = TickReport::default();
        for planned in crate::receivables::plan(&receivables, &self.cadence, now) {
            let Some((draft, steps)) = self.reminder(&planned, &by_number, now) else {
                continue;
            };
            let mut rec = OutboxRecord::new(&draft, "", "", now);
            rec.invoices = steps
                .iter()
                .map(|(number, step)| ReminderStep {
                    invoice_number: number.clone(),
                    step: *step,
                })
                .collect();
            if store.queue_reminder(&rec, &steps)? {
                info!(id = %rec.id, template = %draft.mail.template, invoices = steps.len(), "Reminder queued");
                report.reminders += 1;
                crate::metrics::reminders_planned(1);
            }
        }
        if let Some(team) = &self.cadence.notify {
            for r in &receivables {
                let ReceivableStatus::Disputed {
                    by_message: Some(message),
                } = &r.status
                else {
                    continue;
                };
                // Told already: skip before reading the message and rendering the notice.
                let cause = format!("dispute\0{}\0{message}", r.invoice_number);
                if store
                    .outbox_get(&outbox_ids(&cause, &self.from).0)?
                    .is_some()
                {
                    continue;
                }
                let Some(rec) = self.dispute_notice(store, r, message, &cause, team, now)? else {
                    continue;
                };
                if store.queue_once(&rec)? {
                    info!(id = %rec.id, invoice = %r.invoice_number, "Dispute notice queued");
                    report.notices += 1;
                }
            }
        }
        Ok(report)
    }

    fn reminder(
        &self,
        planned: &PlannedReminder,
        by_number: &BTreeMap<String, &Receivable>,
        now: DateTime<Utc>,
    ) -> Option<(Draft, Vec<(String, i32)>)> {
        let today = now.date_naive();
        let mut invoices = Vec::new();
        let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
        for (number, step, _why) in &planned.invoices {
            let r = by_number.get(number)?;
            let vars = invoice_vars(r, *step, today);
            if let Ok(a) = r.amount.parse::<Decimal>() {
                *totals.entry(r.currency.clone()).or_default() += a;
            }
            invoices.push(vars);
        }
        let steps: Vec<(String, i32)> = planned
            .invoices
            .iter()
            .map(|(n, s, _)| (n.clone(), *s))
            .collect();
        let totals: Vec<Total> = totals
            .into_iter()
            .map(|(currency, amount)| Total {
                currency,
                amount: amount.round_dp(2).to_string(),
            })
            .collect();
        let vars = ReminderVars {
            customer: planned.customer.clone(),
            customer_email: planned.customer_email.clone(),
            our_address: self.from.clone(),
            today,
            step: steps.iter().map(|(_, s)| *s).max().unwrap_or_default(),
            invoice_table: invoice_table(&invoices),
            total_text: totals
                .iter()
                .map(|t| format!("{} {}", t.amount, t.currency))
                .collect::<Vec<_>>()
                .join(" + "),
            invoices,
            totals,
        };
        // Same customer, day and steps: same id, so a repeated tick queues nothing new.
        let mut key = format!(
            "reminder\0{}\0{today}",
            planned.customer_email.to_ascii_lowercase()
        );
        for (n, s) in &steps {
            key.push_str(&format!("\0{n}:{s}"));
        }
        let numbers: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
        let default_subject = format!("Payment reminder: invoice {}", numbers.join(", "));
        let draft = self.draft(
            &key,
            &planned.template,
            &vars,
            &planned.customer_email,
            default_subject,
        )?;
        Some((draft, steps))
    }

    fn dispute_notice(
        &self,
        store: &Store,
        r: &Receivable,
        message: &str,
        cause: &str,
        team: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OutboxRecord>, StoreError> {
        let stored = store.message(&crate::model::MessageId(message.to_string()))?;
        let (subject, sender, thread) = match &stored {
            Some(m) => (
                m.message.subject.clone(),
                m.message
                    .from
                    .as_ref()
                    .and_then(|a| a.email.clone())
                    .unwrap_or_default(),
                m.thread_id.0.clone(),
            ),
            None => Default::default(),
        };
        let vars = DisputeVars {
            customer: r.customer.clone(),
            customer_email: r.customer_email.clone(),
            invoice: invoice_vars(r, 0, now.date_naive()),
            message_id: message.to_string(),
            message_subject: subject,
            message_from: sender,
            thread_id: thread.clone(),
            today: now.date_naive(),
        };
        let default_subject = format!("Disputed: invoice {} ({})", r.invoice_number, r.customer);
        Ok(self
            .draft(
                cause,
                &self.cadence.dispute_template,
                &vars,
                team,
                default_subject,
            )
            .map(|d| OutboxRecord::new(&d, message, &thread, now)))
    }

    /// Render `template` into a draft whose id comes from `key`. A template may start with a
    /// `Subject:` line; otherwise `default_subject`. None (logged) when rendering fails.
    fn draft(
        &self,
        key: &str,
        template: &str,
        vars: &impl Serialize,
        to: &str,
        default_subject: String,
    ) -> Option<Draft> {
        let (text, html) = match self.templates.render_context(template, vars) {
            Some(Ok(parts)) => parts,
            Some(Err(e)) => {
                error!(template, error = %e, "Reminder template failed");
                return None;
            }
            None => {
                error!(template, "No such reminder template");
                return None;
            }
        };
        let (subject, body_text) = split_subject(&text);
        let (id, message_id) = outbox_ids(key, &self.from);
        Some(Draft {
            id,
            mail: Outgoing {
                from: self.from.clone(),
                to: to.to_string(),
                subject: subject.unwrap_or(default_subject),
                message_id,
                in_reply_to: None,
                references: Vec::new(),
                body_text,
                body_html: html,
                template: template.to_string(),
            },
            period_hours: 0,
            hold: self.hold,
        })
    }
}

fn invoice_vars(r: &Receivable, step: i32, today: NaiveDate) -> InvoiceVars {
    InvoiceVars {
        number: r.invoice_number.clone(),
        amount: r.amount.clone(),
        currency: r.currency.clone(),
        issue_date: r.issue_date,
        due_date: r.due_date,
        days_overdue: r.days_overdue(today),
        step,
    }
}

/// One line per invoice: number, amount, due date and how far from it.
fn invoice_table(invoices: &[InvoiceVars]) -> String {
    let width = invoices
        .iter()
        .map(|i| i.number.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let amounts: Vec<String> = invoices
        .iter()
        .map(|i| format!("{} {}", i.amount, i.currency))
        .collect();
    let aw = amounts.iter().map(String::len).max().unwrap_or(0).max(6);
    let mut out = format!(
        "  {:<width$}  {:>aw$}  {:<10}\n",
        "Invoice", "Amount", "Due"
    );
    for (i, amount) in invoices.iter().zip(&amounts) {
        let when = match i.days_overdue {
            0 => "due today".to_string(),
            1 => "1 day overdue".to_string(),
            d if d > 1 => format!("{d} days overdue"),
            -1 => "due tomorrow".to_string(),
            d => format!("due in {} days", -d),
        };
        out.push_str(&format!(
            "  {:<width$}  {:>aw$}  {}  {when}\n",
            i.number, amount, i.due_date
        ));
    }
    out
}

/// A rendered template's optional first line `Subject: ...`, and the body after it.
fn split_subject(text: &str) -> (Option<String>, String) {
    let trimmed = text.trim_start_matches(['\r', '\n']);
    if let Some(rest) = trimmed.strip_prefix("Subject:") {
        let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
        let subject = line.trim().to_string();
        if !subject.is_empty() {
            return (
                Some(subject),
                body.trim_start_matches(['\r', '\n']).to_string(),
            );
        }
    }
    (None, text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_can_carry_its_subject() {
        assert_eq!(
            split_subject("Subject: Reminder: 2 invoices\n\nDear Acme,\n"),
            (Some("Reminder: 2 invoices".into()), "Dear Acme,\n".into())
        );
        assert_eq!(
            split_subject("Dear Acme,\nSubject: not a header here\n"),
            (None, "Dear Acme,\nSubject: not a header here\n".into())
        );
        assert_eq!(split_subject("Subject:\nbody").0, None, "empty subject");
    }

    #[test]
    fn the_invoice_table_says_how_far_each_due_date_is() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let inv = |number: &str, days: i64| InvoiceVars {
            number: number.into(),
            amount: "1200.50".into(),
            currency: "EUR".into(),
            issue_date: d("2026-11-01"),
            due_date: d("2026-12-01"),
            days_overdue: days,
            step: 0,
        };
        let t = invoice_table(&[inv("INV-2026-001", 12), inv("A-7", -3), inv("A-8", 0)]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(lines[1].starts_with("  INV-2026-001  1200.50 EUR  2026-12-01  12 days overdue"));
        assert!(lines[2].ends_with("due in 3 days"), "{t}");
        assert!(lines[3].ends_with("due today"), "{t}");
        // Columns line up.
        assert_eq!(lines[1].find("2026-12-01"), lines[2].find("2026-12-01"));
    }

    fn dunning(notify: Option<&str>) -> Dunning {
        let toml = r#"
            steps = [ { offset = -3, template = "ar-friendly" }, { offset = 0, template = "ar-due" },
                      { offset = 7, template = "ar-reminder" }, { offset = 30, template = "ar-final" } ]
        "#;
        let mut cadence: Cadence = toml::from_str(toml).unwrap();
        cadence.notify = notify.map(String::from);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        Dunning {
            cadence,
            templates: Templates::load(&dir).unwrap(),
            from: "ar@ourcompany.example".into(),
            hold: false,
        }
    }

    fn receivable(number: &str, email: &str, due: &str) -> Receivable {
        Receivable {
            invoice_number: number.into(),
            customer: "Acme GmbH".into(),
            customer_email: email.into(),
            amount: "1200.50".into(),
            currency: "EUR".into(),
            issue_date: "2026-11-01".parse().unwrap(),
            due_date: due.parse().unwrap(),
            timezone: None,
            status: ReceivableStatus::Open,
            steps_sent: vec![],
            waiting_review: None,
        }
    }

    #[test]
    fn a_tick_queues_each_step_once_with_the_steps_it_covers() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        store
            .import_receivables(&[
                receivable("A-1", "ap@acme.example", "2026-12-01"),
                receivable("A-2", "ap@acme.example", "2026-12-09"),
            ])
            .unwrap();
        let d = dunning(None);
        assert!(d.check().is_empty(), "{:?}", d.check());
        // Tuesday 2026-12-08, 10:00 UTC: A-1 is +7 (reminder), A-2 is -1 (friendly): one email.
        let now: DateTime<Utc> = "2026-12-08T10:00:00Z".parse().unwrap();
        let report = d.tick(&store, now).unwrap();
        assert_eq!(report.reminders, 1);
        let out = store.outbox_list().unwrap();
        assert_eq!(out.len(), 1);
        let r = &out[0];
        assert_eq!(r.mail.to, "ap@acme.example");
        assert_eq!(
            r.mail.template, "ar-reminder",
            "the latest step names the email"
        );
        assert!(
            r.mail.subject.starts_with("Payment reminder: 2 overdue"),
            "{}",
            r.mail.subject
        );
        assert!(r.mail.body_text.contains("A-1") && r.mail.body_text.contains("7 days overdue"));
        assert!(
            r.mail.body_text.contains("due tomorrow"),
            "{}",
            r.mail.body_text
        );
        assert!(
            r.mail.body_text.contains("2401.00 EUR"),
            "{}",
            r.mail.body_text
        );
        assert!(r.mail.in_reply_to.is_none());
        // The record names what it reminds of (the AR view shows each invoice's last reminder).
        let covered: Vec<(&str, i32)> = r
            .invoices
            .iter()
            .map(|s| (s.invoice_number.as_str(), s.step))
            .collect();
        assert_eq!(covered, vec![("A-1", 7), ("A-2", -3)]);
        let steps: Vec<Vec<i32>> = store
            .receivables()
            .unwrap()
            .iter()
            .map(|r| r.steps_sent.clone())
            .collect();
        assert_eq!(steps, vec![vec![7], vec![-3]]);
        // Later the same day and the next day: nothing new (A-2's step 0 is 12-09, tomorrow).
        assert_eq!(d.tick(&store, now).unwrap().reminders, 0);
        let next: DateTime<Utc> = "2026-12-09T10:00:00Z".parse().unwrap();
        assert_eq!(d.tick(&store, next).unwrap().reminders, 1, "A-2 due today");
        assert_eq!(d.tick(&store, next).unwrap().reminders, 0);
    }

    #[test]
    fn a_dispute_tells_the_team_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        store
            .import_receivables(&[receivable("A-1", "ap@acme.example", "2026-12-01")])
            .unwrap();
        store
            .set_receivable_status(
                "A-1",
                ReceivableStatus::Disputed {
                    by_message: Some("m-dispute".into()),
                },
            )
            .unwrap();
        let d = dunning(Some("ar-team@ourcompany.example"));
        assert!(d.check().is_empty(), "{:?}", d.check());
        let now: DateTime<Utc> = "2026-12-08T10:00:00Z".parse().unwrap();
        let report = d.tick(&store, now).unwrap();
        assert_eq!(
            (report.reminders, report.notices),
            (0, 1),
            "paused, and told"
        );
        assert_eq!(d.tick(&store, now).unwrap().notices, 0);
        let out = store.outbox_list().unwrap();
        assert_eq!(out[0].mail.to, "ar-team@ourcompany.example");
        assert!(
            out[0].mail.subject.contains("A-1"),
            "{}",
            out[0].mail.subject
        );
        assert!(
            out[0]
                .mail
                .body_text
                .contains("deskmail invoices status A-1 open")
        );
    }

    /// Finding 8 (issue 17): a reminder's HTML part escapes the ERP's values (a customer name
    /// is whatever the CSV says); the text part and the subject keep them as they are.
    #[test]
    fn finding_8_html_reminder_templates_escape_values() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store"), 8 << 20).unwrap();
        let hostile = r#"<script>alert(1)</script> "><img src=x onerror=alert(1)> & Co"#;
        let mut r = receivable("A-1", "ap@acme.example", "2026-12-01");
        r.customer = hostile.into();
        store.import_receivables(&[r]).unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir(&templates).unwrap();
        for step in ["ar-friendly", "ar-due", "ar-reminder", "ar-final"] {
            std::fs::write(
                templates.join(format!("{step}.txt")),
                "Subject: For {{ customer }}\nDear {{ customer }},\n",
            )
            .unwrap();
            std::fs::write(
                templates.join(format!("{step}.html")),
                "<p>Dear {{ customer }},</p>",
            )
            .unwrap();
        }
        let mut d = dunning(None);
        d.templates = Templates::load(&templates).unwrap();
        let now: DateTime<Utc> = "2026-12-08T10:00:00Z".parse().unwrap();
        assert_eq!(d.tick(&store, now).unwrap().reminders, 1);
        let mail = store.outbox_list().unwrap().remove(0).mail;
        assert_eq!(
            mail.body_html.as_deref(),
            Some(
                "<p>Dear &lt;script&gt;alert(1)&lt;&#x2f;script&gt; \
                 &quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; Co,</p>"
            )
        );
        assert_eq!(mail.body_text.trim_end(), format!("Dear {hostile},"));
        assert_eq!(mail.subject, format!("For {hostile}"));
    }

    #[test]
    fn a_misspelt_variable_in_a_reminder_template_is_caught_by_check() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ar-due.txt"), "Dear {{ custmer }}").unwrap();
        let mut d = dunning(Some("team@ourcompany.example"));
        d.templates = Templates::load(dir.path()).unwrap();
        let problems = d.check();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("step +0") && p.contains("custmer")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("no ") && p.contains("ar-reminder.txt"))
        );
        assert!(
            problems.iter().any(|p| p.contains("notify")),
            "{problems:?}"
        );
    }
}
