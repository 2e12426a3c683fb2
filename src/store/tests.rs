use super::*;
use crate::model::{ExtractedField, Provenance, RawMail};
use crate::parse::{ParseLimits, parse};
use std::collections::BTreeMap;

/// A parsed message as a worker hands it to the store (category `other`, no replies).
pub(crate) fn processed(text: &str) -> Processed {
    let raw = text.as_bytes().to_vec();
    let message = parse(
        &RawMail {
            role: None,
            mailbox: "t".into(),
            origin: "t".into(),
            bytes: raw.clone(),
        },
        &ParseLimits::default(),
    )
    .unwrap();
    Processed {
        outbound: Vec::new(),
        packed: None,
        message,
        decision: Decision {
            category: "other".into(),
            ..Decision::default()
        },
        raw,
    }
}

fn invoice(text: &str, number: &str, amount: &str) -> Processed {
    let mut p = processed(text);
    p.decision.category = "ap.invoice".into();
    let prov = Provenance {
        rule: "r".into(),
        source: "body".into(),
        matched: String::new(),
    };
    p.decision.fields.insert(
        "invoice_number".into(),
        ExtractedField {
            value: FieldValue::Text {
                value: number.into(),
            },
            provenance: prov.clone(),
            confidence: 100,
            doubt: None,
        },
    );
    p.decision.fields.insert(
        "amount_total".into(),
        ExtractedField {
            value: FieldValue::Amount {
                value: amount.parse().unwrap(),
                currency: Some("EUR".into()),
            },
            provenance: prov.clone(),
            confidence: 100,
            doubt: None,
        },
    );
    p.decision.fields.insert(
        "currency".into(),
        ExtractedField {
            value: FieldValue::Currency {
                value: "EUR".into(),
            },
            provenance: prov,
            confidence: 100,
            doubt: None,
        },
    );
    p
}

fn thread_of(o: &CommitOutcome) -> ThreadId {
    match o {
        CommitOutcome::Stored { thread, .. } => thread.clone(),
        other => panic!("not stored: {other:?}"),
    }
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 8 << 20).unwrap();
    (dir, store)
}

#[test]
fn same_bytes_or_same_message_id_is_a_duplicate_and_adds_nothing() {
    let (_d, s) = open();
    let a = processed("Message-ID: <a@x>\nSubject: hello world\n\nbody\n");
    let same_id_other_bytes =
        processed("Message-ID: <a@x>\nSubject: hello world\nX-Extra: 1\n\nbody\n");
    let out = s.commit_batch(std::slice::from_ref(&a)).unwrap();
    assert!(matches!(out[0], CommitOutcome::Stored { .. }));
    let out = s.commit_batch(&[a.clone(), same_id_other_bytes]).unwrap();
    assert_eq!(
        out[0],
        CommitOutcome::Duplicate {
            existing: a.message.id.clone()
        }
    );
    assert_eq!(
        out[1],
        CommitOutcome::Duplicate {
            existing: a.message.id.clone()
        }
    );
    // Without a Message-ID, the content hash alone decides, also within one batch.
    let anon = processed("Subject: no message id here\n\nbody\n");
    let out = s.commit_batch(&[anon.clone(), anon.clone()]).unwrap();
    assert!(matches!(out[0], CommitOutcome::Stored { .. }));
    assert_eq!(
        out[1],
        CommitOutcome::Duplicate {
            existing: anon.message.id.clone()
        }
    );
    assert_eq!(
        s.stats().unwrap(),
        Stats {
            messages: 2,
            threads: 2,
            invoices: 0,
            rejected: 0
        }
    );
}

#[test]
fn replies_thread_by_references_in_either_order() {
    let (_d, s) = open();
    let parent = processed("Message-ID: <p@x>\nSubject: Invoice INV-1\n\nhi\n");
    let reply = processed(
        "Message-ID: <r@x>\nIn-Reply-To: <p@x>\nReferences: <p@x>\nSubject: Re: Invoice INV-1\n\nok\n",
    );
    let reply2 = processed(
        "Message-ID: <r2@x>\nIn-Reply-To: <r@x>\nReferences: <p@x> <r@x>\nSubject: AW: Re: Invoice INV-1\n\nok\n",
    );
    // Reply first, then the parent, then a reply to the reply.
    let out = s.commit_batch(&[reply, parent, reply2]).unwrap();
    let t = thread_of(&out[0]);
    assert_eq!(thread_of(&out[1]), t);
    assert_eq!(thread_of(&out[2]), t);
    let rec = s.thread(&t).unwrap().unwrap();
    assert_eq!(rec.messages.len(), 3);
    assert_eq!(s.stats().unwrap().threads, 1);
}

#[test]
fn a_reply_without_references_threads_by_normalised_subject_only_when_it_is_a_reply() {
    let (_d, s) = open();
    let orig = processed("Message-ID: <o@x>\nSubject: Invoice 4411 overdue\n\nhi\n");
    let unrelated_same_subject =
        processed("Message-ID: <u@x>\nSubject: Invoice 4411 overdue\n\nanother original\n");
    let out = s.commit_batch(&[orig, unrelated_same_subject]).unwrap();
    assert_ne!(
        thread_of(&out[0]),
        thread_of(&out[1]),
        "two originals with one subject stay apart"
    );
    // A reply that carries no reference header can only be placed by its subject: it joins
    // the originals it could answer (whichever order they came in).
    let reply = processed("Message-ID: <q@x>\nSubject: RE: AW: Invoice 4411 overdue\n\nno refs\n");
    let out2 = s.commit_batch(&[reply]).unwrap();
    let joined = s.thread(&thread_of(&out[0])).unwrap().unwrap();
    assert_eq!(joined.thread_id, thread_of(&out2[0]));
    assert_eq!(joined.messages.len(), 3);
    assert_eq!(s.stats().unwrap().threads, 1);
}

/// A desk's mix: a reply chain, a message whose references span two threads, two originals
/// joined by a reference-less reply, two originals that stay apart, a lone message.
fn thread_corpus() -> Vec<(&'static str, String)> {
    [
        ("p", "Message-ID: <p@x>\nSubject: Invoice INV-1 question\n\nhi\n"),
        ("r1", "Message-ID: <r1@x>\nIn-Reply-To: <p@x>\nReferences: <p@x>\nSubject: Re: Invoice INV-1 question\n\nok\n"),
        ("r2", "Message-ID: <r2@x>\nIn-Reply-To: <r1@x>\nReferences: <p@x> <r1@x>\nSubject: Re: Re: Invoice INV-1 question\n\nok\n"),
        ("c", "Message-ID: <c@x>\nIn-Reply-To: <q@x>\nReferences: <q@x>\nSubject: Re: Contract renewal 2027\n\nc\n"),
        ("d", "Message-ID: <d@x>\nIn-Reply-To: <c@x>\nReferences: <q@x> <c@x> <r1@x>\nSubject: Re: Contract renewal 2027\n\nd\n"),
        ("o1", "Message-ID: <o1@x>\nSubject: Statement October 2026\n\n1\n"),
        ("o2", "Message-ID: <o2@x>\nSubject: Statement October 2026\n\n2\n"),
        ("n", "Message-ID: <n@x>\nSubject: RE: Statement October 2026\n\nn\n"),
        ("o3", "Message-ID: <o3@x>\nSubject: Remittance advice 77\n\n3\n"),
        ("o4", "Message-ID: <o4@x>\nSubject: Remittance advice 77\n\n4\n"),
        ("l", "Message-ID: <l@x>\nSubject: Hello there friend\n\nl\n"),
    ]
    .into_iter()
    .map(|(n, t)| (n, t.to_string()))
    .collect()
}

/// Commit the corpus in `order`, `chunk` messages per batch; each message's final thread.
fn threads_after(order: &[usize], chunk: usize) -> BTreeMap<&'static str, ThreadId> {
    let (_d, s) = open();
    let corpus = thread_corpus();
    let mut at_commit = Vec::new();
    for part in order.chunks(chunk) {
        let batch: Vec<Processed> = part.iter().map(|&i| processed(&corpus[i].1)).collect();
        for (&i, o) in part.iter().zip(s.commit_batch(&batch).unwrap()) {
            at_commit.push((i, thread_of(&o)));
        }
    }
    let mut out = BTreeMap::new();
    let mut members: BTreeMap<ThreadId, usize> = BTreeMap::new();
    for (i, old) in at_commit {
        // The id a message got when it was stored still finds its thread after merges.
        let now = s
            .thread(&old)
            .unwrap()
            .expect("an old id resolves")
            .thread_id;
        let id = processed(&corpus[i].1).message.id;
        assert_eq!(s.message(&id).unwrap().unwrap().thread_id, now);
        *members.entry(now.clone()).or_default() += 1;
        out.insert(corpus[i].0, now);
    }
    assert_eq!(
        s.stats().unwrap().threads,
        members.len() as u64,
        "thread counter"
    );
    for (t, n) in members {
        assert_eq!(s.thread(&t).unwrap().unwrap().messages.len(), n);
    }
    out
}

#[test]
fn threads_are_a_function_of_the_message_set_whatever_the_order_or_batching() {
    let n = thread_corpus().len();
    let forward: Vec<usize> = (0..n).collect();
    let expected = threads_after(&forward, n);
    let same = |a: &str, b: &str| expected[a] == expected[b];
    for group in [&["p", "r1", "r2", "c", "d"][..], &["o1", "o2", "n"]] {
        assert!(
            group.iter().all(|m| same(group[0], m)),
            "{group:?}: {expected:?}"
        );
    }
    assert!(!same("p", "o1") && !same("o3", "o4") && !same("l", "p") && !same("o3", "o1"));
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut orders = vec![forward.iter().rev().cloned().collect::<Vec<_>>()];
    for _ in 0..40 {
        let mut o = forward.clone();
        for i in (1..o.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            o.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        orders.push(o);
    }
    for (k, order) in orders.iter().enumerate() {
        let chunk = [1, 2, 3, n][k % 4];
        assert_eq!(
            threads_after(order, chunk),
            expected,
            "order {order:?}, batches of {chunk}"
        );
    }
}

#[test]
fn a_merge_carries_the_legal_hold_and_queues_the_moved_messages_for_the_index() {
    let (_d, s) = open();
    let corpus = thread_corpus();
    let c = s.commit_batch(&[processed(&corpus[3].1)]).unwrap();
    let held = thread_of(&c[0]);
    assert!(s.set_hold(&held, true, "legal").unwrap());
    let _ = s.reindex_done(&s.reindex_queue().unwrap());
    let rest: Vec<Processed> = [0, 1, 4].iter().map(|&i| processed(&corpus[i].1)).collect();
    s.commit_batch(&rest).unwrap();
    let merged = s.thread(&held).unwrap().unwrap();
    assert_eq!(merged.messages.len(), 4);
    assert!(
        s.holds().unwrap().contains(&merged.thread_id),
        "the hold moved"
    );
    assert_eq!(s.holds().unwrap().len(), 1);
    let queued = s.reindex_queue().unwrap();
    let moved: Vec<&MessageId> = merged
        .messages
        .iter()
        .filter(|m| s.message(m).unwrap().unwrap().seq < 4 && queued.contains(m))
        .collect();
    assert!(
        !moved.is_empty(),
        "moved messages are queued for re-indexing"
    );
}

/// A message that a later one in its own batch moves to another thread (two threads merged)
/// is reported under the thread the batch leaves it in, and not queued for re-indexing: the
/// committer indexes it once. Stored by an earlier batch, it is queued as before.
#[test]
fn a_message_moved_within_its_batch_is_reported_under_its_final_thread_and_not_queued() {
    let corpus = thread_corpus();
    // r1 (a thread rooted at p), c (one rooted at q), d (references both: merges them).
    let batch: Vec<Processed> = [1, 3, 4].iter().map(|&i| processed(&corpus[i].1)).collect();
    let (_d, s) = open();
    let threads: Vec<ThreadId> = s
        .commit_batch(&batch)
        .unwrap()
        .iter()
        .map(thread_of)
        .collect();
    assert!(threads.iter().all(|t| *t == threads[2]), "{threads:?}");
    for p in &batch {
        let stored = s.message(&p.message.id).unwrap().unwrap();
        assert_eq!(stored.thread_id, threads[2]);
    }
    assert_eq!(s.reindex_queue().unwrap(), Vec::<MessageId>::new());

    let (_d2, s2) = open();
    let first = s2.commit_batch(&batch[..2]).unwrap();
    let merged = thread_of(&s2.commit_batch(&batch[2..]).unwrap()[0]);
    assert_eq!(merged, threads[2], "the same merge, the same name");
    let moved: Vec<MessageId> = batch[..2]
        .iter()
        .zip(&first)
        .filter(|(_, o)| thread_of(o) != merged)
        .map(|(p, _)| p.message.id.clone())
        .collect();
    assert_eq!(moved.len(), 1, "one of the two threads keeps its name");
    assert_eq!(s2.reindex_queue().unwrap(), moved);
}

/// `n` originals with one subject, one batch each (so they arrive in order), and their threads.
fn originals(s: &Store, subject: &str, n: usize) -> Vec<ThreadId> {
    (0..n)
        .map(|i| {
            let m = processed(&format!(
                "Message-ID: <o{i}@x>\nSubject: {subject}\n\nstatement {i}\n"
            ));
            thread_of(&s.commit_batch(&[m]).unwrap()[0])
        })
        .collect()
}

/// A reply without references to a subject every month repeats joins only the most recent
/// originals; the older ones stay apart.
#[test]
fn a_reference_less_reply_joins_only_the_most_recent_originals() {
    let (_d, s) = open();
    let n = threads::MAX_ORIGINALS + 2;
    let threads = originals(&s, "Your monthly statement", n);
    let reply = processed("Message-ID: <r@x>\nSubject: Re: Your monthly statement\n\nno refs\n");
    let joined = thread_of(&s.commit_batch(&[reply]).unwrap()[0]);
    let record = s.thread(&joined).unwrap().unwrap();
    assert_eq!(record.messages.len(), threads::MAX_ORIGINALS + 1);
    for old in &threads[..2] {
        let apart = s.thread(old).unwrap().unwrap();
        assert_ne!(apart.thread_id, joined, "an older original stays apart");
        assert_eq!(apart.messages.len(), 1);
    }
    assert_eq!(s.stats().unwrap().threads, 3);
}

/// A subject's reference-less replies name their thread after the subject; the originals
/// that keep joining it (a statement every month) neither rename it nor move its members.
/// With the smallest Message-ID key as the name, each of them renamed the thread with a chance
/// of one in its size and queued every member for re-indexing.
#[test]
fn originals_joining_a_subjects_thread_leave_its_name_and_members_in_place() {
    let (_d, s) = open();
    let subject = "Payment received for your account";
    let first = originals(&s, subject, 3);
    let reply = processed(&format!(
        "Message-ID: <r@x>\nSubject: Re: {subject}\n\nno refs\n"
    ));
    let named = thread_of(&s.commit_batch(&[reply]).unwrap()[0]);
    let record = s.thread(&named).unwrap().unwrap();
    assert!(record.by_subject);
    assert_eq!(record.messages.len(), 4);
    for old in &first {
        assert_eq!(s.thread(old).unwrap().unwrap().thread_id, named);
    }
    s.reindex_done(&s.reindex_queue().unwrap()).unwrap();

    let later: Vec<ThreadId> = (0..40)
        .map(|i| {
            let m = processed(&format!(
                "Message-ID: <later{i}@x>\nSubject: {subject}\n\npayment {i}\n"
            ));
            thread_of(&s.commit_batch(&[m]).unwrap()[0])
        })
        .collect();
    assert!(
        later.iter().all(|t| *t == named),
        "{later:?} not all {named}"
    );
    assert_eq!(s.reindex_queue().unwrap(), Vec::<MessageId>::new());
    let record = s.thread(&named).unwrap().unwrap();
    assert_eq!((record.messages.len(), record.by_subject), (44, true));
    // A second reference-less reply joins the same thread under the same name.
    let again = processed(&format!(
        "Message-ID: <r2@x>\nSubject: RE: {subject}\n\nagain\n"
    ));
    assert_eq!(thread_of(&s.commit_batch(&[again]).unwrap()[0]), named);
    assert_eq!(s.stats().unwrap().threads, 1);
}

/// An entry written under the earlier bound (64) keeps only the most recent originals once
/// the next one with its subject arrives.
#[test]
fn a_subject_entry_over_the_bound_shrinks_with_its_next_message() {
    let (_d, s) = open();
    let subject = "Invoice 5150 reminder";
    let mut threads = originals(&s, subject, threads::MAX_ORIGINALS + 4);
    let mut tx = s.begin();
    tx.insert(
        S_SUBJECTS,
        b"invoice 5150 reminder",
        codec::subject_value(&threads, None).unwrap(),
    );
    tx.apply().unwrap();
    let next = processed(&format!(
        "Message-ID: <next@x>\nSubject: {subject}\n\nlatest\n"
    ));
    threads.push(thread_of(&s.commit_batch(&[next]).unwrap()[0]));
    let reply = processed("Message-ID: <r@x>\nSubject: RE: Invoice 5150 reminder\n\nno refs\n");
    let joined = thread_of(&s.commit_batch(&[reply]).unwrap()[0]);
    assert_eq!(
        s.thread(&joined).unwrap().unwrap().messages.len(),
        threads::MAX_ORIGINALS + 1
    );
    assert_eq!(
        s.stats().unwrap().threads as usize,
        threads.len() - threads::MAX_ORIGINALS + 1
    );
}

#[test]
fn a_subject_record_written_before_merging_threads_still_reads() {
    let (_d, s) = open();
    let orig = processed("Message-ID: <o@x>\nSubject: Invoice 9001 overdue\n\nhi\n");
    let out = s.commit_batch(&[orig]).unwrap();
    // The previous release's shape: one thread and whether a reply made it.
    let old = serde_json::json!({ "thread": thread_of(&out[0]), "by_reply": false });
    s.tree
        .insert(
            super::tx::full_key(&s.crypt, S_SUBJECTS, b"invoice 9001 overdue"),
            serde_json::to_vec(&old).unwrap(),
        )
        .unwrap();
    let reply = processed("Message-ID: <q@x>\nSubject: Re: Invoice 9001 overdue\n\nno refs\n");
    let out2 = s.commit_batch(&[reply]).unwrap();
    assert_eq!(
        s.thread(&thread_of(&out[0])).unwrap().unwrap().thread_id,
        thread_of(&out2[0])
    );
    assert_eq!(s.stats().unwrap().threads, 1);
}

#[test]
fn same_vendor_number_and_amount_is_flagged_duplicate_invoice() {
    let (_d, s) = open();
    let first = invoice(
        "Message-ID: <i1@x>\nFrom: ACME <a@acme.example>\nSubject: Invoice 7\n\nx\n",
        "INV-7",
        "100.00",
    );
    let again = invoice(
        "Message-ID: <i2@x>\nFrom: ACME <a@acme.example>\nSubject: Invoice 7 (resent)\n\nx\n",
        "inv-7",
        "100.0",
    );
    let changed = invoice(
        "Message-ID: <i3@x>\nFrom: ACME <a@acme.example>\nSubject: Invoice 7 corrected\n\nx\n",
        "INV-7",
        "120.00",
    );
    let out = s.commit_batch(&[first, again.clone(), changed]).unwrap();
    assert!(matches!(&out[0], CommitOutcome::Stored { flags, .. } if flags.is_empty()));
    assert!(
        matches!(&out[1], CommitOutcome::Stored { flags, .. } if flags == &["duplicate_invoice"])
    );
    assert!(
        matches!(&out[2], CommitOutcome::Stored { flags, .. } if flags == &["invoice_amount_conflict"])
    );
    assert_eq!(s.stats().unwrap().invoices, 1);
    assert_eq!(
        s.message(&again.message.id)
            .unwrap()
            .unwrap()
            .decision
            .flags,
        vec!["duplicate_invoice"]
    );
    // Joined threads take the smaller root id: compare where each message is now.
    let now = |o: &CommitOutcome| s.thread(&thread_of(o)).unwrap().unwrap().thread_id;
    assert_eq!(
        now(&out[0]),
        now(&out[1]),
        "a resent invoice joins its original's thread"
    );
    assert_eq!(now(&out[0]), now(&out[2]));
    assert_eq!(s.stats().unwrap().threads, 1);
}

#[test]
fn rejections_count_once_and_pending_index_tracks_commits() {
    let (_d, s) = open();
    let rec = RejectionRecord {
        origin: "a.eml".into(),
        reason: "empty".into(),
        size: 0,
        at: Utc::now(),
    };
    let id = MessageId::of_bytes(b"");
    assert!(s.record_rejection(&id, &rec).unwrap());
    assert!(!s.record_rejection(&id, &rec).unwrap());
    assert_eq!(s.stats().unwrap().rejected, 1);

    let p = processed("Subject: pending test\n\nx\n");
    s.commit_batch(std::slice::from_ref(&p)).unwrap();
    let second = processed("Subject: pending test two\n\nx\n");
    s.commit_batch(std::slice::from_ref(&second)).unwrap();
    assert_eq!(
        s.pending_index().unwrap(),
        vec![(1, p.message.id.clone()), (2, second.message.id.clone())]
    );
    s.mark_indexed_through(1).unwrap();
    assert_eq!(
        s.pending_index().unwrap(),
        vec![(2, second.message.id.clone())]
    );
    assert_eq!(
        s.pending_index_first(1).unwrap(),
        vec![(2, second.message.id.clone())]
    );
    s.mark_indexed_through(2).unwrap();
    assert!(s.pending_index().unwrap().is_empty());
    assert_eq!(
        s.message_ids().collect::<Result<Vec<_>, _>>().unwrap(),
        vec![p.message.id.clone(), second.message.id.clone()]
    );
    assert_eq!(s.raw(&p.message.id).unwrap().unwrap(), p.raw);
}

/// The store in `dir` (closed) with its engine's keys as formats 4 and 5 kept them (ids in
/// hex), named as `format`.
fn with_ids_in_hex(dir: &std::path::Path, format: u32) {
    use super::kv::{KeyForm, Kv, KvBatch};
    let wait = std::time::Duration::from_secs(5);
    let kv = Kv::open(dir, 1 << 20, wait, KeyForm::IdsInBytes).unwrap();
    let records: Vec<_> = kv.iter().map(Result::unwrap).collect();
    drop(kv);
    std::fs::remove_dir_all(dir.join("kv")).unwrap();
    let old = Kv::open(dir, 1 << 20, wait, KeyForm::AsWritten).unwrap();
    let mut batch = KvBatch::default();
    for (k, v) in records {
        batch.insert(k.to_vec(), v.to_vec());
    }
    old.apply_batch(batch).unwrap();
    old.flush().unwrap();
    drop(old);
    std::fs::write(dir.join("format"), format!("{format}\n")).unwrap();
}

/// A store of format 4 (records as format 5's, ids in hex in the keys) is copied into keys
/// with the ids in bytes when it is opened: its messages, threads (one named after its
/// subject) and members read as before. A format newer than this release's is refused.
#[test]
fn a_format_4_store_is_migrated_to_ids_in_bytes_and_a_newer_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let original = processed("Message-ID: <o@x>\nSubject: Remittance for October\n\nx\n");
    let reply = processed("Message-ID: <r@x>\nSubject: Re: Remittance for October\n\nx\n");
    {
        let s = Store::open(dir.path(), 8 << 20).unwrap();
        s.commit_batch(&[original.clone(), reply.clone()]).unwrap();
        s.flush().unwrap();
    }
    with_ids_in_hex(dir.path(), 4);
    {
        let s = Store::open(dir.path(), 8 << 20).unwrap();
        let thread = s.message(&reply.message.id).unwrap().unwrap().thread_id;
        let record = s.thread(&thread).unwrap().unwrap();
        assert!(record.by_subject);
        assert_eq!(
            record.messages,
            vec![original.message.id.clone(), reply.message.id.clone()]
        );
        assert_eq!(s.raw(&original.message.id).unwrap().unwrap(), original.raw);
        assert_eq!(
            s.resolve_message_id(&reply.message.id.0[..7]).unwrap(),
            Some(reply.message.id.clone())
        );
        assert_eq!(
            migrate::format_of(dir.path()).unwrap(),
            Some(migrate::CURRENT_FORMAT)
        );
        let usage = s.usage().unwrap();
        assert_eq!(usage.spaces["m"].key_bytes, 2 * 18);
        assert_eq!(usage.spaces["j"].key_bytes, 2 * 18);
    }
    let format = dir.path().join("format");
    let newer = migrate::CURRENT_FORMAT + 1;
    std::fs::write(&format, format!("{newer}\n")).unwrap();
    match Store::open(dir.path(), 8 << 20) {
        Err(StoreError::NewerFormat { found, .. }) => assert_eq!(found, newer),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a store of format {newer} opened"),
    }
}

#[test]
fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let p = processed("Subject: durable\n\nx\n");
    {
        let s = Store::open(dir.path(), 8 << 20).unwrap();
        s.commit_batch(std::slice::from_ref(&p)).unwrap();
        s.flush().unwrap();
    }
    let s = Store::open(dir.path(), 8 << 20).unwrap();
    assert_eq!(s.stats().unwrap().messages, 1);
    // The record keeps no text that the raw bytes already hold; the raw bytes come back whole.
    let rec = s.message(&p.message.id).unwrap().unwrap();
    assert!(rec.message.body_text.is_empty() && rec.message.headers.is_empty());
    assert_eq!(s.raw(&p.message.id).unwrap().unwrap(), p.raw);
    assert_eq!(
        s.message(&p.message.id).unwrap().unwrap().message.subject,
        "durable"
    );
}

#[test]
fn cursor_rejections_and_mailbox_counts_commit_with_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(store.cursor("ap/INBOX").unwrap(), None);
    let a = processed("Message-ID: <a@x>\r\nSubject: a\r\n\r\nbody a\r\n");
    let b = processed("Message-ID: <b@x>\r\nSubject: b\r\n\r\nbody b\r\n");
    let bad = MessageId::of_bytes(b"junk");
    let extras = BatchExtras {
        cursor: Some((
            "ap/INBOX".into(),
            FolderCursor {
                uid_validity: 7,
                last_uid: 12,
            },
        )),
        rejections: vec![(
            bad.clone(),
            RejectionRecord {
                origin: "imap://ap/INBOX;UID=12".into(),
                reason: "not mail".into(),
                size: 4,
                at: chrono::Utc::now(),
            },
        )],
    };
    let out = store.commit_batch_with(&[a.clone(), b], &extras).unwrap();
    assert!(
        out.iter()
            .all(|o| matches!(o, CommitOutcome::Stored { .. }))
    );
    assert_eq!(
        store.cursor("ap/INBOX").unwrap(),
        Some(FolderCursor {
            uid_validity: 7,
            last_uid: 12
        })
    );
    assert_eq!(store.mailbox_count("t").unwrap(), 2);
    assert_eq!(store.stats().unwrap().rejected, 1);
    // The same batch again (a refetch after a crash): nothing new, counts unchanged.
    let out = store.commit_batch_with(&[a], &extras).unwrap();
    assert!(matches!(out[0], CommitOutcome::Duplicate { .. }));
    assert_eq!(store.mailbox_count("t").unwrap(), 2);
    assert_eq!(store.stats().unwrap().rejected, 1);
    assert_eq!(store.cursors().unwrap().len(), 1);
}

fn receivable(number: &str, amount: &str) -> Receivable {
    Receivable {
        invoice_number: number.into(),
        customer: "Lakeside".into(),
        customer_email: "ap@lakeside.example".into(),
        amount: amount.into(),
        currency: "USD".into(),
        issue_date: "2027-01-01".parse().unwrap(),
        due_date: "2027-02-01".parse().unwrap(),
        timezone: None,
        status: ReceivableStatus::Open,
        steps_sent: Vec::new(),
        waiting_review: None,
    }
}

/// A remittance whose rule extracted `number` and `paid` (USD), with this body.
fn remittance(n: u32, body: &str, number: &str, paid: &str) -> Processed {
    let mut p = invoice(
        &format!("Message-ID: <pay{n}@lakeside.example>\nSubject: Remittance advice\n\n{body}\n"),
        number,
        paid,
    );
    p.decision.category = "ar.remittance".into();
    p.decision.fields.insert(
        "currency".into(),
        ExtractedField {
            value: FieldValue::Currency {
                value: "USD".into(),
            },
            provenance: Provenance {
                rule: "r".into(),
                source: "body".into(),
                matched: String::new(),
            },
            confidence: 100,
            doubt: None,
        },
    );
    p
}

fn statuses(store: &Store) -> Vec<(String, &'static str)> {
    store
        .receivables()
        .unwrap()
        .into_iter()
        .map(|r| (r.invoice_number, r.status.name()))
        .collect()
}

#[test]
fn a_remittance_settles_every_invoice_it_names_when_the_amounts_add_up() {
    let (_d, store) = open();
    store
        .import_receivables(&[
            receivable("OC-2026-1010", "8640.00"),
            receivable("OC-2026-1011", "120.00"),
            receivable("OC-2026-1012", "55.50"),
            receivable("OC-2026-1013", "99.00"),
        ])
        .unwrap();
    // Names two (one in a table cell), pays exactly their sum: both are paid.
    let two = remittance(
        1,
        "Paid today:\n| OC-2026-1010 | 8,640.00 |\n| OC-2026-1011 | 120.00 |\nTotal 8,760.00",
        "OC-2026-1010",
        "8760.00",
    );
    // Names two, pays only the first: the second is not taken for paid.
    let one = remittance(
        2,
        "OC-2026-1012 is paid (55.50). OC-2026-1013 will follow next month.",
        "OC-2026-1012",
        "55.50",
    );
    store.commit_batch(&[two, one]).unwrap();
    assert_eq!(
        statuses(&store),
        [
            ("OC-2026-1010".to_string(), "paid"),
            ("OC-2026-1011".to_string(), "paid"),
            ("OC-2026-1012".to_string(), "paid"),
            ("OC-2026-1013".to_string(), "open"),
        ]
    );
}

#[test]
fn a_remittance_in_review_settles_nothing_until_a_person_confirms_it() {
    let (_d, store) = open();
    store
        .import_receivables(&[receivable("OC-2026-2001", "300.00")])
        .unwrap();
    let mut doubtful = remittance(3, "Paid OC-2026-2001, 300.00", "OC-2026-2001", "300.00");
    doubtful.decision.review_rule = Some("large remittances".into());
    let id = doubtful.message.id.clone();
    store.commit_batch(&[doubtful]).unwrap();
    assert_eq!(statuses(&store), [("OC-2026-2001".to_string(), "open")]);
    let waiting = &store.receivables().unwrap()[0];
    assert_eq!(waiting.waiting_review.as_deref(), Some(id.0.as_str()));
    // Reminders leave it alone while it waits.
    let cadence: crate::receivables::Cadence = toml::from_str(
        "steps = [ { offset = 7, template = \"ar-reminder\" } ]\nbusiness_days_only = false",
    )
    .unwrap();
    let plan = crate::receivables::plan_with(
        &store.receivables().unwrap(),
        &cadence,
        "2027-03-01T12:00:00Z".parse().unwrap(),
        false,
    );
    assert!(plan.is_empty(), "{plan:?}");

    let out = store
        .review_decide(&id.0, ReviewChange::Confirm, "anna", Some(1), Utc::now())
        .unwrap();
    assert_eq!(out.item.state, crate::review::ReviewState::Confirmed);
    assert_eq!(statuses(&store), [("OC-2026-2001".to_string(), "paid")]);
    assert!(store.receivables().unwrap()[0].waiting_review.is_none());
}

fn vendor_invoice(n: u32, from: &str, number: &str, fields: &[(&str, &str)]) -> Processed {
    let mut p = invoice(
        &format!("Message-ID: <v{n}@x>\nFrom: {from}\nSubject: Invoice {number}\n\nx\n"),
        number,
        "100.00",
    );
    for (k, v) in fields {
        p.decision.fields.insert(
            k.to_string(),
            ExtractedField::new(
                FieldValue::Text {
                    value: v.to_string(),
                },
                Provenance {
                    rule: "r".into(),
                    source: "body".into(),
                    matched: String::new(),
                },
                95,
            ),
        );
    }
    p
}

#[test]
fn vendors_sharing_a_billing_platform_stay_apart_and_are_known_by_vat_id() {
    let (_d, store) = open();
    let alpha = [
        ("vendor", "Alpha GmbH"),
        ("vendor_vat_id", "DE111111111"),
        ("iban", "DE89370400440532013000"),
    ];
    let beta = [
        ("vendor", "Beta BV"),
        ("vendor_vat_id", "NL222222222B01"),
        ("iban", "NL91ABNA0417164300"),
    ];
    let out = store
        .commit_batch(&[
            vendor_invoice(1, "Portal <noreply@portal.example>", "A-1", &alpha),
            vendor_invoice(2, "Portal <noreply@portal.example>", "B-1", &beta),
            // Alpha from its own domain later: the same vendor, nothing flagged.
            vendor_invoice(3, "Alpha <billing@alpha.example>", "A-2", &alpha),
            // Beta's next invoice through the platform, its own IBAN: nothing flagged.
            vendor_invoice(4, "Portal <noreply@portal.example>", "B-2", &beta),
        ])
        .unwrap();
    for o in &out {
        assert!(
            matches!(o, CommitOutcome::Stored { flags, .. } if flags.is_empty()),
            "{o:?}"
        );
    }
    let vendors = store.vendors().unwrap();
    assert_eq!(vendors.len(), 2, "{vendors:?}");
    assert_eq!(vendors[0].name, "Alpha GmbH");
    assert_eq!(vendors[0].vat_ids, ["DE111111111"]);
    assert_eq!(vendors[1].vat_ids, ["NL222222222B01"]);
    // A platform domain names nobody; a vendor's own domain names it.
    assert_eq!(
        store.vendor("alpha.example").unwrap().unwrap().name,
        "Alpha GmbH"
    );
    assert!(store.vendor("portal.example").unwrap().is_none());
    // The same invoice number and amount from the same VAT ID through another route is a
    // duplicate.
    let again = store
        .commit_batch(&[vendor_invoice(5, "Alpha <a@alpha.example>", "A-1", &alpha)])
        .unwrap();
    assert!(
        matches!(&again[0], CommitOutcome::Stored { flags, .. } if flags.contains(&"duplicate_invoice".to_string())),
        "{again:?}"
    );
}

#[test]
fn an_erased_messages_old_copies_in_the_store_files_and_the_blob_log_no_longer_open() {
    let (_d, s) = open();
    let p =
        processed("Message-ID: <e@x>\nFrom: Jane <jane@x.example>\nSubject: Invoice 5\n\nbody\n");
    let id = p.message.id.clone();
    let out = s.commit_batch(&[p]).unwrap();
    let thread = thread_of(&out[0]);
    // What an attacker copying the files before the erasure (or reading the engine's old files
    // after it) holds: the sealed record, the thread's record and the sealed raw bytes.
    let m_key = key(S_MESSAGES, id.0.as_bytes());
    let t_key = key(S_THREADS, thread.0.as_bytes());
    // The tree keeps where the message record is; the sealed record is in the blob log.
    let pointer = s.tree.get(&m_key).unwrap().unwrap().to_vec();
    let (_, at) = tx::parse_pointer(&pointer).expect("a message record lives in the blob log");
    let record = s.blobs.read(at).unwrap();
    let thread_record = s.tree.get(&t_key).unwrap().unwrap().to_vec();
    let raw = s.blobs.read(s.message(&id).unwrap().unwrap().raw).unwrap();
    assert!(!record.windows(4).any(|w| w == b"Jane"));
    assert!(tx::open_value(&s.crypt, &s.blobs, &m_key, &pointer).is_ok());
    assert!(s.crypt.unseal(&m_key, &record).is_ok());
    assert!(s.crypt.unseal(&blob_aad(&id), &raw).is_ok());

    s.erase_message(&id, "test").unwrap();
    let shredded = |r: Result<std::borrow::Cow<'_, [u8]>, crypt::CryptError>| {
        matches!(r, Err(crypt::CryptError::Shredded { .. }))
    };
    assert!(shredded(s.crypt.unseal(&m_key, &record)));
    assert!(shredded(s.crypt.unseal(&blob_aad(&id), &raw)));
    assert!(shredded(s.crypt.unseal(&t_key, &thread_record)));
    // Reopened (a new process): still shredded, the keyring on disk says so.
    let dir = s.dir.clone();
    drop(s);
    let s = Store::open(&dir, 8 << 20).unwrap();
    assert!(shredded(s.crypt.unseal(&m_key, &record)));
}

#[test]
fn a_rewritten_record_keeps_its_data_key_and_an_erasures_rewrite_gets_a_new_one() {
    let (_d, s) = open();
    let a = processed("Message-ID: <a@x>\nFrom: A <a@x.example>\nSubject: Invoice 6\n\nx\n");
    let b = processed(
        "Message-ID: <b@x>\nIn-Reply-To: <a@x>\nFrom: B <b@y.example>\nSubject: Re: Invoice 6\n\ny\n",
    );
    let (a_id, b_id) = (a.message.id.clone(), b.message.id.clone());
    let thread = thread_of(&s.commit_batch(&[a]).unwrap()[0]);
    let t_key = key(S_THREADS, thread.0.as_bytes());
    let slot = |s: &Store| crypt::sealed_slot(&s.tree.get(&t_key).unwrap().unwrap()).unwrap();
    let first = slot(&s);
    let one_member = s.tree.get(&t_key).unwrap().unwrap().to_vec();
    s.commit_batch(&[b]).unwrap();
    assert_eq!(
        slot(&s),
        first,
        "a commit rewrites the thread under the same key"
    );
    s.erase_message(&b_id, "test").unwrap();
    assert_ne!(slot(&s), first, "the erasure's rewrite takes a new key");
    assert!(matches!(
        s.crypt.unseal(&t_key, &one_member),
        Err(crypt::CryptError::Shredded { .. })
    ));
    let t = s.thread(&thread).unwrap().unwrap();
    assert_eq!(t.messages, vec![a_id]);
}

/// Processes that open a new store at the same moment (a daemon starting while `deskmail stats`
/// polls) each get it or `Locked`: none finds it half made (its engine's files without a
/// keyring read as the oldest format, which an open would then migrate), and the keys they
/// agree on open it afterwards.
#[test]
fn opens_racing_to_create_a_store_get_it_or_locked_and_one_set_of_keys() {
    for round in 0..20 {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("store");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(12));
        let handles: Vec<_> = (0..12u64)
            .map(|i| {
                let (dir, barrier) = (dir.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    // Spread over the few milliseconds a creation takes, so that some arrive
                    // while the first one is half way.
                    std::thread::sleep(std::time::Duration::from_micros(400 * i));
                    match Store::open(&dir, 1 << 20) {
                        Ok(store) => {
                            let m = processed("Message-ID: <race@x>\nSubject: Race\n\nhi\n");
                            store
                                .commit_batch(&[m])
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        }
                        Err(StoreError::Locked { .. }) => Ok(()),
                        Err(e) => Err(e.to_string()),
                    }
                })
            })
            .collect();
        for h in handles {
            if let Err(e) = h.join().unwrap() {
                panic!("round {round}: an open failed: {e}");
            }
        }
        let store = Store::reopen(&dir, 1 << 20).unwrap();
        assert!(store.stats().unwrap().messages <= 1, "round {round}");
        assert_eq!(
            migrate::format_of(&dir).unwrap(),
            Some(migrate::CURRENT_FORMAT)
        );
    }
}
