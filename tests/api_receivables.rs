//! `GET /api/receivables` as the AR view reads it: every receivable keeps the fields it had and
//! gains, as of a day the caller may name, its days overdue, the last reminder the cadence
//! queued about it and the inbox message that set its status.

use deskmail::access::Role;
use serde_json::Value;

mod common;
use common::api::{Server, create_token};

/// The receivables by invoice number.
fn by_number(answer: &Value) -> std::collections::BTreeMap<String, Value> {
    answer["receivables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["invoice_number"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

#[test]
fn receivables_carry_days_overdue_the_last_reminder_and_the_message_that_set_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let data = common::ar::desk(dir.path());
    let agent = create_token(&data, Role::Agent, "agent-1");
    let integration = create_token(&data, Role::Integration, "erp-1");
    let server = Server::start(&data);

    let answer = server.json("/api/receivables?today=2026-12-01", &agent);
    assert_eq!(answer["today"], "2026-12-01");
    let rows = by_number(&answer);
    assert_eq!(rows.len(), 5, "{answer}");

    // What the API served before is still there, unchanged in shape.
    let disputed = &rows["OC-2026-1010"];
    for field in [
        "customer",
        "customer_email",
        "amount",
        "currency",
        "issue_date",
        "due_date",
        "status",
        "by_message",
        "steps_sent",
    ] {
        assert!(disputed.get(field).is_some(), "{field} missing: {disputed}");
    }
    assert_eq!(disputed["status"], "disputed");

    // Days overdue as of the day asked for; negative before the due date.
    let days: Vec<(&str, i64, bool)> = rows
        .iter()
        .map(|(n, r)| {
            (
                n.as_str(),
                r["days_overdue"].as_i64().unwrap(),
                r["overdue"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("OC-2026-1001", 26, false), // paid
            ("OC-2026-1010", 30, false), // disputed: a person decides
            ("OC-2026-1020", 21, false), // promised until 2026-12-15
            ("OC-2026-1030", 18, true),
            ("OC-2026-1040", -10, false),
        ]
    );

    // The message that set each status, enough to open its thread.
    for (file, number) in common::ar::MAIL {
        let event = &rows[*number]["status_event"];
        assert_eq!(
            event["message_id"], rows[*number]["by_message"],
            "{file}: {event}"
        );
        let thread = event["thread_id"].as_str().unwrap();
        let t = server.json(&format!("/api/threads/{thread}"), &agent);
        assert!(
            t["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["id"] == event["message_id"]),
            "{file}: the event's thread holds the event: {t}"
        );
        assert!(
            event["subject"].as_str().unwrap().contains(number),
            "{event}"
        );
        assert!(event["date"].as_str().unwrap().starts_with("2026-"));
    }
    assert_eq!(disputed["status_event"]["category"], "ar.dispute");
    assert_eq!(
        rows["OC-2026-1001"]["status_event"]["category"],
        "ar.remittance"
    );
    let promised = &rows["OC-2026-1020"];
    assert_eq!(promised["status_event"]["category"], "ar.promise_to_pay");
    assert_eq!(promised["until"], "2026-12-15");
    assert_eq!(rows["OC-2026-1030"]["status_event"], Value::Null);

    // The last reminder about each invoice: its step for that invoice, state and date; the
    // dispute notice to the team (also in the outbox) is no reminder.
    let reminder = |n: &str| rows[n]["last_reminder"].clone();
    assert_eq!(reminder("OC-2026-1010")["step"], 14);
    assert_eq!(reminder("OC-2026-1001")["step"], 7);
    assert_eq!(reminder("OC-2026-1020")["step"], 0);
    let later = reminder("OC-2026-1030");
    assert_eq!(later["step"], 7, "the newer of its two reminders: {later}");
    assert!(
        later["created_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-25"),
        "{later}"
    );
    assert_eq!(later["state"], "sent");
    assert_eq!(reminder("OC-2026-1040"), Value::Null);
    let outbox = server.json("/api/outbox", &agent);
    let ids: Vec<&str> = outbox["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&later["id"].as_str().unwrap()));
    let reminder_records: Vec<&Value> = outbox["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("invoices").is_some())
        .collect();
    assert_eq!(
        reminder_records.len(),
        5,
        "each reminder names its invoices"
    );

    // Filters work as before and the view's fields come with them; without `today` the
    // server's date counts; a bad date is a 400.
    let disputed_only = by_number(&server.json(
        "/api/receivables?status=disputed&today=2026-12-01",
        &integration,
    ));
    assert_eq!(disputed_only.keys().collect::<Vec<_>>(), ["OC-2026-1010"]);
    assert_eq!(disputed_only["OC-2026-1010"]["days_overdue"], 30);
    let now = server.json("/api/receivables?number=1040", &agent);
    let server_today = chrono::Utc::now().date_naive();
    assert_eq!(now["today"], server_today.to_string());
    let due: chrono::NaiveDate = "2026-12-11".parse().unwrap();
    assert_eq!(
        now["receivables"][0]["days_overdue"],
        (server_today - due).num_days()
    );
    let (status, _, body) = server.get("/api/receivables?today=01.12.2026", Some(&agent));
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("YYYY-MM-DD"));
}
