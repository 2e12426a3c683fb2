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
//! ([`TierPolicy::merge_tail`]) proposes one merge of the tail once it finishes, when parsing
//! has stopped: every segment under [`FROZEN`] documents it made, and of the ones the index had
//! before it opened, those up to [`TAIL_OLD_RATIO`] (3/2) of what is merged so far, smallest
//! first. Merging the whole tail made ten `deskmail ingest` runs of 10,000 messages each merge
//! everything ingested before them again (the tenth 90,000 documents for 10,000 new ones:
//! 5,051 msg/s for the first run, 2,083 for the last); so the older part of the tail is merged
//! like a binary counter, each document a few times, and the tail stays a few segments.

use std::collections::HashSet;
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
/// A tail segment the index had before the writer opened joins the tail merge when it holds
/// no more than this fraction (3/2) of the documents already in it. At twice, ten runs of
/// 10,000 merged 160,000 older documents again; at once or 3/2 (the same merges for runs of one
/// size), 130,000, and the ten runs took 2,933 -> 3,248 msg/s (four alternating pairs of ten
/// `deskmail ingest` runs into a fresh directory; the tail is at most three segments instead
/// of two). 3/2 rather than once: two ingests of about the same size still merge when the
/// second is a little smaller.
const TAIL_OLD_RATIO: (u64, u64) = (3, 2);

/// See the module doc. Cloned into the writer; the clones share whether the tail is merged.
#[derive(Debug, Clone, Default)]
pub(super) struct TierPolicy {
    tail: Arc<AtomicBool>,
    /// The segments the index had when the writer opened.
    before: Arc<HashSet<SegmentId>>,
}

impl TierPolicy {
    /// The policy of a writer opened on an index with these segments.
    pub(super) fn new(before: impl IntoIterator<Item = SegmentId>) -> Self {
        TierPolicy {
            tail: Arc::default(),
            before: Arc::new(before.into_iter().collect()),
        }
    }

    /// From now on, propose one merge of the tail (the module doc says which segments).
    pub(super) fn merge_tail(&self) {
        self.tail.store(true, Ordering::Release);
    }

    /// The tail's merge: every segment below [`FROZEN`] made since the writer opened, then the
    /// older ones, smallest first, while each holds at most [`TAIL_OLD_RATIO`] of the
    /// documents taken so far. None when that is fewer than two segments.
    fn tail_merge(&self, segments: &[SegmentMeta]) -> Option<MergeCandidate> {
        let (mut old, new): (Vec<_>, Vec<_>) = segments
            .iter()
            .filter(|s| s.num_docs() < FROZEN)
            .map(|s| (s.id(), u64::from(s.num_docs())))
            .partition(|(id, _)| self.before.contains(id));
        let mut docs: u64 = new.iter().map(|(_, n)| n).sum();
        let mut chosen: Vec<SegmentId> = new.into_iter().map(|(id, _)| id).collect();
        old.sort_by_key(|(_, n)| *n);
        for (id, n) in old {
            if n * TAIL_OLD_RATIO.1 > docs * TAIL_OLD_RATIO.0 {
                break;
            }
            chosen.push(id);
            docs += n;
        }
        (chosen.len() >= 2).then_some(MergeCandidate(chosen))
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
            return self.tail_merge(segments).into_iter().collect();
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
    fn the_tail_takes_older_segments_only_up_to_half_again_what_it_merges_so_far() {
        // Segments of earlier ingests (20,000, 10,000 and 65,000 from runs before) and this
        // run's 10,000 in two segments.
        let metas = segments(&[20_000, 10_000, 6_000, 4_000, 150_000, 65_000]);
        let ids = [metas[0].id(), metas[1].id(), metas[4].id(), metas[5].id()];
        let policy = TierPolicy::new(ids);
        policy.merge_tail();
        // 10,000 new: the older 10,000 joins (20,000 merged), then 20,000 (40,000 merged);
        // 65,000 is more than 3/2 of that (twice would have taken it); 150,000 is frozen.
        assert_eq!(
            proposed(&policy, &metas),
            vec![vec![4_000, 6_000, 10_000, 20_000]]
        );
        // 1,000 new: only this run's segments; the older ones are far larger.
        let metas = segments(&[30_000, 10_000, 600, 400]);
        let policy = TierPolicy::new([metas[0].id(), metas[1].id()]);
        policy.merge_tail();
        assert_eq!(proposed(&policy, &metas), vec![vec![400, 600]]);
        // Nothing new (an ingest of duplicates): nothing to merge.
        let metas = segments(&[30_000, 10_000]);
        let policy = TierPolicy::new(metas.iter().map(SegmentMeta::id));
        policy.merge_tail();
        assert!(proposed(&policy, &metas).is_empty());
    }

    /// Ten runs of 10,000 documents, each ending with its tail merged: older documents are
    /// merged again a few times, not at every run (the whole tail at every run merged 450,000
    /// documents for 100,000 ingested).
    #[test]
    fn ten_runs_merge_each_older_document_a_few_times_and_leave_a_short_tail() {
        let mut sizes: Vec<u32> = Vec::new();
        let mut merged_older = 0u64;
        for _ in 0..10 {
            let mut metas = segments(&sizes);
            let policy = TierPolicy::new(metas.iter().map(SegmentMeta::id));
            metas.extend(segments(&[10_000]));
            policy.merge_tail();
            let chosen: Vec<u32> = proposed(&policy, &metas).concat();
            sizes = metas.iter().map(SegmentMeta::num_docs).collect();
            if !chosen.is_empty() {
                // This run's 10,000 are always in it; the rest was merged again.
                merged_older += chosen.iter().map(|&n| u64::from(n)).sum::<u64>() - 10_000;
                for n in &chosen {
                    let at = sizes.iter().position(|s| s == n).unwrap();
                    sizes.remove(at);
                }
                sizes.push(chosen.iter().sum());
            }
        }
        assert_eq!(sizes.iter().map(|&n| u64::from(n)).sum::<u64>(), 100_000);
        assert!(sizes.len() <= 3, "{sizes:?}");
        // With the old bound (up to twice what is merged so far) it was 160,000.
        assert!(merged_older <= 130_000, "{merged_older}");
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
