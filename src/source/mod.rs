//! Where raw mail comes from: files on disk (.eml, maildir, mbox, trees of them) and IMAP
//! folders. Every source produces [`RawMail`](crate::model::RawMail); the drop folder (in
//! [`daemon`](crate::daemon)) reuses the file readers.

pub mod files;
pub mod imap;
