//! Snippets: the best ≤ 200-byte fragment of a text around the query's terms, with highlights.
//!
//! A lean replacement for tantivy's `SnippetGenerator`, which runs the analyzer over the whole
//! text (≈ 10 ns a byte: a 32 KiB body costs 300 µs) while a CLI search builds up to `limit`
//! snippets within a few milliseconds. Instead:
//!
//! 1. The text is *folded* the way the analyzer folds tokens: ASCII bytes are lowercased, other
//!    alphanumeric chars are replaced by what the analyzer makes of them alone (lowercased,
//!    accents folded: `Ä` → `a`, `ß` → `ss`; cached per search), other chars become spaces. For
//!    pure-ASCII text this is one `to_ascii_lowercase`.
//! 2. Each query term is found with `memchr::memmem`; an occurrence counts when it is a whole
//!    token (no letter or digit — or non-ASCII byte — right before or after it). This is what the
//!    analyzer would match, except in rare context-dependent cases (Greek final sigma).
//! 3. The fragment is the window of ≤ `max` bytes with the most distinct terms (then the most
//!    occurrences), widened with some context, cut at whitespace when possible, whitespace folded.

use std::collections::{BTreeSet, HashMap, VecDeque};

use memchr::memmem::Finder;
use tantivy::tokenizer::TextAnalyzer;

/// At most this many occurrences of each term are considered.
const MAX_OCCURRENCES: usize = 256;

/// (distinct terms, occurrences) in a window.
type WindowScore = (usize, usize);

pub struct Highlighter {
    finders: Vec<Finder<'static>>,
    analyzer: TextAnalyzer,
    /// What the analyzer makes of single non-ASCII chars (None: not part of a token), for
    /// chars below [`LATIN_END`] by code point, others in a map.
    latin: Vec<Option<Option<Box<str>>>>,
    others: HashMap<char, Option<Box<str>>>,
    max: usize,
}

/// Chars below this (Latin-1 Supplement, Latin Extended-A and -B) have their fold cached in a
/// table.
const LATIN_END: usize = 0x250;

#[derive(Debug, Clone, Copy)]
struct Hit {
    from: usize,
    to: usize,
    term: usize,
}

/// A folded copy of a text with `marks`: `(folded offset, text offset)` at the start of every
/// non-ASCII char, of every ASCII run after one, and at both ends. Between marks, offsets advance
/// together (ASCII) — and token boundaries always fall on a mark or inside an ASCII run.
struct Folded {
    bytes: Vec<u8>,
    marks: Vec<(usize, usize)>,
}

impl Folded {
    fn orig(&self, i: usize) -> usize {
        let m = self.marks.partition_point(|&(f, _)| f <= i) - 1;
        let (f, o) = self.marks[m];
        o + (i - f)
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

fn analyze_char(analyzer: &mut TextAnalyzer, c: char) -> Option<Box<str>> {
    let s = c.to_string();
    let mut stream = analyzer.token_stream(&s);
    stream.next().map(|t| t.text.as_str().into())
}

impl Highlighter {
    pub fn new(terms: &BTreeSet<String>, analyzer: TextAnalyzer, max: usize) -> Self {
        let finders = terms
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| Finder::new(t.as_bytes()).into_owned())
            .collect();
        Highlighter {
            finders,
            analyzer,
            latin: Vec::new(),
            others: HashMap::new(),
            max,
        }
    }

    /// Appends the fold of the non-ASCII char `c` (a space when it is no part of a token).
    fn push_fold(&mut self, c: char, out: &mut Vec<u8>) {
        let folded = if !c.is_alphanumeric() {
            None
        } else if (c as usize) < LATIN_END {
            if self.latin.is_empty() {
                self.latin = vec![None; LATIN_END];
            }
            let slot = &mut self.latin[c as usize];
            if slot.is_none() {
                *slot = Some(analyze_char(&mut self.analyzer, c));
            }
            slot.as_ref().and_then(|f| f.as_deref())
        } else {
            let analyzer = &mut self.analyzer;
            self.others
                .entry(c)
                .or_insert_with(|| analyze_char(analyzer, c))
                .as_deref()
        };
        match folded {
            Some(f) if !f.is_empty() => out.extend_from_slice(f.as_bytes()),
            _ => out.push(b' '),
        }
    }

    fn fold(&mut self, text: &str) -> Folded {
        let src = text.as_bytes();
        if text.is_ascii() {
            return Folded {
                bytes: src.to_ascii_lowercase(),
                marks: vec![(0, 0)],
            };
        }
        let mut bytes = Vec::with_capacity(text.len());
        let mut marks = vec![(0, 0)];
        let mut i = 0;
        while i < src.len() {
            let run = src[i..]
                .iter()
                .position(|&b| b >= 0x80)
                .unwrap_or(src.len() - i);
            if run > 0 {
                if marks.last().is_some_and(|&(f, _)| f != bytes.len()) {
                    marks.push((bytes.len(), i));
                }
                let at = bytes.len();
                bytes.extend_from_slice(&src[i..i + run]);
                bytes[at..].make_ascii_lowercase();
                i += run;
                if i == src.len() {
                    break;
                }
            }
            let c = text[i..].chars().next().expect("a char at a boundary");
            if marks.last().is_some_and(|&(f, _)| f == bytes.len()) {
                marks.pop();
            }
            marks.push((bytes.len(), i));
            self.push_fold(c, &mut bytes);
            i += c.len_utf8();
            marks.push((bytes.len(), i));
        }
        marks.push((bytes.len(), text.len()));
        Folded { bytes, marks }
    }

    /// Every whole-token occurrence of the terms in `text`, in text order.
    fn find_hits(&mut self, text: &str) -> Vec<Hit> {
        let folded = self.fold(text);
        let bytes = &folded.bytes;
        let mut hits: Vec<Hit> = Vec::new();
        for (term, finder) in self.finders.iter().enumerate() {
            let len = finder.needle().len();
            let found = finder
                .find_iter(bytes)
                .filter(|&p| {
                    (p == 0 || !is_word_byte(bytes[p - 1]))
                        && bytes.get(p + len).is_none_or(|&b| !is_word_byte(b))
                })
                .take(MAX_OCCURRENCES)
                .map(|p| Hit {
                    from: folded.orig(p),
                    to: folded.orig(p + len),
                    term,
                });
            hits.extend(found);
        }
        hits.sort_by_key(|h| (h.from, h.to));
        hits
    }

    /// The best fragment of `text` and its highlight byte ranges, or None when no term occurs.
    pub fn snippet(&mut self, text: &str) -> Option<(String, Vec<(usize, usize)>)> {
        if self.finders.is_empty() || text.is_empty() {
            return None;
        }
        let hits = self.find_hits(text);
        if hits.is_empty() {
            return None;
        }

        // Slide a window of ≤ max bytes over the hits.
        let mut counts = vec![0u32; self.finders.len()];
        let mut distinct = 0usize;
        let mut window: VecDeque<Hit> = VecDeque::new();
        let mut best: Option<(WindowScore, Vec<Hit>)> = None;
        for hit in hits {
            counts[hit.term] += 1;
            if counts[hit.term] == 1 {
                distinct += 1;
            }
            window.push_back(hit);
            while let Some(front) = window.front()
                && hit.to - front.from > self.max
            {
                counts[front.term] -= 1;
                if counts[front.term] == 0 {
                    distinct -= 1;
                }
                window.pop_front();
            }
            let score = (distinct, window.len());
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, window.iter().copied().collect()));
            }
        }
        let (_, window) = best?;
        Some(self.fragment(text, &window))
    }

    fn fragment(&self, text: &str, hits: &[Hit]) -> (String, Vec<(usize, usize)>) {
        let first = hits[0].from;
        let last = hits.iter().map(|h| h.to).max().unwrap_or(first);
        let slack = self.max.saturating_sub(last - first);
        // Some context before the first hit, starting after a whitespace (not mid-word).
        let mut start = floor_boundary(text, first.saturating_sub((slack / 3).min(60)));
        if start > 0 {
            start = match text[start..first].find(char::is_whitespace) {
                Some(i) => start + i,
                None => first,
            };
        }
        // As much as fits after it, ending at a whitespace when possible.
        let mut end = floor_boundary(text, (start + self.max).min(text.len()));
        if end < text.len()
            && end > last
            && let Some(i) = text[last..end].rfind(char::is_whitespace)
        {
            end = last + i;
        }
        let end = end.max(last);
        let ranges: Vec<std::ops::Range<usize>> =
            hits.iter().map(|h| h.from - start..h.to - start).collect();
        super::hits::fold_whitespace(&text[start..end], &ranges)
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::query::analyze;
    use crate::index::schema::text_analyzer;

    /// A highlighter for a query string, analysed like the index does.
    fn hl(query: &str) -> Highlighter {
        let terms: BTreeSet<String> = analyze(&text_analyzer(), query).into_iter().collect();
        Highlighter::new(&terms, text_analyzer(), 200)
    }

    fn marked(s: &(String, Vec<(usize, usize)>)) -> Vec<&str> {
        s.1.iter().map(|&(a, b)| &s.0[a..b]).collect()
    }

    #[test]
    fn finds_and_highlights_terms() {
        let s = hl("overdue")
            .snippet("Hello,\n\nthe invoice is   now OVERDUE. Please pay.")
            .unwrap();
        assert_eq!(s.0, "Hello, the invoice is now OVERDUE. Please pay.");
        assert_eq!(marked(&s), vec!["OVERDUE"]);
    }

    #[test]
    fn only_whole_tokens_count() {
        assert!(hl("overdue").snippet("nothing here, overdu e").is_none());
        assert!(hl("pay").snippet("payment, repay").is_none());
        let s = hl("4411")
            .snippet("invoice INV-4411: 44110 not this")
            .unwrap();
        assert_eq!(marked(&s), vec!["4411"]);
        // non-ASCII letters are part of words
        assert!(hl("ber").snippet("über").is_none());
    }

    #[test]
    fn folds_like_the_analyzer() {
        let s = hl("fällig")
            .snippet("Zahlung ist FÄLLIG seit März")
            .unwrap();
        assert_eq!(marked(&s), vec!["FÄLLIG"]);
        let s = hl("Strasse")
            .snippet("Hauptstraße 5, Große Straße")
            .unwrap();
        assert_eq!(marked(&s), vec!["Straße"]);
        let s = hl("facture").snippet("Facturé — façade FACTURE").unwrap();
        assert_eq!(marked(&s), vec!["Facturé", "FACTURE"]);
        // the offsets after multi-byte folds are right
        let s = hl("gross marz")
            .snippet("ßß Große März, groß März")
            .unwrap();
        assert_eq!(marked(&s), vec!["März", "groß", "März"]);
        // non-Latin scripts: lowercased, matched as is
        let s = hl("счёт").snippet("Ваш СЧЁТ готов").unwrap();
        assert_eq!(marked(&s), vec!["СЧЁТ"]);
        assert!(hl("fallig").snippet("Zahlung ist offen, ä").is_none());
    }

    #[test]
    fn hits_are_the_analyzers_tokens() {
        let texts = [
            "Sehr geehrte Damen und Herren, die Rechnung Nr. RE-2026/0042 ist seit 15.11. FÄLLIG.",
            "Façade: ÉTÉ à Noël — cœur, Æsir, ß-Straße, Ødegaard, ŁÓDŹ, İstanbul",
            "Ваш СЧЁТ №42 готов; Ελληνικά ΚΕΙΜΕΝΟ; 日本語テキスト; emoji 🎉 done",
            "①②③ ﬁnance x²y Ⅻ naïve coöperate résumé",
            "ascii only, with CAPS and digits 1234.56 and e-mail billing@acme-supplies.example",
        ];
        for text in texts {
            let mut analyzer = text_analyzer();
            let mut expected = Vec::new();
            let mut terms = BTreeSet::new();
            let mut stream = analyzer.token_stream(text);
            while let Some(t) = stream.next() {
                expected.push((t.offset_from, t.offset_to));
                terms.insert(t.text.clone());
            }
            drop(stream);
            let mut h = Highlighter::new(&terms, text_analyzer(), 200);
            let found: Vec<(usize, usize)> =
                h.find_hits(text).iter().map(|h| (h.from, h.to)).collect();
            assert_eq!(found, expected, "{text}");
        }
    }

    #[test]
    fn prefers_the_window_with_most_distinct_terms() {
        let filler = "lorem ipsum dolor sit amet ".repeat(20);
        let text = format!("payment first. {filler} payment reminder together. {filler} reminder");
        let s = hl("payment reminder").snippet(&text).unwrap();
        assert!(s.0.contains("payment reminder together"), "{}", s.0);
        assert_eq!(marked(&s), vec!["payment", "reminder"]);
        assert!(s.0.len() <= 200);
        // no partial word at either end
        let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(folded.contains(&s.0), "{}", s.0);
        let words: Vec<&str> = text.split_whitespace().collect();
        assert!(words.contains(&s.0.split(' ').next().unwrap()));
        assert!(words.contains(&s.0.split(' ').next_back().unwrap()));
    }

    #[test]
    fn long_texts_stay_bounded_and_utf8_safe() {
        let text = format!("{} fällig {}", "é".repeat(500), "ü".repeat(500));
        let s = hl("fallig").snippet(&text).unwrap();
        assert!(s.0.len() <= 200);
        assert_eq!(marked(&s), vec!["fällig"]);
    }
}
