#!/usr/bin/env python3
"""Generate deskmail's corpus of structured e-invoices (EN 16931) and the mail that carries them.

Run from the repository root:

    python3 -m venv /var/tmp/deskmail-py \\
      && /var/tmp/deskmail-py/bin/pip install -r scripts/requirements-einvoices.txt \\
      && /var/tmp/deskmail-py/bin/python scripts/make-einvoices.py

Output goes to ``$FIXTURES_DIR/einvoice/`` (default: the repository's ``fixtures/``):

  * ``files/NAME.xml``  every standalone XML (UBL 2.1, CII D16B, broken and hostile ones),
  * ``files/NAME.pdf``  every hybrid PDF (PDF/A-3 with an embedded CII / ZUGFeRD 1.0 XML),
  * ``mail/NAME.eml``   one email per fixture carrying that file as a base64 attachment,
  * ``mail/NAME.expected.json``  the golden expectation (see fixtures/einvoice/README.md),
  * ``README.md``       the table of fixtures and the expectation format (also generated).

How it works: every valid invoice is described once in a small Python model (parties, lines,
allowances/charges, prepaid, rounding).  The model computes its totals with ``Decimal`` under the
EN 16931 rules (BR-CO-10/13/15/16, per-rate VAT = basis x rate rounded half-up to 2 decimals) and
is then written as UBL 2.1 (Invoice / CreditNote), CII D16B (Factur-X / ZUGFeRD 2.x / XRechnung)
or the legacy ZUGFeRD 1.0 ``CrossIndustryDocument``, all with lxml.  The golden JSON is *not*
taken from the model: an independent reader parses the XML bytes that were written (amounts,
quantities and rates kept exactly as written) and the script asserts that what it read equals
the model, that the arithmetic holds (or, for the one deliberately wrong fixture per syntax,
that it does not), and that the UBL and CII renderings of the same XRechnung give equal fields.

Validation done on every run (it raises on failure):

  * every XML against its XSD: UBL 2.1 Invoice/CreditNote/Order/DespatchAdvice (where shipped by
    the ``factur-x`` package), the Factur-X 1.0 XSD of the profile, the ZUGFeRD 1.0 XSD;
  * every EN 16931 UBL document against the CEN EN16931-UBL schematron and every Factur-X CII
    document against the Factur-X schematron of its profile (XSLT shipped by ``factur-x``, run
    with ``saxonche``); the arithmetic-error fixtures must fail exactly the expected BR-CO rules.
    Set ``EINVOICE_SKIP_SCHEMATRON=1`` to skip this (slow) step; the output does not change;
  * every hybrid: the embedded file is extracted again with ``pypdf`` and with
    ``facturx.get_xml_from_pdf`` and compared byte for byte with what was embedded; the visual
    text is read back with ``pypdf`` and must contain the invoice number and the total (except
    the deliberate mismatch fixture, where it must contain the other ones).

Determinism: fixed dates, MIME boundaries and Message-IDs, no random numbers, reportlab with
``invariant=1``, a fixed PDF /ID, fixed XMP/Info dates and a fixed-date sRGB ICC profile; files
are written in sorted order.  Running twice into two directories yields identical trees
(``FIXTURES_DIR=/tmp/a python scripts/make-einvoices.py; FIXTURES_DIR=/tmp/b ...; diff -r``).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import email.utils
import hashlib
import io
import json
import os
import pathlib
import quopri
import re
import struct
import sys
import urllib.parse
import zlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES_DIR = pathlib.Path(os.environ.get("FIXTURES_DIR", ROOT / "fixtures"))
OUT = FIXTURES_DIR / "einvoice"
FILES_DIR = OUT / "files"
MAIL_DIR = OUT / "mail"

PRODUCER = "deskmail scripts/make-einvoices.py"
AP = ("Ourcompany Accounts Payable", "ap@ourcompany.example")

D = Decimal


def q2(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def f2(x: Decimal) -> str:
    return str(q2(x))


# ---------------------------------------------------------------------------
# identifiers with correct check digits
# ---------------------------------------------------------------------------

def iban(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def de_vat(base8: str) -> str:
    """German USt-IdNr: 8 digits + ISO 7064 MOD 11,10 check digit."""
    product = 10
    for ch in base8:
        s = (int(ch) + product) % 10 or 10
        product = (2 * s) % 11
    return f"DE{base8}{(11 - product) % 10}"


def be_vat(base8: str) -> str:
    return f"BE{base8}{97 - int(base8) % 97:02d}"


def fr_vat(siren: str) -> str:
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def nl_vat(base8: str) -> str:
    s = sum(int(c) * w for c, w in zip(base8, range(9, 1, -1))) % 11
    assert s != 10
    return f"NL{base8}{s}B01"


# ---------------------------------------------------------------------------
# the invoice model
# ---------------------------------------------------------------------------

@dataclass
class Party:
    name: str                      # legal name (BT-27 / BT-44)
    street: str
    city: str
    zip: str
    country: str
    trading_name: str | None = None    # BT-28 / BT-45
    vat_id: str | None = None          # BT-31 / BT-48
    tax_number: str | None = None      # BT-32 (Steuernummer, scheme FC)
    legal_id: str | None = None        # BT-30 (Handelsregister, SIREN, KBO)
    legal_id_scheme: str | None = None
    endpoint: tuple[str, str] | None = None   # (EAS scheme, id) BT-34 / BT-49
    ident: str | None = None           # BT-29 / BT-46 party identifier
    contact: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass
class Line:
    name: str
    qty: str
    price: str
    rate: str | None               # as written; None for category O
    cat: str = "S"
    unit: str = "C62"
    allowance: str | None = None   # line allowance (BT-136)
    allowance_reason: str | None = None
    net_written: str | None = None  # force a (wrong) net amount into the XML
    seller_id: str | None = None
    order_line: str | None = None  # EXTENDED: line-level order reference

    def net(self) -> Decimal:
        n = D(self.qty) * D(self.price)
        if self.allowance:
            n -= D(self.allowance)
        return q2(n)


@dataclass
class AC:
    """A document-level allowance (charge=False) or charge (charge=True)."""
    charge: bool
    amount: str
    reason: str
    code: str
    cat: str = "S"
    rate: str | None = "19"


EXEMPTION = {
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "E": ("VATEX-EU-132-1I", "Exempt: financial and insurance services"),
    "K": ("VATEX-EU-IC", "Intra-community supply"),
}


@dataclass
class Invoice:
    number: str
    issue: dt.date
    seller: Party
    buyer: Party
    lines: list[Line]
    guideline: str
    currency: str = "EUR"
    type_code: str = "380"
    credit_note: bool = False          # UBL: CreditNote root
    profile_id: str | None = None      # UBL ProfileID (BT-23)
    due: dt.date | None = None
    terms: str | None = None
    buyer_ref: str | None = None
    po: str | None = None
    preceding: tuple[str, dt.date] | None = None
    iban: str | None = None
    bic: str | None = None
    account_name: str | None = None
    means_code: str | None = "58"      # None: no payment means at all
    payment_ref: str | None = None
    acs: list[AC] = field(default_factory=list)
    prepaid: str | None = None
    rounding: str | None = None
    tax_currency: str | None = None
    tax_rate_to_tax_currency: str | None = None
    tax_currency_first: bool = True
    notes: list[str] = field(default_factory=list)
    delivery: dt.date | None = None
    emit_zero_totals: bool = True      # write AllowanceTotal/ChargeTotal/Prepaid 0.00
    written: dict[str, str] = field(default_factory=dict)   # totals forced into the XML

    # ---- EN 16931 arithmetic -------------------------------------------------
    def groups(self) -> list[dict]:
        """VAT breakdown in order of first appearance: category, rate (as written), basis, tax."""
        out: dict[tuple[str, Decimal | None], dict] = {}

        def slot(cat: str, rate: str | None) -> dict:
            key = (cat, None if rate is None else D(rate))
            if key not in out:
                out[key] = {"cat": cat, "rate": rate, "basis": D("0")}
            return out[key]

        for ln in self.lines:
            slot(ln.cat, ln.rate)["basis"] += ln.net()
        for ac in self.acs:
            slot(ac.cat, ac.rate)["basis"] += D(ac.amount) if ac.charge else -D(ac.amount)
        for g in out.values():
            g["tax"] = q2(g["basis"] * (D(g["rate"]) if g["rate"] else D(0)) / 100)
            g["basis"] = q2(g["basis"])
        return list(out.values())

    def totals(self) -> dict[str, Decimal | None]:
        line_total = sum((ln.net() for ln in self.lines), D("0"))
        allow = sum((D(a.amount) for a in self.acs if not a.charge), D("0"))
        charge = sum((D(a.amount) for a in self.acs if a.charge), D("0"))
        net = line_total - allow + charge
        tax = sum((g["tax"] for g in self.groups()), D("0"))
        total = net + tax
        prepaid = D(self.prepaid) if self.prepaid else D("0")
        rounding = D(self.rounding) if self.rounding else D("0")
        due = total - prepaid + rounding
        t = {"line_total": line_total, "allowances": allow, "charges": charge, "net": net,
             "tax": tax, "total": total, "prepaid": prepaid, "rounding": rounding, "due": due}
        return {k: q2(v) for k, v in t.items()}

    def written_totals(self) -> dict[str, str | None]:
        """The totals as they will be written into the XML (None: element omitted)."""
        t = {k: f2(v) for k, v in self.totals().items()}
        if not self.emit_zero_totals:
            for k in ("allowances", "charges", "prepaid"):
                if D(t[k]) == 0:
                    t[k] = None
        if not self.rounding:
            t["rounding"] = None
        t.update(self.written)
        return t

    def tax_in_tax_currency(self) -> str | None:
        if not self.tax_currency:
            return None
        return f2(self.totals()["tax"] * D(self.tax_rate_to_tax_currency))


# ---------------------------------------------------------------------------
# XML writing helpers
# ---------------------------------------------------------------------------

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "zrsm": "urn:ferd:CrossIndustryDocument:invoice:1p0",
    "zram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12",
    "zudt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15",
}


def qn(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{NS[prefix]}}}{local}"


def sub(parent, tag: str, text: str | None = None, **attrs):
    el = etree.SubElement(parent, qn(tag))
    if text is not None:
        el.text = text
    for k, v in attrs.items():
        el.set(k, v)
    return el


def serialize(root) -> bytes:
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def d102(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


# ---------------------------------------------------------------------------
# UBL 2.1
# ---------------------------------------------------------------------------

def ubl_party(parent, p: Party, *, seller: bool):
    party = sub(parent, "cac:Party")
    if p.endpoint:
        sub(party, "cbc:EndpointID", p.endpoint[1], schemeID=p.endpoint[0])
    if p.ident:
        sub(sub(party, "cac:PartyIdentification"), "cbc:ID", p.ident)
    if p.trading_name:
        sub(sub(party, "cac:PartyName"), "cbc:Name", p.trading_name)
    addr = sub(party, "cac:PostalAddress")
    sub(addr, "cbc:StreetName", p.street)
    sub(addr, "cbc:CityName", p.city)
    sub(addr, "cbc:PostalZone", p.zip)
    sub(sub(addr, "cac:Country"), "cbc:IdentificationCode", p.country)
    if p.vat_id:
        pts = sub(party, "cac:PartyTaxScheme")
        sub(pts, "cbc:CompanyID", p.vat_id)
        sub(sub(pts, "cac:TaxScheme"), "cbc:ID", "VAT")
    if seller and p.tax_number:
        pts = sub(party, "cac:PartyTaxScheme")
        sub(pts, "cbc:CompanyID", p.tax_number)
        sub(sub(pts, "cac:TaxScheme"), "cbc:ID", "FC")
    ple = sub(party, "cac:PartyLegalEntity")
    sub(ple, "cbc:RegistrationName", p.name)
    if p.legal_id:
        if p.legal_id_scheme:
            sub(ple, "cbc:CompanyID", p.legal_id, schemeID=p.legal_id_scheme)
        else:
            sub(ple, "cbc:CompanyID", p.legal_id)
    if p.contact or p.phone or p.email:
        c = sub(party, "cac:Contact")
        if p.contact:
            sub(c, "cbc:Name", p.contact)
        if p.phone:
            sub(c, "cbc:Telephone", p.phone)
        if p.email:
            sub(c, "cbc:ElectronicMail", p.email)


def ubl_tax_category(parent, tag: str, cat: str, rate: str | None, *, with_exemption: bool):
    tc = sub(parent, tag)
    sub(tc, "cbc:ID", cat)
    if rate is not None:
        sub(tc, "cbc:Percent", rate)
    if with_exemption and cat in EXEMPTION:
        sub(tc, "cbc:TaxExemptionReasonCode", EXEMPTION[cat][0])
        sub(tc, "cbc:TaxExemptionReason", EXEMPTION[cat][1])
    sub(sub(tc, "cac:TaxScheme"), "cbc:ID", "VAT")


def write_ubl(inv: Invoice, *, default_ns: bool = False) -> bytes:
    cn = inv.credit_note
    root_ns = NS["cn"] if cn else NS["inv"]
    nsmap = {None if default_ns else "ubl": root_ns, "cac": NS["cac"], "cbc": NS["cbc"]}
    root = etree.Element(f"{{{root_ns}}}{'CreditNote' if cn else 'Invoice'}", nsmap=nsmap)
    cur = inv.currency
    sub(root, "cbc:CustomizationID", inv.guideline)
    if inv.profile_id:
        sub(root, "cbc:ProfileID", inv.profile_id)
    sub(root, "cbc:ID", inv.number)
    sub(root, "cbc:IssueDate", inv.issue.isoformat())
    if inv.due and not cn:
        sub(root, "cbc:DueDate", inv.due.isoformat())
    sub(root, "cbc:CreditNoteTypeCode" if cn else "cbc:InvoiceTypeCode", inv.type_code)
    for note in inv.notes:
        sub(root, "cbc:Note", note)
    sub(root, "cbc:DocumentCurrencyCode", cur)
    if inv.tax_currency:
        sub(root, "cbc:TaxCurrencyCode", inv.tax_currency)
    if inv.buyer_ref:
        sub(root, "cbc:BuyerReference", inv.buyer_ref)
    if inv.po:
        sub(sub(root, "cac:OrderReference"), "cbc:ID", inv.po)
    if inv.preceding:
        idr = sub(sub(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        sub(idr, "cbc:ID", inv.preceding[0])
        sub(idr, "cbc:IssueDate", inv.preceding[1].isoformat())
    ubl_party(sub(root, "cac:AccountingSupplierParty"), inv.seller, seller=True)
    ubl_party(sub(root, "cac:AccountingCustomerParty"), inv.buyer, seller=False)
    if inv.delivery:
        sub(sub(root, "cac:Delivery"), "cbc:ActualDeliveryDate", inv.delivery.isoformat())
    if inv.means_code:
        pm = sub(root, "cac:PaymentMeans")
        sub(pm, "cbc:PaymentMeansCode", inv.means_code)
        if inv.due and cn:
            sub(pm, "cbc:PaymentDueDate", inv.due.isoformat())
        if inv.payment_ref:
            sub(pm, "cbc:PaymentID", inv.payment_ref)
        if inv.iban:
            acc = sub(pm, "cac:PayeeFinancialAccount")
            sub(acc, "cbc:ID", inv.iban)
            if inv.account_name:
                sub(acc, "cbc:Name", inv.account_name)
            if inv.bic:
                sub(sub(acc, "cac:FinancialInstitutionBranch"), "cbc:ID", inv.bic)
    if inv.terms:
        sub(sub(root, "cac:PaymentTerms"), "cbc:Note", inv.terms)
    for ac in inv.acs:
        a = sub(root, "cac:AllowanceCharge")
        sub(a, "cbc:ChargeIndicator", "true" if ac.charge else "false")
        sub(a, "cbc:AllowanceChargeReasonCode", ac.code)
        sub(a, "cbc:AllowanceChargeReason", ac.reason)
        sub(a, "cbc:Amount", ac.amount, currencyID=cur)
        ubl_tax_category(a, "cac:TaxCategory", ac.cat, ac.rate, with_exemption=False)
    wt = inv.written_totals()

    def tax_in_tax_currency():
        tt = sub(root, "cac:TaxTotal")
        sub(tt, "cbc:TaxAmount", inv.tax_in_tax_currency(), currencyID=inv.tax_currency)

    if inv.tax_currency and inv.tax_currency_first:
        tax_in_tax_currency()
    tt = sub(root, "cac:TaxTotal")
    sub(tt, "cbc:TaxAmount", wt["tax"], currencyID=cur)
    for g in inv.groups():
        ts = sub(tt, "cac:TaxSubtotal")
        sub(ts, "cbc:TaxableAmount", f2(g["basis"]), currencyID=cur)
        sub(ts, "cbc:TaxAmount", f2(g["tax"]), currencyID=cur)
        ubl_tax_category(ts, "cac:TaxCategory", g["cat"], g["rate"], with_exemption=True)
    if inv.tax_currency and not inv.tax_currency_first:
        tax_in_tax_currency()
    lmt = sub(root, "cac:LegalMonetaryTotal")
    for key, tag in (("line_total", "LineExtensionAmount"), ("net", "TaxExclusiveAmount"),
                     ("total", "TaxInclusiveAmount"), ("allowances", "AllowanceTotalAmount"),
                     ("charges", "ChargeTotalAmount"), ("prepaid", "PrepaidAmount"),
                     ("rounding", "PayableRoundingAmount"), ("due", "PayableAmount")):
        if wt[key] is not None:
            sub(lmt, f"cbc:{tag}", wt[key], currencyID=cur)
    for i, ln in enumerate(inv.lines, 1):
        il = sub(root, "cac:CreditNoteLine" if cn else "cac:InvoiceLine")
        sub(il, "cbc:ID", str(i))
        sub(il, "cbc:CreditedQuantity" if cn else "cbc:InvoicedQuantity", ln.qty, unitCode=ln.unit)
        sub(il, "cbc:LineExtensionAmount", ln.net_written or f2(ln.net()), currencyID=cur)
        if ln.order_line:
            sub(sub(il, "cac:OrderLineReference"), "cbc:LineID", ln.order_line)
        if ln.allowance:
            a = sub(il, "cac:AllowanceCharge")
            sub(a, "cbc:ChargeIndicator", "false")
            sub(a, "cbc:AllowanceChargeReason", ln.allowance_reason or "Discount")
            sub(a, "cbc:Amount", ln.allowance, currencyID=cur)
        item = sub(il, "cac:Item")
        sub(item, "cbc:Name", ln.name)
        if ln.seller_id:
            sub(sub(item, "cac:SellersItemIdentification"), "cbc:ID", ln.seller_id)
        ubl_tax_category(item, "cac:ClassifiedTaxCategory", ln.cat, ln.rate, with_exemption=False)
        sub(sub(il, "cac:Price"), "cbc:PriceAmount", ln.price, currencyID=cur)
    return serialize(root)


# ---------------------------------------------------------------------------
# CII D16B (Factur-X 1.0 / ZUGFeRD 2.x / XRechnung CII)
# ---------------------------------------------------------------------------

LEVELS = ["minimum", "basicwl", "basic", "en16931", "extended"]


def cii_date(parent, tag: str, d: dt.date, dtype: str = "udt"):
    sub(sub(parent, tag), f"{dtype}:DateTimeString", d102(d), format="102")


def cii_party(parent, tag: str, p: Party, level: str, *, seller: bool):
    lv = LEVELS.index(level)
    tp = sub(parent, tag)
    if p.ident and level != "minimum":
        sub(tp, "ram:ID", p.ident)
    sub(tp, "ram:Name", p.name)
    if level == "minimum":
        if seller and p.legal_id:
            org = sub(tp, "ram:SpecifiedLegalOrganization")
            if p.legal_id_scheme:
                sub(org, "ram:ID", p.legal_id, schemeID=p.legal_id_scheme)
            else:
                sub(org, "ram:ID", p.legal_id)
        if seller:
            sub(sub(tp, "ram:PostalTradeAddress"), "ram:CountryID", p.country)
            if p.vat_id:
                sub(sub(tp, "ram:SpecifiedTaxRegistration"), "ram:ID", p.vat_id, schemeID="VA")
        return
    if p.legal_id or (p.trading_name and lv >= 3):
        org = sub(tp, "ram:SpecifiedLegalOrganization")
        if p.legal_id:
            if p.legal_id_scheme:
                sub(org, "ram:ID", p.legal_id, schemeID=p.legal_id_scheme)
            else:
                sub(org, "ram:ID", p.legal_id)
        if p.trading_name and lv >= 3:
            sub(org, "ram:TradingBusinessName", p.trading_name)
    if lv >= 3 and (p.contact or p.phone or p.email):
        c = sub(tp, "ram:DefinedTradeContact")
        if p.contact:
            sub(c, "ram:PersonName", p.contact)
        if p.phone:
            sub(sub(c, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber", p.phone)
        if p.email:
            sub(sub(c, "ram:EmailURIUniversalCommunication"), "ram:URIID", p.email)
    addr = sub(tp, "ram:PostalTradeAddress")
    sub(addr, "ram:PostcodeCode", p.zip)
    sub(addr, "ram:LineOne", p.street)
    sub(addr, "ram:CityName", p.city)
    sub(addr, "ram:CountryID", p.country)
    if p.endpoint:
        sub(sub(tp, "ram:URIUniversalCommunication"), "ram:URIID", p.endpoint[1],
            schemeID=p.endpoint[0])
    if seller and p.tax_number:
        sub(sub(tp, "ram:SpecifiedTaxRegistration"), "ram:ID", p.tax_number, schemeID="FC")
    if p.vat_id:
        sub(sub(tp, "ram:SpecifiedTaxRegistration"), "ram:ID", p.vat_id, schemeID="VA")


def cii_trade_tax(parent, cat: str, rate: str | None, *, basis=None, tax=None, header=False):
    t = sub(parent, "ram:ApplicableTradeTax" if header or basis is None else "ram:CategoryTradeTax")
    if tax is not None:
        sub(t, "ram:CalculatedAmount", tax)
    sub(t, "ram:TypeCode", "VAT")
    if header and cat in EXEMPTION:
        sub(t, "ram:ExemptionReason", EXEMPTION[cat][1])
    if basis is not None:
        sub(t, "ram:BasisAmount", basis)
    sub(t, "ram:CategoryCode", cat)
    if header and cat in EXEMPTION:
        sub(t, "ram:ExemptionReasonCode", EXEMPTION[cat][0])
    if rate is not None:
        sub(t, "ram:RateApplicablePercent", rate)
    return t


def write_cii(inv: Invoice, level: str, *, nsmap: dict | None = None) -> bytes:
    """level: minimum | basicwl | basic | en16931 | extended (XRechnung CII uses en16931)."""
    lv = LEVELS.index(level)
    nsmap = nsmap or {"rsm": NS["rsm"], "qdt": NS["qdt"], "ram": NS["ram"], "udt": NS["udt"]}
    root = etree.Element(qn("rsm:CrossIndustryInvoice"), nsmap=nsmap)
    ctx = sub(root, "rsm:ExchangedDocumentContext")
    if inv.profile_id:
        sub(sub(ctx, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID",
            inv.profile_id)
    sub(sub(ctx, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", inv.guideline)
    doc = sub(root, "rsm:ExchangedDocument")
    sub(doc, "ram:ID", inv.number)
    if level == "extended":
        sub(doc, "ram:Name", "GUTSCHRIFT" if inv.type_code == "381" else "RECHNUNG")
    sub(doc, "ram:TypeCode", inv.type_code)
    cii_date(doc, "ram:IssueDateTime", inv.issue)
    if lv >= 1:
        for note in inv.notes:
            sub(sub(doc, "ram:IncludedNote"), "ram:Content", note)
    tx = sub(root, "rsm:SupplyChainTradeTransaction")
    cur = inv.currency
    if lv >= 2:
        for i, ln in enumerate(inv.lines, 1):
            li = sub(tx, "ram:IncludedSupplyChainTradeLineItem")
            sub(sub(li, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(i))
            prod = sub(li, "ram:SpecifiedTradeProduct")
            if ln.seller_id and lv >= 3:
                sub(prod, "ram:SellerAssignedID", ln.seller_id)
            sub(prod, "ram:Name", ln.name)
            agr = sub(li, "ram:SpecifiedLineTradeAgreement")
            if ln.order_line and level == "extended":
                bor = sub(agr, "ram:BuyerOrderReferencedDocument")
                sub(bor, "ram:IssuerAssignedID", inv.po)
                sub(bor, "ram:LineID", ln.order_line)
            sub(sub(agr, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", ln.price)
            sub(sub(li, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", ln.qty,
                unitCode=ln.unit)
            st = sub(li, "ram:SpecifiedLineTradeSettlement")
            lt = sub(st, "ram:ApplicableTradeTax")
            sub(lt, "ram:TypeCode", "VAT")
            sub(lt, "ram:CategoryCode", ln.cat)
            if ln.rate is not None:
                sub(lt, "ram:RateApplicablePercent", ln.rate)
            if ln.allowance:
                a = sub(st, "ram:SpecifiedTradeAllowanceCharge")
                sub(sub(a, "ram:ChargeIndicator"), "udt:Indicator", "false")
                sub(a, "ram:ActualAmount", ln.allowance)
                sub(a, "ram:Reason", ln.allowance_reason or "Rabatt")
            sub(sub(st, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
                "ram:LineTotalAmount", ln.net_written or f2(ln.net()))
    agr = sub(tx, "ram:ApplicableHeaderTradeAgreement")
    if inv.buyer_ref:
        sub(agr, "ram:BuyerReference", inv.buyer_ref)
    cii_party(agr, "ram:SellerTradeParty", inv.seller, level, seller=True)
    cii_party(agr, "ram:BuyerTradeParty", inv.buyer, level, seller=False)
    if inv.po:
        sub(sub(agr, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", inv.po)
    dlv = sub(tx, "ram:ApplicableHeaderTradeDelivery")
    if inv.delivery and lv >= 1:
        cii_date(sub(dlv, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime",
                 inv.delivery)
    stl = sub(tx, "ram:ApplicableHeaderTradeSettlement")
    if inv.payment_ref and lv >= 1:
        sub(stl, "ram:PaymentReference", inv.payment_ref)
    if inv.tax_currency:
        sub(stl, "ram:TaxCurrencyCode", inv.tax_currency)
    sub(stl, "ram:InvoiceCurrencyCode", cur)
    if lv >= 1 and inv.means_code:
        pm = sub(stl, "ram:SpecifiedTradeSettlementPaymentMeans")
        sub(pm, "ram:TypeCode", inv.means_code)
        if inv.iban:
            acc = sub(pm, "ram:PayeePartyCreditorFinancialAccount")
            sub(acc, "ram:IBANID", inv.iban)
            if inv.account_name and lv >= 3:
                sub(acc, "ram:AccountName", inv.account_name)
        if inv.bic and lv >= 3:
            sub(sub(pm, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", inv.bic)
    if lv >= 1:
        for g in inv.groups():
            cii_trade_tax(stl, g["cat"], g["rate"], basis=f2(g["basis"]), tax=f2(g["tax"]),
                          header=True)
        for ac in inv.acs:
            a = sub(stl, "ram:SpecifiedTradeAllowanceCharge")
            sub(sub(a, "ram:ChargeIndicator"), "udt:Indicator", "true" if ac.charge else "false")
            sub(a, "ram:ActualAmount", ac.amount)
            sub(a, "ram:ReasonCode", ac.code)
            sub(a, "ram:Reason", ac.reason)
            ct = sub(a, "ram:CategoryTradeTax")
            sub(ct, "ram:TypeCode", "VAT")
            sub(ct, "ram:CategoryCode", ac.cat)
            if ac.rate is not None:
                sub(ct, "ram:RateApplicablePercent", ac.rate)
        if inv.terms or inv.due:
            pt = sub(stl, "ram:SpecifiedTradePaymentTerms")
            if inv.terms:
                sub(pt, "ram:Description", inv.terms)
            if inv.due:
                cii_date(pt, "ram:DueDateDateTime", inv.due)
    wt = inv.written_totals()
    ms = sub(stl, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")

    def tax_in_tax_currency():
        sub(ms, "ram:TaxTotalAmount", inv.tax_in_tax_currency(), currencyID=inv.tax_currency)

    if lv >= 1:
        sub(ms, "ram:LineTotalAmount", wt["line_total"])
        if wt["charges"] is not None:
            sub(ms, "ram:ChargeTotalAmount", wt["charges"])
        if wt["allowances"] is not None:
            sub(ms, "ram:AllowanceTotalAmount", wt["allowances"])
    sub(ms, "ram:TaxBasisTotalAmount", wt["net"])
    if inv.tax_currency and inv.tax_currency_first:
        tax_in_tax_currency()
    sub(ms, "ram:TaxTotalAmount", wt["tax"], currencyID=cur)
    if inv.tax_currency and not inv.tax_currency_first:
        tax_in_tax_currency()
    if wt["rounding"] is not None:
        sub(ms, "ram:RoundingAmount", wt["rounding"])
    sub(ms, "ram:GrandTotalAmount", wt["total"])
    if wt["prepaid"] is not None and lv >= 1:
        sub(ms, "ram:TotalPrepaidAmount", wt["prepaid"])
    sub(ms, "ram:DuePayableAmount", wt["due"])
    if inv.preceding and lv >= 1:
        ird = sub(stl, "ram:InvoiceReferencedDocument")
        sub(ird, "ram:IssuerAssignedID", inv.preceding[0])
        cii_date(ird, "ram:FormattedIssueDateTime", inv.preceding[1], dtype="qdt")
    return serialize(root)


# ---------------------------------------------------------------------------
# ZUGFeRD 1.0 (CrossIndustryDocument, COMFORT)
# ---------------------------------------------------------------------------

def zsub(parent, tag: str, text: str | None = None, **attrs):
    prefix, local = tag.split(":")
    return sub(parent, f"z{prefix}:{local}", text, **attrs)


def write_zugferd1(inv: Invoice) -> bytes:
    root = etree.Element(qn("zrsm:CrossIndustryDocument"),
                         nsmap={"rsm": NS["zrsm"], "ram": NS["zram"], "udt": NS["zudt"]})
    cur = inv.currency
    ctx = zsub(root, "rsm:SpecifiedExchangedDocumentContext")
    zsub(zsub(ctx, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", inv.guideline)
    hd = zsub(root, "rsm:HeaderExchangedDocument")
    zsub(hd, "ram:ID", inv.number)
    zsub(hd, "ram:Name", "RECHNUNG")
    zsub(hd, "ram:TypeCode", inv.type_code)
    zsub(zsub(hd, "ram:IssueDateTime"), "udt:DateTimeString", d102(inv.issue), format="102")
    for note in inv.notes:
        zsub(zsub(hd, "ram:IncludedNote"), "ram:Content", note)
    tx = zsub(root, "rsm:SpecifiedSupplyChainTradeTransaction")
    agr = zsub(tx, "ram:ApplicableSupplyChainTradeAgreement")
    if inv.buyer_ref:
        zsub(agr, "ram:BuyerReference", inv.buyer_ref)
    for tag, p in (("ram:SellerTradeParty", inv.seller), ("ram:BuyerTradeParty", inv.buyer)):
        tp = zsub(agr, tag)
        zsub(tp, "ram:Name", p.name)
        addr = zsub(tp, "ram:PostalTradeAddress")
        zsub(addr, "ram:PostcodeCode", p.zip)
        zsub(addr, "ram:LineOne", p.street)
        zsub(addr, "ram:CityName", p.city)
        zsub(addr, "ram:CountryID", p.country)
        if p is inv.seller and p.tax_number:
            zsub(zsub(tp, "ram:SpecifiedTaxRegistration"), "ram:ID", p.tax_number, schemeID="FC")
        if p.vat_id:
            zsub(zsub(tp, "ram:SpecifiedTaxRegistration"), "ram:ID", p.vat_id, schemeID="VA")
    if inv.po:
        zsub(zsub(agr, "ram:BuyerOrderReferencedDocument"), "ram:ID", inv.po)
    dlv = zsub(tx, "ram:ApplicableSupplyChainTradeDelivery")
    if inv.delivery:
        zsub(zsub(zsub(dlv, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime"),
             "udt:DateTimeString", d102(inv.delivery), format="102")
    stl = zsub(tx, "ram:ApplicableSupplyChainTradeSettlement")
    if inv.payment_ref:
        zsub(stl, "ram:PaymentReference", inv.payment_ref)
    zsub(stl, "ram:InvoiceCurrencyCode", cur)
    if inv.means_code:
        pm = zsub(stl, "ram:SpecifiedTradeSettlementPaymentMeans")
        zsub(pm, "ram:TypeCode", inv.means_code)
        zsub(pm, "ram:Information", "Überweisung")
        if inv.iban:
            zsub(zsub(pm, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", inv.iban)
        if inv.bic:
            zsub(zsub(pm, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", inv.bic)
    for g in inv.groups():
        t = zsub(stl, "ram:ApplicableTradeTax")
        zsub(t, "ram:CalculatedAmount", f2(g["tax"]), currencyID=cur)
        zsub(t, "ram:TypeCode", "VAT")
        zsub(t, "ram:BasisAmount", f2(g["basis"]), currencyID=cur)
        zsub(t, "ram:CategoryCode", g["cat"])
        zsub(t, "ram:ApplicablePercent", g["rate"])
    if inv.terms or inv.due:
        pt = zsub(stl, "ram:SpecifiedTradePaymentTerms")
        if inv.terms:
            zsub(pt, "ram:Description", inv.terms)
        if inv.due:
            zsub(zsub(pt, "ram:DueDateDateTime"), "udt:DateTimeString", d102(inv.due),
                 format="102")
    wt = inv.written_totals()
    ms = zsub(stl, "ram:SpecifiedTradeSettlementMonetarySummation")
    for key, tag in (("line_total", "LineTotalAmount"), ("charges", "ChargeTotalAmount"),
                     ("allowances", "AllowanceTotalAmount"), ("net", "TaxBasisTotalAmount"),
                     ("tax", "TaxTotalAmount"), ("total", "GrandTotalAmount"),
                     ("prepaid", "TotalPrepaidAmount"), ("due", "DuePayableAmount")):
        if wt[key] is not None:
            zsub(ms, f"ram:{tag}", wt[key], currencyID=cur)
    for i, ln in enumerate(inv.lines, 1):
        li = zsub(tx, "ram:IncludedSupplyChainTradeLineItem")
        zsub(zsub(li, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(i))
        la = zsub(li, "ram:SpecifiedSupplyChainTradeAgreement")
        zsub(zsub(la, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", ln.price,
             currencyID=cur)
        zsub(zsub(li, "ram:SpecifiedSupplyChainTradeDelivery"), "ram:BilledQuantity", ln.qty,
             unitCode=ln.unit)
        ls = zsub(li, "ram:SpecifiedSupplyChainTradeSettlement")
        t = zsub(ls, "ram:ApplicableTradeTax")
        zsub(t, "ram:TypeCode", "VAT")
        zsub(t, "ram:CategoryCode", ln.cat)
        zsub(t, "ram:ApplicablePercent", ln.rate)
        zsub(zsub(ls, "ram:SpecifiedTradeSettlementMonetarySummation"), "ram:LineTotalAmount",
             ln.net_written or f2(ln.net()), currencyID=cur)
        prod = zsub(li, "ram:SpecifiedTradeProduct")
        if ln.seller_id:
            zsub(prod, "ram:SellerAssignedID", ln.seller_id)
        zsub(prod, "ram:Name", ln.name)
    return serialize(root)


# ---------------------------------------------------------------------------
# the independent reader: golden values come from the XML bytes, not the model
# ---------------------------------------------------------------------------

XP = {k: v for k, v in NS.items()}
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def profile_of(guideline: str) -> str:
    m = re.search(r"xrechnung_(\d+)(?:\.(\d+))?", guideline)
    if m:
        return f"XRechnung {m.group(1)}.{m.group(2) or '0'}"
    if "peppol.eu:2017:poacc:billing:3.0" in guideline:
        return "Peppol BIS Billing 3.0"
    if "urn:factur-x.eu:1p0:minimum" in guideline:
        return "Factur-X MINIMUM"
    if "urn:factur-x.eu:1p0:basicwl" in guideline:
        return "Factur-X BASIC WL"
    if guideline.endswith("urn:factur-x.eu:1p0:basic"):
        return "Factur-X BASIC"
    if guideline == "urn:cen.eu:en16931:2017":
        return "EN 16931 (Factur-X/ZUGFeRD COMFORT)"
    if "urn:factur-x.eu:1p0:extended" in guideline:
        return "Factur-X EXTENDED"
    m = re.fullmatch(r"urn:ferd:CrossIndustryDocument:invoice:1p0:(basic|comfort|extended)",
                     guideline)
    if m:
        return f"ZUGFeRD 1.0 {m.group(1).upper()}"
    raise ValueError(f"no profile for guideline {guideline!r}")


def _first(node, path: str) -> str | None:
    r = node.xpath(path, namespaces=XP)
    if not r:
        return None
    v = r[0] if isinstance(r[0], str) else r[0].text
    assert v is not None and v == v.strip(), (path, v)
    return str(v)


def _iso(s: str | None) -> str | None:
    if s is None:
        return None
    if re.fullmatch(r"\d{8}", s):
        return f"{s[:4]}-{s[4:6]}-{s[6:]}"
    assert re.match(r"\d{4}-\d{2}-\d{2}", s), s
    return s[:10]


def _tax_in_currency(nodes, cur: str) -> str | None:
    for n in nodes:
        if n.get("currencyID") == cur:
            return n.text
    return nodes[0].text if nodes else None


def read_ubl(data: bytes) -> dict:
    r = etree.fromstring(data, SAFE_PARSER)
    cn = r.tag == qn("cn:CreditNote")
    assert cn or r.tag == qn("inv:Invoice")
    cur = _first(r, "cbc:DocumentCurrencyCode")
    sp = r.xpath("cac:AccountingSupplierParty/cac:Party", namespaces=XP)[0]
    bp = r.xpath("cac:AccountingCustomerParty/cac:Party", namespaces=XP)[0]
    lmt = r.xpath("cac:LegalMonetaryTotal", namespaces=XP)[0]
    tax_nodes = r.xpath("cac:TaxTotal/cbc:TaxAmount", namespaces=XP)
    tax = _tax_in_currency(tax_nodes, cur)
    type_code = _first(r, "cbc:CreditNoteTypeCode" if cn else "cbc:InvoiceTypeCode")
    guideline = _first(r, "cbc:CustomizationID")
    fields = {
        "invoice_number": _first(r, "cbc:ID"),
        "invoice_date": _iso(_first(r, "cbc:IssueDate")),
        "due_date": _iso(_first(r, "cbc:DueDate") or _first(r, "cac:PaymentMeans/cbc:PaymentDueDate")),
        "currency": cur,
        "amount_net": _first(lmt, "cbc:TaxExclusiveAmount"),
        "amount_tax": tax,
        "amount_total": _first(lmt, "cbc:TaxInclusiveAmount"),
        "amount_due": _first(lmt, "cbc:PayableAmount"),
        "vendor": _first(sp, "cac:PartyLegalEntity/cbc:RegistrationName") or _first(sp, "cac:PartyName/cbc:Name"),
        "vendor_vat_id": _first(sp, "cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"),
        "iban": _first(r, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID"),
        "bic": _first(r, "cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"),
        "po_number": _first(r, "cac:OrderReference/cbc:ID"),
        "buyer_reference": _first(r, "cbc:BuyerReference"),
        "preceding_invoice": _first(r, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
    }
    lines = []
    for il in r.xpath("cac:InvoiceLine|cac:CreditNoteLine", namespaces=XP):
        lines.append({
            "description": _first(il, "cac:Item/cbc:Name"),
            "quantity": _first(il, "cbc:InvoicedQuantity|cbc:CreditedQuantity"),
            "unit_price": _first(il, "cac:Price/cbc:PriceAmount"),
            "net_amount": _first(il, "cbc:LineExtensionAmount"),
            "vat_rate": _first(il, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
        })
    vat = []
    for ts in r.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=XP):
        vat.append({
            "category": _first(ts, "cac:TaxCategory/cbc:ID"),
            "rate": _first(ts, "cac:TaxCategory/cbc:Percent"),
            "taxable": _first(ts, "cbc:TaxableAmount"),
            "tax": _first(ts, "cbc:TaxAmount"),
        })
    totals = {
        "line_total": _first(lmt, "cbc:LineExtensionAmount"),
        "allowances": _first(lmt, "cbc:AllowanceTotalAmount"),
        "charges": _first(lmt, "cbc:ChargeTotalAmount"),
        "net": fields["amount_net"], "tax": tax, "total": fields["amount_total"],
        "prepaid": _first(lmt, "cbc:PrepaidAmount"),
        "rounding": _first(lmt, "cbc:PayableRoundingAmount"),
        "due": fields["amount_due"],
    }
    return {
        "syntax": "ubl", "document": "credit_note" if cn else "invoice", "type_code": type_code,
        "profile": profile_of(guideline), "guideline": guideline, "fields": fields,
        "buyer": _first(bp, "cac:PartyLegalEntity/cbc:RegistrationName") or _first(bp, "cac:PartyName/cbc:Name"),
        "lines": lines, "vat": vat, "totals": totals,
    }


def read_cii(data: bytes) -> dict:
    r = etree.fromstring(data, SAFE_PARSER)
    assert r.tag == qn("rsm:CrossIndustryInvoice")
    stl = r.xpath("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement", namespaces=XP)[0]
    agr = r.xpath("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement", namespaces=XP)[0]
    ms = stl.xpath("ram:SpecifiedTradeSettlementHeaderMonetarySummation", namespaces=XP)[0]
    cur = _first(stl, "ram:InvoiceCurrencyCode")
    tax = _tax_in_currency(ms.xpath("ram:TaxTotalAmount", namespaces=XP), cur)
    type_code = _first(r, "rsm:ExchangedDocument/ram:TypeCode")
    guideline = _first(r, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
    seller = agr.xpath("ram:SellerTradeParty", namespaces=XP)[0]
    fields = {
        "invoice_number": _first(r, "rsm:ExchangedDocument/ram:ID"),
        "invoice_date": _iso(_first(r, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString")),
        "due_date": _iso(_first(stl, "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString")),
        "currency": cur,
        "amount_net": _first(ms, "ram:TaxBasisTotalAmount"),
        "amount_tax": tax,
        "amount_total": _first(ms, "ram:GrandTotalAmount"),
        "amount_due": _first(ms, "ram:DuePayableAmount"),
        "vendor": _first(seller, "ram:Name") or _first(seller, "ram:SpecifiedLegalOrganization/ram:TradingBusinessName"),
        "vendor_vat_id": _first(seller, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"),
        "iban": _first(stl, "ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount/ram:IBANID"),
        "bic": _first(stl, "ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
        "po_number": _first(agr, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
        "buyer_reference": _first(agr, "ram:BuyerReference"),
        "preceding_invoice": _first(stl, "ram:InvoiceReferencedDocument/ram:IssuerAssignedID"),
    }
    lines = []
    for li in r.xpath("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", namespaces=XP):
        lines.append({
            "description": _first(li, "ram:SpecifiedTradeProduct/ram:Name"),
            "quantity": _first(li, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"),
            "unit_price": _first(li, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount"),
            "net_amount": _first(li, "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"),
            "vat_rate": _first(li, "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent"),
        })
    vat = []
    for t in stl.xpath("ram:ApplicableTradeTax", namespaces=XP):
        vat.append({
            "category": _first(t, "ram:CategoryCode"),
            "rate": _first(t, "ram:RateApplicablePercent"),
            "taxable": _first(t, "ram:BasisAmount"),
            "tax": _first(t, "ram:CalculatedAmount"),
        })
    totals = {
        "line_total": _first(ms, "ram:LineTotalAmount"),
        "allowances": _first(ms, "ram:AllowanceTotalAmount"),
        "charges": _first(ms, "ram:ChargeTotalAmount"),
        "net": fields["amount_net"], "tax": tax, "total": fields["amount_total"],
        "prepaid": _first(ms, "ram:TotalPrepaidAmount"),
        "rounding": _first(ms, "ram:RoundingAmount"),
        "due": fields["amount_due"],
    }
    return {
        "syntax": "cii", "document": "credit_note" if type_code == "381" else "invoice",
        "type_code": type_code, "profile": profile_of(guideline), "guideline": guideline,
        "fields": fields, "buyer": _first(agr, "ram:BuyerTradeParty/ram:Name"),
        "lines": lines, "vat": vat, "totals": totals,
    }


def read_zugferd1(data: bytes) -> dict:
    r = etree.fromstring(data, SAFE_PARSER)
    assert r.tag == qn("zrsm:CrossIndustryDocument")
    z = {"rsm": NS["zrsm"], "ram": NS["zram"], "udt": NS["zudt"]}

    def first(node, path):
        res = node.xpath(path, namespaces=z)
        return res[0].text if res else None

    tx = r.xpath("rsm:SpecifiedSupplyChainTradeTransaction", namespaces=z)[0]
    agr = tx.xpath("ram:ApplicableSupplyChainTradeAgreement", namespaces=z)[0]
    stl = tx.xpath("ram:ApplicableSupplyChainTradeSettlement", namespaces=z)[0]
    ms = stl.xpath("ram:SpecifiedTradeSettlementMonetarySummation", namespaces=z)[0]
    cur = first(stl, "ram:InvoiceCurrencyCode")
    tax = _tax_in_currency(ms.xpath("ram:TaxTotalAmount", namespaces=z), cur)
    type_code = first(r, "rsm:HeaderExchangedDocument/ram:TypeCode")
    guideline = first(r, "rsm:SpecifiedExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
    pm = "ram:SpecifiedTradeSettlementPaymentMeans/"
    fields = {
        "invoice_number": first(r, "rsm:HeaderExchangedDocument/ram:ID"),
        "invoice_date": _iso(first(r, "rsm:HeaderExchangedDocument/ram:IssueDateTime/udt:DateTimeString")),
        "due_date": _iso(first(stl, "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString")),
        "currency": cur,
        "amount_net": first(ms, "ram:TaxBasisTotalAmount"),
        "amount_tax": tax,
        "amount_total": first(ms, "ram:GrandTotalAmount"),
        "amount_due": first(ms, "ram:DuePayableAmount"),
        "vendor": first(agr, "ram:SellerTradeParty/ram:Name"),
        "vendor_vat_id": first(agr, "ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"),
        "iban": first(stl, pm + "ram:PayeePartyCreditorFinancialAccount/ram:IBANID"),
        "bic": first(stl, pm + "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
        "po_number": first(agr, "ram:BuyerOrderReferencedDocument/ram:ID"),
        "buyer_reference": first(agr, "ram:BuyerReference"),
        "preceding_invoice": None,
    }
    lines = []
    for li in tx.xpath("ram:IncludedSupplyChainTradeLineItem", namespaces=z):
        lines.append({
            "description": first(li, "ram:SpecifiedTradeProduct/ram:Name"),
            "quantity": first(li, "ram:SpecifiedSupplyChainTradeDelivery/ram:BilledQuantity"),
            "unit_price": first(li, "ram:SpecifiedSupplyChainTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount"),
            "net_amount": first(li, "ram:SpecifiedSupplyChainTradeSettlement/ram:SpecifiedTradeSettlementMonetarySummation/ram:LineTotalAmount"),
            "vat_rate": first(li, "ram:SpecifiedSupplyChainTradeSettlement/ram:ApplicableTradeTax/ram:ApplicablePercent"),
        })
    vat = [{
        "category": first(t, "ram:CategoryCode"), "rate": first(t, "ram:ApplicablePercent"),
        "taxable": first(t, "ram:BasisAmount"), "tax": first(t, "ram:CalculatedAmount"),
    } for t in stl.xpath("ram:ApplicableTradeTax", namespaces=z)]
    totals = {
        "line_total": first(ms, "ram:LineTotalAmount"),
        "allowances": first(ms, "ram:AllowanceTotalAmount"),
        "charges": first(ms, "ram:ChargeTotalAmount"),
        "net": fields["amount_net"], "tax": tax, "total": fields["amount_total"],
        "prepaid": first(ms, "ram:TotalPrepaidAmount"), "rounding": None,
        "due": fields["amount_due"],
    }
    return {
        "syntax": "zugferd1", "document": "credit_note" if type_code == "381" else "invoice",
        "type_code": type_code, "profile": profile_of(guideline), "guideline": guideline,
        "fields": fields, "buyer": first(agr, "ram:BuyerTradeParty/ram:Name"),
        "lines": lines, "vat": vat, "totals": totals,
    }


def broken_rules(e: dict) -> list[str]:
    """EN 16931 arithmetic on the values as read. Empty list: everything adds up."""
    t = e["totals"]

    def v(k):
        return D(t[k]) if t[k] is not None else D("0")

    bad = []
    if e["lines"] and t["line_total"] is not None:
        if sum(D(ln["net_amount"]) for ln in e["lines"]) != D(t["line_total"]):
            bad.append("BR-CO-10")
    if t["line_total"] is not None and v("line_total") - v("allowances") + v("charges") != v("net"):
        bad.append("BR-CO-13")
    if e["vat"] and sum(D(g["tax"]) for g in e["vat"]) != v("tax"):
        bad.append("BR-CO-14")
    if v("net") + v("tax") != v("total"):
        bad.append("BR-CO-15")
    if v("total") - v("prepaid") + v("rounding") != v("due"):
        bad.append("BR-CO-16")
    for g in e["vat"]:
        if q2(D(g["taxable"]) * D(g["rate"] or "0") / 100) != D(g["tax"]):
            bad.append("BR-CO-17")
    return bad


# ---------------------------------------------------------------------------
# the visual PDF (reportlab) and the PDF/A-3 hybrid (pypdf)
# ---------------------------------------------------------------------------

LABELS = {
    "de": {"invoice": "RECHNUNG", "credit": "GUTSCHRIFT", "number": "Rechnungsnummer",
           "credit_number": "Gutschriftsnummer", "date": "Rechnungsdatum", "due": "Fällig am",
           "po": "Ihre Bestellung", "ref": "Ihre Referenz", "customer": "Rechnungsempfänger",
           "head": "Pos.  Bezeichnung  Menge x Einzelpreis = Betrag", "net": "Nettobetrag",
           "vat": "MwSt", "on": "auf", "total": "Gesamtbetrag", "vatid": "USt-IdNr.",
           "taxno": "Steuernummer", "lines": "Summe Positionen", "allowance": "Abzug",
           "charge": "Zuschlag", "pay": "Bitte überweisen Sie den Betrag auf",
           "hybrid": "Diese Rechnung enthält die strukturierten Rechnungsdaten als Anhang"},
    "en": {"invoice": "INVOICE", "credit": "CREDIT NOTE", "number": "Invoice No.",
           "credit_number": "Credit Note No.", "date": "Invoice Date", "due": "Due Date",
           "po": "PO Number", "ref": "Your reference", "customer": "Bill to",
           "head": "Item  Description  Qty x Unit price = Amount", "net": "Net amount",
           "vat": "VAT", "on": "on", "total": "Total", "vatid": "VAT ID", "taxno": "Tax number",
           "lines": "Sum of lines", "allowance": "Allowance", "charge": "Charge",
           "pay": "Please pay by bank transfer to", "hybrid": "The structured invoice data is "
           "attached to this PDF as"},
    "fr": {"invoice": "FACTURE", "credit": "AVOIR", "number": "Facture n°",
           "credit_number": "Avoir n°", "date": "Date de facture", "due": "Échéance",
           "po": "Bon de commande", "ref": "Votre référence", "customer": "Facturé à",
           "head": "Pos.  Désignation  Qté x Prix unitaire = Montant", "net": "Total HT",
           "vat": "TVA", "on": "sur", "total": "Total TTC", "vatid": "N° TVA",
           "taxno": "N° fiscal", "lines": "Total des lignes", "allowance": "Remise",
           "charge": "Frais", "pay": "Règlement par virement sur",
           "hybrid": "Les données structurées de la facture sont jointes au PDF :"},
}


def money(amount: str, lang: str, cur: str) -> str:
    d = q2(D(amount))
    sign = "-" if d < 0 else ""
    whole, frac = f"{abs(d):.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    if lang == "en":
        return f"{cur} {sign}{','.join(groups)}.{frac}"
    sep = " " if lang == "fr" else "."
    return f"{sign}{sep.join(groups)},{frac} {'€' if cur == 'EUR' else cur}"


def plain(amount: str, lang: str) -> str:
    """A unit price or quantity in the visual: decimal comma outside English."""
    return amount if lang == "en" else amount.replace(".", ",")


def ddate(d: dt.date, lang: str) -> str:
    return {"de": d.strftime("%d.%m.%Y"), "fr": d.strftime("%d/%m/%Y")}.get(lang, d.isoformat())


def visual_lines(inv: Invoice, lang: str, embedded_name: str, *, number: str | None = None,
                 total: str | None = None) -> list[tuple[str, str]]:
    """(style, text) pairs drawn top to bottom. number/total override what the XML says."""
    L = LABELS[lang]
    s, b, cur = inv.seller, inv.buyer, inv.currency
    t = inv.written_totals()
    credit = inv.credit_note or inv.type_code == "381"
    out = [("h1", s.name), ("small", f"{s.street} · {s.zip} {s.city} · {s.country}")]
    if s.vat_id:
        out.append(("small", f"{L['vatid']} {s.vat_id}"))
    if s.tax_number:
        out.append(("small", f"{L['taxno']} {s.tax_number}"))
    out += [("gap", ""), ("title", L["credit"] if credit else L["invoice"]),
            ("text", f"{L['credit_number'] if credit else L['number']}: {number or inv.number}"),
            ("text", f"{L['date']}: {ddate(inv.issue, lang)}")]
    if inv.due:
        out.append(("text", f"{L['due']}: {ddate(inv.due, lang)}"))
    if inv.po:
        out.append(("text", f"{L['po']}: {inv.po}"))
    if inv.buyer_ref:
        out.append(("text", f"{L['ref']}: {inv.buyer_ref}"))
    out += [("text", f"{L['customer']}: {b.name}, {b.street}, {b.zip} {b.city}"), ("gap", ""),
            ("bold", L["head"])]
    for i, ln in enumerate(inv.lines, 1):
        amount = money(ln.net_written or f2(ln.net()), lang, cur)
        rate = f" ({ln.cat} {ln.rate} %)" if ln.rate is not None else ""
        less = (f" - {plain(ln.allowance, lang)} ({ln.allowance_reason})" if ln.allowance
                else "")
        out.append(("text", f"{i}  {ln.name}  {plain(ln.qty, lang)} x {plain(ln.price, lang)}"
                            f"{less} = {amount}{rate}"))
    out.append(("gap", ""))
    if inv.acs:
        out.append(("text", f"{L['lines']}: {money(t['line_total'], lang, cur)}"))
        for ac in inv.acs:
            kind = L["charge"] if ac.charge else L["allowance"]
            out.append(("text", f"{kind} ({ac.reason}): {money(ac.amount, lang, cur)}"))
    out.append(("text", f"{L['net']}: {money(t['net'], lang, cur)}"))
    for g in inv.groups():
        out.append(("text", f"{L['vat']} {g['rate'] or '0'} % {L['on']} "
                            f"{money(f2(g['basis']), lang, cur)}: {money(f2(g['tax']), lang, cur)}"))
    if inv.tax_currency:
        out.append(("text", f"{L['vat']} ({inv.tax_currency}): "
                            f"{money(inv.tax_in_tax_currency(), lang, inv.tax_currency)}"))
    out.append(("bold", f"{L['total']}: {money(total or t['total'], lang, cur)}"))
    out.append(("gap", ""))
    if inv.terms:
        out.append(("small", inv.terms))
    if inv.iban:
        out.append(("small", f"{L['pay']} IBAN {inv.iban}" + (f", BIC {inv.bic}" if inv.bic else "")))
    out.append(("small", f"{L['hybrid']} {embedded_name}."))
    return out


_FONTS_READY = False


def render_pdf(lines: list[tuple[str, str]], *, title: str, author: str, lang: str) -> bytes:
    global _FONTS_READY
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if not _FONTS_READY:
        pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
        pdfmetrics.registerFont(TTFont("VeraBd", "VeraBd.ttf"))
        _FONTS_READY = True
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, initialFontName="Vera",
                      initialFontSize=10, pageCompression=1, lang=lang)
    c.setTitle(title)
    c.setAuthor(author)
    style = {"h1": ("VeraBd", 15, 22), "title": ("VeraBd", 14, 22), "bold": ("VeraBd", 10, 15),
             "text": ("Vera", 10, 14), "small": ("Vera", 8, 11), "gap": ("Vera", 10, 8)}
    y = 800
    for kind, text in lines:
        font, size, step = style[kind]
        if text:
            c.setFont(font, size)
            c.drawString(50, y, text)
        y -= step
    c.showPage()
    c.save()
    return buf.getvalue()


def srgb_icc() -> bytes:
    from PIL import ImageCms

    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    icc[24:36] = struct.pack(">6H", 2026, 1, 1, 0, 0, 0)   # creation date
    icc[84:100] = bytes(16)                                # profile ID: "not computed"
    return bytes(icc)


def pdf_date(when: dt.datetime) -> str:
    off = when.utcoffset()
    mins = int(off.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    return when.strftime("D:%Y%m%d%H%M%S") + f"{sign}{abs(mins) // 60:02d}'{abs(mins) % 60:02d}'"


XMP_FLAVOURS = {
    # key: (namespace, prefix, schema name, version)
    "factur-x": ("urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#", "fx",
                 "Factur-X PDFA Extension Schema", "1.0"),
    "zugferd2": ("urn:zugferd:pdfa:CrossIndustryDocument:invoice:2p0#", "fx",
                 "ZUGFeRD PDFA Extension Schema", "2p0"),
    "zugferd1": ("urn:ferd:pdfa:CrossIndustryDocument:invoice:1p0#", "zf",
                 "ZUGFeRD PDFA Extension Schema", "1.0"),
}


def xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xmp_packet(*, flavour: str, filename: str, level: str, title: str, author: str,
               subject: str, keywords: str, when: dt.datetime) -> bytes:
    ns, px, schema, version = XMP_FLAVOURS[flavour]
    stamp = when.isoformat()
    props = [("DocumentFileName", "name of the embedded XML invoice file"),
             ("DocumentType", "INVOICE"),
             ("Version", "The actual version of the standard applying to the embedded XML document"),
             ("ConformanceLevel", "The conformance level of the embedded XML document")]
    prop_xml = "".join(
        f"""
              <rdf:li rdf:parseType="Resource">
                <pdfaProperty:name>{n}</pdfaProperty:name>
                <pdfaProperty:valueType>Text</pdfaProperty:valueType>
                <pdfaProperty:category>external</pdfaProperty:category>
                <pdfaProperty:description>{d}</pdfaProperty:description>
              </rdf:li>""" for n, d in props)
    text = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
    <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
      <pdfaid:part>3</pdfaid:part>
      <pdfaid:conformance>B</pdfaid:conformance>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <dc:format>application/pdf</dc:format>
      <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{xml_text(title)}</rdf:li></rdf:Alt></dc:title>
      <dc:creator><rdf:Seq><rdf:li>{xml_text(author)}</rdf:li></rdf:Seq></dc:creator>
      <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{xml_text(subject)}</rdf:li></rdf:Alt></dc:description>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
      <pdf:Producer>{PRODUCER}</pdf:Producer>
      <pdf:Keywords>{xml_text(keywords)}</pdf:Keywords>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
      <xmp:CreatorTool>{PRODUCER}</xmp:CreatorTool>
      <xmp:CreateDate>{stamp}</xmp:CreateDate>
      <xmp:ModifyDate>{stamp}</xmp:ModifyDate>
      <xmp:MetadataDate>{stamp}</xmp:MetadataDate>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
      <pdfaExtension:schemas>
        <rdf:Bag>
          <rdf:li rdf:parseType="Resource">
            <pdfaSchema:schema>{schema}</pdfaSchema:schema>
            <pdfaSchema:namespaceURI>{ns}</pdfaSchema:namespaceURI>
            <pdfaSchema:prefix>{px}</pdfaSchema:prefix>
            <pdfaSchema:property>
              <rdf:Seq>{prop_xml}
              </rdf:Seq>
            </pdfaSchema:property>
          </rdf:li>
        </rdf:Bag>
      </pdfaExtension:schemas>
    </rdf:Description>
    <rdf:Description rdf:about="" xmlns:{px}="{ns}">
      <{px}:DocumentType>INVOICE</{px}:DocumentType>
      <{px}:DocumentFileName>{filename}</{px}:DocumentFileName>
      <{px}:Version>{version}</{px}:Version>
      <{px}:ConformanceLevel>{level}</{px}:ConformanceLevel>
    </rdf:Description>
  </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    etree.fromstring(text.split("?>", 1)[1].rsplit("<?xpacket", 1)[0].encode())  # well-formed
    return text.encode("utf-8")


@dataclass
class Embedded:
    name: str
    data: bytes
    mime: str = "text/xml"
    relationship: str = "Data"     # Data | Alternative | Source
    desc: str = "Factur-X XML invoice"


def make_hybrid(visual: bytes, emb: Embedded, *, flavour: str, level: str, title: str,
                author: str, subject: str, when: dt.datetime, lang: str) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (ArrayObject, ByteStringObject, DecodedStreamObject,
                               DictionaryObject, NameObject, NumberObject, TextStringObject)

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(visual)))
    w.pdf_header = b"%PDF-1.7"
    stamp = pdf_date(when)

    ef = DecodedStreamObject()
    ef.set_data(emb.data)
    ef = ef.flate_encode()
    ef.update({
        NameObject("/Type"): NameObject("/EmbeddedFile"),
        NameObject("/Subtype"): NameObject("/" + emb.mime),
        NameObject("/Params"): DictionaryObject({
            NameObject("/Size"): NumberObject(len(emb.data)),
            NameObject("/CheckSum"): ByteStringObject(hashlib.md5(emb.data).digest()),
            NameObject("/ModDate"): TextStringObject(stamp),
        }),
    })
    ef_ref = w._add_object(ef)
    fname = TextStringObject(emb.name)
    spec = DictionaryObject({
        NameObject("/Type"): NameObject("/Filespec"),
        NameObject("/F"): fname,
        NameObject("/UF"): fname,
        NameObject("/Desc"): TextStringObject(emb.desc),
        NameObject("/AFRelationship"): NameObject("/" + emb.relationship),
        NameObject("/EF"): DictionaryObject({NameObject("/F"): ef_ref, NameObject("/UF"): ef_ref}),
    })
    spec_ref = w._add_object(spec)

    keywords = "Invoice, Factur-X" if flavour == "factur-x" else "Invoice, ZUGFeRD"
    meta = DecodedStreamObject()
    meta.set_data(xmp_packet(flavour=flavour, filename=emb.name, level=level, title=title,
                             author=author, subject=subject, keywords=keywords, when=when))
    meta.update({NameObject("/Type"): NameObject("/Metadata"),
                 NameObject("/Subtype"): NameObject("/XML")})
    icc = DecodedStreamObject()
    icc.set_data(srgb_icc())
    icc = icc.flate_encode()
    icc.update({NameObject("/N"): NumberObject(3)})
    intent = DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"),
        NameObject("/S"): NameObject("/GTS_PDFA1"),
        NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
        NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
        NameObject("/DestOutputProfile"): w._add_object(icc),
    })
    w._root_object.update({
        NameObject("/Names"): DictionaryObject({
            NameObject("/EmbeddedFiles"): DictionaryObject({
                NameObject("/Names"): ArrayObject([fname, spec_ref])})}),
        NameObject("/AF"): w._add_object(ArrayObject([spec_ref])),
        NameObject("/Metadata"): w._add_object(meta),
        NameObject("/OutputIntents"): ArrayObject([intent]),
        NameObject("/Lang"): TextStringObject(lang),
    })
    w._info = None
    w.add_metadata({"/Title": title, "/Author": author, "/Subject": subject,
                    "/Keywords": keywords, "/Creator": PRODUCER, "/Producer": PRODUCER,
                    "/CreationDate": stamp, "/ModDate": stamp})
    ident = ByteStringObject(hashlib.md5(f"deskmail-einvoice {title}".encode()).digest())
    w._ID = ArrayObject([ident, ident])
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def tiny_png() -> bytes:
    """A 16x16 grey gradient PNG, written by hand (deterministic)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + bytes((x * 16 + y) % 256 for x in range(16)) for y in range(16))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# ---------------------------------------------------------------------------
# mail
# ---------------------------------------------------------------------------

def encoded_word(text: str) -> str:
    if text.isascii():
        return text
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch.isalnum() and byte < 128:
            out.append(ch)
        elif ch == " ":
            out.append("_")
        else:
            out.append(f"={byte:02X}")
    return f"=?utf-8?q?{''.join(out)}?="


def mailbox(name: str, addr: str) -> str:
    if name.isascii():
        return f'"{name}" <{addr}>'
    return f"{encoded_word(name)} <{addr}>"


def b64_lines(data: bytes) -> str:
    enc = base64.b64encode(data).decode("ascii")
    return "\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)) + "\n"


@dataclass
class Attachment:
    filename: str | None          # None: no name parameter at all
    ctype: str
    data: bytes
    style: str = "plain"          # plain | rfc2231


def attachment_part(a: Attachment) -> str:
    if a.filename is None:
        head = f"Content-Type: {a.ctype}\nContent-Disposition: attachment\n"
    elif a.style == "rfc2231":
        quoted = urllib.parse.quote(a.filename, safe="")
        head = (f'Content-Type: {a.ctype}; name="{encoded_word(a.filename)}"\n'
                f"Content-Disposition: attachment;\n filename*=utf-8''{quoted}\n")
    else:
        assert a.filename.isascii()
        head = (f'Content-Type: {a.ctype}; name="{a.filename}"\n'
                f'Content-Disposition: attachment; filename="{a.filename}"\n')
    return head + "Content-Transfer-Encoding: base64\n\n" + b64_lines(a.data)


def text_part(body: str) -> str:
    if body.isascii():
        return "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n" + body
    qp = quopri.encodestring(body.encode("utf-8")).decode("ascii")
    return "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" + qp


def build_eml(*, name: str, sender: tuple[str, str], subject: str, when: dt.datetime, body: str,
              attachment: Attachment, crlf: bool) -> bytes:
    domain = sender[1].split("@")[1]
    boundary = f"=_einv_{hashlib.sha1(name.encode()).hexdigest()[:16]}"
    msg_id = f"<{hashlib.sha1(('msg' + name).encode()).hexdigest()[:20]}@{domain}>"
    headers = [
        ("From", mailbox(*sender)),
        ("To", mailbox(*AP)),
        ("Date", email.utils.format_datetime(when)),
        ("Subject", encoded_word(subject)),
        ("Message-ID", msg_id),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
    ]
    text = "".join(f"{k}: {v}\n" for k, v in headers)
    text += "\nThis is a multi-part message in MIME format.\n\n"
    text += f"--{boundary}\n{text_part(body)}\n--{boundary}\n{attachment_part(attachment)}\n"
    text += f"--{boundary}--\n"
    assert all(len(line) <= 998 for line in text.split("\n"))
    if crlf:
        text = text.replace("\n", "\r\n")
    return text.encode("ascii")


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------

def facturx_dir() -> pathlib.Path:
    import facturx
    return pathlib.Path(facturx.__file__).parent / "xsd_and_schematron"


XSD = {
    "ubl-invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "ubl-creditnote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
    "minimum": "facturx-minimum/Factur-X_MINIMUM.xsd",
    "basicwl": "facturx-basicwl/Factur-X_BASICWL.xsd",
    "basic": "facturx-basic/Factur-X_BASIC.xsd",
    "en16931": "facturx-en16931/Factur-X_EN16931.xsd",
    "extended": "facturx-extended/Factur-X_EXTENDED.xsd",
    "zugferd1": "zugferd/ZUGFeRD1p0.xsd",
}
SCHEMATRON = {
    "ubl": "ubl-2.1/EN16931-UBL-validation.xslt",
    "minimum": "facturx-minimum/Factur-X_1.09_MINIMUM.xsl",
    "basicwl": "facturx-basicwl/FACTUR-X_BASIC-WL.xslt",
    "basic": "facturx-basic/Factur-X_1.09_BASIC.xsl",
    "en16931": "facturx-en16931/FACTUR-X_EN16931.xslt",
    "extended": "facturx-extended/FACTUR-X_EXTENDED.xslt",
}
_SCHEMAS: dict[str, etree.XMLSchema] = {}


def check_xsd(xml: bytes, key: str) -> None:
    if key not in _SCHEMAS:
        _SCHEMAS[key] = etree.XMLSchema(file=str(facturx_dir() / XSD[key]))
    schema = _SCHEMAS[key]
    doc = etree.fromstring(xml, SAFE_PARSER)
    if not schema.validate(doc):
        raise AssertionError(f"XSD {key}: {schema.error_log}")


SCHEMATRON_JOBS: list[tuple[str, bytes, str, set[str]]] = []


def run_schematron() -> None:
    if os.environ.get("EINVOICE_SKIP_SCHEMATRON"):
        print("schematron: skipped (EINVOICE_SKIP_SCHEMATRON)")
        return
    from saxonche import PySaxonProcessor

    svrl = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
    with PySaxonProcessor(license=False) as proc:
        xslt = proc.new_xslt30_processor()
        compiled = {}
        for name, xml, key, expected in SCHEMATRON_JOBS:
            if key not in compiled:
                compiled[key] = xslt.compile_stylesheet(
                    stylesheet_file=str(facturx_dir() / SCHEMATRON[key]))
            node = proc.parse_xml(xml_text=xml.decode("utf-8"))
            report = etree.fromstring(compiled[key].transform_to_string(xdm_node=node).encode())
            failed = set()
            for fa in report.xpath("//svrl:failed-assert", namespaces=svrl):
                if fa.get("flag", "fatal") in ("warning", "information"):
                    continue
                rule = fa.get("id") or re.sub(r"\s+", " ", "".join(fa.itertext())).strip()[:120]
                failed.add(rule)
            if failed != expected:
                raise AssertionError(f"{name}: schematron {key} failed {sorted(failed)}, "
                                     f"expected {sorted(expected)}")
            print(f"schematron {key:8} {name}: ok" + (f" (fails {sorted(failed)} as intended)"
                                                     if failed else ""))


def model_view(inv: Invoice, with_lines: bool, with_vat: bool) -> dict:
    """What the reader must find, computed from the model (cross-check, not the golden)."""
    t = inv.written_totals()
    cn = inv.credit_note or inv.type_code == "381"
    return {
        "document": "credit_note" if cn else "invoice",
        "type_code": inv.type_code,
        "fields": {
            "invoice_number": inv.number, "invoice_date": inv.issue.isoformat(),
            "due_date": inv.due.isoformat() if inv.due else None, "currency": inv.currency,
            "amount_net": t["net"], "amount_tax": t["tax"], "amount_total": t["total"],
            "amount_due": t["due"], "vendor": inv.seller.name, "vendor_vat_id": inv.seller.vat_id,
            "iban": inv.iban, "bic": inv.bic, "po_number": inv.po, "buyer_reference": inv.buyer_ref,
            "preceding_invoice": inv.preceding[0] if inv.preceding else None,
        },
        "buyer": inv.buyer.name,
        "lines": [{"description": ln.name, "quantity": ln.qty, "unit_price": ln.price,
                   "net_amount": ln.net_written or f2(ln.net()), "vat_rate": ln.rate}
                  for ln in inv.lines] if with_lines else [],
        "vat": [{"category": g["cat"], "rate": g["rate"], "taxable": f2(g["basis"]),
                 "tax": f2(g["tax"])} for g in inv.groups()] if with_vat else [],
        "totals": t,
    }


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------

@dataclass
class Fixture:
    name: str
    file_name: str
    file_bytes: bytes
    attachment: Attachment
    sender: tuple[str, str]
    subject: str
    when: dt.datetime
    body: str
    crlf: bool
    expected: dict
    shows: str


FIXTURES: list[Fixture] = []
CET = dt.timezone(dt.timedelta(hours=1))
CEST = dt.timezone(dt.timedelta(hours=2))


def at(y, mo, d, h, mi, tz=CET) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, 0, tzinfo=tz)


def expectation(einvoice: dict | None, *, flags=(), reason=None, category="auto") -> dict:
    if category == "auto":
        category = "ap.credit_note" if einvoice["document"] == "credit_note" else "ap.invoice"
    return {"category": category, "einvoice": einvoice, "flags": sorted(flags),
            "no_einvoice_reason": reason}


def golden_for(inv: Invoice, xml: bytes, syntax: str, level: str | None, *, source: str,
               flags=(), schematron: str | None, expect_fail=(), name: str) -> dict:
    if syntax == "ubl":
        check_xsd(xml, "ubl-creditnote" if inv.credit_note else "ubl-invoice")
        e = read_ubl(xml)
    elif syntax == "cii":
        check_xsd(xml, level)
        e = read_cii(xml)
    else:
        check_xsd(xml, "zugferd1")
        e = read_zugferd1(xml)
    with_lines = syntax != "cii" or level not in ("minimum", "basicwl")
    mv = model_view(inv, with_lines, syntax != "cii" or level != "minimum")
    if syntax == "cii" and level == "minimum":   # the profile has no place for these
        mv["totals"].update(line_total=None, allowances=None, charges=None, prepaid=None)
        mv["fields"].update(due_date=None, iban=None)
    if syntax == "cii" and level in ("minimum", "basicwl", "basic"):
        mv["fields"]["bic"] = None
    for k, v in mv.items():
        assert e[k] == v, f"{name}: reader and model disagree on {k}:\n{e[k]}\n{v}"
    broken = broken_rules(e)
    if "einvoice_arithmetic" in flags:
        assert broken, f"{name}: flagged arithmetic but everything adds up"
    else:
        assert not broken, f"{name}: arithmetic broken {broken}"
    if schematron:
        checked = xml
        if syntax == "cii" and "xrechnung" in inv.guideline:
            # the Factur-X schematron accepts only its own guideline IDs (FX-SCH-A-000556);
            # check the XRechnung CII under the plain EN 16931 ID so every other rule runs
            checked = xml.replace(inv.guideline.encode(), EN16931.encode())
        SCHEMATRON_JOBS.append((name, checked, schematron, set(expect_fail)))
    e["source"] = source
    return e


def add(fx: Fixture) -> None:
    assert fx.name not in {f.name for f in FIXTURES}, fx.name
    FIXTURES.append(fx)


def add_standalone(name: str, inv: Invoice, syntax: str, *, level: str | None = None,
                   attach: str | None, ctype: str, style: str = "plain", sender, subject: str,
                   when: dt.datetime, body: str, crlf: bool, shows: str, flags=(),
                   expect_fail=(), default_ns=False, nsmap=None) -> bytes:
    if syntax == "ubl":
        xml = write_ubl(inv, default_ns=default_ns)
        sch = "ubl"
    else:
        xml = write_cii(inv, level, nsmap=nsmap)
        sch = level
    source = f"attachment {attach if attach is not None else '(unnamed)'}"
    e = golden_for(inv, xml, syntax, level, source=source, flags=flags, schematron=sch,
                   expect_fail=expect_fail, name=name)
    add(Fixture(name, f"{name}.xml", xml, Attachment(attach, ctype, xml, style), sender, subject,
                when, body, crlf, expectation(e, flags=flags), shows))
    return xml


def add_hybrid(name: str, inv: Invoice, syntax: str, *, level: str, emb_name: str,
               flavour: str, xmp_level: str, relationship: str, lang: str, attach: str,
               ctype: str = "application/pdf", sender, subject: str, when: dt.datetime,
               body: str, crlf: bool, shows: str, flags=(), visual_number: str | None = None,
               visual_total: str | None = None, nsmap=None) -> None:
    xml = write_zugferd1(inv) if syntax == "zugferd1" else write_cii(inv, level, nsmap=nsmap)
    e = golden_for(inv, xml, syntax, level, source=f"attachment {attach}, embedded {emb_name}",
                   flags=flags, schematron=None if syntax == "zugferd1" else level, name=name)
    credit = inv.type_code == "381"
    title = f"{inv.seller.name}: {'Gutschrift' if credit else 'Rechnung' if lang == 'de' else 'Invoice'} {visual_number or inv.number}"
    pdf_lines = visual_lines(inv, lang, emb_name, number=visual_number, total=visual_total)
    visual = render_pdf(pdf_lines, title=title, author=inv.seller.name, lang=lang)
    pdf = make_hybrid(visual, Embedded(emb_name, xml, relationship=relationship,
                                       desc=f"{profile_of(inv.guideline)} XML invoice"),
                      flavour=flavour, level=xmp_level, title=title, author=inv.seller.name,
                      subject=f"{profile_of(inv.guideline)} {inv.number}",
                      when=dt.datetime.combine(inv.issue, dt.time(9, 30), CET), lang=lang)
    check_hybrid(name, pdf, emb_name, xml, number=visual_number or inv.number,
                 total=money(visual_total or inv.written_totals()["total"], lang, inv.currency))
    add(Fixture(name, f"{name}.pdf", pdf, Attachment(attach, ctype, pdf), sender, subject, when,
                body, crlf, expectation(e, flags=flags), shows))


def check_hybrid(name: str, pdf: bytes, emb_name: str, emb_data: bytes, *, number: str | None,
                 total: str | None, facturx_finds: bool = True) -> None:
    from facturx import get_xml_from_pdf
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    att = reader.attachments
    assert list(att) == [emb_name] and att[emb_name] == [emb_data], f"{name}: embedded file"
    assert reader.trailer["/Root"]["/AF"][0].get_object()["/F"] == emb_name
    found_name, found = get_xml_from_pdf(pdf, check_xsd=False, filenames=[emb_name])
    if facturx_finds:
        assert found_name == emb_name and found == emb_data, f"{name}: factur-x extraction"
    else:
        assert found_name is False, f"{name}: factur-x should not find an invoice"
    text = reader.pages[0].extract_text()
    if number:
        assert number in text and total in text, f"{name}: visual text lacks {number} / {total}"


# ---- parties ---------------------------------------------------------------

XR30 = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
EN16931 = "urn:cen.eu:en16931:2017"
FX_MINIMUM = "urn:factur-x.eu:1p0:minimum"
FX_BASICWL = "urn:factur-x.eu:1p0:basicwl"
FX_BASIC = "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic"
FX_EXTENDED = "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended"
ZF1_COMFORT = "urn:ferd:CrossIndustryDocument:invoice:1p0:comfort"

OC_DE_VAT = de_vat("29876543")
OC_DE = Party("Ourcompany Europe GmbH", "Hafenstraße 12", "Hamburg", "20457", "DE",
              vat_id=OC_DE_VAT, endpoint=("EM", "ap@ourcompany.example"))
OC_DE_PEPPOL = Party("Ourcompany Europe GmbH", "Hafenstraße 12", "Hamburg", "20457", "DE",
                     vat_id=OC_DE_VAT, endpoint=("9930", OC_DE_VAT))
OC_NL_VAT = nl_vat("85991233")
OC_NL = Party("Ourcompany Benelux B.V.", "Wilhelminakade 91", "Rotterdam", "3072 AP", "NL",
              vat_id=OC_NL_VAT, endpoint=("9944", OC_NL_VAT))
OC_FR = Party("Ourcompany France SAS", "12 rue de la Paix", "Paris", "75002", "FR",
              vat_id=fr_vat("812345676"))


def seller(name, street, city, zip_, country, **kw) -> Party:
    return Party(name, street, city, zip_, country, **kw)


# ---- valid standalone XML ----------------------------------------------------

def xrechnung_pair() -> None:
    muster = seller("Muster Lieferant GmbH", "Industriestraße 7", "Stuttgart", "70565", "DE",
                    trading_name="Muster Lieferant", vat_id=de_vat("12345678"),
                    legal_id="HRB 712345", contact="Petra Schneider", phone="+49 711 555 0142",
                    email="rechnung@muster-lieferant.example",
                    endpoint=("EM", "rechnung@muster-lieferant.example"))
    inv = Invoice(
        number="2026-0042", issue=dt.date(2026, 11, 3), due=dt.date(2026, 12, 3),
        seller=muster, buyer=OC_DE, guideline=XR30, profile_id=PEPPOL_PROFILE,
        buyer_ref="04011000-12345-03", po="PO-7781",
        iban=iban("DE", "120300000000202051"), bic="BYLADEM1001",
        account_name="Muster Lieferant GmbH",
        terms="Zahlbar innerhalb von 30 Tagen ohne Abzug.",
        delivery=dt.date(2026, 10, 28),
        notes=["Lieferung gemäß Rahmenvertrag RV-2024-17."],
        lines=[
            Line("Büromaterial Paket A", "2", "120.00", "19", seller_id="BM-A"),
            Line("Druckerpapier A4, 80 g/m², 500 Blatt", "40", "4.95", "19", unit="XPK",
                 seller_id="DP-A4-80"),
            Line("Fachbuch Steuerrecht 2026", "3", "49.90", "7", seller_id="FB-STR-26"),
            Line("Wartung Kopierer", "6.5", "89.00", "19", unit="HUR", seller_id="SV-KOP"),
        ],
    )
    sender = ("Muster Lieferant GmbH", "rechnung@muster-lieferant.example")
    ubl = add_standalone(
        "xrechnung-ubl-invoice", inv, "ubl", attach="INV_2026_0042.xml",
        ctype="application/xml", sender=sender, subject="Rechnung 2026-0042",
        when=at(2026, 11, 3, 10, 14),
        body="Sehr geehrte Damen und Herren,\n\nanbei erhalten Sie unsere Rechnung 2026-0042 "
             "als XRechnung (UBL).\n\nMit freundlichen Grüßen\nPetra Schneider\n"
             "Muster Lieferant GmbH\n",
        crlf=True, shows="XRechnung 3.0 UBL invoice, two VAT rates (19 % and 7 %), every field "
                         "present; the same data as xrechnung-cii-invoice")
    cii = add_standalone(
        "xrechnung-cii-invoice", inv, "cii", level="en16931", attach="INV_2026_0042",
        ctype="text/xml; charset=utf-8", sender=sender, subject="Dokumente 2026-0042",
        when=at(2026, 11, 3, 10, 16),
        body="Sehr geehrte Damen und Herren,\n\nanbei die Unterlagen zum Vorgang 2026-0042, "
             "diesmal im CII-Format.\n\nMit freundlichen Grüßen\nPetra Schneider\n",
        crlf=False, shows="the same XRechnung 3.0 as CII; attachment name without extension, "
                          "subject without the word invoice")
    a, b = read_ubl(ubl), read_cii(cii)
    for k in ("document", "type_code", "profile", "guideline", "fields", "buyer", "lines", "vat",
              "totals"):
        assert a[k] == b[k], f"UBL and CII XRechnung differ on {k}"


def peppol_be() -> None:
    kbo = be_vat("04567891")[2:]
    vos = seller("Vandenbroucke Office Solutions NV", "Kortrijksesteenweg 1020", "Gent", "9051",
                 "BE", trading_name="VOS Office", vat_id=f"BE{kbo}", legal_id=kbo,
                 legal_id_scheme="0208", endpoint=("0208", kbo), contact="Lieve De Smet",
                 email="facturatie@vos-office.example")
    inv = Invoice(
        number="VOS-26-01187", issue=dt.date(2026, 10, 14), due=dt.date(2026, 11, 13),
        seller=vos, buyer=OC_NL, guideline=PEPPOL, profile_id=PEPPOL_PROFILE,
        buyer_ref="OC-BNL-4471", po="4500098765", iban=iban("BE", "001234567803"),
        bic="GEBABEBB", payment_ref="+++090/9337/55493+++", means_code="30",
        lines=[
            Line("Bureaustoel ErgoPlus", "4", "289.00", "21", seller_id="ERG-PLUS"),
            Line("Bureaulamp LED", "4", "59.95", "21", seller_id="LMP-LED"),
            Line("Handboek Belgisch boekhoudrecht", "2", "64.50", "6", seller_id="BK-BBR"),
        ],
    )
    add_standalone(
        "peppol-ubl-invoice-be", inv, "ubl", attach="document.dat",
        ctype="application/octet-stream", sender=("VOS Office", "facturatie@vos-office.example"),
        subject="Your documents", when=at(2026, 10, 14, 16, 2, CEST),
        body="Dear customer,\n\nplease find your documents attached.\n"
             "Total due 999.00 EUR, payable within 30 days.\n\nKind regards,\nLieve De Smet\n"
             "Vandenbroucke Office Solutions NV\n",
        crlf=True, default_ns=True,
        shows="Peppol BIS Billing 3.0 UBL invoice from a Belgian seller (21 % and 6 %), "
              "UBL in the default namespace, attachment document.dat as "
              "application/octet-stream; the body states a wrong total (999.00)")
    cn = Invoice(
        number="VOS-26-CN-0031", issue=dt.date(2026, 10, 28), due=dt.date(2026, 11, 27),
        seller=vos, buyer=OC_NL, guideline=PEPPOL, profile_id=PEPPOL_PROFILE, type_code="381",
        credit_note=True, buyer_ref="OC-BNL-4471", po="4500098765",
        preceding=("VOS-26-01187", dt.date(2026, 10, 14)), means_code="97",
        notes=["Retour van 1 bureaustoel (transportschade)."],
        lines=[Line("Bureaustoel ErgoPlus (retour)", "1", "289.00", "21", seller_id="ERG-PLUS")],
    )
    add_standalone(
        "peppol-ubl-credit-note-be", cn, "ubl", attach="VOS-26-CN-0031.xml",
        ctype="text/xml", sender=("VOS Office", "facturatie@vos-office.example"),
        subject="Credit note VOS-26-CN-0031", when=at(2026, 10, 28, 9, 41),
        body="Dear customer,\n\nattached is credit note VOS-26-CN-0031 for the returned chair "
             "(invoice VOS-26-01187).\n\nKind regards,\nLieve De Smet\n",
        crlf=False,
        shows="Peppol BIS 3.0 UBL CreditNote (CreditNoteTypeCode 381, CreditedQuantity), "
              "BillingReference to VOS-26-01187 (BT-25), due date in PaymentMeans/PaymentDueDate")


def cii_credit_note() -> None:
    mueller = seller("Elektro Müller GmbH & Co. KG", "Am Mühlbach 3", "Augsburg", "86150", "DE",
                     vat_id=de_vat("81234567"), tax_number="102/234/56789",
                     contact="Josef Müller", email="buchhaltung@elektro-mueller.example")
    inv = Invoice(
        number="GS-2026-0107", issue=dt.date(2026, 9, 22), seller=mueller, buyer=OC_DE,
        guideline=EN16931, type_code="381", preceding=("RE-2026-0915", dt.date(2026, 9, 15)),
        po="4500012345", terms="Der Betrag wird mit der nächsten Rechnung verrechnet.",
        means_code=None,
        lines=[Line("Gutschrift Preisdifferenz LED-Panel 60x60", "12", "8.50", "19"),
               Line("Gutschrift Anfahrtspauschale", "1", "45.00", "19")],
    )
    add_standalone(
        "cii-credit-note-381", inv, "cii", level="en16931",
        attach="Gutschrift_Müller_GS-2026-0107.xml", style="rfc2231",
        ctype="text/xml; charset=utf-8",
        sender=("Elektro Müller GmbH & Co. KG", "buchhaltung@elektro-mueller.example"),
        subject="Gutschrift GS-2026-0107 zu RE-2026-0915", when=at(2026, 9, 22, 11, 5, CEST),
        body="Guten Tag,\n\nwie besprochen erhalten Sie anbei unsere Gutschrift GS-2026-0107 "
             "zur Rechnung RE-2026-0915.\n\nViele Grüße\nJosef Müller\n",
        crlf=True,
        shows="CII (EN 16931) credit note: TypeCode 381, InvoiceReferencedDocument (BT-25), "
              "seller name with '&', no due date and no payment means; RFC 2231 UTF-8 "
              "attachment name")


def ubl_usd() -> None:
    nls = seller("Nordlicht Software GmbH", "Brandstwiete 4", "Hamburg", "20457", "DE",
                 vat_id=de_vat("30112233"), endpoint=("9930", de_vat("30112233")),
                 legal_id="HRB 154321", contact="Jonas Petersen",
                 email="billing@nordlicht-software.example")
    inv = Invoice(
        number="NLS-2026-0815", issue=dt.date(2026, 11, 16), due=dt.date(2026, 12, 16),
        seller=nls, buyer=OC_DE_PEPPOL, guideline=PEPPOL, profile_id=PEPPOL_PROFILE,
        currency="USD", tax_currency="EUR", tax_rate_to_tax_currency="0.9137",
        buyer_ref="OC-IT-2026-77", po="4500013377", iban=iban("DE", "200400600123456700"),
        bic="COBADEFFXXX", means_code="58",
        lines=[Line("Northlight Analytics licence, 12 months", "25", "480.00", "19"),
               Line("Onboarding workshop", "2", "1250.00", "19", unit="DAY")],
    )
    add_standalone(
        "ubl-usd-tax-currency-eur", inv, "ubl", attach="NLS-2026-0815.xml", ctype="text/xml",
        sender=("Nordlicht Software GmbH", "billing@nordlicht-software.example"),
        subject="Invoice NLS-2026-0815 (USD)", when=at(2026, 11, 16, 8, 55),
        body="Hello,\n\nattached is our invoice NLS-2026-0815 for the analytics licences.\n"
             "Amount: approx. USD 10,000.00 as quoted in September.\n\nBest regards,\n"
             "Jonas Petersen\n",
        crlf=False,
        shows="Peppol UBL invoice in USD with TaxCurrencyCode EUR (BT-6): two TaxTotal, the "
              "EUR one (no subtotals) first; amount_tax is the USD one; body quotes a wrong amount")


def ubl_reverse_charge() -> None:
    vdl = seller("Van Dijk Engineering B.V.", "Stationsplein 45", "Utrecht", "3511 ED", "NL",
                 vat_id=nl_vat("81234560"), legal_id="30123456", legal_id_scheme="0106",
                 endpoint=("0106", "30123456"), email="facturen@vandijk-engineering.example")
    inv = Invoice(
        number="VDE-2026-0311", issue=dt.date(2026, 12, 1), due=dt.date(2026, 12, 31),
        seller=vdl, buyer=OC_DE_PEPPOL, guideline=PEPPOL, profile_id=PEPPOL_PROFILE,
        po="4500013502", iban=iban("NL", "INGB0001234567"), bic="INGBNL2A",
        notes=["BTW verlegd / VAT reverse charge, Article 196 Directive 2006/112/EC."],
        lines=[Line("Engineering services November 2026", "38", "115.00", "0", cat="AE",
                    unit="HUR"),
               Line("Travel expenses (flat rate)", "1", "420.00", "0", cat="AE")],
    )
    add_standalone(
        "ubl-reverse-charge-ae", inv, "ubl", attach=None, ctype="application/xml",
        sender=("Van Dijk Engineering", "facturen@vandijk-engineering.example"),
        subject="Factuur VDE-2026-0311", when=at(2026, 12, 1, 13, 20),
        body="Goedemiddag,\n\nIn de bijlage vindt u factuur VDE-2026-0311.\n\nMet vriendelijke "
             "groet,\nVan Dijk Engineering B.V.\n",
        crlf=True,
        shows="Peppol UBL, cross-border reverse charge: category AE at 0 % with exemption "
              "reason, tax 0.00; no buyer reference; attachment without any file name")


def ubl_four_decimals() -> None:
    krause = seller("Schrauben Krause KG", "Gewerbering 12", "Bielefeld", "33609", "DE",
                    vat_id=de_vat("44556677"), email="rechnung@schrauben-krause.example")
    inv = Invoice(
        number="SK-2026-4711", issue=dt.date(2026, 9, 30), due=dt.date(2026, 10, 14),
        seller=krause, buyer=OC_DE, guideline=EN16931, po="4500011994",
        iban=iban("DE", "480501610000123456"), terms="14 Tage netto.",
        lines=[Line("Zylinderschraube DIN 912 M4x20", "1000", "0.1234", "19"),
               Line("Sechskantmutter DIN 934 M4", "2500", "0.0456", "19"),
               Line("Unterlegscheibe DIN 125 M4", "750", "0.0189", "19"),
               Line("Versandkosten", "1", "6.90", "19")],
    )
    add_standalone(
        "ubl-four-decimal-unit-prices", inv, "ubl", attach="Rechnung_SK-2026-4711.xml",
        ctype="application/xml", sender=("Schrauben Krause KG", "rechnung@schrauben-krause.example"),
        subject="Ihre Rechnung SK-2026-4711", when=at(2026, 9, 30, 17, 45, CEST),
        body="Hallo,\n\nanbei die Rechnung SK-2026-4711.\n\nGruß\nSchrauben Krause\n",
        crlf=False,
        shows="plain EN 16931 UBL (CustomizationID urn:cen.eu:en16931:2017) with 4-decimal unit "
              "prices (0.1234); line amounts rounded to 2 decimals; totals 2 decimals")


def ubl_twenty_lines() -> None:
    """A typical office-supplies order: 20 lines at two VAT rates (what `deskmail bench
    documents` times as "a typical e-invoice")."""
    krause = seller("Schrauben Krause KG", "Gewerbering 12", "Bielefeld", "33609", "DE",
                    vat_id=de_vat("44556677"), email="rechnung@schrauben-krause.example")
    items = [("Kugelschreiber blau, 50er Pack", "4", "18.90", "19"),
             ("Ordner A4 breit, grau", "30", "2.79", "19"),
             ("Fachzeitschrift Bilanzierung, Abo Q1", "1", "59.00", "7"),
             ("Kopierpapier A4, 80 g/m², 2500 Blatt", "12", "21.45", "19"),
             ("Haftnotizen 76x76 mm, 12 Blöcke", "10", "7.35", "19"),
             ("Tonerkassette schwarz, 12.000 Seiten", "3", "134.00", "19"),
             ("Trennblätter A4, 100 Stück", "8", "4.15", "19"),
             ("Fachbuch Umsatzsteuer 2026", "2", "79.90", "7"),
             ("Briefumschläge DIN lang, 1000 Stück", "2", "24.60", "19"),
             ("Textmarker, 6 Farben", "15", "5.49", "19"),
             ("Heftklammern 24/6, 5000 Stück", "6", "2.10", "19"),
             ("Locher, 40 Blatt", "4", "12.80", "19"),
             ("Hängeregistratur, 25 Stück", "5", "16.75", "19"),
             ("Kalender 2027, Tischformat", "20", "6.20", "7"),
             ("Druckerpapier A3, 500 Blatt", "3", "14.99", "19"),
             ("Klarsichthüllen A4, 100 Stück", "9", "3.95", "19"),
             ("Batterien AA, 24er Pack", "6", "11.40", "19"),
             ("Schreibblock A4 kariert", "40", "1.35", "19"),
             ("Laminierfolien A4, 100 Stück", "2", "18.30", "19"),
             ("Versandkosten", "1", "9.90", "19")]
    inv = Invoice(
        number="SK-2026-4790", issue=dt.date(2026, 10, 30), due=dt.date(2026, 11, 13),
        seller=krause, buyer=OC_DE, guideline=XR30, po="4500012410",
        buyer_ref="04011000-12345-03",
        iban=iban("DE", "480501610000123456"), terms="14 Tage netto.",
        lines=[Line(*item) for item in items],
    )
    add_standalone(
        "ubl-twenty-lines", inv, "ubl", attach="Rechnung_SK-2026-4790.xml",
        ctype="application/xml", sender=("Schrauben Krause KG", "rechnung@schrauben-krause.example"),
        subject="Ihre Rechnung SK-2026-4790", when=at(2026, 10, 30, 16, 5),
        body="Hallo,\n\nanbei die Rechnung SK-2026-4790 als XRechnung.\n\nGruß\nSchrauben Krause\n",
        crlf=False,
        shows="XRechnung 3.0 UBL with 20 lines at 19 % and 7 %: the typical e-invoice that "
              "`deskmail bench documents` times")


def ubl_prepaid() -> None:
    becker = seller("Hochbau Becker GmbH", "Lindenallee 40", "Hannover", "30159", "DE",
                    vat_id=de_vat("27182818"), legal_id="HRB 204060", contact="Frank Becker",
                    phone="+49 511 987 650", email="rechnung@hochbau-becker.example",
                    endpoint=("EM", "rechnung@hochbau-becker.example"))
    inv = Invoice(
        number="SR-2026-0088", issue=dt.date(2026, 12, 7), due=dt.date(2026, 12, 21),
        seller=becker, buyer=OC_DE, guideline=XR30, profile_id=PEPPOL_PROFILE,
        buyer_ref="OC-FM-HAFEN12", po="4500010021", iban=iban("DE", "250500000123456789"),
        bic="NOLADE2HXXX", prepaid="20000.00",
        notes=["Schlussrechnung Umbau Lager Hafenstraße 12; Abschlagsrechnung AR-2026-0051 "
               "vom 15.09.2026 (20.000,00 EUR) wurde bezahlt."],
        lines=[Line("Rohbauarbeiten Lager, Pauschale", "1", "28500.00", "19"),
               Line("Trockenbau", "212.5", "38.40", "19", unit="MTK"),
               Line("Entsorgung Bauschutt", "6", "185.00", "19", unit="TNE")],
    )
    add_standalone(
        "ubl-prepaid-final-invoice", inv, "ubl", attach="Schlussrechnung_SR-2026-0088.xml",
        ctype="application/xml",
        sender=("Hochbau Becker GmbH", "rechnung@hochbau-becker.example"),
        subject="Schlussrechnung SR-2026-0088", when=at(2026, 12, 7, 7, 58),
        body="Sehr geehrte Damen und Herren,\n\nanbei unsere Schlussrechnung. Die Abschlagszahlung "
             "über 20.000,00 EUR ist bereits abgezogen.\n\nMit freundlichen Grüßen\nFrank Becker\n",
        crlf=True,
        shows="XRechnung 3.0 UBL final invoice with PrepaidAmount 20000.00 (BT-113): "
              "amount_due (BT-115) = total - prepaid")


def cii_rounding() -> None:
    albers = seller("Gastro-Service Albers e.K.", "Marktplatz 9", "Lüneburg", "21335", "DE",
                    vat_id=de_vat("31415926"), email="rechnungen@gastro-albers.example")
    inv = Invoice(
        number="GA-26-1130", issue=dt.date(2026, 11, 30), due=dt.date(2026, 12, 10),
        seller=albers, buyer=OC_DE, guideline=EN16931, buyer_ref="Kantine HH",
        iban=iban("DE", "240501100012345678"), prepaid="100.00", rounding="0.03",
        terms="Zahlbar bis 10.12.2026. Betrag auf volle 10 Cent gerundet.",
        lines=[Line("Mittagessen Kantine November", "412", "6.35", "7"),
               Line("Getränke Kantine November", "388", "1.85", "19"),
               Line("Catering Betriebsversammlung", "1", "730.00", "7")],
    )
    add_standalone(
        "cii-prepaid-and-rounding", inv, "cii", level="en16931", attach="factur-x.xml",
        ctype="text/xml", sender=("Gastro-Service Albers", "rechnungen@gastro-albers.example"),
        subject="Abrechnung November", when=at(2026, 11, 30, 18, 12),
        body="Hallo zusammen,\n\nhier die Abrechnung für November (nur XML, ohne PDF).\n\n"
             "Viele Grüße\nAlbers\n",
        crlf=False,
        shows="standalone CII (EN 16931) with TotalPrepaidAmount and RoundingAmount (BT-114): "
              "due = total - prepaid + rounding; a bare XML attachment named factur-x.xml")


def ubl_missing_optional() -> None:
    brandt = seller("Gärtnerei Brandt", "Vierlander Heerweg 110", "Hamburg", "21037", "DE",
                    vat_id=de_vat("55667788"), email="post@gaertnerei-brandt.example")
    inv = Invoice(
        number="2026-318", issue=dt.date(2026, 10, 2), seller=brandt, buyer=OC_DE,
        guideline=EN16931, means_code=None,
        terms="Zahlbar innerhalb von 14 Tagen ohne Abzug.",
        lines=[Line("Pflanzenpflege Empfang, September", "1", "180.00", "19"),
               Line("Bodendecker, Topf 11 cm", "24", "3.20", "7")],
    )
    add_standalone(
        "ubl-missing-optional-fields", inv, "ubl", attach="rechnung_2026-318.xml",
        ctype="application/xml", sender=("Gärtnerei Brandt", "post@gaertnerei-brandt.example"),
        subject="Rechnung September", when=at(2026, 10, 2, 12, 30, CEST),
        body="Moin,\n\nanbei die Rechnung für September.\n\nBrandt\n", crlf=True,
        shows="UBL with the optional fields absent: no due date (payment terms text only), "
              "no PO, no payment means/IBAN, no buyer reference")


def ubl_arithmetic() -> None:
    wagner = seller("Papier & Mehr Wagner OHG", "Bahnhofstraße 21", "Kassel", "34117", "DE",
                    vat_id=de_vat("66778899"), email="buchhaltung@papier-wagner.example")
    inv = Invoice(
        number="PW-2026-0666", issue=dt.date(2026, 11, 9), due=dt.date(2026, 11, 23),
        seller=wagner, buyer=OC_DE, guideline=EN16931, po="4500012999",
        iban=iban("DE", "520503530001234567"),
        lines=[Line("Kopierpapier A4, Karton", "10", "24.90", "19"),
               Line("Ordner breit, blau", "50", "1.98", "19")],
        # BR-CO-10 broken: the lines add up to 348.00, the XML says 368.00 (everything after is
        # consistent with the wrong sum)
        written={"line_total": "368.00"},
    )
    t = inv.totals()
    assert f2(t["line_total"]) == "348.00"
    add_standalone(
        "ubl-arithmetic-error", inv, "ubl", attach="PW-2026-0666.xml", ctype="application/xml",
        sender=("Papier & Mehr Wagner OHG", "buchhaltung@papier-wagner.example"),
        subject="Invoice PW-2026-0666", when=at(2026, 11, 9, 9, 3),
        body="Guten Morgen,\n\nanbei Rechnung PW-2026-0666.\n\nGruß\nWagner\n", crlf=False,
        flags=("einvoice_arithmetic",), expect_fail={"BR-CO-10", "BR-CO-13"},
        shows="UBL whose LineExtensionAmount says 368.00 while the lines (249.00 + 99.00) sum "
              "to 348.00 and TaxExclusiveAmount is 348.00 (BR-CO-10, BR-CO-13)")


def cii_arithmetic() -> None:
    kuehne = seller("Kühne IT-Service GmbH", "Karl-Marx-Straße 77", "Leipzig", "04109", "DE",
                    vat_id=de_vat("77889900"), legal_id="HRB 33221", contact="Anja Kühne",
                    phone="+49 341 220 4400", email="rechnung@kuehne-it.example",
                    endpoint=("EM", "rechnung@kuehne-it.example"))
    inv = Invoice(
        number="KIT-2026-1207", issue=dt.date(2026, 12, 7), due=dt.date(2026, 12, 21),
        seller=kuehne, buyer=OC_DE, guideline=XR30, profile_id=PEPPOL_PROFILE,
        buyer_ref="04011000-99999-12", iban=iban("DE", "860555920012345678"),
        lines=[Line("Notebook-Reparatur", "3", "95.00", "19", unit="HUR"),
               Line("Ersatz-SSD 1 TB", "2", "89.00", "19")],
        written={"total": "650.97", "due": "650.97"},
    )
    assert f2(inv.totals()["total"]) == "550.97"
    add_standalone(
        "cii-arithmetic-error-grand-total", inv, "cii", level="en16931",
        attach="KIT-2026-1207.xml", ctype="application/xml",
        sender=("Kühne IT-Service GmbH", "rechnung@kuehne-it.example"),
        subject="Rechnung KIT-2026-1207", when=at(2026, 12, 7, 15, 40),
        body="Hallo,\n\nanbei die Rechnung KIT-2026-1207 (XRechnung).\n\nAnja Kühne\n", crlf=True,
        flags=("einvoice_arithmetic",), expect_fail={"BR-CO-15"},
        shows="XRechnung CII whose GrandTotalAmount/DuePayableAmount 650.97 is not "
              "TaxBasisTotal 463.00 + TaxTotal 87.97 = 550.97 (BR-CO-15)")


# ---- hybrids (PDF/A-3 + embedded XML) --------------------------------------------

def hybrids() -> None:
    dubois = seller("Papeterie Dubois SARL", "14 rue Mercière", "Lyon", "69002", "FR",
                    vat_id=fr_vat("423456789"), legal_id="423456789", legal_id_scheme="0002",
                    email="compta@papeterie-dubois.example")
    inv = Invoice(
        number="F-2026-0412", issue=dt.date(2026, 10, 6), due=dt.date(2026, 11, 5),
        seller=dubois, buyer=OC_FR, guideline=FX_MINIMUM, buyer_ref="OCFR-ACHATS",
        po="PO-FR-2026-118", iban=iban("FR", "30006000011234567890092"),
        lines=[Line("Ramettes papier A4 recyclé", "50", "4.20", "20"),
               Line("Classeurs à levier", "20", "2.90", "20")],
    )
    add_hybrid(
        "facturx-minimum-hybrid", inv, "cii", level="minimum", emb_name="factur-x.xml",
        flavour="factur-x", xmp_level="MINIMUM", relationship="Data", lang="fr",
        attach="F-2026-0412.pdf", sender=("Papeterie Dubois", "compta@papeterie-dubois.example"),
        subject="Facture F-2026-0412", when=at(2026, 10, 6, 10, 0, CEST),
        body="Bonjour,\n\nVeuillez trouver ci-joint notre facture F-2026-0412 (Factur-X).\n\n"
             "Cordialement,\nPapeterie Dubois\n",
        crlf=False,
        shows="Factur-X MINIMUM hybrid: header totals only, no lines, no VAT breakdown, "
              "no due date/IBAN in the XML (the PDF shows them)")

    schaefer = seller("Druckerei Schäfer GmbH", "Rheinuferstraße 3", "Mainz", "55116", "DE",
                      vat_id=de_vat("13572468"), legal_id="HRB 40404",
                      email="rechnung@druckerei-schaefer.example")
    inv = Invoice(
        number="DS-2026-10-077", issue=dt.date(2026, 10, 19), due=dt.date(2026, 11, 2),
        seller=schaefer, buyer=OC_DE, guideline=FX_BASICWL, buyer_ref="OC-MKT-2026",
        po="4500012610", iban=iban("DE", "550501200200123456"), payment_ref="DS-2026-10-077",
        terms="Zahlbar innerhalb von 14 Tagen.",
        lines=[Line("Imagebroschüre A4, 24 Seiten, Auflage 2.000", "1", "2860.00", "19"),
               Line("Visitenkarten, 10 Namen à 250 Stück", "10", "38.50", "19"),
               Line("Firmenchronik Hardcover (Buch)", "150", "17.80", "7")],
    )
    add_hybrid(
        "zugferd-basicwl-hybrid", inv, "cii", level="basicwl", emb_name="zugferd-invoice.xml",
        flavour="factur-x", xmp_level="BASIC WL", relationship="Alternative", lang="de",
        attach="Rechnung_DS-2026-10-077.pdf",
        sender=("Druckerei Schäfer", "rechnung@druckerei-schaefer.example"),
        subject="Rechnung DS-2026-10-077", when=at(2026, 10, 19, 14, 22, CEST),
        body="Sehr geehrte Damen und Herren,\n\nim Anhang finden Sie unsere Rechnung "
             "(ZUGFeRD).\n\nMit freundlichen Grüßen\nDruckerei Schäfer\n",
        crlf=True,
        shows="Factur-X BASIC WL embedded as zugferd-invoice.xml: no lines, but a VAT "
              "breakdown for 19 % and 7 %, due date, IBAN")

    bernard = seller("Fournitures Bernard SARL", "8 avenue Jean Jaurès", "Toulouse", "31000",
                     "FR", vat_id=fr_vat("534567896"), legal_id="534567896",
                     legal_id_scheme="0002", email="factures@fournitures-bernard.example")
    inv = Invoice(
        number="FA-2026-00731", issue=dt.date(2026, 11, 12), due=dt.date(2026, 12, 12),
        seller=bernard, buyer=OC_FR, guideline=FX_BASIC, po="PO-FR-2026-131",
        iban=iban("FR", "10278000010002003004072"),
        terms="Paiement à 30 jours. Pas d'escompte pour paiement anticipé.",
        lines=[Line("Cartouches toner noir", "6", "74.90", "20"),
               Line("Agendas 2027", "25", "12.40", "20"),
               Line("Dictionnaire Le Robert 2027", "4", "32.50", "5.5"),
               Line("Abonnement revue comptable", "1", "149.00", "5.5")],
    )
    add_hybrid(
        "facturx-basic-hybrid", inv, "cii", level="basic", emb_name="factur-x.xml",
        flavour="factur-x", xmp_level="BASIC", relationship="Data", lang="fr",
        attach="facture_FA-2026-00731.pdf",
        sender=("Fournitures Bernard", "factures@fournitures-bernard.example"),
        subject="Votre facture FA-2026-00731", when=at(2026, 11, 12, 9, 15),
        body="Bonjour,\n\nCi-joint la facture FA-2026-00731.\n\nBien à vous,\n"
             "Service comptabilité\n",
        crlf=False,
        nsmap={None: NS["rsm"], "a": NS["ram"], "b": NS["udt"], "c": NS["qdt"]},
        shows="Factur-X BASIC, French VAT 20 % and 5.5 % with a breakdown per rate; unusual "
              "namespace prefixes (default namespace for rsm, a:/b:/c: for ram/udt/qdt)")

    hoffmann = seller("Hoffmann Industriebedarf GmbH", "Dieselstraße 18", "Dortmund", "44147",
                      "DE", trading_name="Hoffmann Industriebedarf", vat_id=de_vat("98765432"),
                      legal_id="HRB 8123", contact="Sabine Hoffmann", phone="+49 231 700 120",
                      email="rechnung@hoffmann-industrie.example")
    inv = Invoice(
        number="RE-2026-0815", issue=dt.date(2026, 11, 20), due=dt.date(2026, 12, 20),
        seller=hoffmann, buyer=OC_DE, guideline=EN16931, buyer_ref="OC-WH-HH",
        po="4500012345", iban=iban("DE", "440700500123456789"), bic="DEUTDEDE440",
        account_name="Hoffmann Industriebedarf GmbH",
        terms="Zahlbar innerhalb von 30 Tagen netto.", delivery=dt.date(2026, 11, 18),
        acs=[AC(False, "44.40", "Projektrabatt 5 %", "95", "S", "19"),
             AC(True, "49.00", "Fracht und Verpackung", "FC", "S", "19"),
             AC(False, "8.50", "Rabatt Fachliteratur", "95", "S", "7")],
        lines=[Line("Arbeitshandschuhe Nitril, Gr. 9", "120", "3.85", "19", seller_id="AH-N9"),
               Line("Schutzbrille klar", "40", "6.90", "19", seller_id="SB-KL"),
               Line("Gehörschutzstöpsel, 200 Paar", "5", "30.00", "19", seller_id="GS-200"),
               Line("Fachbuch Arbeitssicherheit", "5", "34.00", "7", seller_id="FB-AS")],
    )
    add_hybrid(
        "zugferd-en16931-allowances-charges-hybrid", inv, "cii", level="en16931",
        emb_name="zugferd-invoice.xml", flavour="zugferd2", xmp_level="EN 16931",
        relationship="Alternative", lang="de", attach="RE-2026-0815",
        ctype="application/octet-stream",
        sender=("Hoffmann Industriebedarf", "rechnung@hoffmann-industrie.example"),
        subject="Unterlagen zu Ihrer Bestellung 4500012345", when=at(2026, 11, 20, 11, 48),
        body="Sehr geehrte Damen und Herren,\n\nanbei die Unterlagen zu Ihrer Bestellung "
             "4500012345 (Angebot AN-2026-0777, Gesamt 5.000,00 EUR).\n\nMit freundlichen "
             "Grüßen\nSabine Hoffmann\n",
        crlf=True,
        shows="ZUGFeRD 2.x EN 16931 (COMFORT) with document-level allowances and a charge "
              "(BT-107/BT-108 non-zero, in two VAT rates); PDF attached as "
              "application/octet-stream without extension; subject without 'invoice', body "
              "quotes an unrelated number and amount")

    weber = seller("Weber Maschinenbau AG", "Turbinenstraße 2", "Chemnitz", "09111", "DE",
                   vat_id=de_vat("24681357"), legal_id="HRB 19876", contact="Dr. Klaus Weber",
                   phone="+49 371 33 44 0", email="debitoren@weber-maschinenbau.example")
    inv = Invoice(
        number="WM-2026-2231", issue=dt.date(2026, 12, 2), due=dt.date(2027, 1, 1),
        seller=weber, buyer=OC_DE, guideline=FX_EXTENDED, buyer_ref="OC-PROD-7",
        po="4500013130", iban=iban("DE", "870400000123456789"), bic="COBADEFF870",
        terms="Zahlbar bis 01.01.2027 ohne Abzug.", delivery=dt.date(2026, 11, 30),
        lines=[Line("Förderband FB-2000, Sonderlänge 6 m", "1", "18400.00", "19",
                    allowance="920.00", allowance_reason="Messerabatt 5 %", order_line="10"),
               Line("Montage und Inbetriebnahme", "16", "98.00", "19", unit="HUR",
                    order_line="20"),
               Line("Transportversicherung", "1", "245.00", "0", cat="E", order_line="30")],
    )
    add_hybrid(
        "facturx-extended-hybrid", inv, "cii", level="extended", emb_name="factur-x.xml",
        flavour="factur-x", xmp_level="EXTENDED", relationship="Data", lang="de",
        attach="WM-2026-2231.pdf", sender=("Weber Maschinenbau AG", "debitoren@weber-maschinenbau.example"),
        subject="Rechnung WM-2026-2231 / Bestellung 4500013130", when=at(2026, 12, 2, 8, 30),
        body="Sehr geehrte Damen und Herren,\n\nanbei unsere Rechnung zur Lieferung des "
             "Förderbands.\n\nMit freundlichen Grüßen\nWeber Maschinenbau AG\n",
        crlf=False,
        shows="Factur-X EXTENDED: document name, line-level allowance (net = qty x price - "
              "allowance), line-level order references, an exempt line (category E, 0 %)")

    krueger = seller("IT-Systemhaus Krüger GmbH", "Wallstraße 15", "Düsseldorf", "40213", "DE",
                     vat_id=de_vat("19283746"), legal_id="HRB 77123", contact="Tim Krüger",
                     phone="+49 211 440 220", email="rechnung@krueger-it.example",
                     endpoint=("EM", "rechnung@krueger-it.example"))
    inv = Invoice(
        number="RE-2026-1204", issue=dt.date(2026, 12, 4), due=dt.date(2027, 1, 3),
        seller=krueger, buyer=OC_DE, guideline=XR30, profile_id=PEPPOL_PROFILE,
        buyer_ref="04011000-12345-03", po="4500013399",
        iban=iban("DE", "300500000012345678"), bic="WELADEDDXXX",
        terms="Zahlbar innerhalb von 30 Tagen.",
        lines=[Line("Managed Services Dezember 2026", "1", "1850.00", "19"),
               Line("Firewall-Lizenz, Verlängerung 12 Monate", "1", "640.00", "19"),
               Line("Vor-Ort-Einsatz", "3.5", "110.00", "19", unit="HUR")],
    )
    add_hybrid(
        "xrechnung-cii-embedded-hybrid", inv, "cii", level="en16931", emb_name="xrechnung.xml",
        flavour="factur-x", xmp_level="XRECHNUNG", relationship="Alternative", lang="de",
        attach="Rechnung_RE-2026-1204.pdf",
        sender=("IT-Systemhaus Krüger", "rechnung@krueger-it.example"),
        subject="Rechnung RE-2026-1204", when=at(2026, 12, 4, 16, 5),
        body="Hallo,\n\nanbei die Rechnung für Dezember (PDF mit eingebetteter XRechnung).\n\n"
             "Viele Grüße\nTim Krüger\n",
        crlf=True, shows="PDF/A-3 with an XRechnung 3.0 CII embedded as xrechnung.xml")

    schulz = seller("Bürotechnik Schulz GmbH", "Königsallee 60", "Bochum", "44789", "DE",
                    vat_id=de_vat("56473829"), tax_number="350/5712/3456",
                    email="rechnung@buerotechnik-schulz.example")
    inv = Invoice(
        number="2026-3312", issue=dt.date(2026, 10, 27), due=dt.date(2026, 11, 10),
        seller=schulz, buyer=OC_DE, guideline=ZF1_COMFORT, po="4500012801",
        iban=iban("DE", "430500010012345678"), bic="WELADED1BOC", means_code="31",
        terms="Zahlbar innerhalb von 14 Tagen ohne Abzug.", delivery=dt.date(2026, 10, 23),
        lines=[Line("Multifunktionsdrucker MFP 4020", "2", "689.00", "19.00"),
               Line("Tonerkartusche schwarz", "6", "79.90", "19.00"),
               Line("Bedienungshandbuch gedruckt", "2", "19.50", "7.00")],
    )
    add_hybrid(
        "zugferd1-comfort-hybrid", inv, "zugferd1", level="comfort",
        emb_name="ZUGFeRD-invoice.xml", flavour="zugferd1", xmp_level="COMFORT",
        relationship="Alternative", lang="de", attach="Rechnung 2026-3312.pdf",
        sender=("Bürotechnik Schulz", "rechnung@buerotechnik-schulz.example"),
        subject="Ihre Rechnung 2026-3312", when=at(2026, 10, 27, 13, 37),
        body="Sehr geehrte Damen und Herren,\n\nanbei Ihre Rechnung. Betrag 2.000,00 EUR wie "
             "besprochen.\n\nMit freundlichen Grüßen\nBürotechnik Schulz\n",
        crlf=False,
        shows="legacy ZUGFeRD 1.0 CrossIndustryDocument (COMFORT) as ZUGFeRD-invoice.xml; "
              "rates written 19.00/7.00; attachment name with a space; body quotes a wrong amount")

    hanse = seller("Hanse Marine Parts GmbH", "Am Sandtorkai 30", "Hamburg", "20457", "DE",
                   vat_id=de_vat("64738291"), legal_id="HRB 99001",
                   contact="Kirsten Olsen", phone="+49 40 3003 100",
                   email="ar@hanse-marine.example")
    inv = Invoice(
        number="HMP-26-0419", issue=dt.date(2026, 11, 26), due=dt.date(2026, 12, 26),
        seller=hanse, buyer=OC_DE, guideline=EN16931, buyer_ref="OC-FLEET",
        po="4500013188", currency="USD", tax_currency="EUR", tax_rate_to_tax_currency="0.9205",
        iban=iban("DE", "200700000123456700"), bic="DEUTDEHHXXX",
        terms="Payable within 30 days in USD.",
        lines=[Line("Marine diesel injector set", "4", "1875.00", "19"),
               Line("Gasket kit MDX", "12", "64.75", "19")],
    )
    add_hybrid(
        "facturx-en16931-usd-hybrid", inv, "cii", level="en16931", emb_name="factur-x.xml",
        flavour="factur-x", xmp_level="EN 16931", relationship="Data", lang="en",
        attach="HMP-26-0419.pdf", sender=("Hanse Marine Parts", "ar@hanse-marine.example"),
        subject="Invoice HMP-26-0419", when=at(2026, 11, 26, 10, 10),
        body="Dear Sir or Madam,\n\nplease find attached invoice HMP-26-0419 (USD).\n\n"
             "Kind regards,\nKirsten Olsen\n",
        crlf=True,
        shows="Factur-X EN 16931 in USD with TaxCurrencyCode EUR: two TaxTotalAmount, the EUR "
              "one written first; amount_tax is the one with currencyID USD")

    lindner = seller("Lindner Verpackungen GmbH", "Hafenweg 5", "Bremen", "28217", "DE",
                     vat_id=de_vat("11223344"), email="faktura@lindner-verpackungen.example")
    inv = Invoice(
        number="LV-2026-5521", issue=dt.date(2026, 11, 4), due=dt.date(2026, 11, 18),
        seller=lindner, buyer=OC_DE, guideline=EN16931, po="4500012777",
        iban=iban("DE", "290500000012345678"), bic="BRLADE22XXX",
        lines=[Line("Umzugskarton 2-wellig", "500", "1.45", "19"),
               Line("Packband braun 50 mm", "36", "2.10", "19")],
    )
    add_hybrid(
        "facturx-visual-mismatch-hybrid", inv, "cii", level="en16931", emb_name="factur-x.xml",
        flavour="factur-x", xmp_level="EN 16931", relationship="Data", lang="de",
        attach="LV-2026-5521.pdf",
        sender=("Lindner Verpackungen", "faktura@lindner-verpackungen.example"),
        subject="Rechnung LV-2026-5521", when=at(2026, 11, 4, 15, 15),
        body="Guten Tag,\n\nanbei unsere Rechnung.\n\nLindner Verpackungen\n", crlf=False,
        flags=("einvoice_mismatch",), visual_number="LV-2026-5512", visual_total="1012.83",
        shows="Factur-X whose visual PDF says LV-2026-5512 / Gesamtbetrag 1.012,83 € while the "
              "XML says LV-2026-5521 / 952.71: the XML wins, flag einvoice_mismatch")

    lange = seller("Fotostudio Lange", "Kirchstraße 4", "Celle", "29221", "DE",
                   tax_number="17/123/45678", ident="K-10447",
                   email="info@fotostudio-lange.example")
    inv = Invoice(
        number="2026-57", issue=dt.date(2026, 9, 14), seller=lange, buyer=OC_DE,
        guideline=FX_BASIC, means_code=None,
        terms="Bitte überweisen Sie den Betrag innerhalb von 10 Tagen.",
        lines=[Line("Mitarbeiterportraits, Shooting vor Ort", "1", "450.00", "19"),
               Line("Bildbearbeitung", "18", "12.00", "19")],
    )
    add_hybrid(
        "facturx-basic-missing-optional-hybrid", inv, "cii", level="basic",
        emb_name="factur-x.xml", flavour="factur-x", xmp_level="BASIC", relationship="Data",
        lang="de", attach="Rechnung_2026-57.pdf",
        sender=("Fotostudio Lange", "info@fotostudio-lange.example"),
        subject="Fotos + Rechnung", when=at(2026, 9, 14, 19, 2, CEST),
        body="Hallo,\n\ndie Bilder kommen per Download-Link, anbei die Rechnung.\n\nViele Grüße\n"
             "Martina Lange\n",
        crlf=True,
        shows="Factur-X BASIC from a sole trader with only a tax number (FC, no VAT ID): "
              "vendor_vat_id, due_date (terms text only), PO, IBAN/BIC, buyer reference all null")


# ---- bad input -----------------------------------------------------------------

def bad_inputs() -> None:
    def raw(name, data, *, attach, ctype, sender, subject, when, body, crlf, reason, category,
            shows, ext="xml"):
        add(Fixture(name, f"{name}.{ext}", data, Attachment(attach, ctype, data), sender, subject,
                    when, body, crlf, expectation(None, reason=reason, category=category), shows))

    # a real, valid XRechnung, cut off in the middle of the seller party
    neumann = seller("Neumann Haustechnik GmbH", "Lessingstraße 9", "Kiel", "24103", "DE",
                     vat_id=de_vat("87654321"), contact="Jan Neumann", phone="+49 431 66 77 0",
                     email="rechnung@neumann-haustechnik.example",
                     endpoint=("EM", "rechnung@neumann-haustechnik.example"))
    inv = Invoice(number="NH-2026-0913", issue=dt.date(2026, 9, 13), due=dt.date(2026, 10, 13),
                  seller=neumann, buyer=OC_DE, guideline=XR30, buyer_ref="OC-FM-KIEL",
                  iban=iban("DE", "210500000012345678"),
                  lines=[Line("Heizungswartung", "1", "289.00", "19")])
    full = write_ubl(inv)
    cut = full[: full.index(b"<cbc:CityName>Kiel") + 12]
    try:
        etree.fromstring(cut, SAFE_PARSER)
        raise AssertionError("truncated XML parsed")
    except etree.XMLSyntaxError:
        pass
    raw("bad-malformed-truncated-xml", cut, attach="NH-2026-0913.xml", ctype="application/xml",
        sender=("Neumann Haustechnik", "rechnung@neumann-haustechnik.example"),
        subject="Rechnung NH-2026-0913", when=at(2026, 9, 13, 10, 0, CEST),
        body="Guten Tag,\n\nanbei unsere Rechnung NH-2026-0913 über 343,91 EUR.\n\n"
             "Neumann Haustechnik\n",
        crlf=True, reason="malformed", category=None,
        shows="an XRechnung UBL cut off in the middle of an element: not well-formed")

    lol = ['<!ENTITY lol "lol">']
    prev = "lol"
    for i in range(1, 10):
        lol.append(f'<!ENTITY lol{i} "' + f"&{prev};" * 10 + '">')
        prev = f"lol{i}"
    bomb = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE Invoice [\n  '
            + "\n  ".join(lol) + "\n]>\n"
            '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"\n'
            '         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">\n'
            f"  <cbc:CustomizationID>{XR30}</cbc:CustomizationID>\n"
            "  <cbc:ID>2026-1001</cbc:ID>\n"
            "  <cbc:IssueDate>2026-10-01</cbc:IssueDate>\n"
            "  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>\n"
            "  <cbc:Note>&lol9;</cbc:Note>\n"
            "  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>\n"
            "</Invoice>\n").encode()
    raw("bad-entity-bomb", bomb, attach="invoice_2026-1001.xml", ctype="application/xml",
        sender=("Billing", "billing@fast-invoices.example"), subject="Invoice 2026-1001",
        when=at(2026, 10, 1, 3, 14, CEST),
        body="Please see the attached invoice.\n", crlf=False, reason="dtd", category=None,
        shows="'billion laughs': a DOCTYPE with 10 levels of nested entities (10^9 'lol') "
              "referenced from cbc:Note; must be refused, never expanded")

    xxe = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<!DOCTYPE Invoice [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
           '<ubl:Invoice xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"\n'
           '  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"\n'
           '  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">\n'
           f"  <cbc:CustomizationID>{PEPPOL}</cbc:CustomizationID>\n"
           "  <cbc:ID>INV-77812</cbc:ID>\n"
           "  <cbc:IssueDate>2026-11-11</cbc:IssueDate>\n"
           "  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>\n"
           "  <cbc:Note>&xxe;</cbc:Note>\n"
           "  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>\n"
           "  <cac:AccountingSupplierParty><cac:Party><cac:PartyLegalEntity>\n"
           "    <cbc:RegistrationName>&xxe;</cbc:RegistrationName>\n"
           "  </cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>\n"
           "  <cac:LegalMonetaryTotal>\n"
           '    <cbc:PayableAmount currencyID="EUR">119.00</cbc:PayableAmount>\n'
           "  </cac:LegalMonetaryTotal>\n"
           "</ubl:Invoice>\n").encode()
    raw("bad-xxe-external-entity", xxe, attach="INV-77812.xml", ctype="text/xml",
        sender=("Accounts", "accounts@quick-supplies.example"), subject="Invoice INV-77812",
        when=at(2026, 11, 11, 23, 50), body="Invoice attached.\n", crlf=True, reason="dtd",
        category=None,
        shows="XXE: DOCTYPE declaring `<!ENTITY xxe SYSTEM \"file:///etc/passwd\">` used in "
              "cbc:Note and the seller's RegistrationName; must be refused, never resolved")

    order = f"""<?xml version="1.0" encoding="UTF-8"?>
<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"
       xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
       xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:order:3</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:poacc:bis:ordering:3</cbc:ProfileID>
  <cbc:ID>4500013555</cbc:ID>
  <cbc:IssueDate>2026-11-02</cbc:IssueDate>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:BuyerCustomerParty>
    <cac:Party>
      <cac:PartyLegalEntity><cbc:RegistrationName>Ourcompany Europe GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
    </cac:Party>
  </cac:BuyerCustomerParty>
  <cac:SellerSupplierParty>
    <cac:Party>
      <cac:PartyLegalEntity><cbc:RegistrationName>Hoffmann Industriebedarf GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
    </cac:Party>
  </cac:SellerSupplierParty>
  <cac:AnticipatedMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">462.00</cbc:LineExtensionAmount>
    <cbc:PayableAmount currencyID="EUR">549.78</cbc:PayableAmount>
  </cac:AnticipatedMonetaryTotal>
  <cac:OrderLine>
    <cac:LineItem>
      <cbc:ID>1</cbc:ID>
      <cbc:Quantity unitCode="C62">120</cbc:Quantity>
      <cbc:LineExtensionAmount currencyID="EUR">462.00</cbc:LineExtensionAmount>
      <cac:Price><cbc:PriceAmount currencyID="EUR">3.85</cbc:PriceAmount></cac:Price>
      <cac:Item><cbc:Name>Arbeitshandschuhe Nitril, Gr. 9</cbc:Name></cac:Item>
    </cac:LineItem>
  </cac:OrderLine>
</Order>
""".encode()
    raw("not-invoice-ubl-order", order, attach="Order_4500013555.xml", ctype="application/xml",
        sender=("Hoffmann Industriebedarf", "vertrieb@hoffmann-industrie.example"),
        subject="Ihre Bestellung 4500013555 - Kopie", when=at(2026, 11, 2, 9, 12),
        body="Guten Tag,\n\nzur Kontrolle senden wir Ihnen Ihre Bestellung 4500013555 als "
             "XML zurück. Die Rechnung folgt nach Lieferung.\n\nHoffmann Industriebedarf\n",
        crlf=False, reason="not_an_invoice", category="other",
        shows="a Peppol UBL Order (root Order-2) with amounts and a PayableAmount: well-formed, "
              "not an invoice")

    despatch = """<?xml version="1.0" encoding="UTF-8"?>
<DespatchAdvice xmlns="urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2"
                xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
                xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:despatch_advice:3</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:poacc:bis:despatch_advice:3</cbc:ProfileID>
  <cbc:ID>LS-2026-88412</cbc:ID>
  <cbc:IssueDate>2026-11-18</cbc:IssueDate>
  <cac:OrderReference><cbc:ID>4500012345</cbc:ID></cac:OrderReference>
  <cac:DespatchSupplierParty>
    <cac:Party>
      <cac:PartyLegalEntity><cbc:RegistrationName>Hoffmann Industriebedarf GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
    </cac:Party>
  </cac:DespatchSupplierParty>
  <cac:DeliveryCustomerParty>
    <cac:Party>
      <cac:PartyLegalEntity><cbc:RegistrationName>Ourcompany Europe GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
    </cac:Party>
  </cac:DeliveryCustomerParty>
  <cac:Shipment>
    <cbc:ID>1</cbc:ID>
    <cbc:GrossWeightMeasure unitCode="KGM">84.5</cbc:GrossWeightMeasure>
  </cac:Shipment>
  <cac:DespatchLine>
    <cbc:ID>1</cbc:ID>
    <cbc:DeliveredQuantity unitCode="C62">120</cbc:DeliveredQuantity>
    <cac:OrderLineReference><cbc:LineID>1</cbc:LineID></cac:OrderLineReference>
    <cac:Item><cbc:Name>Arbeitshandschuhe Nitril, Gr. 9</cbc:Name></cac:Item>
  </cac:DespatchLine>
</DespatchAdvice>
""".encode()
    raw("not-invoice-ubl-despatch-advice", despatch, attach="Lieferavis_LS-2026-88412.xml",
        ctype="text/xml", sender=("Hoffmann Logistik", "versand@hoffmann-industrie.example"),
        subject="Lieferavis LS-2026-88412 zu Bestellung 4500012345",
        when=at(2026, 11, 18, 6, 40),
        body="Ihre Ware wurde heute versandt. Das Lieferavis liegt bei.\n", crlf=True,
        reason="not_an_invoice", category="other",
        shows="a Peppol UBL DespatchAdvice (delivery note): not an invoice")

    rss = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Steuer-News für Buchhalter</title>
    <link>https://news.steuer-ticker.example/</link>
    <description>Die wichtigsten Änderungen der Woche</description>
    <item>
      <title>E-Rechnung: Was ab 2027 für Rechnungsnummern und Beträge gilt</title>
      <link>https://news.steuer-ticker.example/e-rechnung-2027</link>
      <description>Invoice number, total 1.234,56 EUR, due date: so prüfen Sie XRechnung und ZUGFeRD.</description>
      <pubDate>Mon, 16 Nov 2026 07:00:00 +0100</pubDate>
    </item>
    <item>
      <title>Peppol in Belgien: erste Bilanz</title>
      <link>https://news.steuer-ticker.example/peppol-belgien</link>
      <pubDate>Fri, 13 Nov 2026 07:00:00 +0100</pubDate>
    </item>
  </channel>
</rss>
""".encode()
    raw("not-invoice-rss-feed", rss, attach="feed.xml", ctype="application/rss+xml",
        sender=("Steuer-Ticker", "newsletter@steuer-ticker.example"),
        subject="Ihr Wochenüberblick: E-Rechnung 2027", when=at(2026, 11, 16, 7, 5),
        body="Guten Morgen,\n\nanbei der Feed dieser Woche als XML.\n\nIhr Steuer-Ticker\n",
        crlf=False, reason="not_an_invoice", category="other",
        shows="an RSS 2.0 feed whose text talks about invoice numbers and totals: not an invoice")

    # hybrids whose embedded file is broken
    rosen = seller("Rosen Objekteinrichtung GmbH", "Schillerplatz 2", "Erfurt", "99084", "DE",
                   vat_id=de_vat("36925814"), email="rechnung@rosen-objekt.example")
    inv = Invoice(number="RO-2026-0331", issue=dt.date(2026, 11, 24), due=dt.date(2026, 12, 8),
                  seller=rosen, buyer=OC_DE, guideline=EN16931, po="4500013200",
                  iban=iban("DE", "820510000123456789"),
                  lines=[Line("Schreibtisch höhenverstellbar", "4", "549.00", "19")])
    xml = write_cii(inv, "en16931")
    truncated = xml[: len(xml) * 2 // 3]
    try:
        etree.fromstring(truncated, SAFE_PARSER)
        raise AssertionError("truncated CII parsed")
    except etree.XMLSyntaxError:
        pass
    title = f"{rosen.name}: Rechnung {inv.number}"
    visual = render_pdf(visual_lines(inv, "de", "factur-x.xml"), title=title, author=rosen.name,
                        lang="de")
    when = dt.datetime.combine(inv.issue, dt.time(9, 30), CET)
    pdf = make_hybrid(visual, Embedded("factur-x.xml", truncated), flavour="factur-x",
                      level="EN 16931", title=title, author=rosen.name,
                      subject=f"Rechnung {inv.number}", when=when, lang="de")
    check_hybrid("bad-hybrid-truncated-embedded-xml", pdf, "factur-x.xml", truncated,
                 number=inv.number, total=money(inv.written_totals()["total"], "de", "EUR"),
                 facturx_finds=False)
    raw("bad-hybrid-truncated-embedded-xml", pdf, attach="RO-2026-0331.pdf",
        ctype="application/pdf", sender=("Rosen Objekteinrichtung", "rechnung@rosen-objekt.example"),
        subject="Rechnung RO-2026-0331", when=at(2026, 11, 24, 12, 0), ext="pdf",
        body="Guten Tag,\n\nanbei unsere Rechnung als ZUGFeRD-PDF.\n\nRosen Objekteinrichtung\n",
        crlf=True, reason="broken_embedded", category=None,
        shows="a PDF/A-3 whose embedded factur-x.xml is cut off (not well-formed); the visual "
              "PDF is a normal invoice")

    png = tiny_png()
    title = "Studio Pixelwerk: Invoice PX-2026-118"
    px = seller("Studio Pixelwerk", "Spinnereistraße 7", "Leipzig", "04179", "DE",
                vat_id=de_vat("25814736"), email="hello@pixelwerk.example")
    inv = Invoice(number="PX-2026-118", issue=dt.date(2026, 12, 3), due=dt.date(2026, 12, 17),
                  seller=px, buyer=OC_DE, guideline=EN16931,
                  lines=[Line("Logo redesign", "1", "1200.00", "19")])
    visual = render_pdf(visual_lines(inv, "en", "factur-x.xml"), title=title, author=px.name,
                        lang="en")
    pdf = make_hybrid(visual, Embedded("factur-x.xml", png), flavour="factur-x",
                      level="EN 16931", title=title, author=px.name, subject=title,
                      when=dt.datetime.combine(inv.issue, dt.time(9, 30), CET), lang="en")
    check_hybrid("bad-hybrid-png-named-factur-x", pdf, "factur-x.xml", png, number=inv.number,
                 total=money(inv.written_totals()["total"], "en", "EUR"), facturx_finds=False)
    raw("bad-hybrid-png-named-factur-x", pdf, attach="PX-2026-118.pdf", ctype="application/pdf",
        sender=("Studio Pixelwerk", "hello@pixelwerk.example"), subject="Invoice PX-2026-118",
        when=at(2026, 12, 3, 17, 30), ext="pdf",
        body="Hi,\n\nhere is the invoice for the logo work.\n\nCheers,\nPixelwerk\n",
        crlf=False, reason="broken_embedded", category=None,
        shows="a PDF/A-3 whose embedded file is named factur-x.xml (declared text/xml) but is "
              "a PNG image")


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

def check_identifiers() -> None:
    from stdnum import iban as std_iban
    from stdnum.eu import vat as std_vat

    for fx in FIXTURES:
        e = fx.expected["einvoice"]
        if not e:
            continue
        f = e["fields"]
        if f["vendor_vat_id"]:
            assert std_vat.is_valid(f["vendor_vat_id"]), (fx.name, f["vendor_vat_id"])
        if f["iban"]:
            assert std_iban.is_valid(f["iban"]), (fx.name, f["iban"])
    for vat in (OC_DE_VAT, OC_NL_VAT, OC_FR.vat_id):
        assert std_vat.is_valid(vat), vat


def write_bytes(path: pathlib.Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


README_HEAD = """\
# Structured e-invoice fixtures (EN 16931)

Generated by `scripts/make-einvoices.py`; do not edit by hand (this file too is written by the
script). Each fixture is one email to `ap@ourcompany.example` carrying one structured invoice
(or something that looks like one) as a base64 attachment, plus the golden answer.

```
fixtures/einvoice/
  files/NAME.xml | NAME.pdf     the attached file itself (standalone XML or hybrid PDF/A-3)
  mail/NAME.eml                 the email (raw bytes; about half CRLF, half LF)
  mail/NAME.expected.json       the golden expectation
```

## Regenerating

```
python3 -m venv /var/tmp/deskmail-py
/var/tmp/deskmail-py/bin/pip install -r scripts/requirements-einvoices.txt
/var/tmp/deskmail-py/bin/python scripts/make-einvoices.py
```

`FIXTURES_DIR=/some/dir` writes to `/some/dir/einvoice/` instead of `fixtures/einvoice/`. The
output is deterministic (fixed dates, boundaries, Message-IDs, PDF IDs; reportlab
`invariant=1`); two runs give identical trees. The script validates as it goes and fails loudly:
XSD (UBL 2.1, Factur-X 1.0 per profile, ZUGFeRD 1.0), the CEN EN 16931 UBL schematron and the
Factur-X schematrons (run with saxonche; `EINVOICE_SKIP_SCHEMATRON=1` skips them), the EN 16931
arithmetic, check digits of every VAT ID and IBAN, and for every hybrid a re-extraction of the
embedded file with pypdf and `facturx.get_xml_from_pdf` plus the visual text.
Not validated: the XRechnung (BR-DE-*) and Peppol (PEPPOL-EN16931-*) CIUS schematrons, which
no PyPI package ships; the documents follow those rules as far as known (seller contact and
electronic addresses, buyer reference, ProfileID, EAS schemes), and PDF/A-3 conformance itself
(embedded TrueType fonts, sRGB output intent, XMP with pdfaid and the Factur-X/ZUGFeRD
extension schema, /AF with /AFRelationship, fixed /ID) was not checked with veraPDF.

## The golden expectation

```json
{
  "category": "ap.invoice",
  "einvoice": {
    "syntax": "ubl | cii | zugferd1",
    "document": "invoice | credit_note",
    "type_code": "380",
    "profile": "XRechnung 3.0",
    "guideline": "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
    "source": "attachment INV_2026_0042.xml",
    "fields": {"invoice_number": "…", "invoice_date": "YYYY-MM-DD", "due_date": null, "currency": "EUR",
               "amount_net": "BT-109", "amount_tax": "BT-110", "amount_total": "BT-112", "amount_due": "BT-115",
               "vendor": "…", "vendor_vat_id": "…", "iban": "…", "bic": "…", "po_number": "…",
               "buyer_reference": "…", "preceding_invoice": null},
    "buyer": "Ourcompany Europe GmbH",
    "lines": [{"description": "…", "quantity": "2", "unit_price": "120.00", "net_amount": "240.00", "vat_rate": "19"}],
    "vat": [{"category": "S", "rate": "19", "taxable": "1016.50", "tax": "193.14"}],
    "totals": {"line_total": "BT-106", "allowances": "BT-107", "charges": "BT-108", "net": "BT-109",
               "tax": "BT-110", "total": "BT-112", "prepaid": "BT-113", "rounding": "BT-114", "due": "BT-115"}
  },
  "flags": [],
  "no_einvoice_reason": null
}
```

* Every value is the string exactly as written in the XML (amounts keep their decimals,
  quantities and rates as written: `"6.5"`, `"19"`, `"19.00"`, `"5.5"`), dates as ISO
  `YYYY-MM-DD`. Anything absent from the XML is `null`; that includes `totals`: an
  `AllowanceTotalAmount` / `ChargeTotalAmount` / `PrepaidAmount` that is not written is `null`,
  not `"0.00"` (most fixtures write them as `0.00`; the MINIMUM profile cannot).
* `category` is `ap.credit_note` for a UBL `CreditNote` or a CII/ZUGFeRD 1.0 TypeCode 381,
  otherwise `ap.invoice`.
* `profile` comes from the guideline ID (BT-24): `xrechnung_3.0` → XRechnung 3.0;
  `peppol.eu:2017:poacc:billing:3.0` → Peppol BIS Billing 3.0; `urn:factur-x.eu:1p0:minimum`,
  `…:basicwl`, ends with `…:basic`, `…:extended` → Factur-X MINIMUM / BASIC WL / BASIC /
  EXTENDED; exactly `urn:cen.eu:en16931:2017` → "EN 16931 (Factur-X/ZUGFeRD COMFORT)";
  `urn:ferd:CrossIndustryDocument:invoice:1p0:comfort` → ZUGFeRD 1.0 COMFORT.
* `vendor` is the seller's legal name (UBL `PartyLegalEntity/RegistrationName`, CII
  `SellerTradeParty/Name`), never the trading name (several fixtures have a different one) nor
  the From display name. `vendor_vat_id` is BT-31 (`schemeID="VA"` in CII, TaxScheme `VAT` in
  UBL), never the tax number (`FC`). `amount_tax` is BT-110 in the invoice currency.
* `source` is `attachment NAME` (`attachment (unnamed)` when the part has no file name), or
  `attachment PDFNAME, embedded EMBEDDEDNAME` for a hybrid.
* `lines` in document order, `[]` for MINIMUM and BASIC WL; `vat` in document order, `[]` for
  MINIMUM.
* `flags`: `einvoice_arithmetic` (an EN 16931 sum does not add up: BR-CO-10/13/14/15/16, or a
  breakdown tax ≠ basis × rate), `einvoice_mismatch` (the visual PDF of a hybrid states another
  invoice number or total than its XML). The XML's values are reported as written, never fixed.
* Bad input: `einvoice` is `null`, `no_einvoice_reason` is `dtd` (a DOCTYPE / entity
  declaration refused), `malformed` (not well-formed XML), `not_an_invoice` (well-formed, not an
  invoice) or `broken_embedded` (a hybrid whose embedded invoice file is not well-formed XML);
  `category` is `null` where the category is not the point of the fixture, `other` for mail
  that is clearly not an invoice.
* Every valid fixture is arithmetically exact (BR-CO-10, -13, -14, -15, -16; per-rate VAT =
  basis × rate rounded half-up to 2 decimals) except the two flagged `einvoice_arithmetic`.
* The email body never decides: several bodies state wrong totals or numbers
  (`Total due 999.00`), several subjects do not contain the word invoice, and attachment names
  and MIME types vary (`document.dat` as `application/octet-stream`, `INV_2026_0042` without
  extension, an RFC 2231 UTF-8 name, a part with no name at all), so detection has to look at
  the content.

## Fixtures

| fixture | file | eol | expected | what it shows |
|---|---|---|---|---|
"""


def readme() -> str:
    rows = []
    for fx in sorted(FIXTURES, key=lambda f: f.name):
        e = fx.expected
        if e["einvoice"]:
            exp = f"{e['einvoice']['profile']}, {e['category']}"
        else:
            exp = (f"reason `{e['no_einvoice_reason']}`, category "
                   f"`{json.dumps(e['category'])}`")
        if e["flags"]:
            exp += ", flags " + ", ".join(f"`{f}`" for f in e["flags"])
        rows.append(f"| `{fx.name}` | `{fx.file_name}` | {'CRLF' if fx.crlf else 'LF'} | {exp} "
                    f"| {fx.shows} |")
    return README_HEAD + "\n".join(rows) + "\n"


def main() -> None:
    xrechnung_pair()
    peppol_be()
    cii_credit_note()
    ubl_usd()
    ubl_reverse_charge()
    ubl_four_decimals()
    ubl_twenty_lines()
    ubl_prepaid()
    cii_rounding()
    ubl_missing_optional()
    ubl_arithmetic()
    cii_arithmetic()
    hybrids()
    bad_inputs()
    check_identifiers()
    run_schematron()

    crlf = sum(1 for f in FIXTURES if f.crlf)
    assert abs(2 * crlf - len(FIXTURES)) <= 1, f"{crlf} of {len(FIXTURES)} CRLF"
    for d in (FILES_DIR, MAIL_DIR):
        if d.exists():
            for p in sorted(d.iterdir()):
                p.unlink()
    for fx in sorted(FIXTURES, key=lambda f: f.name):
        write_bytes(FILES_DIR / fx.file_name, fx.file_bytes)
        eml = build_eml(name=fx.name, sender=fx.sender, subject=fx.subject, when=fx.when,
                        body=fx.body, attachment=fx.attachment, crlf=fx.crlf)
        write_bytes(MAIL_DIR / f"{fx.name}.eml", eml)
        js = json.dumps(fx.expected, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        write_bytes(MAIL_DIR / f"{fx.name}.expected.json", js.encode("utf-8"))
    write_bytes(OUT / "README.md", readme().encode("utf-8"))
    print(f"wrote {len(FIXTURES)} fixtures to {OUT}")


if __name__ == "__main__":
    sys.exit(main())
