//! A document's message id, read from the `id_hi` and `id_lo` fast fields: no doc store block
//! is decompressed for it (the doc store only for an id that is not 32 lowercase hex digits,
//! which the halves cannot hold).

use tantivy::columnar::Column;
use tantivy::schema::{Field, Value};
use tantivy::{DocAddress, DocId, Searcher, SegmentOrdinal, TantivyDocument};

use super::{IndexError, schema};

/// The id columns of one segment.
pub(super) struct SegmentIds {
    segment: SegmentOrdinal,
    hi: Column<u64>,
    lo: Column<u64>,
}

impl SegmentIds {
    pub(super) fn of(searcher: &Searcher, segment: SegmentOrdinal) -> Result<Self, IndexError> {
        let fast = searcher.segment_reader(segment).fast_fields();
        Ok(SegmentIds {
            segment,
            hi: fast.u64(schema::ID_HI)?,
            lo: fast.u64(schema::ID_LO)?,
        })
    }

    /// The id of document `doc` of this segment (`id`: the stored id field).
    pub(super) fn id(
        &self,
        searcher: &Searcher,
        id: Field,
        doc: DocId,
    ) -> Result<String, IndexError> {
        if let (Some(hi), Some(lo)) = (self.hi.first(doc), self.lo.first(doc)) {
            return Ok(format!("{hi:016x}{lo:016x}"));
        }
        let stored: TantivyDocument = searcher.doc(DocAddress::new(self.segment, doc))?;
        Ok(stored
            .get_first(id)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string())
    }
}
