//! XML bytes → `einvoice::read` (an EInvoice with its checks, or the reason it is not one), then
//! the text summary the rules and the index see.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(invoice) = deskmail::einvoice::read(data, "fuzz.xml") {
        let _ = deskmail::einvoice::format_label(&invoice);
        let _ = deskmail::einvoice::summary_text(&invoice);
    }
});
