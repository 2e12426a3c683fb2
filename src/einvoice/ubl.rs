//! OASIS UBL 2.1 `Invoice` and `CreditNote` (XRechnung UBL, Peppol BIS Billing 3.0).

use roxmltree::Node;

use super::xml::{attr, child, children, date, decimal, path, text, text_at};
use crate::model::{
    EInvoice, EInvoiceAllowanceCharge, EInvoiceKind, EInvoiceLine, EInvoiceParty, EInvoiceSyntax,
    EInvoiceTotals, EInvoiceVat,
};

pub fn read(root: Node<'_, '_>, kind: EInvoiceKind) -> EInvoice {
    let currency = text_at(root, &["DocumentCurrencyCode"]);
    let tax_currency = text_at(root, &["TaxCurrencyCode"]);
    let type_code = match kind {
        EInvoiceKind::Invoice => text_at(root, &["InvoiceTypeCode"]),
        EInvoiceKind::CreditNote => text_at(root, &["CreditNoteTypeCode"]),
    };
    let means: Vec<Node> = children(root, "PaymentMeans").collect();
    let account = means
        .iter()
        .find_map(|m| child(*m, "PayeeFinancialAccount"));
    let due_date = date(child(root, "DueDate"))
        .or_else(|| means.iter().find_map(|m| date(child(*m, "PaymentDueDate"))));
    let (vat, tax, tax_accounting) = tax_totals(root, currency.as_deref(), tax_currency.as_deref());
    let monetary = child(root, "LegalMonetaryTotal");
    let amount = |name: &str| monetary.and_then(|m| decimal(child(m, name)));
    let line_name = match kind {
        EInvoiceKind::Invoice => "InvoiceLine",
        EInvoiceKind::CreditNote => "CreditNoteLine",
    };
    EInvoice {
        syntax: EInvoiceSyntax::Ubl,
        kind,
        type_code,
        guideline: text_at(root, &["CustomizationID"]),
        profile: String::new(),
        source: String::new(),
        number: text_at(root, &["ID"]),
        issue_date: date(child(root, "IssueDate")),
        due_date,
        currency,
        buyer_reference: text_at(root, &["BuyerReference"]),
        po_number: text_at(root, &["OrderReference", "ID"]),
        preceding_invoice: text_at(
            root,
            &["BillingReference", "InvoiceDocumentReference", "ID"],
        ),
        payment_terms: text_at(root, &["PaymentTerms", "Note"]),
        seller: party(path(root, &["AccountingSupplierParty", "Party"])),
        buyer: party(path(root, &["AccountingCustomerParty", "Party"])),
        iban: account.and_then(|a| text(child(a, "ID"))),
        bic: account.and_then(|a| text_at(a, &["FinancialInstitutionBranch", "ID"])),
        lines: children(root, line_name).map(line).collect(),
        allowances_charges: children(root, "AllowanceCharge")
            .filter_map(allowance_charge)
            .collect(),
        vat,
        totals: EInvoiceTotals {
            line_total: amount("LineExtensionAmount"),
            allowances: amount("AllowanceTotalAmount"),
            charges: amount("ChargeTotalAmount"),
            net: amount("TaxExclusiveAmount"),
            tax,
            tax_in_accounting_currency: tax_accounting,
            total: amount("TaxInclusiveAmount"),
            prepaid: amount("PrepaidAmount"),
            rounding: amount("PayableRoundingAmount"),
            due: amount("PayableAmount"),
        },
        arithmetic: Vec::new(),
        visual_mismatch: Vec::new(),
    }
}

/// The VAT breakdown and total in the document currency (BT-110), and the total in the tax
/// accounting currency (BT-111) when a second `TaxTotal` gives one.
type TaxTotals = (
    Vec<EInvoiceVat>,
    Option<rust_decimal::Decimal>,
    Option<(rust_decimal::Decimal, String)>,
);

fn tax_totals(root: Node<'_, '_>, currency: Option<&str>, tax_currency: Option<&str>) -> TaxTotals {
    let mut breakdown = Vec::new();
    let mut tax = None;
    let mut accounting = None;
    for total in children(root, "TaxTotal") {
        let amount_node = child(total, "TaxAmount");
        let cur = attr(amount_node, "currencyID");
        let in_tax_currency =
            tax_currency.is_some() && tax_currency != currency && cur.as_deref() == tax_currency;
        match decimal(amount_node) {
            Some(a) if in_tax_currency => {
                accounting = Some((a, cur.unwrap_or_default()));
                continue;
            }
            Some(a) if tax.is_none() => tax = Some(a),
            _ => {}
        }
        for sub in children(total, "TaxSubtotal") {
            let category = child(sub, "TaxCategory");
            breakdown.push(EInvoiceVat {
                category: category.and_then(|c| text(child(c, "ID"))),
                rate: category.and_then(|c| decimal(child(c, "Percent"))),
                taxable: decimal(child(sub, "TaxableAmount")),
                tax: decimal(child(sub, "TaxAmount")),
            });
        }
    }
    (breakdown, tax, accounting)
}

fn party(node: Option<Node<'_, '_>>) -> EInvoiceParty {
    let Some(p) = node else {
        return EInvoiceParty::default();
    };
    // The VAT identifier is the PartyTaxScheme whose scheme is VAT (another may hold a tax
    // registration number, BT-32).
    let vat_id = children(p, "PartyTaxScheme")
        .find(|s| text_at(*s, &["TaxScheme", "ID"]).is_none_or(|id| id.eq_ignore_ascii_case("VAT")))
        .and_then(|s| text(child(s, "CompanyID")));
    let address = child(p, "PostalAddress")
        .map(|a| {
            [
                text(child(a, "StreetName")),
                text(child(a, "AdditionalStreetName")),
                match (text(child(a, "PostalZone")), text(child(a, "CityName"))) {
                    (Some(z), Some(c)) => Some(format!("{z} {c}")),
                    (z, c) => z.or(c),
                },
                text_at(a, &["Country", "IdentificationCode"]),
            ]
            .into_iter()
            .flatten()
            .collect()
        })
        .unwrap_or_default();
    EInvoiceParty {
        name: text_at(p, &["PartyLegalEntity", "RegistrationName"]),
        trading_name: text_at(p, &["PartyName", "Name"]),
        vat_id,
        address,
        email: text_at(p, &["Contact", "ElectronicMail"]).or_else(|| text(child(p, "EndpointID"))),
    }
}

fn line(node: Node<'_, '_>) -> EInvoiceLine {
    let item = child(node, "Item");
    let category = item.and_then(|i| child(i, "ClassifiedTaxCategory"));
    let quantity = child(node, "InvoicedQuantity").or_else(|| child(node, "CreditedQuantity"));
    EInvoiceLine {
        id: text(child(node, "ID")),
        description: item
            .and_then(|i| text(child(i, "Name")).or_else(|| text(child(i, "Description"))))
            .unwrap_or_default(),
        quantity: decimal(quantity),
        unit: attr(quantity, "unitCode"),
        unit_price: decimal(path(node, &["Price", "PriceAmount"])),
        net_amount: decimal(child(node, "LineExtensionAmount")),
        vat_category: category.and_then(|c| text(child(c, "ID"))),
        vat_rate: category.and_then(|c| decimal(child(c, "Percent"))),
    }
}

fn allowance_charge(node: Node<'_, '_>) -> Option<EInvoiceAllowanceCharge> {
    Some(EInvoiceAllowanceCharge {
        charge: text(child(node, "ChargeIndicator"))?.eq_ignore_ascii_case("true"),
        amount: decimal(child(node, "Amount"))?,
        reason: text(child(node, "AllowanceChargeReason")),
    })
}
