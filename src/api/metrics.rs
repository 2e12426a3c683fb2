//! `GET /metrics`: the Prometheus text of [`crate::metrics`], with the gauges that are read from
//! the store (outbox by state, review depth, sizes, the audit head) set at scrape time from cheap
//! reads. Served on the API listener behind a role, and by `deskmail run` on `[metrics] listen`
//! ([`router`]: that one route only, no token, loopback or TLS like the API).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::ApiState;
use crate::intake::SharedRules;
use crate::store::Store;

/// What a scrape reads besides the registry.
pub struct Sources {
    pub store: Arc<Store>,
    /// The index's size on disk.
    pub index_bytes: IndexBytes,
    pub rules: Option<SharedRules>,
}

/// How a scrape learns the index's size (the API holds a reader, the daemon its pipeline).
pub type IndexBytes = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Set the scrape-time gauges, then render everything.
pub fn gather(src: &Sources) -> String {
    let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
    for state in ["queued", "sending", "sent", "failed", "uncertain"] {
        by_state.insert(state.to_string(), 0);
    }
    if let Ok(list) = src.store.outbox_list() {
        for rec in list {
            let state = serde_json::to_value(rec.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "unknown".into());
            *by_state.entry(state).or_default() += 1;
        }
    }
    crate::metrics::set_store_gauges(&crate::metrics::StoreGauges {
        outbox: by_state.into_iter().collect(),
        review_open: src.store.review_open_count().unwrap_or(0),
        store_bytes: src.store.size_on_disk(),
        index_bytes: (src.index_bytes)(),
        audit_head: src.store.audit_head_seq().unwrap_or(0),
    });
    if let Some(rules) = &src.rules {
        crate::metrics::rules_version(crate::intake::current_rules(rules).version());
    }
    crate::metrics::render()
}

async fn answer(src: Sources) -> Response {
    match tokio::task::spawn_blocking(move || gather(&src)).await {
        Ok(text) => ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "metrics failed").into_response(),
    }
}

/// Prometheus metrics (text format 0.0.4): counts, latencies and sizes, no mail content.
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "Prometheus text format (version 0.0.4)")),
    security(("bearer" = [])))]
pub(super) async fn scrape(State(state): State<Arc<ApiState>>) -> Response {
    let index = Arc::clone(&state.index);
    answer(Sources {
        store: Arc::clone(&state.store),
        index_bytes: Arc::new(move || index.size_on_disk()),
        rules: state.rules.clone(),
    })
    .await
}

/// Count every request by its matched route template (never the raw path) and status.
pub(super) async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let started = Instant::now();
    let res = next.run(req).await;
    crate::metrics::api_request(&route, res.status().as_u16(), started.elapsed());
    res
}

/// `[metrics] listen` under `deskmail run`: `GET /metrics` only, no token (like a node
/// exporter: bind it to loopback, or give it TLS and a firewall).
pub fn router(store: Arc<Store>, index_bytes: IndexBytes, rules: Option<SharedRules>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let src = Sources {
                store: Arc::clone(&store),
                index_bytes: Arc::clone(&index_bytes),
                rules: rules.clone(),
            };
            answer(src)
        }),
    )
}
