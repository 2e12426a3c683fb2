//! Documents handed to the index writer and not yet indexed, bounded by this writer.
//!
//! tantivy's writer queues up to 10,000 documents for its indexing thread. While that thread
//! flushes a segment the queue fills, and at 2 KB and more a document that is 20 MB or more of
//! an ingest's memory. A [`Queue`] admits a document only while fewer than its bound are
//! waiting; a document gives its place back when the indexing thread drops it.
//!
//! The wait for a place is bounded: if the indexing thread died, the documents it left in
//! tantivy's queue keep their places until the writer is dropped, and the next document would
//! wait for ever. After [`Queue::new`]'s `wait` a document goes on without a place, to the
//! writer, which then says that its thread is gone (or takes it, over this bound, if the thread
//! was only slow).

use std::time::Duration;

use crossbeam_channel::{Receiver, SendTimeoutError, Sender};
use tantivy::TantivyDocument;
use tantivy::schema::document::Document;

/// Places for documents between the committer and the indexing thread.
pub(super) struct Queue {
    places: Sender<()>,
    given_back: Receiver<()>,
    wait: Duration,
}

impl Queue {
    /// At most `bound` documents hold places; one waits at most `wait` for a place.
    pub(super) fn new(bound: usize, wait: Duration) -> Queue {
        let (places, given_back) = crossbeam_channel::bounded(bound.max(1));
        Queue {
            places,
            given_back,
            wait,
        }
    }

    /// `doc`, once a place is free (waits while `bound` documents are queued), or without a
    /// place after the queue's `wait`.
    pub(super) fn admit(&self, doc: TantivyDocument) -> QueuedDoc {
        let place = match self.places.send_timeout((), self.wait) {
            Ok(()) => Some(Place(self.given_back.clone())),
            Err(SendTimeoutError::Timeout(())) => {
                tracing::warn!(
                    waited_s = self.wait.as_secs_f64(),
                    "The index's indexing thread took no document meanwhile"
                );
                None
            }
            // Cannot happen: this queue holds a receiver.
            Err(SendTimeoutError::Disconnected(())) => None,
        };
        QueuedDoc { doc, _place: place }
    }
}

/// A document holding a place in its [`Queue`] until it is dropped (indexed or discarded), or
/// none if it waited too long for one.
pub struct QueuedDoc {
    doc: TantivyDocument,
    _place: Option<Place>,
}

struct Place(Receiver<()>);

impl Drop for Place {
    fn drop(&mut self) {
        let _ = self.0.try_recv();
    }
}

impl Document for QueuedDoc {
    type Value<'a> = <TantivyDocument as Document>::Value<'a>;
    type FieldsValuesIter<'a> = <TantivyDocument as Document>::FieldsValuesIter<'a>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.doc.iter_fields_and_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use tantivy::schema::{STORED, Schema, TEXT, Value};
    use tantivy::{Index, IndexWriter, doc};

    #[test]
    fn a_document_waits_for_a_place_and_gets_the_one_a_dropped_document_gives_back() {
        let queue = std::sync::Arc::new(Queue::new(2, Duration::from_secs(60)));
        let first = queue.admit(TantivyDocument::new());
        let _second = queue.admit(TantivyDocument::new());
        let (done, admitted) = mpsc::channel();
        let waiting = std::thread::spawn({
            let queue = queue.clone();
            move || {
                let third = queue.admit(TantivyDocument::new());
                done.send(()).unwrap();
                third
            }
        });
        assert!(
            admitted.recv_timeout(Duration::from_millis(200)).is_err(),
            "a third document got in beside two"
        );
        drop(first);
        admitted
            .recv_timeout(Duration::from_secs(10))
            .expect("the place given back was taken");
        waiting.join().unwrap();
    }

    /// The indexing thread gives each place back: many more documents than places are indexed,
    /// whole.
    #[test]
    fn indexed_documents_give_their_places_back_and_keep_their_values() {
        let mut schema = Schema::builder();
        let text = schema.add_text_field("text", TEXT | STORED);
        let index = Index::create_in_ram(schema.build());
        let queue = Queue::new(4, Duration::from_secs(60));
        let (done, finished) = mpsc::channel();
        let adder = std::thread::spawn(move || {
            let mut writer: IndexWriter<QueuedDoc> = index.writer(15_000_000).unwrap();
            for i in 0..200 {
                let doc = queue.admit(doc!(text => format!("message number{i}")));
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
            done.send(()).unwrap();
            index
        });
        finished
            .recv_timeout(Duration::from_secs(60))
            .expect("200 documents through 4 places");
        let index = adder.join().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.num_docs(), 200);
        let parser = tantivy::query::QueryParser::for_index(&index, vec![text]);
        let query = parser.parse_query("number137").unwrap();
        let top = searcher
            .search(
                &query,
                &tantivy::collector::TopDocs::with_limit(2).order_by_score(),
            )
            .unwrap();
        assert_eq!(top.len(), 1);
        let stored: TantivyDocument = searcher.doc(top[0].1).unwrap();
        assert_eq!(
            stored.get_first(text).and_then(|v| v.as_str()),
            Some("message number137")
        );
    }

    /// A document that found no place within the wait goes on without one, and gives back no
    /// place when it is dropped (the places taken stay those of the documents holding them).
    #[test]
    fn a_document_that_waited_too_long_goes_on_without_a_place() {
        let queue = Queue::new(1, Duration::from_millis(50));
        let holder = queue.admit(TantivyDocument::new());
        assert_eq!(queue.places.len(), 1);
        let started = std::time::Instant::now();
        let late = queue.admit(TantivyDocument::new());
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(late._place.is_none());
        drop(late);
        assert_eq!(queue.places.len(), 1, "the holder's place was given back");
        drop(holder);
        assert_eq!(queue.places.len(), 0);
    }
}
