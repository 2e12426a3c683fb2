//! Who sent the invoice, from the document itself: the letterhead (the largest type at the top
//! of the first page), a phrase with a company's legal form (GmbH, Ltd, SAS, B.V. …) — more so
//! when it is printed again beside the VAT ID or bank details in the footer — or the block under
//! a "From"/"Supplier" label. Never the buyer (our own names, the block under "Bill to"), never
//! a document title or a label, and never a generic sender name ("Billing", "noreply").

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

use super::labels::{fold, is_label, is_seller_label};
use super::{Doc, Zones};

fn legal_form() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(?:^|[\s,])(?:gmbh(?:\s*&\s*co\.?\s*kg)?|ag|kg|ohg|gbr|ug|e\.\s?k\.|se|ltd\.?|limited|llc|llp|plc|inc\.?|corp\.?|corporation|co\.|company|sas|sarl|s\.a\.r\.l\.|sa|s\.a\.|sasu|eurl|snc|b\.v\.|bv|n\.v\.|nv|v\.o\.f\.|vof|cv|s\.l\.|sl|s\.l\.u\.|s\.a\.u\.|s\.r\.l\.|srl|s\.p\.a\.|spa|s\.n\.c\.|s\.a\.s\.|oy|ab|a/s|aps|as|sp\.\s?z\s?o\.o\.)\.?$")
            .expect("legal forms compile")
    })
}

/// A legal form anywhere in a phrase (a cheap first look before cutting the name out).
fn legal_form_anywhere() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\b(?:gmbh|ag|kg|ohg|gbr|ug|e\.\s?k|se|ltd|limited|llc|llp|plc|inc|corp|corporation|co|company|sas|sarl|s\.a\.r\.l|sa|s\.a|sasu|eurl|snc|b\.v|bv|n\.v|nv|v\.o\.f|vof|cv|s\.l|sl|s\.l\.u|s\.a\.u|s\.r\.l|srl|s\.p\.a|spa|s\.n\.c|s\.a\.s|oy|ab|a/s|aps|as|sp\.\s?z\s?o\.o)\b")
            .expect("legal forms compile")
    })
}

/// Titles and words a letterhead-sized phrase may be that are not a name.
/// A document title or, at the top of a mail body, a greeting ("Bonjour," is nobody's name).
fn title_like() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)^(?:(?:tax\s*|proforma\s*|pro\s*forma\s*)?invoice|rechnung|gutschrift|facture|avoir|factuur|creditnota|factura|fattura|nota\s*di\s*credito|credit\s*(?:note|memo)|receipt|quittung|statement|page|seite|original|copy|kopie|duplicata|bill|hello|hi|dear|good\s*(?:morning|afternoon|day)|greetings|hallo|guten\s*(?:tag|morgen)|sehr\s*geehrte|liebe|moin|bonjour|bonsoir|madame|monsieur|ch[èe]re?s?|beste|geachte|hoi|goedemorgen|goedendag|hola|estimad[oa]s?|buenos\s*d[íi]as|buongiorno|gentile|egregi|salve|ciao)\b")
            .expect("titles compile")
    })
}

/// Sender display names that name a function or a platform, not a vendor. A name with a legal
/// form ("Hansen IT-Service GmbH") is a company whatever words it uses.
pub fn generic_sender_name(name: &str) -> bool {
    if legal_form().is_match(name.trim()) {
        return false;
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\b(?:billing|invoices?|invoicing|accounts?|accounting|receivables?|payables?|no-?reply|do-?not-?reply|notifications?|notify|mailer|system|portal|platform|team|support|service|info|office|finance|buchhaltung|rechnungs?(?:wesen|stellung|versand|portal)?|debitoren|kreditoren|comptabilit[ée]|facturation|factures|administratie|boekhouding|facturatie|facturen|contabilidad|facturaci[óo]n|amministrazione|contabilit[àa]|fatturazione)\b")
            .expect("generic names compile")
    })
    .is_match(name)
}

fn looks_like_name(text: &str) -> bool {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let digits = text.chars().filter(|c| c.is_ascii_digit()).count();
    letters >= 3
        && digits * 3 <= letters
        && !text.contains('@')
        && !text.to_ascii_lowercase().contains("www.")
        && !text.contains("://")
        && text.chars().count() <= 80
}

/// Words that lead into a name in a signature or a greeting, not part of it.
fn lead_in() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)^(?:(?:ihr|euer|dein)\s+team\s+(?:der|von|vom|bei)|(?:your\s+)?(?:friends|team|people)\s+(?:at|from)|thanks?\s+(?:you\s+)?for\s+(?:using|choosing)|greetings\s+from|l['’]équipe(?:\s+de)?|het\s+team\s+van|il\s+team\s+di|el\s+equipo\s+de|(?:mit\s+)?freundlichen\s+grüßen|kind\s+regards|best\s+regards|sincerely|cordialement|met\s+vriendelijke\s+groet(?:en)?)[\s,:]+")
            .expect("lead-ins compile")
    })
}

/// The part of a phrase that is the name: footers print "Muster GmbH · Industriestr. 14 ·
/// Stuttgart" as one run, addresses follow after commas ("Cloudmetrics Inc., 500 Congress
/// Ave"), signatures lead in ("Ihr Team der Hoffmann GmbH", "Office Manager, Pinecrest LLC").
/// A legal form after a comma stays with its name ("Gráficas Levante, S.L.").
fn name_part(text: &str) -> String {
    let mut segments: Vec<String> = Vec::new();
    for part in text
        .split(['·', '|', '•', '—', '–'])
        .flat_map(|p| p.split(" - "))
    {
        for piece in part.split(", ") {
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            let only_form = legal_form().is_match(piece)
                && piece.split_whitespace().count() <= 2
                && piece.chars().filter(|c| c.is_alphabetic()).count() <= 6;
            match segments.last_mut() {
                Some(prev) if only_form && !legal_form().is_match(prev) => {
                    prev.push_str(", ");
                    prev.push_str(piece);
                }
                _ => segments.push(piece.to_string()),
            }
        }
    }
    let chosen = segments
        .iter()
        .find(|p| legal_form().is_match(p))
        .or(segments.first())
        .cloned()
        .unwrap_or_else(|| text.to_string());
    let chosen = chosen.trim_end_matches([',', ';', ':']).trim();
    lead_in().replace(chosen, "").trim().to_string()
}

/// One spelling of a name: printed in capitals in the letterhead and in mixed case in the
/// footer, it is one vendor; the mixed-case form is how the company writes itself.
fn better_spelling(a: &str, b: &str) -> bool {
    let caps = |s: &str| !s.chars().any(|c| c.is_lowercase());
    caps(a) && !caps(b)
}

/// The vendor's name, with a description of where it was found and how sure (a score around 1
/// for a letterhead or a company name printed twice). `sender` is the From display name: weak
/// on its own, it confirms (and spells) a name the document prints.
pub fn vendor(
    docs: &[Doc<'_>],
    zones: &[Zones],
    own: Option<&Regex>,
    sender: Option<&str>,
) -> Option<(String, String, f32)> {
    // lowercased name → (score, where, times seen, spelling)
    let mut seen: HashMap<String, (f32, String, usize, String)> = HashMap::new();
    let mut add = |name: &str, score: f32, how: String| {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let e = seen
            .entry(name.to_lowercase())
            .or_insert((0.0, how, 0, name.to_string()));
        // Printed several times (letterhead and footer): surer.
        e.0 = e.0.max(score) + if e.2 > 0 { 0.15 } else { 0.0 };
        e.2 += 1;
        if better_spelling(&e.3, name) {
            e.3 = name.to_string();
        }
    };
    if let Some(name) = sender.and_then(|s| from_sender(s, own)) {
        add(&name, 0.3, "the sender's name".into());
    }
    for (di, doc) in docs.iter().enumerate() {
        let layout = &doc.layout;
        for (pi, page) in layout.pages.iter().enumerate() {
            let sizes: Vec<f32> = page
                .lines
                .iter()
                .flat_map(|l| l.phrases.iter().map(|p| p.size))
                .collect();
            let median = median(&sizes);
            let mut seller_block: Option<(f32, f32, usize)> = None;
            for (li, line) in page.lines.iter().enumerate() {
                for (pj, p) in line.phrases.iter().enumerate() {
                    if zones[di].is_buyer(pi, li, pj) {
                        continue;
                    }
                    if is_seller_label(&p.text) {
                        seller_block = Some((p.x0, p.x1, li));
                        continue;
                    }
                    let top = page.height > 0.0 && p.y < 0.3 * page.height;
                    let big = median > 0.0 && p.size >= 1.3 * median;
                    let under_seller_label = seller_block.is_some_and(|(x0, x1, at)| {
                        li > at && li <= at + 2 && p.x0 < x1 && p.x1 > x0
                    });
                    let first_line = !doc.pdf && li == 0 && pj == 0;
                    // Most phrases are neither a letterhead, a seller block, a first line nor
                    // a company name: skip them before any work on their text.
                    let letterhead = pi == 0 && doc.pdf && top && big;
                    if !(letterhead
                        || under_seller_label
                        || first_line
                        || legal_form_anywhere().is_match(&p.text))
                    {
                        continue;
                    }
                    let name = name_part(&p.text);
                    let name = name.as_str();
                    if !looks_like_name(name)
                        || title_like().is_match(name)
                        || is_label(name)
                        || own.is_some_and(|o| o.is_match(name))
                    {
                        continue;
                    }
                    let legal = legal_form().is_match(name);
                    let where_ = format!("on page {} of {}", page.number, doc.name);
                    if pi == 0 && doc.pdf && top && big {
                        add(
                            name,
                            0.8 + 0.1 * (p.size / median).min(3.0) + if legal { 0.2 } else { 0.0 },
                            format!("letterhead {where_}"),
                        );
                    } else if under_seller_label {
                        add(name, 1.0, format!("below \"From\" {where_}"));
                    } else if legal {
                        // Company names in a body's first lines or a PDF's footer.
                        let footer = page.height > 0.0 && p.y > 0.8 * page.height;
                        let first_lines = !doc.pdf && li < 4;
                        let score = if footer || first_lines { 0.85 } else { 0.7 };
                        add(name, score, format!("company name {where_}"));
                    } else if !doc.pdf && li == 0 && pj == 0 && line.phrases.len() == 1 {
                        // A body whose first line is a name on its own: a letterhead row.
                        add(name, 0.6, format!("first line {where_}"));
                    }
                }
            }
        }
    }
    seen.into_values()
        .map(|(score, how, _, name)| (name, score, how))
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.len().cmp(&a.0.len())))
        .map(|(name, score, how)| (name, how, score))
}

fn median(v: &[f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f32::total_cmp);
    s[s.len() / 2]
}

/// The sender's display name, when it names a company rather than a function or a platform.
pub fn from_sender(display_name: &str, own: Option<&Regex>) -> Option<String> {
    let name = display_name.trim().trim_matches('"').trim();
    (looks_like_name(name)
        && !generic_sender_name(name)
        && !own.is_some_and(|o| o.is_match(name))
        && !fold(name).contains(" via "))
    .then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_forms_and_generic_names() {
        for name in [
            "Muster Maschinenbau GmbH",
            "Brandt & Söhne Elektrotechnik GmbH & Co. KG",
            "Papeterie Dubois SARL",
            "Van Dijk Installatietechniek B.V.",
            "Clyde Marine Engineering Ltd",
            "Ferramenta Rossi S.r.l.",
        ] {
            assert!(legal_form().is_match(name), "{name}");
        }
        assert!(!legal_form().is_match("Hafenstraße 12"));
        assert_eq!(
            name_part("Muster GmbH · Industriestraße 14 · 70565 Stuttgart"),
            "Muster GmbH"
        );
        assert_eq!(
            name_part("Cloudmetrics Inc., 500 Congress Ave, Austin, TX 78701. You are receiving"),
            "Cloudmetrics Inc."
        );
        assert_eq!(
            name_part("Gráficas Levante, S.L."),
            "Gráficas Levante, S.L."
        );
        assert_eq!(
            name_part("Ihr Team der Hoffmann IT-Service GmbH"),
            "Hoffmann IT-Service GmbH"
        );
        assert_eq!(
            name_part("Office Manager, Pinecrest Janitorial LLC"),
            "Pinecrest Janitorial LLC"
        );
        assert!(better_spelling("BRIGHTLINE CO.", "Brightline Co."));
        for generic in [
            "Billing",
            "Accounts Receivable",
            "noreply",
            "Buchhaltung",
            "InvoiceCloud Notifications",
        ] {
            assert_eq!(from_sender(generic, None), None, "{generic}");
        }
        assert_eq!(
            from_sender("Brightline Office Supply Co.", None).as_deref(),
            Some("Brightline Office Supply Co.")
        );
    }
}
