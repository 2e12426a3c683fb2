//! deskmail.toml text → `Config::parse` (the text half of `Config::load`): a Config, or every
//! problem with its line.
#![no_main]

use std::path::Path;

use deskmail::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `Config::load` reads the file with `read_to_string`: only UTF-8 reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Relative paths (ca_file, password_file, folders) resolve under a directory that does not
    // exist, so the checks report them missing and nothing on the machine is touched.
    let _ = Config::parse(
        "fuzz.toml",
        text,
        Path::new("/nonexistent/deskmail-fuzz-config"),
    );
});
