use super::*;
use chrono::NaiveDate;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

fn anchored(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).expect("pattern compiles")
}

static AMOUNT_ANCHORED: LazyLock<Regex> = LazyLock::new(|| anchored(AMOUNT_PATTERN));
static DATE_ANCHORED: LazyLock<Regex> = LazyLock::new(|| anchored(DATE_PATTERN));

/// (input, value as `Decimal::to_string`, currency)
const AMOUNTS: &[(&str, &str, Option<&str>)] = &[
    ("1.234,56 €", "1234.56", Some("EUR")),
    ("$1,234.56", "1234.56", Some("USD")),
    ("1 234,56 EUR", "1234.56", Some("EUR")),
    ("1\u{00A0}234,56 EUR", "1234.56", Some("EUR")),
    ("1\u{202F}234,56 EUR", "1234.56", Some("EUR")),
    ("1\u{2009}234,56 EUR", "1234.56", Some("EUR")),
    (
        "1\u{202F}234\u{202F}567,89\u{00A0}€",
        "1234567.89",
        Some("EUR"),
    ),
    ("CHF 1'234.50", "1234.50", Some("CHF")),
    ("CHF 1’234.50", "1234.50", Some("CHF")),
    ("Fr. 1'234.50", "1234.50", Some("CHF")),
    ("SFr. 50.–", "50", Some("CHF")),
    ("USD 4.11", "4.11", Some("USD")),
    ("US$ 4.11", "4.11", Some("USD")),
    ("usd 4.11", "4.11", Some("USD")),
    ("£2,978.40", "2978.40", Some("GBP")),
    ("€ 399,00", "399.00", Some("EUR")),
    ("399,00 €", "399.00", Some("EUR")),
    ("399,00€", "399.00", Some("EUR")),
    ("EUR 399.00", "399.00", Some("EUR")),
    ("399,00 Euro", "399.00", Some("EUR")),
    ("399,- €", "399", Some("EUR")),
    ("Rs. 319", "319", Some("INR")),
    ("Rs 319", "319", Some("INR")),
    ("₹319", "319", Some("INR")),
    ("₹1,23,456.00", "123456.00", Some("INR")),
    ("¥1,200", "1200", Some("JPY")),
    ("C$ 12.50", "12.50", Some("CAD")),
    ("1.234,50 kr.", "1234.50", None),
    ("1 234,50 SEK", "1234.50", Some("SEK")),
    ("12,50 zł", "12.50", Some("PLN")),
    ("-120,00 €", "-120.00", Some("EUR")),
    ("−120,00 €", "-120.00", Some("EUR")),
    ("€ -120,00", "-120.00", Some("EUR")),
    ("-€120.00", "-120.00", Some("EUR")),
    ("(120.00)", "-120.00", None),
    ("(€ 120,00)", "-120.00", Some("EUR")),
    ("(120.00 USD)", "-120.00", Some("USD")),
    ("1234", "1234", None),
    ("1,234", "1234", None),
    ("1.234", "1234", None),
    ("1,23", "1.23", None),
    ("12,5", "12.5", None),
    ("0,99", "0.99", None),
    ("0,123", "0.123", None),
    ("1234,567", "1234.567", None),
    ("1,2345", "1.2345", None),
    ("1.234.567,89", "1234567.89", None),
    ("1,234,567.89", "1234567.89", None),
    ("1'234'567.89", "1234567.89", None),
    ("1,234.5", "1234.5", None),
    ("0", "0", None),
    ("0.00", "0.00", None),
    ("  42,00 EUR \n", "42.00", Some("EUR")),
    ("1.234,56EUR", "1234.56", Some("EUR")),
    ("EUR1.234,56", "1234.56", Some("EUR")),
    ("1,234.56USD", "1234.56", Some("USD")),
    ("€1.234,56", "1234.56", Some("EUR")),
    ("(399,00€)", "-399.00", Some("EUR")),
];

#[test]
fn parse_amount_accepts_all_listed_formats() {
    for &(input, value, currency) in AMOUNTS {
        let got = parse_amount(input).unwrap_or_else(|| panic!("{input:?} should parse"));
        assert_eq!(got.value.to_string(), value, "value of {input:?}");
        assert_eq!(got.currency, currency, "currency of {input:?}");
    }
}

#[test]
fn parse_amount_keeps_written_scale() {
    for (input, scale) in [
        ("399,00", 2),
        ("399", 0),
        ("399,0", 1),
        ("0,990", 3),
        ("1.234,5600 €", 4),
    ] {
        let got = parse_amount(input).unwrap_or_else(|| panic!("{input:?} should parse"));
        assert_eq!(got.value.scale(), scale, "scale of {input:?}");
    }
    assert_eq!(
        parse_amount("399,00 €").map(|a| a.value.to_string()),
        Some("399.00".into())
    );
}

#[test]
fn parse_amount_negative_forms() {
    for input in [
        "-120,00 €",
        "€ -120,00",
        "-€120,00",
        "(120,00)",
        "(€120,00)",
        "EUR -120,00",
        "- 120,00",
    ] {
        let got = parse_amount(input).unwrap_or_else(|| panic!("{input:?} should parse"));
        assert!(got.value.is_sign_negative(), "{input:?} is negative");
        assert_eq!(
            got.value.abs().to_string(),
            "120.00",
            "magnitude of {input:?}"
        );
    }
    assert_eq!(
        parse_amount("-0,00").map(|a| a.value.to_string()),
        Some("0.00".into())
    );
}

#[test]
fn parse_amount_rejects_junk() {
    for input in [
        "",
        " ",
        "abc",
        "€",
        "EUR",
        "1.2.3,4,5",
        "12,34,56",
        "1..2",
        "1,,2",
        "12ab34",
        "1a",
        "a1",
        "1,234,56",
        "1.234.56",
        "1,234.567,89",
        "1 234.567,8",
        "€ 5 €",
        "EUR 5 USD",
        "(120.00",
        "120.00)",
        "--5",
        "5-",
        "1.234,56 EUR 19%",
        ".5",
        "5.",
        "1 2",
        "12 34",
        "1,23,45",
        "XYZ 12",
        "12 abc",
        "1e5",
        "0x10",
        "1_000",
        "99999999999999999999999999999999",
        "0,12345678901234567890123456789012",
        "1.234,5678901234567890123456789012 €",
    ] {
        assert_eq!(parse_amount(input), None, "{input:?} must be rejected");
    }
}

#[test]
fn currency_codes() {
    for (input, code) in [
        ("€", Some("EUR")),
        ("EUR", Some("EUR")),
        ("eur", Some("EUR")),
        ("Euro", Some("EUR")),
        ("$", Some("USD")),
        ("US$", Some("USD")),
        ("usd", Some("USD")),
        ("£", Some("GBP")),
        ("GBP", Some("GBP")),
        ("CHF", Some("CHF")),
        ("Fr.", Some("CHF")),
        ("SFr.", Some("CHF")),
        ("sfr", Some("CHF")),
        ("¥", Some("JPY")),
        ("JPY", Some("JPY")),
        ("₹", Some("INR")),
        ("Rs", Some("INR")),
        ("Rs.", Some("INR")),
        ("INR", Some("INR")),
        ("CAD", Some("CAD")),
        ("AUD", Some("AUD")),
        ("SEK", Some("SEK")),
        ("NOK", Some("NOK")),
        ("DKK", Some("DKK")),
        ("PLN", Some("PLN")),
        ("CZK", Some("CZK")),
        ("CNY", Some("CNY")),
        ("RMB", Some("CNY")),
        (" cad ", Some("CAD")),
        ("kr", None),
        ("kr.", None),
        ("", None),
        ("XYZ", None),
        ("EURO2", None),
        ("dollars", None),
    ] {
        assert_eq!(currency_code(input), code, "currency_code({input:?})");
    }
    for code in ISO_CODES {
        assert_eq!(currency_code(code), Some(*code), "ISO code {code}");
    }
}

#[test]
fn iso_code_list_and_pattern_agree() {
    let in_pattern: Vec<&str> = iso_codes!().split('|').map(str::trim).collect();
    assert_eq!(
        in_pattern, ISO_CODES,
        "iso_codes! and ISO_CODES must list the same codes"
    );
    let re = anchored(AMOUNT_PATTERN);
    for code in ISO_CODES {
        let s = format!("{code} 12.50");
        assert!(re.is_match(&s), "pattern accepts {s:?}");
        assert_eq!(
            parse_amount(&s).and_then(|a| a.currency),
            Some(*code),
            "{s:?}"
        );
    }
}

#[test]
fn amount_pattern_matches_every_accepted_form_fully() {
    let re = anchored(AMOUNT_PATTERN);
    for &(input, _, _) in AMOUNTS {
        assert!(
            re.is_match(input.trim()),
            "AMOUNT_PATTERN must fully match {input:?}"
        );
    }
    assert_eq!(
        Regex::new(AMOUNT_PATTERN).map(|r| r.captures_len()).ok(),
        Some(1),
        "no capture groups"
    );
}

#[test]
fn amount_pattern_extracts_from_sentences() {
    let re = Regex::new(&format!(
        r"(?i)(?:total|amount|betrag|montant|totaal)[^0-9\n]*?({AMOUNT_PATTERN})"
    ))
    .expect("compiles");
    for (text, captured, value) in [
        (
            "Total due: 1.234,56 EUR   19% VAT",
            "1.234,56 EUR",
            "1234.56",
        ),
        ("Total due: 1,234.56 USD", "1,234.56 USD", "1234.56"),
        ("Amount: $1,234.56 (incl. tax)", "$1,234.56", "1234.56"),
        (
            "Montant TTC : 1\u{202F}234,56\u{00A0}€ à régler",
            "1\u{202F}234,56\u{00A0}€",
            "1234.56",
        ),
        ("Betrag CHF 1'234.50, zahlbar", "CHF 1'234.50", "1234.50"),
        ("Totaal € 399,00\nBTW 21%", "€ 399,00", "399.00"),
        ("Total 399,00   120,00", "399,00", "399.00"),
        ("Amount -120,00 € credited", "-120,00 €", "-120.00"),
        ("Total (120.00) credit", "(120.00)", "-120.00"),
        ("Total 1,2345 kg", "1,2345", "1.2345"),
    ] {
        let caps = re
            .captures(text)
            .unwrap_or_else(|| panic!("no amount in {text:?}"));
        let got = &caps[1];
        assert_eq!(got, captured, "capture from {text:?}");
        assert_eq!(
            parse_amount(got).map(|a| a.value.to_string()).as_deref(),
            Some(value),
            "value from {text:?}"
        );
    }
    let verbose = Regex::new(&format!("(?x) total \\s* ({AMOUNT_PATTERN})")).expect("compiles");
    let caps = verbose.captures("total 1\u{202F}234,56 EUR");
    assert_eq!(
        caps.map(|c| c[1].to_string()).as_deref(),
        Some("1\u{202F}234,56 EUR"),
        "(?x) embedding"
    );
    let bare = Regex::new(AMOUNT_PATTERN).expect("compiles");
    assert_eq!(
        bare.find("x 1,234.56 y").map(|m| m.as_str()),
        Some("1,234.56")
    );
    assert_eq!(bare.find("12 EUR\n34").map(|m| m.as_str()), Some("12 EUR"));
    for (text, whole) in [
        ("Summe:1.234,56EUR", "1.234,56EUR"),
        ("Betrag EUR1.234,56.", "EUR1.234,56"),
        ("total 1,234.56USD;", "1,234.56USD"),
        ("total 1,2345 kg", "1,2345"),
        ("a 100 EUR. b", "100 EUR"),
        ("Preis 399,- € inkl.", "399,- €"),
    ] {
        assert_eq!(
            bare.find(text).map(|m| m.as_str()),
            Some(whole),
            "whole amount in {text:?}"
        );
    }
    assert!(
        bare.find_iter("1\n2\n3")
            .all(|m| !m.as_str().contains('\n')),
        "never spans lines"
    );
}

const DATES: &[(&str, (i32, u32, u32))] = &[
    ("2026-11-03", (2026, 11, 3)),
    ("2026/11/03", (2026, 11, 3)),
    ("2026.11.03", (2026, 11, 3)),
    ("2026-1-5", (2026, 1, 5)),
    ("03.11.2026", (2026, 11, 3)),
    ("3.11.26", (2026, 11, 3)),
    ("20.03.2026", (2026, 3, 20)),
    ("20 March 2026", (2026, 3, 20)),
    ("20. März 2026", (2026, 3, 20)),
    ("20.März 2026", (2026, 3, 20)),
    ("20 mars 2026", (2026, 3, 20)),
    ("1er mars 2026", (2026, 3, 1)),
    ("20 maart 2026", (2026, 3, 20)),
    ("Mar 20, 2026", (2026, 3, 20)),
    ("March 20 2026", (2026, 3, 20)),
    ("March 20, 2026", (2026, 3, 20)),
    ("20-Mar-2026", (2026, 3, 20)),
    ("12-Nov-2026", (2026, 11, 12)),
    ("12-NOV-26", (2026, 11, 12)),
    ("03/Nov/2026", (2026, 11, 3)),
    ("3.Nov.2026", (2026, 11, 3)),
    ("Nov. 3, 2026", (2026, 11, 3)),
    ("November 3rd, 2026", (2026, 11, 3)),
    ("3rd November 2026", (2026, 11, 3)),
    ("3rd of November 2026", (2026, 11, 3)),
    ("1st May 2026", (2026, 5, 1)),
    ("22nd Feb 2026", (2026, 2, 22)),
    ("20 Nov. 2026", (2026, 11, 20)),
    ("20 mars, 2026", (2026, 3, 20)),
    ("Friday, 20 March 2026", (2026, 3, 20)),
    ("Fri, Mar 20, 2026", (2026, 3, 20)),
    ("Freitag, 20. März 2026", (2026, 3, 20)),
    ("Freitag, 20.03.2026", (2026, 3, 20)),
    ("vendredi 20 mars 2026", (2026, 3, 20)),
    ("vrijdag 20 maart 2026", (2026, 3, 20)),
    ("20 MARCH 2026", (2026, 3, 20)),
    ("3 NOVEMBRE 2026", (2026, 11, 3)),
    ("1 août 2026", (2026, 8, 1)),
    ("13/03/2026", (2026, 3, 13)),
    ("03/13/2026", (2026, 3, 13)),
    ("29.02.2028", (2028, 2, 29)),
    (" 31 December 2026 ", (2026, 12, 31)),
];

#[test]
fn parse_date_accepts_all_listed_formats_in_both_orders() {
    for &(input, (y, m, day)) in DATES {
        for order in [DateOrder::DayFirst, DateOrder::MonthFirst] {
            assert_eq!(
                parse_date(input, order),
                Some(d(y, m, day)),
                "{input:?} with {order:?}"
            );
        }
    }
}

#[test]
fn parse_date_ambiguous_numeric_follows_order() {
    for (input, day_first, month_first) in [
        ("11/03/2026", d(2026, 3, 11), d(2026, 11, 3)),
        ("03-11-2026", d(2026, 11, 3), d(2026, 3, 11)),
        ("1/2/26", d(2026, 2, 1), d(2026, 1, 2)),
    ] {
        assert_eq!(
            parse_date(input, DateOrder::DayFirst),
            Some(day_first),
            "{input:?} DayFirst"
        );
        assert_eq!(
            parse_date(input, DateOrder::MonthFirst),
            Some(month_first),
            "{input:?} MonthFirst"
        );
    }
    // Dotted dates are day-first whatever the order, unless the month slot is > 12.
    assert_eq!(
        parse_date("03.11.2026", DateOrder::MonthFirst),
        Some(d(2026, 11, 3))
    );
    assert_eq!(
        parse_date("03.25.2026", DateOrder::DayFirst),
        Some(d(2026, 3, 25))
    );
}

#[test]
fn parse_date_every_month_name() {
    let names: &[(u32, &[&str])] = &[
        (
            1,
            &[
                "January", "Jan", "Jan.", "Januar", "Jänner", "janvier", "janv.", "januari",
            ],
        ),
        (
            2,
            &[
                "February", "Feb", "Februar", "février", "fevrier", "févr.", "februari",
            ],
        ),
        (
            3,
            &[
                "March", "Mar", "März", "Maerz", "Mrz", "mars", "maart", "mrt",
            ],
        ),
        (4, &["April", "Apr", "avril", "avr.", "april"]),
        (5, &["May", "Mai", "mai", "mei"]),
        (6, &["June", "Jun", "Juni", "juin", "juni"]),
        (7, &["July", "Jul", "Juli", "juillet", "juil.", "juli"]),
        (
            8,
            &[
                "August", "Aug", "August", "août", "aout", "augustus", "aug.",
            ],
        ),
        (
            9,
            &[
                "September",
                "Sep",
                "Sept.",
                "septembre",
                "sept",
                "september",
            ],
        ),
        (
            10,
            &[
                "October", "Oct", "Oktober", "Okt", "octobre", "oct.", "oktober", "okt",
            ],
        ),
        (
            11,
            &[
                "November", "Nov", "November", "novembre", "nov.", "november",
            ],
        ),
        (
            12,
            &[
                "December",
                "Dec",
                "Dezember",
                "Dez",
                "décembre",
                "decembre",
                "déc.",
                "december",
            ],
        ),
    ];
    for &(month, words) in names {
        for word in words {
            for input in [
                format!("5 {word} 2026"),
                format!("{} 5, 2026", word),
                format!("5 {} 2026", word.to_uppercase()),
            ] {
                assert_eq!(
                    parse_date(&input, DateOrder::DayFirst),
                    Some(d(2026, month, 5)),
                    "{input:?}"
                );
            }
        }
    }
}

#[test]
fn parse_date_rejects_invalid() {
    for input in [
        "",
        "abc",
        "2026-02-30",
        "2026-13-01",
        "2026-00-10",
        "13/13/2026",
        "32.01.2026",
        "31/04/2026",
        "30 février 2026",
        "29.02.2026",
        "March 2026",
        "20 Marchh 2026",
        "20 March",
        "2026",
        "20/03",
        "2026-11-03T10:00",
        "20 March 2026 extra",
        "1.2.3",
        "11/03/20261",
        "Funday, 20 March 2026",
        "20 Mar 26",
        "32 March 2026",
    ] {
        for order in [DateOrder::DayFirst, DateOrder::MonthFirst] {
            assert_eq!(
                parse_date(input, order),
                None,
                "{input:?} must be rejected ({order:?})"
            );
        }
    }
}

#[test]
fn date_pattern_matches_every_accepted_form_fully() {
    let re = anchored(DATE_PATTERN);
    for &(input, _) in DATES {
        assert!(
            re.is_match(input.trim()),
            "DATE_PATTERN must fully match {input:?}"
        );
    }
    for input in ["11/03/2026", "03-11-2026", "1/2/26"] {
        assert!(
            re.is_match(input),
            "DATE_PATTERN must fully match {input:?}"
        );
    }
    assert_eq!(
        Regex::new(DATE_PATTERN).map(|r| r.captures_len()).ok(),
        Some(1),
        "no capture groups"
    );
}

#[test]
fn date_pattern_extracts_from_sentences() {
    let re = Regex::new(&format!(
        r"(?i)(?:due date|fällig am|échéance|vervaldatum|dated?)\s*:?\s*({DATE_PATTERN})"
    ))
    .expect("compiles");
    for (text, captured, expected) in [
        (
            "Due date: 03.11.2026 please pay",
            "03.11.2026",
            d(2026, 11, 3),
        ),
        ("Fällig am 20. März 2026.", "20. März 2026", d(2026, 3, 20)),
        (
            "Échéance : 1er mars 2026, merci",
            "1er mars 2026",
            d(2026, 3, 1),
        ),
        (
            "Vervaldatum 20 maart 2026\nTotaal",
            "20 maart 2026",
            d(2026, 3, 20),
        ),
        (
            "Dated Mar 20, 2026 - Invoice 1234",
            "Mar 20, 2026",
            d(2026, 3, 20),
        ),
        (
            "Due date: Friday, 20 March 2026 (net 30)",
            "Friday, 20 March 2026",
            d(2026, 3, 20),
        ),
        (
            "Due date: 2026-11-30 at the latest",
            "2026-11-30",
            d(2026, 11, 30),
        ),
        ("Date: 12-Nov-2026 ref", "12-Nov-2026", d(2026, 11, 12)),
    ] {
        let caps = re
            .captures(text)
            .unwrap_or_else(|| panic!("no date in {text:?}"));
        assert_eq!(&caps[1], captured, "capture from {text:?}");
        assert_eq!(
            parse_date(&caps[1], DateOrder::DayFirst),
            Some(expected),
            "date from {text:?}"
        );
    }
    let verbose = Regex::new(&format!("(?x) due \\s ({DATE_PATTERN})")).expect("compiles");
    let caps = verbose.captures("due Friday, 20 March 2026");
    assert_eq!(
        caps.map(|c| c[1].to_string()).as_deref(),
        Some("Friday, 20 March 2026"),
        "(?x) embedding"
    );
    let bare = Regex::new(DATE_PATTERN).expect("compiles");
    assert_eq!(
        bare.find("on 20 March\n2026").map(|m| m.as_str()),
        None,
        "never spans lines"
    );
}

#[test]
fn ref_pattern() {
    let re = anchored(REF_PATTERN);
    for input in [
        "INV-4411",
        "RE-2026-0042",
        "F2026-118",
        "2026/0815",
        "4500012345",
        "PO-7781",
        "A1B",
        "123",
        "INV-4411A",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZABC1",
        "1BCDEFGHIJKLMNOPQRSTUVWXYZABCD",
        "X.2026.17",
    ] {
        assert!(re.is_match(input), "REF_PATTERN must match {input:?}");
    }
    for input in [
        "INV",
        "12",
        "A1",
        "INV-",
        "-INV1",
        "INV-4411.",
        "/4411",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZABCD1",
        "INV 4411",
        "INV#4411",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZABC12",
        "",
    ] {
        assert!(!re.is_match(input), "REF_PATTERN must not match {input:?}");
    }
    let sentence = Regex::new(&format!(
        r"(?i)(?:invoice|rechnung|facture|factuur)\s*(?:no\.?|nr\.?|n°|#)?\s*({REF_PATTERN})"
    ))
    .expect("compiles");
    for (text, captured) in [
        ("Invoice No. INV-4411.", "INV-4411"),
        ("Rechnung Nr. RE-2026-0042, vom 3.11.2026", "RE-2026-0042"),
        ("Facture n° F2026-118 du 20 mars", "F2026-118"),
        ("Factuur 2026/0815\n", "2026/0815"),
        ("invoice #4500012345)", "4500012345"),
    ] {
        let caps = sentence
            .captures(text)
            .unwrap_or_else(|| panic!("no ref in {text:?}"));
        assert_eq!(&caps[1], captured, "capture from {text:?}");
    }
    assert_eq!(
        Regex::new(REF_PATTERN).map(|r| r.captures_len()).ok(),
        Some(1),
        "no capture groups"
    );
}

#[test]
fn a_swapped_day_and_month_is_doubted_only_on_weak_evidence() {
    use OrderEvidence::*;
    let doubt = |text: &str, e| swapped_doubt(text, e);
    assert!(doubt("03/04/2026", Some((DateOrder::MonthFirst, Currency))).is_some());
    assert!(doubt("03/04/2026", None).is_some());
    for settled in [
        Some((DateOrder::DayFirst, Currency)),
        Some((DateOrder::DayFirst, Language)),
        Some((DateOrder::MonthFirst, Dates)),
    ] {
        assert!(doubt("03/04/2026", settled).is_none(), "{settled:?}");
    }
    // Only one reading is a date, or both are the same day.
    assert!(doubt("25/04/2026", None).is_none());
    assert!(doubt("04/04/2026", None).is_none());
    assert!(doubt("4 March 2026", None).is_none());
    assert_eq!(
        date_order_evidence("Rechnung, zahlbar bis 04/05/2026"),
        Some((DateOrder::DayFirst, Language))
    );
}

#[test]
fn infer_date_order_texts() {
    use DateOrder::*;
    for (text, expected) in [
        (
            "Rechnung vom 03.04.2026, zahlbar bis 17.04.2026",
            Some(DayFirst),
        ),
        (
            "Sehr geehrte Damen und Herren, anbei die Rechnung. Datum: 04/05/2026",
            Some(DayFirst),
        ),
        (
            "Bonjour, veuillez trouver ci-joint la facture, échéance 04/05/2026",
            Some(DayFirst),
        ),
        (
            "Geachte klant, bijgaand de factuur, te betalen vóór 04/05/2026",
            Some(DayFirst),
        ),
        (
            "Please find attached invoice 4411 for $1,200.00 due 04/05/2026",
            Some(MonthFirst),
        ),
        ("Invoice total USD 4.11, due 04/05/2026", Some(MonthFirst)),
        ("Invoice total £2,978.40, due 04/05/2026", Some(DayFirst)),
        (
            "Invoice total GBP 2,978.40 ($3,900), due 04/05/2026",
            Some(DayFirst),
        ),
        ("Invoice date 04/05/2026, due 04/25/2026", Some(MonthFirst)),
        (
            "Invoice date 04/05/2026, due 25/05/2026, $100",
            Some(DayFirst),
        ),
        (
            "Invoice date March 20, 2026, due 04/05/2026",
            Some(MonthFirst),
        ),
        ("Invoice date 20 March 2026, due 04/05/2026", Some(DayFirst)),
        ("Invoice attached, due 04/05/2026, total C$ 100", None),
        ("Invoice attached, due 04/05/2026", None),
        // Whole words only: an English street is no German "Summe".
        (
            "88 Summer Street, Boston; due 04/05/2026, $100",
            Some(MonthFirst),
        ),
        ("", None),
    ] {
        assert_eq!(
            infer_date_order(text),
            expected,
            "infer_date_order({text:?})"
        );
    }
}

#[test]
fn payment_terms_in_four_languages() {
    for (input, expected) in [
        ("net 30", Some(30)),
        ("Net 30", Some(30)),
        ("NET30", Some(30)),
        ("Net-45", Some(45)),
        ("Terms: 2/10 net 30", Some(30)),
        ("2/10, n/30", Some(30)),
        ("30 days net", Some(30)),
        ("payable within 30 days", Some(30)),
        ("Payment terms: 60 days from invoice date", Some(60)),
        ("within thirty (30) days", Some(30)),
        (
            "2% discount if paid within 10 days, otherwise 30 days",
            Some(30),
        ),
        ("Due upon receipt", Some(0)),
        ("Zahlbar innerhalb von 14 Tagen", Some(14)),
        ("Zahlbar innerhalb 14 Tagen ohne Abzug", Some(14)),
        ("innerhalb 10 Tagen 2% Skonto, 30 Tage netto", Some(30)),
        ("Zahlungsziel: 30 Tage", Some(30)),
        ("Netto 21 Tage", Some(21)),
        ("Sofort zahlbar ohne Abzug", Some(0)),
        ("30 jours", Some(30)),
        ("Paiement à 45 jours fin de mois", Some(45)),
        ("30 jours net", Some(30)),
        ("Règlement à réception de facture", Some(0)),
        ("binnen 30 dagen", Some(30)),
        ("Betaling binnen 14 dagen na factuurdatum", Some(14)),
        ("30 dagen netto", Some(30)),
        ("Net amount 1,234.56", None),
        ("Net 1,234.56", None),
        ("Net 100 EUR", None),
        ("Netto 1.234,56 EUR", None),
        ("Zahlbar bis 20.03.2026", None),
        ("Invoice 30", None),
        ("", None),
        ("net 999", None),
    ] {
        assert_eq!(
            parse_payment_terms(input),
            expected,
            "parse_payment_terms({input:?})"
        );
    }
}

fn group3(int: &str, sep: &str) -> String {
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_amount_never_panics(s in any::<String>()) {
        let _ = parse_amount(&s);
        let _ = currency_code(&s);
        let _ = parse_payment_terms(&s);
        let _ = infer_date_order(&s);
    }

    #[test]
    fn parse_amount_never_panics_on_amount_like(s in "[-−(]?(€|EUR |\\$|CHF |Rs\\. )?[0-9]{0,4}([.,'’ \u{A0}\u{202F}][0-9]{0,4}){0,4}([.,]-)?( ?€| EUR| kr)?\\)?") {
        let _ = parse_amount(&s);
    }

    #[test]
    fn amount_pattern_match_implies_parse(s in "[-−(]?( ?)(€|EUR|eur|\\$|US\\$|CHF|Rs\\.|Fr\\.|kr)?( ?-? ?)[0-9]{1,4}([.,'’ \u{A0}\u{202F}][0-9]{1,4}){0,3}([.,]-)?( ?)(€|EUR|kr\\.|Rs|USD)?( ?\\))?") {
        if AMOUNT_ANCHORED.is_match(&s) {
            prop_assert!(parse_amount(&s).is_some(), "pattern matched {:?} but parser refused", s);
        }
    }

    #[test]
    fn date_pattern_match_implies_parse(s in "((Mon|Friday|vendredi|Freitag),? )?([1-9]|1[0-9]|2[0-8])(st|th|er|\\.)?( |-|/|\\.|\\. | of )(0?[1-9]|1[0-2]|March|mrt|Nov\\.|févr\\.|Dez|MÄRZ)(\\.|,)?( |-|/|, )(20[0-9]{2}|[0-9]{2})") {
        if DATE_ANCHORED.is_match(&s) {
            prop_assert!(parse_date(&s, DateOrder::DayFirst).is_some(), "pattern matched {:?} but parser refused", s);
            prop_assert!(parse_date(&s, DateOrder::MonthFirst).is_some(), "pattern matched {:?} but parser refused", s);
        }
    }

    #[test]
    fn parse_date_never_panics(s in any::<String>()) {
        let _ = parse_date(&s, DateOrder::DayFirst);
        let _ = parse_date(&s, DateOrder::MonthFirst);
    }

    #[test]
    fn parse_date_never_panics_on_date_like(s in "[0-9]{1,4}[./ -]{1,2}([0-9]{1,4}|mar|März|nov\\.)[./ -]{1,2}[0-9]{1,4}") {
        let _ = parse_date(&s, DateOrder::DayFirst);
        let _ = parse_date(&s, DateOrder::MonthFirst);
    }

    #[test]
    fn amount_round_trips_in_four_styles(cents in 0u64..100_000_000_000u64) {
        let value = Decimal::new(i64::try_from(cents).unwrap_or(0), 2);
        let int = (cents / 100).to_string();
        let frac = format!("{:02}", cents % 100);
        let styles = [
            format!("{}.{frac}", group3(&int, ",")),
            format!("{},{frac}", group3(&int, ".")),
            format!("{},{frac}", group3(&int, "\u{202F}")),
            format!("{}.{frac}", group3(&int, "'")),
        ];
        let re = &*AMOUNT_ANCHORED;
        for s in styles {
            prop_assert!(re.is_match(&s), "pattern must match {:?}", s);
            let got = parse_amount(&s);
            prop_assert_eq!(got.as_ref().map(|a| a.value), Some(value), "{:?}", s);
            prop_assert_eq!(got.map(|a| a.value.scale()), Some(2), "{:?}", s);
        }
    }

    #[test]
    fn date_round_trips(days in 0i64..80_000) {
        let date = d(1990, 1, 1) + chrono::Duration::days(days);
        let forms = [
            (date.format("%Y-%m-%d").to_string(), DateOrder::MonthFirst),
            (date.format("%d.%m.%Y").to_string(), DateOrder::MonthFirst),
            (date.format("%d/%m/%Y").to_string(), DateOrder::DayFirst),
            (date.format("%m/%d/%Y").to_string(), DateOrder::MonthFirst),
            (date.format("%-d %B %Y").to_string(), DateOrder::DayFirst),
            (date.format("%b %-d, %Y").to_string(), DateOrder::DayFirst),
            (date.format("%d-%b-%Y").to_string(), DateOrder::MonthFirst),
            (date.format("%A, %-d %B %Y").to_string(), DateOrder::MonthFirst),
        ];
        let re = &*DATE_ANCHORED;
        for (s, order) in forms {
            prop_assert!(re.is_match(&s), "pattern must match {:?}", s);
            prop_assert_eq!(parse_date(&s, order), Some(date), "{:?}", s);
        }
    }
}
