//! The label vocabulary of invoices in English, German, French, Dutch, Spanish and Italian, with
//! how strongly each label names its field. A label is matched at the start of a phrase
//! (lowercased); what follows it in the same phrase may be the value.

use std::sync::OnceLock;

use regex::Regex;

/// The fields found through labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    InvoiceNumber,
    InvoiceDate,
    DueDate,
    Total,
    Net,
    Tax,
    Due,
    Po,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::InvoiceNumber => "invoice_number",
            Field::InvoiceDate => "invoice_date",
            Field::DueDate => "due_date",
            Field::Total => "amount_total",
            Field::Net => "amount_net",
            Field::Tax => "amount_tax",
            Field::Due => "amount_due",
            Field::Po => "po_number",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Field::InvoiceNumber | Field::Po => Kind::Reference,
            Field::InvoiceDate | Field::DueDate => Kind::Date,
            Field::Total | Field::Net | Field::Tax | Field::Due => Kind::Amount,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Reference,
    Date,
    Amount,
}

/// One label: the field it names, how surely (0..1), and its pattern (matched on the
/// lowercased phrase, anchored at its start).
pub struct Label {
    pub field: Field,
    pub weight: f32,
    pub re: Regex,
}

/// (field, weight, pattern). Longer, more specific labels come first within a field; the best
/// weight among the labels that match a phrase wins.
const LABELS: &[(Field, f32, &str)] = &[
    // ---- invoice number
    (
        Field::InvoiceNumber,
        1.0,
        r"(?:invoice|inv\.?|bill|credit\s*(?:note|memo))\s*(?:no\.?|number|num\.?|nr\.?|#|n°|id)",
    ),
    (
        Field::InvoiceNumber,
        1.0,
        r"(?:rechnungs?|gutschrifts?)\s*-?\s*(?:nummer|nr\.?|no\.?)|re\.?\s*-?\s*nr\.?|beleg\s*-?\s*(?:nummer|nr\.?)",
    ),
    (
        Field::InvoiceNumber,
        1.0,
        r"(?:n°|nº|no\.?|numéro|numero)\s*(?:de\s*(?:la\s*)?)?(?:facture|l['’]avoir|d['’]avoir|avoir)|(?:facture|avoir)\s*(?:n°|nº|no\.?|numéro|#)",
    ),
    (
        Field::InvoiceNumber,
        1.0,
        r"factuur\s*-?\s*(?:nummer|nr\.?)|creditnota\s*-?\s*(?:nummer|nr\.?)|factuurnr\.?",
    ),
    (
        Field::InvoiceNumber,
        1.0,
        r"(?:n\.?[º°o]\.?|núm\.?|número|numero)\s*(?:de\s*)?factura|factura\s*(?:n\.?[º°o]\.?|núm\.?|número|nr)",
    ),
    (
        Field::InvoiceNumber,
        1.0,
        r"(?:numero|n\.|nr\.?)\s*(?:della\s*)?(?:fattura|nota\s*di\s*credito)|(?:fattura|nota\s*di\s*credito)\s*(?:n\.?|nr\.?|numero|n°)",
    ),
    (
        Field::InvoiceNumber,
        0.55,
        r"(?:invoice|rechnung|facture|factuur|factura|fattura)(?:\s|:|$)",
    ),
    (
        Field::InvoiceNumber,
        0.5,
        r"document\s*(?:no\.?|number)|dokument\s*-?\s*nr\.?",
    ),
    (
        Field::InvoiceNumber,
        0.45,
        r"(?:numero|número|nummer|number|no\.|nr\.|n°|nº)\s*:?\s*$",
    ),
    // ---- invoice date
    (
        Field::InvoiceDate,
        1.0,
        r"(?:invoice|credit\s*(?:note|memo)?|bill)\s*date|date\s*of\s*(?:invoice|issue)|issue\s*date|date\s*issued",
    ),
    (
        Field::InvoiceDate,
        1.0,
        r"(?:rechnungs|gutschrifts|beleg)\s*-?\s*datum",
    ),
    (
        Field::InvoiceDate,
        1.0,
        r"date\s*(?:de\s*(?:la\s*)?)?(?:facture|l['’]avoir|d['’]émission|d['’]emission)",
    ),
    (
        Field::InvoiceDate,
        1.0,
        r"factuur\s*-?\s*datum|datum\s*factuur",
    ),
    (
        Field::InvoiceDate,
        1.0,
        r"fecha\s*(?:de\s*)?(?:factura|emisi[óo]n|expedici[óo]n)",
    ),
    (
        Field::InvoiceDate,
        1.0,
        r"data\s*(?:della\s*)?(?:fattura|documento|emissione)",
    ),
    (
        Field::InvoiceDate,
        0.55,
        r"(?:date|datum|fecha|data|dated)(?:\s|:|$)",
    ),
    // ---- due date
    (
        Field::DueDate,
        1.0,
        r"(?:payment\s*)?due\s*date|date\s*due|payment\s*due|pay(?:able)?\s*by|due\s*(?:on|by)",
    ),
    (
        Field::DueDate,
        1.0,
        r"fälligkeits?\s*-?\s*datum|fällig\s*(?:am|bis|zum)?|zahlbar\s*(?:ohne\s*abzug\s*)?bis(?:\s*zum)?|zahlungsziel",
    ),
    (
        Field::DueDate,
        1.0,
        r"date\s*(?:d['’]|de\s*)?[ée]ch[ée]ance|[ée]ch[ée]ance|date\s*limite(?:\s*de\s*(?:paiement|r[èe]glement))?|[àa]\s*payer\s*avant\s*le",
    ),
    (
        Field::DueDate,
        1.0,
        r"verval\s*-?\s*datum|te\s*betalen\s*v[óo]{1,2}r|uiterste\s*betaal\s*-?\s*datum|betalen\s*v[óo]{1,2}r",
    ),
    (
        Field::DueDate,
        1.0,
        r"fecha\s*(?:de\s*)?vencimiento|vencimiento",
    ),
    (
        Field::DueDate,
        1.0,
        r"data\s*(?:di\s*)?scadenza|scadenza(?:\s*pagamento)?",
    ),
    (Field::DueDate, 0.6, r"due(?:\s|:|$)"),
    // ---- grand total (incl. tax)
    (
        Field::Total,
        1.0,
        r"grand\s*total|invoice\s*total|total\s*(?:amount\s*)?(?:incl\.?|including|inc\.?)\s*(?:vat|tax|gst|btw|mwst)?|total\s*(?:\(|-)?\s*(?:incl|inc)|total\s*amount|total\s*current\s*charges|credit\s*total|total\s*credit",
    ),
    (
        Field::Total,
        1.0,
        r"gesamt\s*-?\s*betrag(?:\s*brutto)?|rechnungs\s*-?\s*betrag|brutto\s*-?\s*betrag|endbetrag|gutschrifts\s*-?\s*betrag|summe\s*brutto|gesamtsumme|total\s*brutto",
    ),
    (
        Field::Total,
        1.0,
        r"total\s*ttc|montant\s*(?:total\s*)?ttc|total\s*facture|montant\s*total|total\s*de\s*l['’]avoir|total\s*g[ée]n[ée]ral",
    ),
    (
        Field::Total,
        1.0,
        r"totaal\s*(?:bedrag|incl\.?|inclusief)|totaalbedrag|totaal\s*factuur|factuurbedrag|totaal\s*creditnota",
    ),
    (
        Field::Total,
        1.0,
        r"importe\s*total|total\s*factura|total\s*(?:con\s*iva|iva\s*incluido)",
    ),
    (
        Field::Total,
        1.0,
        r"totale\s*(?:documento|fattura|complessivo|ivato|generale)|importo\s*totale",
    ),
    (
        Field::Total,
        0.75,
        r"(?:total|totale|totaal|summe|gesamt|importe)(?:\s*\((?:eur|usd|gbp|chf|€|\$|£)\))?(?:\s|:|$)",
    ),
    (
        Field::Total,
        0.6,
        r"(?:total|balance|amount)\s*(?:amount\s*)?(?:due|payable)|zu\s*zahlen(?:der\s*betrag)?|zahlbetrag|net\s*[àa]\s*payer|montant\s*[àa]\s*payer|te\s*betalen(?:\s*bedrag)?|total\s*a\s*pagar|totale\s*da\s*pagare|please\s*pay",
    ),
    // ---- amount due (differs from the total: deposit paid, balance brought forward)
    (
        Field::Due,
        1.0,
        r"(?:total\s*)?(?:amount|balance)\s*(?:now\s*)?(?:due|payable)|totaal\s*te\s*betalen|total\s*[àa]\s*payer|gesamt\s*zu\s*zahlen|totale\s*a\s*pagare|total\s*due|remaining\s*balance|balance\s*to\s*pay|(?:noch\s*)?zu\s*zahlen(?:der\s*betrag)?|rest\s*-?\s*betrag|offener\s*betrag|zahlbetrag|net\s*[àa]\s*payer|reste\s*[àa]\s*payer|montant\s*d[ûu]|solde\s*d[ûu]|te\s*betalen(?:\s*bedrag)?|openstaand\s*bedrag|total\s*a\s*pagar|importe\s*pendiente|totale\s*da\s*pagare|saldo\s*(?:da\s*pagare|dovuto)?",
    ),
    // ---- net (excl. tax)
    (
        Field::Net,
        1.0,
        r"(?:total\s*)?net(?:\s*amount|\s*total)?(?:\s|:|$)|sub\s*-?\s*total|total\s*(?:excl\.?|excluding|before)\s*(?:vat|tax|btw)?|amount\s*(?:excl\.?|before)\s*(?:vat|tax)",
    ),
    (
        Field::Net,
        1.0,
        r"netto\s*-?\s*(?:betrag|summe)?|summe\s*netto|zwischensumme|warenwert|gesamt\s*netto|total\s*netto",
    ),
    (
        Field::Net,
        1.0,
        r"total\s*h\.?\s*t\.?|montant\s*h\.?\s*t\.?|sous\s*-?\s*total|total\s*hors\s*taxes?",
    ),
    (
        Field::Net,
        1.0,
        r"subtotaal|totaal\s*(?:excl\.?|exclusief)(?:\s*btw)?|netto\s*bedrag",
    ),
    (Field::Net, 1.0, r"base\s*imponible|importe\s*neto|subtotal"),
    (
        Field::Net,
        1.0,
        r"(?:totale\s*)?imponibile|subtotale|totale\s*netto",
    ),
    (
        Field::Net,
        1.0,
        r"(?:total|totaal|totale|summe|betrag|bedrag|montant|importe|importo|amount)?\s*(?:excl\.?|exclusief|excluding|exclusive\s*of|hors|ohne|sin|senza)\s*(?:btw|vat|tax|taxes|mwst|ust|tva|iva)",
    ),
    // ---- VAT amount
    (
        Field::Tax,
        1.0,
        r"(?:total\s*)?(?:vat|tax|sales\s*tax|gst)(?:\s*amount)?(?:\s|:|$|\d)|vat\s*@|plus\s*(?:vat|tax)",
    ),
    (
        Field::Tax,
        1.0,
        r"(?:zzgl\.?\s*|plus\s*|\+\s*)?(?:mwst|ust|umsatzsteuer|mehrwertsteuer)\.?(?:\s|:|$|\d)|summe\s*(?:ust|mwst)",
    ),
    (
        Field::Tax,
        1.0,
        r"(?:montant\s*(?:de\s*la\s*)?)?t\.?v\.?a\.?(?:\s|:|$|\d)|total\s*tva",
    ),
    (
        Field::Tax,
        1.0,
        r"(?:totaal\s*)?btw(?:\s*bedrag)?(?:\s|:|$|\d)",
    ),
    (
        Field::Tax,
        1.0,
        r"(?:cuota\s*(?:de\s*)?)?i\.?v\.?a\.?(?:\s|:|$|\d)|(?:totale\s*)?imposta|importo\s*iva",
    ),
    (
        Field::Tax,
        1.0,
        r"(?:zzgl\.?|plus|\+|incl\.?|inkl\.?|enthaltene)?\s*\d{1,2}(?:[.,]\d{1,2})?\s*%\s*(?:mwst|ust|umsatzsteuer|vat|tax|tva|btw|iva|gst)\.?",
    ),
    // ---- the buyer's purchase order
    (
        Field::Po,
        1.0,
        r"(?:p\.?\s*o\.?|purchase\s*order)\s*(?:number|no\.?|nr\.?|#|ref(?:erence)?)?|your\s*(?:order|po)(?:\s*(?:number|no\.?|ref(?:erence)?))?|customer\s*(?:po|order\s*(?:no\.?|number))|order\s*(?:number|no\.?)",
    ),
    (
        Field::Po,
        1.0,
        r"ihre\s*bestell(?:ung|nummer|-?nr\.?)(?:\s*(?:nr\.?|nummer))?|bestell\s*-?\s*(?:nummer|nr\.?)|ihr\s*auftrag|ihre\s*zeichen",
    ),
    (
        Field::Po,
        1.0,
        r"(?:votre\s*)?bon\s*de\s*commande(?:\s*n°)?|(?:n°|numéro)\s*(?:de\s*)?commande|votre\s*commande|commande\s*(?:client\s*)?n°|r[ée]f(?:[ée]rence)?\.?\s*(?:de\s*)?(?:la\s*)?commande",
    ),
    (
        Field::Po,
        1.0,
        r"inkoop\s*-?\s*order(?:\s*-?\s*(?:nummer|nr\.?))?|uw\s*(?:bestelling|order(?:nummer)?|referentie)|bestel\s*-?\s*(?:nummer|nr\.?)",
    ),
    (
        Field::Po,
        1.0,
        r"(?:n\.?[º°o]\.?\s*(?:de\s*)?)?pedido(?:\s*(?:n\.?[º°o]\.?|cliente))?|su\s*pedido|orden\s*de\s*compra",
    ),
    (
        Field::Po,
        1.0,
        r"(?:vs\.?|vostro)\s*ordine(?:\s*n\.?)?|rif\.?\s*ordine|ordine\s*(?:cliente\s*)?n\.?|n\.\s*ordine",
    ),
];

/// Labels that look like a total or a reference but are not one: a phrase starting with one of
/// these is never a label of the fields above (a line total, a carried-forward sum, a discount,
/// what was already paid, the vendor's own order or delivery numbers).
const NOT_LABELS: &str = r"^(?:total\s*(?:qty|quantity|items|pieces|hours|weight)|(?:line|item)\s*total|carried\s*forward|brought\s*forward|[üu]bertrag|a\s*reporter|à\s*reporter|report|previous\s*balance|balance\s*forward|opening\s*balance|payments?\s*received|amount\s*paid|paid|deposit|less\s*deposit|anzahlung|abschlag|bereits\s*(?:bezahlt|gezahlt)|acompte|d[ée]j[àa]\s*pay[ée]|aanbetaling|reeds\s*betaald|anticipo|acconto|skonto|\d+\s*%\s*skonto|escompte|discount|rabatt|remise|korting|descuento|sconto|our\s*(?:order|ref)|order\s*confirmation|auftrags?\s*-?\s*(?:nummer|nr|best[äa]tigung)|lieferschein|delivery\s*(?:note|date)|liefer\s*-?\s*datum|leistungs\s*-?\s*datum|date\s*de\s*livraison|bon\s*de\s*livraison|leverdatum|pakbon|albar[áa]n|ddt|customer\s*(?:no|number|id|vat)|net\s*\d{1,3}\s*(?:days?|tage|jours|dagen|d[ií]as|giorni)?$|tax\s*invoice|(?:vat|tax|tva|btw|iva|ust|mwst)\s*-?\s*(?:id|no|nr|number|reg|registration|identification|nummer|idnr|num|n°|nº)|ust\s*-?\s*id|st\.?\s*-?\s*nr|steuer\s*-?\s*nr|n°\s*tva|tva\s*intra|btw\s*-?\s*(?:nr|nummer|id)|p\.?\s*iva|partita\s*iva|nif|cif|uid|kunden\s*-?\s*(?:nummer|nr)|n°\s*client|klant\s*-?\s*(?:nummer|nr)|cliente\s*n|codice\s*cliente|account\s*(?:no|number)|page|seite|pagina|blad)";

fn label_pattern(pattern: &str) -> String {
    format!(r"^(?:{pattern})\s*(?:\((?:[a-z]{{3}}|[€$£])\))?\s*[:#.=]*\s*")
}

pub fn labels() -> &'static [Label] {
    static LABELS_COMPILED: OnceLock<Vec<Label>> = OnceLock::new();
    LABELS_COMPILED.get_or_init(|| {
        LABELS
            .iter()
            .map(|(field, weight, pattern)| Label {
                field: *field,
                weight: *weight,
                re: Regex::new(&label_pattern(pattern)).expect("label patterns compile"),
            })
            .collect()
    })
}

/// Every label pattern in one set: one pass over a phrase says which (if any) to run.
fn label_set() -> &'static regex::RegexSet {
    static SET: OnceLock<regex::RegexSet> = OnceLock::new();
    SET.get_or_init(|| {
        regex::RegexSet::new(LABELS.iter().map(|(_, _, p)| label_pattern(p)))
            .expect("label patterns compile")
    })
}

/// Words that make any phrase a non-label wherever they stand: "Subtotal carried forward",
/// "Zwischensumme Übertrag", "Total après escompte".
const NEVER_LABELS: &str = r"carried\s*forward|brought\s*forward|[üu]bertrag|[àa]\s*reporter|previous\s*balance|balance\s*forward|overgebracht|vorig\s*saldo|saldo\s*vorige|solde\s*(?:pr[ée]c[ée]dent|report[ée]|ant[ée]rieur)|saldo\s*(?:anterior|precedente)|saldo\s*-?\s*vortrag|vorheriger\s*saldo|skonto|escompte|korting\s*bij|descuento\s*por\s*pronto|sconto\s*per";

fn not_labels() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!("{NOT_LABELS}|{NEVER_LABELS}")).expect("the negative labels compile")
    })
}

/// A label found at the start of a phrase.
#[derive(Debug, Clone)]
pub struct LabelMatch {
    pub field: Field,
    pub weight: f32,
    /// The label as printed.
    pub label: String,
    /// What follows the label in the same phrase (possibly the value).
    pub rest: String,
}

/// Lowercased, whitespace folded (NBSP and narrow NBSP too), for matching labels.
pub fn fold(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Every field whose label starts this phrase, with the best weight per field.
pub fn match_labels(phrase: &str) -> Vec<LabelMatch> {
    let folded = fold(phrase);
    if folded.is_empty() || not_labels().is_match(&folded) {
        return Vec::new();
    }
    let hits = label_set().matches(&folded);
    if !hits.matched_any() {
        return Vec::new();
    }
    let original: Vec<char> = fold_keep_case(phrase).chars().collect();
    let mut out: Vec<LabelMatch> = Vec::new();
    let mut ends: Vec<(Field, usize)> = Vec::new();
    for l in hits.iter().map(|i| &labels()[i]) {
        let Some(m) = l.re.find(&folded) else {
            continue;
        };
        // A label glued to a value is a value: "PO-7784", "INV-4411", "Re-2026".
        let glued = folded[..m.end()]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric())
            && folded[m.end()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '/' | '_'));
        if glued {
            continue;
        }
        // Byte offsets in the lowercased text map to chars in the original (lowercasing keeps
        // the char count for the scripts invoices use).
        let chars = folded[..m.end()].chars().count();
        ends.push((l.field, chars));
        let label: String = original[..chars.min(original.len())].iter().collect();
        let rest: String = original[chars.min(original.len())..].iter().collect();
        match out.iter_mut().find(|o| o.field == l.field) {
            Some(o) if o.weight >= l.weight => {}
            Some(o) => {
                o.weight = l.weight;
                o.label = label.trim().to_string();
                o.rest = rest.trim().to_string();
            }
            None => out.push(LabelMatch {
                field: l.field,
                weight: l.weight,
                label: label.trim().to_string(),
                rest: rest.trim().to_string(),
            }),
        }
    }
    // The longest label wins: "Date d'échéance" is a due date, not a date followed by words.
    let longest = ends.iter().map(|(_, e)| *e).max().unwrap_or(0);
    out.retain(|m| ends.iter().any(|(f, e)| *f == m.field && *e == longest));
    out
}

/// Whitespace folded like [`fold`], case kept.
pub fn fold_keep_case(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Is this phrase (also) a label of some field? Values are never taken from labels.
pub fn is_label(phrase: &str) -> bool {
    !match_labels(phrase).is_empty() || is_non_label(phrase)
}

/// Does this phrase look like a label that names nothing we read (a line total, a customer
/// number, a carried-forward sum)?
pub fn is_non_label(phrase: &str) -> bool {
    not_labels().is_match(&fold(phrase))
}

/// Labels that introduce the buyer's block (the invoice is addressed to us; names and VAT IDs
/// there are not the vendor's).
pub fn is_buyer_label(phrase: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:bill(?:ed)?\s*to|invoice\s*to|invoiced\s*to|sold\s*to|ship\s*to|deliver\s*to|customer|client|buyer|recipient|rechnungs\s*-?\s*(?:empf[äa]nger|adresse|anschrift)|lieferanschrift|kunde|empf[äa]nger|factur[ée]\s*[àa]|adresse\s*de\s*facturation|destinataire|acheteur|factuur\s*aan|klant|afnemer|geadresseerde|facturar\s*a|cliente|destinatario|spett(?:\.|abile)|intestatario)\s*:?$")
            .expect("buyer labels compile")
    })
    .is_match(&fold(phrase))
}

/// Does a line speak of the buyer's identifiers ("Ihre USt-IdNr.", "Customer VAT", "Votre
/// n° TVA", "Uw btw-nummer")? An identifier printed there is ours, not the vendor's.
pub fn names_the_buyer(line: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\b(?:customer|client|buyer|kunde|kunden|klant|cliente|ihre|your|votre|uw|su|vostr[ao]|vs\.)\b")
            .expect("buyer words compile")
    })
    .is_match(line)
}

/// Labels that introduce the seller's own block ("From", "Supplier").
pub fn is_seller_label(phrase: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:from|seller|supplier|vendor|issued\s*by|von|absender|lieferant|verk[äa]ufer|de|émetteur|emetteur|fournisseur|vendeur|van|leverancier|verkoper|proveedor|emisor|fornitore|emittente|mittente)\s*:?\s*$")
            .expect("seller labels compile")
    })
    .is_match(&fold(phrase))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(phrase: &str) -> Vec<(Field, String)> {
        let mut m: Vec<(Field, String)> = match_labels(phrase)
            .into_iter()
            .map(|m| (m.field, m.rest))
            .collect();
        m.sort();
        m
    }

    #[test]
    fn labels_in_six_languages_name_their_fields_and_keep_what_follows() {
        assert_eq!(
            fields("Rechnung Nr.:"),
            [(Field::InvoiceNumber, String::new())]
        );
        assert_eq!(
            fields("Invoice No. INV-4411"),
            [(Field::InvoiceNumber, "INV-4411".into())]
        );
        assert_eq!(
            fields("Fälligkeitsdatum:"),
            [(Field::DueDate, String::new())]
        );
        assert_eq!(
            fields("Date d'échéance : 03/12/2026"),
            [(Field::DueDate, "03/12/2026".into())]
        );
        assert_eq!(fields("Vervaldatum"), [(Field::DueDate, String::new())]);
        assert_eq!(
            fields("Fecha de vencimiento"),
            [(Field::DueDate, String::new())]
        );
        assert_eq!(fields("Data scadenza"), [(Field::DueDate, String::new())]);
        assert_eq!(fields("Total TTC"), [(Field::Total, String::new())]);
        assert_eq!(fields("Totale documento"), [(Field::Total, String::new())]);
        assert_eq!(fields("Base imponible"), [(Field::Net, String::new())]);
        assert_eq!(fields("BTW 21%"), [(Field::Tax, "21%".into())]);
        assert_eq!(
            fields("Ihre Bestellung: 4500012351"),
            [(Field::Po, "4500012351".into())]
        );
        assert_eq!(fields("Vs. ordine n. 7781"), [(Field::Po, "7781".into())]);
    }

    #[test]
    fn look_alike_labels_are_not_labels() {
        for phrase in [
            "Subtotal carried forward",
            "Übertrag",
            "2 % Skonto bei Zahlung bis 12.11.2026",
            "Previous balance",
            "Amount paid",
            "Kundennummer",
            "Lieferschein-Nr.",
            "Auftragsnummer",
            "Seite 1 von 2",
            "Delivery date",
        ] {
            assert!(
                match_labels(phrase).is_empty(),
                "{phrase}: {:?}",
                fields(phrase)
            );
        }
        assert!(is_label("Kundennummer"));
        assert!(!is_label("RE-2026-9356"));
        assert!(is_buyer_label("Bill to:") && is_buyer_label("Rechnungsempfänger"));
        assert!(is_seller_label("From") && !is_seller_label("From our warehouse"));
    }
}
