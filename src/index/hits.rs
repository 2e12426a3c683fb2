//! A returned thread as a [`ThreadHit`]: its subject and thread id from the oldest message, the
//! snippet from its best match, its category, its newest matching messages' ids and its stats;
//! the page's threads built side by side on the search's pool.

use std::collections::HashMap;

use chrono::{SecondsFormat, TimeZone, Utc};
use tantivy::columnar::StrColumn;
use tantivy::schema::{Field, Value};
use tantivy::{DocAddress, Searcher, SegmentOrdinal, TantivyDocument};

use super::collect::{Hit, ThreadStats};
use super::snippet::Highlighter;
use super::{
    Fields, IndexError, MAX_MESSAGE_IDS, MailIndex, SNIPPET_MAX_BYTES, ThreadHit, ids, query,
    schema, select, truncate_str,
};

impl MailIndex {
    /// What turns a returned thread's matches into a [`ThreadHit`] for this query.
    pub(super) fn hit_builder<'a>(
        &'a self,
        searcher: &'a Searcher,
        compiled: &query::Compiled,
    ) -> HitBuilder<'a> {
        let highlighter = |terms| Highlighter::new(terms, self.analyzer.clone(), SNIPPET_MAX_BYTES);
        HitBuilder {
            searcher,
            fields: &self.fields,
            columns: HashMap::new(),
            body: highlighter(&compiled.body_terms),
            subject: highlighter(&compiled.subject_terms),
        }
    }

    /// The chosen threads as results, in their order: built in as many contiguous parts as
    /// the pool has threads, side by side (each hit reads two stored documents, a snippet and
    /// its ids from columns a new process has never touched).
    pub(super) fn thread_hits(
        &self,
        searcher: &Searcher,
        compiled: &query::Compiled,
        executor: &tantivy::Executor,
        selected: select::Selected,
        message_ids: bool,
    ) -> Result<Vec<ThreadHit>, IndexError> {
        let ways = match executor {
            tantivy::Executor::ThreadPool(pool) => pool.current_num_threads(),
            tantivy::Executor::SingleThread => 1,
        };
        let per_part = selected.threads.len().div_ceil(ways).max(1);
        let mut threads = selected.threads;
        let mut parts = Vec::new();
        while !threads.is_empty() {
            let rest = threads.split_off(per_part.min(threads.len()));
            parts.push(std::mem::replace(&mut threads, rest));
        }
        let stats = &selected.stats;
        let built = executor.map(
            |part: Vec<(u64, Vec<Hit>)>| {
                let mut ctx = self.hit_builder(searcher, compiled);
                Ok(part
                    .into_iter()
                    .map(|(thread, group)| {
                        let stats = stats.get(&thread).copied().unwrap_or_default();
                        ctx.thread_hit(thread, group, stats, message_ids)
                    })
                    .collect::<Result<Vec<_>, IndexError>>())
            },
            parts.into_iter(),
        )?;
        let mut hits = Vec::new();
        for part in built {
            hits.extend(part?);
        }
        Ok(hits)
    }
}

/// Per-segment fast columns read while building hits.
pub(super) struct SegmentColumns {
    category: Option<StrColumn>,
    ids: ids::SegmentIds,
}

pub(super) struct HitBuilder<'a> {
    searcher: &'a Searcher,
    fields: &'a Fields,
    columns: HashMap<SegmentOrdinal, SegmentColumns>,
    body: Highlighter,
    subject: Highlighter,
}

fn rfc3339(secs: i64) -> Option<String> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn stored_str(doc: &TantivyDocument, field: Field) -> Option<&str> {
    doc.get_first(field).and_then(|v| v.as_str())
}

impl HitBuilder<'_> {
    fn columns(&mut self, segment: SegmentOrdinal) -> Result<&SegmentColumns, IndexError> {
        if !self.columns.contains_key(&segment) {
            let ff = self.searcher.segment_reader(segment).fast_fields();
            let cols = SegmentColumns {
                category: ff.str(schema::CATEGORY)?,
                ids: ids::SegmentIds::of(self.searcher, segment)?,
            };
            self.columns.insert(segment, cols);
        }
        Ok(&self.columns[&segment])
    }

    fn category(&mut self, addr: DocAddress) -> Result<String, IndexError> {
        let cols = self.columns(addr.segment_ord)?;
        let mut out = String::new();
        if let Some(col) = &cols.category
            && let Some(ord) = col.term_ords(addr.doc_id).next()
        {
            col.ord_to_str(ord, &mut out)
                .map_err(|e| IndexError::Tantivy(e.into()))?;
        }
        Ok(out)
    }

    pub(super) fn message_id(&mut self, addr: DocAddress) -> Result<String, IndexError> {
        let (searcher, id) = (self.searcher, self.fields.id);
        let cols = self.columns(addr.segment_ord)?;
        cols.ids.id(searcher, id, addr.doc_id)
    }

    fn thread_hit(
        &mut self,
        thread: u64,
        mut group: Vec<Hit>,
        stats: ThreadStats,
        message_ids: bool,
    ) -> Result<ThreadHit, IndexError> {
        let best = *group
            .iter()
            .max_by(|a, b| {
                a.score
                    .total_cmp(&b.score)
                    .then(a.date.cmp(&b.date))
                    .then(b.addr.cmp(&a.addr))
            })
            .expect("groups are never empty");
        group.sort_by(|a, b| b.date.cmp(&a.date).then(a.addr.cmp(&b.addr)));

        let oldest_addr = stats.oldest.map_or(best.addr, |(_, a)| a);
        let oldest: TantivyDocument = self.searcher.doc(oldest_addr)?;
        let best_doc: TantivyDocument = if best.addr == oldest_addr {
            oldest.clone()
        } else {
            self.searcher.doc(best.addr)?
        };

        let thread_id = stored_str(&oldest, self.fields.thread)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{thread:016x}"));
        let subject = stored_str(&oldest, self.fields.subject)
            .unwrap_or_default()
            .to_string();
        let (snippet, highlights) = self.snippet(&best_doc);
        let category = self.category(group[0].addr)?;
        let message_ids = group
            .iter()
            .take(if message_ids { MAX_MESSAGE_IDS } else { 0 })
            .map(|h| self.message_id(h.addr))
            .collect::<Result<Vec<_>, _>>()?;

        Ok(ThreadHit {
            thread_id,
            subject,
            last_date: stats.newest_date.and_then(rfc3339),
            message_count: stats.count.max(group.len() as u64),
            category,
            snippet,
            highlights,
            message_ids,
            matching_messages: group.len() as u64,
            score: best.score,
        })
    }

    fn snippet(&mut self, doc: &TantivyDocument) -> (String, Vec<(usize, usize)>) {
        let body = stored_str(doc, self.fields.body).unwrap_or_default();
        let subject = stored_str(doc, self.fields.subject).unwrap_or_default();
        if let Some(s) = self.body.snippet(body) {
            return s;
        }
        if let Some(s) = self.subject.snippet(subject) {
            return s;
        }
        let lead = if body.trim().is_empty() {
            subject
        } else {
            body
        };
        let (mut text, _) =
            fold_whitespace(truncate_str(lead.trim_start(), SNIPPET_MAX_BYTES * 2), &[]);
        if text.len() > SNIPPET_MAX_BYTES {
            let cut = truncate_str(&text, SNIPPET_MAX_BYTES);
            let cut = match cut.rfind(' ') {
                Some(i) if i > SNIPPET_MAX_BYTES / 2 => &cut[..i],
                _ => cut,
            };
            text = cut.to_string();
        }
        (text, Vec::new())
    }
}

/// Folds whitespace runs into single spaces and trims, remapping the highlight byte ranges.
pub(super) fn fold_whitespace(
    text: &str,
    ranges: &[std::ops::Range<usize>],
) -> (String, Vec<(usize, usize)>) {
    let mut out = String::with_capacity(text.len());
    // map[i] = offset in `out` of the byte at offset i in `text` (len + 1 entries).
    let mut map = vec![0usize; text.len() + 1];
    let mut pending_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            for m in &mut map[i..i + c.len_utf8()] {
                *m = out.len();
            }
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        for m in &mut map[i..i + c.len_utf8()] {
            *m = out.len();
        }
        out.push(c);
    }
    map[text.len()] = out.len();
    let ranges = ranges
        .iter()
        .map(|r| (map[r.start], map[r.end].min(out.len())))
        .filter(|(s, e)| s < e)
        .collect();
    (out, ranges)
}
