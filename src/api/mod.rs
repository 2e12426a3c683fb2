//! `deskmail serve`: the JSON API for agents, auditors and integrations.
//!
//! **Deny by default.** [`ROUTES`] lists every route with the roles it admits; the guard layer
//! looks up the matched route there and refuses anything not listed. Only `/api/health` and
//! `/openapi.json` are open. A caller is a bearer token (stored only as its SHA-256); failed
//! authentication is rate-limited per client address. Every authenticated request — each read
//! of mail content, each change — is written to the hash-chained audit log with its outcome.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::warn;
use utoipa::OpenApi;

use crate::access::Role;
use crate::index::MailIndex;
use crate::index::{SearchError, SearchOptions, SortOrder};
use crate::intake::SharedRules;
use crate::privacy::{self, RetentionPolicy};
use crate::store::Store;
use crate::views::{self, ViewError};

mod guard;
mod limiter;
pub mod metrics;
mod review;
pub mod server;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Open,
    Roles(&'static [Role]),
}

use Role::{Admin, Agent, Auditor, Integration};

/// Every route and who may call it. A route that is not here is refused.
#[rustfmt::skip]
pub const ROUTES: &[(&str, &str, Access)] = &[
    // The page and its assets hold no data; everything they show comes through the API.
    ("GET",    "/",                             Access::Open),
    ("GET",    "/app.js",                       Access::Open),
    ("GET",    "/app.css",                      Access::Open),
    ("GET",    "/api/health",                   Access::Open),
    ("GET",    "/openapi.json",                 Access::Open),
    ("GET",    "/api/search",                   Access::Roles(&[Admin, Agent, Integration])),
    ("GET",    "/api/threads/{id}",             Access::Roles(&[Admin, Agent])),
    ("GET",    "/api/messages/{id}",            Access::Roles(&[Admin, Agent])),
    ("GET",    "/api/messages/{id}/raw",        Access::Roles(&[Admin, Agent])),
    ("GET",    "/api/messages/{id}/attachments/{n}", Access::Roles(&[Admin, Agent])),
    ("GET",    "/api/stats",                    Access::Roles(&[Admin, Agent, Auditor, Integration])),
    ("GET",    "/api/audit",                    Access::Roles(&[Admin, Auditor])),
    ("GET",    "/api/audit/verify",             Access::Roles(&[Admin, Auditor])),
    ("GET",    "/api/invoices",                 Access::Roles(&[Admin, Agent, Integration])),
    ("GET",    "/api/receivables",              Access::Roles(&[Admin, Agent, Integration])),
    ("GET",    "/api/outbox",                   Access::Roles(&[Admin, Agent])),
    ("POST",   "/api/rules/test",               Access::Roles(&[Admin, Agent, Integration])),
    ("GET",    "/api/contacts/{email}/export",  Access::Roles(&[Admin])),
    ("POST",   "/api/contacts/{email}/erase",   Access::Roles(&[Admin])),
    ("GET",    "/api/retention",                Access::Roles(&[Admin, Auditor])),
    ("POST",   "/api/retention/purge",          Access::Roles(&[Admin])),
    ("POST",   "/api/threads/{id}/hold",        Access::Roles(&[Admin])),
    ("DELETE", "/api/threads/{id}/hold",        Access::Roles(&[Admin])),
    // Auditors see the queue and the registry; only people who work the desk decide.
    ("GET",    "/api/review",                   Access::Roles(&[Admin, Agent, Auditor])),
    ("GET",    "/api/review/{id}",              Access::Roles(&[Admin, Agent, Auditor])),
    ("POST",   "/api/review/{id}/confirm",      Access::Roles(&[Admin, Agent])),
    ("POST",   "/api/review/{id}/correct",      Access::Roles(&[Admin, Agent])),
    ("POST",   "/api/review/{id}/reject",       Access::Roles(&[Admin, Agent])),
    ("GET",    "/api/vendors",                  Access::Roles(&[Admin, Agent, Auditor, Integration])),
    ("GET",    "/api/vendors/{key}",            Access::Roles(&[Admin, Agent, Auditor, Integration])),
    // A new bank account for a vendor is the fraudster's goal: admins only.
    ("POST",   "/api/vendors/{key}/ibans",      Access::Roles(&[Admin])),
    // Counts and sizes only (no mail content, no addresses): the people who run the desk.
    ("GET",    "/metrics",                      Access::Roles(&[Admin, Auditor])),
];

/// Largest message the rule dry-run accepts.
const MAX_TEST_MESSAGE: usize = 25 * 1024 * 1024;

pub use crate::config::AUTH_FAILURES_ALLOWED;
/// A request body must have arrived whole within this.
const REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How the guard treats callers that fail to authenticate.
#[derive(Debug, Clone)]
pub struct GuardSettings {
    pub failures_allowed: u32,
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for GuardSettings {
    fn default() -> Self {
        GuardSettings {
            failures_allowed: AUTH_FAILURES_ALLOWED,
            trusted_proxies: Vec::new(),
        }
    }
}

pub struct ApiState {
    pub store: Arc<Store>,
    pub index: Arc<MailIndex>,
    /// For the rule dry-run: the live rule set (the daemon's, swapped on reload); None when
    /// the server was started without rules.
    pub rules: Option<SharedRules>,
    pub retention: RetentionPolicy,
    /// Removes erased and purged messages from the index.
    pub unindex: Arc<dyn privacy::IndexUpdates>,
    limiter: limiter::Limiter,
    refusals: limiter::AuditThrottle,
    /// Proxies whose X-Forwarded-For names the client.
    trusted_proxies: Vec<ipnet::IpNet>,
    reloader: crate::index::Reloader,
}

impl ApiState {
    /// Dispose of mail past its retention period now (on a blocking thread; the index reader
    /// then sees the removals).
    pub async fn purge_now(self: &Arc<Self>) -> Result<privacy::ErasureReport, String> {
        let s = Arc::clone(self);
        let report = tokio::task::spawn_blocking(move || {
            privacy::purge(
                &s.store,
                s.unindex.as_ref(),
                privacy::Lookup::Index(&s.index),
                &s.retention,
                chrono::Utc::now(),
            )
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        let _ = self.index.reload();
        Ok(report)
    }

    /// `guard`: failed authentications allowed per client address (and per token prefix) per
    /// minute, and the proxies trusted to name the client.
    pub fn new(
        store: Arc<Store>,
        index: Arc<MailIndex>,
        rules: Option<SharedRules>,
        retention: RetentionPolicy,
        unindex: Arc<dyn privacy::IndexUpdates>,
        guard: GuardSettings,
    ) -> Arc<ApiState> {
        Arc::new(ApiState {
            store,
            index,
            rules,
            retention,
            unindex,
            limiter: limiter::Limiter::new(guard.failures_allowed),
            refusals: limiter::AuditThrottle::default(),
            trusted_proxies: guard.trusted_proxies,
            reloader: Default::default(),
        })
    }

    /// Pick up index commits made by the daemon.
    fn refresh_index(&self) {
        self.reloader.refresh(&self.index);
    }
}

/// The client's address, put in each request by the server loop.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The fingerprint key of a client certificate verified by TLS (mTLS), put in each request.
#[derive(Debug, Clone)]
pub struct ClientCert(pub String);

/// The authenticated caller, for handlers.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "deskmail API", description = "Search and read AP/AR mail threads, with roles and an audit log."),
    paths(health, search, thread, message, message_raw, attachment, stats, outbox, audit, audit_verify, invoices, receivables, rules_test,
          contact_export, contact_erase, retention_status, retention_purge, hold_on, hold_off,
          review::list, review::show, review::confirm, review::correct, review::reject,
          review::vendors, review::vendor, review::confirm_iban, metrics::scrape),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;
impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The whole application: routes, the guard, security headers.
pub fn router(state: Arc<ApiState>) -> Router {
    let app = Router::new()
        .route("/", get(page))
        .route("/app.js", get(page_script))
        .route("/app.css", get(page_style))
        .route("/api/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/api/search", get(search))
        .route("/api/threads/{id}", get(thread))
        .route("/api/messages/{id}", get(message))
        .route("/api/messages/{id}/raw", get(message_raw))
        .route("/api/messages/{id}/attachments/{n}", get(attachment))
        .route("/api/stats", get(stats))
        .route("/api/audit", get(audit))
        .route("/api/audit/verify", get(audit_verify))
        .route("/api/invoices", get(invoices))
        .route("/api/receivables", get(receivables))
        .route("/api/outbox", get(outbox))
        .route("/api/contacts/{email}/export", get(contact_export))
        .route(
            "/api/contacts/{email}/erase",
            axum::routing::post(contact_erase),
        )
        .route("/api/review", get(review::list))
        .route("/api/review/{id}", get(review::show))
        .route("/api/review/{id}/confirm", post(review::confirm))
        .route("/api/review/{id}/correct", post(review::correct))
        .route("/api/review/{id}/reject", post(review::reject))
        .route("/api/vendors", get(review::vendors))
        .route("/api/vendors/{key}", get(review::vendor))
        .route("/api/vendors/{key}/ibans", post(review::confirm_iban))
        .route("/metrics", get(metrics::scrape))
        .route("/api/retention", get(retention_status))
        .route("/api/retention/purge", axum::routing::post(retention_purge))
        .route(
            "/api/threads/{id}/hold",
            axum::routing::post(hold_on).delete(hold_off),
        )
        .route(
            "/api/rules/test",
            axum::routing::post(rules_test)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_TEST_MESSAGE)),
        )
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            guard::guard,
        ))
        .with_state(state);
    outer_layers(app)
}

/// What wraps every route, guarded or open: security headers on every answer, and a panic in a
/// handler answered as that request's 500 instead of unwinding out of the connection task.
fn outer_layers(router: Router) -> Router {
    router
        // A body sent slower than this is cut off (the head has its own timeout in `server`).
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            REQUEST_BODY_TIMEOUT,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        // Requests by matched route template and status, with latency; runs after routing (so
        // the template is known), around the guard (refusals count) and the panic catcher.
        .layer(middleware::from_fn(metrics::track))
        .layer(middleware::from_fn(security_headers))
}

/// A panic while answering one request is that request's 500, logged; the server (and, under
/// `deskmail run`, the intake and the sender beside it) keeps running.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(panic = what, "A request handler panicked; answered 500");
    problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

fn access_for(method: &Method, path: &str) -> Option<Access> {
    // HEAD is a GET without the body: the same roles.
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, a)| *a)
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // The page sets its own (scripts and styles from this origin only); everything else none.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// What the page may load: its own script, style and API; no inline script, no frames.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        ],
        body,
    )
        .into_response()
}

async fn page() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("../../web/index.html"),
    )
}

async fn page_script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../web/app.js"),
    )
}

async fn page_style() -> Response {
    asset("text/css; charset=utf-8", include_str!("../../web/app.css"))
}

fn view_error(e: ViewError) -> Response {
    match e {
        ViewError::NotFound(m) => problem(StatusCode::NOT_FOUND, &m),
        ViewError::Invalid(m) => problem(StatusCode::BAD_REQUEST, &m),
        other => problem(StatusCode::INTERNAL_SERVER_ERROR, &other.to_string()),
    }
}

fn json_text(text: Result<String, ViewError>) -> Response {
    match text {
        Ok(t) => match serde_json::from_str::<Value>(&t) {
            Ok(v) => axum::Json(v).into_response(),
            Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        },
        Err(e) => view_error(e),
    }
}

/// Liveness (open).
#[utoipa::path(get, path = "/api/health", responses((status = 200, description = "deskmail is up")))]
async fn health() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn openapi() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}

#[derive(Deserialize)]
struct SearchParams {
    q: String,
    #[serde(default = "default_limit")]
    limit: usize,
    #[serde(default)]
    sort: Option<String>,
}

fn default_limit() -> usize {
    20
}

/// Search threads with the query language; the same JSON as `deskmail search --json`.
#[utoipa::path(get, path = "/api/search",
    params(("q" = String, Query, description = "query, e.g. `from:acme invoice:4411`"),
           ("limit" = Option<usize>, Query, description = "threads to return (default 20)"),
           ("sort" = Option<String>, Query, description = "newest (default) or relevance")),
    responses((status = 200, description = "{total_threads, more_threads, total_messages, threads: [...]}"),
              (status = 400, description = "bad query, with the column")),
    security(("bearer" = [])))]
async fn search(State(state): State<Arc<ApiState>>, Query(p): Query<SearchParams>) -> Response {
    state.refresh_index();
    let opts = SearchOptions {
        limit: p.limit.min(500),
        sort: match p.sort.as_deref() {
            Some("relevance") => SortOrder::Relevance,
            _ => SortOrder::Newest,
        },
        message_ids: true,
    };
    match state.index.search(&p.q, &opts) {
        Ok(r) => axum::Json(r).into_response(),
        Err(SearchError::Query(e)) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": format!("bad query: {e}"), "position": e.position })),
        )
            .into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// A thread: every message with category, fields and flags.
#[utoipa::path(get, path = "/api/threads/{id}", params(("id" = String, Path, description = "thread id or a unique prefix")),
    responses((status = 200, description = "the thread"), (status = 404, description = "no such thread")),
    security(("bearer" = [])))]
async fn thread(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    json_text(views::thread(&state.store, &id, true))
}

/// A message with its decision: category, fields with provenance, matched rules.
#[utoipa::path(get, path = "/api/messages/{id}", params(("id" = String, Path, description = "message id or a unique prefix")),
    responses((status = 200, description = "the message and its decision"), (status = 404, description = "no such message")),
    security(("bearer" = [])))]
async fn message(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    json_text(views::show(&state.store, &id, true))
}

/// The original message as received (.eml).
#[utoipa::path(get, path = "/api/messages/{id}/raw", params(("id" = String, Path, description = "message id or a unique prefix")),
    responses((status = 200, description = "message/rfc822", content_type = "message/rfc822"), (status = 403, description = "the message is quarantined (antivirus)"), (status = 404, description = "no such message")),
    security(("bearer" = [])))]
async fn message_raw(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    let store = &state.store;
    let mid = store.resolve_message_id(&id).ok().flatten();
    if let Some(refused) = mid
        .as_ref()
        .and_then(|m| store.message(m).ok().flatten())
        .and_then(|stored| quarantined(&stored.decision))
    {
        return refused;
    }
    let found = mid.and_then(|mid| store.raw(&mid).ok().flatten().map(|raw| (mid, raw)));
    match found {
        Some((mid, raw)) => Response::builder()
            .header(header::CONTENT_TYPE, "message/rfc822")
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{mid}.eml\""),
            )
            .body(Body::from(raw))
            .unwrap_or_else(|_| problem(StatusCode::INTERNAL_SERVER_ERROR, "response")),
        None => problem(StatusCode::NOT_FOUND, "no single message with that id"),
    }
}

/// A message the antivirus scan quarantined is never handed out (not its attachments, not its
/// raw bytes, which hold them): 403 with the signature, so the page can say why.
fn quarantined(decision: &crate::model::Decision) -> Option<Response> {
    let virus = decision.virus.as_deref()?;
    let body = json!({
        "error": format!("quarantined by the antivirus scan ({virus}): not served"),
        "virus": virus,
    });
    Some((StatusCode::FORBIDDEN, axum::Json(body)).into_response())
}

/// Attachment number `n` (0-based, in the order the message lists them), as a download: always
/// `application/octet-stream` with `Content-Disposition: attachment`, so a browser never renders
/// a hostile file, and a file name reduced to safe characters.
#[utoipa::path(get, path = "/api/messages/{id}/attachments/{n}",
    params(("id" = String, Path, description = "message id or a unique prefix"), ("n" = usize, Path, description = "attachment number, from 0")),
    responses((status = 200, description = "the attachment's bytes", content_type = "application/octet-stream"), (status = 403, description = "the message is quarantined (antivirus)"), (status = 404, description = "no such message or attachment")),
    security(("bearer" = [])))]
async fn attachment(
    State(state): State<Arc<ApiState>>,
    Path((id, n)): Path<(String, usize)>,
) -> Response {
    let store = &state.store;
    let Some(stored) = store
        .resolve_message_id(&id)
        .ok()
        .flatten()
        .and_then(|mid| store.message(&mid).ok().flatten())
    else {
        return problem(StatusCode::NOT_FOUND, "no single message with that id");
    };
    if let Some(refused) = quarantined(&stored.decision) {
        return refused;
    }
    let Some(att) = stored.message.attachments.get(n) else {
        return problem(StatusCode::NOT_FOUND, "no such attachment");
    };
    let bytes = store
        .raw_bytes(&stored)
        .ok()
        .and_then(|raw| crate::parse::attachment_bytes(&raw, &att.sha256));
    let Some(bytes) = bytes else {
        return problem(
            StatusCode::NOT_FOUND,
            "the attachment's bytes are not there",
        );
    };
    let mut safe: String = att
        .name
        .as_deref()
        .unwrap_or("attachment")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    while safe.contains("..") {
        safe = safe.replace("..", ".");
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", safe.trim_start_matches('.')),
        )
        .body(Body::from(bytes))
        .unwrap_or_else(|_| problem(StatusCode::INTERNAL_SERVER_ERROR, "response"))
}

/// The outbox: every automatic reply with its state and the server's last answer.
#[utoipa::path(get, path = "/api/outbox", responses((status = 200, description = "{outbox: [...]}")),
    security(("bearer" = [])))]
async fn outbox(State(state): State<Arc<ApiState>>) -> Response {
    match state.store.outbox_list() {
        Ok(list) => axum::Json(json!({ "outbox": list })).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Counts of what is stored.
#[utoipa::path(get, path = "/api/stats", responses((status = 200, description = "{messages, threads, invoices, rejected}")),
    security(("bearer" = [])))]
async fn stats(State(state): State<Arc<ApiState>>) -> Response {
    json_text(views::stats(&state.store, true))
}

#[derive(Deserialize)]
struct AuditParams {
    #[serde(default)]
    from: u64,
    #[serde(default = "default_audit_limit")]
    limit: usize,
}

fn default_audit_limit() -> usize {
    200
}

/// Audit records in order, from number `from` (auditor, admin).
#[utoipa::path(get, path = "/api/audit",
    params(("from" = Option<u64>, Query, description = "first record number"), ("limit" = Option<usize>, Query, description = "at most this many (default 200)")),
    responses((status = 200, description = "{records: [...]}")),
    security(("bearer" = [])))]
async fn audit(State(state): State<Arc<ApiState>>, Query(p): Query<AuditParams>) -> Response {
    match state.store.audit_records(p.from, p.limit.min(5000)) {
        Ok(records) => axum::Json(json!({ "records": records })).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// The audit chain checked against its head, the audit key and the anchors outside the store,
/// on the live store (the answer says which record breaks it, if one does).
#[utoipa::path(get, path = "/api/audit/verify",
    responses((status = 200, description = "{intact, records, keyed, unkeyed_prefix, anchors, last_anchor, text} or {intact: false, seq, reason, text}")),
    security(("bearer" = [])))]
async fn audit_verify(State(state): State<Arc<ApiState>>) -> Response {
    let s = Arc::clone(&state);
    match tokio::task::spawn_blocking(move || views::audit_verify(&s.store)).await {
        Ok(Ok(json)) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Ok(Err(e)) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[derive(Deserialize)]
struct InvoiceParams {
    vendor: Option<String>,
    number: Option<String>,
    due_after: Option<String>,
    due_before: Option<String>,
}

/// AP invoices seen in mail (vendor + number), each with every message that carried it.
/// Filters: `vendor` and `number` (case-insensitive substrings), `due_after` / `due_before`
/// (YYYY-MM-DD, inclusive).
#[utoipa::path(get, path = "/api/invoices",
    params(("vendor" = Option<String>, Query, description = "part of the vendor name"),
           ("number" = Option<String>, Query, description = "part of the invoice number"),
           ("due_after" = Option<String>, Query, description = "due on or after YYYY-MM-DD"),
           ("due_before" = Option<String>, Query, description = "due on or before YYYY-MM-DD")),
    responses((status = 200, description = "{invoices: [...]}")),
    security(("bearer" = [])))]
async fn invoices(State(state): State<Arc<ApiState>>, Query(p): Query<InvoiceParams>) -> Response {
    let contains = |hay: &str, needle: &Option<String>| {
        needle.as_deref().is_none_or(|n| contains_folded(hay, n))
    };
    match state.store.invoices() {
        Ok(all) => {
            let list: Vec<_> = all
                .into_iter()
                .filter(|i| {
                    contains(&i.vendor, &p.vendor) && contains(&i.invoice_number, &p.number)
                })
                .filter(|i| {
                    let due = i.due_date.as_deref();
                    p.due_after
                        .as_deref()
                        .is_none_or(|a| due.is_some_and(|d| d >= a))
                        && p.due_before
                            .as_deref()
                            .is_none_or(|b| due.is_some_and(|d| d <= b))
                })
                .collect();
            axum::Json(json!({ "invoices": list })).into_response()
        }
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Case-insensitive substring test of the list filters.
fn contains_folded(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

#[derive(Deserialize)]
struct ReceivableParams {
    status: Option<String>,
    customer: Option<String>,
    number: Option<String>,
    today: Option<String>,
}

/// AR receivables imported from the ERP, with what the inbox made of them (paid, disputed,
/// promised) and the reminder steps sent. Filters: `status`; `customer` (part of the name or
/// address) and `number`, case-insensitive. Each receivable also has, as of `today` (default:
/// the server's date, UTC): `days_overdue` (negative: not due yet), `overdue` (past due and
/// open, or promised for a day that has passed), `last_reminder` ({id, step, state, created_at,
/// updated_at, subject, last_error} or null) and `status_event`, the message that set the
/// status ({message_id, thread_id, subject, date, category} or null).
#[utoipa::path(get, path = "/api/receivables",
    params(("status" = Option<String>, Query, description = "open, paid, disputed or promised"),
           ("customer" = Option<String>, Query, description = "part of the customer's name or address"),
           ("number" = Option<String>, Query, description = "part of the invoice number"),
           ("today" = Option<String>, Query, description = "count days overdue as of this YYYY-MM-DD (the caller's date; default the server's, UTC)")),
    responses((status = 200, description = "{today, receivables: [{...the receivable, days_overdue, overdue, last_reminder, status_event}]}"),
              (status = 400, description = "unknown status, or today is not YYYY-MM-DD")),
    security(("bearer" = [])))]
async fn receivables(
    State(state): State<Arc<ApiState>>,
    Query(p): Query<ReceivableParams>,
) -> Response {
    const STATUSES: &[&str] = &["open", "paid", "disputed", "promised"];
    if let Some(s) = &p.status
        && !STATUSES.contains(&s.as_str())
    {
        return problem(
            StatusCode::BAD_REQUEST,
            &format!("status {s:?} is not one of {}", STATUSES.join(", ")),
        );
    }
    let today = match p.today.as_deref() {
        None => chrono::Utc::now().date_naive(),
        Some(t) => match chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    &format!("today {t:?} is not YYYY-MM-DD"),
                );
            }
        },
    };
    let contains = contains_folded;
    match state.store.receivables() {
        Ok(all) => {
            let list: Vec<_> = all
                .into_iter()
                .filter(|r| {
                    p.status.as_deref().is_none_or(|s| r.status.name() == s)
                        && p.customer.as_deref().is_none_or(|c| {
                            contains(&r.customer, c) || contains(&r.customer_email, c)
                        })
                        && p.number
                            .as_deref()
                            .is_none_or(|n| contains(&r.invoice_number, n))
                })
                .collect();
            match views::receivable_rows(&state.store, list, today) {
                Ok(rows) => {
                    axum::Json(json!({ "today": today, "receivables": rows })).into_response()
                }
                Err(e) => view_error(e),
            }
        }
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Dry-run the rules on a posted .eml: the decision, nothing stored (as `deskmail rules test`).
#[utoipa::path(post, path = "/api/rules/test",
    request_body(content = String, content_type = "message/rfc822", description = "the raw message"),
    responses((status = 200, description = "{category, fields, matched_rules, actions, provenance, rules_version}"),
              (status = 422, description = "not a message deskmail can parse")),
    security(("bearer" = [])))]
async fn rules_test(State(state): State<Arc<ApiState>>, body: axum::body::Bytes) -> Response {
    let Some(rules) = state.rules.as_ref().map(crate::intake::current_rules) else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server was started without rules",
        );
    };
    let raw = crate::model::RawMail {
        role: None,
        mailbox: "api".into(),
        origin: "POST /api/rules/test".into(),
        bytes: body.to_vec(),
    };
    match crate::parse::parse(&raw, &crate::parse::ParseLimits::default()) {
        Ok(msg) => axum::Json(views::decision_json(&rules.evaluate(&msg))).into_response(),
        Err(e) => problem(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
    }
}

fn privacy_error(e: privacy::PrivacyError) -> Response {
    match e {
        privacy::PrivacyError::NotAnAddress(_) => problem(StatusCode::BAD_REQUEST, &e.to_string()),
        other => problem(StatusCode::INTERNAL_SERVER_ERROR, &other.to_string()),
    }
}

/// Export everything held about an address: a tar of `export.json` and the original .eml files.
#[utoipa::path(get, path = "/api/contacts/{email}/export", params(("email" = String, Path, description = "the person's address")),
    responses((status = 200, description = "application/x-tar", content_type = "application/x-tar"), (status = 400, description = "not an address")),
    security(("bearer" = [])))]
async fn contact_export(State(state): State<Arc<ApiState>>, Path(email): Path<String>) -> Response {
    let s = Arc::clone(&state);
    let export = match tokio::task::spawn_blocking(move || {
        privacy::Export::of(&s.store, privacy::Lookup::Index(&s.index), &email)
    })
    .await
    {
        Ok(Ok(export)) => export,
        Ok(Err(e)) => return privacy_error(e),
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let count = export.messages();
    // The archive goes out as it is written, a chunk at a time: a contact's ten thousand
    // messages are not held in memory at once.
    let (tx, rx) = tokio::sync::mpsc::channel(EXPORT_CHUNKS_IN_FLIGHT);
    let store = Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkSender {
            tx: tx.clone(),
            chunk: Vec::with_capacity(EXPORT_CHUNK_BYTES),
        };
        if let Err(e) = export.write_to(&store, &mut out) {
            // The client sees the download cut short, never a tar that looks whole.
            warn!(error = %e, "A data-protection export stopped part way");
            let _ = tx.blocking_send(Err(std::io::Error::other("the export stopped part way")));
        }
    });
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-tar")
        .header(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"deskmail-export.tar\"",
        )
        .header("x-deskmail-messages", count.to_string())
        .body(Body::from_stream(chunks))
        .unwrap_or_else(|_| problem(StatusCode::INTERNAL_SERVER_ERROR, "response"))
}

/// Bytes of an export's archive per chunk of the response.
const EXPORT_CHUNK_BYTES: usize = 256 * 1024;
/// Chunks written ahead of what the client has taken.
const EXPORT_CHUNKS_IN_FLIGHT: usize = 4;

/// Writes an export's archive into the response, a chunk at a time, waiting while the client
/// is behind; an error once the client has gone.
struct ChunkSender {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
}

impl ChunkSender {
    fn send(&mut self) -> std::io::Result<()> {
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(EXPORT_CHUNK_BYTES));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

impl std::io::Write for ChunkSender {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.chunk.extend_from_slice(buf);
        if self.chunk.len() >= EXPORT_CHUNK_BYTES {
            self.send()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

/// Erase everything held about an address (store, raw bytes, index); AP invoice records stay,
/// pseudonymised. Answers with counts and message ids.
#[utoipa::path(post, path = "/api/contacts/{email}/erase", params(("email" = String, Path, description = "the person's address")),
    responses((status = 200, description = "{erased, message_ids, threads_removed, invoices_kept_pseudonymised}"), (status = 400, description = "not an address")),
    security(("bearer" = [])))]
async fn contact_erase(State(state): State<Arc<ApiState>>, Path(email): Path<String>) -> Response {
    let s = Arc::clone(&state);
    match tokio::task::spawn_blocking(move || {
        privacy::erase_address(
            &s.store,
            s.unindex.as_ref(),
            privacy::Lookup::Index(&s.index),
            &email,
        )
    })
    .await
    {
        Ok(Ok(report)) => {
            // Searches from now on must not find what was erased.
            let _ = state.index.reload();
            axum::Json(report).into_response()
        }
        Ok(Err(e)) => privacy_error(e),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// The retention policy and what it would dispose of now.
#[utoipa::path(get, path = "/api/retention", responses((status = 200, description = "{policy, messages, due, held, threads_on_hold}")),
    security(("bearer" = [])))]
async fn retention_status(State(state): State<Arc<ApiState>>) -> Response {
    // It reads what the index names as possibly due (every stored message when the index
    // cannot answer: 13 s at a million): on a blocking thread, not one of the runtime's.
    let s = Arc::clone(&state);
    match tokio::task::spawn_blocking(move || {
        privacy::retention_due(
            &s.store,
            privacy::Lookup::Index(&s.index),
            &s.retention,
            chrono::Utc::now(),
        )
    })
    .await
    {
        Ok(Ok((_, status))) => axum::Json(status).into_response(),
        Ok(Err(e)) => privacy_error(e),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Dispose of mail past its retention period (threads on hold are kept).
#[utoipa::path(post, path = "/api/retention/purge", responses((status = 200, description = "{erased, message_ids, ...}")),
    security(("bearer" = [])))]
async fn retention_purge(State(state): State<Arc<ApiState>>) -> Response {
    match state.purge_now().await {
        Ok(report) => axum::Json(report).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e),
    }
}

fn set_hold(state: &ApiState, id: &str, on: bool, caller: &Caller) -> Response {
    let Ok(Some(thread)) = state.store.resolve_thread_id(id) else {
        return problem(StatusCode::NOT_FOUND, "no single thread with that id");
    };
    match state.store.set_hold(&thread, on, &caller.name) {
        Ok(true) => axum::Json(json!({ "thread_id": thread, "hold": on })).into_response(),
        Ok(false) => problem(StatusCode::NOT_FOUND, "no such thread"),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Put a thread on legal hold: retention never disposes of it.
#[utoipa::path(post, path = "/api/threads/{id}/hold", params(("id" = String, Path, description = "thread id or a unique prefix")),
    responses((status = 200, description = "{thread_id, hold: true}"), (status = 404, description = "no such thread")),
    security(("bearer" = [])))]
async fn hold_on(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Response {
    set_hold(&state, &id, true, &caller)
}

/// Release a thread's legal hold.
#[utoipa::path(delete, path = "/api/threads/{id}/hold", params(("id" = String, Path, description = "thread id or a unique prefix")),
    responses((status = 200, description = "{thread_id, hold: false}"), (status = 404, description = "no such thread")),
    security(("bearer" = [])))]
async fn hold_off(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Response {
    set_hold(&state, &id, false, &caller)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Security finding 1: a panic while answering one request must not take the process (and,
    /// under `deskmail run`, intake and sender) down; it is that request's 500.
    #[tokio::test]
    async fn a_panicking_handler_is_a_500_with_security_headers_not_a_dead_server() {
        use tower::ServiceExt;
        let app = outer_layers(Router::new().route(
            "/boom",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("handler bug");
                }
                "unreachable"
            }),
        ));
        let request = || Request::builder().uri("/boom").body(Body::empty()).unwrap();
        for _ in 0..2 {
            let answer = app.clone().oneshot(request()).await.unwrap();
            assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
            let body = axum::body::to_bytes(answer.into_body(), 1024)
                .await
                .unwrap();
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                body["error"], "internal error",
                "the panic text is not shown"
            );
        }
    }
}
