//! The review queue and the vendor registry through `deskmail serve`: agents and admins decide,
//! auditors only read; a decision needs the version the caller saw (two agents on one message:
//! the second gets 409 and loses nothing); bad values are 400 with what is wrong; every decision
//! is audited with who changed what; a correction is what search finds next.

use serde_json::{Value, json};

mod common;
use common::api::{Server, create_token, setup};

use deskmail::access::Role;

fn post(server: &Server, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let (status, _, body) = server.request("POST", path, Some(token), body.to_string().as_bytes());
    (
        status,
        serde_json::from_slice(&body).unwrap_or_else(|_| json!(String::from_utf8_lossy(&body))),
    )
}

#[test]
fn agents_decide_auditors_read_and_the_second_of_two_corrections_conflicts() {
    let (_dir, data, tokens) = setup();
    let second_agent = create_token(&data, Role::Agent, "agent-2");
    let server = Server::start(&data);
    let (agent, auditor, admin) = (
        &tokens[&Role::Agent],
        &tokens[&Role::Auditor],
        &tokens[&Role::Admin],
    );

    // The queue with counts per reason; the auditor sees it too.
    let queue = server.json("/api/review", auditor);
    assert!(queue["open"].as_u64().unwrap() >= 1);
    assert_eq!(queue["by_reason"]["duplicate_invoice"], 1, "{queue}");
    let item = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["subject"].as_str().unwrap().contains("CH-26-00871"))
        .expect("the doubtful total is in review")
        .clone();
    let id = item["message_id"].as_str().unwrap();
    let path = |action: &str| format!("/api/review/{id}/{action}");

    // One item: each field with its confidence, why it is doubted, and the texts it came from.
    let shown = server.json(&format!("/api/review/{id}"), agent);
    let total = &shown["fields"]["amount_total"];
    assert!(total["confidence"].as_u64().unwrap() < 70, "{total}");
    assert!(
        total["doubt"].as_str().unwrap().contains("also found"),
        "{total}"
    );
    let body = shown["texts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source"] == "body")
        .unwrap();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains(total["matched"].as_str().unwrap()),
        "the value's words are in the text shown beside it"
    );

    // Who may decide: not the auditor, not an integration.
    let fix = json!({ "version": 1, "fields": { "amount_total": "1234.50 CHF" } });
    for who in [auditor, &tokens[&Role::Integration]] {
        assert_eq!(post(&server, &path("correct"), who, &fix).0, 403);
    }
    // Bad requests say what is wrong and change nothing.
    let (status, answer) = post(
        &server,
        &path("correct"),
        agent,
        &json!({ "fields": { "amount_total": "1.00" } }),
    );
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("version"));
    let (status, answer) = post(
        &server,
        &path("correct"),
        agent,
        &json!({ "version": 1, "fields": { "amount_total": "twelve", "due_date": "30.02.2026" } }),
    );
    assert_eq!(status, 400, "{answer}");
    let errors = answer["fields"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{answer}");
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("is not an amount"))
    );
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("is not a date"))
    );
    assert_eq!(
        server.json(&format!("/api/review/{id}"), agent)["item"]["version"],
        1
    );

    // Two agents correct the same message from version 1: the first wins, the second is told.
    let (status, first) = post(
        &server,
        &path("correct"),
        agent,
        &json!({ "version": 1, "fields": { "amount_total": "1142.00 CHF" } }),
    );
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["item"]["state"], "corrected");
    assert_eq!(first["corrections"][0]["before"], "1234.50");
    let (status, second) = post(&server, &path("correct"), &second_agent, &fix);
    assert_eq!(status, 409, "{second}");
    assert!(
        second["error"].as_str().unwrap().contains("agent-1"),
        "{second}"
    );
    assert_eq!(second["current"]["version"], 2);
    // Nothing was lost: the first correction stands, the original beside it.
    let now = server.json(&format!("/api/review/{id}"), agent);
    assert_eq!(now["fields"]["amount_total"]["value"], "1142.00");
    assert_eq!(now["corrections"].as_array().unwrap().len(), 1);
    // Search sees the corrected amount.
    let hits = server.json("/api/search?q=amount:1142%20invoice:CH-26-00871", agent);
    assert_eq!(hits["total_threads"], 1, "{hits}");
    let hits = server.json("/api/search?q=amount:1234.50%20invoice:CH-26-00871", agent);
    assert_eq!(hits["total_threads"], 0, "{hits}");

    // The admin confirms another item; confirming it again is a conflict.
    let other = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["subject"].as_str().unwrap().contains("INV-20417"))
        .unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let confirm = format!("/api/review/{other}/confirm");
    assert_eq!(
        post(&server, &confirm, admin, &json!({ "version": 1 })).0,
        200
    );
    assert_eq!(
        post(&server, &confirm, agent, &json!({ "version": 2 })).0,
        409
    );

    // The audit log: who changed what, and the refused attempts.
    let records = server.json("/api/audit?limit=5000", auditor);
    let records = records["records"].as_array().unwrap();
    let correct = records
        .iter()
        .find(|r| r["action"] == "review correct" && r["outcome"] == "ok")
        .expect("the correction is audited");
    assert_eq!(correct["actor"], "agent-1");
    assert_eq!(correct["role"], "agent");
    assert!(
        correct["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "amount_total: 1234.50 -> 1142.00"),
        "{correct}"
    );
    assert!(records.iter().any(|r| r["action"] == "review correct"
        && r["actor"] == "agent-2"
        && r["outcome"] == "409 conflict"));
    assert!(records.iter().any(|r| r["action"] == "review confirm"
        && r["actor"] == "admin-1"
        && r["outcome"] == "ok"));
}

#[test]
fn only_an_admin_confirms_a_vendors_new_iban() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let vendors = server.json("/api/vendors", &tokens[&Role::Auditor]);
    let v = vendors
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "Drukkerij Jansen B.V.")
        .expect("the registry learnt the Dutch vendor")
        .clone();
    let path = format!("/api/vendors/{}/ibans", v["id"].as_str().unwrap());
    let shown = server.json(
        &format!("/api/vendors/{}", v["vat_ids"][0].as_str().unwrap()),
        &tokens[&Role::Integration],
    );
    assert_eq!(shown["id"], v["id"]);
    let new = json!({ "iban": "NL44 RABO 0123 4567 89" });
    assert_eq!(post(&server, &path, &tokens[&Role::Agent], &new).0, 403);
    let (status, answer) = post(
        &server,
        &path,
        &tokens[&Role::Admin],
        &json!({ "iban": "NL44 RABO 0123 4567 88" }),
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("not a valid IBAN")
    );
    let (status, answer) = post(&server, &path, &tokens[&Role::Admin], &new);
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["ibans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["iban"] == "NL44RABO0123456789" && i["state"] == "confirmed"),
        "{answer}"
    );
    let records = server.json("/api/audit?limit=5000", &tokens[&Role::Auditor]);
    assert!(
        records["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "vendors confirm-iban"
                && r["actor"] == "admin-1"
                && r["targets"][1] == "iban:NL44RABO0123456789")
    );
}
