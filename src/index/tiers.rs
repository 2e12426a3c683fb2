//! The merge policy of a mail archive: two tiers, the largest segments left alone, and the tail
//! of a bulk ingest merged when its writer finishes.
//!
//! Why not tantivy's `LogMergePolicy` (issue 14, docs/PERFORMANCE.md): merged by threes, a bulk
//! ingest's segments passed three merges on their way to the largest size (about 4,500
//! documents flushed → 13,500 → 40,000 → 121,000), and each merge into the largest ones stacked
//! a 40,000-document source's doc store through one buffer: that spike was an ingest's peak
//! memory. Here a segment passes two merges: [`SMALL`] ones are merged together as soon as
//! there are [`SMALL_MERGED_AT`] of them (as the log policy's lowest level was), and the middle
//! tier waits until its segments hold [`MIDDLE_MERGED_DOCS`] documents together, so the largest
//! sources stacked are a third of the size and every document is merged once less.
//!
//! What that leaves at the end of a bulk ingest is a tail of middle and small segments that no
//! rule merges yet; a search pays for each segment, so a writer asked to
//! ([`TierPolicy::merge_tail`]) proposes one merge of every segment under [`FROZEN`] documents
//! once it finishes, when parsing has stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tantivy::SegmentMeta;
use tantivy::index::SegmentId;
use tantivy::merge_policy::{MergeCandidate, MergePolicy};

/// Segments with fewer documents are the small tier.
const SMALL: u32 = 10_000;
/// Small segments are merged, all of them into one, once there are this many.
const SMALL_MERGED_AT: usize = 3;
/// Segments with this many documents or more are never merged again: a merge of the whole
/// archive costs memory and minutes at a million messages, and a search pays little for a few
/// more large segments.
const FROZEN: u32 = 100_000;
/// The middle tier is merged, all of it into one, once it holds this many documents: eight or
/// nine of a bulk ingest's (13,000–15,000 documents each), about the size of the largest
/// segments the log policy made. Merged at 100,000, a million messages was ten segments
/// instead of nine, and a search with 100,000 matches 2–4 ms slower; each source's term
/// dictionary is read whole during the merge, so more sources cost memory.
const MIDDLE_MERGED_DOCS: u64 = 120_000;
/// ... or once it has this many segments: a live writer's middle segments, a day's mail or less
/// each, do not wait for that many documents while searches open each of them.
const MIDDLE_MERGED_AT: usize = 9;

/// See the module doc. Cloned into the writer; the clones share whether the tail is merged.
#[derive(Debug, Clone, Default)]
pub(super) struct TierPolicy {
    tail: Arc<AtomicBool>,
}

impl TierPolicy {
    /// From now on, propose one merge of every segment below [`FROZEN`] documents.
    pub(super) fn merge_tail(&self) {
        self.tail.store(true, Ordering::Release);
    }
}

impl MergePolicy for TierPolicy {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        let below = |bound: u32| {
            segments
                .iter()
                .filter(move |s| s.num_docs() < bound)
                .map(|s| (s.id(), s.num_docs()))
        };
        let ids =
            |tier: &[(SegmentId, u32)]| MergeCandidate(tier.iter().map(|(id, _)| *id).collect());
        if self.tail.load(Ordering::Acquire) {
            let tail: Vec<_> = below(FROZEN).collect();
            return if tail.len() >= 2 {
                vec![ids(&tail)]
            } else {
                vec![]
            };
        }
        let small: Vec<_> = below(SMALL).collect();
        let middle: Vec<_> = below(FROZEN).filter(|(_, n)| *n >= SMALL).collect();
        let middle_docs: u64 = middle.iter().map(|(_, n)| u64::from(*n)).sum();
        let mut candidates = Vec::new();
        if small.len() >= SMALL_MERGED_AT {
            candidates.push(ids(&small));
        }
        if middle.len() >= 2
            && (middle_docs >= MIDDLE_MERGED_DOCS || middle.len() >= MIDDLE_MERGED_AT)
        {
            candidates.push(ids(&middle));
        }
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Segment metas of these sizes (documents), as the writer would hand them over.
    fn segments(sizes: &[u32]) -> Vec<SegmentMeta> {
        let index = tantivy::Index::create_in_ram(tantivy::schema::Schema::builder().build());
        sizes
            .iter()
            .map(|&n| index.new_segment_meta(SegmentId::generate_random(), n))
            .collect()
    }

    /// The sizes of each proposed merge's segments, sorted.
    fn proposed(policy: &TierPolicy, metas: &[SegmentMeta]) -> Vec<Vec<u32>> {
        policy
            .compute_merge_candidates(metas)
            .into_iter()
            .map(|MergeCandidate(ids)| {
                let mut sizes: Vec<u32> = ids
                    .iter()
                    .map(|id| metas.iter().find(|m| m.id() == *id).unwrap().num_docs())
                    .collect();
                sizes.sort_unstable();
                sizes
            })
            .collect()
    }

    #[test]
    fn small_segments_are_merged_by_threes_into_the_middle_tier() {
        let policy = TierPolicy::default();
        assert!(proposed(&policy, &segments(&[4_500, 4_500])).is_empty());
        assert_eq!(
            proposed(&policy, &segments(&[4_500, 2_000, 4_500, 200_000])),
            vec![vec![2_000, 4_500, 4_500]]
        );
    }

    #[test]
    fn the_middle_tier_waits_for_120_000_documents_or_for_nine_segments() {
        let policy = TierPolicy::default();
        // Eight of a bulk ingest's middle segments: 107,200 documents, not yet.
        assert!(proposed(&policy, &segments(&[13_400; 8])).is_empty());
        assert_eq!(
            proposed(&policy, &segments(&[15_000; 8])),
            vec![vec![15_000; 8]]
        );
        // Fewer, larger ones as soon as they hold that many documents.
        assert_eq!(
            proposed(&policy, &segments(&[50_000, 40_000, 35_000, 150_000])),
            vec![vec![35_000, 40_000, 50_000]]
        );
        // A live writer's small middle segments do not wait for 120,000.
        assert_eq!(
            proposed(&policy, &segments(&[10_000; 9])),
            vec![vec![10_000; 9]]
        );
        // Both tiers at once, each on its own.
        assert_eq!(
            proposed(&policy, &segments(&[70_000, 60_000, 900, 800, 700])),
            vec![vec![700, 800, 900], vec![60_000, 70_000]]
        );
    }

    #[test]
    fn frozen_segments_are_never_merged_again() {
        let policy = TierPolicy::default();
        assert!(proposed(&policy, &segments(&[FROZEN; 12])).is_empty());
        policy.merge_tail();
        assert!(proposed(&policy, &segments(&[FROZEN, 121_344, 5_000_000])).is_empty());
    }

    #[test]
    fn the_tail_is_one_merge_of_everything_below_frozen_asked_through_any_clone() {
        let policy = TierPolicy::default();
        let sizes = [121_344, 13_400, 13_400, 40_000, 4_500, 121_344];
        assert!(proposed(&policy, &segments(&sizes)).is_empty());
        // The writer keeps a clone and asks it; tantivy holds the other.
        policy.clone().merge_tail();
        assert_eq!(
            proposed(&policy, &segments(&sizes)),
            vec![vec![4_500, 13_400, 13_400, 40_000]]
        );
        // One segment is no merge.
        assert!(proposed(&policy, &segments(&[121_344, 4_500])).is_empty());
    }
}
