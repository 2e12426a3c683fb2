//! Unit tests on small hand-written documents; the generated corpus under fixtures/einvoice is
//! checked end to end in tests/einvoice.rs.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::*;
use crate::model::{EInvoiceKind, EInvoiceSyntax};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub(crate) const UBL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ubl:Invoice xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0</cbc:CustomizationID>
  <cbc:ID>2026-0042</cbc:ID>
  <cbc:IssueDate>2026-11-03</cbc:IssueDate>
  <cbc:DueDate>2026-12-03</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>04011000-12345-03</cbc:BuyerReference>
  <cac:OrderReference><cbc:ID>PO-7781</cbc:ID></cac:OrderReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PartyName><cbc:Name>Muster</cbc:Name></cac:PartyName>
    <cac:PostalAddress><cbc:StreetName>Hauptstr. 1</cbc:StreetName><cbc:CityName>Berlin</cbc:CityName><cbc:PostalZone>10115</cbc:PostalZone><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>Muster Lieferant GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cac:PartyLegalEntity><cbc:RegistrationName>Ourcompany Europe GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>
    <cac:PayeeFinancialAccount><cbc:ID>DE02 1203 0000 0000 2020 51</cbc:ID>
      <cac:FinancialInstitutionBranch><cbc:ID>BYLADEM1001</cbc:ID></cac:FinancialInstitutionBranch>
    </cac:PayeeFinancialAccount></cac:PaymentMeans>
  <cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:AllowanceChargeReason>Rabatt</cbc:AllowanceChargeReason><cbc:Amount currencyID="EUR">10.00</cbc:Amount></cac:AllowanceCharge>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">187.10</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">990.00</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">188.10</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">1000.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">990.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">1178.10</cbc:TaxInclusiveAmount>
    <cbc:AllowanceTotalAmount currencyID="EUR">10.00</cbc:AllowanceTotalAmount>
    <cbc:PrepaidAmount currencyID="EUR">100.00</cbc:PrepaidAmount>
    <cbc:PayableAmount currencyID="EUR">1078.10</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="H87">2.000</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">240.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Toner cartridge</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">120.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
  <cac:InvoiceLine><cbc:ID>2</cbc:ID><cbc:InvoicedQuantity unitCode="HUR">4</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">760.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Service technician</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">190.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
</ubl:Invoice>"#;

#[test]
fn a_ubl_xrechnung_invoice_is_read_term_by_term() {
    let e = read(UBL.as_bytes(), "attachment inv.xml").unwrap();
    assert_eq!(e.syntax, EInvoiceSyntax::Ubl);
    assert_eq!(e.kind, EInvoiceKind::Invoice);
    assert_eq!(e.profile, "XRechnung 3.0");
    assert_eq!(e.source, "attachment inv.xml");
    assert_eq!(e.number.as_deref(), Some("2026-0042"));
    assert_eq!(e.issue_date.unwrap().to_string(), "2026-11-03");
    assert_eq!(e.due_date.unwrap().to_string(), "2026-12-03");
    assert_eq!(e.po_number.as_deref(), Some("PO-7781"));
    assert_eq!(e.buyer_reference.as_deref(), Some("04011000-12345-03"));
    assert_eq!(e.seller.name.as_deref(), Some("Muster Lieferant GmbH"));
    assert_eq!(e.seller.trading_name.as_deref(), Some("Muster"));
    assert_eq!(e.seller.vat_id.as_deref(), Some("DE123456789"));
    assert_eq!(e.seller.address, ["Hauptstr. 1", "10115 Berlin", "DE"]);
    assert_eq!(e.buyer.name.as_deref(), Some("Ourcompany Europe GmbH"));
    assert_eq!(e.iban.as_deref(), Some("DE02 1203 0000 0000 2020 51"));
    assert_eq!(e.bic.as_deref(), Some("BYLADEM1001"));
    assert_eq!(e.lines.len(), 2);
    assert_eq!(e.lines[0].description, "Toner cartridge");
    assert_eq!(
        e.lines[0].quantity.unwrap().to_string(),
        "2.000",
        "scale kept"
    );
    assert_eq!(e.lines[0].unit.as_deref(), Some("H87"));
    assert_eq!(e.lines[1].net_amount, Some(d("760.00")));
    assert_eq!(e.totals.total, Some(d("1178.10")));
    assert_eq!(e.totals.due.unwrap().to_string(), "1078.10");
    assert_eq!(e.allowances_charges.len(), 1);
    // The sample's VAT is deliberately off by one euro: BR-CO-14/15/17 name the numbers.
    assert_eq!(e.totals.tax, Some(d("187.10")));
    let failed: Vec<&str> = e.arithmetic.iter().map(|a| &a[..8]).collect();
    assert_eq!(failed, ["BR-CO-14", "BR-CO-15"], "{:#?}", e.arithmetic);
    assert!(e.arithmetic[1].contains("1178.10") && e.arithmetic[1].contains("1177.10"));
    assert_eq!(e.totals.tax.unwrap(), d("187.10"), "never corrected");
}

#[test]
fn consistent_totals_pass_every_check() {
    let fixed = UBL.replace(">187.10<", ">188.10<");
    let e = read(fixed.as_bytes(), "x").unwrap();
    assert_eq!(e.arithmetic, Vec::<String>::new());
    // A line that does not add up is BR-CO-10, a VAT amount off the rate BR-CO-17.
    let bad = fixed.replace(">760.00<", ">770.00<");
    let e = read(bad.as_bytes(), "x").unwrap();
    assert!(
        e.arithmetic[0].starts_with("BR-CO-10"),
        "{:?}",
        e.arithmetic
    );
    let bad = fixed.replace(
        ">188.10</cbc:TaxAmount>\n      <cac:TaxCategory>",
        ">198.10</cbc:TaxAmount>\n      <cac:TaxCategory>",
    );
    let e = read(bad.as_bytes(), "x").unwrap();
    assert!(
        e.arithmetic.iter().any(|a| a.starts_with("BR-CO-17")),
        "{:?}",
        e.arithmetic
    );
}

const CII_CREDIT_NOTE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument><ram:ID>AV-2026-014</ram:ID><ram:TypeCode>381</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20261105</udt:DateTimeString></ram:IssueDateTime></rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>Retour palette</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>128.50</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">1</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>20</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>128.50</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:SellerTradeParty><ram:Name>Papeterie Dupont SAS</ram:Name>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">123/456/789</ram:ID></ram:SpecifiedTaxRegistration>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">FR32123456789</ram:ID></ram:SpecifiedTaxRegistration></ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>Ourcompany France SAS</ram:Name></ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:ApplicableTradeTax><ram:CalculatedAmount>25.70</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>128.50</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>20</ram:RateApplicablePercent></ram:ApplicableTradeTax>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>128.50</ram:LineTotalAmount><ram:TaxBasisTotalAmount>128.50</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">25.70</ram:TaxTotalAmount><ram:GrandTotalAmount>154.20</ram:GrandTotalAmount>
        <ram:DuePayableAmount>154.20</ram:DuePayableAmount></ram:SpecifiedTradeSettlementHeaderMonetarySummation>
      <ram:InvoiceReferencedDocument><ram:IssuerAssignedID>FA-2026-0991</ram:IssuerAssignedID></ram:InvoiceReferencedDocument>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"#;

#[test]
fn a_cii_type_381_is_a_credit_note_with_its_preceding_invoice() {
    let e = read(CII_CREDIT_NOTE.as_bytes(), "attachment factur-x.xml").unwrap();
    assert_eq!(e.syntax, EInvoiceSyntax::Cii);
    assert_eq!(e.kind, EInvoiceKind::CreditNote);
    assert_eq!(e.profile, "Factur-X BASIC");
    assert_eq!(e.issue_date.unwrap().to_string(), "2026-11-05");
    assert_eq!(e.preceding_invoice.as_deref(), Some("FA-2026-0991"));
    assert_eq!(
        e.seller.vat_id.as_deref(),
        Some("FR32123456789"),
        "the VA scheme, not the tax number"
    );
    assert_eq!(e.lines[0].unit_price, Some(d("128.50")));
    assert_eq!(e.lines[0].vat_rate, Some(d("20")));
    assert_eq!(e.vat.len(), 1);
    assert_eq!(e.totals.total, Some(d("154.20")));
    assert!(e.arithmetic.is_empty(), "{:?}", e.arithmetic);
}

#[test]
fn zugferd_1_cross_industry_document_is_read() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">
  <rsm:SpecifiedExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:ferd:CrossIndustryDocument:invoice:1p0:comfort</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:SpecifiedExchangedDocumentContext>
  <rsm:HeaderExchangedDocument><ram:ID>471102</ram:ID><ram:TypeCode>380</ram:TypeCode><ram:IssueDateTime><udt:DateTimeString format="102">20260305</udt:DateTimeString></ram:IssueDateTime></rsm:HeaderExchangedDocument>
  <rsm:SpecifiedSupplyChainTradeTransaction>
    <ram:ApplicableSupplyChainTradeAgreement><ram:SellerTradeParty><ram:Name>Lieferant GmbH</ram:Name><ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID></ram:SpecifiedTaxRegistration></ram:SellerTradeParty>
      <ram:BuyerOrderReferencedDocument><ram:ID>4500012351</ram:ID></ram:BuyerOrderReferencedDocument></ram:ApplicableSupplyChainTradeAgreement>
    <ram:ApplicableSupplyChainTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:ApplicableTradeTax><ram:CalculatedAmount currencyID="EUR">19.00</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount currencyID="EUR">100.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode><ram:ApplicablePercent>19.00</ram:ApplicablePercent></ram:ApplicableTradeTax>
      <ram:SpecifiedTradePaymentTerms><ram:Description>Zahlbar innerhalb 30 Tagen netto</ram:Description></ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementMonetarySummation><ram:LineTotalAmount currencyID="EUR">100.00</ram:LineTotalAmount><ram:TaxBasisTotalAmount currencyID="EUR">100.00</ram:TaxBasisTotalAmount><ram:TaxTotalAmount currencyID="EUR">19.00</ram:TaxTotalAmount><ram:GrandTotalAmount currencyID="EUR">119.00</ram:GrandTotalAmount><ram:DuePayableAmount currencyID="EUR">119.00</ram:DuePayableAmount></ram:SpecifiedTradeSettlementMonetarySummation>
    </ram:ApplicableSupplyChainTradeSettlement>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedSupplyChainTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount currencyID="EUR">10.0000</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedSupplyChainTradeAgreement>
      <ram:SpecifiedSupplyChainTradeDelivery><ram:BilledQuantity unitCode="C62">10.0000</ram:BilledQuantity></ram:SpecifiedSupplyChainTradeDelivery>
      <ram:SpecifiedSupplyChainTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:ApplicablePercent>19.00</ram:ApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementMonetarySummation><ram:LineTotalAmount currencyID="EUR">100.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementMonetarySummation></ram:SpecifiedSupplyChainTradeSettlement>
      <ram:SpecifiedTradeProduct><ram:Name>Trennblätter A4</ram:Name></ram:SpecifiedTradeProduct>
    </ram:IncludedSupplyChainTradeLineItem>
  </rsm:SpecifiedSupplyChainTradeTransaction>
</rsm:CrossIndustryDocument>"#;
    let e = read(
        xml.as_bytes(),
        "attachment a.pdf, embedded ZUGFeRD-invoice.xml",
    )
    .unwrap();
    assert_eq!(e.syntax, EInvoiceSyntax::Zugferd1);
    assert_eq!(e.profile, "ZUGFeRD 1.0 COMFORT");
    assert_eq!(e.number.as_deref(), Some("471102"));
    assert_eq!(e.po_number.as_deref(), Some("4500012351"));
    assert_eq!(
        e.payment_terms.as_deref(),
        Some("Zahlbar innerhalb 30 Tagen netto")
    );
    assert_eq!(e.lines[0].description, "Trennblätter A4");
    assert_eq!(e.lines[0].quantity.unwrap().to_string(), "10.0000");
    assert_eq!(e.lines[0].net_amount, Some(d("100.00")));
    assert_eq!(e.vat[0].rate, Some(d("19.00")));
    assert_eq!(e.totals.total, Some(d("119.00")));
    assert!(e.arithmetic.is_empty(), "{:?}", e.arithmetic);
}

#[test]
fn an_entity_bomb_and_an_external_entity_are_refused_before_expansion() {
    let bomb = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">{}]><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>"#,
        (1..10)
            .map(|i| format!(
                r#"<!ENTITY lol{i} "{}">"#,
                format!(
                    "&lol{};",
                    if i == 1 {
                        String::new()
                    } else {
                        (i - 1).to_string()
                    }
                )
                .repeat(10)
            ))
            .collect::<String>()
    );
    let started = std::time::Instant::now();
    assert_eq!(read(bomb.as_bytes(), "x").unwrap_err(), EInvoiceError::Dtd);
    assert!(started.elapsed() < std::time::Duration::from_millis(100));
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&xxe;</ID></Invoice>"#;
    let err = read(xxe.as_bytes(), "x").unwrap_err();
    assert_eq!(err.kind(), "dtd");
    assert!(err.to_string().contains("DOCTYPE"), "{err}");
}

#[test]
fn malformed_and_non_invoice_xml_say_what_they_are() {
    let cut = &UBL[..UBL.len() / 2];
    let err = read(cut.as_bytes(), "x").unwrap_err();
    assert_eq!(err.kind(), "malformed", "{err}");
    let order =
        r#"<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"><ID>1</ID></Order>"#;
    assert_eq!(
        read(order.as_bytes(), "x").unwrap_err(),
        EInvoiceError::NotAnInvoice("a UBL Order".into())
    );
    let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Invoice news</title></channel></rss>"#;
    assert_eq!(
        read(rss.as_bytes(), "x").unwrap_err().to_string(),
        "XML is a news feed (rss), not an invoice"
    );
    // An invoice root in the wrong namespace is not an invoice either.
    let wrong_ns = r#"<Invoice xmlns="urn:example:invoice"><ID>1</ID></Invoice>"#;
    assert_eq!(
        read(wrong_ns.as_bytes(), "x").unwrap_err().kind(),
        "not_an_invoice"
    );
    assert_eq!(read(b"%PDF-1.7", "x").unwrap_err(), EInvoiceError::NotXml);
    let latin1 = b"<?xml version=\"1.0\"?><Invoice>caf\xe9</Invoice>";
    assert!(
        read(latin1, "x")
            .unwrap_err()
            .to_string()
            .contains("not UTF-8")
    );
}

#[test]
fn utf16_and_bom_prefixed_documents_are_read() {
    let bom = [b"\xEF\xBB\xBF".as_slice(), CII_CREDIT_NOTE.as_bytes()].concat();
    assert!(read(&bom, "x").is_ok());
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(CII_CREDIT_NOTE.encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect();
    let e = read(&utf16, "x").unwrap();
    assert_eq!(e.number.as_deref(), Some("AV-2026-014"));
}

#[test]
fn candidates_are_xml_by_content_whatever_the_name_or_type() {
    assert!(is_candidate(
        UBL.as_bytes(),
        "application/octet-stream",
        Some("INV_2026_0042")
    ));
    assert!(is_candidate(UBL.as_bytes(), "application/xml", None));
    assert!(is_candidate(b"<rss/>", "text/xml", None));
    assert!(!is_candidate(
        b"<rss/>",
        "application/octet-stream",
        Some("feed")
    ));
    assert!(!is_candidate(
        b"<!DOCTYPE html><html>Invoice</html>",
        "text/html",
        Some("a.html")
    ));
    assert!(!is_candidate(
        b"\x89PNG\r\n",
        "application/xml",
        Some("a.xml")
    ));
    assert!(!is_candidate(b"   ", "application/xml", Some("a.xml")));
}

#[test]
fn profile_names_follow_the_specification_identifier() {
    let cii = EInvoiceSyntax::Cii;
    for (id, name) in [
        (
            "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
            "XRechnung 3.0",
        ),
        (
            "urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_2.3",
            "XRechnung 2.3",
        ),
        (
            "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
            "Peppol BIS Billing 3.0",
        ),
        ("urn:factur-x.eu:1p0:minimum", "Factur-X MINIMUM"),
        ("urn:factur-x.eu:1p0:basicwl", "Factur-X BASIC WL"),
        (
            "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
            "Factur-X BASIC",
        ),
        (
            "urn:cen.eu:en16931:2017",
            "EN 16931 (Factur-X/ZUGFeRD COMFORT)",
        ),
        (
            "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
            "Factur-X EXTENDED",
        ),
        (
            "urn:ferd:CrossIndustryDocument:invoice:1p0:extended",
            "ZUGFeRD 1.0 EXTENDED",
        ),
        ("urn:example:custom", "urn:example:custom"),
    ] {
        assert_eq!(profile_name(Some(id), cii), name, "{id}");
    }
    assert_eq!(
        profile_name(None, EInvoiceSyntax::Ubl),
        "UBL 2.1 (no specification id)"
    );
}

#[test]
fn the_summary_names_parties_lines_and_totals() {
    let e = read(UBL.as_bytes(), "attachment inv.xml").unwrap();
    let s = summary_text(&e);
    for want in [
        "E-invoice (UBL, XRechnung 3.0): Invoice 2026-0042",
        "Seller: Muster Lieferant GmbH (Muster), VAT ID DE123456789",
        "Toner cartridge | qty 2.000 H87 | unit price 120.00 | net 240.00 | VAT 19%",
        "Total with VAT (BT-112): 1178.10 EUR",
        "Arithmetic check failed: BR-CO-15",
    ] {
        assert!(s.contains(want), "{want:?} not in\n{s}");
    }
}
