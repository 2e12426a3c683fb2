//! The guard layer in front of every route (see the module above): the route's access, the
//! caller's credential (a bearer token or a registered client certificate), the limit on failed
//! authentications, and the audit record of every request that reaches a guarded route.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::{info, warn};

use super::{Access, ApiState, Caller, ClientAddr, ClientCert, access_for, limiter, problem};
use crate::access::{Role, TokenRecord, token_hash};
use crate::audit::AuditEntry;

/// Authentication, authorisation, rate limiting and the audit record, for every route.
pub(super) async fn guard(
    State(state): State<Arc<ApiState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let method = req.method().clone();
    let Some(access) = access_for(&method, &route) else {
        return problem(StatusCode::FORBIDDEN, "this route admits nobody");
    };
    let Access::Roles(allowed) = access else {
        return next.run(req).await;
    };
    let auditor = Auditor::of(&state, &req, format!("{method} {route}"));
    let token = bearer_token(&req);
    // A bearer token, or else a registered client certificate (service-to-service mTLS). A valid
    // one is served whatever anyone else got wrong: it is checked before any limit.
    let record = if !token.is_empty() {
        state.store.token(&token_hash(&token)).ok().flatten()
    } else if let Some(ClientCert(key)) = req.extensions().get::<ClientCert>() {
        state.store.token(key).ok().flatten()
    } else {
        None
    };
    let Some(record) = record.filter(|r| r.revoked_at.is_none()) else {
        return auditor.unauthenticated(&token);
    };
    let TokenRecord { name, role, .. } = record;
    if !allowed.contains(&role) {
        auditor.record(&name, Some(role), "403".into());
        return problem(
            StatusCode::FORBIDDEN,
            &format!("role {role} may not call {}", auditor.action),
        );
    }
    req.extensions_mut().insert(Caller {
        name: name.clone(),
        role,
    });
    let response = next.run(req).await;
    // A read that cannot be audited is not served.
    if !auditor.record(&name, Some(role), response.status().as_u16().to_string()) {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "the audit log cannot be written",
        );
    }
    info!(caller = %name, route = %auditor.action, status = response.status().as_u16(), "API request");
    response
}

/// The `Authorization: Bearer` token of a request, trimmed; empty when there is none.
fn bearer_token(req: &Request) -> String {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default()
        .to_string()
}

/// What the audit log is told about one request to a guarded route.
struct Auditor<'a> {
    state: &'a ApiState,
    /// `METHOD /route/{template}`.
    action: String,
    /// The path and query asked for, addresses pseudonymised, bounded in length.
    target: String,
    /// A change (anything but GET and HEAD): recorded durably before the answer.
    change: bool,
    /// The client's address (through trusted proxies), for refusals and their limit.
    ip: IpAddr,
}

impl<'a> Auditor<'a> {
    fn of(state: &'a ApiState, req: &Request, action: String) -> Self {
        let peer = req
            .extensions()
            .get::<ClientAddr>()
            .map_or(SocketAddr::from(([127, 0, 0, 1], 0)), |a| a.0);
        let target = limiter::bounded_target(&crate::audit::pseudonymise_addresses(
            req.uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or_default(),
        ));
        Auditor {
            state,
            action,
            target,
            change: !matches!(*req.method(), Method::GET | Method::HEAD),
            ip: limiter::client_addr(peer, req.headers(), &state.trusted_proxies),
        }
    }

    /// Records the request; false when the audit log cannot be written.
    fn record(&self, actor: &str, role: Option<Role>, outcome: String) -> bool {
        let entry = AuditEntry {
            actor: actor.to_string(),
            role: role.map(|r| r.name().to_string()),
            action: self.action.clone(),
            targets: vec![self.target.clone()],
            outcome,
        };
        // Changes are recorded durably before the answer; reads within the store's one-second sync.
        let result = self.state.store.audit(entry).and_then(|_| {
            if self.change {
                self.state.store.flush()
            } else {
                Ok(())
            }
        });
        if let Err(e) = result {
            warn!(error = %e, "Cannot write the audit log");
            return false;
        }
        true
    }

    /// Refused requests cost one audit record per address per minute, whatever their number.
    fn refused(&self, outcome: &str) {
        if let limiter::RefusalRecord::Write { earlier } = self.state.refusals.refused(self.ip) {
            let outcome = match earlier {
                0 => outcome.to_string(),
                n => format!("{outcome} (and {n} more refused from this address before)"),
            };
            self.record(&format!("anonymous@{}", self.ip), None, outcome);
        }
    }

    /// The answer to a request without a valid credential: 401, or 429 once this address (or
    /// this token) has failed too often; each counted against the limit and audited.
    fn unauthenticated(&self, token: &str) -> Response {
        let (state, ip) = (self.state, self.ip);
        if token.is_empty() {
            self.refused("401 no token");
            return problem(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
        }
        if let Some(wait) = state.limiter.retry_after(ip, token) {
            self.refused("429 too many failed logins");
            let mut res = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "too many failed authentications; wait a minute",
            );
            let secs = wait.as_secs().max(1).to_string();
            if let Ok(v) = HeaderValue::from_str(&secs) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return res;
        }
        state.limiter.failed(ip, token);
        self.refused("401");
        warn!(client = %ip, route = %self.action, "Refused: unknown or revoked token");
        problem(StatusCode::UNAUTHORIZED, "a valid bearer token is required")
    }
}
