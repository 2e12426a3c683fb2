//! The extractor on small hand-made layouts: each test pins one way of finding a value or one
//! cross-check. The corpus-level figures are in tests/eval.rs.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;

use super::*;
use crate::model::{Attachment, LayoutLine, LayoutPage, Message, Phrase, TextLayout};

/// A one-page A4 layout: (y, [(x, text)]) with 10-point type, 5 points per character.
fn page(lines: &[(f32, &[(f32, &str)])]) -> TextLayout {
    TextLayout {
        pages: vec![LayoutPage {
            number: 1,
            width: 595.0,
            height: 842.0,
            lines: lines
                .iter()
                .map(|(y, phrases)| LayoutLine {
                    y: *y,
                    phrases: phrases
                        .iter()
                        .map(|(x, t)| Phrase {
                            text: t.to_string(),
                            x0: *x,
                            x1: x + 5.0 * t.chars().count() as f32,
                            y: *y,
                            size: 10.0,
                        })
                        .collect(),
                })
                .collect(),
        }],
    }
}

fn message(layout: TextLayout, from_name: &str) -> Message {
    Message {
        subject: "Rechnung".into(),
        from: Some(crate::model::Address {
            name: Some(from_name.into()),
            email: Some("billing@platform.example".into()),
        }),
        attachments: vec![Attachment {
            name: Some("invoice.pdf".into()),
            content_type: "application/pdf".into(),
            layout: Some(Arc::new(layout)),
            ..Attachment::default()
        }],
        ..Message::default()
    }
}

fn fields(msg: &Message) -> BTreeMap<&'static str, String> {
    let settings = Settings {
        own_names: Some(Regex::new(r"(?i)\bOurcompany\b").unwrap()),
    };
    extract(msg, &settings)
        .into_iter()
        .map(|(k, f)| (k, f.value.canonical()))
        .collect()
}

fn provenance(msg: &Message, field: &str) -> String {
    extract(msg, &Settings::default())
        .into_iter()
        .find(|(k, _)| *k == field)
        .map(|(_, f)| f.provenance.source)
        .unwrap_or_default()
}

#[test]
fn labels_above_their_values_are_read_down_the_column() {
    let msg = message(
        page(&[
            (60.0, &[(40.0, "Muster Maschinenbau GmbH")]),
            (
                290.0,
                &[
                    (48.0, "Rechnung Nr.:"),
                    (177.0, "Rechnungsdatum:"),
                    (306.0, "Fälligkeitsdatum:"),
                    (434.0, "Ihre Bestellung:"),
                ],
            ),
            (
                310.0,
                &[
                    (48.0, "RE-2026-9356"),
                    (177.0, "8. September 2026"),
                    (306.0, "22. September 2026"),
                    (434.0, "4500012351"),
                ],
            ),
            (480.0, &[(345.0, "Gesamtbetrag"), (500.0, "3.589,04 €")]),
        ]),
        "Billing",
    );
    let f = fields(&msg);
    assert_eq!(f["invoice_number"], "RE-2026-9356");
    assert_eq!(f["invoice_date"], "2026-09-08");
    assert_eq!(f["due_date"], "2026-09-22");
    assert_eq!(f["po_number"], "4500012351");
    assert_eq!(f["amount_total"], "3589.04");
    assert_eq!(f["currency"], "EUR");
    assert_eq!(
        provenance(&msg, "invoice_date"),
        "layout: below \"Rechnungsdatum:\" on page 1 of invoice.pdf"
    );
    assert_eq!(
        provenance(&msg, "amount_total"),
        "layout: right of \"Gesamtbetrag\" on page 1 of invoice.pdf"
    );
}

#[test]
fn net_plus_tax_equal_to_total_outranks_a_higher_single_score() {
    // A "Total" column header over a line amount, then the real totals at the bottom:
    // Subtotal + VAT = Grand total only for the bottom figures.
    let msg = message(
        page(&[
            (340.0, &[(48.0, "Description"), (520.0, "Total")]),
            (355.0, &[(48.0, "Consulting"), (520.0, "1,000.00")]),
            (370.0, &[(48.0, "Travel"), (520.0, "250.00")]),
            (400.0, &[(345.0, "Subtotal"), (520.0, "1,250.00")]),
            (414.0, &[(345.0, "VAT 20%"), (520.0, "250.00")]),
            (428.0, &[(345.0, "Total"), (520.0, "1,500.00")]),
        ]),
        "Billing",
    );
    let f = fields(&msg);
    assert_eq!(f["amount_total"], "1500.00");
    assert_eq!(f["amount_net"], "1250.00");
    assert_eq!(f["amount_tax"], "250.00");
    assert!(!f.contains_key("amount_due"));
}

#[test]
fn discounts_carried_sums_and_dates_are_not_totals() {
    let msg = message(
        page(&[
            (300.0, &[(345.0, "Übertrag"), (500.0, "9.999,00")]),
            (400.0, &[(345.0, "Nettobetrag"), (500.0, "1.000,00")]),
            (414.0, &[(345.0, "MwSt. 19 %"), (500.0, "190,00")]),
            (428.0, &[(345.0, "Rechnungsbetrag"), (500.0, "1.190,00 €")]),
            (
                450.0,
                &[(48.0, "2 % Skonto bei Zahlung bis 30.03.2026: 1.166,20 €")],
            ),
            (464.0, &[(48.0, "Te betalen vóór"), (500.0, "04-02-2026")]),
        ]),
        "Billing",
    );
    let f = fields(&msg);
    assert_eq!(f["amount_total"], "1190.00");
    assert_eq!(f["amount_net"], "1000.00");
    assert_eq!(f["amount_tax"], "190.00");
    assert!(!f.contains_key("amount_due"), "{f:?}");
}

#[test]
fn a_due_date_before_the_invoice_date_is_dropped_and_terms_stand_in() {
    let msg = message(
        page(&[
            (100.0, &[(360.0, "Invoice Date:"), (455.0, "2026-03-20")]),
            (112.0, &[(360.0, "Due Date:"), (455.0, "2026-03-01")]),
            (124.0, &[(360.0, "Terms:"), (455.0, "Net 30")]),
        ]),
        "Billing",
    );
    let mut msg = msg;
    msg.body_text = "Payment terms: net 30 days.".into();
    let f = fields(&msg);
    assert_eq!(f["invoice_date"], "2026-03-20");
    assert!(!f.contains_key("due_date"), "{f:?}");
    assert_eq!(f["payment_terms"], "30");
}

#[test]
fn the_buyers_block_and_identifiers_are_never_the_vendors() {
    let msg = message(
        page(&[
            (58.0, &[(297.0, "Bergmann Präzisionstechnik AG")]),
            (
                160.0,
                &[(57.0, "Ourcompany Schweiz AG"), (360.0, "Re.-Nr.: 004475")],
            ),
            (
                172.0,
                &[
                    (57.0, "Bahnhofstrasse 21"),
                    (360.0, "Rechnungsdatum: 16. Oktober 2026"),
                ],
            ),
            (184.0, &[(57.0, "8001 Zürich")]),
            (197.0, &[(57.0, "UID CHE-154.465.027")]),
            (210.0, &[(360.0, "Ihre USt-IdNr.: DE768710826")]),
            (
                770.0,
                &[
                    (57.0, "Bergmann Präzisionstechnik AG"),
                    (418.0, "UID CHE-293.201.308 MWST"),
                ],
            ),
            (779.0, &[(57.0, "IBAN CH93 0076 2011 6238 5295 7")]),
        ]),
        "Accounts Receivable",
    );
    let mut msg = msg;
    msg.attachments[0].layout = msg.attachments[0].layout.clone();
    let f = fields(&msg);
    assert_eq!(f["vendor"], "Bergmann Präzisionstechnik AG");
    assert_eq!(f["vendor_vat_id"], "CHE293201308");
    assert_eq!(f["invoice_number"], "004475");
    assert_eq!(f["invoice_date"], "2026-10-16");
    assert_eq!(f["iban"], "CH9300762011623852957");
}

#[test]
fn a_body_invoice_is_read_from_its_cells_and_a_generic_sender_never_names_the_vendor() {
    let mut msg = message(page(&[]), "Billing");
    msg.attachments.clear();
    msg.body_text = "Thanks for using Cloudmetrics\nInvoice number\tCM-2026-03-0097\nInvoice date\tMar 20, 2026\nSubtotal\tUSD 3.80\nSales tax (8.25%)\tUSD 0.31\nAmount due\tUSD 4.11\nCloudmetrics Inc., 500 Congress Ave, Austin, TX 78701.".into();
    let f = fields(&msg);
    assert_eq!(f["invoice_number"], "CM-2026-03-0097");
    assert_eq!(f["invoice_date"], "2026-03-20");
    assert_eq!(f["amount_total"], "4.11");
    assert_eq!(f["currency"], "USD");
    assert_eq!(f["vendor"], "Cloudmetrics Inc.");
    let mut plain = message(page(&[]), "noreply");
    plain.attachments.clear();
    plain.body_text = "Total: 10.00 EUR".into();
    assert!(!fields(&plain).contains_key("vendor"));
}

/// The attachment's plain text from its layout (as the PDF reader gives both).
fn with_text(mut msg: Message) -> Message {
    for a in &mut msg.attachments {
        let text = a.layout.as_ref().map(|l| {
            l.pages
                .iter()
                .flat_map(|p| &p.lines)
                .map(|line| {
                    line.phrases
                        .iter()
                        .map(|p| p.text.as_str())
                        .collect::<Vec<_>>()
                        .join("  ")
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
        a.text = text;
    }
    msg
}

fn confidences(msg: &Message) -> BTreeMap<&'static str, (u8, Option<String>)> {
    extract(msg, &Settings::default())
        .into_iter()
        .map(|(k, f)| (k, (f.confidence, f.doubt)))
        .collect()
}

#[test]
fn a_close_runner_up_makes_a_value_doubtful_and_a_lone_weak_label_does_not() {
    // Two invoice numbers under equally good labels: whichever is taken, the other is named.
    let contested = message(
        page(&[
            (100.0, &[(360.0, "Invoice No.:"), (455.0, "INV-1001")]),
            (112.0, &[(360.0, "Invoice No.:"), (455.0, "INV-1002")]),
        ]),
        "Billing",
    );
    let c = confidences(&contested);
    let (conf, doubt) = &c["invoice_number"];
    assert!(*conf < 70, "{c:?}");
    assert!(
        doubt.as_deref().unwrap().contains("also found INV-100"),
        "{c:?}"
    );

    // A bare "Date" is a weak label, but with nothing else to choose it is what a reader takes.
    let alone = message(
        page(&[(100.0, &[(360.0, "Date"), (455.0, "2026-03-20")])]),
        "Billing",
    );
    let (conf, doubt) = &confidences(&alone)["invoice_date"];
    assert!(*conf >= 70 && doubt.is_none(), "{conf} {doubt:?}");
}

#[test]
fn day_and_month_are_doubted_only_when_nothing_settles_their_order() {
    // Dollars suggest month first, but Canada writes day first: 03/04/2026 is doubtful alone…
    let mut alone = message(
        page(&[
            (100.0, &[(360.0, "Invoice Date:"), (455.0, "03/04/2026")]),
            (400.0, &[(345.0, "Total"), (500.0, "$120.00")]),
        ]),
        "Billing",
    );
    alone.subject = "Invoice".into();
    let alone = with_text(alone);
    let c = confidences(&alone);
    let (conf, doubt) = &c["invoice_date"];
    assert!(*conf < 70, "{c:?}");
    assert!(
        doubt
            .as_deref()
            .unwrap()
            .contains("3 April 2026 or 4 March 2026")
            || doubt
                .as_deref()
                .unwrap()
                .contains("4 March 2026 or 3 April 2026"),
        "{doubt:?}"
    );
    // …and settled by a due date that only one reading makes possible (04/02 after 03/04
    // is 2 April after 4 March; read day first it would be 4 February, before 3 April).
    let mut paired = message(
        page(&[
            (100.0, &[(360.0, "Invoice Date:"), (455.0, "03/04/2026")]),
            (112.0, &[(360.0, "Due Date:"), (455.0, "04/02/2026")]),
            (400.0, &[(345.0, "Total"), (500.0, "$120.00")]),
        ]),
        "Billing",
    );
    paired.subject = "Invoice".into();
    let paired = with_text(paired);
    let c = confidences(&paired);
    assert!(
        c["invoice_date"].0 >= 70 && c["invoice_date"].1.is_none(),
        "{c:?}"
    );
    assert_eq!(fields(&paired)["invoice_date"], "2026-03-04");
    assert_eq!(fields(&paired)["due_date"], "2026-04-02");
    // A euro invoice writes day first: no doubt.
    let mut euro = message(
        page(&[
            (100.0, &[(360.0, "Invoice Date:"), (455.0, "03/04/2026")]),
            (400.0, &[(345.0, "Total"), (500.0, "120,00 €")]),
        ]),
        "Billing",
    );
    euro.subject = "Invoice".into();
    let euro = with_text(euro);
    assert!(confidences(&euro)["invoice_date"].1.is_none());
    assert_eq!(fields(&euro)["invoice_date"], "2026-04-03");
}

#[test]
fn a_carried_balance_is_not_the_amount_due_and_a_greeting_is_not_a_vendor() {
    let msg = message(
        page(&[
            (224.0, &[(323.0, "Vorig saldo"), (520.0, "211,83")]),
            (256.0, &[(323.0, "Saldo overgebracht"), (525.0, "84,73")]),
            (
                288.0,
                &[(323.0, "Totaal te betalen"), (498.0, "EUR 277,30")],
            ),
            (443.0, &[(315.0, "Totaal excl. BTW"), (528.0, "159,15")]),
            (457.0, &[(315.0, "BTW 21%"), (528.0, "33,42")]),
            (
                471.0,
                &[(315.0, "Totaal deze factuur"), (501.0, "EUR 192,57")],
            ),
        ]),
        "Billing",
    );
    let f = fields(&msg);
    assert_eq!(f["amount_total"], "192.57");
    assert_eq!(f["amount_due"], "277.30", "{f:?}");

    let mut body = Message {
        subject: "Votre facture".into(),
        body_text: "Bonjour,\n\nVous trouverez en pièce jointe votre facture.\n".into(),
        ..Message::default()
    };
    body.from = Some(crate::model::Address {
        name: Some("Service Facturation".into()),
        email: Some("facturation@lumiere.example".into()),
    });
    assert!(!fields(&body).contains_key("vendor"), "{:?}", fields(&body));
}

#[test]
fn an_amount_to_pay_with_no_other_total_is_the_total() {
    let mut msg = message(page(&[]), "Drukkerij Jansen B.V.");
    msg.attachments.clear();
    msg.subject = "Factuur 26-0412".into();
    msg.body_text = "Factuurnummer: 26-0412\nTotaal te betalen: € 605,00\n".into();
    let f = fields(&msg);
    assert_eq!(f["amount_total"], "605.00", "{f:?}");
    assert!(!f.contains_key("amount_due"), "{f:?}");
}
