//! Raw bytes → `parse::parse`, the one function every source uses to turn a RawMail into a
//! Message or a Rejection. It must return for every input; a panic anywhere in deskmail's code is
//! a crash here, even one `parse`'s own `catch_unwind` would turn into `ParserFailed`.
#![no_main]

use deskmail::model::RawMail;
use deskmail::parse::{ParseLimits, Rejection, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // lopdf and pdf-extract panic on damaged PDFs by design of those crates; deskmail loads
        // every PDF on its "pdf-text" thread under catch_unwind and reports the file as corrupt.
        // Those panics are expected, so they must not abort the fuzzer (libfuzzer-sys's hook
        // aborts on every panic, caught or not). A panic in deskmail's own code on that thread
        // (the layout collector runs inside pdf-extract) is still a finding.
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_pdf_thread = std::thread::current().name() == Some("pdf-text");
            let in_dependency = info
                .location()
                .is_some_and(|l| l.file().contains("/.cargo/registry/") || l.file().starts_with("/rustc/"));
            if !(on_pdf_thread && in_dependency) {
                abort_hook(info);
            }
        }));
    },
    |data: &[u8]| {
        let raw = RawMail {
            role: None,
            mailbox: "fuzz".into(),
            origin: "fuzz".into(),
            bytes: data.to_vec(),
        };
        match parse(&raw, &ParseLimits::default()) {
            // Unreachable while the hook aborts on the panic first; kept so a changed hook
            // cannot hide one.
            Err(Rejection::ParserFailed(reason)) => panic!("parse caught a panic: {reason}"),
            Ok(_) | Err(_) => {}
        }
    }
);
