//! Every route's roles, search against the CLI, query limits, tokens, plain HTTP, OpenAPI, and the receivables and invoices listings.

use super::*;

#[test]
fn every_route_denies_without_a_token_and_with_a_wrong_role_and_serves_the_right_one() {
    let (_dir, data, tokens) = setup();
    // The walk fails authentication on purpose more often than the default limit allows.
    let server = Server::start_with(&data, &["--auth-failures-per-minute", "1000"]);
    let agent = &tokens[&Role::Agent];
    let hits = server.json("/api/search?q=invoice:INV-20417", agent);
    let thread_id = hits["threads"][0]["thread_id"]
        .as_str()
        .unwrap()
        .to_string();
    let message_id = hits["threads"][0]["message_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let with_attachment = server.json("/api/search?q=has:attachment%20invoice", agent);
    let attached_id = with_attachment["threads"][0]["message_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    // A message in the review queue (the fixtures' resent invoice) and a vendor with an IBAN.
    let queue = server.json("/api/review", agent);
    let review_id = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["subject"].as_str().unwrap().contains("INV-20417"))
        .expect("the duplicate invoice waits in review")["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let vendors = server.json("/api/vendors", agent);
    let vendor = vendors
        .as_array()
        .unwrap()
        .iter()
        .find(|v| !v["ibans"].as_array().unwrap().is_empty())
        .expect("a vendor with an IBAN")
        .clone();
    let vendor_id = vendor["id"].as_str().unwrap().to_string();
    let iban_body = serde_json::json!({ "iban": vendor["ibans"][0]["iban"] }).to_string();
    let concrete = |p: &str| -> String {
        if p == "/api/messages/{id}/attachments/{n}" {
            return format!("/api/messages/{attached_id}/attachments/0");
        }
        if p.starts_with("/api/review/") {
            return p.replace("{id}", &review_id);
        }
        if p.starts_with("/api/vendors/") {
            return p.replace("{key}", &vendor_id);
        }
        let p = p.replace("{email}", "nobody@example.com");
        let p = if p.starts_with("/api/threads/") {
            p.replace("{id}", &thread_id)
        } else {
            p.replace("{id}", &message_id)
        };
        if p == "/api/search" {
            format!("{p}?q=invoice")
        } else {
            p
        }
    };
    assert!(ROUTES.len() >= 8);
    let invoice = std::fs::read(fixtures().join("ap/invoice-en-us-plain-text-net30.eml")).unwrap();
    let decision = br#"{"version": 1, "fields": {"amount_total": "1.00"}}"#;
    let call = |method: &str, path: &str, token: Option<&str>| {
        let body: &[u8] = match method {
            "POST" if path.starts_with("/api/review/") => decision,
            "POST" if path.starts_with("/api/vendors/") => iban_body.as_bytes(),
            "POST" => &invoice,
            _ => b"",
        };
        server.request(method, path, token, body)
    };
    let mut decided = 0;
    for (method, route, access) in ROUTES {
        let path = concrete(route);
        let (status, _, _) = call(method, &path, None);
        match access {
            Access::Open => assert_eq!(status, 200, "{route} is open"),
            Access::Roles(allowed) => {
                assert_eq!(status, 401, "{route} without a token");
                let (status, _, _) = call(method, &path, Some("dm_not-a-real-token"));
                assert_eq!(status, 401, "{route} with a made-up token");
                for role in Role::ALL {
                    let (status, _, body) = call(method, &path, Some(&tokens[&role]));
                    // An item is decided once: the next caller allowed to decide is told it
                    // was (409), which still shows the role was let through.
                    if *method == "POST" && route.starts_with("/api/review/") {
                        if allowed.contains(&role) {
                            assert!(
                                status == 200 || status == 409,
                                "{route} as {role}: {status} {}",
                                String::from_utf8_lossy(&body)
                            );
                            decided += usize::from(status == 200);
                        } else {
                            assert_eq!(status, 403, "{route} as {role}");
                        }
                        continue;
                    }
                    let expected = if allowed.contains(&role) { 200 } else { 403 };
                    assert_eq!(
                        status,
                        expected,
                        "{route} as {role}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
            }
        }
    }
    assert_eq!(decided, 1, "one decision on the item, the rest conflicts");
    // A route that is not in the table does not exist.
    assert_eq!(
        server.get("/api/secret", Some(&tokens[&Role::Admin])).0,
        404
    );
}

#[test]
fn search_equals_the_cli_and_reads_are_audited_with_who_and_what() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let agent = &tokens[&Role::Agent];
    let api = server.json("/api/search?q=category:ap.invoice&limit=50", agent);
    let cli = deskmail(&[
        "search",
        "--json",
        "--limit",
        "50",
        "--data",
        data.to_str().unwrap(),
        "category:ap.invoice",
    ]);
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(api, cli);
    let tid = api["threads"][0]["thread_id"].as_str().unwrap().to_string();
    let thread = server.json(&format!("/api/threads/{tid}"), agent);
    assert_eq!(thread["thread_id"], tid.as_str());
    let mid = thread["messages"][0]["id"].as_str().unwrap().to_string();
    let (status, headers, raw) = server.get(&format!("/api/messages/{mid}/raw"), Some(agent));
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "message/rfc822");
    assert!(String::from_utf8_lossy(&raw).contains("Subject:"));
    // Bad query: 400 with the column.
    let (status, _, body) = server.get("/api/search?q=amount:%5B1%20TO", Some(agent));
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    // Security headers on every answer, open or not.
    for path in ["/api/health", "/api/stats"] {
        let (_, h, _) = server.get(path, Some(agent));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(h["content-security-policy"].contains("default-src 'none'"));
    }
    // The auditor sees who read which thread; the agent's reads are all there.
    let records = server.json("/api/audit?limit=1000", &tokens[&Role::Auditor]);
    let records = records["records"].as_array().unwrap();
    let read_thread = records.iter().find(|r| {
        r["actor"] == "agent-1"
            && r["action"] == "GET /api/threads/{id}"
            && r["targets"][0].as_str().unwrap().contains(&tid)
    });
    assert!(read_thread.is_some_and(|r| r["outcome"] == "200" && r["role"] == "agent"));
    assert!(records.iter().any(|r| r["action"] == "token create"));
    assert!(
        records
            .iter()
            .any(|r| r["action"] == "GET /api/search" && r["outcome"] == "400")
    );
    drop(server);
    let verify = audit_verify(&data);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// Security finding 1: `NOT ` × 400 or 1,800 `(` overflowed the query parser's stack and
/// aborted the server. Each is now a 400 naming the limit, and the server keeps answering.
#[test]
fn a_query_nesting_hundreds_deep_is_a_400_and_the_server_keeps_serving() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let agent = &tokens[&Role::Agent];
    let nots = format!("/api/search?q={}paid", "NOT%20".repeat(400));
    let parens = format!("/api/search?q={}", "%28".repeat(1800));
    for path in [nots, parens] {
        let (status, _, body) = server.get(&path, Some(agent));
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("query nests deeper than 32"),
            "{body}"
        );
    }
    let (status, _, body) = server.get(&format!("/api/search?q={}", "x".repeat(5000)), Some(agent));
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert_eq!(server.get("/api/health", None).0, 200);
    let hits = server.json("/api/search?q=category:ap.invoice", agent);
    assert!(hits["total_threads"].as_u64().unwrap() > 0);
}

#[test]
fn revoked_tokens_stop_working_and_failed_logins_are_rate_limited() {
    let (_dir, data, tokens) = setup();
    let extra = create_token(&data, Role::Agent, "temp");
    let out = deskmail(&["token", "list", "--json", "--data", data.to_str().unwrap()]);
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        listed.contains("\"temp\"") && !listed.contains(&extra),
        "tokens are never listed"
    );
    let out = deskmail(&["token", "revoke", "--data", data.to_str().unwrap(), "temp"]);
    assert!(out.status.success());
    let server = Server::start(&data);
    assert_eq!(server.get("/api/stats", Some(&extra)).0, 401);
    assert_eq!(server.get("/api/stats", Some(&tokens[&Role::Agent])).0, 200);
    // Ten wrong tokens from one address (the revoked token was the first): the eleventh waits,
    // told how long; a valid token from the same address is still served.
    for i in 0..9 {
        assert_eq!(
            server.get("/api/stats", Some(&format!("dm_{i}guess"))).0,
            401
        );
    }
    let (status, headers, _) = server.get("/api/stats", Some("dm_9guess"));
    assert_eq!(status, 429);
    let wait: u64 = headers["retry-after"].parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(server.get("/api/stats", Some(&tokens[&Role::Agent])).0, 200);
    assert_eq!(server.get("/api/health", None).0, 200, "health stays open");
}

#[test]
fn plain_http_is_refused_off_loopback_and_openapi_lists_the_routes() {
    let (_dir, data, _tokens) = setup();
    let out = deskmail(&[
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only allowed on a loopback address"));
    let server = Server::start(&data);
    let (status, _, body) = server.get("/openapi.json", None);
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    // Every documented route is in the permission table (else it would answer 403 to all).
    for path in doc["paths"].as_object().unwrap().keys() {
        assert!(
            ROUTES.iter().any(|(_, r, _)| r == path),
            "{path} has no roles in ROUTES"
        );
    }
    for (_, route, _) in ROUTES {
        if route.starts_with("/api/") {
            assert!(
                doc["paths"].get(*route).is_some(),
                "{route} missing from /openapi.json"
            );
        }
    }
}

/// AR receivables from the ERP, filtered by status and customer; a bad status is a clear 400.
#[test]
fn receivables_filter_by_status_and_customer() {
    let (dir, data, tokens) = setup();
    let csv = dir.path().join("ar.csv");
    std::fs::write(
        &csv,
        "invoice_number,customer,customer_email,amount,currency,issue_date,due_date,status\n\
         OC-1,Northwind,ap@northwind.example,1500.00,USD,2026-10-01,2026-11-02,open\n\
         OC-2,Contoso,ap@contoso.example,800.00,GBP,2026-10-01,2026-11-02,paid\n\
         OC-3,Contoso,ap@contoso.example,90.00,GBP,2026-10-01,2026-11-09,disputed\n",
    )
    .unwrap();
    import_invoices(&data, &csv);
    let server = Server::start(&data);
    let agent = &tokens[&Role::Agent];
    let numbers = |path: &str| -> Vec<String> {
        let mut v: Vec<String> = server.json(path, agent)["receivables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["invoice_number"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(numbers("/api/receivables"), ["OC-1", "OC-2", "OC-3"]);
    assert_eq!(numbers("/api/receivables?status=disputed"), ["OC-3"]);
    assert_eq!(
        numbers("/api/receivables?customer=contoso"),
        ["OC-2", "OC-3"]
    );
    assert_eq!(
        numbers("/api/receivables?customer=ap%40northwind&status=open"),
        ["OC-1"]
    );
    assert_eq!(numbers("/api/receivables?number=oc-2"), ["OC-2"]);
    let (status, _, body) = server.get("/api/receivables?status=overdue", Some(agent));
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("open, paid, disputed, promised"));
    let (status, _, _) = server.get("/api/receivables", Some(&tokens[&Role::Auditor]));
    assert_eq!(status, 403, "auditors read the audit log, not the ledger");
}

#[test]
fn invoices_filter_and_the_rule_dry_run_match_the_cli() {
    let (_dir, data, tokens) = setup();
    let server = Server::start(&data);
    let agent = &tokens[&Role::Agent];
    let all = server.json("/api/invoices", agent);
    let all = all["invoices"].as_array().unwrap();
    assert!(all.len() >= 10, "{all:?}");
    let bright = server.json("/api/invoices?vendor=brightline", agent);
    let bright = bright["invoices"].as_array().unwrap();
    assert!(!bright.is_empty());
    assert!(bright.iter().all(|i| {
        i["vendor"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("brightline")
    }));
    let april = server.json(
        "/api/invoices?due_after=2026-04-01&due_before=2026-04-30",
        agent,
    );
    let april = april["invoices"].as_array().unwrap();
    assert!(!april.is_empty() && april.len() < all.len());
    assert!(
        april
            .iter()
            .all(|i| i["due_date"].as_str().unwrap().starts_with("2026-04"))
    );

    let eml = fixtures().join("ap/invoice-en-us-plain-text-net30.eml");
    let (status, _, body) = server.request(
        "POST",
        "/api/rules/test",
        Some(agent),
        &std::fs::read(&eml).unwrap(),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let api: Value = serde_json::from_slice(&body).unwrap();
    let cli = deskmail(&["rules", "test", "--json", eml.to_str().unwrap()]);
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(api, cli);
    assert_eq!(api["fields"]["invoice_number"], "INV-20417");
    // Not mail: a clear error, nothing stored.
    let before = server.json("/api/stats", agent);
    let (status, _, body) = server.request("POST", "/api/rules/test", Some(agent), b"\x00\x01junk");
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    assert_eq!(server.json("/api/stats", agent), before);
}
