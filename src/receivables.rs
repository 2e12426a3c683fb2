//! Accounts receivable: open invoices imported from the ERP, what the inbox says about them
//! (paid, disputed, promised), and the dunning plan — which reminder goes to which customer on
//! which day. Time is always passed in (`today`, `now`), never read here.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// Where an invoice stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReceivableStatus {
    Open,
    /// A remittance or payment confirmation matched it: reminders stop.
    Paid {
        by_message: Option<String>,
    },
    /// The customer disputes it: reminders pause until a person reopens it.
    Disputed {
        by_message: Option<String>,
    },
    /// The customer promised to pay by this date: reminders pause until then.
    Promised {
        until: NaiveDate,
        by_message: Option<String>,
    },
}

impl ReceivableStatus {
    /// "open", "paid", "disputed" or "promised" (as in JSON and the CSV).
    pub fn name(&self) -> &'static str {
        match self {
            ReceivableStatus::Open => "open",
            ReceivableStatus::Paid { .. } => "paid",
            ReceivableStatus::Disputed { .. } => "disputed",
            ReceivableStatus::Promised { .. } => "promised",
        }
    }
}

/// One open receivable, as imported and as the inbox changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receivable {
    pub invoice_number: String,
    pub customer: String,
    pub customer_email: String,
    pub amount: String,
    pub currency: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    /// IANA time zone of the customer (quiet hours); UTC when not given.
    pub timezone: Option<String>,
    #[serde(flatten)]
    pub status: ReceivableStatus,
    /// Offsets (days from the due date) of the cadence steps already sent.
    #[serde(default)]
    pub steps_sent: Vec<i32>,
    /// A message about this invoice (a remittance, a dispute, a promise) waits in the review
    /// queue: no reminder goes out until a person has decided on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_review: Option<String>,
}

impl Receivable {
    /// Days past the due date on `today` (negative: the days still to go before it).
    pub fn days_overdue(&self, today: NaiveDate) -> i64 {
        (today - self.due_date).num_days()
    }

    /// Past due on `today` and still to be chased: open, or promised for a day that has passed.
    /// A disputed invoice waits for a person, a paid one is done.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.days_overdue(today) > 0
            && match &self.status {
                ReceivableStatus::Open => true,
                ReceivableStatus::Promised { until, .. } => *until < today,
                ReceivableStatus::Paid { .. } | ReceivableStatus::Disputed { .. } => false,
            }
    }

    /// The inbox message that set the status (a remittance, dispute or promise); None when the
    /// status came from the import or a person.
    pub fn status_message(&self) -> Option<&str> {
        match &self.status {
            ReceivableStatus::Open => None,
            ReceivableStatus::Paid { by_message }
            | ReceivableStatus::Disputed { by_message }
            | ReceivableStatus::Promised { by_message, .. } => by_message.as_deref(),
        }
    }
}

/// One problem in an import file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct ImportError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// The CSV columns, in any order; `timezone` and `status` are optional.
pub const COLUMNS: &[&str] = &[
    "invoice_number",
    "customer",
    "customer_email",
    "amount",
    "currency",
    "issue_date",
    "due_date",
    "status",
    "timezone",
];

/// Read an ERP export. Every bad line is reported (all at once); nothing is imported from a
/// file with errors.
pub fn import_csv(path: &Path) -> Result<Vec<Receivable>, Vec<ImportError>> {
    let shown = path.display().to_string();
    match std::fs::File::open(path) {
        Ok(file) => import_csv_reader(&shown, file),
        Err(e) => Err(vec![ImportError {
            path: shown,
            line: 0,
            message: e.to_string(),
        }]),
    }
}

/// [`import_csv`] on any reader; `shown` names the input in the errors. Split out so the parser
/// is tested and fuzzed on bytes (fuzz/fuzz_targets/csv_import.rs).
pub fn import_csv_reader<R: std::io::Read>(
    shown: &str,
    input: R,
) -> Result<Vec<Receivable>, Vec<ImportError>> {
    let err = |line: usize, message: String| ImportError {
        path: shown.to_string(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![err(1, e.to_string())]),
    };
    let mut errors: Vec<ImportError> = header_problems(&headers)
        .into_iter()
        .map(|m| err(1, m))
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let row = match record {
            Ok(record) => Row {
                headers: &headers,
                record,
            }
            .receivable(),
            Err(e) => Err(vec![e.to_string()]),
        };
        match row {
            Ok(r) => out.push(r),
            Err(problems) => errors.extend(problems.into_iter().map(|m| err(line, m))),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Unknown columns, then missing required ones.
fn header_problems(headers: &[String]) -> Vec<String> {
    let unknown = headers
        .iter()
        .filter(|h| !COLUMNS.contains(&h.as_str()))
        .map(|h| format!("unknown column {h:?} (columns: {})", COLUMNS.join(", ")));
    let missing = COLUMNS[..7]
        .iter()
        .filter(|required| !headers.iter().any(|h| h == *required))
        .map(|required| format!("missing column {required:?}"));
    unknown.chain(missing).collect()
}

/// One line of the import, its values by column name.
struct Row<'a> {
    headers: &'a [String],
    record: csv::StringRecord,
}

impl Row<'_> {
    fn get(&self, name: &str) -> String {
        self.headers
            .iter()
            .position(|h| h == name)
            .and_then(|c| self.record.get(c))
            .unwrap_or("")
            .to_string()
    }

    fn date(&self, name: &str, problems: &mut Vec<String>) -> Option<NaiveDate> {
        let text = self.get(name);
        let date = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
        if date.is_none() {
            problems.push(format!("{name} {text:?} is not YYYY-MM-DD"));
        }
        date
    }

    /// The receivable, or every problem of the line (in column order).
    fn receivable(&self) -> Result<Receivable, Vec<String>> {
        let mut problems = Vec::new();
        let issue = self.date("issue_date", &mut problems);
        let due = self.date("due_date", &mut problems);
        let amount = self.get("amount");
        if amount.parse::<rust_decimal::Decimal>().is_err() {
            problems.push(format!("amount {amount:?} is not a number like 1234.56"));
        }
        let email = self.get("customer_email");
        if !email.contains('@') {
            problems.push(format!("customer_email {email:?} is not an address"));
        }
        let number = self.get("invoice_number");
        if number.is_empty() {
            problems.push("invoice_number is empty".into());
        }
        let timezone = Some(self.get("timezone")).filter(|t| !t.is_empty());
        if let Some(tz) = &timezone
            && tz.parse::<chrono_tz::Tz>().is_err()
        {
            problems.push(format!(
                "timezone {tz:?} is not an IANA zone like Europe/Berlin"
            ));
        }
        let status = match self.get("status").to_ascii_lowercase().as_str() {
            "" | "open" => ReceivableStatus::Open,
            "paid" => ReceivableStatus::Paid { by_message: None },
            "disputed" => ReceivableStatus::Disputed { by_message: None },
            other => {
                problems.push(format!("status {other:?} must be open, paid or disputed"));
                ReceivableStatus::Open
            }
        };
        let (Some(issue_date), Some(due_date)) = (issue, due) else {
            return Err(problems);
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Receivable {
            invoice_number: number,
            customer: self.get("customer"),
            customer_email: email,
            amount,
            currency: self.get("currency").to_ascii_uppercase(),
            issue_date,
            due_date,
            timezone,
            status,
            steps_sent: Vec::new(),
            waiting_review: None,
        })
    }
}

/// `[dunning]` in deskmail.toml.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Cadence {
    /// Steps relative to the due date, e.g. -3, 0, 7, 14, 30, each with a template.
    pub steps: Vec<Step>,
    /// Move a step that falls on a weekend or holiday to the next business day.
    #[serde(default = "yes")]
    pub business_days_only: bool,
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// No reminder goes out in the customer's local time outside these hours.
    #[serde(default = "default_send_from")]
    pub send_from: NaiveTime,
    #[serde(default = "default_send_until")]
    pub send_until: NaiveTime,
    /// From address of reminders (default: `[outbound] from`).
    pub from: Option<String>,
    /// The team's address: told once when a customer disputes an invoice.
    pub notify: Option<String>,
    /// Template of that notice.
    #[serde(default = "default_dispute_template")]
    pub dispute_template: String,
}

fn yes() -> bool {
    true
}
fn default_dispute_template() -> String {
    "ar-dispute-notice".into()
}
fn default_send_from() -> NaiveTime {
    NaiveTime::from_hms_opt(8, 0, 0).expect("valid time")
}
fn default_send_until() -> NaiveTime {
    NaiveTime::from_hms_opt(18, 0, 0).expect("valid time")
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Days from the due date (negative: before it).
    pub offset: i32,
    pub template: String,
}

impl Cadence {
    fn is_business_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// The day a step falls on for this due date.
    pub fn step_date(&self, due: NaiveDate, offset: i32) -> NaiveDate {
        let mut d = due + Duration::days(i64::from(offset));
        if self.business_days_only {
            while !self.is_business_day(d) {
                d += Duration::days(1);
            }
        }
        d
    }
}

/// One email the plan says should go out now.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedReminder {
    pub customer: String,
    pub customer_email: String,
    /// The template of the latest step among the invoices.
    pub template: String,
    /// (invoice number, step offset, why).
    pub invoices: Vec<(String, i32, String)>,
}

/// What should go out at `now`: for each open invoice only its most recent step that is due
/// and not yet sent (after downtime: one catch-up, never a burst), consolidated into one email
/// per customer, and only inside the customer's sending hours.
pub fn plan(
    receivables: &[Receivable],
    cadence: &Cadence,
    now: DateTime<Utc>,
) -> Vec<PlannedReminder> {
    plan_with(receivables, cadence, now, true)
}

/// [`plan`]; `quiet_hours: false` plans a whole day at once (`reminders preview --on DATE`).
pub fn plan_with(
    receivables: &[Receivable],
    cadence: &Cadence,
    now: DateTime<Utc>,
    quiet_hours: bool,
) -> Vec<PlannedReminder> {
    let mut by_customer: BTreeMap<String, PlannedReminder> = BTreeMap::new();
    for r in receivables {
        let tz: chrono_tz::Tz = r
            .timezone
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        let local = now.with_timezone(&tz);
        let today = local.date_naive();
        match &r.status {
            ReceivableStatus::Open => {}
            ReceivableStatus::Promised { until, .. } if *until < today => {}
            _ => continue,
        }
        // The customer's contact was erased: the invoice stays for the books, unreminded.
        if crate::model::is_pseudonym(&r.customer_email) {
            continue;
        }
        // What the customer said about it is being checked: no reminder meanwhile.
        if r.waiting_review.is_some() {
            continue;
        }
        let time = local.time();
        if quiet_hours && (time < cadence.send_from || time >= cadence.send_until) {
            continue;
        }
        let due_step = cadence
            .steps
            .iter()
            .filter(|s| cadence.step_date(r.due_date, s.offset) <= today)
            .max_by_key(|s| s.offset);
        let Some(step) = due_step else { continue };
        // Sent already, or a later step was: nothing (a catch-up sends only the latest).
        if r.steps_sent.iter().any(|&o| o >= step.offset) {
            continue;
        }
        let why = format!(
            "due {} {}; step {:+} days falls on {}",
            r.due_date,
            match &r.status {
                ReceivableStatus::Promised { until, .. } =>
                    format!("(promised for {until}, passed)"),
                _ => String::new(),
            },
            step.offset,
            cadence.step_date(r.due_date, step.offset)
        );
        let entry = by_customer
            .entry(r.customer_email.to_ascii_lowercase())
            .or_insert_with(|| PlannedReminder {
                customer: r.customer.clone(),
                customer_email: r.customer_email.clone(),
                template: step.template.clone(),
                invoices: Vec::new(),
            });
        let latest = entry
            .invoices
            .iter()
            .map(|(_, o, _)| *o)
            .max()
            .unwrap_or(i32::MIN);
        if step.offset > latest {
            entry.template = step.template.clone();
        }
        entry
            .invoices
            .push((r.invoice_number.clone(), step.offset, why));
    }
    by_customer.into_values().collect()
}

/// What an inbox decision means for a receivable, if anything.
pub fn apply_decision(
    r: &mut Receivable,
    category: &str,
    fields: &BTreeMap<String, String>,
    message: &str,
) -> bool {
    let by_message = Some(message.to_string());
    let next = match category {
        "ar.remittance" => ReceivableStatus::Paid { by_message },
        "ar.dispute" => ReceivableStatus::Disputed { by_message },
        "ar.promise_to_pay" => match fields.get("promised_date").and_then(|d| d.parse().ok()) {
            Some(until) => ReceivableStatus::Promised { until, by_message },
            None => return false,
        },
        _ => return false,
    };
    if matches!(r.status, ReceivableStatus::Paid { .. }) {
        return false; // paid stays paid
    }
    r.status = next;
    true
}

/// The key an imported receivable is stored and looked up under: its invoice number folded
/// (lowercase alphanumerics), so "INV-1010" in the ERP export and "inv 1010" in a mail meet.
pub fn receivable_key(number: &str) -> String {
    number
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Invoice-number-like tokens of a remittance looked up at most (a long advice is still cheap).
const REMITTANCE_LOOKUPS: usize = 200;

/// The keys of the imported receivables an AR decision is about. A dispute or a promise names
/// the invoice the rule extracted. One payment often settles several invoices, and the
/// remittance lists them: every imported invoice it names (subject, own text, attachment text)
/// counts as paid when their amounts add up to the amount paid, in one currency, the match an
/// AR clerk makes by hand. Otherwise only the extracted one does, so a mail saying "1010 is
/// paid, 1011 follows" cannot mark 1011 paid. `lookup` reads a receivable by key.
pub fn named_by<E>(
    category: &str,
    fields: &BTreeMap<String, String>,
    msg: &crate::model::Message,
    mut lookup: impl FnMut(&str) -> Result<Option<Receivable>, E>,
) -> Result<Vec<String>, E> {
    let extracted: Vec<String> = fields
        .get("invoice_number")
        .map(|n| receivable_key(n))
        .into_iter()
        .collect();
    let paid = fields
        .get("amount_total")
        .and_then(|a| a.parse::<rust_decimal::Decimal>().ok());
    let Some(paid) = paid.filter(|_| category == "ar.remittance") else {
        return Ok(extracted);
    };
    let texts = [msg.subject.as_str(), msg.own_text()]
        .into_iter()
        .chain(msg.attachments.iter().filter_map(|a| a.text.as_deref()));
    let mut candidates: std::collections::BTreeSet<String> = extracted.iter().cloned().collect();
    for text in texts {
        let tokens = text.split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')' | '[' | ']' | '|' | '"')
        });
        for token in tokens {
            let k = receivable_key(token);
            if k.len() >= 4 && k.bytes().any(|b| b.is_ascii_digit()) {
                candidates.insert(k);
            }
            if candidates.len() >= REMITTANCE_LOOKUPS {
                break;
            }
        }
    }
    let mut named = Vec::new();
    let mut sum = rust_decimal::Decimal::ZERO;
    let mut currencies = std::collections::BTreeSet::new();
    for k in candidates {
        if let Some(r) = lookup(&k)? {
            sum += r
                .amount
                .parse::<rust_decimal::Decimal>()
                .unwrap_or_default();
            currencies.insert(r.currency.to_ascii_uppercase());
            named.push(k);
        }
    }
    let currency_agrees = fields
        .get("currency")
        .is_none_or(|c| currencies.iter().all(|x| x.eq_ignore_ascii_case(c)));
    if named.len() > 1 && currencies.len() == 1 && currency_agrees && sum == paid {
        Ok(named)
    } else {
        Ok(extracted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        format!("{s}T10:00:00Z").parse().unwrap()
    }

    fn cadence() -> Cadence {
        Cadence {
            steps: [
                (-3, "friendly"),
                (0, "due"),
                (7, "reminder"),
                (14, "second"),
                (30, "final"),
            ]
            .into_iter()
            .map(|(offset, t)| Step {
                offset,
                template: t.into(),
            })
            .collect(),
            business_days_only: true,
            holidays: vec![d("2026-12-25")],
            send_from: default_send_from(),
            send_until: default_send_until(),
            from: None,
            notify: None,
            dispute_template: default_dispute_template(),
        }
    }

    fn inv(n: &str, email: &str, due: &str) -> Receivable {
        Receivable {
            invoice_number: n.into(),
            customer: "Acme".into(),
            customer_email: email.into(),
            amount: "100.00".into(),
            currency: "EUR".into(),
            issue_date: d("2026-11-01"),
            due_date: d(due),
            timezone: None,
            status: ReceivableStatus::Open,
            steps_sent: vec![],
            waiting_review: None,
        }
    }

    #[test]
    fn steps_move_to_the_next_business_day() {
        let c = cadence();
        // Due Friday 2026-12-18: +7 is Friday 12-25 (holiday) → Monday 12-28.
        assert_eq!(c.step_date(d("2026-12-18"), 7), d("2026-12-28"));
        // -3 from Monday 2026-12-07 is Friday 12-04.
        assert_eq!(c.step_date(d("2026-12-07"), -3), d("2026-12-04"));
        // 0 on a Saturday → Monday.
        assert_eq!(c.step_date(d("2026-12-05"), 0), d("2026-12-07"));
    }

    #[test]
    fn after_downtime_only_the_latest_due_step_goes_and_customers_get_one_email() {
        let c = cadence();
        let rs = vec![
            inv("A-1", "ap@acme.example", "2026-12-01"),
            inv("A-2", "AP@acme.example", "2026-12-10"),
            inv("B-1", "pay@beta.example", "2026-12-20"),
        ];
        // On 2026-12-15 (Tue): A-1 is +14 (second), A-2 is +5 (due step 0), B-1 is -5 (nothing).
        let p = plan(&rs, &c, at("2026-12-15"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].template, "second", "the latest step names the email");
        let steps: Vec<(String, i32)> = p[0]
            .invoices
            .iter()
            .map(|(n, o, _)| (n.clone(), *o))
            .collect();
        assert_eq!(steps, vec![("A-1".into(), 14), ("A-2".into(), 0)]);
        // Already sent: nothing again.
        let mut sent = rs.clone();
        sent[0].steps_sent = vec![14];
        sent[1].steps_sent = vec![0];
        assert!(plan(&sent, &c, at("2026-12-15")).is_empty());
    }

    #[test]
    fn quiet_hours_are_the_customers_local_time() {
        let c = cadence();
        let mut r = inv("A-1", "ap@acme.example", "2026-12-01");
        r.timezone = Some("America/Los_Angeles".into());
        // 10:00 UTC is 02:00 in Los Angeles: wait.
        assert!(plan(std::slice::from_ref(&r), &c, at("2026-12-02")).is_empty());
        let afternoon: DateTime<Utc> = "2026-12-02T18:00:00Z".parse().unwrap();
        assert_eq!(plan(&[r], &c, afternoon).len(), 1);
    }

    #[test]
    fn the_inbox_stops_pauses_and_resumes_reminders() {
        let c = cadence();
        let mut r = inv("A-1", "ap@acme.example", "2026-12-01");
        let fields: BTreeMap<String, String> =
            [("promised_date".to_string(), "2026-12-20".to_string())].into();
        assert!(apply_decision(&mut r, "ar.promise_to_pay", &fields, "m1"));
        assert!(
            plan(std::slice::from_ref(&r), &c, at("2026-12-15")).is_empty(),
            "paused until the promise"
        );
        assert_eq!(
            plan(std::slice::from_ref(&r), &c, at("2026-12-21")).len(),
            1,
            "resumed after it"
        );
        assert!(apply_decision(&mut r, "ar.dispute", &BTreeMap::new(), "m2"));
        assert!(
            plan(std::slice::from_ref(&r), &c, at("2026-12-21")).is_empty(),
            "disputed: paused"
        );
        assert!(apply_decision(
            &mut r,
            "ar.remittance",
            &BTreeMap::new(),
            "m3"
        ));
        assert!(
            !apply_decision(&mut r, "ar.dispute", &BTreeMap::new(), "m4"),
            "paid stays paid"
        );
        assert!(plan(&[r], &c, at("2027-01-30")).is_empty());
    }

    #[test]
    fn a_bad_csv_reports_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ar.csv");
        std::fs::write(
            &p,
            "invoice_number,customer,customer_email,amount,currency,issue_date,due_date,timezone\n\
             A-1,Acme,ap@acme.example,1200.50,eur,2026-11-01,2026-12-01,Europe/Berlin\n\
             A-2,Acme,not-an-address,12x,EUR,2026-11-01,01.12.2026,Mars/Olympus\n",
        )
        .unwrap();
        let errors = import_csv(&p).unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 4, "{text:?}");
        assert!(errors.iter().all(|e| e.line == 3));
        std::fs::write(
            &p,
            "invoice_number,customer,customer_email,amount,currency,issue_date,due_date\nA-1,Acme,ap@acme.example,1200.50,eur,2026-11-01,2026-12-01\n",
        )
        .unwrap();
        let ok = import_csv(&p).unwrap();
        assert_eq!(ok[0].currency, "EUR");
        assert_eq!(ok[0].due_date, d("2026-12-01"));
    }
    #[test]
    fn import_from_bytes_matches_import_from_the_file() {
        let text = "invoice_number,customer,customer_email,amount,currency,issue_date,due_date\n\
                    A-1,Acme,ap@acme.example,1200.50,eur,2026-11-01,2026-12-01\n\
                    A-2,Acme,nope,1,EUR,2026-13-01,2026-12-01\n";
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ar.csv");
        std::fs::write(&p, text).unwrap();
        let shown = p.display().to_string();
        assert_eq!(
            import_csv_reader(&shown, text.as_bytes()),
            import_csv(&p),
            "same errors, same lines"
        );
        let missing = import_csv(&dir.path().join("absent.csv")).unwrap_err();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].line, 0, "{missing:?}");
    }

    #[test]
    fn days_overdue_and_what_counts_as_overdue_depend_on_the_day_given() {
        let mut r = inv("A-1", "ap@acme.example", "2026-12-01");
        assert_eq!(r.days_overdue(d("2026-11-28")), -3, "due in 3 days");
        assert_eq!(r.days_overdue(d("2026-12-01")), 0);
        assert_eq!(r.days_overdue(d("2026-12-11")), 10);
        assert!(
            !r.is_overdue(d("2026-12-01")),
            "due today is not overdue yet"
        );
        assert!(r.is_overdue(d("2026-12-02")));
        assert_eq!(r.status_message(), None);
        let promise: BTreeMap<String, String> =
            [("promised_date".to_string(), "2026-12-20".to_string())].into();
        assert!(apply_decision(&mut r, "ar.promise_to_pay", &promise, "m1"));
        assert_eq!(r.status_message(), Some("m1"));
        assert!(!r.is_overdue(d("2026-12-15")), "promised: not chased yet");
        assert!(r.is_overdue(d("2026-12-21")), "the promise passed");
        assert!(apply_decision(&mut r, "ar.dispute", &BTreeMap::new(), "m2"));
        assert!(!r.is_overdue(d("2026-12-21")), "disputed: a person decides");
        assert_eq!(r.status_message(), Some("m2"));
        assert!(apply_decision(
            &mut r,
            "ar.remittance",
            &BTreeMap::new(),
            "m3"
        ));
        assert!(!r.is_overdue(d("2027-03-01")));
        assert_eq!(r.status_message(), Some("m3"));
    }

    fn receivable(number: &str, amount: &str, currency: &str) -> Receivable {
        Receivable {
            invoice_number: number.into(),
            customer: "Fabrikam".into(),
            customer_email: "ap@fabrikam.example".into(),
            amount: amount.into(),
            currency: currency.into(),
            issue_date: d("2026-10-01"),
            due_date: d("2026-10-31"),
            timezone: None,
            status: ReceivableStatus::Open,
            steps_sent: vec![],
            waiting_review: None,
        }
    }

    /// What a remittance, a dispute and an unrelated mail name, against an imported ledger.
    #[test]
    fn a_remittance_names_every_listed_invoice_only_when_the_amounts_add_up() {
        let ledger: BTreeMap<String, Receivable> = [
            receivable("INV-1010", "1200.00", "EUR"),
            receivable("INV-1011", "300.50", "EUR"),
            receivable("INV-2020", "99.00", "USD"),
        ]
        .into_iter()
        .map(|r| (receivable_key(&r.invoice_number), r))
        .collect();
        let lookup = |k: &str| Ok::<_, ()>(ledger.get(k).cloned());
        let msg = |body: &str| crate::model::Message {
            subject: "Payment advice".into(),
            body_text: body.into(),
            ..Default::default()
        };
        let fields = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let both = msg("We paid INV-1010 and inv-1011 today.");
        let paid = fields(&[("amount_total", "1500.50"), ("invoice_number", "INV-1010")]);
        let named = named_by("ar.remittance", &paid, &both, lookup).unwrap();
        assert_eq!(named, vec!["inv1010", "inv1011"]);
        // The amounts do not add up: only the extracted invoice counts as paid.
        let short = fields(&[("amount_total", "1200.00"), ("invoice_number", "INV-1010")]);
        assert_eq!(
            named_by("ar.remittance", &short, &both, lookup).unwrap(),
            vec!["inv1010"]
        );
        // Another currency stated than the invoices': the same.
        let mut usd = paid.clone();
        usd.insert("currency".into(), "USD".into());
        assert_eq!(
            named_by("ar.remittance", &usd, &both, lookup).unwrap(),
            vec!["inv1010"]
        );
        // A dispute names only what the rule extracted, whatever else the text lists.
        assert_eq!(
            named_by("ar.dispute", &paid, &both, lookup).unwrap(),
            vec!["inv1010"]
        );
        // Nothing extracted, nothing named.
        assert!(
            named_by("ar.dispute", &fields(&[]), &both, lookup)
                .unwrap()
                .is_empty()
        );
    }
}
