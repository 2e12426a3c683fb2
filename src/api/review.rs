//! The review queue and the vendor registry over HTTP: the same views and the same decision
//! as `deskmail review …` and `deskmail vendors …`, with the caller's name in the audit record.
//!
//! A decision must name the item's `version` the caller saw: two agents correcting one message
//! cannot overwrite each other; the second gets 409 with the item as it is now.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{ApiState, Caller, json_text, problem};
use crate::store::ReviewError;
use crate::views::{self, Decide, DecideError};

#[derive(Deserialize)]
pub(super) struct ListParams {
    /// Decided items too, not only the open ones.
    #[serde(default)]
    all: bool,
}

/// The review queue: open items (or every item with `all=true`), with counts per reason.
#[utoipa::path(get, path = "/api/review",
    params(("all" = Option<bool>, Query, description = "decided items too")),
    responses((status = 200, description = "{open, by_reason, items: [...]}")),
    security(("bearer" = [])))]
pub(super) async fn list(
    State(state): State<Arc<ApiState>>,
    Query(p): Query<ListParams>,
) -> Response {
    json_text(views::review_list(&state.store, p.all, true))
}

/// One item: why it is in review, every field with its confidence and the text it came from,
/// the vendor guard's old and new details, the replies waiting for it.
#[utoipa::path(get, path = "/api/review/{id}", params(("id" = String, Path, description = "message id or a unique prefix")),
    responses((status = 200, description = "{item, message, fields, guard, corrections, replies}"),
              (status = 404, description = "not in the review queue")),
    security(("bearer" = [])))]
pub(super) async fn show(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Response {
    json_text(views::review_show(&state.store, &id, true))
}

/// The body of confirm, correct and reject.
#[derive(Deserialize, Default)]
pub(super) struct DecideBody {
    /// The item's version the caller saw (from `GET /api/review/{id}`).
    version: Option<u32>,
    /// For correct: field name → the right value ("1234.56 EUR", "2026-11-03", …).
    #[serde(default)]
    fields: BTreeMap<String, String>,
    /// For reject: why.
    note: Option<String>,
}

/// Confirm the message's values as they are; replies waiting for it go to the outbox.
#[utoipa::path(post, path = "/api/review/{id}/confirm", params(("id" = String, Path, description = "message id or a unique prefix")),
    request_body(content = String, content_type = "application/json", description = "{\"version\": N}"),
    responses((status = 200, description = "{item, corrections, replies}"), (status = 400, description = "no version"),
              (status = 404, description = "not in the review queue"), (status = 409, description = "changed by someone else, or already decided")),
    security(("bearer" = [])))]
pub(super) async fn confirm(
    state: State<Arc<ApiState>>,
    id: Path<String>,
    caller: axum::Extension<Caller>,
    body: axum::body::Bytes,
) -> Response {
    let body: DecideBody = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    run(state, id, caller, Decide::Confirm, body.version).await
}

/// Correct fields (each checked against its kind: a date must be a date, an amount one
/// amount in one currency); the original values stay in the decision for the audit.
#[utoipa::path(post, path = "/api/review/{id}/correct", params(("id" = String, Path, description = "message id or a unique prefix")),
    request_body(content = String, content_type = "application/json", description = "{\"version\": N, \"fields\": {\"total\": \"1234.56 EUR\"}}"),
    responses((status = 200, description = "{item, corrections, replies}"), (status = 400, description = "a value of the wrong kind, or no version"),
              (status = 404, description = "not in the review queue"), (status = 409, description = "changed by someone else")),
    security(("bearer" = [])))]
pub(super) async fn correct(
    state: State<Arc<ApiState>>,
    id: Path<String>,
    caller: axum::Extension<Caller>,
    body: axum::body::Bytes,
) -> Response {
    let body: DecideBody = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    let fields = body
        .fields
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    run(state, id, caller, Decide::Correct { fields }, body.version).await
}

/// Reject: the message's values are wrong beyond correcting (or it is a fraud attempt); the
/// replies waiting for it are cancelled.
#[utoipa::path(post, path = "/api/review/{id}/reject", params(("id" = String, Path, description = "message id or a unique prefix")),
    request_body(content = String, content_type = "application/json", description = "{\"version\": N, \"note\": \"why\"}"),
    responses((status = 200, description = "{item, corrections, replies}"), (status = 400, description = "no version"),
              (status = 404, description = "not in the review queue"), (status = 409, description = "changed by someone else, or already decided")),
    security(("bearer" = [])))]
pub(super) async fn reject(
    state: State<Arc<ApiState>>,
    id: Path<String>,
    caller: axum::Extension<Caller>,
    body: axum::body::Bytes,
) -> Response {
    let body: DecideBody = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    let note = body.note.filter(|n| !n.trim().is_empty());
    run(state, id, caller, Decide::Reject { note }, body.version).await
}

/// A JSON body (any content type: curl users forget it), or 400 saying what is wrong with it.
/// An empty body is the type's default.
fn json_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Box<Response>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        Box::new(problem(
            StatusCode::BAD_REQUEST,
            &format!("the body is not the JSON expected: {e}"),
        ))
    })
}

async fn run(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    axum::Extension(caller): axum::Extension<Caller>,
    decision: Decide,
    version: Option<u32>,
) -> Response {
    let Some(version) = version else {
        return problem(
            StatusCode::BAD_REQUEST,
            "send the item's \"version\" you saw (GET /api/review/{id})",
        );
    };
    let s = Arc::clone(&state);
    let outcome = tokio::task::spawn_blocking(move || {
        views::decide(
            &s.store,
            s.unindex.as_ref(),
            &id,
            &decision,
            &caller.name,
            caller.role.name(),
            Some(version),
        )
    })
    .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    match outcome {
        Ok(o) => {
            // Searches from now on see the corrected values.
            let _ = state.index.reload();
            axum::Json(
                json!({ "item": o.item, "corrections": o.corrections, "replies": o.replies }),
            )
            .into_response()
        }
        Err(DecideError::Invalid(errors)) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "error": errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                "fields": errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })),
        )
            .into_response(),
        Err(DecideError::Review(e @ ReviewError::Conflict { .. }))
        | Err(DecideError::Review(e @ ReviewError::AlreadyDecided(..))) => {
            let current = state
                .store
                .review_item(match &e {
                    ReviewError::Conflict { id, .. } | ReviewError::AlreadyDecided(id, _) => id,
                    _ => unreachable!("matched above"),
                })
                .ok()
                .flatten();
            (
                StatusCode::CONFLICT,
                axum::Json(json!({ "error": e.to_string(), "current": current })),
            )
                .into_response()
        }
        Err(DecideError::Review(e @ ReviewError::NotFound(_))) => {
            problem(StatusCode::NOT_FOUND, &e.to_string())
        }
        Err(DecideError::Review(e)) => problem(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(DecideError::View(e)) => super::view_error(e),
    }
}

/// The vendor registry: name, VAT IDs, IBANs (confirmed or pending), sending domains, first and
/// last seen.
#[utoipa::path(get, path = "/api/vendors", responses((status = 200, description = "[vendor, ...]")),
    security(("bearer" = [])))]
pub(super) async fn vendors(State(state): State<Arc<ApiState>>) -> Response {
    json_text(views::vendors_list(&state.store, true))
}

/// One vendor, by id, VAT ID, IBAN, domain or name.
#[utoipa::path(get, path = "/api/vendors/{key}", params(("key" = String, Path, description = "vendor id, VAT ID, IBAN, domain or name")),
    responses((status = 200, description = "the vendor"), (status = 404, description = "no such vendor")),
    security(("bearer" = [])))]
pub(super) async fn vendor(
    State(state): State<Arc<ApiState>>,
    Path(key): Path<String>,
) -> Response {
    json_text(views::vendor_show(&state.store, &key, true))
}

#[derive(Deserialize, Default)]
pub(super) struct IbanBody {
    iban: String,
}

/// Confirm an IBAN as the vendor's (admins only; audited): invoices paying to it stop tripping
/// the bank-details guard.
#[utoipa::path(post, path = "/api/vendors/{key}/ibans", params(("key" = String, Path, description = "vendor id, VAT ID, IBAN, domain or name")),
    request_body(content = String, content_type = "application/json", description = "{\"iban\": \"DE89 3704 0044 0532 0130 00\"}"),
    responses((status = 200, description = "the vendor"), (status = 400, description = "not a valid IBAN"), (status = 404, description = "no such vendor")),
    security(("bearer" = [])))]
pub(super) async fn confirm_iban(
    State(state): State<Arc<ApiState>>,
    Path(key): Path<String>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: axum::body::Bytes,
) -> Response {
    let body: IbanBody = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    match views::vendor_confirm_iban(&state.store, &key, &body.iban, &caller.name) {
        Ok(_) => json_text(views::vendor_show(&state.store, &key, true)),
        Err(e) => super::view_error(e),
    }
}
