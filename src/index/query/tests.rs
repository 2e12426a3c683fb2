use super::*;
use crate::index::schema::text_analyzer;

fn p(q: &str) -> Result<Node, QueryError> {
    parse(q, &text_analyzer())
}

fn e(q: &str) -> QueryError {
    match p(q) {
        Ok(n) => panic!("{q:?} parsed to {n:?}, expected an error"),
        Err(e) => e,
    }
}

fn text(fields: &'static [TextField], toks: &[&str]) -> Node {
    Node::Leaf(Leaf::Text {
        fields,
        tokens: toks.iter().map(|s| s.to_string()).collect(),
    })
}

fn word(t: &str) -> Node {
    text(DEFAULT_FIELDS, &[t])
}

#[test]
fn empty_query_matches_all() {
    assert_eq!(p("").unwrap(), Node::All);
    assert_eq!(p("   ").unwrap(), Node::All);
}

#[test]
fn precedence_and_grouping() {
    assert_eq!(
        p("a b OR c").unwrap(),
        Node::Or(vec![Node::And(vec![word("a"), word("b")]), word("c")])
    );
    assert_eq!(
        p("a (b OR c)").unwrap(),
        Node::And(vec![word("a"), Node::Or(vec![word("b"), word("c")])])
    );
    assert_eq!(
        p("a AND -b NOT c").unwrap(),
        Node::And(vec![
            word("a"),
            Node::Not(Box::new(word("b"))),
            Node::Not(Box::new(word("c")))
        ])
    );
    assert_eq!(
        p("-(a OR b)").unwrap(),
        Node::Not(Box::new(Node::Or(vec![word("a"), word("b")])))
    );
    // lower-case operators are words
    assert_eq!(
        p("a or b").unwrap(),
        Node::And(vec![word("a"), word("or"), word("b")])
    );
}

#[test]
fn words_are_analysed_like_the_index() {
    assert_eq!(p("Fällig").unwrap(), word("fallig"));
    assert_eq!(
        p("acme-supplies").unwrap(),
        text(DEFAULT_FIELDS, &["acme", "supplies"])
    );
    assert_eq!(
        p("\"Payment  Reminder\"").unwrap(),
        text(DEFAULT_FIELDS, &["payment", "reminder"])
    );
    // a colon after digits is not a field
    assert_eq!(p("10:30").unwrap(), text(DEFAULT_FIELDS, &["10", "30"]));
}

#[test]
fn fields() {
    assert_eq!(
        p("from:billing@acme-supplies.example").unwrap(),
        Node::Leaf(Leaf::Address {
            to: false,
            key: "billing@acme-supplies.example".into(),
            fields: &[TextField::From],
            tokens: vec![
                "billing".into(),
                "acme".into(),
                "supplies".into(),
                "example".into()
            ],
        })
    );
    assert_eq!(
        p("to:Desk.Example").unwrap(),
        Node::Leaf(Leaf::Address {
            to: true,
            key: "desk.example".into(),
            fields: &[TextField::To, TextField::Cc],
            tokens: vec!["desk".into(), "example".into()],
        })
    );
    // cc: and names stay words.
    assert_eq!(
        p("cc:ar@desk.example").unwrap(),
        text(&[TextField::Cc], &["ar", "desk", "example"])
    );
    assert_eq!(
        p("from:\"ACME Sales\"").unwrap(),
        text(&[TextField::From], &["acme", "sales"])
    );
    assert_eq!(
        p("to:bob").unwrap(),
        text(&[TextField::To, TextField::Cc], &["bob"])
    );
    assert_eq!(
        p("Subject:\"late fee\"").unwrap(),
        text(&[TextField::Subject], &["late", "fee"])
    );
    assert_eq!(
        p("category:AP.*").unwrap(),
        Node::Leaf(Leaf::Category("ap".into()))
    );
    assert_eq!(
        p("invoice:INV-4411").unwrap(),
        Node::Leaf(Leaf::Invoice {
            whole: "inv-4411".into(),
            compact: "inv4411".into(),
            tokens: vec!["inv".into(), "4411".into()],
        })
    );
    assert_eq!(
        p("has:attachments").unwrap(),
        Node::Leaf(Leaf::Keyword {
            field: KeywordField::Has,
            value: "attachment".into()
        })
    );
    assert_eq!(
        p("(mailbox:AP)").unwrap(),
        Node::Leaf(Leaf::Keyword {
            field: KeywordField::Mailbox,
            value: "ap".into()
        })
    );
}

#[test]
fn amounts() {
    let a = |q: &str| match p(q).unwrap() {
        Node::Leaf(Leaf::Amount { lo, hi }) => (lo, hi),
        n => panic!("{n:?}"),
    };
    use Bound::*;
    assert_eq!(a("amount:500"), (Included(500.0), Included(500.0)));
    assert_eq!(a("amount:>500"), (Excluded(500.0), Unbounded));
    assert_eq!(a("amount:>=500"), (Included(500.0), Unbounded));
    assert_eq!(a("amount:<100"), (Unbounded, Excluded(100.0)));
    assert_eq!(a("amount:<=100.5"), (Unbounded, Included(100.5)));
    assert_eq!(a("amount:1,234.56"), (Included(1234.56), Included(1234.56)));
    assert_eq!(a("amount:[100 TO 500]"), (Included(100.0), Included(500.0)));
    assert_eq!(a("amount:[100 to *]"), (Included(100.0), Unbounded));
}

#[test]
fn dates() {
    let d = |q: &str| match p(q).unwrap() {
        Node::Leaf(Leaf::Date { lo, hi }) => (lo, hi),
        n => panic!("{n:?}"),
    };
    let ts = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
    use Bound::*;
    assert_eq!(
        d("date:2026-11"),
        (
            Included(ts("2026-11-01T00:00:00Z")),
            Excluded(ts("2026-12-01T00:00:00Z"))
        )
    );
    assert_eq!(
        d("date:2026-12"),
        (
            Included(ts("2026-12-01T00:00:00Z")),
            Excluded(ts("2027-01-01T00:00:00Z"))
        )
    );
    assert_eq!(
        d("date:2026"),
        (
            Included(ts("2026-01-01T00:00:00Z")),
            Excluded(ts("2027-01-01T00:00:00Z"))
        )
    );
    assert_eq!(
        d("date:2026-11-03"),
        (
            Included(ts("2026-11-03T00:00:00Z")),
            Excluded(ts("2026-11-04T00:00:00Z"))
        )
    );
    assert_eq!(
        d("after:2026-10-01"),
        (Included(ts("2026-10-02T00:00:00Z")), Unbounded)
    );
    assert_eq!(
        d("before:2026-11-01"),
        (Unbounded, Excluded(ts("2026-11-01T00:00:00Z")))
    );
    assert_eq!(
        d("date:<=2026-11"),
        (Unbounded, Excluded(ts("2026-12-01T00:00:00Z")))
    );
    assert_eq!(
        d("date:[2026-10 TO 2026-11-15]"),
        (
            Included(ts("2026-10-01T00:00:00Z")),
            Excluded(ts("2026-11-16T00:00:00Z"))
        )
    );
}

#[test]
fn errors_have_positions() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "frm:acme",
            0,
            "unknown field \"frm\" (did you mean \"from\"?)",
        ),
        ("invoice sbject:late", 8, "did you mean \"subject\"?"),
        ("xyzzy:1", 0, "unknown field \"xyzzy\""),
        ("(acme OR beta", 0, "unclosed '('"),
        ("a (b (c) d", 2, "unclosed '('"),
        ("acme)", 4, "unexpected ')'"),
        (
            "amount:[100 TO 500",
            7,
            "unbalanced '[' — expected \"TO\" and a closing ']'",
        ),
        ("amount:[100 500]", 12, "expected \"TO\""),
        ("amount:[100 TO]", 14, "upper bound"),
        ("amount:[500 TO 100]", 7, "empty range"),
        ("say \"hello", 4, "unclosed '\"'"),
        ("date:2026-13", 10, "month must be 01 to 12"),
        ("date:2026-02-30", 13, "has no day 30"),
        ("date:26-11", 5, "expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ("after:soon", 6, "invalid date"),
        ("amount:>abc", 8, "invalid amount \"abc\""),
        ("amount:>", 8, "expected a number"),
        ("amount:1,5", 7, "use '.' for decimals"),
        ("()", 0, "empty parentheses"),
        ("a OR", 2, "\"OR\" needs a search term after it"),
        ("OR a", 0, "\"OR\" needs a search term before it"),
        ("a OR OR b", 2, "after it"),
        ("(a OR) b", 3, "after it"),
        ("a AND", 2, "\"AND\" needs a search term after it"),
        ("a - b", 2, "expected a term right after '-'"),
        ("NOT", 0, "\"NOT\" needs a search term"),
        ("from: acme", 5, "no space allowed after the colon"),
        ("from:", 5, "missing value after \"from:\""),
        ("from:(a OR b)", 5, "repeat the field"),
        ("subject:[a TO b]", 8, "only with amount: and date:"),
        ("has:atachment", 4, "did you mean \"attachment\"?"),
        ("!!!", 0, "nothing searchable"),
        ("\"\"", 0, "empty phrase"),
        ("amount:[1 TO 2]x", 15, "expected a space after ']'"),
        ("mailbox:_", 8, "nothing searchable"),
        ("_", 0, "nothing searchable"),
        ("category:.*", 9, "nothing searchable"),
    ];
    for (q, pos, msg) in cases {
        let e = e(q);
        assert_eq!(e.position, *pos, "position for {q:?}: {e}");
        assert!(e.message.contains(msg), "message for {q:?}: {e}");
    }
}

#[test]
fn help_examples_parse() {
    for q in [
        "acme invoice",
        "\"payment reminder\"",
        "invoice OR facture",
        "(a OR b) c",
        "-paid",
        "NOT paid",
        "subject:\"late fee\"",
        "from:acme from:billing@acme.example to:x cc:x subject:x body:x",
        "attachment:statement filename:statement.pdf",
        "category:ap.invoice category:ap mailbox:ap",
        "invoice:4411 invoice:INV-4411 thread:0123abcd id:0123abcd",
        "amount:500 amount:>500 amount:>=500 amount:<100 amount:[100 TO 500] amount:[1000 TO *]",
        "date:2026 date:2026-11 date:2026-11-03 date:>=2026-11 date:[2026-10 TO 2026-11-15]",
        "after:2026-10-01 before:2026-11-01",
        "has:attachment has:invoice has:amount",
    ] {
        assert!(p(q).is_ok(), "{q}: {:?}", p(q));
    }
}

#[test]
fn error_display_uses_one_based_columns() {
    let e = e("invoice amount:[100 TO");
    assert_eq!(
        e.to_string(),
        "at column 16: unbalanced '[' — expected \"TO\" and a closing ']'"
    );
    assert_eq!(
        self::e("frm:acme").to_string(),
        "at column 1: unknown field \"frm\" (did you mean \"from\"?)"
    );
}

#[test]
fn positions_count_chars_not_bytes() {
    // "é" is two bytes; positions are char offsets, not byte offsets.
    let e = e("café (x");
    assert_eq!(e.position, 5);
    let e = self::e("éé frm:x");
    assert_eq!(e.position, 3);
}

/// Security finding 1: `NOT ` 400 times and a word (1.6 KB) overflowed the parser's stack
/// and aborted the process; now it is a query error like any other.
#[test]
fn a_deep_not_chain_is_refused_not_a_stack_overflow() {
    let q = format!("{}paid", "NOT ".repeat(400));
    let e = e(&q);
    assert_eq!(e.message, format!("query nests deeper than {MAX_DEPTH}"));
    assert_eq!(
        e.position,
        4 * MAX_DEPTH,
        "points at the first NOT too many"
    );
    let q = format!("{}paid", "-".repeat(5000));
    assert!(
        self::e(&q).message.contains("longer than"),
        "{:?}",
        self::e(&q)
    );
    let q = format!("{}paid", "-".repeat(1000));
    assert_eq!(
        self::e(&q).message,
        format!("query nests deeper than {MAX_DEPTH}")
    );
}

#[test]
fn deep_parentheses_are_refused_and_the_limit_itself_parses() {
    let q = "(".repeat(1800);
    assert_eq!(
        e(&q).message,
        format!("query nests deeper than {MAX_DEPTH}")
    );
    let at_limit = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(p(&at_limit).is_ok());
    let over = format!(
        "{}a{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(e(&over).position, MAX_DEPTH);
    let nots = format!("{}a", "NOT ".repeat(MAX_DEPTH));
    assert!(p(&nots).is_ok());
    // Siblings do not add up: depth is nesting, not count.
    let wide = "(a) ".repeat(100);
    assert!(p(&wide).is_ok());
}

#[test]
fn too_many_terms_are_refused_with_the_position_of_the_first_extra() {
    let q = "w ".repeat(MAX_TERMS + 10);
    let e = e(&q);
    assert_eq!(e.position, 2 * MAX_TERMS);
    assert!(
        e.message.contains(&format!("more than {MAX_TERMS}")),
        "{e:?}"
    );
    assert!(p(&"w ".repeat(MAX_TERMS)).is_ok());
}

/// Found by the query_parse fuzz target: a date bound past 2262 (or before 1678) overflowed
/// tantivy's nanosecond timestamp while compiling (a panic in debug builds, a wrapped bound
/// in release). Such bounds are clamped to what tantivy can hold.
#[test]
fn a_date_past_2262_compiles_without_overflow() {
    let fields = crate::index::schema::build_schema().1;
    for q in [
        "before:2602-11-01",
        "after:6781-10-01",
        "date:9999",
        "date:>=9999-12-31",
        "date:1000",
        "date:<0001-01-01",
        "date:[0000 TO 9999-12]",
        "date:[1677-09 TO 2262-04]",
    ] {
        let node = p(q).unwrap_or_else(|e| panic!("{q:?}: {e}"));
        compile(&node, &fields);
    }
}

/// The date conditions of one conjunction become one range query (two intersected walked the
/// documents on both sides of each bound); other conjunctions keep theirs.
#[test]
fn a_conjunctions_date_conditions_compile_to_one_range() {
    let fields = crate::index::schema::build_schema().1;
    let ranges = |q: &str| {
        let node = p(q).unwrap_or_else(|e| panic!("{q:?}: {e}"));
        format!("{:?}", compile(&node, &fields).query)
            .matches("RangeQuery")
            .count()
    };
    assert_eq!(ranges("after:2002-09-01 before:2002-10-01"), 1);
    assert_eq!(ranges("money after:2002-09 date:2002 before:2003"), 1);
    assert_eq!(ranges("(after:2002-09 OR money) before:2003"), 2);
    assert_eq!(ranges("after:2002-09 -before:2002-10"), 2);
}
