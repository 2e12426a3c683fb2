//! What the rules may know beyond the message itself: the thread it joins. A reply in a thread
//! that started with our own reminder is AR whatever its subject says; the facts come from the
//! store (messages committed before this one), through [`PriorLookup`].

use crate::model::Message;

/// A message stored before, as thread conditions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorMessage {
    pub category: String,
    pub from_address: Option<String>,
}

/// Finds a stored message by its Message-ID header (without brackets).
pub trait PriorLookup {
    fn prior(&self, message_id: &str) -> Option<PriorMessage>;
}

/// What is known about a message's thread when its rules run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadContext {
    /// The message it answers: In-Reply-To, else the nearest reference.
    pub previous: Option<PriorMessage>,
    /// The thread's first message: the oldest reference that is stored.
    pub first: Option<PriorMessage>,
}

impl ThreadContext {
    /// Look the message's parent and root up. A message that references nothing, or whose
    /// references were never stored, has no context (conditions on it do not hold).
    pub fn of(msg: &Message, lookup: &dyn PriorLookup) -> ThreadContext {
        let previous = msg
            .in_reply_to
            .iter()
            .chain(msg.references.iter().rev())
            .find_map(|id| lookup.prior(id));
        let first = msg
            .references
            .iter()
            .chain(msg.in_reply_to.iter())
            .find_map(|id| lookup.prior(id));
        ThreadContext { previous, first }
    }
}
