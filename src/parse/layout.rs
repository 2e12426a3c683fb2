//! Text with its layout: a PDF's glyphs collected with their positions while pdf-extract renders
//! the plain text (one pass over the content streams feeds both), then grouped into words,
//! lines and phrases; and the same structure for a mail body's text lines, so one extractor can
//! look right of a label, below it, or down a table column in either.

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

use crate::model::{LayoutLine, LayoutPage, Phrase, TextLayout};

/// Most glyphs kept per document (about 100 dense pages): memory stays bounded on hostile PDFs.
const MAX_GLYPHS: usize = 400_000;

#[derive(Debug, Clone, Copy)]
struct Glyph {
    x: f32,
    /// From the top of the page.
    y: f32,
    /// Advance width.
    w: f32,
    size: f32,
    ch: char,
}

/// Collects glyph positions page by page.
#[derive(Default)]
pub struct LayoutCollector {
    pages: Vec<LayoutPage>,
    glyphs: Vec<Glyph>,
    page: u32,
    width: f32,
    height: f32,
    left: f32,
    bottom: f32,
    kept: usize,
}

impl LayoutCollector {
    pub fn finish(mut self) -> TextLayout {
        self.flush();
        TextLayout { pages: self.pages }
    }

    fn flush(&mut self) {
        if self.page == 0 {
            return;
        }
        let glyphs = std::mem::take(&mut self.glyphs);
        self.pages.push(LayoutPage {
            number: self.page,
            width: self.width,
            height: self.height,
            lines: lines_of(words_of(&glyphs)),
        });
        self.page = 0;
    }
}

impl OutputDev for LayoutCollector {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.flush();
        self.page = page_num;
        self.width = (media_box.urx - media_box.llx) as f32;
        self.height = (media_box.ury - media_box.lly) as f32;
        self.left = media_box.llx as f32;
        self.bottom = media_box.lly as f32;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        if self.kept >= MAX_GLYPHS {
            return Ok(());
        }
        // The font size as drawn: the text matrix scales it (as pdf-extract's own plain output
        // measures it).
        let vx = font_size * trm.m11 + font_size * trm.m21;
        let vy = font_size * trm.m12 + font_size * trm.m22;
        let size = (vx * vy).abs().sqrt() as f32;
        let x = trm.m31 as f32 - self.left;
        let y = self.height - (trm.m32 as f32 - self.bottom);
        let advance = (width as f32) * size;
        let count = text.chars().count().max(1) as f32;
        for (i, ch) in text.chars().enumerate() {
            self.glyphs.push(Glyph {
                x: x + advance * i as f32 / count,
                y,
                w: advance / count,
                size,
                ch,
            });
            self.kept += 1;
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// Feeds one rendering pass to two outputs (the plain text and the layout).
pub struct Tee<'a>(pub &'a mut dyn OutputDev, pub &'a mut dyn OutputDev);

impl OutputDev for Tee<'_> {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.0.begin_page(page_num, media_box, art_box)?;
        self.1.begin_page(page_num, media_box, art_box)
    }
    fn end_page(&mut self) -> Result<(), OutputError> {
        self.0.end_page()?;
        self.1.end_page()
    }
    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        self.0
            .output_character(trm, width, spacing, font_size, char)?;
        self.1
            .output_character(trm, width, spacing, font_size, char)
    }
    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.0.begin_word()?;
        self.1.begin_word()
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        self.0.end_word()?;
        self.1.end_word()
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        self.0.end_line()?;
        self.1.end_line()
    }
}

/// A word: glyphs in drawing order that continue each other on one baseline.
#[derive(Debug, Clone)]
struct Word {
    text: String,
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
}

fn words_of(glyphs: &[Glyph]) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let mut current: Option<Word> = None;
    for g in glyphs {
        if g.size <= 0.0 || !g.size.is_finite() || !g.x.is_finite() || !g.y.is_finite() {
            continue;
        }
        if g.ch.is_whitespace() || g.ch.is_control() {
            words.extend(current.take());
            continue;
        }
        let continues = current.as_ref().is_some_and(|w| {
            (g.y - w.y).abs() < 0.3 * w.size.max(g.size)
                && g.x >= w.x1 - 0.5 * g.size
                && g.x <= w.x1 + 0.15 * g.size
        });
        if continues {
            let w = current.as_mut().expect("checked");
            w.text.push(g.ch);
            w.x1 = w.x1.max(g.x + g.w);
            w.size = w.size.max(g.size);
        } else {
            words.extend(current.take());
            current = Some(Word {
                text: g.ch.to_string(),
                x0: g.x,
                x1: g.x + g.w,
                y: g.y,
                size: g.size,
            });
        }
    }
    words.extend(current);
    words
}

/// Words on (nearly) one baseline form a line; within it, words closer than about a space and
/// a half form a phrase.
fn lines_of(mut words: Vec<Word>) -> Vec<LayoutLine> {
    words.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    let mut rows: Vec<Vec<Word>> = Vec::new();
    for w in words {
        match rows.last_mut() {
            Some(row) if (w.y - row[0].y).abs() < 0.45 * w.size.max(row[0].size) => row.push(w),
            _ => rows.push(vec![w]),
        }
    }
    rows.into_iter()
        .map(|mut row| {
            row.sort_by(|a, b| a.x0.total_cmp(&b.x0));
            let y = row.iter().map(|w| w.y).sum::<f32>() / row.len() as f32;
            let mut phrases: Vec<Phrase> = Vec::new();
            for w in row {
                match phrases.last_mut() {
                    Some(p) if w.x0 - p.x1 < 0.55 * p.size.max(w.size) && w.x0 >= p.x0 => {
                        p.text.push(' ');
                        p.text.push_str(&w.text);
                        p.x1 = p.x1.max(w.x1);
                        p.size = p.size.max(w.size);
                    }
                    _ => phrases.push(Phrase {
                        text: w.text,
                        x0: w.x0,
                        x1: w.x1,
                        y: w.y,
                        size: w.size,
                    }),
                }
            }
            LayoutLine { y, phrases }
        })
        .collect()
}

/// Columns a tab-separated cell (an HTML table cell, as the fast renderer writes it) starts at:
/// cells line up by their index across rows, whatever their widths.
const TAB_COLUMN: f32 = 1000.0;

/// A text body as a one-page layout: each line a row; phrases split at tabs (table cells) and at
/// runs of two or more spaces (columns in plain-text invoices); x in characters.
pub fn text_layout(text: &str) -> TextLayout {
    let mut lines = Vec::new();
    for (row, line) in text.lines().enumerate() {
        let mut phrases = Vec::new();
        for (cell, part) in line.split('\t').enumerate() {
            let base = if line.contains('\t') {
                cell as f32 * TAB_COLUMN
            } else {
                0.0
            };
            let chars: Vec<char> = part.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                while i < chars.len() && chars[i].is_whitespace() {
                    i += 1;
                }
                let start = i;
                let mut end = i;
                while i < chars.len() {
                    if chars[i].is_whitespace() {
                        let gap = chars[i..].iter().take_while(|c| c.is_whitespace()).count();
                        if gap >= 2 || i + gap == chars.len() {
                            break;
                        }
                        i += gap;
                    } else {
                        i += 1;
                        end = i;
                    }
                }
                if end > start {
                    phrases.push(Phrase {
                        text: chars[start..end].iter().collect(),
                        x0: base + start as f32,
                        x1: base + end as f32,
                        y: row as f32,
                        size: 1.0,
                    });
                }
            }
        }
        if !phrases.is_empty() {
            lines.push(LayoutLine {
                y: row as f32,
                phrases,
            });
        }
    }
    TextLayout {
        pages: vec![LayoutPage {
            number: 1,
            width: 0.0,
            height: lines.last().map_or(0.0, |l| l.y + 1.0),
            lines,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_split_into_phrases_at_tabs_and_wide_gaps() {
        let layout = text_layout(
            "ACME Supplies Ltd\nInvoice Date:   Due Date:\n03.11.2026      03.12.2026\nDate\tTotal\n1 Nov\t1 190,00 EUR",
        );
        let lines = &layout.pages[0].lines;
        let texts = |i: usize| {
            lines[i]
                .phrases
                .iter()
                .map(|p| (p.text.as_str(), p.x0))
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(0), [("ACME Supplies Ltd", 0.0)]);
        assert_eq!(texts(1), [("Invoice Date:", 0.0), ("Due Date:", 16.0)]);
        assert_eq!(texts(2), [("03.11.2026", 0.0), ("03.12.2026", 16.0)]);
        assert_eq!(texts(3), [("Date", 0.0), ("Total", 1000.0)]);
        assert_eq!(texts(4), [("1 Nov", 0.0), ("1 190,00 EUR", 1000.0)]);
    }

    fn glyphs(text: &str, x: f32, y: f32, size: f32) -> Vec<Glyph> {
        text.chars()
            .enumerate()
            .map(|(i, ch)| Glyph {
                x: x + i as f32 * 0.5 * size,
                y,
                w: 0.5 * size,
                size,
                ch,
            })
            .collect()
    }

    #[test]
    fn glyphs_become_words_lines_and_phrases_by_distance() {
        let mut g = glyphs("Invoice Date:", 50.0, 100.0, 10.0);
        g.extend(glyphs("03.11.2026", 200.0, 100.2, 10.0));
        g.extend(glyphs("Total", 50.0, 300.0, 10.0));
        // Drawn out of order: the value first, then its label, a line higher.
        g.extend(glyphs("1.190,00", 400.0, 300.0, 10.0));
        g.splice(0..0, glyphs("Muster GmbH", 50.0, 40.0, 18.0));
        let lines = lines_of(words_of(&g));
        let texts: Vec<Vec<&str>> = lines
            .iter()
            .map(|l| l.phrases.iter().map(|p| p.text.as_str()).collect())
            .collect();
        assert_eq!(
            texts,
            [
                vec!["Muster GmbH"],
                vec!["Invoice Date:", "03.11.2026"],
                vec!["Total", "1.190,00"]
            ]
        );
        assert_eq!(lines[0].phrases[0].size, 18.0);
        assert!(lines[1].phrases[1].x0 >= 200.0);
    }

    /// A hostile PDF with millions of glyphs keeps memory bounded: the collector stops at
    /// MAX_GLYPHS (the PDF's size cap and the rendering timeout bound the rest).
    #[test]
    fn the_glyph_collector_is_bounded() {
        let mut c = LayoutCollector::default();
        let media = MediaBox {
            llx: 0.0,
            lly: 0.0,
            urx: 595.0,
            ury: 842.0,
        };
        c.begin_page(1, &media, None).unwrap();
        let trm = Transform::identity();
        for _ in 0..(MAX_GLYPHS + 5_000) {
            c.output_character(&trm, 0.5, 0.0, 10.0, "x").unwrap();
        }
        assert_eq!(c.kept, MAX_GLYPHS);
        let layout = c.finish();
        let words: usize = layout.pages[0].lines.iter().map(|l| l.phrases.len()).sum();
        assert!(words >= 1);
    }
}
