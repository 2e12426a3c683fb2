//! UN/CEFACT Cross Industry Invoice: D16B `CrossIndustryInvoice` (XRechnung CII, ZUGFeRD 2.x,
//! Factur-X MINIMUM … EXTENDED) and the older `CrossIndustryDocument` of ZUGFeRD 1.0. The two
//! share the model; element names differ in a handful of places, listed side by side below.

use roxmltree::Node;

use super::xml::{attr, child, child_any, children, date, decimal, path, text, text_at};
use crate::model::{
    EInvoice, EInvoiceAllowanceCharge, EInvoiceKind, EInvoiceLine, EInvoiceParty, EInvoiceSyntax,
    EInvoiceTotals, EInvoiceVat,
};

/// Element names that differ between D16B (first) and ZUGFeRD 1.0 (second).
const CONTEXT: &[&str] = &[
    "ExchangedDocumentContext",
    "SpecifiedExchangedDocumentContext",
];
const DOCUMENT: &[&str] = &["ExchangedDocument", "HeaderExchangedDocument"];
const TRANSACTION: &[&str] = &[
    "SupplyChainTradeTransaction",
    "SpecifiedSupplyChainTradeTransaction",
];
const AGREEMENT: &[&str] = &[
    "ApplicableHeaderTradeAgreement",
    "ApplicableSupplyChainTradeAgreement",
];
const SETTLEMENT: &[&str] = &[
    "ApplicableHeaderTradeSettlement",
    "ApplicableSupplyChainTradeSettlement",
];
const SUMMATION: &[&str] = &[
    "SpecifiedTradeSettlementHeaderMonetarySummation",
    "SpecifiedTradeSettlementMonetarySummation",
];
const LINE_AGREEMENT: &[&str] = &[
    "SpecifiedLineTradeAgreement",
    "SpecifiedSupplyChainTradeAgreement",
];
const LINE_DELIVERY: &[&str] = &[
    "SpecifiedLineTradeDelivery",
    "SpecifiedSupplyChainTradeDelivery",
];
const LINE_SETTLEMENT: &[&str] = &[
    "SpecifiedLineTradeSettlement",
    "SpecifiedSupplyChainTradeSettlement",
];
const LINE_SUMMATION: &[&str] = &[
    "SpecifiedTradeSettlementLineMonetarySummation",
    "SpecifiedTradeSettlementMonetarySummation",
];
const RATE: &[&str] = &["RateApplicablePercent", "ApplicablePercent"];

pub fn read(root: Node<'_, '_>, syntax: EInvoiceSyntax) -> EInvoice {
    let context = child_any(root, CONTEXT);
    let document = child_any(root, DOCUMENT);
    let transaction = child_any(root, TRANSACTION);
    let agreement = transaction.and_then(|t| child_any(t, AGREEMENT));
    let settlement = transaction.and_then(|t| child_any(t, SETTLEMENT));
    let summation = settlement.and_then(|s| child_any(s, SUMMATION));
    let currency = settlement.and_then(|s| text(child(s, "InvoiceCurrencyCode")));
    let tax_currency = settlement.and_then(|s| text(child(s, "TaxCurrencyCode")));
    let type_code = document.and_then(|d| text(child(d, "TypeCode")));
    // 381 credit note; 261 self-billed credit note; 396 factored credit note (UNTDID 1001).
    let kind = match type_code.as_deref() {
        Some("381" | "261" | "262" | "396" | "532") => EInvoiceKind::CreditNote,
        _ => EInvoiceKind::Invoice,
    };
    let means: Vec<Node> = settlement
        .map(|s| children(s, "SpecifiedTradeSettlementPaymentMeans").collect())
        .unwrap_or_default();
    let terms: Vec<Node> = settlement
        .map(|s| children(s, "SpecifiedTradePaymentTerms").collect())
        .unwrap_or_default();
    let (tax, tax_accounting) = tax_totals(summation, currency.as_deref(), tax_currency.as_deref());
    let amount = |name: &str| summation.and_then(|m| decimal(child(m, name)));
    EInvoice {
        syntax,
        kind,
        type_code,
        guideline: context
            .and_then(|c| text_at(c, &["GuidelineSpecifiedDocumentContextParameter", "ID"])),
        profile: String::new(),
        source: String::new(),
        number: document.and_then(|d| text(child(d, "ID"))),
        issue_date: document.and_then(|d| date(child(d, "IssueDateTime"))),
        due_date: terms
            .iter()
            .find_map(|t| date(child(*t, "DueDateDateTime"))),
        currency,
        buyer_reference: agreement.and_then(|a| text(child(a, "BuyerReference"))),
        po_number: agreement.and_then(|a| {
            let order = child(a, "BuyerOrderReferencedDocument")?;
            text(child_any(order, &["IssuerAssignedID", "ID"]))
        }),
        preceding_invoice: settlement.and_then(|s| {
            let reference = child(s, "InvoiceReferencedDocument")?;
            text(child_any(reference, &["IssuerAssignedID", "ID"]))
        }),
        payment_terms: terms.iter().find_map(|t| text(child(*t, "Description"))),
        seller: party(agreement.and_then(|a| child(a, "SellerTradeParty"))),
        buyer: party(agreement.and_then(|a| child(a, "BuyerTradeParty"))),
        iban: means.iter().find_map(|m| {
            text_at(*m, &["PayeePartyCreditorFinancialAccount", "IBANID"])
                .or_else(|| text_at(*m, &["PayeePartyCreditorFinancialAccount", "ProprietaryID"]))
        }),
        bic: means
            .iter()
            .find_map(|m| text_at(*m, &["PayeeSpecifiedCreditorFinancialInstitution", "BICID"])),
        lines: transaction
            .map(|t| {
                children(t, "IncludedSupplyChainTradeLineItem")
                    .map(line)
                    .collect()
            })
            .unwrap_or_default(),
        allowances_charges: settlement
            .map(|s| {
                children(s, "SpecifiedTradeAllowanceCharge")
                    .filter_map(allowance_charge)
                    .collect()
            })
            .unwrap_or_default(),
        vat: settlement
            .map(|s| children(s, "ApplicableTradeTax").map(vat).collect())
            .unwrap_or_default(),
        totals: EInvoiceTotals {
            line_total: amount("LineTotalAmount"),
            allowances: amount("AllowanceTotalAmount"),
            charges: amount("ChargeTotalAmount"),
            net: amount("TaxBasisTotalAmount"),
            tax,
            tax_in_accounting_currency: tax_accounting,
            total: amount("GrandTotalAmount"),
            prepaid: amount("TotalPrepaidAmount"),
            rounding: amount("RoundingAmount"),
            due: amount("DuePayableAmount"),
        },
        arithmetic: Vec::new(),
        visual_mismatch: Vec::new(),
    }
}

/// BT-110 is the `TaxTotalAmount` in the invoice currency; a second one in the tax accounting
/// currency (BT-6) is BT-111. Without currency attributes, the first one is BT-110.
type TaxTotals = (
    Option<rust_decimal::Decimal>,
    Option<(rust_decimal::Decimal, String)>,
);

fn tax_totals(
    summation: Option<Node<'_, '_>>,
    currency: Option<&str>,
    tax_currency: Option<&str>,
) -> TaxTotals {
    let Some(s) = summation else {
        return (None, None);
    };
    let mut tax = None;
    let mut accounting = None;
    for node in children(s, "TaxTotalAmount") {
        let cur = attr(Some(node), "currencyID");
        let Some(amount) = decimal(Some(node)) else {
            continue;
        };
        let in_tax_currency =
            tax_currency.is_some() && tax_currency != currency && cur.as_deref() == tax_currency;
        if in_tax_currency {
            accounting = Some((amount, cur.unwrap_or_default()));
        } else if tax.is_none() {
            tax = Some(amount);
        }
    }
    (tax, accounting)
}

fn party(node: Option<Node<'_, '_>>) -> EInvoiceParty {
    let Some(p) = node else {
        return EInvoiceParty::default();
    };
    // schemeID "VA" is the VAT identifier (BT-31); "FC" a tax number (BT-32).
    let registrations: Vec<Node> = children(p, "SpecifiedTaxRegistration").collect();
    let vat_id = registrations
        .iter()
        .filter_map(|r| child(*r, "ID"))
        .find(|id| {
            id.attribute("schemeID")
                .is_some_and(|s| s.eq_ignore_ascii_case("VA"))
        })
        .and_then(|id| text(Some(id)));
    let address = child(p, "PostalTradeAddress")
        .map(|a| {
            [
                text(child(a, "LineOne")),
                text(child(a, "LineTwo")),
                match (text(child(a, "PostcodeCode")), text(child(a, "CityName"))) {
                    (Some(z), Some(c)) => Some(format!("{z} {c}")),
                    (z, c) => z.or(c),
                },
                text(child(a, "CountryID")),
            ]
            .into_iter()
            .flatten()
            .collect()
        })
        .unwrap_or_default();
    EInvoiceParty {
        name: text(child(p, "Name")),
        trading_name: text_at(p, &["SpecifiedLegalOrganization", "TradingBusinessName"]),
        vat_id,
        address,
        email: text_at(
            p,
            &[
                "DefinedTradeContact",
                "EmailURIUniversalCommunication",
                "URIID",
            ],
        )
        .or_else(|| text_at(p, &["URIUniversalCommunication", "URIID"])),
    }
}

fn line(node: Node<'_, '_>) -> EInvoiceLine {
    let product = child(node, "SpecifiedTradeProduct");
    let agreement = child_any(node, LINE_AGREEMENT);
    let delivery = child_any(node, LINE_DELIVERY);
    let settlement = child_any(node, LINE_SETTLEMENT);
    let tax = settlement.and_then(|s| child(s, "ApplicableTradeTax"));
    let quantity = delivery.and_then(|d| child(d, "BilledQuantity"));
    EInvoiceLine {
        id: text_at(node, &["AssociatedDocumentLineDocument", "LineID"]),
        description: product
            .and_then(|p| text(child(p, "Name")).or_else(|| text(child(p, "Description"))))
            .unwrap_or_default(),
        quantity: decimal(quantity),
        unit: attr(quantity, "unitCode"),
        unit_price: agreement
            .and_then(|a| decimal(path(a, &["NetPriceProductTradePrice", "ChargeAmount"]))),
        net_amount: settlement.and_then(|s| {
            let sum = child_any(s, LINE_SUMMATION)?;
            decimal(child(sum, "LineTotalAmount"))
        }),
        vat_category: tax.and_then(|t| text(child(t, "CategoryCode"))),
        vat_rate: tax.and_then(|t| decimal(child_any(t, RATE))),
    }
}

fn vat(node: Node<'_, '_>) -> EInvoiceVat {
    EInvoiceVat {
        category: text(child(node, "CategoryCode")),
        rate: decimal(child_any(node, RATE)),
        taxable: decimal(child(node, "BasisAmount")),
        tax: decimal(child(node, "CalculatedAmount")),
    }
}

fn allowance_charge(node: Node<'_, '_>) -> Option<EInvoiceAllowanceCharge> {
    let indicator = child(node, "ChargeIndicator")?;
    let charge = text(child(indicator, "Indicator").or(Some(indicator)))?;
    Some(EInvoiceAllowanceCharge {
        charge: charge.eq_ignore_ascii_case("true"),
        amount: decimal(child(node, "ActualAmount"))?,
        reason: text(child(node, "Reason")),
    })
}
