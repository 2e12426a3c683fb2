//! Print the layout deskmail reads from a message's PDFs and body: each line with its phrases
//! and their x positions. A tool for writing and debugging extraction, not part of the product.
//!
//!     cargo run --example dump_layout -- fixtures/eval/dev/ap/SOME.eml

use deskmail::model::{RawMail, TextLayout};
use deskmail::parse::{ParseLimits, layout::text_layout, parse};

fn print(layout: &TextLayout) {
    for page in &layout.pages {
        println!("-- page {} ({} x {})", page.number, page.width, page.height);
        for line in &page.lines {
            let phrases: Vec<String> = line
                .phrases
                .iter()
                .map(|p| format!("[{:.0}-{:.0} {:.1}] {}", p.x0, p.x1, p.size, p.text))
                .collect();
            println!("{:7.1}  {}", line.y, phrases.join("  |  "));
        }
    }
}

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("readable file");
        let raw = RawMail {
            mailbox: "dump".into(),
            role: None,
            origin: path.clone(),
            bytes,
        };
        let msg = parse(&raw, &ParseLimits::default()).expect("a message");
        println!("== {path}: body");
        print(&text_layout(msg.own_text()));
        for a in &msg.attachments {
            println!("== attachment {}", a.display_name());
            if let Some(l) = &a.layout {
                print(l);
            } else if let Some(e) = &a.text_error {
                println!("(no layout: {e})");
            }
        }
    }
}
