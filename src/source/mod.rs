//! Where raw mail comes from. For now: files on disk (.eml, maildir, mbox, trees of them).
//! IMAP and the drop folder plug in here with the same [`RawMail`](crate::model::RawMail) output.

pub mod files;
