//! Automated replies: templates, the loop guard, and the outbox records the store keeps.
//!
//! A rule's `reply = "NAME"` action renders `templates/NAME.txt` (and `NAME.html` when there is
//! one) with the message's extracted fields. The draft rides with the decision into the store,
//! which writes it as an outbox record **in the same batch** (so a reply exists exactly when its
//! decision does) unless the same sender got an automatic reply in the same thread within the
//! period. [`send`] delivers queued records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{Decision, Message};
use crate::rules::RuleSet;

pub mod builtin;
pub mod dunning;
pub mod send;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template directory {0}: {1}")]
    Dir(String, std::io::Error),
    #[error("{location}: rule {rule:?}: reply template {template:?}: {message}")]
    Check {
        location: String,
        rule: String,
        template: String,
        message: String,
    },
}

/// The reply templates (`templates/*.txt`, optional `*.html`), minijinja syntax.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    text: BTreeMap<String, String>,
    html: BTreeMap<String, String>,
    pub dir: PathBuf,
}

/// Variables every template gets besides the rule's fields.
pub const STANDARD_VARS: &[&str] = &[
    "sender_name",
    "sender_address",
    "subject",
    "category",
    "our_address",
    "received",
];

impl Templates {
    pub fn load(dir: &Path) -> Result<Templates, TemplateError> {
        let mut t = Templates {
            dir: dir.to_path_buf(),
            ..Templates::default()
        };
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            // No directory, no templates: fine until a rule asks for one (`check` says so).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(t),
            Err(e) => return Err(TemplateError::Dir(dir.display().to_string(), e)),
        };
        for entry in rd.flatten() {
            let p = entry.path();
            let (Some(stem), Some(ext)) = (
                p.file_stem().and_then(|s| s.to_str()),
                p.extension().and_then(|s| s.to_str()),
            ) else {
                continue;
            };
            let text = std::fs::read_to_string(&p)
                .map_err(|e| TemplateError::Dir(p.display().to_string(), e))?;
            t.insert(&format!("{stem}.{ext}"), text);
        }
        Ok(t)
    }

    /// Add a template by file name: `NAME.txt` (text part) or `NAME.html`; others are ignored.
    fn insert(&mut self, file_name: &str, text: String) {
        match file_name.rsplit_once('.') {
            Some((stem, "txt")) => self.text.insert(stem.to_string(), text),
            Some((stem, "html")) => self.html.insert(stem.to_string(), text),
            _ => None,
        };
    }

    /// Every reply action names a template that exists and renders with only the variables the
    /// rule provides (a misspelt variable is an error here, not at send time).
    pub fn check(&self, rules: &RuleSet) -> Vec<TemplateError> {
        let mut errors = Vec::new();
        for a in rules.reply_actions() {
            let ctx: BTreeMap<String, String> = STANDARD_VARS
                .iter()
                .map(|s| s.to_string())
                .chain(a.fields.clone())
                .map(|v| (v, "x".to_string()))
                .collect();
            if let Err(message) = self.check_context(&a.template, &ctx) {
                errors.push(TemplateError::Check {
                    location: a.location.clone(),
                    rule: a.rule.clone(),
                    template: a.template.clone(),
                    message,
                });
            }
        }
        errors
    }

    /// Render template `name` (text and optional HTML) with any context; None when there is no
    /// such template. Variables the context lacks render empty.
    pub fn render_context(
        &self,
        name: &str,
        ctx: &impl Serialize,
    ) -> Option<Result<(String, Option<String>), String>> {
        let text = self.text.get(name)?;
        let render = |src: &str, part| render_lenient(src, ctx, part).map_err(|e| e.to_string());
        Some(render(text, Part::Text).and_then(|body| {
            let html = self
                .html
                .get(name)
                .map(|h| render(h, Part::Html))
                .transpose()?;
            Ok((body, html))
        }))
    }

    /// Check template `name` against a sample context holding every variable it may use:
    /// a missing template or an unknown variable is an error message.
    pub fn check_context(&self, name: &str, sample: &impl Serialize) -> Result<(), String> {
        let Some(text) = self.text.get(name) else {
            return Err(format!("no {}/{name}.txt", self.dir.display()));
        };
        for (kind, source, part) in [
            ("txt", Some(text), Part::Text),
            ("html", self.html.get(name), Part::Html),
        ] {
            let Some(source) = source else { continue };
            render_strict(source, sample, part).map_err(|e| format!("{name}.{kind}: {e}"))?;
        }
        Ok(())
    }

    /// Render a reply for `msg` with template `name`; None when there is no such template.
    pub fn render(
        &self,
        name: &str,
        msg: &Message,
        decision: &Decision,
        our_address: &str,
    ) -> Option<Result<(String, Option<String>), String>> {
        let mut ctx: BTreeMap<String, String> = decision.field_strings().into_iter().collect();
        ctx.insert(
            "sender_name".into(),
            msg.from
                .as_ref()
                .and_then(|a| a.name.clone())
                .unwrap_or_default(),
        );
        ctx.insert(
            "sender_address".into(),
            msg.from
                .as_ref()
                .and_then(|a| a.email.clone())
                .unwrap_or_default(),
        );
        ctx.insert("subject".into(), msg.subject.clone());
        ctx.insert("category".into(), decision.category.clone());
        ctx.insert("our_address".into(), our_address.into());
        ctx.insert(
            "received".into(),
            msg.date
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        );
        self.render_context(name, &ctx)
    }
}

/// Which part of a message a template renders. The values are the sender's (subject, name,
/// fields read from their mail) or the ERP's: in an HTML part every value is HTML-escaped, so
/// a subject like `<script>` is shown, never run (`|safe` in a template opts out); a text part
/// takes them as they are. Headers (the subject line) are text, encoded by lettre.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Text,
    Html,
}

fn environment(
    part: Part,
    undefined: minijinja::UndefinedBehavior,
) -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(undefined);
    env.set_auto_escape_callback(move |_| match part {
        Part::Text => minijinja::AutoEscape::None,
        Part::Html => minijinja::AutoEscape::Html,
    });
    env
}

/// Render with every variable required; an error names the unknown variables (minijinja's own
/// message only says "undefined value").
fn render_strict(src: &str, ctx: &impl Serialize, part: Part) -> Result<String, String> {
    let env = environment(part, minijinja::UndefinedBehavior::Strict);
    let template = env.template_from_str(src).map_err(|e| e.to_string())?;
    template.render(ctx).map_err(|e| {
        let known: Vec<String> = match serde_json::to_value(ctx) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !known.contains(v))
            .collect();
        unknown.sort();
        if unknown.is_empty() {
            e.to_string()
        } else {
            format!(
                "unknown variable {} (known: {})",
                unknown.join(", "),
                known.join(", ")
            )
        }
    })
}

/// At send time a field the rule can extract may be missing from this message: it renders
/// empty (templates guard with `{% if field %}`), while `check` already caught misspellings.
fn render_lenient(src: &str, ctx: &impl Serialize, part: Part) -> Result<String, minijinja::Error> {
    environment(part, minijinja::UndefinedBehavior::Lenient).render_str(src, ctx)
}

/// Why a message gets no automatic reply (RFC 3834 and common practice), or None.
pub fn loop_guard(msg: &Message, decision: &Decision, own: &[String]) -> Option<&'static str> {
    let header = |name: &str| {
        msg.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    if header("Auto-Submitted").is_some_and(|v| v != "no") {
        return Some("Auto-Submitted");
    }
    if header("Precedence").is_some_and(|v| ["bulk", "list", "junk"].contains(&v.as_str())) {
        return Some("Precedence bulk/list/junk");
    }
    if header("List-Id").is_some() || header("List-Unsubscribe").is_some() {
        return Some("mailing list");
    }
    if header("X-Loop").is_some() {
        return Some("X-Loop");
    }
    if decision.category.starts_with("auto") {
        return Some("an automatic message (bounce, out of office, list)");
    }
    let sender = msg
        .from
        .as_ref()
        .and_then(|a| a.email.clone())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let local = sender.split('@').next().unwrap_or_default();
    if sender.is_empty()
        || [
            "mailer-daemon",
            "postmaster",
            "noreply",
            "no-reply",
            "donotreply",
            "do-not-reply",
        ]
        .contains(&local)
    {
        return Some("no human sender");
    }
    if own.iter().any(|o| o.eq_ignore_ascii_case(&sender)) {
        return Some("our own address");
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    Queued,
    /// Handed to the transport; a crash here leaves the outcome unknown.
    Sending,
    Sent,
    /// Permanent failure (5xx): not retried.
    Failed,
    /// The daemon stopped while sending: maybe delivered. Never resent by itself (that could
    /// be a second copy); `deskmail outbox retry ID` after checking.
    Uncertain,
    /// Dry run: decided and recorded, never sent.
    Held,
    /// Its message waits in the review queue: sent once a person confirms or corrects it.
    Review,
    /// Its message was rejected in review: never sent.
    Cancelled,
}

/// One outbound message, from the moment its decision is committed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxRecord {
    /// Deterministic: the same decision always makes the same id (and Message-ID).
    pub id: String,
    pub state: OutboxState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The server's last answer or the transport's error.
    pub last_error: Option<String>,
    #[serde(flatten)]
    pub mail: Outgoing,
    /// What caused it: the stored message and its thread (empty for a reminder).
    pub source_message: String,
    pub thread_id: String,
    /// Its message was corrected in review after it was rendered: render it again from the
    /// corrected decision before sending.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rerender: bool,
    /// A reminder: the invoices it is about, each with its cadence step. Empty for replies and
    /// notices (and on reminders queued before it was recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoices: Vec<ReminderStep>,
}

/// One invoice a reminder is about, and the cadence step (days from the due date) it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderStep {
    pub invoice_number: String,
    pub step: i32,
}

/// What goes out: addresses, headers, bodies, and the template that made them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outgoing {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub body_text: String,
    pub body_html: Option<String>,
    pub template: String,
}

impl Outgoing {
    /// The texts a person can be named in: subject, text body, HTML body.
    pub fn texts_mut(&mut self) -> impl Iterator<Item = &mut String> {
        [&mut self.subject, &mut self.body_text]
            .into_iter()
            .chain(self.body_html.as_mut())
    }

    /// Is it about this address (lowercase): sent to it, or naming it in a text?
    pub fn concerns(&self, address: &str) -> bool {
        self.to.eq_ignore_ascii_case(address)
            || [
                Some(&self.subject),
                Some(&self.body_text),
                self.body_html.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|t| t.to_lowercase().contains(address))
    }
}

impl OutboxRecord {
    /// A new record for a draft: queued, or held in a dry run.
    pub fn new(d: &Draft, source_message: &str, thread_id: &str, now: DateTime<Utc>) -> Self {
        OutboxRecord {
            id: d.id.clone(),
            state: if d.hold {
                OutboxState::Held
            } else {
                OutboxState::Queued
            },
            created_at: now,
            updated_at: now,
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
            mail: d.mail.clone(),
            source_message: source_message.to_string(),
            thread_id: thread_id.to_string(),
            rerender: false,
            invoices: Vec::new(),
        }
    }
}

/// The outbox id for what caused a message (the same cause always gives the same id, so it is
/// never queued twice) and the Message-ID made from it on the sender's domain.
pub fn outbox_ids(cause: &str, from: &str) -> (String, String) {
    let id = hex::encode(Sha256::digest(cause.as_bytes()))[..24].to_string();
    let domain = from.rsplit('@').next().unwrap_or("deskmail.invalid");
    let message_id = format!("{id}.deskmail@{domain}");
    (id, message_id)
}

/// An outbound message before it is queued: a reply as the worker stage renders it (the store
/// then decides whether to queue it), a reminder, or a notice to the team.
#[derive(Debug, Clone)]
pub struct Draft {
    pub id: String,
    pub mail: Outgoing,
    /// At most one automatic reply per sender per thread within this many hours.
    pub period_hours: u32,
    /// Dry run: record as held, never send.
    pub hold: bool,
}

/// Outbound settings the worker stage needs.
#[derive(Debug, Clone, Default)]
pub struct ReplySettings {
    pub templates: Templates,
    /// From address per mailbox name; `default_from` otherwise.
    pub from_by_mailbox: BTreeMap<String, String>,
    pub default_from: String,
    /// Addresses that are us (never replied to).
    pub own_addresses: Vec<String>,
    pub period_hours: u32,
    pub dry_run: bool,
}

impl ReplySettings {
    /// The drafts a decision asks for (after the loop guard). Errors are logged, not fatal.
    pub fn drafts(&self, msg: &Message, decision: &Decision) -> Vec<Draft> {
        let templates: Vec<&str> = decision
            .actions
            .iter()
            .filter_map(|a| match a {
                crate::model::Action::Reply { template } => Some(template.as_str()),
                _ => None,
            })
            .collect();
        if templates.is_empty() || self.default_from.is_empty() {
            return Vec::new();
        }
        if let Some(why) = loop_guard(msg, decision, &self.own_addresses) {
            tracing::debug!(why, "No automatic reply");
            return Vec::new();
        }
        let from = self
            .from_by_mailbox
            .get(&msg.mailbox)
            .cloned()
            .unwrap_or_else(|| self.default_from.clone());
        let to = msg
            .from
            .as_ref()
            .and_then(|a| a.email.clone())
            .unwrap_or_default();
        let mut out = Vec::new();
        for t in templates {
            match self.templates.render(t, msg, decision, &from) {
                Some(Ok((body_text, body_html))) => {
                    let (id, message_id) = outbox_ids(&format!("{}\0{t}", msg.id.0), &from);
                    let mut references = msg.references.clone();
                    if let Some(mid) = &msg.message_id {
                        references.push(mid.clone());
                    }
                    let subject = if msg.subject.to_ascii_lowercase().starts_with("re:") {
                        msg.subject.clone()
                    } else {
                        format!("Re: {}", msg.subject)
                    };
                    out.push(Draft {
                        id,
                        mail: Outgoing {
                            from: from.clone(),
                            to: to.clone(),
                            subject,
                            message_id,
                            in_reply_to: msg.message_id.clone(),
                            references,
                            body_text,
                            body_html,
                            template: t.to_string(),
                        },
                        period_hours: self.period_hours,
                        hold: self.dry_run,
                    });
                }
                Some(Err(e)) => tracing::error!(template = t, error = %e, "Reply template failed"),
                None => tracing::error!(template = t, "No such reply template"),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RawMail;

    fn msg(headers: &str) -> Message {
        let raw = format!(
            "{headers}Subject: Invoice 42\r\nMessage-ID: <m1@vendor.example>\r\n\r\nbody\r\n"
        );
        crate::parse::parse(
            &RawMail {
                role: None,
                mailbox: "ap".into(),
                origin: "t".into(),
                bytes: raw.into_bytes(),
            },
            &crate::parse::ParseLimits::default(),
        )
        .unwrap()
    }

    #[test]
    fn the_loop_guard_refuses_robots_lists_and_ourselves() {
        let d = Decision::default();
        let own = vec!["ap@ourcompany.example".to_string()];
        assert_eq!(
            loop_guard(&msg("From: v@vendor.example\r\n"), &d, &own),
            None
        );
        for (headers, why) in [
            (
                "From: v@vendor.example\r\nAuto-Submitted: auto-replied\r\n",
                "Auto-Submitted",
            ),
            (
                "From: v@vendor.example\r\nPrecedence: bulk\r\n",
                "Precedence bulk/list/junk",
            ),
            (
                "From: v@vendor.example\r\nList-Id: <news.vendor.example>\r\n",
                "mailing list",
            ),
            (
                "From: v@vendor.example\r\nX-Loop: ap@ourcompany.example\r\n",
                "X-Loop",
            ),
            ("From: MAILER-DAEMON@vendor.example\r\n", "no human sender"),
            ("From: noreply@vendor.example\r\n", "no human sender"),
            ("From: AP <AP@ourcompany.example>\r\n", "our own address"),
        ] {
            assert_eq!(loop_guard(&msg(headers), &d, &own), Some(why), "{headers}");
        }
        let ooo = Decision {
            category: "auto.out_of_office".into(),
            ..Decision::default()
        };
        assert!(loop_guard(&msg("From: v@vendor.example\r\n"), &ooo, &own).is_some());
    }

    /// Finding 8 (issue 17): a sender controls the subject and their name; in the HTML part of
    /// an automatic reply they are escaped, in the text part and the subject header they stay
    /// as written.
    #[test]
    fn finding_8_html_reply_templates_escape_mail_values() {
        let script = "<script>alert(1)</script>";
        let img = r#""><img src=x onerror=alert(1)>"#;
        let raw = format!(
            "From: \"\\\"><img src=x onerror=alert(1)> & Co\" <v@vendor.example>\r\n\
             Subject: Invoice {script} & more\r\nMessage-ID: <m1@vendor.example>\r\n\r\nbody\r\n"
        );
        let msg = crate::parse::parse(
            &RawMail {
                role: None,
                mailbox: "ap".into(),
                origin: "t".into(),
                bytes: raw.into_bytes(),
            },
            &crate::parse::ParseLimits::default(),
        )
        .unwrap();
        let name = format!("{img} & Co");
        assert_eq!(msg.subject, format!("Invoice {script} & more"));
        assert_eq!(
            msg.from.as_ref().unwrap().name.as_deref(),
            Some(name.as_str())
        );

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ack.txt"),
            "Re {{ subject }} from {{ sender_name }}",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("ack.html"),
            "<p title=\"{{ sender_name }}\">{{ subject }}</p><p>{{ sender_name }}</p>",
        )
        .unwrap();
        let settings = ReplySettings {
            templates: Templates::load(dir.path()).unwrap(),
            default_from: "ap@ourcompany.example".into(),
            ..ReplySettings::default()
        };
        let decision = Decision {
            category: "ap.invoice".into(),
            actions: vec![crate::model::Action::Reply {
                template: "ack".into(),
            }],
            ..Decision::default()
        };
        let drafts = settings.drafts(&msg, &decision);
        assert_eq!(drafts.len(), 1);
        let mail = &drafts[0].mail;
        let html = mail.body_html.as_deref().expect("an HTML part");
        for escaped in [
            "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;",
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
            "&amp; more",
            "&amp; Co",
        ] {
            assert!(html.contains(escaped), "{escaped:?} missing in {html}");
        }
        for raw in ["<script", "<img", "\"><", " & "] {
            assert!(!html.contains(raw), "{raw:?} went out raw in {html}");
        }
        // The template's own markup is not escaped.
        assert!(
            html.starts_with("<p title=\"") && html.ends_with("</p>"),
            "{html}"
        );
        // The text part and the subject header carry the text as the sender wrote it.
        assert_eq!(
            mail.body_text,
            format!("Re Invoice {script} & more from {name}")
        );
        assert_eq!(mail.subject, format!("Re: Invoice {script} & more"));
    }

    #[test]
    fn strict_rendering_catches_a_misspelt_variable() {
        let ctx: BTreeMap<String, String> =
            [("invoice_number".to_string(), "42".to_string())].into();
        assert_eq!(
            render_strict("No. {{ invoice_number }}", &ctx, Part::Text).unwrap(),
            "No. 42"
        );
        let e = render_strict("No. {{ invoice_numbr }}", &ctx, Part::Text).unwrap_err();
        assert!(
            e.contains("unknown variable invoice_numbr") && e.contains("known: invoice_number"),
            "{e}"
        );
        assert_eq!(
            render_lenient("{% if amount_total %}x{% endif %}y", &ctx, Part::Text).unwrap(),
            "y"
        );
    }
}
