//! Bytes as the ERP's receivables CSV → `receivables::import_csv_reader` (invoices, or every bad
//! line). The AR desk imports this file daily, also through the running daemon.
#![no_main]

use deskmail::receivables::import_csv_reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = import_csv_reader("fuzz.csv", data);
});
