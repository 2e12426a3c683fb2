//! Where a retention run finds what may be due: the `retention_from` and `category` fast
//! fields, instead of every stored message (14–23 s at a million, docs/PERFORMANCE.md).
//!
//! Each segment's categories are few (its dictionary), so each gets its cutoff once; the
//! documents whose `retention_from` lies before the loosest of them are read from the column
//! (a range filter over packed values, not a per-document decode of the store), and each is
//! kept when it is before its own category's cutoff.

use super::ids::SegmentIds;
use super::{IndexError, MailIndex, schema};
use crate::model::MessageId;

impl MailIndex {
    /// The messages whose `retention_from` (seconds) is before `cutoff(category)`, as of the
    /// index's latest commit; a category with no cutoff (`None`) is kept for ever. A message
    /// with no category has `other` here (the schema's rule): the caller's cutoff for `other`
    /// must cover both. Retention checks each against its stored record
    /// (`privacy::retention_due`).
    pub fn ids_retained_before(
        &self,
        cutoff: impl Fn(&str) -> Option<i64>,
    ) -> Result<Vec<MessageId>, IndexError> {
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let mut ids = Vec::new();
        let mut docs = Vec::new();
        let mut name = String::new();
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let fast = reader.fast_fields();
            let Some(categories) = fast.str(schema::CATEGORY)? else {
                continue;
            };
            let retention_from = fast.i64(schema::RETENTION_FROM)?;
            let mut cutoffs = Vec::with_capacity(categories.num_terms());
            for term in 0..categories.num_terms() as u64 {
                categories
                    .ord_to_str(term, &mut name)
                    .map_err(|e| IndexError::Tantivy(e.into()))?;
                cutoffs.push(cutoff(&name));
            }
            let Some(&loosest) = cutoffs.iter().flatten().max() else {
                continue;
            };
            docs.clear();
            retention_from.get_docids_for_value_range(
                i64::MIN..=loosest.saturating_sub(1),
                0..reader.max_doc(),
                &mut docs,
            );
            let segment_ids = SegmentIds::of(&searcher, ord as u32)?;
            let alive = reader.alive_bitset();
            for &doc in &docs {
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    continue;
                }
                let own_cutoff = categories
                    .term_ords(doc)
                    .next()
                    .and_then(|term| cutoffs[term as usize]);
                let before = retention_from
                    .first(doc)
                    .zip(own_cutoff)
                    .is_some_and(|(from, cutoff)| from < cutoff);
                if before {
                    ids.push(MessageId(segment_ids.id(&searcher, self.fields.id, doc)?));
                }
            }
        }
        Ok(ids)
    }
}
