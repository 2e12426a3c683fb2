#!/usr/bin/env python3
"""Generate deskmail's evaluation corpus (fixtures/eval): invoices in many real-world
layouts and AP/AR classification cases, split into a development set and a held-aside set.

Run from the repository root:

    python3 -m venv /var/tmp/deskmail-py-eval
    /var/tmp/deskmail-py-eval/bin/pip install -r scripts/requirements-eval.txt
    /var/tmp/deskmail-py-eval/bin/python scripts/make-eval.py

EVAL_DIR=/some/dir redirects the output (default: <repo>/fixtures/eval). The script
removes and rewrites EVAL_DIR/dev, EVAL_DIR/holdout and EVAL_DIR/README.md, nothing else.

Deterministic: fixed dates, MIME boundaries and Message-IDs derived from the file name,
every random choice from a seeded random.Random, reportlab with invariant=1 (fixed PDF
creation date and document ID), JPEG "scans" made by Pillow from a seeded drawing.
Two runs with the same pinned packages give byte-identical trees; check with

    EVAL_DIR=/tmp/e1 /var/tmp/deskmail-py-eval/bin/python scripts/make-eval.py
    EVAL_DIR=/tmp/e2 /var/tmp/deskmail-py-eval/bin/python scripts/make-eval.py
    diff -r /tmp/e1 /tmp/e2

What is in the corpus, the layout families and the split rule: see the README.md this
script writes into EVAL_DIR (the text is at the end of this file).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import pathlib
import quopri
import random
import shutil
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from email.header import Header
from email.utils import format_datetime, formataddr

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4, letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

ROOT = pathlib.Path(__file__).resolve().parent.parent
EVAL_DIR = pathlib.Path(os.environ.get("EVAL_DIR") or ROOT / "fixtures" / "eval")

D = Decimal
CENT = D("0.01")


def q2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# check digits: IBAN (ISO 13616 mod 97), VAT IDs, a few national bank codes
# ---------------------------------------------------------------------------

def _mod97(s: str) -> int:
    return int("".join(str(int(c, 36)) for c in s)) % 97


def make_iban(country: str, bban: str) -> str:
    check = 98 - _mod97(bban + country + "00")
    out = f"{country}{check:02d}{bban}"
    assert _mod97(out[4:] + out[:4]) == 1
    return out


def iban_groups(iban: str) -> str:
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def digits(rng: random.Random, n: int, first_nonzero: bool = True) -> str:
    s = "".join(str(rng.randrange(10)) for _ in range(n))
    if first_nonzero and s[0] == "0":
        s = str(rng.randrange(1, 10)) + s[1:]
    return s


def luhn_check(num: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def vat_de(rng):
    while True:
        body = digits(rng, 8)
        product = 10
        for ch in body:
            s = (int(ch) + product) % 10 or 10
            product = (2 * s) % 11
        check = (11 - product) % 10
        return f"DE{body}{check}"


def vat_at(rng):
    body = digits(rng, 7)
    s = 0
    for i, ch in enumerate(body):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            d = d // 10 + d % 10
        s += d
    return f"ATU{body}{(10 - (s + 4) % 10) % 10}"


def vat_fr(rng):
    base = digits(rng, 8)
    siren = base + luhn_check(base)
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}", siren


def vat_nl(rng):
    while True:
        body = digits(rng, 8)
        c = sum(int(d) * w for d, w in zip(body, range(9, 1, -1))) % 11
        if c < 10:
            return f"NL{body}{c}B01"


def vat_be(rng):
    body = "0" + digits(rng, 7)
    return f"BE{body}{97 - int(body) % 97:02d}"


def vat_es(rng, letter="B"):
    body = digits(rng, 7)
    a = sum(int(body[i]) for i in (1, 3, 5))
    b = 0
    for i in (0, 2, 4, 6):
        d = 2 * int(body[i])
        b += d // 10 + d % 10
    return f"ES{letter}{body}{(10 - (a + b) % 10) % 10}"


def vat_it(rng):
    body = digits(rng, 7) + rng.choice(["015", "017", "042", "048", "001", "063", "088"])
    x = sum(int(body[i]) for i in range(0, 10, 2))
    y = 0
    for i in range(1, 10, 2):
        d = 2 * int(body[i])
        y += d - 9 if d > 9 else d
    return f"IT{body}{(10 - (x + y) % 10) % 10}"


def vat_gb(rng):
    while True:
        body = digits(rng, 7)
        total = sum(int(d) * w for d, w in zip(body, range(8, 1, -1)))
        c = (-total) % 97
        return f"GB{body}{c:02d}"


def uid_ch(rng):
    while True:
        body = digits(rng, 8)
        s = sum(int(d) * w for d, w in zip(body, (5, 4, 3, 2, 7, 6, 5, 4)))
        c = 11 - s % 11
        if c == 11:
            c = 0
        if c < 10:
            return f"CHE{body}{c}"


def fr_rib_key(bank, branch, account):
    return 97 - ((89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97)


def es_dc(bank, branch, account):
    w = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)

    def one(s):
        d = 11 - sum(int(c) * x for c, x in zip(s, w)) % 11
        return {11: 0, 10: 1}.get(d, d)
    return f"{one('00' + bank + branch)}{one(account)}"


def it_cin(abi, cab, account):
    odd = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
    s = 0
    for i, ch in enumerate(abi + cab + account):
        v = int(ch) if ch.isdigit() else ord(ch) - 65
        s += odd[v] if i % 2 == 0 else v
    return chr(65 + s % 26)


def bban_for(country: str, rng: random.Random, bank: str) -> str:
    if country == "DE":
        return bank + digits(rng, 10, False)
    if country == "AT":
        return bank + digits(rng, 11, False)
    if country == "CH":
        return bank + digits(rng, 12, False)
    if country == "FR":
        branch, acct = digits(rng, 5, False), digits(rng, 11, False)
        return f"{bank}{branch}{acct}{fr_rib_key(bank, branch, acct):02d}"
    if country == "NL":
        while True:
            acct = digits(rng, 10, False)
            if sum(int(d) * w for d, w in zip(acct, range(10, 0, -1))) % 11 == 0:
                return bank + acct
    if country == "BE":
        first = bank + digits(rng, 7, False)
        c = int(first) % 97 or 97
        return f"{first}{c:02d}"
    if country == "ES":
        branch, acct = digits(rng, 4, False), digits(rng, 10, False)
        return f"{bank}{branch}{es_dc(bank, branch, acct)}{acct}"
    if country == "IT":
        cab, acct = digits(rng, 5, False), "0000" + digits(rng, 8, False)
        return f"{it_cin(bank, cab, acct)}{bank}{cab}{acct}"
    if country == "GB":
        return bank + digits(rng, 14, False)
    raise ValueError(country)


def aba_routing(rng):
    while True:
        body = digits(rng, 8, False)
        if body[0] not in "0123":
            continue
        s = sum(int(d) * w for d, w in zip(body, (3, 7, 1, 3, 7, 1, 3, 7)))
        return body + str((10 - s % 10) % 10)


# ---------------------------------------------------------------------------
# numbers, money, dates
# ---------------------------------------------------------------------------

NBSP, NNBSP = "\u00a0", "\u202f"


def num(x: Decimal, style: str) -> str:
    """style: us 1,234.56 | eu 1.234,56 | fr 1<NBSP>234,56 | frn narrow NBSP | frs space
    | ch 1'234.50 | chq 1’234.50 | plain 1234.56"""
    x = q2(x)
    neg = x < 0
    ip, fp = f"{abs(x):.2f}".split(".")
    sep, dec = {"us": (",", "."), "eu": (".", ","), "fr": (NBSP, ","), "frn": (NNBSP, ","),
                "frs": (" ", ","), "ch": ("'", "."), "chq": ("\u2019", "."), "plain": ("", "."),
                "eu-plain": ("", ",")}[style]
    groups = []
    while len(ip) > 3:
        groups.insert(0, ip[-3:])
        ip = ip[:-3]
    groups.insert(0, ip)
    return ("-" if neg else "") + sep.join(groups) + dec + fp


SYMBOL = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}


def money(x: Decimal, cur: str, style: str, pattern: str) -> str:
    """pattern: sym-pre '$1,234.56' | sym-pre-sp '€ 1.234,56' | sym-post '1.234,56 €'
    | code-pre 'EUR 1.234,56' | code-post '1.234,56 EUR' | bare"""
    n = num(x, style)
    sym = SYMBOL[cur]
    if pattern == "sym-pre":
        if n.startswith("-"):
            return "-" + sym + n[1:]
        return sym + n
    if pattern == "sym-pre-sp":
        return f"{sym} {n}"
    if pattern == "sym-post":
        return f"{n} {sym}" if style not in ("fr", "frn") else f"{n}{NBSP if style == 'fr' else NNBSP}{sym}"
    if pattern == "code-pre":
        return f"{cur} {n}"
    if pattern == "code-post":
        return f"{n} {cur}"
    return n


MONTHS = {
    "en": "January February March April May June July August September October November December".split(),
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split(),
    "at": "Jänner Februar März April Mai Juni Juli August September Oktober November Dezember".split(),
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
    "nl": "januari februari maart april mei juni juli augustus september oktober november december".split(),
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre".split(),
}


def fdate(d: dt.date, locale: str, style: str) -> str:
    lang = locale[:2]
    if style == "iso":
        return d.isoformat()
    if style == "num":
        if locale == "en_US":
            return f"{d.month:02d}/{d.day:02d}/{d.year}"
        if lang == "de":
            return f"{d.day:02d}.{d.month:02d}.{d.year}"
        if lang == "nl":
            return f"{d.day:02d}-{d.month:02d}-{d.year}"
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "num-short":  # no leading zeros
        if locale == "en_US":
            return f"{d.month}/{d.day}/{d.year}"
        if lang == "de":
            return f"{d.day}.{d.month}.{d.year}"
        if lang == "nl":
            return f"{d.day}-{d.month}-{d.year}"
        return f"{d.day}/{d.month}/{d.year}"
    if style == "dash-mon":  # 12-Nov-2026
        return f"{d.day:02d}-{MONTHS['en'][d.month - 1][:3]}-{d.year}"
    if style == "long":
        if locale == "en_US":
            return f"{MONTHS['en'][d.month - 1]} {d.day}, {d.year}"
        if lang == "en":
            return f"{d.day} {MONTHS['en'][d.month - 1]} {d.year}"
        if lang == "de":
            m = MONTHS["at" if locale == "de_AT" else "de"][d.month - 1]
            return f"{d.day}. {m} {d.year}"
        if lang == "fr":
            return f"{'1er' if d.day == 1 else d.day} {MONTHS['fr'][d.month - 1]} {d.year}"
        if lang == "es":
            return f"{d.day} de {MONTHS['es'][d.month - 1]} de {d.year}"
        return f"{d.day} {MONTHS[lang][d.month - 1]} {d.year}"
    if style == "abbr":
        m = MONTHS["en"][d.month - 1][:3]
        if locale == "en_US":
            return f"{m} {d.day}, {d.year}"
        return f"{d.day} {m} {d.year}"
    raise ValueError(style)


DATE_STYLES = {
    "en_US": ["num", "num", "abbr", "long", "num-short"],
    "en_GB": ["num", "long", "dash-mon", "abbr", "num"],
    "de_DE": ["num", "num", "long", "num"],
    "de_AT": ["num", "long"],
    "de_CH": ["num", "long"],
    "fr_FR": ["num", "long", "num"],
    "fr_BE": ["num", "long"],
    "nl_NL": ["num", "long", "num"],
    "nl_BE": ["num", "long"],
    "es_ES": ["num", "long", "num"],
    "it_IT": ["num", "long", "num"],
}

NUM_STYLE = {"en_US": "us", "en_GB": "us", "de_DE": "eu", "de_AT": "eu", "de_CH": "ch",
             "fr_FR": "fr", "fr_BE": "eu", "nl_NL": "eu", "nl_BE": "eu", "es_ES": "eu", "it_IT": "eu"}

MONEY_PATTERNS = {
    "en_US": ["sym-pre", "sym-pre", "code-pre"],
    "en_GB": ["sym-pre", "sym-pre", "code-pre"],
    "de_DE": ["sym-post", "code-post", "sym-post"],
    "de_AT": ["code-pre", "sym-pre-sp"],
    "de_CH": ["code-pre", "code-post"],
    "fr_FR": ["sym-post", "code-post"],
    "fr_BE": ["sym-post", "code-post"],
    "nl_NL": ["sym-pre-sp", "code-pre"],
    "nl_BE": ["sym-pre-sp", "sym-post"],
    "es_ES": ["sym-post", "code-post"],
    "it_IT": ["sym-pre-sp", "sym-post", "code-pre"],
}


# ---------------------------------------------------------------------------
# parties: our own entities (the buyers) and the vendors of each split
# ---------------------------------------------------------------------------

@dataclass
class Entity:
    key: str
    name: str
    dept: str
    lines: list
    country: str
    vat: str  # normalised
    vat_label: str


def _oc_entities():
    r = random.Random("ourcompany-entities")
    return {
        "DE": Entity("DE", "Ourcompany Europe GmbH", "Kreditorenbuchhaltung", ["Hafenstraße 12", "20457 Hamburg", "Deutschland"], "DE", vat_de(r), "USt-IdNr."),
        "UK": Entity("UK", "Ourcompany UK Ltd", "Accounts Payable", ["3 Harbour Walk", "Bristol BS1 5TY", "United Kingdom"], "GB", vat_gb(r), "VAT No."),
        "US": Entity("US", "Ourcompany Inc.", "Accounts Payable", ["200 Harbor Blvd", "Boston, MA 02210", "USA"], "US", "", ""),
        "FR": Entity("FR", "Ourcompany France SAS", "Service Comptabilité Fournisseurs", ["27 rue de la Bourse", "69002 Lyon", "France"], "FR", vat_fr(r)[0], "N° TVA"),
        "NL": Entity("NL", "Ourcompany Benelux B.V.", "Crediteurenadministratie", ["Keizersgracht 210", "1016 DZ Amsterdam", "Nederland"], "NL", vat_nl(r), "BTW-nr."),
        "ES": Entity("ES", "Ourcompany Iberia S.L.", "Cuentas a pagar", ["Calle de Alcalá 120", "28009 Madrid", "España"], "ES", vat_es(r), "NIF"),
        "IT": Entity("IT", "Ourcompany Italia S.r.l.", "Contabilità fornitori", ["Via Torino 48", "20123 Milano (MI)", "Italia"], "IT", vat_it(r), "P.IVA"),
        "CH": Entity("CH", "Ourcompany Schweiz AG", "Kreditorenbuchhaltung", ["Bahnhofstrasse 21", "8001 Zürich", "Schweiz"], "CH", uid_ch(r), "UID"),
    }


OC = _oc_entities()
SHIP_TO = {"DE": ["Wareneingang Tor 3", "Am Sandtorkai 40", "20457 Hamburg"], "UK": ["Goods In, Unit 7", "Avonmouth Way", "Bristol BS11 9YA"],
           "US": ["Receiving Dock B", "41 Drydock Ave", "Boston, MA 02210"], "FR": ["Quai de réception", "12 rue Marius Berliet", "69008 Lyon"],
           "NL": ["Magazijn", "Waalhaven Z.z. 19", "3089 JH Rotterdam"], "ES": ["Almacén", "Calle de la Forja 6", "28850 Torrejón de Ardoz"],
           "IT": ["Magazzino", "Via Caduti del Lavoro 3", "20090 Segrate (MI)"], "CH": ["Warenannahme", "Industriestrasse 9", "8152 Glattbrugg"]}
EU = {"DE", "AT", "FR", "NL", "BE", "ES", "IT"}


@dataclass
class Vendor:
    key: str
    split: str
    locale: str
    country: str
    name: str
    street: str
    city: str
    domain: str
    buyer: str
    bank: tuple            # (bank name, bank code, BIC)
    items: list            # (description, unit, unit price, quantity kind)
    numfmt: str            # invoice number pattern
    phone: str
    person: str
    rate: str = ""         # VAT / sales tax rate, percent
    terms: tuple = (14, 30)
    currency: str = ""
    # filled in by finish()
    vat: str = ""
    vat_print: str = ""
    iban: str = ""
    reg: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def lang(self):
        return self.locale[:2]

    @property
    def slug(self):
        return self.domain.split(".")[0]


def _vendor(split, key, locale, country, name, street, city, domain, buyer, bank, items, numfmt, phone, person, **kw):
    return Vendor(split=split, key=key, locale=locale, country=country, name=name, street=street, city=city,
                  domain=domain, buyer=buyer, bank=bank, items=items, numfmt=numfmt, phone=phone, person=person, **kw)


V = _vendor
VENDOR_LIST = [
    # ----------------------------------------------------------------- development
    V("dev", "muster", "de_DE", "DE", "Muster Maschinenbau GmbH", "Industriestraße 14", "70565 Stuttgart", "muster-maschinenbau.example", "DE",
      ("Baden-Württembergische Bank", "60050101", "SOLADEST600"),
      [("Drehteil Welle Ø 40 mm, Stahl C45", "Stk", "38.50", "int"), ("Frästeil Flansch DN 80", "Stk", "126.00", "int"),
       ("Montage vor Ort", "Std", "92.00", "hours"), ("Wartungspauschale Fräszentrum", "psch", "850.00", "one"),
       ("Anfahrtspauschale", "psch", "65.00", "one"), ("Spannvorrichtung, Sonderanfertigung", "Stk", "1480.00", "one")],
      "RE-{y}-{n:04d}", "+49 711 7820 330", "Sabine Krüger"),
    V("dev", "brandt", "de_DE", "DE", "Brandt & Söhne Elektrotechnik GmbH & Co. KG", "Westfalendamm 87", "44141 Dortmund", "brandt-elektro.example", "DE",
      ("Sparkasse Dortmund", "44050199", "DORTDE33XXX"),
      [("Elektroinstallation Büro 2. OG", "Std", "68.00", "hours"), ("NYM-J 3x1,5 mm² (Ring 100 m)", "Ring", "74.90", "int"),
       ("LED-Panel 62x62 cm, 4000 K", "Stk", "49.80", "int"), ("Prüfung ortsveränderlicher Geräte nach DGUV V3", "Stk", "6.50", "big"),
       ("Kleinmaterial", "psch", "45.00", "one")],
      "{y}{n:05d}", "+49 231 5530 80", "Thomas Brandt"),
    V("dev", "nordlicht", "de_DE", "DE", "Nordlicht Logistik AG", "Konsul-Smidt-Straße 20", "28217 Bremen", "nordlicht-logistik.example", "DE",
      ("Commerzbank", "29040090", "COBADEFFXXX"),
      [("Seefracht Bremerhaven – Rotterdam, 1 x 40' HC", "Cont.", "1240.00", "one"), ("THC Terminal Handling", "Cont.", "285.00", "one"),
       ("Zollabfertigung Export", "Vorg.", "95.00", "int"), ("Lagergeld je Palettenplatz und Woche", "PP", "4.20", "big"),
       ("Dieselzuschlag", "psch", "118.40", "one")],
      "NL-{n:06d}", "+49 421 6970 0", "Jan Petersen"),
    V("dev", "weber", "de_DE", "DE", "Kaffeerösterei Weber e.K.", "Gohliser Straße 5", "04105 Leipzig", "weber-kaffee.example", "DE",
      ("Sparkasse Leipzig", "86055592", "WELADE8LXXX"),
      [("Espresso Classico, ganze Bohne 1 kg", "kg", "21.90", "int"), ("Filterkaffee Hausmischung 1 kg", "kg", "16.40", "int"),
       ("Entkoffeiniert Swiss Water 500 g", "Btl", "11.20", "int"), ("Versandkostenpauschale", "psch", "7.90", "one")],
      "{n:05d}", "+49 341 2251 47", "Martina Weber", rate="7"),
    V("dev", "hansen", "de_DE", "DE", "Hansen IT-Service GmbH", "Holtenauer Straße 112", "24105 Kiel", "hansen-it.example", "DE",
      ("Förde Sparkasse", "21050170", "NOLADE21KIE"),
      [("Managed Service Arbeitsplatz (monatlich)", "Platz", "39.00", "big"), ("Microsoft 365 Business Standard", "Lizenz", "11.70", "big"),
       ("Vor-Ort-Einsatz Techniker", "Std", "98.00", "hours"), ("Firewall-Wartung Quartal", "psch", "240.00", "one")],
      "HIT-{y}-{n:05d}", "+49 431 8890 120", "Ole Hansen"),
    V("dev", "vogt", "de_DE", "DE", "Schreinerei Vogt GmbH", "Schwarzwaldstraße 201", "79117 Freiburg im Breisgau", "schreinerei-vogt.example", "DE",
      ("Volksbank Freiburg", "68090000", "GENODE61FR1"),
      [("Einbauschrank Eiche massiv, Maßanfertigung", "Stk", "3420.00", "one"), ("Empfangstheke, Multiplex weiß", "Stk", "2890.00", "one"),
       ("Montage", "Std", "64.00", "hours"), ("Lieferung und Entsorgung Verpackung", "psch", "180.00", "one")],
      "{yy}-{n:04d}", "+49 761 4709 33", "Stefan Vogt"),
    V("dev", "bergmann", "de_CH", "CH", "Bergmann Präzisionstechnik AG", "Technoparkstrasse 3", "8406 Winterthur", "bergmann-praezision.example", "CH",
      ("Zürcher Kantonalbank", "00700", "ZKBKCHZZ80A"),
      [("Präzisionslager Typ BX-20", "Stk", "184.50", "int"), ("Kalibrierung Messmittel", "Stk", "95.00", "int"),
       ("Expresszuschlag", "pauschal", "150.00", "one"), ("Spindelrevision", "Std", "145.00", "hours")],
      "{n:06d}", "+41 52 260 44 00", "Reto Bergmann", rate="8.1"),
    V("dev", "thames", "en_GB", "GB", "Thames Valley Office Supplies Ltd", "Unit 4, Kennet Side", "Reading RG1 3DW", "tvos.example", "UK",
      ("NatWest", "NWBK", "NWBKGB2L"),
      [("A4 copier paper 80gsm, box of 5 reams", "box", "21.95", "int"), ("Toner cartridge HP 59A black", "each", "89.50", "int"),
       ("Ergonomic mesh office chair", "each", "189.00", "int"), ("Desk organiser set", "each", "14.25", "int"), ("Delivery", "", "12.50", "one")],
      "SI-{n:06d}", "0118 496 0213", "Claire Hughes"),
    V("dev", "pennine", "en_GB", "GB", "Pennine Haulage Ltd", "Calder Business Park", "Wakefield WF4 3FL", "pennine-haulage.example", "UK",
      ("Barclays Bank", "BARC", "BARCGB22"),
      [("Haulage Leeds to Bristol, 26t curtainsider", "load", "645.00", "int"), ("Waiting time", "hour", "55.00", "hours"),
       ("Fuel surcharge", "", "96.75", "one"), ("Tail-lift delivery", "drop", "35.00", "int")],
      "{n:05d}", "01924 496 551", "Gary Whitfield", terms=(30,)),
    V("dev", "greenway", "en_GB", "GB", "Greenway Facilities Management Ltd", "21 Colmore Row", "Birmingham B3 2BJ", "greenway-fm.example", "UK",
      ("Lloyds Bank", "LOYD", "LOYDGB21"),
      [("Contract cleaning - monthly fee", "month", "2480.00", "one"), ("Window cleaning (external)", "visit", "320.00", "int"),
       ("Washroom consumables", "", "186.40", "one"), ("Deep clean kitchen area", "", "450.00", "one")],
      "GFM{n:06d}", "0121 496 0870", "Priya Nair"),
    V("dev", "kestrel", "en_GB", "GB", "Kestrel Print & Design Ltd", "9 Jamaica Street", "Glasgow G1 4QD", "kestrel-print.example", "UK",
      ("Bank of Scotland", "BOFS", "BOFSGBS1"),
      [("Brochures A4 16pp, 1,000 copies", "", "1180.00", "one"), ("Roller banner 850 x 2000 mm", "each", "79.00", "int"),
       ("Artwork and design", "hour", "48.00", "hours"), ("Business cards, 500", "pack", "32.00", "int")],
      "KP-{n:05d}", "0141 496 0025", "Fiona MacLeod"),
    V("dev", "lakeshore", "en_US", "US", "Lakeshore Industrial Supply, Inc.", "1450 W. Fulton Market", "Chicago, IL 60607", "lakeshore-supply.example", "US",
      ("", "", ""),
      [("Nitrile gloves, case of 1000", "case", "64.90", "int"), ("Hex bolts 1/2\"-13 x 3\", box of 50", "box", "27.35", "int"),
       ("Pallet jack, 5,500 lb capacity", "each", "429.00", "one"), ("Safety glasses, clear, dozen", "doz", "18.60", "int")],
      "{n:06d}", "(312) 555-0148", "Mike Kowalski", rate="10.25", terms=(30,)),
    V("dev", "summitcloud", "en_US", "US", "Summit Cloud Software LLC", "600 Congress Ave, Suite 1400", "Austin, TX 78701", "summitcloud.example", "US",
      ("", "", ""),
      [("Pro plan - 25 seats", "month", "1125.00", "one"), ("Additional storage 500 GB", "month", "40.00", "one"),
       ("Premium support", "month", "250.00", "one"), ("Onboarding workshop", "hour", "175.00", "hours")],
      "INV-{n:06d}", "(512) 555-0190", "Billing Team", rate="0", terms=(30,)),
    V("dev", "redwood", "en_US", "US", "Redwood Freight Lines Inc.", "2200 Harbor Way", "Oakland, CA 94607", "redwood-freight.example", "US",
      ("", "", ""),
      [("LTL freight Oakland, CA to Boston, MA, 6 pallets", "shipment", "2140.00", "one"), ("Liftgate delivery", "", "85.00", "one"),
       ("Fuel surcharge", "", "312.44", "one"), ("Residential / limited access fee", "", "65.00", "one")],
      "RFL{n:07d}", "(510) 555-0133", "Dispatch Billing", rate="0", terms=(30, 45)),
    V("dev", "cleanway", "en_US", "US", "Cleanway Janitorial Services LLC", "88 Summer Street", "Boston, MA 02110", "cleanway-janitorial.example", "US",
      ("", "", ""),
      [("Nightly office cleaning - monthly", "month", "3650.00", "one"), ("Carpet shampoo, 2nd floor", "", "540.00", "one"),
       ("Paper towels and soap restock", "", "212.80", "one"), ("Floor strip and wax", "sq ft", "0.38", "huge")],
      "{n:05d}", "(617) 555-0162", "Rosa Delgado", rate="6.25", terms=(30,)),
    V("dev", "dumont", "fr_FR", "FR", "Ateliers Dumont SAS", "14 rue des Forges", "42000 Saint-Étienne", "ateliers-dumont.example", "FR",
      ("Crédit Agricole", "18106", "AGRIFRPP881"),
      [("Pièce usinée réf. AD-4471", "pce", "42.80", "int"), ("Traitement de surface (zingage)", "lot", "310.00", "one"),
       ("Outillage spécifique", "forfait", "980.00", "one"), ("Frais de port", "forfait", "48.00", "one")],
      "F{y}-{n:05d}", "04 77 49 30 12", "Nathalie Dumont", terms=(30, 45)),
    V("dev", "girard", "fr_FR", "FR", "Transports Girard & Fils SARL", "3 allée des Transporteurs", "69800 Saint-Priest", "transports-girard.example", "FR",
      ("Banque Populaire", "16807", "CCBPFRPPGRE"),
      [("Transport Lyon – Paris, semi-remorque complète", "voyage", "890.00", "int"), ("Attente au déchargement", "heure", "52.00", "hours"),
       ("Manutention hayon", "forfait", "75.00", "one"), ("Surcharge gazole", "forfait", "64.30", "one")],
      "FA/{y}/{n:04d}", "04 72 23 18 40", "Julien Girard"),
    V("dev", "moreau", "fr_FR", "FR", "Imprimerie Moreau SA", "27 boulevard Voltaire", "75011 Paris", "imprimerie-moreau.example", "FR",
      ("BNP Paribas", "30004", "BNPAFRPPXXX"),
      [("Catalogues A4 48 pages quadri", "ex.", "3.85", "huge"), ("Cartes de visite (boîte de 500)", "boîte", "29.00", "int"),
       ("Façonnage et mise sous pli", "forfait", "420.00", "one"), ("Bon à tirer numérique", "forfait", "60.00", "one")],
      "{y}-{n:05d}", "01 43 55 82 10", "Hélène Moreau"),
    V("dev", "bretonne", "fr_FR", "FR", "Société Bretonne d'Emballage SAS", "Parc d'activités de Kerlann", "35170 Bruz", "sbe-emballage.example", "FR",
      ("Crédit Mutuel de Bretagne", "15589", "CMBRFR2BXXX"),
      [("Caisses carton double cannelure 600x400x400", "u.", "1.92", "huge"), ("Film étirable 23 µ, rouleau", "rlx", "14.60", "int"),
       ("Palettes Europe EPAL", "u.", "11.50", "big"), ("Livraison", "forfait", "85.00", "one")],
      "FC{n:06d}", "02 99 05 71 44", "Yann Le Gall"),
    V("dev", "vdberg", "nl_NL", "NL", "Van der Berg Installatietechniek B.V.", "Industrieweg 42", "3044 AS Rotterdam", "vdberg-installatie.example", "NL",
      ("ABN AMRO", "ABNA", "ABNANL2A"),
      [("Onderhoud cv-installatie", "st", "165.00", "int"), ("Vervangen thermostaatkraan", "st", "48.50", "int"),
       ("Arbeidsloon monteur", "uur", "62.50", "hours"), ("Voorrijkosten", "", "39.50", "one")],
      "{y}{n:04d}", "010 437 22 80", "Kees van der Berg"),
    V("dev", "devries", "nl_NL", "NL", "De Vries Kantoorartikelen B.V.", "Stationsplein 8", "3511 ED Utrecht", "devries-kantoor.example", "NL",
      ("ING Bank", "INGB", "INGBNL2A"),
      [("Kopieerpapier A4 80 g, doos 5 pakken", "doos", "23.40", "int"), ("Bureaustoel ergonomisch", "st", "219.00", "int"),
       ("Whiteboardmarkers, set van 4", "set", "6.95", "int"), ("Bezorgkosten", "", "9.95", "one")],
      "F{n:06d}", "030 231 45 67", "Anouk de Vries", terms=(14, 30)),
    V("dev", "hollands", "nl_NL", "NL", "Hollands Glorie Catering B.V.", "Kanaalweg 17", "2011 AB Haarlem", "hollandsglorie-catering.example", "NL",
      ("Rabobank", "RABO", "RABONL2U"),
      [("Lunchbuffet, per persoon", "p.p.", "18.50", "big"), ("Koffie- en theeservice, per persoon", "p.p.", "4.75", "big"),
       ("Broodjes gezond", "st", "5.20", "big"), ("Bezorging en opbouw", "", "45.00", "one")],
      "HGC-{y}-{n:04d}", "023 531 77 20", "Lotte Bakker", rate="9"),
    V("dev", "janssens", "nl_BE", "BE", "Janssens & Peeters BV", "Noorderlaan 133", "2030 Antwerpen", "janssens-peeters.example", "NL",
      ("KBC Bank", "734", "KREDBEBB"),
      [("Adviesuren projectbegeleiding", "uur", "95.00", "hours"), ("Opmaak lastenboek", "forfait", "1250.00", "one"),
       ("Verplaatsingskosten", "km", "0.45", "huge")],
      "{y}/{n:04d}", "+32 3 541 22 10", "Pieter Janssens", rate="21"),
    V("dev", "lumiere", "fr_BE", "BE", "Lumière Services SRL", "Rue de la Station 44", "4000 Liège", "lumiere-services.example", "FR",
      ("Belfius", "068", "GKCCBEBB"),
      [("Maintenance éclairage scénique", "h", "72.00", "hours"), ("Location projecteurs LED (jour)", "jour", "140.00", "int"),
       ("Déplacement technicien", "forfait", "90.00", "one")],
      "LS-{n:05d}", "+32 4 221 36 50", "Sophie Lambert", rate="21"),
    V("dev", "ebro", "es_ES", "ES", "Suministros Industriales Ebro, S.L.", "Polígono Malpica, Calle E, 23", "50016 Zaragoza", "suministros-ebro.example", "ES",
      ("CaixaBank", "2100", "CAIXESBBXXX"),
      [("Rodamiento rígido de bolas 6205-2RS", "ud.", "6.85", "big"), ("Correa trapezoidal SPZ 1250", "ud.", "14.20", "int"),
       ("Motorreductor 0,75 kW", "ud.", "389.00", "one"), ("Portes", "", "35.00", "one")],
      "FV{yy}-{n:05d}", "976 57 32 10", "Javier Lázaro", rate="21", terms=(30, 60)),
    V("dev", "levante", "es_ES", "ES", "Gráficas Levante, S.L.", "Avenida del Puerto 180", "46023 Valencia", "graficas-levante.example", "ES",
      ("Banco Santander", "0049", "BSCHESMMXXX"),
      [("Folletos A5 a color, 1.000 uds.", "lote", "210.00", "int"), ("Diseño gráfico", "hora", "45.00", "hours"),
       ("Lona publicitaria 3 x 1 m", "ud.", "68.00", "int")],
      "A{y}/{n:04d}", "963 12 48 77", "Lucía Ferrer", rate="21"),
    V("dev", "bianchi", "it_IT", "IT", "Officine Meccaniche Bianchi S.r.l.", "Via dell'Industria 27", "25030 Brescia (BS)", "officine-bianchi.example", "IT",
      ("Intesa Sanpaolo", "03069", "BCITITMM"),
      [("Albero di trasmissione lavorato CNC", "pz", "148.00", "int"), ("Manutenzione programmata pressa", "ore", "58.00", "hours"),
       ("Ricambi vari", "a corpo", "312.50", "one"), ("Trasporto", "a corpo", "90.00", "one")],
      "{n}/{y}", "030 374 1120", "Marco Bianchi", rate="22", terms=(30, 60)),
    V("dev", "adriatica", "it_IT", "IT", "Logistica Adriatica S.r.l.", "Via del Porto 9", "60121 Ancona (AN)", "logistica-adriatica.example", "IT",
      ("UniCredit", "02008", "UNCRITMM"),
      [("Trasporto container 20' Ancona – Milano", "viaggio", "780.00", "int"), ("Sosta camion", "ora", "45.00", "hours"),
       ("Pratica doganale", "a corpo", "120.00", "one")],
      "FT-{y}-{n:04d}", "071 220 5874", "Giulia Conti", rate="22"),
    # ----------------------------------------------------------------- holdout
    V("holdout", "rheinland", "de_DE", "DE", "Rheinland Metallbau GmbH", "Am Rheinhafen 7", "47059 Duisburg", "rheinland-metallbau.example", "DE",
      ("Sparkasse Duisburg", "35050000", "DUISDE33XXX"),
      [("Stahltreppe feuerverzinkt, 14 Steigungen", "Stk", "4860.00", "one"), ("Geländer Edelstahl V2A", "lfm", "189.00", "int"),
       ("Schweißarbeiten vor Ort", "Std", "72.00", "hours"), ("Kranstellung", "psch", "540.00", "one")],
      "RMB-{y}-{n:04d}", "+49 203 4490 215", "Dirk Schäfer"),
    V("holdout", "fischer", "de_DE", "DE", "Fischer Laborbedarf GmbH", "Robert-Koch-Straße 31", "55129 Mainz", "fischer-laborbedarf.example", "DE",
      ("Mainzer Volksbank", "55190000", "MVBMDE55XXX"),
      [("Pipettenspitzen 200 µl, 10 x 96 Stk", "Pack", "42.90", "int"), ("Nitril-Handschuhe Gr. M, 100 Stk", "Box", "8.75", "big"),
       ("Laborflasche 1000 ml, Borosilikat", "Stk", "9.80", "int"), ("Gefahrgutzuschlag", "psch", "24.00", "one")],
      "{n:07d}", "+49 6131 9740 0", "Anja Fischer"),
    V("holdout", "elbe", "de_DE", "DE", "Elbe Gebäudereinigung GmbH & Co. KG", "Pirnaer Landstraße 140", "01257 Dresden", "elbe-reinigung.example", "DE",
      ("Ostsächsische Sparkasse Dresden", "85050300", "OSDDDE81XXX"),
      [("Unterhaltsreinigung Büroflächen (monatlich)", "Monat", "2940.00", "one"), ("Glasreinigung innen/außen", "m²", "2.15", "huge"),
       ("Grundreinigung Teeküche", "psch", "260.00", "one")],
      "ER{y}{n:04d}", "+49 351 2183 40", "Katrin Lehmann"),
    V("holdout", "alpenblick", "de_AT", "AT", "Alpenblick Druck GmbH", "Münchner Bundesstraße 58", "5020 Salzburg", "alpenblick-druck.example", "DE",
      ("Salzburger Sparkasse", "20404", "SBGSAT2SXXX"),
      [("Geschäftsbericht 64 Seiten, 500 Ex.", "Aufl.", "3980.00", "one"), ("Briefpapier 100 g, 5.000 Blatt", "Aufl.", "410.00", "one"),
       ("Satz und Reinzeichnung", "Std", "78.00", "hours")],
      "{y}-{n:05d}", "+43 662 43 88 12", "Florian Gruber", rate="20"),
    V("holdout", "zuercher", "de_CH", "CH", "Zürcher Softwarehaus AG", "Hardturmstrasse 161", "8005 Zürich", "zuercher-softwarehaus.example", "CH",
      ("UBS Switzerland AG", "00230", "UBSWCHZH80A"),
      [("Softwarewartung ERP-Modul Finanzen (Quartal)", "Quartal", "4200.00", "one"), ("Entwicklung Schnittstelle", "Std", "165.00", "hours"),
       ("Projektleitung", "Std", "185.00", "hours")],
      "ZS-{n:05d}", "+41 44 552 70 00", "Nina Keller", rate="8.1", terms=(30,)),
    V("holdout", "cotswold", "en_GB", "GB", "Cotswold Catering Ltd", "The Old Mill, Mill Lane", "Cirencester GL7 1AA", "cotswold-catering.example", "UK",
      ("HSBC UK", "HBUK", "HBUKGB4B"),
      [("Working lunch, per head", "head", "14.50", "big"), ("Afternoon tea service, per head", "head", "8.25", "big"),
       ("Staffing - event assistant", "hour", "18.00", "hours"), ("Delivery and set-up", "", "40.00", "one")],
      "CC{n:05d}", "01285 496 300", "Emma Price"),
    V("holdout", "clyde", "en_GB", "GB", "Clyde Marine Engineering Ltd", "300 Govan Road", "Glasgow G51 2SS", "clyde-marine.example", "UK",
      ("Royal Bank of Scotland", "RBOS", "RBOSGB2L"),
      [("Hydraulic winch overhaul", "", "3850.00", "one"), ("Marine engineer", "hour", "68.00", "hours"),
       ("Seal kit, hydraulic cylinder", "kit", "212.00", "int"), ("Crane hire, half day", "", "475.00", "one")],
      "CME/{y}/{n:04d}", "0141 496 0781", "Callum Reid", terms=(30,)),
    V("holdout", "prairie", "en_US", "US", "Prairie Packaging Co.", "3100 N. 27th Street", "Lincoln, NE 68521", "prairie-packaging.example", "US",
      ("", "", ""),
      [("Corrugated boxes 18x12x12, bundle of 25", "bdl", "31.75", "int"), ("Stretch wrap 18\" x 1500 ft", "roll", "22.40", "int"),
       ("Void fill paper, 1,000 ft", "roll", "46.00", "int"), ("Freight", "", "95.00", "one")],
      "PP-{n:06d}", "(402) 555-0115", "Dana Olson", rate="7.25", terms=(30,)),
    V("holdout", "bluewater", "en_US", "US", "Bluewater Analytics Inc.", "410 Pike Street, Suite 900", "Seattle, WA 98101", "bluewater-analytics.example", "US",
      ("", "", ""),
      [("Data platform subscription - annual", "year", "18000.00", "one"), ("Implementation services", "hour", "210.00", "hours"),
       ("Additional connector", "each", "1200.00", "int")],
      "BA-{y}-{n:05d}", "(206) 555-0173", "Accounts Team", rate="10.35", terms=(30, 45)),
    V("holdout", "granite", "en_US", "US", "Granite State Electric Supply LLC", "75 Commercial Street", "Manchester, NH 03101", "granite-electric.example", "US",
      ("", "", ""),
      [("THHN wire 12 AWG, 500 ft spool", "spool", "118.00", "int"), ("20A breaker, single pole", "each", "9.45", "big"),
       ("LED high bay fixture 150W", "each", "139.00", "int"), ("Conduit EMT 3/4\" x 10 ft", "each", "8.10", "big")],
      "{n:06d}", "(603) 555-0124", "Tom Bouchard", rate="0", terms=(30,)),
    V("holdout", "caron", "fr_FR", "FR", "Menuiserie Caron SARL", "8 rue du Bois Joli", "59000 Lille", "menuiserie-caron.example", "FR",
      ("Crédit du Nord", "30076", "NORDFRPPXXX"),
      [("Porte coupe-feu EI30, pose comprise", "u", "1290.00", "int"), ("Habillage bois accueil", "forfait", "2350.00", "one"),
       ("Main d'œuvre", "h", "48.00", "hours")],
      "MC{y}{n:04d}", "03 20 57 44 18", "Éric Caron"),
    V("holdout", "aubert", "fr_FR", "FR", "Laboratoires Aubert SAS", "12 avenue Didier Daurat", "31400 Toulouse", "laboratoires-aubert.example", "FR",
      ("Société Générale", "30003", "SOGEFRPPXXX"),
      [("Analyse microbiologique eau", "échant.", "68.00", "int"), ("Analyse physico-chimique complète", "échant.", "145.00", "int"),
       ("Prélèvement sur site", "forfait", "180.00", "one"), ("Rapport d'essai certifié", "u", "35.00", "int")],
      "LA-{y}-{n:05d}", "05 61 20 88 40", "Claire Aubert"),
    V("holdout", "provencale", "fr_FR", "FR", "Compagnie Provençale de Nettoyage SAS", "145 boulevard de Paris", "13003 Marseille", "cpn-nettoyage.example", "FR",
      ("CIC", "30066", "CMCIFRPPXXX"),
      [("Nettoyage des locaux, forfait mensuel", "mois", "3150.00", "one"), ("Nettoyage des vitres", "passage", "420.00", "int"),
       ("Fourniture consommables sanitaires", "forfait", "138.60", "one")],
      "{y}{n:05d}", "04 91 08 26 73", "Karim Benali"),
    V("holdout", "zeeland", "nl_NL", "NL", "Zeeland Offshore Services B.V.", "Havenweg 9", "4382 NK Vlissingen", "zeeland-offshore.example", "NL",
      ("Triodos Bank", "TRIO", "TRIONL2U"),
      [("Inspectie kraanarm, duiker incl.", "dag", "1850.00", "int"), ("Huur werkboot", "uur", "210.00", "hours"),
       ("Certificering hijsmiddelen", "st", "75.00", "big")],
      "ZOS{y}-{n:04d}", "0118 48 22 90", "Bram Verhulst", terms=(30,)),
    V("holdout", "groenewoud", "nl_NL", "NL", "Groenewoud Hoveniers B.V.", "Tuinbouwweg 3", "2691 GV 's-Gravenzande", "groenewoud-hoveniers.example", "NL",
      ("Rabobank", "RABO", "RABONL2U"),
      [("Onderhoud groenvoorziening bedrijfsterrein", "maand", "1480.00", "one"), ("Snoeien hagen", "uur", "47.50", "hours"),
       ("Afvoer groenafval", "m³", "32.00", "int"), ("Beplanting vaste planten", "st", "6.40", "big")],
      "{n:06d}", "0174 41 28 63", "Ruud Groenewoud"),
    V("holdout", "claes", "nl_BE", "BE", "Drukkerij Claes NV", "Kempische Steenweg 290", "3500 Hasselt", "drukkerij-claes.example", "NL",
      ("BNP Paribas Fortis", "001", "GEBABEBB"),
      [("Jaarverslag 40 blz., 750 ex.", "oplage", "2640.00", "one"), ("Enveloppen C5 met logo", "1000", "96.00", "int"),
       ("Grafisch ontwerp", "uur", "65.00", "hours")],
      "{y}{n:05d}", "+32 11 22 85 40", "Els Claes", rate="21"),
    V("holdout", "guadalquivir", "es_ES", "ES", "Transportes Guadalquivir, S.A.", "Carretera de la Esclusa, s/n", "41011 Sevilla", "transportes-guadalquivir.example", "ES",
      ("BBVA", "0182", "BBVAESMMXXX"),
      [("Transporte Sevilla – Madrid, camión completo", "viaje", "920.00", "int"), ("Paralización", "hora", "40.00", "hours"),
       ("Seguro de mercancía", "", "58.00", "one")],
      "TG{y}{n:05d}", "954 29 81 60", "Manuel Ortega", rate="21"),
    V("holdout", "cantabrica", "es_ES", "ES", "Consultoría Cantábrica, S.L.", "Paseo de Pereda 22", "39004 Santander", "consultoria-cantabrica.example", "ES",
      ("Ibercaja", "2085", "CAZRES2ZXXX"),
      [("Auditoría de procesos financieros", "hora", "85.00", "hours"), ("Informe final y presentación", "", "1200.00", "one"),
       ("Gastos de desplazamiento", "", "186.30", "one")],
      "CC-{n:04d}/{yy}", "942 31 07 55", "Elena Ruiz", rate="21"),
    V("holdout", "ceramiche", "it_IT", "IT", "Ceramiche Toscane S.r.l.", "Via Provinciale Lucchese 181", "50019 Sesto Fiorentino (FI)", "ceramiche-toscane.example", "IT",
      ("Banco BPM", "05034", "BAPPIT21"),
      [("Piastrelle gres porcellanato 60x60", "m²", "24.90", "huge"), ("Battiscopa coordinato", "ml", "6.80", "big"),
       ("Imballo e pallet", "a corpo", "45.00", "one")],
      "{n:05d}/FT", "055 442 1890", "Chiara Neri", rate="22"),
    V("holdout", "ferraristudio", "it_IT", "IT", "Studio Ferrari Consulenza S.r.l.", "Corso Vittorio Emanuele II 64", "10121 Torino (TO)", "studio-ferrari.example", "IT",
      ("Intesa Sanpaolo", "03069", "BCITITMM"),
      [("Consulenza fiscale", "ore", "120.00", "hours"), ("Predisposizione dichiarazione IVA", "a corpo", "950.00", "one"),
       ("Spese di segreteria", "a corpo", "60.00", "one")],
      "{n}/{y}/FE", "011 562 7741", "Andrea Ferrari", rate="22"),
]
del V

DEFAULT_RATE = {"DE": "19", "AT": "20", "CH": "8.1", "GB": "20", "FR": "20", "NL": "21", "BE": "21", "ES": "21", "IT": "22", "US": "0"}
CURRENCY = {"CH": "CHF", "GB": "GBP", "US": "USD"}


def finish_vendor(v: Vendor):
    r = random.Random("vendor-" + v.key)
    v.rate = v.rate or DEFAULT_RATE[v.country]
    v.currency = v.currency or CURRENCY.get(v.country, "EUR")
    c = v.country
    if c == "DE":
        v.vat = vat_de(r)
        v.vat_print = r.choice([v.vat, f"{v.vat[:2]} {v.vat[2:5]} {v.vat[5:8]} {v.vat[8:]}"])
        v.reg = f"Amtsgericht {v.city.split(' ', 1)[1].split(' ')[0]} HRB {digits(r, 6)}"
        v.extra["steuernr"] = f"{digits(r, 2)}/{digits(r, 3, False)}/{digits(r, 5, False)}"
    elif c == "AT":
        v.vat = vat_at(r)
        v.vat_print = v.vat
        v.reg = f"FN {digits(r, 6)}{r.choice('abkmpt')} · Landesgericht Salzburg"
    elif c == "CH":
        v.vat = uid_ch(r)
        v.vat_print = f"CHE-{v.vat[3:6]}.{v.vat[6:9]}.{v.vat[9:]} MWST"
        v.reg = "Handelsregister des Kantons " + ("Zürich" if "Zürich" in v.city or "Winterthur" in v.city else "Bern")
    elif c == "GB":
        v.vat = vat_gb(r)
        v.vat_print = r.choice([f"GB {v.vat[2:5]} {v.vat[5:9]} {v.vat[9:]}", v.vat])
        v.reg = f"Registered in {'Scotland No. SC' if 'Glasgow' in v.city else 'England and Wales No. 0'}{digits(r, 6 if 'Glasgow' in v.city else 7)}"
    elif c == "FR":
        v.vat, siren = vat_fr(r)
        v.vat_print = r.choice([v.vat, f"FR {v.vat[2:4]} {siren}"])
        nic = digits(r, 4, False) + "0"
        nic = nic[:4] + luhn_check(siren + nic[:4])
        city = {"Saint-Priest": "Lyon", "Bruz": "Rennes"}.get(v.city.split(" ", 1)[1], v.city.split(" ", 1)[1])
        v.reg = f"RCS {city} {siren[:3]} {siren[3:6]} {siren[6:]} · SIRET {siren}{nic}"
        v.extra["siret"] = siren + nic
    elif c == "NL":
        v.vat = vat_nl(r)
        v.vat_print = v.vat
        v.reg = f"KvK {digits(r, 8)}"
    elif c == "BE":
        v.vat = vat_be(r)
        v.vat_print = r.choice([v.vat, f"BE {v.vat[2:6]}.{v.vat[6:9]}.{v.vat[9:]}"])
        v.reg = f"RPR {v.city.split(' ', 1)[1]} · {'Ondernemingsnummer' if v.locale == 'nl_BE' else 'N° d’entreprise'} {v.vat[2:6]}.{v.vat[6:9]}.{v.vat[9:]}"
    elif c == "ES":
        v.vat = vat_es(r, "A" if "S.A." in v.name else "B")
        v.vat_print = v.vat
        v.reg = f"Inscrita en el Registro Mercantil de {v.city.split(' ', 1)[1]}, Tomo {digits(r, 4)}, Folio {r.randint(10, 220)}, Hoja {digits(r, 5)}"
    elif c == "IT":
        v.vat = vat_it(r)
        v.vat_print = v.vat
        v.reg = f"Cap. soc. € {r.choice(['10.000,00', '50.000,00', '100.000,00'])} i.v. · REA {v.city.split('(')[1][:2]}-{digits(r, 6)}"
    elif c == "US":
        v.vat = ""
        v.vat_print = ""
        v.reg = f"EIN {digits(r, 2)}-{digits(r, 7, False)}"
        v.extra["routing"] = aba_routing(r)
        v.extra["account"] = digits(r, 10, False)
    if v.bank[1]:
        v.iban = make_iban("GB" if c == "GB" else c, bban_for(c, r, v.bank[1]))
    v.extra["nbase"] = r.randint(120, 9400)
    v.extra["cust"] = {"DE": f"{r.randint(10000, 99999)}", "AT": f"K{r.randint(1000, 9999)}", "CH": f"{r.randint(100000, 999999)}",
                       "GB": f"OUR{r.randint(100, 999)}", "US": f"OURC-{r.randint(1000, 9999)}", "FR": f"C{r.randint(10000, 99999)}",
                       "NL": f"{r.randint(100000, 999999)}", "BE": f"{r.randint(3000, 8999)}", "ES": f"{r.randint(430000, 439999)}",
                       "IT": f"C{r.randint(1000, 9999)}"}[c]


VENDORS = {}
for _v in VENDOR_LIST:
    finish_vendor(_v)
    assert _v.key not in VENDORS
    VENDORS[_v.key] = _v
assert not ({v.name for v in VENDOR_LIST if v.split == "dev"} & {v.name for v in VENDOR_LIST if v.split == "holdout"})


# ---------------------------------------------------------------------------
# labels by language (each key: variants; one is picked per document)
# ---------------------------------------------------------------------------

LABELS = {
    "en": {
        "title": ["INVOICE", "Invoice", "TAX INVOICE", "INVOICE"],
        "number": ["Invoice No.", "Invoice #", "Invoice Number", "Bill No."],
        "date": ["Invoice Date", "Date", "Date of issue", "Invoice Date"],
        "due": ["Due Date", "Payment Due", "Pay by", "Due Date"],
        "po": ["PO Number", "Purchase Order", "PO #", "Your PO"],
        "cust": ["Customer No.", "Account No.", "Customer ID"],
        "deliv_date": ["Ship Date", "Delivery Date", "Date of supply"],
        "deliv_note": ["Delivery Note", "Packing Slip"],
        "order_ref": ["Sales Order", "Our Ref."],
        "reference": ["Reference", "Project"],
        "terms": ["Terms", "Payment Terms"],
        "billto": ["Bill To", "Invoice To", "Customer", "BILL TO"],
        "shipto": ["Ship To", "Deliver To"],
        "from": ["From"],
        "vat_id": ["VAT Reg. No.", "VAT No.", "VAT Registration"],
        "buyer_vat": ["Customer VAT No."],
        "bank": ["Bank details", "Payment details", "Remit to"],
        "desc": ["Description", "Item", "Description", "Service"],
        "qty": ["Qty", "Quantity", "Qty", "Units"],
        "price": ["Unit Price", "Rate", "Unit price", "Price"],
        "amount": ["Amount", "Total", "Line Total", "Amount"],
        "pos": ["#", "Line"],
        "net": ["Subtotal", "Net amount", "Total excl. VAT", "Subtotal"],
        "tax_gb": ["VAT @ {r}%", "VAT {r}%", "VAT ({r}%)"],
        "tax_us": ["Sales Tax ({r}%)", "Tax {r}%", "Sales tax @ {r}%"],
        "tax0_us": ["Sales Tax", "Tax"],
        "total": ["Total", "Total Due", "Grand Total", "Invoice Total", "Amount Due", "Balance Due", "TOTAL"],
        "total_plain": ["Total", "Invoice Total", "Grand Total"],
        "paid": ["Amount paid", "Less: deposit received", "Payments/Credits"],
        "due_amt": ["Balance due", "Amount due", "Balance Due"],
        "prev": ["Previous balance"],
        "recv": ["Payment received - thank you", "Payments received"],
        "bf": ["Balance forward"],
        "cur_charges": ["Current charges"],
        "tot_cur": ["Total current charges"],
        "tot_amount_due": ["Total amount due", "TOTAL AMOUNT DUE"],
        "carried": ["Carried forward"],
        "brought": ["Brought forward"],
        "page": ["Page {p} of {n}"],
        "continued": ["Continued on next page", "continued overleaf"],
        "thanks": ["Thank you for your business.", "Thank you for your custom.", "We appreciate your business."],
        "netterms": ["Net {d}", "Net {d} days", "{d} days net"],
        "pay_text": ["Please pay by {due} quoting the invoice number.", "Payment due by {due}. Please quote the invoice number with your payment.",
                     "Please remit payment by {due}."],
        "skonto": ["{p}% discount if paid by {d}: {a}", "Early payment: {p}% discount if paid by {d}, pay {a}"],
        "rc": ["Reverse charge: customer to account for VAT to HMRC.", "Reverse charge applies."],
        "email": ["Email"],
        "phone": ["Tel", "Phone"],
        "sort": ["Sort code"], "acct": ["Account no."], "routing": ["ABA routing"], "acct_us": ["Account"],
    },
    "de": {
        "title": ["RECHNUNG", "Rechnung", "RECHNUNG"],
        "number": ["Rechnungsnummer", "Rechnung Nr.", "Re.-Nr.", "Rechnungs-Nr."],
        "date": ["Rechnungsdatum", "Datum", "Rechnungsdatum"],
        "due": ["Fällig am", "Fälligkeitsdatum", "Zahlbar bis"],
        "po": ["Ihre Bestellung", "Bestellnummer", "Ihre Bestell-Nr."],
        "cust": ["Kundennummer", "Kunden-Nr."],
        "deliv_date": ["Lieferdatum", "Leistungsdatum"],
        "deliv_note": ["Lieferschein-Nr.", "Lieferschein"],
        "order_ref": ["Auftragsnummer", "Unser Auftrag"],
        "reference": ["Projekt", "Ihr Zeichen"],
        "terms": ["Zahlungsbedingungen", "Zahlungsziel"],
        "billto": ["Rechnungsempfänger", "Rechnungsadresse", "Kunde"],
        "shipto": ["Lieferadresse", "Lieferanschrift"],
        "from": ["Rechnungssteller", "Absender"],
        "vat_id": ["USt-IdNr.", "USt-ID", "Umsatzsteuer-ID"],
        "buyer_vat": ["Ihre USt-IdNr."],
        "bank": ["Bankverbindung"],
        "desc": ["Bezeichnung", "Beschreibung", "Artikel / Leistung", "Leistung"],
        "qty": ["Menge", "Anzahl", "Menge"],
        "price": ["Einzelpreis", "E-Preis", "Preis"],
        "amount": ["Gesamtpreis", "Betrag", "Gesamt", "Summe"],
        "pos": ["Pos.", "Pos"],
        "net": ["Nettobetrag", "Summe netto", "Zwischensumme", "Warenwert netto"],
        "tax": ["zzgl. {r} % MwSt.", "MwSt. {r} %", "USt. {r} %", "{r} % Umsatzsteuer"],
        "tax_ch": ["MWST {r} %", "zzgl. MWST {r}%"],
        "tax_at": ["zzgl. {r} % USt.", "USt {r} %"],
        "total": ["Gesamtbetrag", "Rechnungsbetrag", "Endbetrag", "Zu zahlender Betrag", "Bruttobetrag", "Summe brutto"],
        "total_plain": ["Gesamtbetrag", "Rechnungsbetrag", "Bruttobetrag"],
        "paid": ["abzgl. Anzahlung", "Bereits bezahlt", "abzgl. Abschlagszahlung"],
        "due_amt": ["Restbetrag", "Noch zu zahlen", "Zahlbetrag"],
        "carried": ["Übertrag"],
        "brought": ["Übertrag"],
        "page": ["Seite {p} von {n}", "Seite {p}/{n}"],
        "continued": ["Fortsetzung auf der nächsten Seite", "- Fortsetzung -"],
        "thanks": ["Vielen Dank für Ihren Auftrag.", "Wir danken für Ihren Auftrag.", "Vielen Dank für die gute Zusammenarbeit."],
        "netterms": ["{d} Tage netto", "zahlbar innerhalb {d} Tagen ohne Abzug", "{d} Tage ohne Abzug"],
        "pay_text": ["Bitte überweisen Sie den Rechnungsbetrag bis zum {due} auf das unten genannte Konto.",
                     "Zahlbar ohne Abzug bis {due}. Bitte geben Sie bei Zahlung die Rechnungsnummer an.",
                     "Der Rechnungsbetrag ist bis zum {due} ohne Abzug fällig."],
        "skonto": ["{p} % Skonto bei Zahlung bis {d}: {a}", "Bei Zahlung bis {d} gewähren wir {p} % Skonto, Zahlbetrag {a}"],
        "rc": ["Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge).",
               "Reverse Charge – die Umsatzsteuer schuldet der Leistungsempfänger."],
        "rc_ch": ["Leistung im Ausland erbracht, ohne MWST."],
        "email": ["E-Mail"],
        "phone": ["Tel.", "Telefon"],
        "steuernr": ["Steuernummer", "St.-Nr."],
    },
    "fr": {
        "title": ["FACTURE", "Facture", "FACTURE"],
        "number": ["Facture n°", "N° de facture", "Numéro de facture", "Facture N°"],
        "date": ["Date de facture", "Date d'émission", "Date", "Date de facturation"],
        "due": ["Date d'échéance", "Échéance", "Date limite de paiement"],
        "po": ["Bon de commande", "N° de commande", "Votre commande", "Réf. commande"],
        "cust": ["N° client", "Code client"],
        "deliv_date": ["Date de livraison", "Date de prestation"],
        "deliv_note": ["Bon de livraison", "BL n°"],
        "order_ref": ["Notre réf.", "N° affaire"],
        "reference": ["Chantier", "Objet"],
        "terms": ["Conditions de paiement", "Règlement"],
        "billto": ["Facturé à", "Client", "Adresse de facturation", "Destinataire"],
        "shipto": ["Livré à", "Adresse de livraison"],
        "from": ["Émetteur", "Vendeur"],
        "vat_id": ["N° TVA intracommunautaire", "TVA intracom.", "N° TVA"],
        "buyer_vat": ["Votre N° TVA"],
        "bank": ["Coordonnées bancaires", "Règlement par virement", "RIB"],
        "desc": ["Désignation", "Description", "Libellé"],
        "qty": ["Qté", "Quantité"],
        "price": ["Prix unitaire HT", "P.U. HT", "PU HT"],
        "amount": ["Montant HT", "Total HT", "Montant"],
        "pos": ["Réf.", "N°"],
        "net": ["Total HT", "Montant HT", "Sous-total HT"],
        "tax": ["TVA {r} %", "TVA ({r} %)", "Montant TVA {r} %"],
        "total": ["Total TTC", "Montant TTC", "Net à payer", "Total facture TTC"],
        "total_plain": ["Total TTC", "Montant TTC"],
        "paid": ["Acompte versé", "Acompte reçu", "Déjà réglé"],
        "due_amt": ["Reste à payer", "Net à payer", "Solde à régler"],
        "carried": ["À reporter"],
        "brought": ["Report"],
        "page": ["Page {p} / {n}", "Page {p} sur {n}"],
        "continued": ["Suite page suivante"],
        "thanks": ["Nous vous remercions de votre confiance.", "Merci de votre confiance."],
        "netterms": ["{d} jours net", "à {d} jours date de facture", "{d} jours fin de mois"],
        "pay_text": ["Paiement par virement avant le {due}.", "Règlement à réception, au plus tard le {due}.",
                     "Merci d'effectuer le règlement avant le {due} en rappelant le numéro de facture."],
        "skonto": ["Escompte {p} % pour paiement avant le {d} : {a}", "Escompte de {p} % si règlement avant le {d}, soit {a}"],
        "escompte_none": ["Pas d'escompte pour paiement anticipé.", "Escompte pour paiement anticipé : néant."],
        "penalty": ["En cas de retard de paiement, pénalités au taux de 3 fois le taux d'intérêt légal et indemnité forfaitaire pour frais de recouvrement de 40 €.",
                    "Pénalités de retard : 3 fois le taux d'intérêt légal. Indemnité forfaitaire pour frais de recouvrement : 40,00 €."],
        "rc": ["Autoliquidation – TVA due par le preneur (art. 196 de la directive 2006/112/CE).", "Autoliquidation."],
        "email": ["E-mail", "Courriel"],
        "phone": ["Tél.", "Tél"],
        "siret": ["SIRET"],
    },
    "nl": {
        "title": ["FACTUUR", "Factuur", "FACTUUR"],
        "number": ["Factuurnummer", "Factuurnr.", "Factuurnummer"],
        "date": ["Factuurdatum", "Datum", "Factuurdatum"],
        "due": ["Vervaldatum", "Te betalen vóór", "Uiterste betaaldatum"],
        "po": ["Inkoopordernummer", "Bestelnummer", "Uw ordernummer", "Inkooporder"],
        "cust": ["Klantnummer", "Debiteurnummer"],
        "deliv_date": ["Leverdatum", "Uitvoeringsdatum"],
        "deliv_note": ["Pakbon", "Werkbon"],
        "order_ref": ["Ons kenmerk", "Projectnummer"],
        "reference": ["Uw referentie", "Project"],
        "terms": ["Betalingstermijn", "Betaalconditie"],
        "billto": ["Factuuradres", "Aan", "Klant"],
        "shipto": ["Afleveradres"],
        "from": ["Van", "Afzender"],
        "vat_id": ["BTW-nummer", "Btw-nr.", "BTW-nr."],
        "buyer_vat": ["Uw BTW-nummer"],
        "bank": ["Bankgegevens", "Betaalgegevens"],
        "desc": ["Omschrijving", "Artikel", "Omschrijving"],
        "qty": ["Aantal", "Aantal"],
        "price": ["Prijs", "Stukprijs", "Tarief"],
        "amount": ["Bedrag", "Totaal", "Bedrag"],
        "pos": ["Nr.", "Regel"],
        "net": ["Subtotaal", "Totaal excl. BTW", "Bedrag excl. BTW"],
        "tax": ["BTW {r}%", "{r}% BTW", "BTW ({r}%)"],
        "total": ["Totaal incl. BTW", "Te betalen", "Totaalbedrag", "Totaal"],
        "total_plain": ["Totaal incl. BTW", "Totaalbedrag"],
        "paid": ["Reeds betaald", "Aanbetaling", "Reeds voldaan"],
        "due_amt": ["Nog te betalen", "Openstaand bedrag", "Te voldoen"],
        "prev": ["Vorig saldo"], "recv": ["Ontvangen betaling, dank u"], "bf": ["Saldo overgebracht"],
        "cur_charges": ["Huidige kosten"], "tot_cur": ["Totaal deze factuur"], "tot_amount_due": ["Totaal te betalen"],
        "carried": ["Transport"],
        "brought": ["Transport"],
        "page": ["Pagina {p} van {n}", "Blad {p}/{n}"],
        "continued": ["Vervolg op volgende pagina"],
        "thanks": ["Wij danken u voor uw opdracht.", "Bedankt voor uw bestelling."],
        "netterms": ["{d} dagen netto", "binnen {d} dagen na factuurdatum"],
        "pay_text": ["Wij verzoeken u het bedrag vóór {due} over te maken onder vermelding van het factuurnummer.",
                     "Gelieve te betalen vóór {due}.", "Graag uiterlijk {due} betalen o.v.v. het factuurnummer."],
        "skonto": ["Bij betaling vóór {d} {p}% korting: {a}", "Betalingskorting {p}% bij betaling vóór {d}, te betalen {a}"],
        "rc": ["BTW verlegd – verlegging van heffing, art. 196 Richtlijn 2006/112/EG.", "Btw verlegd."],
        "email": ["E-mail"],
        "phone": ["Tel.", "T"],
        "kvk": ["KvK"],
    },
    "es": {
        "title": ["FACTURA", "Factura"],
        "number": ["Número de factura", "Nº factura", "Factura n.º", "N.º de factura"],
        "date": ["Fecha de factura", "Fecha de emisión", "Fecha"],
        "due": ["Fecha de vencimiento", "Vencimiento"],
        "po": ["N.º de pedido", "Su pedido", "Pedido cliente"],
        "cust": ["N.º cliente", "Código cliente"],
        "deliv_date": ["Fecha de entrega", "Fecha del servicio"],
        "deliv_note": ["Albarán", "N.º albarán"],
        "order_ref": ["Nuestra ref.", "Expediente"],
        "reference": ["Referencia", "Proyecto"],
        "terms": ["Forma de pago", "Condiciones de pago"],
        "billto": ["Cliente", "Facturar a", "Datos del cliente"],
        "shipto": ["Dirección de entrega"],
        "from": ["Emisor"],
        "vat_id": ["NIF", "CIF", "NIF-IVA"],
        "buyer_vat": ["NIF cliente"],
        "bank": ["Datos bancarios", "Transferencia bancaria"],
        "desc": ["Descripción", "Concepto"],
        "qty": ["Cantidad", "Uds.", "Cant."],
        "price": ["Precio", "Precio unit.", "Precio unitario"],
        "amount": ["Importe", "Total", "Importe"],
        "pos": ["Ref.", "Cód."],
        "net": ["Base imponible", "Subtotal", "Base imponible"],
        "tax": ["IVA {r} %", "IVA ({r}%)", "Cuota IVA {r}%"],
        "total": ["Total factura", "Total a pagar", "Importe total", "TOTAL"],
        "total_plain": ["Total factura", "Importe total"],
        "paid": ["Anticipo recibido", "Entrega a cuenta"],
        "due_amt": ["Pendiente de pago", "Total a pagar"],
        "carried": ["Suma y sigue"],
        "brought": ["Suma anterior"],
        "page": ["Página {p} de {n}"],
        "continued": ["Continúa en la página siguiente"],
        "thanks": ["Gracias por su confianza."],
        "netterms": ["Transferencia a {d} días", "{d} días fecha factura"],
        "pay_text": ["Forma de pago: transferencia bancaria antes del {due}.", "Rogamos realicen el pago antes del {due}."],
        "skonto": ["Descuento pronto pago {p} % antes del {d}: {a}"],
        "rc": ["Operación con inversión del sujeto pasivo.", "Entrega intracomunitaria exenta (art. 25 LIVA)."],
        "email": ["Email", "Correo"],
        "phone": ["Tel.", "Teléfono"],
    },
    "it": {
        "title": ["FATTURA", "Fattura", "FATTURA"],
        "number": ["Numero fattura", "Fattura n.", "N. documento", "Numero"],
        "date": ["Data fattura", "Data documento", "Data"],
        "due": ["Data scadenza", "Scadenza", "Scadenza pagamento"],
        "po": ["Vs. ordine", "N. ordine", "Rif. ordine"],
        "cust": ["Codice cliente", "Cod. cliente"],
        "deliv_date": ["Data consegna", "Data DDT"],
        "deliv_note": ["DDT n.", "Documento di trasporto"],
        "order_ref": ["Ns. rif.", "Commessa"],
        "reference": ["Riferimento", "Progetto"],
        "terms": ["Pagamento", "Condizioni di pagamento"],
        "billto": ["Spett.le", "Cliente", "Destinatario"],
        "shipto": ["Destinazione merce", "Luogo di consegna"],
        "from": ["Cedente"],
        "vat_id": ["P.IVA", "Partita IVA", "P. IVA"],
        "buyer_vat": ["P.IVA cliente"],
        "bank": ["Coordinate bancarie", "Banca d'appoggio"],
        "desc": ["Descrizione", "Descrizione articolo"],
        "qty": ["Q.tà", "Quantità"],
        "price": ["Prezzo unit.", "Prezzo", "Prezzo unitario"],
        "amount": ["Importo", "Totale", "Importo"],
        "pos": ["Cod.", "Rif."],
        "net": ["Imponibile", "Totale imponibile", "Totale merce"],
        "tax": ["IVA {r}%", "IVA {r} %", "Imposta ({r}%)"],
        "total": ["Totale documento", "Totale fattura", "Totale da pagare"],
        "total_plain": ["Totale documento", "Totale fattura"],
        "paid": ["Acconto versato", "Acconto ricevuto"],
        "due_amt": ["Netto a pagare", "Saldo da pagare"],
        "carried": ["A riportare"],
        "brought": ["Riporto"],
        "page": ["Pagina {p} di {n}", "Pag. {p}/{n}"],
        "continued": ["Segue alla pagina successiva"],
        "thanks": ["Grazie per la preferenza accordataci."],
        "netterms": ["Bonifico {d} gg d.f.", "Bonifico a {d} giorni data fattura"],
        "pay_text": ["Pagamento tramite bonifico bancario entro il {due}.", "Si prega di effettuare il pagamento entro il {due}."],
        "skonto": ["Sconto {p}% per pagamento entro il {d}: {a}"],
        "rc": ["Operazione non imponibile, inversione contabile (art. 7-ter DPR 633/72).", "Inversione contabile."],
        "email": ["E-mail", "PEC"],
        "phone": ["Tel.", "Tel"],
    },
}


def pick_labels(lang: str, rng: random.Random) -> dict:
    return {k: rng.choice(v) for k, v in LABELS[lang].items()}


# ---------------------------------------------------------------------------
# the invoice model
# ---------------------------------------------------------------------------

@dataclass
class Item:
    desc: str
    qty: Decimal
    unit: str
    price: Decimal
    amount: Decimal


@dataclass
class Inv:
    split: str
    seq: int
    family: str
    vendor: Vendor
    buyer: Entity
    opts: set
    doc: str = "invoice"           # invoice | credit_note
    number: str = ""
    date: dt.date = None
    due: dt.date | None = None
    due_mode: str = "printed"      # printed | terms (net N printed, no date) | none
    terms_days: int = 30
    po: str | None = None
    cust: str = ""
    deliv_date: dt.date | None = None
    deliv_note: str | None = None
    order_ref: str | None = None
    ref_invoice: str | None = None  # credit notes: the invoice credited
    reference: str | None = None    # a project / "Reference" value that is not a PO
    items: list = field(default_factory=list)
    rate: Decimal = D(0)
    reverse: bool = False
    net: Decimal = D(0)
    tax: Decimal = D(0)
    total: Decimal = D(0)
    paid: Decimal | None = None
    prev_balance: Decimal | None = None
    payment_recv: Decimal | None = None
    balance_fwd: Decimal | None = None
    amount_due: Decimal | None = None
    skonto: tuple | None = None    # (percent, date, amount)
    show_vat: bool = True
    show_iban: bool = True
    show_net_tax: bool = True
    numstyle: str = "us"
    mpat: str = "sym-pre"
    dstyle: str = "num"
    L: dict = field(default_factory=dict)
    rng: random.Random = None

    @property
    def v(self):
        return self.vendor

    @property
    def lang(self):
        return self.vendor.lang

    @property
    def locale(self):
        return self.vendor.locale

    @property
    def cur(self):
        return self.vendor.currency

    def n(self, x):
        return num(x, self.numstyle)

    def m(self, x, pattern=None):
        return money(x, self.cur, self.numstyle, pattern or self.mpat)

    def d(self, x, style=None):
        return fdate(x, self.locale, style or self.dstyle)

    def qty(self, it: Item):
        if it.qty == it.qty.to_integral_value():
            return str(int(it.qty))
        s = f"{it.qty:.2f}".rstrip("0")
        return s if self.numstyle in ("us", "ch", "chq") else s.replace(".", ",")

    def rate_str(self):
        s = f"{self.rate.normalize():f}"
        return s if self.numstyle in ("us", "ch", "chq") or self.lang == "en" else s.replace(".", ",")

    def tax_label(self):
        L = self.L
        if self.lang == "en":
            if self.locale == "en_US":
                return L["tax_us"].format(r=self.rate_str()) if self.rate else L["tax0_us"]
            return L["tax_gb"].format(r=self.rate_str())
        if self.locale == "de_CH":
            return self.rng.choice(LABELS["de"]["tax_ch"]).format(r=self.rate_str())
        if self.locale == "de_AT":
            return self.rng.choice(LABELS["de"]["tax_at"]).format(r=self.rate_str())
        return L["tax"].format(r=self.rate_str())

    def expected(self) -> dict:
        f = {"invoice_number": self.number, "invoice_date": self.date.isoformat(), "amount_total": f"{self.total:.2f}",
             "currency": self.cur, "vendor": self.v.name}
        if self.due_mode in ("printed", "terms") and self.due:
            f["due_date"] = self.due.isoformat()
        if self.show_net_tax:
            f["amount_net"] = f"{self.net:.2f}"
            f["amount_tax"] = f"{self.tax:.2f}"
        if self.amount_due is not None and self.amount_due != self.total:
            f["amount_due"] = f"{self.amount_due:.2f}"
        if self.po:
            f["po_number"] = self.po
        if self.show_vat and self.v.vat:
            f["vendor_vat_id"] = self.v.vat
        if self.show_iban and self.v.iban:
            f["iban"] = self.v.iban
        return f


REFERENCES = {"en": ["Warehouse refit", "Q3 maintenance", "Bristol site", "Project Atlas"],
              "de": ["Umbau Lager Süd", "Wartung Q3", "Projekt Hafen Nord"],
              "fr": ["Rénovation accueil", "Site de Vénissieux", "Projet Horizon"],
              "nl": ["Renovatie kantoor", "Locatie Waalhaven", "Project Noord"],
              "es": ["Reforma almacén", "Proyecto Norte"], "it": ["Ristrutturazione uffici", "Commessa Nord"]}


def rand_date(rng, lo=(1, 8), hi=(10, 30)) -> dt.date:
    a, b = dt.date(2026, *lo), dt.date(2026, *hi)
    while True:
        x = a + dt.timedelta(days=rng.randrange((b - a).days + 1))
        if x.weekday() < 5:
            return x


def make_items(inv: Inv, n: int):
    rng, v = inv.rng, inv.vendor
    pool = list(v.items)
    long_doc = n > len(pool)
    chosen = [rng.choice(pool) for _ in range(n)] if long_doc else rng.sample(pool, n)
    items = []
    for desc, unit, price, kind in chosen:
        price = D(price)
        if long_doc:  # long invoices: vary the lines so they differ
            price = q2(price * D(rng.choice(["0.9", "1", "1", "1.1", "1.25", "0.8"])))
            ref = rng.choice(["A", "B", "C", "K", "M", "S"]) + str(rng.randint(100, 999))
            desc = f"{desc} - {ref}" if inv.lang == "en" else f"{desc} – {ref}"
        qty = {"int": D(rng.randint(1, 12)), "big": D(rng.randint(10, 60)),
               "huge": D(rng.randint(40, 600) if long_doc else rng.randint(150, 2400)),
               "one": D(1), "hours": D(rng.choice(["1.5", "2", "3.5", "4", "6", "7.5", "8", "12", "16.25"]))}[kind]
        items.append(Item(desc, qty, unit, price, q2(qty * price)))
    return items


def po_for(inv: Inv) -> str:
    rng = inv.rng
    b = inv.buyer.key
    if b in ("DE", "CH", "NL", "IT", "ES"):
        return f"45000{rng.randint(10000, 99999)}"
    if b == "UK":
        return f"PO-{rng.randint(40000, 69999)}"
    if b == "US":
        return rng.choice([f"PO{rng.randint(700000, 799999)}", f"{rng.randint(7100, 7999)}"])
    return f"OC-PO-26-{rng.randint(1000, 1999)}"


def build_invoice(split, seq, family, vkey, opts, n_items=None, doc="invoice") -> Inv:
    v = VENDORS[vkey]
    assert v.split == split, (vkey, split)
    rng = random.Random(f"{split}-{seq}-{family}-{vkey}")
    inv = Inv(split, seq, family, v, OC[v.buyer], set(opts), doc=doc, rng=rng)
    inv.L = pick_labels(v.lang, rng)
    inv.numstyle = NUM_STYLE[v.locale]
    if v.locale == "fr_FR" and "frs" in opts:
        inv.numstyle = "frs"
    if v.locale == "de_CH" and "chq" in opts:
        inv.numstyle = "chq"
    inv.mpat = rng.choice(MONEY_PATTERNS[v.locale])
    inv.dstyle = next((o[3:] for o in opts if o.startswith("ds-")), None) or rng.choice(DATE_STYLES[v.locale])
    # number
    v.extra["nbase"] += rng.randint(3, 40)
    inv.number = v.numfmt.format(y=2026, yy=26, n=v.extra["nbase"])
    # dates
    if "ambig" in opts:
        while True:
            inv.date = rand_date(rng)
            if inv.date.day <= 12 and inv.date.day != inv.date.month:
                break
    else:
        inv.date = rand_date(rng)
    inv.terms_days = rng.choice(v.terms)
    inv.due = inv.date + dt.timedelta(days=inv.terms_days)
    if "ambig" in opts:  # keep the due date ambiguous too (day <= 12)
        for days in (30, 31, 29, 28, 32, 33, 27, 14, 21):
            cand = inv.date + dt.timedelta(days=days)
            if cand.day <= 12 and cand.day != cand.month:
                inv.terms_days, inv.due = days, cand
                break
    inv.due_mode = "terms" if "terms-only" in opts else "none" if "no-due" in opts else "printed"
    if inv.due_mode == "none":
        inv.due = None
    inv.deliv_date = inv.date - dt.timedelta(days=rng.randint(1, 9))
    inv.cust = v.extra["cust"]
    if rng.random() < 0.5:
        inv.deliv_note = {"de": "LS-", "fr": "BL", "nl": "PB", "es": "ALB-", "it": "DDT "}.get(v.lang, "DN") + str(rng.randint(20000, 89999))
    if rng.random() < 0.4:
        inv.order_ref = {"de": "AB-", "fr": "CDE", "nl": "ORD", "es": "PED", "it": "ORD"}.get(v.lang, "SO-") + str(rng.randint(10000, 49999))
    inv.po = None if "no-po" in opts else po_for(inv) if (rng.random() < 0.8 or "po" in opts) else None
    if rng.random() < 0.45:
        inv.reference = rng.choice(REFERENCES[v.lang])
    # items and sums
    n = n_items or rng.randint(1, len(v.items))
    inv.items = make_items(inv, n)
    if "discount" in opts:
        base = sum(i.amount for i in inv.items)
        pct = rng.choice([5, 10, 3])
        lbl = {"en": f"Discount {pct}%", "de": f"Rabatt {pct} %", "fr": f"Remise {pct} %", "nl": f"Korting {pct}%",
               "es": f"Descuento {pct} %", "it": f"Sconto {pct}%"}[v.lang]
        inv.items.append(Item(lbl, D(1), "", -q2(base * pct / 100), -q2(base * pct / 100)))
    inv.net = sum((i.amount for i in inv.items), D(0))
    inv.rate = D(v.rate)
    inv.reverse = v.country in EU and inv.buyer.country in EU and v.country != inv.buyer.country
    if inv.reverse:
        inv.rate = D(0)
    inv.tax = q2(inv.net * inv.rate / 100)
    inv.total = inv.net + inv.tax
    if "deposit" in opts:
        inv.paid = q2((inv.total * D(rng.choice(["0.3", "0.5", "0.25"]))).quantize(D(1)))
        inv.amount_due = inv.total - inv.paid
    if "balance" in opts:
        inv.prev_balance = q2(inv.total * D(rng.choice(["0.8", "1.1", "0.95"])))
        carry = "zero-bf" not in opts
        inv.payment_recv = inv.prev_balance - (q2(inv.prev_balance * D("0.4")) if carry else D(0))
        inv.balance_fwd = inv.prev_balance - inv.payment_recv
        inv.amount_due = inv.total + inv.balance_fwd
    if "skonto" in opts:
        pct = rng.choice([2, 3, 2])
        days = rng.choice([8, 10, 14])
        inv.skonto = (pct, inv.date + dt.timedelta(days=days), q2(inv.total * (100 - pct) / 100))
    inv.show_iban = bool(v.iban) and "no-iban" not in opts
    inv.show_vat = bool(v.vat) and "no-vat" not in opts
    inv.show_net_tax = "no-net" not in opts
    return inv


# ---------------------------------------------------------------------------
# PDF drawing: every label and every value is its own text object at its own x/y
# ---------------------------------------------------------------------------

FONTS = {"helv": ("Helvetica", "Helvetica-Bold"), "times": ("Times-Roman", "Times-Bold"), "courier": ("Courier", "Courier-Bold")}


class Pdf:
    def __init__(self, inv: Inv, pagesize=None, fonts="helv", compress=True, title=None):
        self.inv = inv
        self.buf = io.BytesIO()
        self.size = pagesize or (letter if inv.locale == "en_US" else A4)
        self.W, self.H = self.size
        self.c = canvas.Canvas(self.buf, pagesize=self.size, invariant=1, pageCompression=1 if compress else 0)
        self.c.setTitle(title or f"{inv.L['title'].title()} {inv.number}")
        self.c.setAuthor(inv.v.name)
        self.c.setCreator(inv.family + " invoice layout")
        self.c.setProducer("deskmail scripts/make-eval.py (reportlab)")
        self.reg, self.bold = FONTS[fonts]

    def t(self, x, y, s, size=9, bold=False, align="l", gray=0.0, font=None):
        s = str(s)
        if not s:
            return
        s.encode("cp1252")  # standard fonts, WinAnsiEncoding: anything else would not be drawn
        c = self.c
        c.setFont(font or (self.bold if bold else self.reg), size)
        c.setFillGray(gray)
        {"l": c.drawString, "r": c.drawRightString, "c": c.drawCentredString}[align](x, y, s)
        c.setFillGray(0)

    def width(self, s, size=9, bold=False):
        return stringWidth(s, self.bold if bold else self.reg, size)

    def fit(self, s, size, maxw, bold=True):
        while self.width(s, size, bold) > maxw and size > 7:
            size -= 0.5
        return size

    def hl(self, x1, x2, y, w=0.5, gray=0.0):
        c = self.c
        c.setStrokeGray(gray)
        c.setLineWidth(w)
        c.line(x1, y, x2, y)
        c.setStrokeGray(0)

    def vl(self, x, y1, y2, w=0.5, gray=0.0):
        c = self.c
        c.setStrokeGray(gray)
        c.setLineWidth(w)
        c.line(x, y1, x, y2)
        c.setStrokeGray(0)

    def rect(self, x, y, w, h, fill=None, stroke=True, lw=0.5, stroke_gray=0.0):
        c = self.c
        c.setLineWidth(lw)
        c.setStrokeGray(stroke_gray)
        if fill is not None:
            c.setFillGray(fill)
        c.rect(x, y, w, h, stroke=1 if stroke else 0, fill=1 if fill is not None else 0)
        c.setFillGray(0)
        c.setStrokeGray(0)

    def page(self):
        self.c.showPage()

    def data(self) -> bytes:
        self.c.save()
        return self.buf.getvalue()


COUNTRY_NAME = {
    "en": {"DE": "Germany", "GB": "United Kingdom", "US": "USA", "FR": "France", "NL": "Netherlands", "BE": "Belgium", "CH": "Switzerland", "AT": "Austria", "ES": "Spain", "IT": "Italy"},
    "de": {"DE": "Deutschland", "AT": "Österreich", "CH": "Schweiz"},
    "fr": {"FR": "France", "BE": "Belgique"},
    "nl": {"NL": "Nederland", "BE": "België"},
    "es": {"ES": "España"},
    "it": {"IT": "Italia"},
}


def seller_addr(inv: Inv, with_country=None) -> list:
    v = inv.v
    lines = [v.street, v.city]
    if with_country or (with_country is None and v.country != inv.buyer.country):
        lines.append(COUNTRY_NAME[inv.lang].get(v.country, COUNTRY_NAME["en"][v.country]))
    return lines


def seller_contact(inv: Inv) -> list:
    v, L = inv.v, inv.L
    return [f"{L['phone']} {v.phone}", f"{L['email']} {'billing' if v.lang == 'en' else 'info'}@{v.domain}", f"www.{v.domain}"]


def vat_line(inv: Inv) -> str:
    if not (inv.show_vat and inv.v.vat):
        return ""
    v = inv.v
    if v.country == "CH":
        return f"UID {v.vat_print}" if inv.rng.random() < 0.5 else v.vat_print
    return f"{inv.L['vat_id']} {v.vat_print}" if inv.lang != "en" or inv.rng.random() < 0.7 else f"VAT: {v.vat_print}"


def buyer_lines(inv: Inv, dept=True, vat=None) -> list:
    b = inv.buyer
    out = [b.name]
    if dept:
        out.append(b.dept)
    out += [l for l in b.lines if not (l in ("Deutschland", "France", "Nederland", "USA", "United Kingdom", "España", "Italia", "Schweiz")
                                          and inv.v.country == b.country)]
    if vat is None:
        vat = inv.reverse or inv.rng.random() < 0.35
    if vat and b.vat:
        lbl = inv.L.get("buyer_vat", "VAT No.")
        out.append(f"{lbl} {b.vat}" if b.country != "CH" else f"UID CHE-{b.vat[3:6]}.{b.vat[6:9]}.{b.vat[9:]}")
    return out


def bank_lines(inv: Inv, compact=False) -> list:
    v, L = inv.v, inv.L
    if v.country == "US":
        return [f"ACH / Wire: {L['routing']} {v.extra['routing']}", f"{L['acct_us']} {v.extra['account']}"]
    out = []
    if v.country == "GB":
        sort = v.iban[8:14]
        out.append(f"{v.bank[0]} · {L['sort']} {sort[:2]}-{sort[2:4]}-{sort[4:]} · {L['acct']} {v.iban[14:]}")
        if inv.show_iban:
            out.append(f"IBAN {iban_groups(v.iban)} · BIC {v.bank[2]}")
        return out
    if not inv.show_iban:
        return [v.bank[0]]
    ib = iban_groups(v.iban) if inv.rng.random() < 0.75 else v.iban
    if compact:
        return [f"{v.bank[0]} · IBAN {ib} · BIC {v.bank[2]}"]
    return [v.bank[0], f"IBAN {ib}", f"BIC {v.bank[2]}"]


def terms_text(inv: Inv) -> str:
    variants = [x for x in LABELS[inv.lang]["netterms"] if "fin de mois" not in x and len(x) <= 20]
    return inv.rng.choice(variants).format(d=inv.terms_days)


def header_fields(inv: Inv, order=("number", "date", "due", "po", "cust")) -> list:
    """(label, value) pairs for the document header, only those the document prints."""
    L = inv.L
    out = []
    for k in order:
        if k == "number":
            out.append((L["number"], inv.number))
        elif k == "date":
            out.append((L["date"], inv.d(inv.date)))
        elif k == "due":
            if inv.due_mode == "printed":
                out.append((L["due"], inv.d(inv.due)))
            elif inv.due_mode == "terms":
                out.append((L["terms"], terms_text(inv)))
        elif k == "po":
            if inv.po:
                out.append((L["po"], inv.po))
        elif k == "cust":
            out.append((L["cust"], inv.cust))
        elif k == "deliv_date":
            out.append((L["deliv_date"], inv.d(inv.deliv_date)))
        elif k == "deliv_note":
            if inv.deliv_note:
                out.append((L["deliv_note"], inv.deliv_note))
        elif k == "order_ref":
            if inv.order_ref:
                out.append((L["order_ref"], inv.order_ref))
        elif k == "reference":
            if inv.reference:
                out.append((L["reference"], inv.reference))
    return out


def total_label(inv: Inv) -> str:
    if inv.paid is not None or inv.balance_fwd is not None:
        return inv.L["total_plain"]
    return inv.L["total"]


def totals_rows(inv: Inv, cur_everywhere=False) -> list:
    """(label, value, bold) rows of the totals block, in print order."""
    f = inv.m if cur_everywhere else inv.n
    rows = []
    if inv.show_net_tax:
        rows.append((inv.L["net"], f(inv.net), False))
        rows.append((inv.tax_label(), f(inv.tax), False))
    rows.append((total_label(inv), inv.m(inv.total), True))
    if inv.paid is not None:
        rows.append((inv.L["paid"], f(-inv.paid), False))
        rows.append((inv.L["due_amt"], inv.m(inv.amount_due), True))
    if inv.balance_fwd is not None:
        L = inv.L
        rows.append((L["prev"], f(inv.prev_balance), False))
        rows.append((L["recv"], f(-inv.payment_recv), False))
        rows.append((L["bf"], f(inv.balance_fwd), False))
        rows.append((L["tot_amount_due"], inv.m(inv.amount_due), True))
    return rows


def notes_lines(inv: Inv) -> list:
    L, out = inv.L, []
    if inv.doc == "credit_note":
        return [L["thanks"]] + ([L["rc"]] if inv.reverse else [])
    if inv.due_mode == "printed" and inv.rng.random() < 0.6:
        out.append(L["pay_text"].format(due=inv.d(inv.due)))
    if inv.skonto:
        p, d, a = inv.skonto
        out.append(L["skonto"].format(p=p, d=inv.d(d), a=inv.m(a)))
    if inv.reverse:
        out.append(L["rc"])
    if inv.lang == "fr" and inv.v.country == "FR":
        if not inv.skonto:
            out.append(L["escompte_none"])
        out.append(L["penalty"])
    if inv.rng.random() < 0.5:
        out.append(L["thanks"])
    return out


def _protect_iban(text: str) -> str:
    """Keep a grouped IBAN on one line when wrapping."""
    import re
    return re.sub(r"IBAN ((?:[A-Z0-9]{4} )+[A-Z0-9]{1,4})", lambda m: "IBAN\x00" + m.group(1).replace(" ", "\x00"), text)


def wrap(pdf: Pdf, text: str, size: float, maxw: float) -> list:
    words, lines, cur = _protect_iban(text).split(" "), [], ""
    for w in words:
        cand = (cur + " " + w).strip()
        if pdf.width(cand.replace("\x00", " "), size) > maxw and cur:
            lines.append(cur)
            cur = w
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return [l.replace("\x00", " ") for l in lines]


def fit_column(pdf: Pdf, lines: list, size: float, maxw: float) -> float:
    """Largest size <= size at which every unbreakable token of the column fits maxw."""
    tokens = [t.replace("\x00", " ") for l in lines for t in _protect_iban(l).split(" ")]
    while size > 5 and any(pdf.width(t, size) > maxw for t in tokens):
        size -= 0.25
    return size


def item_cells(inv: Inv, it: Item, i: int) -> dict:
    return {"pos": str(i + 1), "desc": it.desc, "qty": inv.qty(it), "unit": it.unit, "qtyu": f"{inv.qty(it)} {it.unit}".strip(),
            "price": inv.n(it.price), "amount": inv.n(it.amount)}


def draw_items(pdf: Pdf, inv: Inv, cols: list, y: float, items: list, start_index=0, size=8.5, rowh=14,
               header_size=8, header_bold=True, header_fill=None, grid=False, x0=None, x1=None, header_gray=0.0):
    """cols: (key, label, x, align). Returns the y below the last row."""
    x0 = x0 if x0 is not None else cols[0][2] - 4
    x1 = x1 if x1 is not None else max(c[2] for c in cols) + 4
    if header_fill is not None:
        pdf.rect(x0, y - 4, x1 - x0, rowh + 1, fill=header_fill, stroke=grid)
    for key, label, x, al in cols:
        pdf.t(x, y, label, header_size, header_bold, al, gray=header_gray)
    if header_fill is None:
        pdf.hl(x0, x1, y - 5, 0.7)
    y -= rowh + 3
    for j, it in enumerate(items):
        cells = item_cells(inv, it, start_index + j)
        for key, label, x, al in cols:
            pdf.t(x, y, cells[key], size, False, al)
        if grid:
            pdf.hl(x0, x1, y - 5, 0.3, 0.5)
        y -= rowh
    if not grid:
        pdf.hl(x0, x1, y + rowh - 5, 0.5)
    return y


def draw_totals(pdf: Pdf, inv: Inv, rows: list, y: float, label_x: float, value_x: float, size=9, rowh=14,
                label_align="l", rule=True, bold_size=None):
    for i, (lbl, val, bold) in enumerate(rows):
        if bold and rule:
            pdf.hl(label_x if label_align == "l" else label_x - 120, value_x, y + rowh - 3, 0.8)
        sz = (bold_size or size + 1) if bold else size
        pdf.t(label_x, y, lbl, sz, bold, label_align)
        pdf.t(value_x, y, val, sz, bold, "r")
        y -= rowh
    return y


def draw_notes(pdf: Pdf, inv: Inv, y: float, x=40, size=8, maxw=None, lines=None):
    maxw = maxw or (pdf.W - 2 * x)
    for line in (lines if lines is not None else notes_lines(inv)):
        for part in wrap(pdf, line, size, maxw):
            pdf.t(x, y, part, size)
            y -= size + 3
    return y


def footer_columns(inv: Inv) -> list:
    v = inv.v
    col1 = [v.name] + seller_addr(inv, with_country=False)
    col2 = [l for l in [vat_line(inv), v.reg] if l]
    if v.country == "DE" and inv.rng.random() < 0.5:
        col2.append(f"{inv.L['steuernr']} {v.extra['steuernr']}")
    col3 = bank_lines(inv)
    return [col1, col2, col3]


def draw_footer(pdf: Pdf, inv: Inv, page=1, pages=1, y=70, size=7, page_label=True, rule=True):
    W = pdf.W
    if rule:
        pdf.hl(40, W - 40, y + 12, 0.4, 0.4)
    cols = footer_columns(inv)
    colw = (W - 80) / 3
    for j, col in enumerate(cols):
        sz = fit_column(pdf, col, size, colw - 8)
        i = 0
        for line in col:
            for part in wrap(pdf, line, sz, colw - 8):
                pdf.t(40 + j * colw, y - i * (sz + 2), part, sz, gray=0.25)
                i += 1
    if page_label:
        pdf.t(W / 2, 28, inv.L["page"].format(p=page, n=pages), 7, align="c", gray=0.3)



# ---------------------------------------------------------------------------
# layout families (PDF). dev: band, twocol, letter, widegap, multipage, account
#                         holdout: grid, fromto, summary, repeathead, rightlabels
# ---------------------------------------------------------------------------

def std_cols(inv: Inv, x_desc, x_qty, x_price, x_amount, pos_x=None, unit=False):
    L = inv.L
    cols = []
    if pos_x is not None:
        cols.append(("pos", L["pos"], pos_x, "l"))
    cols.append(("desc", L["desc"], x_desc, "l"))
    cols.append(("qtyu" if unit else "qty", L["qty"], x_qty, "r"))
    cols.append(("price", L["price"], x_price, "r"))
    cols.append(("amount", L["amount"], x_amount, "r"))
    return cols


def fam_band(inv: Inv) -> bytes:
    """Label-above-value: a shaded header band with the labels, the values in the row below."""
    pdf = Pdf(inv)
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    size = pdf.fit(v.name, 19, W - 240)
    pdf.t(40, H - 62, v.name, size, True)
    for i, line in enumerate(seller_addr(inv) + seller_contact(inv)[:2]):
        pdf.t(40, H - 78 - 11 * i, line, 8.5, gray=0.3)
    pdf.t(W - 40, H - 62, L["title"].upper(), 22, True, "r", gray=0.35)
    y = H - 170
    pdf.t(40, y, L["billto"].upper(), 7.5, True, gray=0.45)
    for i, line in enumerate(buyer_lines(inv)):
        pdf.t(40, y - 13 - 11.5 * i, line, 9.5, i == 0)
    fields = header_fields(inv, ("number", "date", "due", "reference", "po", "cust"))[:5]
    colon = ":" if inv.rng.random() < 0.5 else ""
    y = H - 290
    pdf.rect(40, y - 5, W - 80, 17, fill=0.87, stroke=False)
    colw = (W - 80) / len(fields)
    for i, (lbl, val) in enumerate(fields):
        x = 48 + i * colw
        pdf.t(x, y, lbl + colon, 7.5, True)
        pdf.t(x, y - 20, val, 9.5)
    y -= 62
    cols = std_cols(inv, 48, W - 230, W - 130, W - 48)
    y = draw_items(pdf, inv, cols, y, inv.items, header_fill=0.93, x0=40, x1=W - 40)
    y = draw_totals(pdf, inv, totals_rows(inv), y - 14, W - 250, W - 48)
    draw_notes(pdf, inv, y - 16, 48, 8, W - 96)
    draw_footer(pdf, inv, page_label=inv.rng.random() < 0.5)
    pdf.page()
    return pdf.data()


def fam_twocol(inv: Inv) -> bytes:
    """Seller block left, key/value block right with values right-aligned in their own column."""
    pdf = Pdf(inv, fonts="helv")
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    size = pdf.fit(v.name, 14, 250)
    pdf.t(40, H - 55, v.name, size, True)
    lines = seller_addr(inv) + seller_contact(inv)[:2] + [vat_line(inv)]
    for i, line in enumerate(l for l in lines if l):
        pdf.t(40, H - 70 - 11 * i, line, 8.5)
    kx, vx = W - 250, W - 40
    pdf.t(kx, H - 55, L["title"], 18, True)
    fields = header_fields(inv, ("number", "date", "deliv_date", "due", "po", "cust", "order_ref"))
    for i, (lbl, val) in enumerate(fields):
        yy = H - 78 - 14 * i
        pdf.t(kx, yy, lbl, 9, gray=0.25)
        pdf.t(vx, yy, val, 9, lbl == L["number"], "r")
    y = H - 200
    pdf.t(40, y, L["billto"] + ":", 8.5, True)
    for i, line in enumerate(buyer_lines(inv)):
        pdf.t(40, y - 13 - 11.5 * i, line, 9.5)
    y = H - 320
    cols = std_cols(inv, 70, W - 210, W - 120, W - 40, pos_x=40, unit=True)
    y = draw_items(pdf, inv, cols, y, inv.items)
    y = draw_totals(pdf, inv, totals_rows(inv, cur_everywhere=inv.rng.random() < 0.5), y - 12, kx, vx)
    draw_notes(pdf, inv, y - 14, 40, 8)
    bl = bank_lines(inv, compact=True)
    for i, line in enumerate(bl):
        pdf.t(W / 2, 62 - 10 * i, line, 7.5, align="c")
    pdf.t(W / 2, 62 + 10, " · ".join(x for x in [v.name, v.reg] if x), 7.5, align="c", gray=0.3)
    pdf.t(W - 40, 30, L["page"].format(p=1, n=1), 7, align="r")
    pdf.page()
    return pdf.data()


def fam_letter(inv: Inv) -> bytes:
    """Business letter (DIN 5008 like): sender line over the address window, the vendor's name top right,
    info block with 'Label: value' on one line, footer in four columns."""
    pdf = Pdf(inv, pagesize=A4, fonts=inv.rng.choice(["helv", "helv", "times"]))
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    size = pdf.fit(v.name, 16, 300)
    pdf.t(W - 50, H - 58, v.name, size, True, "r")
    for i, line in enumerate(seller_addr(inv) + seller_contact(inv)[:2]):
        pdf.t(W - 50, H - 74 - 10 * i, line, 8, align="r", gray=0.3)
    pdf.t(57, H - 140, f"{v.name} · {v.street} · {v.city}", 6.5, gray=0.2)
    pdf.hl(57, 57 + pdf.width(f"{v.name} · {v.street} · {v.city}", 6.5), H - 142, 0.3)
    for i, line in enumerate(buyer_lines(inv, dept=inv.rng.random() < 0.6)):
        pdf.t(57, H - 160 - 12 * i, line, 10)
    # info block: label and value on one line, value right after the colon
    fields = header_fields(inv, ("number", "date", "cust", "po", "deliv_date", "deliv_note", "due"))
    kx = 360
    tab = inv.rng.random() < 0.5
    for i, (lbl, val) in enumerate(fields):
        yy = H - 160 - 12.5 * i
        lab = lbl + ":"
        pdf.t(kx, yy, lab, 8.5)
        pdf.t(kx + (95 if tab else pdf.width(lab, 8.5) + 4), yy, val, 8.5)
    y = H - 290
    pdf.t(57, y, f"{L['title'].title() if inv.lang != 'en' else L['title']} {inv.number}", 12, True)
    y -= 26
    opening = {"de": "Sehr geehrte Damen und Herren, für unsere Lieferungen und Leistungen berechnen wir Ihnen:",
               "en": "Dear Sir or Madam, we invoice you for the following goods and services:",
               "fr": "Madame, Monsieur, veuillez trouver ci-dessous le détail de notre facturation :",
               "nl": "Geachte heer, mevrouw, hierbij brengen wij u het volgende in rekening:",
               "es": "Muy señores nuestros: les facturamos los siguientes conceptos:",
               "it": "Spett.le cliente, Vi addebitiamo quanto segue:"}[inv.lang]
    y = draw_notes(pdf, inv, y, 57, 9, W - 114, lines=[opening]) - 8
    cols = std_cols(inv, 85, W - 210, W - 125, W - 57, pos_x=57, unit=True)
    y = draw_items(pdf, inv, cols, y, inv.items, size=9)
    y = draw_totals(pdf, inv, totals_rows(inv), y - 10, W - 260, W - 57, rule=True)
    y = draw_notes(pdf, inv, y - 12, 57, 8.5, W - 114)
    pdf.t(57, y - 10, {"de": "Mit freundlichen Grüßen", "en": "Yours faithfully", "fr": "Cordialement",
                      "nl": "Met vriendelijke groet", "es": "Atentamente", "it": "Distinti saluti"}[inv.lang], 9)
    pdf.t(57, y - 24, v.person, 9)
    # four-column footer
    cols4 = [[v.name] + seller_addr(inv, with_country=False), seller_contact(inv), bank_lines(inv),
             [x for x in [vat_line(inv), v.reg] if x]]
    pdf.hl(57, W - 57, 82, 0.4)
    colw = (W - 114) / 4
    for j, col in enumerate(cols4):
        i = 0
        sz = fit_column(pdf, col, 6.3, colw - 6)
        for line in col:
            for part in wrap(pdf, line, sz, colw - 6):
                pdf.t(57 + j * colw, 72 - 8.5 * i, part, sz, gray=0.2)
                i += 1
    pdf.page()
    return pdf.data()


def fam_widegap(inv: Inv) -> bytes:
    """Centred letterhead; 'Label ........ value' rows: label at the left margin, value right-aligned at the page edge."""
    pdf = Pdf(inv, fonts="times")
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    size = pdf.fit(v.name, 20, W - 100)
    pdf.t(W / 2, H - 60, v.name, size, True, "c")
    pdf.t(W / 2, H - 76, " · ".join(seller_addr(inv)), 9, align="c")
    pdf.t(W / 2, H - 88, " · ".join(seller_contact(inv)[:2]), 9, align="c")
    pdf.hl(50, W - 50, H - 98, 1)
    pdf.t(50, H - 130, L["title"].upper(), 16, True)
    fields = header_fields(inv, ("number", "date", "due", "po", "cust"))
    y = H - 155
    for lbl, val in fields:
        pdf.t(50, y, lbl, 10)
        pdf.t(W - 50, y, val, 10, align="r")
        y -= 15
    y -= 10
    pdf.t(50, y, L["billto"], 10, True)
    for i, line in enumerate(buyer_lines(inv)):
        pdf.t(50, y - 14 - 12 * i, line, 10)
    y -= 14 + 12 * len(buyer_lines(inv, vat=False)) + 30
    pdf.t(50, y, L["desc"], 10, True)
    pdf.t(W - 50, y, L["amount"], 10, True, "r")
    pdf.hl(50, W - 50, y - 5, 0.6)
    y -= 20
    for it in inv.items:
        q = inv.qty(it)
        txt = it.desc if it.qty == 1 else f"{it.desc} ({q} x {inv.n(it.price)})"
        pdf.t(50, y, txt, 10)
        pdf.t(W - 50, y, inv.n(it.amount), 10, align="r")
        y -= 15
    pdf.hl(50, W - 50, y + 8, 0.6)
    y -= 10
    for lbl, val, bold in totals_rows(inv, cur_everywhere=True):
        pdf.t(50, y, lbl, 11 if bold else 10, bold)
        pdf.t(W - 50, y, val, 11 if bold else 10, bold, "r")
        y -= 16
    y = draw_notes(pdf, inv, y - 14, 50, 9, W - 100)
    y = 110
    for line in [x for x in [vat_line(inv), v.reg] if x] + bank_lines(inv, compact=True):
        pdf.t(W / 2, y, line, 8, align="c")
        y -= 11
    pdf.page()
    return pdf.data()


def paginate(n_items, cap_first, cap_next, totals_rows_needed):
    pages, i = [], 0
    cap = cap_first
    while i < n_items:
        take = min(cap, n_items - i)
        pages.append((i, i + take))
        i += take
        cap = cap_next
    last_start, last_end = pages[-1]
    cap_last = cap_first if len(pages) == 1 else cap_next
    if (last_end - last_start) + totals_rows_needed > cap_last:
        pages.append((n_items, n_items))
    return pages


def fam_multipage(inv: Inv) -> bytes:
    """Items over several pages, 'Carried forward' / 'Brought forward' subtotals, totals on the last page,
    'Page x of n' footers."""
    pdf = Pdf(inv, fonts="helv")
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    pages = paginate(len(inv.items), 24, 38, 9)
    n = len(pages)
    running = D(0)
    cols = std_cols(inv, 75, W - 200, W - 120, W - 45, pos_x=45)
    for p, (a, b) in enumerate(pages, start=1):
        if p == 1:
            size = pdf.fit(v.name, 17, 300)
            pdf.t(45, H - 55, v.name, size, True)
            for i, line in enumerate(seller_addr(inv) + [vat_line(inv)]):
                pdf.t(45, H - 70 - 10.5 * i, line, 8.5, gray=0.3)
            pdf.t(45, H - 150, L["billto"], 8, True, gray=0.4)
            for i, line in enumerate(buyer_lines(inv)):
                pdf.t(45, H - 162 - 11 * i, line, 9.5)
            pdf.t(W - 45, H - 55, L["title"], 18, True, "r")
            fields = header_fields(inv, ("number", "date", "due", "po", "cust", "deliv_note"))
            for i, (lbl, val) in enumerate(fields):
                pdf.t(W - 230, H - 150 - 13 * i, lbl, 8.5)
                pdf.t(W - 45, H - 150 - 13 * i, val, 8.5, align="r")
            y = H - 290
        else:
            pdf.t(45, H - 50, v.name, 10, True)
            pdf.t(W - 45, H - 50, f"{L['number']} {inv.number}", 9, align="r")
            y = H - 90
            pdf.t(W - 45, y, f"{L['brought']}: {inv.n(running)}", 8.5, True, "r")
            y -= 22
        if b > a:
            y = draw_items(pdf, inv, cols, y, inv.items[a:b], start_index=a, rowh=13.5)
            running += sum((it.amount for it in inv.items[a:b]), D(0))
        if p < n:
            pdf.t(W - 45, y - 6, f"{L['carried']}: {inv.n(running)}", 8.5, True, "r")
            pdf.t(45, y - 6, L["continued"], 7.5, gray=0.4)
        else:
            y = draw_totals(pdf, inv, totals_rows(inv), y - 14, W - 260, W - 45)
            draw_notes(pdf, inv, y - 14, 45, 8, W - 90)
        draw_footer(pdf, inv, p, n, y=62)
        pdf.page()
    return pdf.data()


def fam_account(inv: Inv) -> bytes:
    """Utility/SaaS style account summary: previous balance, payment received, balance forward,
    current charges; the grand total of THIS invoice is 'Total current charges'."""
    pdf = Pdf(inv, fonts="helv")
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    size = pdf.fit(v.name, 16, 300)
    pdf.t(40, H - 55, v.name, size, True)
    for i, line in enumerate(seller_addr(inv) + seller_contact(inv)[:1]):
        pdf.t(40, H - 70 - 10.5 * i, line, 8.5, gray=0.3)
    fields = header_fields(inv, ("cust", "number", "date", "due", "po"))
    for i, (lbl, val) in enumerate(fields):
        pdf.t(W - 230, H - 55 - 13 * i, lbl, 8.5, gray=0.3)
        pdf.t(W - 40, H - 55 - 13 * i, val, 8.5, True, "r")
    y = H - 160
    pdf.t(40, y, L["billto"], 8, True, gray=0.4)
    for i, line in enumerate(buyer_lines(inv, vat=False)):
        pdf.t(40, y - 12 - 11 * i, line, 9.5)
    # summary box
    bx, by, bw = W - 280, H - 290, 240
    rows = [(L["prev"], inv.n(inv.prev_balance)), (L["recv"], inv.n(-inv.payment_recv)),
            (L["bf"], inv.n(inv.balance_fwd)), (L["cur_charges"], inv.n(inv.total)),
            (L["tot_amount_due"], inv.m(inv.amount_due))]
    pdf.rect(bx, by - 4, bw, 16 * len(rows) + 10, fill=0.95)
    for i, (lbl, val) in enumerate(rows):
        yy = by + 16 * (len(rows) - 1 - i) + 2
        last = i == len(rows) - 1
        pdf.t(bx + 8, yy, lbl, 9, last)
        pdf.t(bx + bw - 8, yy, val, 9, last, "r")
    if inv.due_mode == "printed":
        pdf.t(bx + 8, by - 18, f"{L['due']}: {inv.d(inv.due)}", 8.5, True)
    y = H - 350
    pdf.t(40, y, L["cur_charges"], 11, True)
    y -= 22
    cols = std_cols(inv, 40, W - 210, W - 125, W - 40)
    y = draw_items(pdf, inv, cols, y, inv.items)
    rows = []
    if inv.show_net_tax:
        rows += [(L["net"], inv.n(inv.net), False), (inv.tax_label(), inv.n(inv.tax), False)]
    rows.append((L["tot_cur"], inv.m(inv.total), True))
    y = draw_totals(pdf, inv, rows, y - 12, W - 280, W - 40)
    draw_notes(pdf, inv, y - 14, 40, 8)
    draw_footer(pdf, inv, page_label=False)
    pdf.page()
    return pdf.data()


def fam_grid(inv: Inv) -> bytes:
    """Holdout. Big title left, vendor block right-aligned; header fields in bordered cells (small label
    in the top of the cell, value below); bill-to/ship-to boxes; fully ruled item grid; totals box."""
    pdf = Pdf(inv, fonts="helv")
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    pdf.t(40, H - 70, L["title"].upper(), 28, True, gray=0.2)
    size = pdf.fit(v.name, 13, 280)
    pdf.t(W - 40, H - 50, v.name, size, True, "r")
    for i, line in enumerate(seller_addr(inv) + seller_contact(inv)[:2] + [vat_line(inv)]):
        pdf.t(W - 40, H - 64 - 10 * i, line, 8, align="r")
    fields = header_fields(inv, ("date", "number", "cust", "po", "reference", "due"))
    if len(fields) > 5:
        fields = [f for f in fields if f[0] != inv.L["cust"]]
    y = H - 185
    cw = (W - 80) / len(fields)
    for i, (lbl, val) in enumerate(fields):
        x = 40 + i * cw
        pdf.rect(x, y - 14, cw, 34)
        pdf.t(x + 5, y + 11, lbl.upper(), 6.5, True, gray=0.35)
        pdf.t(x + 5, y - 6, val, 10)
    y -= 40
    bh = 80
    pdf.rect(40, y - bh, (W - 90) / 2, bh)
    pdf.rect(50 + (W - 90) / 2, y - bh, (W - 90) / 2, bh)
    pdf.t(46, y - 12, L["billto"].upper(), 7, True, gray=0.35)
    for i, line in enumerate(buyer_lines(inv, dept=False)):
        pdf.t(46, y - 25 - 10.5 * i, line, 9)
    pdf.t(56 + (W - 90) / 2, y - 12, L["shipto"].upper(), 7, True, gray=0.35)
    for i, line in enumerate([inv.buyer.name] + SHIP_TO[inv.buyer.key]):
        pdf.t(56 + (W - 90) / 2, y - 25 - 10.5 * i, line, 9)
    y -= bh + 30
    cols = std_cols(inv, 75, W - 215, W - 125, W - 46, pos_x=46)
    top = y + 13
    y = draw_items(pdf, inv, cols, y, inv.items, header_fill=0.85, grid=True, x0=40, x1=W - 40, rowh=16)
    for x in (68, W - 260, W - 180, W - 120):
        pdf.vl(x, y + 11, top)
    pdf.rect(40, y + 11, W - 80, top - y - 11, stroke=True)
    rows = totals_rows(inv, cur_everywhere=True)
    bx, bw, rh = W - 250, 210, 17
    by = y - 10 - rh * len(rows)
    pdf.rect(bx, by, bw, rh * len(rows))
    for i, (lbl, val, bold) in enumerate(rows):
        yy = by + rh * (len(rows) - 1 - i)
        if bold:
            pdf.rect(bx, yy, bw, rh, fill=0.9)
        pdf.t(bx + 6, yy + 5, lbl, 9, bold)
        pdf.t(bx + bw - 6, yy + 5, val, 9, bold, "r")
        pdf.hl(bx, bx + bw, yy, 0.3)
    draw_notes(pdf, inv, by - 20, 40, 8, W - 80)
    pdf.rect(40, 40, W - 80, 48)
    for i, line in enumerate(bank_lines(inv, compact=True) + [v.reg]):
        pdf.t(48, 76 - 11 * i, line, 7.5)
    pdf.page()
    return pdf.data()


def fam_fromto(inv: Inv) -> bytes:
    """Holdout. 'From' and 'Bill to' boxes on the left, a right-hand column where each label sits above
    its value; the vendor is in the From box (and the footer), not in a letterhead."""
    pdf = Pdf(inv, fonts="helv")
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    pdf.t(40, H - 60, L["title"], 24, True)
    y = H - 100
    for title, lines in ((L["from"], [v.name] + seller_addr(inv) + [vat_line(inv)]),
                         (L["billto"], buyer_lines(inv))):
        lines = [l for l in lines if l]
        h = 18 + 11.5 * len(lines)
        pdf.rect(40, y - h, 280, h, stroke_gray=0.6)
        pdf.t(48, y - 12, title.upper(), 7, True, gray=0.45)
        for i, line in enumerate(lines):
            pdf.t(48, y - 25 - 11.5 * i, line, 9.5 if i else 10.5, i == 0)
        y -= h + 14
    rx = W - 200
    ry = H - 100
    fields = header_fields(inv, ("number", "date", "due", "po"))
    for lbl, val in fields:
        pdf.t(rx, ry, lbl, 7.5, gray=0.45)
        pdf.t(rx, ry - 13, val, 11)
        ry -= 32
    pdf.rect(rx - 8, ry - 22, 168, 38, fill=0.92, stroke=False)
    due_val = inv.amount_due if inv.amount_due is not None else inv.total
    lbl = L["due_amt"] if inv.paid is not None else L["tot_amount_due"] if inv.balance_fwd is not None else total_label(inv)
    pdf.t(rx, ry + 2, lbl, 7.5, gray=0.35)
    pdf.t(rx, ry - 14, inv.m(due_val), 13, True)
    y = min(y, ry - 40) - 10
    cols = std_cols(inv, 40, W - 210, W - 125, W - 40)
    y = draw_items(pdf, inv, cols, y, inv.items, header_gray=0.4)
    y = draw_totals(pdf, inv, totals_rows(inv), y - 10, W - 250, W - 40)
    y = draw_notes(pdf, inv, y - 14, 40, 8)
    pdf.hl(40, W - 40, 74, 0.3, 0.5)
    pdf.t(40, 62, f"{v.name} · {v.reg}", 7, gray=0.3)
    for i, line in enumerate(bank_lines(inv, compact=True)):
        pdf.t(40, 51 - 10 * i, line, 7, gray=0.3)
    pdf.page()
    return pdf.data()


def fam_summary(inv: Inv) -> bytes:
    """Holdout. Billing-platform style: title, key/value list (values in a second column), three address
    blocks, an 'X due <date>' headline, items, Subtotal / Total excluding tax / tax / Total / Amount paid /
    Amount due."""
    pdf = Pdf(inv, fonts="helv")
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    pdf.t(40, H - 60, L["title"].title(), 20, True)
    pdf.t(W - 40, H - 60, v.name, pdf.fit(v.name, 11, 260), True, "r")
    fields = header_fields(inv, ("number", "date", "due", "po"))
    for i, (lbl, val) in enumerate(fields):
        pdf.t(40, H - 90 - 13 * i, lbl, 8.5, gray=0.35)
        pdf.t(150, H - 90 - 13 * i, val, 8.5)
    y = H - 100 - 13 * len(fields) - 20
    blocks = [[v.name] + seller_addr(inv) + [v.phone, vat_line(inv)], [L["billto"]] + buyer_lines(inv, dept=False)]
    for j, lines in enumerate(blocks):
        for i, line in enumerate(l for l in lines if l):
            pdf.t(40 + j * 200, y - 11 * i, line, 8.5, i == 0 and j == 0 or (j == 1 and i == 0))
    y -= 11 * max(len(b) for b in blocks) + 25
    headline_amt = inv.amount_due if inv.amount_due is not None else inv.total
    wd = {"en": "due", "de": "fällig am", "fr": "à payer avant le", "nl": "te betalen vóór", "es": "a pagar antes del", "it": "da pagare entro il"}[inv.lang]
    if inv.due_mode == "printed":
        pdf.t(40, y, f"{inv.m(headline_amt)} {wd} {inv.d(inv.due)}", 15, True)
    else:
        pdf.t(40, y, inv.m(headline_amt), 15, True)
    y -= 34
    cols = std_cols(inv, 40, W - 210, W - 125, W - 40)
    y = draw_items(pdf, inv, cols, y, inv.items, header_gray=0.45, header_bold=False)
    en = inv.lang == "en"
    tr = {"en": ("Total excluding tax", "Amount paid", "Amount due"), "de": ("Summe ohne Steuer", "Bezahlt", "Fälliger Betrag"),
          "fr": ("Total hors taxes", "Montant payé", "Montant dû"), "nl": ("Totaal zonder btw", "Betaald bedrag", "Verschuldigd bedrag"),
          "es": ("Total sin impuestos", "Importe pagado", "Importe adeudado"), "it": ("Totale imponibile", "Importo pagato", "Importo dovuto")}[inv.lang]
    rows = []
    if inv.show_net_tax:
        rows.append((L["net"], inv.m(inv.net), False))
        rows.append((tr[0], inv.m(inv.net), False))
        on = {"en": "on", "de": "auf", "fr": "sur", "nl": "over", "es": "sobre", "it": "su"}[inv.lang]
        rows.append((f"{inv.tax_label()} {on} {inv.m(inv.net)}" if not en or inv.rate else inv.tax_label(), inv.m(inv.tax), False))
    rows.append((L["total_plain"], inv.m(inv.total), False))
    if inv.balance_fwd is not None:
        rows.append((L["prev"], inv.m(inv.prev_balance), False))
        rows.append((L["recv"], inv.m(-inv.payment_recv), False))
        rows.append((L["bf"], inv.m(inv.balance_fwd), False))
    rows.append((tr[1], inv.m(-(inv.paid or D(0))), False))
    rows.append((tr[2], inv.m(inv.amount_due if inv.amount_due is not None else inv.total), True))
    y = draw_totals(pdf, inv, rows, y - 12, W - 300, W - 40, rule=False, bold_size=10)
    draw_notes(pdf, inv, y - 12, 40, 8)
    foot = [inv.number, inv.m(headline_amt)]
    if inv.due_mode == "printed":
        foot[-1] += f" {wd} {inv.d(inv.due)}"
    for i, line in enumerate(bank_lines(inv, compact=True)):
        pdf.t(40, 60 - 10 * i, line, 7.5, gray=0.3)
    pdf.t(40, 30, " · ".join(foot), 7.5, gray=0.3)
    pdf.t(W - 40, 30, L["page"].format(p=1, n=1), 7.5, align="r", gray=0.3)
    pdf.page()
    return pdf.data()


def fam_repeathead(inv: Inv) -> bytes:
    """Holdout. Multi-page; the full letterhead and a one-line 'Label: value   Label: value' strip repeat on
    every page; 'Übertrag'-style carried sums; totals on the last page."""
    pdf = Pdf(inv, fonts="times")
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    pages = paginate(len(inv.items), 30, 30, 8)
    n = len(pages)
    running = D(0)
    cols = std_cols(inv, 80, W - 200, W - 120, W - 45, pos_x=48, unit=True)
    fields = header_fields(inv, ("number", "date", "cust", "po"))
    for p, (a, b) in enumerate(pages, start=1):
        size = pdf.fit(v.name, 18, 330)
        pdf.t(45, H - 52, v.name, size, True)
        pdf.t(45, H - 66, " | ".join(seller_addr(inv) + seller_contact(inv)[:1]), 8, gray=0.3)
        pdf.t(W - 45, H - 52, L["title"].upper(), 14, True, "r")
        pdf.t(W - 45, H - 66, L["page"].format(p=p, n=n), 8, align="r")
        pdf.hl(45, W - 45, H - 74, 1.2)
        x = 45
        for lbl, val in fields:
            lab = lbl + ":"
            pdf.t(x, H - 90, lab, 8.5, True)
            pdf.t(x + pdf.width(lab, 8.5, True) + 3, H - 90, val, 8.5)
            x += pdf.width(lab, 8.5, True) + pdf.width(val, 8.5) + 18
        pdf.hl(45, W - 45, H - 97, 0.4)
        if p == 1:
            pdf.t(45, H - 118, L["billto"] + ":", 9, True)
            for i, line in enumerate(buyer_lines(inv)):
                pdf.t(45, H - 131 - 11 * i, line, 9.5)
            y = H - 230
            if inv.due_mode == "printed":
                pdf.t(W - 45, H - 118, f"{L['due']}: {inv.d(inv.due)}", 9, True, "r")
            elif inv.due_mode == "terms":
                pdf.t(W - 45, H - 118, f"{L['terms']}: {terms_text(inv)}", 9, True, "r")
        else:
            y = H - 125
            pdf.t(W - 45, y, f"{L['brought']} {inv.n(running)}", 9, align="r")
            y -= 20
        if b > a:
            y = draw_items(pdf, inv, cols, y, inv.items[a:b], start_index=a, rowh=13.5, size=9)
            running += sum((it.amount for it in inv.items[a:b]), D(0))
        if p < n:
            pdf.t(W - 45, y - 6, f"{L['carried']} {inv.n(running)}", 9, align="r")
        else:
            y = draw_totals(pdf, inv, totals_rows(inv, cur_everywhere=True), y - 14, W - 280, W - 45)
            draw_notes(pdf, inv, y - 14, 45, 8.5, W - 90)
        draw_footer(pdf, inv, p, n, y=60, page_label=False)
        pdf.page()
    return pdf.data()


def fam_rightlabels(inv: Inv) -> bytes:
    """Holdout. ERP form: letterhead with a rule; header labels right-aligned against a colon column,
    values left-aligned after it; item grid with material numbers; totals with right-aligned labels."""
    pdf = Pdf(inv, fonts=inv.rng.choice(["times", "helv"]))
    W, H, L, v = pdf.W, pdf.H, inv.L, inv.v
    size = pdf.fit(v.name, 18, W - 100)
    pdf.t(45, H - 55, v.name, size, True)
    pdf.hl(45, W - 45, H - 63, 2)
    pdf.t(45, H - 76, " - ".join(seller_addr(inv) + seller_contact(inv)[:1]), 7.5)
    for i, line in enumerate(buyer_lines(inv, dept=True)):
        pdf.t(45, H - 130 - 12 * i, line, 10)
    pdf.t(W - 45, H - 110, L["title"].upper(), 15, True, "r")
    fields = header_fields(inv, ("number", "date", "order_ref", "po", "cust", "deliv_note", "due"))
    cx = W - 160
    for i, (lbl, val) in enumerate(fields):
        yy = H - 135 - 13 * i
        pdf.t(cx, yy, lbl + ":", 9, align="r")
        pdf.t(cx + 8, yy, val, 9, lbl == L["number"])
    y = H - 135 - 13 * len(fields) - 35
    cols = std_cols(inv, 80, W - 200, W - 120, W - 45, pos_x=45, unit=True)
    y = draw_items(pdf, inv, cols, y, inv.items, header_fill=0.9, x0=42, x1=W - 42)
    tx = W - 150
    for lbl, val, bold in totals_rows(inv):
        pdf.t(tx, y - 12, lbl, 9.5, bold, "r")
        pdf.t(W - 45, y - 12, val, 9.5, bold, "r")
        y -= 14
    y = draw_notes(pdf, inv, y - 26, 45, 8, W - 90)
    draw_footer(pdf, inv, y=66, page_label=inv.rng.random() < 0.5)
    pdf.page()
    return pdf.data()


# ---------------------------------------------------------------------------
# invoices in the mail body (no PDF): HTML tables and plain text
# ---------------------------------------------------------------------------

def h(s: str) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def body_numstyle(inv: Inv):
    """In mail bodies French amounts are grouped with U+202F (or a plain space)."""
    if inv.numstyle == "fr":
        inv.numstyle = "frn" if "frs" not in inv.opts else "frs"


def html_kv(inv: Inv) -> str:
    """Dev. Letterhead row, a two-column label/value table, bill-to, item table with thead/tfoot."""
    body_numstyle(inv)
    L, v = inv.L, inv.v
    td = 'style="padding:4px 8px;border-bottom:1px solid #e4e4e4"'
    out = ['<!DOCTYPE html>', '<html><head><meta charset="utf-8"><title>' + h(f"{L['title'].title()} {inv.number}") + '</title></head>',
           '<body style="font-family:Arial,Helvetica,sans-serif;font-size:13px;color:#222;background:#f5f5f5">',
           '<table width="660" align="center" cellpadding="0" cellspacing="0" style="background:#fff;padding:24px">',
           '<tr><td>',
           '<table width="100%" cellpadding="0" cellspacing="0"><tr>',
           f'<td style="font-size:22px;font-weight:bold">{h(v.name)}</td>',
           f'<td align="right" style="font-size:20px;color:#888;letter-spacing:2px">{h(L["title"].upper())}</td></tr>',
           f'<tr><td style="color:#666;font-size:12px">{"<br>".join(h(x) for x in seller_addr(inv) + seller_contact(inv)[:1])}</td><td></td></tr></table>',
           '<br>',
           '<table width="100%" cellpadding="0" cellspacing="0"><tr><td valign="top" width="50%">',
           f'<div style="font-size:11px;color:#888;text-transform:uppercase">{h(L["billto"])}</div>',
           "<br>".join(h(x) for x in buyer_lines(inv)),
           '</td><td valign="top" width="50%">',
           '<table width="100%" cellpadding="0" cellspacing="0">']
    for lbl, val in header_fields(inv, ("number", "date", "due", "po", "cust")):
        out.append(f'<tr><td style="color:#666;padding:2px 0">{h(lbl)}</td><td align="right" style="padding:2px 0">{h(val)}</td></tr>')
    out += ['</table></td></tr></table>', '<br>',
            '<table width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse">',
            '<thead><tr style="background:#f0f0f0">',
            f'<th align="left" {td}>{h(L["desc"])}</th><th align="right" {td}>{h(L["qty"])}</th>'
            f'<th align="right" {td}>{h(L["price"])}</th><th align="right" {td}>{h(L["amount"])}</th></tr></thead><tbody>']
    for it in inv.items:
        out.append(f'<tr><td {td}>{h(it.desc)}</td><td align="right" {td}>{h(inv.qty(it))}</td>'
                   f'<td align="right" {td}>{h(inv.n(it.price))}</td><td align="right" {td}>{h(inv.n(it.amount))}</td></tr>')
    out.append('</tbody><tfoot>')
    for lbl, val, bold in totals_rows(inv):
        st = "font-weight:bold;" if bold else ""
        out.append(f'<tr><td colspan="3" align="right" style="{st}padding:4px 8px">{h(lbl)}</td>'
                   f'<td align="right" style="{st}padding:4px 8px">{h(val)}</td></tr>')
    out.append('</tfoot></table>')
    for line in notes_lines(inv):
        out.append(f'<p style="font-size:12px">{h(line)}</p>')
    foot = [v.name, vat_line(inv), v.reg] + bank_lines(inv, compact=True)
    out.append('<p style="font-size:11px;color:#888;border-top:1px solid #ddd;padding-top:8px">' + "<br>".join(h(x) for x in foot if x) + '</p>')
    out += ['</td></tr></table>', '</body></html>']
    return "\n".join(out) + "\n"


def html_above(inv: Inv) -> str:
    """Holdout. Header labels in one table row, the values in the row below (same columns);
    seller and buyer side by side; totals in a separate right-aligned table."""
    body_numstyle(inv)
    L, v = inv.L, inv.v
    out = ['<html>', '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>',
           '<body style="font-family:Verdana,sans-serif;font-size:12px">',
           f'<h2 style="margin:0">{h(v.name)}</h2>',
           f'<div style="color:#555">{h(" · ".join(seller_addr(inv)))}</div>',
           f'<h3 style="margin-top:24px">{h(L["title"].title())}</h3>',
           '<table cellspacing="0" cellpadding="6" border="1" style="border-collapse:collapse;border-color:#bbb">',
           '<tr style="background:#eee">']
    fields = header_fields(inv, ("number", "date", "due", "po", "cust"))
    out += [f'<th align="left">{h(l)}</th>' for l, _ in fields]
    out += ['</tr>', '<tr>'] + [f'<td>{h(val)}</td>' for _, val in fields] + ['</tr>', '</table>', '<br>',
            '<table width="600" cellspacing="0" cellpadding="0"><tr>',
            f'<td valign="top" width="300"><b>{h(L["from"])}</b><br>' + "<br>".join(h(x) for x in [v.name] + seller_addr(inv) + [vat_line(inv)] if x) + '</td>',
            f'<td valign="top" width="300"><b>{h(L["billto"])}</b><br>' + "<br>".join(h(x) for x in buyer_lines(inv)) + '</td>',
            '</tr></table>', '<br>',
            '<table width="600" cellspacing="0" cellpadding="5" style="border-top:2px solid #333">',
            f'<tr><td><b>{h(L["desc"])}</b></td><td align="right"><b>{h(L["qty"])}</b></td><td align="right"><b>{h(L["price"])}</b></td><td align="right"><b>{h(L["amount"])}</b></td></tr>']
    for it in inv.items:
        out.append(f'<tr><td>{h(it.desc)}</td><td align="right">{h(inv.qty(it))}</td><td align="right">{h(inv.n(it.price))}</td><td align="right">{h(inv.n(it.amount))}</td></tr>')
    out += ['</table>', '<table width="600" cellspacing="0" cellpadding="4" style="border-top:1px solid #333"><tr><td width="340"></td><td>',
            '<table width="100%" cellspacing="0" cellpadding="3">']
    for lbl, val, bold in totals_rows(inv, cur_everywhere=True):
        b1, b2 = ("<b>", "</b>") if bold else ("", "")
        out.append(f'<tr><td>{b1}{h(lbl)}{b2}</td><td align="right">{b1}{h(val).replace(" ", "&nbsp;", 1) if inv.mpat in ("sym-pre-sp", "code-pre") else h(val)}{b2}</td></tr>')
    out += ['</table>', '</td></tr></table>']
    for line in notes_lines(inv):
        out.append(f'<p>{h(line)}</p>')
    out.append('<hr><small>' + "<br>".join(h(x) for x in [v.reg] + bank_lines(inv, compact=True) if x) + '</small>')
    out += ['</body>', '</html>']
    return "\n".join(out) + "\n"


def text_dotted(inv: Inv) -> str:
    """Dev. Plain-text invoice: 'Label .....: value' header, fixed-width item lines."""
    body_numstyle(inv)
    L, v = inv.L, inv.v
    out = [v.name, ", ".join(seller_addr(inv))]
    vl = vat_line(inv)
    if vl:
        out.append(vl)
    out += ["", L["title"].upper(), ""]
    fields = header_fields(inv, ("number", "date", "due", "po", "cust"))
    w = max(len(l) for l, _ in fields) + 4
    for lbl, val in fields:
        out.append(f"{(lbl + ' ').ljust(w, '.')}: {val}")
    out += ["", f"{L['billto']}:"] + ["  " + x for x in buyer_lines(inv)] + [""]
    out.append(f"{L['desc']:<46}{L['qty']:>10}  {L['price']:>17}  {L['amount']:>13}")
    out.append("-" * 90)
    for it in inv.items:
        out.append(f"{it.desc:<46}{inv.qty(it):>10}  {inv.n(it.price):>17}  {inv.n(it.amount):>13}")
    out.append("-" * 90)
    for lbl, val, bold in totals_rows(inv, cur_everywhere=True):
        out.append(f"{lbl + ':':>66}{val:>24}")
    out.append("")
    out += notes_lines(inv)
    out += ["", L["bank"] + ":"] + ["  " + x for x in bank_lines(inv)] + ["", v.reg]
    return "\n".join(out) + "\n"


def text_boxed(inv: Inv) -> str:
    """Holdout. Plain text with an ASCII-ruled header: labels in one row, values in the row below."""
    body_numstyle(inv)
    L, v = inv.L, inv.v
    out = [v.name, " · ".join(seller_addr(inv)), vat_line(inv), "", f"*** {L['title'].upper()} ***", ""]
    fields = header_fields(inv, ("number", "date", "due", "po"))
    cw = max(max(len(l), len(val)) for l, val in fields) + 2
    rule = "+" + "+".join("-" * cw for _ in fields) + "+"
    out += [rule, "|" + "|".join(f" {l:<{cw - 1}}" for l, _ in fields) + "|",
            "|" + "|".join(f" {val:<{cw - 1}}" for _, val in fields) + "|", rule, ""]
    out += [L["billto"].upper()] + buyer_lines(inv) + [""]
    for it in inv.items:
        out.append(f"{inv.qty(it):>7} x {it.desc:<46} @ {inv.n(it.price):>10} = {inv.n(it.amount):>11}")
    out.append("")
    for lbl, val, bold in totals_rows(inv, cur_everywhere=True):
        out.append(f"{lbl.upper() if bold else lbl:<30}{val:>20}")
    out += [""] + notes_lines(inv) + [""] + bank_lines(inv, compact=True) + [v.reg]
    return "\n".join(x for x in out if x is not None) + "\n"


# ---------------------------------------------------------------------------
# scanned invoices: a JPEG page image, no text layer at all
# ---------------------------------------------------------------------------

def scan_pdf(inv: Inv, angle: float) -> bytes:
    W, H = 827, 1169  # A4 at 100 dpi
    img = Image.new("L", (W, H), 246)
    dr = ImageDraw.Draw(img)
    fontdir = pathlib.Path(canvas.__file__).resolve().parent.parent / "fonts"  # Bitstream Vera, shipped with reportlab
    f = {s: ImageFont.truetype(str(fontdir / "Vera.ttf"), s) for s in (13, 15, 17)}
    f[30] = ImageFont.truetype(str(fontdir / "VeraBd.ttf"), 28)
    L, v = inv.L, inv.v
    dr.text((70, 60), v.name, fill=20, font=f[30])
    for i, line in enumerate(seller_addr(inv) + [vat_line(inv)]):
        dr.text((70, 104 + 20 * i), line, fill=50, font=f[13])
    for i, line in enumerate(buyer_lines(inv)):
        dr.text((70, 230 + 21 * i), line, fill=30, font=f[15])
    dr.text((520, 230), L["title"].upper(), fill=20, font=f[30])
    for i, (lbl, val) in enumerate(header_fields(inv, ("number", "date", "due", "po"))):
        dr.text((520, 285 + 22 * i), lbl, fill=40, font=f[13])
        dr.text((760, 285 + 22 * i), val, fill=20, font=f[13], anchor="ra")
    y = 450
    dr.line((70, y + 22, 760, y + 22), fill=60, width=2)
    dr.text((70, y), L["desc"], fill=20, font=f[15])
    dr.text((760, y), L["amount"], fill=20, font=f[15], anchor="ra")
    y += 34
    for it in inv.items:
        dr.text((70, y), f"{inv.qty(it)} x {it.desc}"[:70], fill=30, font=f[15])
        dr.text((760, y), inv.n(it.amount), fill=30, font=f[15], anchor="ra")
        y += 26
    dr.line((70, y + 4, 760, y + 4), fill=60, width=1)
    y += 16
    for lbl, val, bold in totals_rows(inv, cur_everywhere=True):
        dr.text((420, y), lbl, fill=20, font=f[17 if bold else 15])
        dr.text((760, y), val, fill=20, font=f[17 if bold else 15], anchor="ra")
        y += 28
    for i, line in enumerate(bank_lines(inv, compact=True)):
        dr.text((70, 1060 + 20 * i), line, fill=60, font=f[13])
    rng = random.Random(f"scan-{inv.split}-{inv.seq}")
    for _ in range(1800):  # toner specks and paper noise
        x, yy = rng.randrange(W), rng.randrange(H)
        g = rng.randrange(40, 200)
        dr.point((x, yy), fill=g)
        if rng.random() < 0.2:
            dr.point((x + 1, yy), fill=g)
    for x in range(0, W, 1):  # a faint copier streak
        if rng.random() < 0.6:
            dr.point((x, 700), fill=225)
    img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=250)
    jpg = io.BytesIO()
    img.save(jpg, "JPEG", quality=55)
    jpg.seek(0)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setCreator("Scanner ScanSnap-ish iX1600 (simulated)")
    c.setProducer("deskmail scripts/make-eval.py (reportlab)")
    c.drawImage(ImageReader(jpg), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    c.save()
    return buf.getvalue()


# ---------------------------------------------------------------------------
# MIME
# ---------------------------------------------------------------------------

def sha(s: str) -> str:
    import hashlib
    return hashlib.sha1(s.encode()).hexdigest()


def addr(name: str, email: str) -> str:
    if not name:
        return email
    return formataddr((name, email), charset="utf-8")


def hdr_text(s: str) -> str:
    if all(ord(c) < 128 for c in s):
        return s
    return Header(s, "utf-8").encode(maxlinelen=76, linesep="\n")


@dataclass
class Part:
    ctype: str
    content: object = None          # str or bytes for leaves
    parts: list = None              # for multipart
    cte: str | None = None
    charset: str = "utf-8"
    filename: str | None = None
    disposition: str | None = None
    extra: list = field(default_factory=list)
    boundary: str = ""
    params: str = ""


def text(body: str, subtype="plain", cte=None, charset="utf-8", **kw) -> Part:
    return Part(f"text/{subtype}", body, cte=cte, charset=charset, **kw)


def attachment(data: bytes, filename: str, ctype="application/pdf", disposition="attachment") -> Part:
    return Part(ctype, data, cte="base64", filename=filename, disposition=disposition)


def multi(subtype: str, parts: list, boundary: str, params="") -> Part:
    return Part(f"multipart/{subtype}", parts=parts, boundary=boundary, params=params)


def _fname_params(name: str, key: str) -> str:
    if all(ord(c) < 128 for c in name):
        return f'{key}="{name}"'
    from urllib.parse import quote
    return f"{key}*=utf-8''{quote(name, safe='')}"


def render_part(p: Part) -> list:
    lines = []
    if p.parts is not None:
        lines.append(f'Content-Type: {p.ctype}; boundary="{p.boundary}"{p.params}')
        lines += p.extra
        lines.append("")
        if p.ctype == "multipart/mixed":
            lines.append("This is a multi-part message in MIME format.")
            lines.append("")
        for sub in p.parts:
            lines.append(f"--{p.boundary}")
            lines += render_part(sub)
            lines.append("")
        lines.append(f"--{p.boundary}--")
        return lines
    if p.ctype.startswith("text/"):
        raw = p.content if isinstance(p.content, bytes) else p.content.encode(p.charset)
        cte = p.cte or ("7bit" if all(b < 128 for b in raw) else "quoted-printable")
        ct = f"Content-Type: {p.ctype}; charset={p.charset}"
        if p.filename:
            ct += "; " + _fname_params(p.filename, "name")
        lines.append(ct)
    else:
        raw = p.content
        cte = p.cte or "base64"
        ct = f"Content-Type: {p.ctype}"
        if p.filename:
            ct += "; " + _fname_params(p.filename, "name")
        lines.append(ct)
    lines.append(f"Content-Transfer-Encoding: {cte}")
    if p.disposition:
        d = p.disposition
        if p.filename:
            d += "; " + _fname_params(p.filename, "filename")
        lines.append(f"Content-Disposition: {d}")
    lines += p.extra
    lines.append("")
    if cte == "base64":
        lines += base64.encodebytes(raw).decode("ascii").rstrip("\n").split("\n")
    elif cte == "quoted-printable":
        lines += quopri.encodestring(raw).decode("ascii").rstrip("\n").split("\n")
    else:
        lines += raw.decode(p.charset).rstrip("\n").split("\n")
    return lines


def message(headers: list, root: Part, crlf: bool) -> bytes:
    lines = []
    for k, v in headers:
        lines.append(f"{k}: {v}")
    lines.append("MIME-Version: 1.0")
    lines += render_part(root)
    out = "\n".join(lines) + "\n"
    if crlf:
        out = out.replace("\n", "\r\n")
    return out.encode("utf-8")


def tz_offset(d: dt.date, zone: str) -> int:
    """Minutes east of UTC for 2026 (EU: 29 Mar - 25 Oct summer time; US: 8 Mar - 1 Nov)."""
    eu_summer = dt.date(2026, 3, 29) <= d < dt.date(2026, 10, 25)
    us_summer = dt.date(2026, 3, 8) <= d < dt.date(2026, 11, 1)
    return {"cet": 60 + 60 * eu_summer, "uk": 60 * eu_summer, "utc": 0, "us-e": -300 + 60 * us_summer,
            "us-c": -360 + 60 * us_summer, "us-p": -480 + 60 * us_summer}[zone]


def zone_for(v: Vendor) -> str:
    if v.country == "GB":
        return "uk"
    if v.country == "US":
        return {"IL": "us-c", "TX": "us-c", "NE": "us-c", "CA": "us-p", "WA": "us-p"}.get(v.city.split(",")[-1].split()[0], "us-e")
    return "cet"


def when(d: dt.date, zone: str, rng: random.Random, hours=(7, 18)) -> dt.datetime:
    while d.weekday() >= 5:
        d += dt.timedelta(days=1)
    t = dt.datetime(d.year, d.month, d.day, rng.randint(*hours), rng.randrange(60), rng.randrange(60),
                    tzinfo=dt.timezone(dt.timedelta(minutes=tz_offset(d, zone))))
    return t


def rfcdate(t: dt.datetime) -> str:
    return format_datetime(t)


# ---------------------------------------------------------------------------
# invoice mails
# ---------------------------------------------------------------------------

PLATFORMS = {
    "dev": [("InvoiceCloud Notifications", "no-reply@invoicecloud.example", "en", "invoicecloud"),
            ("Zerotab", "messaging-service@post.zerotab.example", "en", "zerotab"),
            ("Quillbooks", "quillbooks@notification.quillbooks.example", "en", "quillbooks"),
            ("Rechnungsportal", "noreply@rechnungsportal.example", "de", "rechnungsportal"),
            ("Facturio", "ne-pas-repondre@facturio.example", "fr", "facturio"),
            ("Factuurmaat", "noreply@factuurmaat.example", "nl", "factuurmaat")],
    "holdout": [("BillFlow Notifications", "notifications@billflow.example", "en", "billflow"),
                ("Ledgerline", "no-reply@mail.ledgerline.example", "en", "ledgerline"),
                ("Sendrechnung", "versand@sendrechnung.example", "de", "sendrechnung"),
                ("Facturelle", "noreply@facturelle.example", "fr", "facturelle"),
                ("Fattura Facile", "noreply@fatturafacile.example", "it", "fatturafacile"),
                ("Facturame", "no-reply@facturame.example", "es", "facturame")],
}

GENERIC_SENDERS = {
    "en": [("Billing", "billing"), ("Accounts Receivable", "ar"), ("noreply", "noreply"), ("Invoices", "invoices"), ("Accounts", "accounts")],
    "de": [("Buchhaltung", "buchhaltung"), ("Rechnungsversand", "rechnung"), ("noreply", "noreply"), ("Billing", "billing")],
    "fr": [("Comptabilité", "compta"), ("Service Facturation", "facturation"), ("noreply", "noreply")],
    "nl": [("Facturatie", "facturatie"), ("Administratie", "administratie"), ("noreply", "noreply")],
    "es": [("Administración", "administracion"), ("Facturación", "facturacion"), ("noreply", "noreply")],
    "it": [("Amministrazione", "amministrazione"), ("Fatturazione", "fatturazione"), ("noreply", "noreply")],
}

OWN_LOCAL = {"en": "invoices", "de": "rechnung", "fr": "factures", "nl": "facturen", "es": "facturas", "it": "fatture"}

SUBJECTS = {
    "own": {"en": ["Invoice {num} from {vname}", "{vname} - Invoice {num}", "Invoice {num}"],
            "de": ["Rechnung {num}", "Ihre Rechnung {num} von {vname}"],
            "fr": ["Facture {num}", "{vname} - Facture n° {num}"],
            "nl": ["Factuur {num}", "Factuur {num} van {vname}"],
            "es": ["Factura {num}", "Factura {num} - {vname}"],
            "it": ["Fattura n. {num}", "Invio fattura {num} - {vname}"]},
    "generic": {"en": ["Invoice", "Your invoice", "Invoice attached", "Invoice {num}", "New invoice"],
                "de": ["Rechnung", "Ihre Rechnung", "Rechnung {num}", "Neue Rechnung"],
                "fr": ["Facture", "Votre facture", "Facture n° {num}"],
                "nl": ["Factuur", "Uw factuur", "Factuur {num}"],
                "es": ["Factura", "Su factura", "Factura {num}"],
                "it": ["Fattura", "Invio fattura", "Fattura n. {num}"]},
    "platform": {"en": ["You have received a new invoice", "New invoice available", "Invoice {num}", "Your invoice is ready"],
                 "de": ["Neue Rechnung verfügbar", "Sie haben eine neue Rechnung erhalten"],
                 "fr": ["Nouvelle facture disponible", "Vous avez reçu une nouvelle facture"],
                 "nl": ["Nieuwe factuur ontvangen"],
                 "es": ["Nueva factura disponible"],
                 "it": ["Nuova fattura disponibile"]},
}

GENERIC_BODIES = {
    "en": ["Dear Sir or Madam,\n\nPlease find attached our invoice.\n\n{nums}If you have any questions, please reply to this email.\n\nKind regards\n{sign}\n",
           "Hello,\n\nYour invoice is attached as a PDF. Thank you for your business!\n\n{nums}{sign}\n",
           "Hi,\n\nAttached is your latest invoice. Please forward it to your accounts team if you are not the right contact.\n\n{nums}Thanks,\n{sign}\n"],
    "de": ["Sehr geehrte Damen und Herren,\n\nanbei erhalten Sie unsere Rechnung als PDF-Dokument.\n\n{nums}Mit freundlichen Grüßen\n{sign}\n",
           "Guten Tag,\n\nim Anhang finden Sie Ihre aktuelle Rechnung. Bei Fragen stehen wir Ihnen gerne zur Verfügung.\n\n{nums}Freundliche Grüße\n{sign}\n"],
    "fr": ["Madame, Monsieur,\n\nVeuillez trouver ci-joint notre facture.\n\n{nums}Nous restons à votre disposition pour toute question.\n\nCordialement,\n{sign}\n",
           "Bonjour,\n\nVous trouverez en pièce jointe votre facture au format PDF.\n\n{nums}Bien cordialement,\n{sign}\n"],
    "nl": ["Geachte heer/mevrouw,\n\nBijgaand ontvangt u onze factuur.\n\n{nums}Met vriendelijke groet,\n{sign}\n",
           "Beste relatie,\n\nIn de bijlage vindt u de factuur. Voor vragen kunt u contact met ons opnemen.\n\n{nums}Met vriendelijke groet,\n{sign}\n"],
    "es": ["Estimados señores:\n\nAdjuntamos nuestra factura en formato PDF.\n\n{nums}Quedamos a su disposición para cualquier consulta.\n\nUn saludo,\n{sign}\n"],
    "it": ["Gentile cliente,\n\nin allegato trasmettiamo la fattura in formato PDF.\n\n{nums}Restiamo a disposizione per qualsiasi chiarimento.\n\nCordiali saluti,\n{sign}\n"],
}

PLATFORM_BODIES = {
    "invoicecloud": "Hello,\n\nA new invoice has been issued to your account and is attached to this message as a PDF.\n\n{nums}To see your billing history, sign in at https://portal.invoicecloud.example/.\n\nThis is an automated message from InvoiceCloud. Please do not reply to this email.\n",
    "zerotab": "Hi,\n\nHere's your invoice! We appreciate your prompt payment.\n\n{nums}View and pay online now: https://in.zerotab.example/{token}\n\nThanks,\nAccounts team\n",
    "quillbooks": "Dear Customer,\n\nYour invoice is attached. Please remit payment at your earliest convenience.\n\n{nums}Thank you for your business - we appreciate it very much.\n\nSincerely,\nAccounts\n\n--\nSent with Quillbooks. Quillbooks is a trademark of Quillbooks Example Inc.\n",
    "rechnungsportal": "Guten Tag,\n\nSie haben eine neue Rechnung erhalten. Die Rechnung finden Sie im Anhang als PDF.\n\n{nums}Diese E-Mail wurde automatisch über Rechnungsportal versendet. Bitte antworten Sie nicht auf diese Nachricht.\n",
    "facturio": "Bonjour,\n\nUne nouvelle facture vous a été adressée. Vous la trouverez en pièce jointe.\n\n{nums}Ce message a été envoyé automatiquement par Facturio, merci de ne pas y répondre.\n",
    "factuurmaat": "Beste klant,\n\nEr staat een nieuwe factuur voor u klaar. De factuur is als PDF bijgevoegd.\n\n{nums}Dit bericht is automatisch verzonden via Factuurmaat. U kunt niet op deze e-mail reageren.\n",
    "billflow": "Hello,\n\nYou have a new invoice. The PDF copy is attached.\n\n{nums}Pay online: https://pay.billflow.example/i/{token}\n\nBillFlow sends invoices on behalf of businesses that use our service. Replies to this address are not monitored.\n",
    "ledgerline": "Good day,\n\nPlease see the attached invoice.\n\n{nums}Kind regards,\nAccounts\n\nSent via Ledgerline - online accounting for small business.\n",
    "sendrechnung": "Hallo,\n\nanbei übermitteln wir Ihnen eine Rechnung. Das PDF befindet sich im Anhang dieser E-Mail.\n\n{nums}Versendet mit Sendrechnung. Antworten an diese Adresse werden nicht gelesen.\n",
    "facturelle": "Bonjour,\n\nVotre facture est disponible en pièce jointe.\n\n{nums}Envoyé avec Facturelle. Merci de ne pas répondre à ce message.\n",
    "fatturafacile": "Gentile cliente,\n\nLe inviamo in allegato una nuova fattura.\n\n{nums}Messaggio generato automaticamente da Fattura Facile, si prega di non rispondere.\n",
    "facturame": "Estimado cliente:\n\nLe enviamos adjunta una nueva factura.\n\n{nums}Mensaje enviado automáticamente por Facturame. Por favor, no responda a este correo.\n",
}

NUMS = {"en": ("Invoice {num} for {amt} is due on {due}.", "Invoice {num} for {amt}."),
        "de": ("Rechnung {num} über {amt}, fällig am {due}.", "Rechnung {num} über {amt}."),
        "fr": ("Facture {num} d'un montant de {amt}, échéance le {due}.", "Facture {num} d'un montant de {amt}."),
        "nl": ("Factuur {num} van {amt}, te betalen vóór {due}.", "Factuur {num} van {amt}."),
        "es": ("Factura {num} por importe de {amt}, vencimiento {due}.", "Factura {num} por importe de {amt}."),
        "it": ("Fattura n. {num} di {amt}, scadenza {due}.", "Fattura n. {num} di {amt}.")}

FILE_STEM = {"en": ["Invoice_{num}", "INV_{num}", "invoice-{num}"], "de": ["Rechnung_{num}", "RE_{num}"], "fr": ["Facture_{num}", "facture-{num}"],
             "nl": ["Factuur_{num}", "factuur-{num}"], "es": ["Factura_{num}"], "it": ["Fattura_{num}", "FT_{num}"]}

LANGTAG = {"en_US": "en-us", "en_GB": "en-gb", "de_DE": "de", "de_AT": "de-at", "de_CH": "de-ch", "fr_FR": "fr", "fr_BE": "fr-be",
           "nl_NL": "nl", "nl_BE": "nl-be", "es_ES": "es", "it_IT": "it"}

TO_AP = addr("Ourcompany Accounts Payable", "ap@ourcompany.example")
TO_AR = addr("Ourcompany Accounts Receivable", "ar@ourcompany.example")


def nums_line(inv: Inv, bodynums: bool, body_lang: str) -> str:
    if not bodynums or inv.amount_due is not None:
        return ""
    lang = body_lang if body_lang == inv.lang else "en"  # English platform text: the document's own number/date formats
    with_due, no_due = NUMS[lang]
    if inv.due_mode == "printed":
        return with_due.format(num=inv.number, amt=inv.m(inv.total), due=inv.d(inv.due)) + "\n\n"
    return no_due.format(num=inv.number, amt=inv.m(inv.total)) + "\n\n"


def invoice_mail(inv: Inv, kind: str, name: str):
    """kind: pdf | html | plain | scan. Returns (bytes, expected-dict)."""
    rng = random.Random("mail-" + name)
    v, lang = inv.v, inv.lang
    r = rng.random()
    style = "own" if r < 0.25 else "generic" if r < 0.68 or kind == "scan" else "platform"
    if "sender-own" in inv.opts:
        style = "own"
    if "sender-platform" in inv.opts:
        style = "platform"
    zone = zone_for(v)
    reply_to = None
    if style == "own":
        frm = addr(v.name, f"{OWN_LOCAL[lang]}@{v.domain}")
        sign = f"{v.person}\n{v.name}"
        mid_dom = v.domain
    elif style == "generic":
        disp, local = rng.choice(GENERIC_SENDERS[lang])
        frm = addr(disp, f"{local}@{v.domain}")
        sign = disp if disp != "noreply" else {"en": "Accounts team", "de": "Ihre Buchhaltung", "fr": "Le service comptabilité",
                                               "nl": "De administratie", "es": "Departamento de administración", "it": "Ufficio amministrazione"}[lang]
        mid_dom = v.domain
    else:
        cands = [p for p in PLATFORMS[inv.split] if p[2] == lang] or [p for p in PLATFORMS[inv.split] if p[2] == "en"]
        disp, email, plang, pkey = rng.choice(cands)
        frm = addr(disp, email)
        zone = "utc"
        mid_dom = email.split("@")[1]
        if rng.random() < 0.5:
            reply_to = addr(GENERIC_SENDERS[lang][0][0], f"{GENERIC_SENDERS[lang][0][1]}@{v.domain}")
    bodynums = rng.random() < 0.25 and kind == "pdf"
    subj_style = style
    subj = rng.choice(SUBJECTS[subj_style][lang if style != "platform" else plang])
    if "{num}" in subj and kind == "scan":
        subj = SUBJECTS["generic"][lang][0]
    subject = subj.format(num=inv.number, vname=v.name)
    t = when(inv.date + dt.timedelta(days=rng.choice([0, 0, 1, 2])), zone, rng)
    headers = [("From", frm), ("To", TO_AP), ("Date", rfcdate(t)), ("Subject", hdr_text(subject)),
               ("Message-ID", f"<{sha(name)[:20]}@{mid_dom}>")]
    if reply_to:
        headers.append(("Reply-To", reply_to))
    if style == "platform" or (style == "generic" and "noreply" in frm):
        headers.append(("Auto-Submitted", "auto-generated"))
    b1, b2 = f"=_{sha(name + 'b1')[:16]}", f"=_{sha(name + 'b2')[:16]}"
    expected = {"category": "ap.invoice", "fields": inv.expected()}
    cte_choice = rng.choice([None, None, "8bit", "base64"])
    if kind in ("pdf", "scan"):
        if style == "platform":
            body = PLATFORM_BODIES[pkey].format(nums=nums_line(inv, bodynums, plang), token=sha(name)[:12])
        else:
            tmpl = rng.choice(GENERIC_BODIES[lang])
            if kind == "scan":
                tmpl = tmpl.replace("{nums}", {"en": "(scanned copy)\n\n", "de": "(Scan)\n\n", "fr": "(copie scannée)\n\n",
                                               "nl": "(gescande kopie)\n\n", "es": "(copia escaneada)\n\n", "it": "(copia scansionata)\n\n"}[lang])
            body = tmpl.format(nums=nums_line(inv, bodynums, lang), sign=sign)
        if kind == "scan":
            data = scan_pdf(inv, rng.choice([0.4, -0.7, 1.1, -1.5]) if inv.split == "dev" else rng.choice([2.2, -2.6]))
            fname = f"SCAN_{inv.date:%Y%m%d}_{rng.randint(700, 1859):04d}.pdf"
            expected = {"category": "ap.invoice", "fields": {}, "no_text_layer": True}
        else:
            data = FAMILIES[inv.family](inv)
            stem = rng.choice(FILE_STEM[lang] if style != "platform" or rng.random() < 0.5 else ["{num}", "document"])
            fname = stem.format(num=inv.number.replace("/", "-").replace(" ", "_")) + ".pdf"
            if lang == "fr" and rng.random() < 0.3:
                fname = f"Facture_n°_{inv.number.replace('/', '-')}.pdf"
        ctype = "application/pdf" if rng.random() < 0.85 else "application/octet-stream"
        textpart = text(body, cte=cte_choice)
        if rng.random() < 0.25:  # some mailers add an HTML alternative of the short note
            html = "<html><body><p>" + h(body.strip()).replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p></body></html>\n"
            textpart = multi("alternative", [textpart, text(html, "html")], b2)
        root = multi("mixed", [textpart, attachment(data, fname, ctype)], b1)
    elif kind == "html":
        html = (html_kv if inv.split == "dev" else html_above)(inv)
        if rng.random() < 0.55:
            root = multi("alternative", [text((text_dotted if inv.split == "dev" else text_boxed)(inv), cte=cte_choice), text(html, "html")], b1)
        else:
            root = text(html, "html", cte=rng.choice([None, "base64"]))
        expected = {"category": "ap.invoice", "fields": inv.expected()}
    else:  # plain
        body = {"en": "Dear customer,\n\nplease find our invoice below.\n\n", "de": "Sehr geehrte Damen und Herren,\n\nnachfolgend unsere Rechnung:\n\n",
                "fr": "Madame, Monsieur,\n\nveuillez trouver ci-dessous notre facture.\n\n", "nl": "Geachte heer/mevrouw,\n\nhieronder onze factuur.\n\n",
                "es": "Estimados señores:\n\na continuación les remitimos nuestra factura.\n\n", "it": "Gentile cliente,\n\ndi seguito la nostra fattura.\n\n"}[lang]
        body += (text_dotted if inv.split == "dev" else text_boxed)(inv)
        root = text(body, cte=cte_choice)
        expected = {"category": "ap.invoice", "fields": inv.expected()}
    crlf = rng.random() < 0.5
    return message(headers, root, crlf), expected


FAMILIES = {"band": fam_band, "twocol": fam_twocol, "letter": fam_letter, "widegap": fam_widegap, "multipage": fam_multipage,
            "account": fam_account, "grid": fam_grid, "fromto": fam_fromto, "summary": fam_summary, "repeathead": fam_repeathead,
            "rightlabels": fam_rightlabels}


# ---------------------------------------------------------------------------
# the invoice plans: (family, vendor, options). Families never cross splits; vendors never cross splits.
# ---------------------------------------------------------------------------

DEV_INVOICES = [
    ("band", "muster", ""), ("band", "thames", ""), ("band", "dumont", ""), ("band", "vdberg", ""),
    ("band", "lakeshore", "ambig ds-num"), ("band", "ebro", ""), ("band", "bianchi", ""), ("band", "brandt", "skonto"),
    ("band", "greenway", "deposit"), ("band", "girard", ""), ("band", "hollands", ""), ("band", "summitcloud", "no-po"),
    ("band", "levante", "ds-long"),
    ("twocol", "nordlicht", ""), ("twocol", "pennine", "ambig ds-num"), ("twocol", "moreau", ""), ("twocol", "devries", "discount"),
    ("twocol", "redwood", ""), ("twocol", "adriatica", ""), ("twocol", "weber", "skonto"), ("twocol", "kestrel", "ds-dash-mon"),
    ("twocol", "bretonne", "deposit"), ("twocol", "cleanway", ""), ("twocol", "janssens", ""), ("twocol", "bergmann", "chq"),
    ("twocol", "hansen", "ds-long"),
    ("letter", "vogt", "skonto"), ("letter", "muster", "terms-only"), ("letter", "hansen", ""), ("letter", "bergmann", ""),
    ("letter", "dumont", "skonto"), ("letter", "lumiere", ""), ("letter", "vdberg", "deposit"), ("letter", "ebro", ""),
    ("letter", "bianchi", "skonto"), ("letter", "thames", "ds-long"), ("letter", "girard", "ds-long"), ("letter", "devries", "no-po"),
    ("letter", "nordlicht", "deposit"),
    ("widegap", "kestrel", ""), ("widegap", "lakeshore", "ds-abbr"), ("widegap", "summitcloud", "terms-only"), ("widegap", "moreau", "frs"),
    ("widegap", "hollands", "discount"), ("widegap", "levante", ""), ("widegap", "adriatica", "ds-long"), ("widegap", "brandt", ""),
    ("widegap", "pennine", "ds-dash-mon"), ("widegap", "janssens", "deposit"),
    ("multipage", "muster", ""), ("multipage", "greenway", ""), ("multipage", "bretonne", ""), ("multipage", "vdberg", "skonto"),
    ("multipage", "lakeshore", ""), ("multipage", "bianchi", ""), ("multipage", "brandt", "deposit"), ("multipage", "girard", ""),
    ("account", "summitcloud", "balance"), ("account", "redwood", "balance zero-bf"), ("account", "greenway", "balance"),
    ("account", "thames", "balance zero-bf"), ("account", "cleanway", "balance"), ("account", "devries", "balance"),
    ("html", "weber", ""), ("html", "kestrel", "deposit"), ("html", "dumont", ""), ("html", "vdberg", ""),
    ("html", "cleanway", "ambig ds-num"), ("html", "adriatica", ""), ("html", "hansen", "skonto"),
    ("plain", "brandt", ""), ("plain", "redwood", ""), ("plain", "moreau", "frs"), ("plain", "levante", "no-due"),
    ("scan", "nordlicht", ""), ("scan", "pennine", ""), ("scan", "lumiere", ""),
]

HOLDOUT_INVOICES = [
    ("grid", "rheinland", "skonto"), ("grid", "cotswold", "ambig ds-num"), ("grid", "caron", "discount"), ("grid", "zeeland", ""),
    ("grid", "prairie", ""), ("grid", "guadalquivir", "no-due"), ("grid", "ceramiche", ""),
    ("fromto", "fischer", ""), ("fromto", "clyde", "deposit"), ("fromto", "aubert", ""), ("fromto", "groenewoud", ""),
    ("fromto", "bluewater", ""), ("fromto", "cantabrica", "ds-long"),
    ("summary", "bluewater", "deposit"), ("summary", "zuercher", ""), ("summary", "granite", "ambig ds-num balance"),
    ("summary", "provencale", ""), ("summary", "claes", ""), ("summary", "cotswold", "ds-long"),
    ("repeathead", "elbe", ""), ("repeathead", "prairie", "terms-only"), ("repeathead", "aubert", "skonto"),
    ("repeathead", "zeeland", "deposit"), ("repeathead", "ferraristudio", ""),
    ("rightlabels", "alpenblick", ""), ("rightlabels", "rheinland", "terms-only"), ("rightlabels", "clyde", "ds-dash-mon"),
    ("rightlabels", "ceramiche", "skonto"), ("rightlabels", "fischer", "deposit"),
    ("html", "granite", "discount"), ("html", "groenewoud", "balance"), ("html", "caron", ""),
    ("plain", "zuercher", "chq"), ("plain", "cantabrica", ""),
    ("scan", "elbe", ""), ("scan", "ferraristudio", ""),
]

LONG_FAMILIES = {"multipage": (30, 66), "repeathead": (34, 70)}


def build_invoice_mails(split: str, plan: list, out: dict):
    for seq, (family, vkey, opts) in enumerate(plan, start=1):
        opts = set(opts.split())
        n_items = None
        if family in LONG_FAMILIES:
            lo, hi = LONG_FAMILIES[family]
            n_items = random.Random(f"n-{split}-{seq}").randint(lo, hi)
        kind = family if family in ("html", "plain", "scan") else "pdf"
        inv = build_invoice(split, seq, family, vkey, opts, n_items=n_items)
        name = f"ap/inv-{LANGTAG[inv.locale]}-{family}-{seq:03d}.eml"
        data, exp = invoice_mail(inv, kind, f"{split}/{name}")
        traps = set(opts) & {"skonto", "deposit", "balance", "ambig", "terms-only", "no-due", "discount"}
        if inv.reverse:
            traps.add("reverse-charge")
        if inv.L["amount"].split()[0] in ("Total", "Gesamt", "Totaal", "Totale", "Summe", "Gesamtpreis") and kind != "scan":
            traps.add("total-column-header")
        if inv.balance_fwd is not None and inv.balance_fwd == 0:
            traps.discard("balance")
            traps.add("balance-zero")
        out[name] = (data, exp, {"kind": "invoice", "family": family, "lang": LANGTAG[inv.locale], "vendor": vkey, "traps": sorted(traps)})


# ---------------------------------------------------------------------------
# credit notes and statements (PDF)
# ---------------------------------------------------------------------------

CN_LABELS = {
    "en": {"title": "CREDIT NOTE", "title_us": "CREDIT MEMO", "number": "Credit Note No.", "number_us": "Credit Memo #",
           "total": "Total Credit", "ref": "This credit note refers to invoice {ref}.", "ref_us": "Applies to invoice {ref}."},
    "de": {"title": "GUTSCHRIFT", "number": "Gutschrift-Nr.", "total": "Gutschriftsbetrag", "ref": "Gutschrift zu unserer Rechnung {ref}."},
    "fr": {"title": "AVOIR", "number": "Avoir n°", "total": "Total avoir TTC", "ref": "Avoir sur notre facture {ref}."},
    "nl": {"title": "CREDITNOTA", "number": "Creditnotanummer", "total": "Totaal creditnota", "ref": "Creditering van factuur {ref}."},
}


def build_credit_note(split, seq, family, vkey, ref_invoice, prefix):
    inv = build_invoice(split, seq, family, vkey, {"no-due"}, n_items=None)
    v = inv.v
    inv.doc = "credit_note"
    inv.ref_invoice = ref_invoice
    inv.number = f"{prefix}{random.Random(f'cn-{split}-{seq}').randint(11, 98):04d}"
    c = CN_LABELS[inv.lang]
    us = inv.locale == "en_US"
    inv.L["title"] = c["title_us"] if us else c["title"]
    inv.L["number"] = c["number_us"] if us else c["number"]
    inv.L["total"] = inv.L["total_plain"] = c["total"]
    inv.L["thanks"] = (c["ref_us"] if us else c["ref"]).format(ref=ref_invoice)
    inv.skonto = None
    inv.items = inv.items[:2]
    inv.net = sum((i.amount for i in inv.items), D(0))
    inv.tax = q2(inv.net * inv.rate / 100)
    inv.total = inv.net + inv.tax
    inv.opts.add("cn")
    return inv


def statement_pdf(v: Vendor, buyer: Entity, lang: str, asof: dt.date, rows: list, split: str) -> bytes:
    """rows: (doc no, date, due, amount, open)."""
    dummy = Inv(split, 0, "statement", v, buyer, set(), rng=random.Random("stmt-" + v.key))
    dummy.L = pick_labels(lang, dummy.rng)
    dummy.numstyle = NUM_STYLE[v.locale]
    pdf = Pdf(dummy, fonts="helv", title="Statement")
    W, H = pdf.W, pdf.H
    T = {"de": ("Kontoauszug – Offene Posten", "Stand", ["Beleg-Nr.", "Belegdatum", "Fällig am", "Betrag", "Offen"], "Saldo offene Posten"),
         "en": ("Statement of Account", "as at", ["Document", "Date", "Due", "Amount", "Balance"], "Total balance outstanding"),
         "fr": ("Relevé de compte", "au", ["Pièce", "Date", "Échéance", "Montant", "Solde"], "Solde dû"),
         "nl": ("Rekeningoverzicht", "per", ["Document", "Datum", "Vervaldatum", "Bedrag", "Openstaand"], "Totaal openstaand")}[lang]
    pdf.t(40, H - 60, v.name, 16, True)
    pdf.t(40, H - 75, " · ".join(seller_addr(dummy)), 8.5, gray=0.3)
    for i, line in enumerate([buyer.name] + buyer.lines[:2]):
        pdf.t(40, H - 140 - 12 * i, line, 10)
    pdf.t(40, H - 220, f"{T[0]} {T[1]} {fdate(asof, v.locale, 'num')}", 13, True)
    pdf.t(40, H - 236, f"{dummy.L['cust']}: {v.extra['cust']}", 9)
    xs = [40, 170, 260, W - 130, W - 40]
    y = H - 270
    for x, lbl, al in zip(xs, T[2], "lllrr"):
        pdf.t(x, y, lbl, 8.5, True, al)
    pdf.hl(40, W - 40, y - 5)
    y -= 20
    for no, d, due, amt, open_ in rows:
        for x, val, al in zip(xs, [no, fdate(d, v.locale, "num"), fdate(due, v.locale, "num"), num(amt, dummy.numstyle), num(open_, dummy.numstyle)], "lllrr"):
            pdf.t(x, y, val, 9, False, al)
        y -= 14
    pdf.hl(40, W - 40, y + 8)
    pdf.t(W - 200, y - 8, T[3], 9.5, True, "r")
    pdf.t(W - 40, y - 8, money(sum((r[4] for r in rows), D(0)), v.currency, dummy.numstyle, "code-post"), 9.5, True, "r")
    pdf.t(40, 70, " · ".join([v.reg] + ([f"IBAN {iban_groups(v.iban)}"] if v.iban else [])), 7, gray=0.3)
    pdf.page()
    return pdf.data()


# ---------------------------------------------------------------------------
# classification cases
# ---------------------------------------------------------------------------

def at(y, m, d, hh, mm, zone="cet") -> str:
    day = dt.date(y, m, d)
    ss = int(sha(f"{y}{m}{d}{hh}{mm}{zone}")[:2], 16) % 60
    return rfcdate(dt.datetime(y, m, d, hh, mm, ss, tzinfo=dt.timezone(dt.timedelta(minutes=tz_offset(day, zone)))))


def hdrs(frm, to, date, subject, mid, irt=None, extra=()):
    out = [("From", frm), ("To", to), ("Date", date), ("Subject", hdr_text(subject)), ("Message-ID", mid)]
    if irt:
        out.append(("In-Reply-To", irt))
        out.append(("References", irt))
    out += list(extra)
    return out


def exp(category, **fields):
    return {"category": category, "fields": {k: v for k, v in fields.items() if v is not None}}


def quote(body: str) -> str:
    return "\n".join(("> " + l) if l else ">" for l in body.rstrip("\n").split("\n")) + "\n"


REMINDER = {
    "en": ("Payment reminder: invoice {num}",
           "Dear customer,\n\nAccording to our records the following invoice is still unpaid:\n\n"
           "Invoice No.    Invoice date   Due date     Amount\n{num}   {d1}     {d2}   {amt}\n\n"
           "If you have already paid, please disregard this reminder. Otherwise please\narrange payment or let us know when we can expect it.\n\n"
           "Kind regards,\nAccounts Receivable\n{entity}\n"),
    "de": ("Zahlungserinnerung: Rechnung {num}",
           "Sehr geehrte Damen und Herren,\n\nnach unseren Unterlagen ist die folgende Rechnung noch offen:\n\n"
           "Rechnung       Datum        Fällig am    Betrag\n{num}   {d1}   {d2}   {amt}\n\n"
           "Sollten Sie die Zahlung bereits veranlasst haben, betrachten Sie dieses\nSchreiben bitte als gegenstandslos.\n\n"
           "Mit freundlichen Grüßen\nDebitorenbuchhaltung\n{entity}\n"),
    "fr": ("Relance : facture {num}",
           "Madame, Monsieur,\n\nSauf erreur de notre part, la facture suivante reste impayée :\n\n"
           "Facture        Date         Échéance     Montant\n{num}   {d1}   {d2}   {amt}\n\n"
           "Si vous avez déjà effectué le règlement, merci de ne pas tenir compte de\nce message.\n\n"
           "Cordialement,\nService clients - Comptabilité\n{entity}\n"),
    "nl": ("Betalingsherinnering: factuur {num}",
           "Geachte heer/mevrouw,\n\nVolgens onze administratie staat de volgende factuur nog open:\n\n"
           "Factuur        Datum        Vervaldatum  Bedrag\n{num}   {d1}   {d2}   {amt}\n\n"
           "Heeft u inmiddels betaald, dan kunt u deze herinnering als niet verzonden\nbeschouwen.\n\n"
           "Met vriendelijke groet,\nDebiteurenadministratie\n{entity}\n"),
}
OUR_ENTITY = {"en": "Ourcompany UK Ltd", "de": "Ourcompany Europe GmbH", "fr": "Ourcompany France SAS", "nl": "Ourcompany Benelux B.V."}
REPLY_PREFIX = {"en": "RE: ", "de": "AW: ", "fr": "RE : ", "nl": "Re: "}
QUOTE_INTRO = {"en": "On {d}, Ourcompany Accounts Receivable wrote:", "de": "Am {d} schrieb Ourcompany Accounts Receivable:",
               "fr": "Le {d}, Ourcompany Accounts Receivable a écrit :", "nl": "Op {d} schreef Ourcompany Accounts Receivable:"}


def thread(box, tid, lang, num, d1, d2, amt, customer, sent, reply_date, reply_zone, reply_body, reply_exp, subject_override=None, reply_extra=()):
    subj, body = REMINDER[lang]
    subj = subj.format(num=num)
    body = body.format(num=num, d1=d1, d2=d2, amt=amt, entity=OUR_ENTITY[lang])
    rmid = f"<dunning-{num}-step1@ourcompany.example>"
    box.add(f"ar/{tid}-1-our-reminder-{num.lower()}.eml",
            hdrs(TO_AR, addr(*customer), at(*sent), subj, rmid, extra=[("Auto-Submitted", "auto-generated")]),
            text(body), exp("other"), meta={"lang": lang, "confusion": "our-reminder"})
    rsubj = subject_override or REPLY_PREFIX[lang] + subj
    intro = QUOTE_INTRO[lang].format(d=f"{sent[2]:02d}.{sent[1]:02d}.{sent[0]}" if lang == "de" else f"{sent[2]:02d}/{sent[1]:02d}/{sent[0]}")
    full = reply_body + "\n" + intro + "\n" + quote(body)
    box.add(f"ar/{tid}-2-reply-{reply_exp['category'].split('.')[1].replace('_', '-')}.eml",
            hdrs(addr(*customer), TO_AR, at(*reply_date, zone=reply_zone), rsubj, f"<{sha(tid + num)[:24]}@{customer[1].split('@')[1]}>", irt=rmid,
                 extra=reply_extra),
            text(full), reply_exp, meta={"lang": lang, "confusion": "reply-to-our-reminder"})


class Box:
    def __init__(self, split):
        self.split = split
        self.out = {}

    def add(self, path, headers, root, expected, crlf=None, meta=None):
        assert path not in self.out, path
        if crlf is None:
            crlf = int(sha(self.split + path)[:2], 16) % 2 == 0
        self.out[path] = (message(headers, root, crlf), expected, dict(meta or {}, kind="classification"))


def bnd(path, n=1):
    return f"=_{sha(path + str(n))[:18]}"


def ooo(box, path, lang, person, email, to, date, subject_re, body, headers=True):
    pre = {"en": "Automatic reply: ", "de": "Abwesenheitsnotiz: ", "fr": "Réponse automatique : ", "nl": "Automatisch antwoord: "}[lang]
    extra = [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")] if headers else []
    box.add(path, hdrs(addr(person, email), to, date, pre + subject_re, f"<ooo-{sha(path)[:16]}@{email.split('@')[1]}>", extra=extra),
            text(body), exp("auto.out_of_office"), meta={"lang": lang})


def bounce(box, path, lang, mta_from, to, date, subject, explanation, failed_rcpt, original: bytes, status="5.1.1",
           diag="550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table", headers_only=False):
    from email.utils import parseaddr
    mta_host = parseaddr(mta_from)[1].split("@")[1]
    dsn = (f"Reporting-MTA: dns; {mta_host}\nArrival-Date: {date}\n\n"
           f"Final-Recipient: rfc822; {failed_rcpt}\nOriginal-Recipient: rfc822;{failed_rcpt}\nAction: failed\nStatus: {status}\n"
           f"Diagnostic-Code: smtp; {diag.format(r=failed_rcpt)}\n")
    orig = original.replace(b"\r\n", b"\n")
    if headers_only:
        orig = orig.split(b"\n\n", 1)[0] + b"\n"
    parts = [text(explanation), Part("message/delivery-status", dsn.encode(), cte="7bit"),
             Part("text/rfc822-headers" if headers_only else "message/rfc822", orig, cte="7bit")]
    root = multi("report", parts, bnd(path), params="; report-type=delivery-status")
    box.add(path, hdrs(mta_from, to, date, subject, f"<{sha(path)[:20]}@{mta_host}>", extra=[("Auto-Submitted", "auto-replied")]),
            root, exp("auto.bounce"), meta={"lang": lang})


def plain_msg(frm, to, date, subject, mid, body, extra=()):
    return message(hdrs(frm, to, date, subject, mid, extra=extra), text(body), False)


def cn_mail(box, path, inv: Inv, frm, subject, body, lang, crlf=None):
    data = FAMILIES[inv.family](inv)
    fname = {"en": "CreditNote", "de": "Gutschrift", "fr": "Avoir", "nl": "Creditnota"}[lang] + f"_{inv.number}.pdf"
    t = when(inv.date + dt.timedelta(days=1), zone_for(inv.v), random.Random(path))
    root = multi("mixed", [text(body), attachment(data, fname)], bnd(path))
    f = inv.expected()
    box.add(path, hdrs(frm, TO_AP, rfcdate(t), subject, f"<{sha(path)[:20]}@{inv.v.domain}>"), root,
            {"category": "ap.credit_note", "fields": f}, crlf=crlf, meta={"lang": lang})


def dev_cases() -> dict:
    b = Box("dev")
    V_ = VENDORS
    # ------------------------------------------------------------------ AP side
    b.add("ap/c-statement-en-us-open-items.eml",
          hdrs(addr("Accounts Receivable", "ar@lakeshore-supply.example"), TO_AP, at(2026, 11, 2, 9, 12, "us-c"),
               "Statement of Account - Ourcompany Inc. - as of 10/31/2026", "<stmt-OURC-1031@lakeshore-supply.example>"),
          text("Hello,\n\nBelow is your statement of account as of 10/31/2026. Please review the open items and\n"
               "let us know if anything does not match your records.\n\n"
               "Customer: Ourcompany Inc. (Account " + V_["lakeshore"].extra["cust"] + ")\n\n"
               "Date        Invoice     Due date      Original     Balance\n"
               "08/14/2026  004215      09/13/2026     1,284.40      284.40\n"
               "09/02/2026  004298      10/02/2026       912.15      912.15\n"
               "09/25/2026  004377      10/25/2026     2,044.13    2,044.13\n"
               "10/16/2026  004431      11/15/2026       600.59      600.59\n\n"
               "Total balance due:                                3,841.27\n"
               "Current: 600.59   1-30 days: 2,956.28   31-60 days: 284.40\n\n"
               "Thank you,\nMike Kowalski\nLakeshore Industrial Supply, Inc.\n"),
          exp("ap.statement"), meta={"lang": "en"})
    rows = [("NL-004702", dt.date(2026, 8, 20), dt.date(2026, 9, 3), D("1845.20"), D("1845.20")),
            ("NL-004733", dt.date(2026, 9, 11), dt.date(2026, 9, 25), D("2611.80"), D("611.80")),
            ("NL-004790", dt.date(2026, 10, 6), dt.date(2026, 10, 20), D("980.10"), D("980.10"))]
    pdf = statement_pdf(V_["nordlicht"], OC["DE"], "de", dt.date(2026, 10, 31), rows, "dev")
    p = "ap/c-statement-de-kontoauszug-pdf.eml"
    b.add(p, hdrs(addr("Buchhaltung", "buchhaltung@nordlicht-logistik.example"), TO_AP, at(2026, 11, 3, 10, 41),
                  "Kontoauszug per 31.10.2026", "<kontoauszug-20261031-ourc@nordlicht-logistik.example>"),
          multi("mixed", [text("Sehr geehrte Damen und Herren,\n\nanbei erhalten Sie Ihren aktuellen Kontoauszug mit den offenen Posten.\n"
                               "Wir bitten um Prüfung und Ausgleich der fälligen Beträge.\n\nMit freundlichen Grüßen\nBuchhaltung\n"),
                          attachment(pdf, "Kontoauszug_31.10.2026.pdf")], bnd(p)),
          exp("ap.statement"), meta={"lang": "de"})
    b.add("ap/c-statement-fr-releve-html.eml",
          hdrs(addr("Comptabilité", "compta@imprimerie-moreau.example"), TO_AP, at(2026, 10, 5, 14, 3), "Relevé de compte au 30/09/2026",
               "<releve-0930-ourcfr@imprimerie-moreau.example>"),
          multi("alternative", [text("Bonjour,\n\nVeuillez trouver ci-dessous votre relevé de compte au 30/09/2026.\n\n"
                                     "2026-00134  12/07/2026  échéance 11/08/2026  solde 1 320,00 €\n"
                                     "2026-00152  02/08/2026  échéance 01/09/2026  solde 486,00 €\n"
                                     "2026-00171  07/08/2026  échéance 21/08/2026  solde 7 627,32 €\n\n"
                                     "Solde dû : 9 433,32 €\n\nCordialement,\nHélène Moreau\n".replace(" €", "\u202f€")),
                                text("<html><body><p>Bonjour,</p><p>Veuillez trouver ci-dessous votre <b>relevé de compte</b> au 30/09/2026.</p>"
                                     "<table border=\"1\" cellpadding=\"4\"><tr><th>Facture</th><th>Date</th><th>Échéance</th><th>Solde</th></tr>"
                                     "<tr><td>2026-00134</td><td>12/07/2026</td><td>11/08/2026</td><td>1\u202f320,00 €</td></tr>"
                                     "<tr><td>2026-00152</td><td>02/08/2026</td><td>01/09/2026</td><td>486,00 €</td></tr>"
                                     "<tr><td>2026-00171</td><td>07/08/2026</td><td>21/08/2026</td><td>7\u202f627,32 €</td></tr>"
                                     "<tr><td colspan=\"3\"><b>Solde dû</b></td><td><b>9\u202f433,32 €</b></td></tr></table>"
                                     "<p>Cordialement,<br>Hélène Moreau</p></body></html>\n", "html")], bnd("fr-releve")),
          exp("ap.statement"), meta={"lang": "fr"})
    b.add("ap/c-payment-inquiry-en-gb-when-paid.eml",
          hdrs(addr("Credit Control", "creditcontrol@pennine-haulage.example"), TO_AP, at(2026, 10, 7, 11, 20, "uk"),
               "Overdue invoice 04811 - payment status", "<cc-04811-1007@pennine-haulage.example>"),
          text("Good morning,\n\nOur invoice 04811 dated 15/08/2026 for £1,254.60 fell due on 14/09/2026 and is now\n"
               "more than 21 days overdue. Could you please let us know when it will be paid, or whether\n"
               "there is a query holding it up?\n\nMany thanks,\nJoanne Pratt\nCredit Control\nPennine Haulage Ltd\n"),
          exp("ap.payment_inquiry", invoice_number="04811"), meta={"lang": "en"})
    inv = build_invoice("dev", 901, "band", "muster", set())
    p = "ap/c-payment-inquiry-de-mahnung-with-invoice-pdf.eml"
    mdate = inv.due + dt.timedelta(days=18)
    body = (f"Sehr geehrte Damen und Herren,\n\nsicher ist es Ihrer Aufmerksamkeit entgangen: Unsere Rechnung {inv.number} vom "
            f"{fdate(inv.date, 'de_DE', 'num')}\nüber {money(inv.total, 'EUR', 'eu', 'sym-post')} war am {fdate(inv.due, 'de_DE', 'num')} fällig "
            f"und ist noch nicht ausgeglichen.\n\nWir bitten Sie, den Betrag innerhalb der nächsten 7 Tage zu überweisen. Eine Kopie der\n"
            f"Rechnung finden Sie im Anhang. Sollte sich Ihre Zahlung mit diesem Schreiben überschnitten\nhaben, betrachten Sie es bitte als gegenstandslos.\n\n"
            f"Mit freundlichen Grüßen\nSabine Krüger\nBuchhaltung\n")
    b.add(p, hdrs(addr("Buchhaltung", "buchhaltung@muster-maschinenbau.example"), TO_AP, rfcdate(when(mdate, "cet", random.Random(p))),
                  f"1. Mahnung – Rechnung {inv.number}", f"<mahnung1-{inv.number}@muster-maschinenbau.example>"),
          multi("mixed", [text(body), attachment(fam_band(inv), f"Rechnung_{inv.number}_Kopie.pdf")], bnd(p)),
          exp("ap.payment_inquiry", invoice_number=inv.number), meta={"lang": "de", "confusion": "inquiry-with-invoice-pdf"})
    b.add("ap/c-payment-inquiry-nl-wanneer-betaald.eml",
          hdrs(addr("Kees van der Berg", "kees@vdberg-installatie.example"), TO_AP, at(2026, 10, 20, 8, 55),
               "Openstaande factuur 20260487", "<CAK-20260487-1020@vdberg-installatie.example>"),
          text("Goedemorgen,\n\nVolgens onze administratie is factuur 20260487 van 28-08-2026 (€ 1.197,90) nog niet\n"
               "voldaan; de vervaldatum was 27-09-2026. Kunt u laten weten wanneer deze factuur betaald wordt?\n\n"
               "Met vriendelijke groet,\nKees van der Berg\nVan der Berg Installatietechniek B.V.\n"),
          exp("ap.payment_inquiry", invoice_number="20260487"), meta={"lang": "nl"})
    b.add("ap/c-payment-inquiry-fr-relance.eml",
          hdrs(addr("Julien Girard", "j.girard@transports-girard.example"), TO_AP, at(2026, 11, 9, 16, 2),
               "Relance : facture FA/2026/0456 échue", "<relance-0456@transports-girard.example>"),
          text("Bonjour,\n\nSauf erreur de notre part, notre facture FA/2026/0456 du 18/09/2026, d'un montant de\n"
               "2 136,00 € TTC, arrivée à échéance le 18/10/2026, reste impayée à ce jour.\n\n"
               "Pourriez-vous nous indiquer la date de règlement prévue ?\n\nCordialement,\nJulien Girard\n".replace("2 136", "2\u202f136")),
          exp("ap.payment_inquiry", invoice_number="FA/2026/0456"), meta={"lang": "fr"})
    cn = build_credit_note("dev", 902, "twocol", "brandt", "202600912", "GS-2026-")
    cn_mail(b, "ap/c-credit-note-de-gutschrift-pdf.eml", cn, addr("Buchhaltung", "buchhaltung@brandt-elektro.example"),
            f"Gutschrift {cn.number}", "Sehr geehrte Damen und Herren,\n\nwie telefonisch besprochen erhalten Sie anbei unsere Gutschrift.\n\n"
            "Mit freundlichen Grüßen\nThomas Brandt\n", "de")
    cn = build_credit_note("dev", 903, "band", "redwood", "RFL0004471", "CM-")
    cn_mail(b, "ap/c-credit-note-en-us-credit-memo-pdf.eml", cn, addr("Billing", "billing@redwood-freight.example"),
            "Credit memo for freight overcharge", "Hello,\n\nAttached is a credit memo for the duplicate fuel surcharge. It will be applied\n"
            "against your open balance.\n\nRegards,\nDispatch Billing\n", "en")
    b.add("ap/c-credit-note-nl-creditnota-body.eml",
          hdrs(addr("De Vries Kantoorartikelen B.V.", "facturen@devries-kantoor.example"), TO_AP, at(2026, 9, 16, 13, 30),
               "Creditnota C26-0044", "<cn-C26-0044@devries-kantoor.example>"),
          text("Geachte heer/mevrouw,\n\nHierbij ontvangt u een creditnota voor de retour gezonden bureaustoel.\n\n"
               "De Vries Kantoorartikelen B.V.\nStationsplein 8, 3511 ED Utrecht\nBTW-nummer " + V_["devries"].vat + "\n\n"
               "CREDITNOTA\nCreditnotanummer:  C26-0044\nDatum:             16-09-2026\nBetreft factuur:   F008112 van 02-09-2026\n\n"
               "1 x Bureaustoel ergonomisch, retour       219,00\n\n"
               "Totaal excl. BTW                          219,00\nBTW 21%                                    45,99\n"
               "Totaal creditnota                       € 264,99\n\n"
               "Het bedrag wordt verrekend met uw volgende betaling.\n\nMet vriendelijke groet,\nAnouk de Vries\n"),
          {"category": "ap.credit_note", "fields": {"invoice_number": "C26-0044", "invoice_date": "2026-09-16", "amount_total": "264.99",
                                                   "amount_net": "219.00", "amount_tax": "45.99", "currency": "EUR",
                                                   "vendor": "De Vries Kantoorartikelen B.V.", "vendor_vat_id": V_["devries"].vat}},
          meta={"lang": "nl"})
    h_ = V_["hansen"]
    new_iban = make_iban("DE", bban_for("DE", random.Random("hansen-new"), "21050170"))
    b.add("ap/c-vendor-onboarding-de-neue-bankverbindung.eml",
          hdrs(addr("Hansen IT-Service GmbH", "buchhaltung@hansen-it.example"), TO_AP, at(2026, 10, 12, 9, 5),
               "Änderung unserer Bankverbindung", "<bankwechsel-2026@hansen-it.example>"),
          text("Sehr geehrte Damen und Herren,\n\nbitte beachten Sie, dass sich unsere Bankverbindung ab dem 01.11.2026 ändert.\n"
               "Bitte aktualisieren Sie Ihre Lieferantenstammdaten und überweisen Sie künftige Zahlungen\nausschließlich auf folgendes Konto:\n\n"
               f"Kontoinhaber: Hansen IT-Service GmbH\nBank: Förde Sparkasse\nIBAN: {iban_groups(new_iban)}\nBIC: NOLADE21KIE\n\n"
               f"Die bisherige Verbindung (IBAN {iban_groups(h_.iban)}) wird zum 31.12.2026 aufgelöst.\n"
               "Eine unterschriebene Bestätigung auf unserem Briefpapier senden wir Ihnen per Post.\n\n"
               "Mit freundlichen Grüßen\nOle Hansen\nGeschäftsführer\n"),
          exp("ap.vendor_onboarding"), meta={"lang": "de"})
    b.add("ap/c-vendor-onboarding-en-us-w9-ach-form.eml",
          hdrs(addr("Billing Team", "billing@summitcloud.example"), TO_AP, at(2026, 2, 3, 12, 44, "us-c"),
               "Vendor setup: W-9 and ACH authorization form", "<vendorsetup-ourc@summitcloud.example>"),
          text("Hi Ourcompany AP team,\n\nAs requested by your procurement team, here are our details for your vendor master:\n\n"
               "Legal name: Summit Cloud Software LLC\nTax classification: LLC taxed as a C corporation\nEIN: " + VENDORS["summitcloud"].reg[4:] + "\n"
               "Remit-to: 600 Congress Ave, Suite 1400, Austin, TX 78701\n"
               f"ACH: routing {VENDORS['summitcloud'].extra['routing']}, account {VENDORS['summitcloud'].extra['account']}\n\n"
               "The signed W-9 (Rev. March 2024) and your supplier information form will follow from our\n"
               "finance lead. Future invoices will come from billing@summitcloud.example.\n\nThanks,\nBilling Team\n"),
          exp("ap.vendor_onboarding"), meta={"lang": "en"})
    b.add("ap/c-vendor-onboarding-fr-changement-rib.eml",
          hdrs(addr("Ateliers Dumont SAS", "compta@ateliers-dumont.example"), TO_AP, at(2026, 6, 8, 10, 17),
               "Changement de coordonnées bancaires", "<rib-2026-06@ateliers-dumont.example>"),
          text("Madame, Monsieur,\n\nNous vous informons du changement de nos coordonnées bancaires à compter du 1er juillet 2026.\n"
               "Vous trouverez ci-dessous notre nouveau RIB ; merci de mettre à jour votre fichier fournisseurs.\n\n"
               f"Titulaire : Ateliers Dumont SAS\nIBAN : {iban_groups(make_iban('FR', bban_for('FR', random.Random('dumont-new'), '30004')))}\nBIC : BNPAFRPPXXX\n\n"
               "Nos factures en cours restent inchangées.\n\nCordialement,\nNathalie Dumont\nService comptabilité\n"),
          exp("ap.vendor_onboarding"), meta={"lang": "fr"})
    ooo(b, "ap/c-ooo-en-gb-automatic-reply.eml", "en", "Claire Hughes", "claire.hughes@tvos.example", TO_AP, at(2026, 11, 6, 10, 2, "uk"),
        "Remittance advice - Ourcompany payment run 06/11/2026",
        "Thank you for your email. I am out of the office until Monday 16 November with limited access\nto email.\n\n"
        "For invoice queries or statements please contact accounts@tvos.example or call 0118 496 0213.\n\nClaire Hughes\n")
    ooo(b, "ap/c-ooo-de-abwesenheitsnotiz.eml", "de", "Martina Weber", "m.weber@weber-kaffee.example", TO_AP, at(2026, 8, 10, 7, 31),
        "Rückfrage zu Ihrer Rechnung",
        "Vielen Dank für Ihre Nachricht. Ich bin bis einschließlich 21.08.2026 im Urlaub.\n\n"
        "In dringenden Fällen zu Rechnungen und Zahlungen wenden Sie sich bitte an buchhaltung@weber-kaffee.example.\n\n"
        "Mit freundlichen Grüßen\nMartina Weber\n")
    orig = plain_msg(TO_AP, addr("Accounts", "accounts@old-domain-kestrel-print.example"), at(2026, 9, 22, 15, 10, "uk"),
                     "Query on invoice KP-02231 - missing PO", "<apquery-KP-02231@ourcompany.example>",
                     "Hello,\n\nyour invoice KP-02231 (£1,416.00) has no purchase order number. Please re-issue it with our PO.\n\nAccounts Payable\nOurcompany UK Ltd\n")
    bounce(b, "ap/c-bounce-en-undeliverable.eml", "en", addr("Mail Delivery System", "MAILER-DAEMON@mx1.ourcompany.example"), TO_AP,
           at(2026, 9, 22, 15, 11, "uk"), "Undelivered Mail Returned to Sender",
           "This is the mail system at host mx1.ourcompany.example.\n\nI'm sorry to have to inform you that your message could not\n"
           "be delivered to one or more recipients. It's attached below.\n\n<accounts@old-domain-kestrel-print.example>: host\n"
           "    mx.old-domain-kestrel-print.example said: 550 5.1.1 User unknown\n", "accounts@old-domain-kestrel-print.example", orig)
    b.add("ap/c-other-newsletter-en-invoice-in-footer.eml",
          hdrs(addr("Thames Valley Office Supplies", "news@tvos.example"), TO_AP, at(2026, 10, 1, 6, 0, "uk"),
               "October offers: 20% off ergonomic seating", "<news-2026-10@tvos.example>",
               extra=[("List-Id", "TVOS customer news <news.tvos.example>"), ("List-Unsubscribe", "<https://tvos.example/unsubscribe?u=8812>"),
                      ("Precedence", "bulk")]),
          text("THAMES VALLEY OFFICE SUPPLIES - OCTOBER NEWS\n\nAutumn is here: save 20% on ergonomic chairs and sit-stand desks until 31 October.\n"
               "Free delivery on orders over £150.\n\nNEW: order online and pay by card, or on account as usual.\n\n"
               "--\nYou are receiving this because you have a trade account with us. Invoices, statements and\n"
               "credit notes are sent separately from accounts@tvos.example. To unsubscribe from marketing,\nvisit https://tvos.example/unsubscribe.\n"),
          exp("other"), meta={"lang": "en", "confusion": "newsletter-invoice-word"})
    b.add("ap/c-other-internal-de-monatsabschluss.eml",
          hdrs(addr("Jana Petersen", "jana.petersen@ourcompany.example"), TO_AP, at(2026, 10, 27, 8, 15), "Monatsabschluss Oktober",
               "<a1b2c3-close-oct@ourcompany.example>"),
          text("Hallo zusammen,\n\nkurze Erinnerung: Für den Monatsabschluss Oktober müssen alle Eingangsrechnungen mit\n"
               "Rechnungsdatum bis 31.10. bis Dienstag, 3.11., 12:00 Uhr gebucht sein. Offene Rechnungen ohne\n"
               "Bestellnummer bitte an die Einkäufer zurückgeben, Gutschriften gesondert markieren.\n\n"
               "Danke und viele Grüße\nJana\nControlling | Ourcompany Europe GmbH\n"),
          exp("other"), meta={"lang": "de"})
    b.add("ap/c-other-marketing-nl-webinar.eml",
          hdrs(addr("Factuurflow Academy", "events@factuurflow.example"), TO_AP, at(2026, 9, 8, 9, 30),
               "Webinar: factuurverwerking automatiseren in 30 minuten", "<webinar-0917@factuurflow.example>",
               extra=[("List-Unsubscribe", "<mailto:unsubscribe@factuurflow.example>")]),
          text("Beste financiële professional,\n\nKost het verwerken van inkoopfacturen u te veel tijd? In ons gratis webinar op\n"
               "17 september laten we zien hoe u facturen automatisch inleest, matcht met inkooporders en\nklaarzet voor betaling.\n\n"
               "Aanmelden: https://factuurflow.example/webinar\n\nU ontvangt deze e-mail omdat u zich heeft aangemeld voor onze nieuwsbrief.\n"),
          exp("other"), meta={"lang": "nl"})
    # ------------------------------------------------------------------ AR side: threads that start with our own reminder
    beacon = ("Beacon Hill Hospitality Ltd - Accounts Payable", "accounts.payable@beaconhill-hospitality.example")
    thread(b, "t01", "en", "OC-2026-0107", "2026-10-09", "2026-11-08", "GBP 3,912.00", beacon, (2026, 11, 24, 8, 0),
           (2026, 11, 24, 15, 37), "uk",
           "Hello,\n\nApologies - invoice OC-2026-0107 was held in our approval workflow. We will pay\n"
           "invoice OC-2026-0107 by 15 December 2026 at the latest.\n\nRegards,\nPriya Shah\nAccounts Payable, Beacon Hill Hospitality Ltd\n",
           exp("ar.promise_to_pay", invoice_number="OC-2026-0107", promised_date="2026-12-15"))
    brenner = ("Kaufhaus Brenner GmbH", "kreditoren@kaufhaus-brenner.example")
    thread(b, "t02", "de", "OC-2026-0119", "15.09.2026", "15.10.2026", "5.474,00 EUR", brenner, (2026, 10, 27, 8, 0),
           (2026, 10, 28, 11, 12), "cet",
           "Sehr geehrte Damen und Herren,\n\nwir haben die Rechnung OC-2026-0119 bewusst nicht bezahlt: Von den 40 gelieferten\n"
           "Kartons waren 12 beschädigt (siehe Lieferschein mit Vermerk). Wir erheben Reklamation und\n"
           "bitten um eine Gutschrift über die beschädigte Ware, bevor wir den Restbetrag anweisen.\n\n"
           "Mit freundlichen Grüßen\nPeter Brenner\nKaufhaus Brenner GmbH\n",
           exp("ar.dispute", invoice_number="OC-2026-0119"))
    lambert = ("Maison Lambert SARL", "comptabilite@maison-lambert.example")
    thread(b, "t03", "fr", "OC-2026-0126", "22/09/2026", "22/10/2026", "2 880,00 €".replace(" ", "\u202f"), lambert, (2026, 11, 3, 8, 0),
           (2026, 11, 3, 14, 48), "cet",
           "Bonjour,\n\nNous n'avons jamais reçu la facture OC-2026-0126, elle n'est donc pas dans notre circuit de\n"
           "validation. Pourriez-vous nous en renvoyer une copie (duplicata) au format PDF ?\n\nMerci d'avance,\nAurélie Lambert\n",
           exp("ar.invoice_copy_request", invoice_number="OC-2026-0126"))
    dijkstra = ("Supermarkt Dijkstra B.V.", "crediteuren@dijkstra-supermarkt.example")
    thread(b, "t04", "nl", "OC-2026-0131", "01-10-2026", "31-10-2026", "€ 4.356,00", dijkstra, (2026, 11, 16, 8, 0),
           (2026, 11, 18, 9, 26), "cet",
           "Goedemorgen,\n\nDeze factuur is gisteren, 17-11-2026, door ons betaald: € 4.356,00 naar uw rekening\n"
           "o.v.v. OC-2026-0131. Het betaalbewijs vindt u hieronder.\n\nMet vriendelijke groet,\nRoel Dijkstra\n",
           exp("ar.remittance", invoice_number="OC-2026-0131", amount_total="4356.00", currency="EUR", payment_date="2026-11-17"),
           subject_override="Factuur OC-2026-0131")
    # ------------------------------------------------------------------ AR side: other cases
    b.add("ar/c-dispute-en-us-61004452-pricing-discrepancy.eml",
          hdrs(addr("Pinecrest Health Systems - AP", "ap@pinecrest-health.example"), TO_AR, at(2026, 11, 10, 13, 5, "us-e"),
               "Invoice 61004452 - pricing discrepancy", "<ap-61004452-exc@pinecrest-health.example>"),
          text("Hello,\n\nYour invoice OC-2026-0188 (logged in our AP system as document 61004452) has been blocked\n"
               "for a pricing discrepancy: line 2 is billed at $14.80 per unit, but our purchase order PO 7781\n"
               "was agreed at $13.90 per unit (1,200 units, a difference of $1,080.00).\n\n"
               "Please send a corrected invoice or a credit memo for the difference. We will hold payment until\nthen.\n\n"
               "Thanks,\nLinda Moore\nAccounts Payable, Pinecrest Health Systems\n"),
          exp("ar.dispute", invoice_number="OC-2026-0188"), meta={"lang": "en", "confusion": "invoice-subject-is-dispute"})
    b.add("ar/c-dispute-fr-ecart-de-prix.eml",
          hdrs(addr("Rosier Hôtels SAS - Comptabilité", "compta@rosier-hotels.example"), TO_AR, at(2026, 10, 19, 10, 22),
               "Facture OC-2026-0162 – écart de prix", "<litige-0162@rosier-hotels.example>"),
          text("Bonjour,\n\nNous contestons la facture OC-2026-0162 : le prix unitaire facturé (18,40 € HT) ne correspond pas\n"
               "au tarif convenu dans notre contrat cadre (16,90 € HT). Le litige porte sur 300 unités.\n\n"
               "Merci de nous adresser un avoir ou une facture rectificative. Le paiement est suspendu en attendant.\n\n"
               "Cordialement,\nMarc Rosier\n"),
          exp("ar.dispute", invoice_number="OC-2026-0162"), meta={"lang": "fr", "confusion": "invoice-subject-is-dispute"})
    b.add("ar/c-dispute-en-gb-short-delivery.eml",
          hdrs(addr("Ellery & Finch Ltd", "purchase.ledger@elleryfinch.example"), TO_AR, at(2026, 9, 29, 11, 40, "uk"),
               "Query: OC-2026-0153 short delivery", "<pl-0153@elleryfinch.example>"),
          text("Hi,\n\nWe have received invoice OC-2026-0153 for 60 cases, but only 48 cases were delivered\n"
               "(our goods-in note GRN-77410 attached to the delivery). We dispute the invoice until a credit\n"
               "note for the 12 missing cases is issued.\n\nKind regards,\nOliver Finch\n"),
          exp("ar.dispute", invoice_number="OC-2026-0153"), meta={"lang": "en"})
    b.add("ar/c-dispute-nl-niet-ontvangen.eml",
          hdrs(addr("Bloemenveiling Westland B.V.", "crediteuren@bloemen-westland.example"), TO_AR, at(2026, 10, 14, 15, 9),
               "Betwisting factuur OC-2026-0176", "<betwist-0176@bloemen-westland.example>"),
          text("Geachte heer/mevrouw,\n\nWij betwisten factuur OC-2026-0176: de gefactureerde goederen (2 pallets) zijn nooit bij ons\n"
               "afgeleverd. Wij verzoeken u de factuur te crediteren of een afleverbewijs te sturen.\n\n"
               "Met vriendelijke groet,\nSanne Verbeek\n"),
          exp("ar.dispute", invoice_number="OC-2026-0176"), meta={"lang": "nl"})
    b.add("ar/c-remittance-en-us-paylark-acme.eml",
          hdrs(addr("Paylark", "service@paylark.example"), TO_AR, at(2026, 11, 12, 16, 48, "us-p"),
               "Acme Corp sent you a payment of $8,912.35", "<pl-7TX88412KQ@paylark.example>",
               extra=[("Auto-Submitted", "auto-generated")]),
          text("Hello Ourcompany Inc.,\n\nAcme Corp sent you a payment of $8,912.35 USD.\n\n"
               "Note from Acme Corp: \"Invoice OC-2026-0145\"\n\nTransaction ID: 7TX88412KQ3301945\n"
               "Transaction date: November 12, 2026\nFunds available: now in your Paylark balance\n\n"
               "Paylark\nDon't reply to this email - this mailbox is not monitored.\n"),
          exp("ar.remittance", invoice_number="OC-2026-0145", amount_total="8912.35", currency="USD", payment_date="2026-11-12"),
          meta={"lang": "en", "confusion": "payment-platform"})
    b.add("ar/c-remittance-de-transferly.eml",
          hdrs(addr("Transferly", "no-reply@transferly.example"), TO_AR, at(2026, 11, 9, 12, 3),
               "Kaufhaus Brenner GmbH hat Ihnen 4.250,00 EUR gesendet", "<tf-de-2026110912@transferly.example>",
               extra=[("Auto-Submitted", "auto-generated")]),
          text("Hallo Ourcompany Europe GmbH,\n\nSie haben Geld erhalten: Kaufhaus Brenner GmbH hat Ihnen 4.250,00 EUR gesendet.\n\n"
               "Referenz: OC-2026-0150\nDatum: 9. November 2026\nÜberweisungsnummer: #418830917\n\n"
               "Das Geld ist in Ihrem EUR-Guthaben eingegangen.\n\nIhr Transferly-Team\n"),
          exp("ar.remittance", invoice_number="OC-2026-0150", amount_total="4250.00", currency="EUR", payment_date="2026-11-09"),
          meta={"lang": "de", "confusion": "payment-platform"})
    b.add("ar/c-remittance-nl-stripewell.eml",
          hdrs(addr("Stripewell", "receipts@stripewell.example"), TO_AR, at(2026, 10, 30, 14, 20),
               "Betaling ontvangen: € 1.815,00 van Supermarkt Dijkstra B.V.", "<sw-py-3PqL8b@stripewell.example>",
               extra=[("Auto-Submitted", "auto-generated")]),
          text("U heeft een betaling ontvangen.\n\nBedrag: € 1.815,00\nVan: Supermarkt Dijkstra B.V.\n"
               "Omschrijving: OC-2026-0139\nDatum: 30 oktober 2026\nBetaalmethode: iDEAL\n\n"
               "De uitbetaling naar uw bankrekening volgt volgens uw uitbetalingsschema.\n\n— Stripewell\n"),
          exp("ar.remittance", invoice_number="OC-2026-0139", amount_total="1815.00", currency="EUR", payment_date="2026-10-30"),
          meta={"lang": "nl", "confusion": "payment-platform"})
    b.add("ar/c-remittance-en-gb-remittance-advice.eml",
          hdrs(addr("Beacon Hill Hospitality Ltd", "payments@beaconhill-hospitality.example"), TO_AR, at(2026, 11, 6, 7, 12, "uk"),
               "Remittance Advice - BACS payment 004471", "<remit-004471@beaconhill-hospitality.example>"),
          text("REMITTANCE ADVICE\n\nPayer:          Beacon Hill Hospitality Ltd\nPayee:          Ourcompany UK Ltd\n"
               "Payment date:   06/11/2026\nPayment method: BACS\nPayment ref:    004471\n\n"
               "Your invoice    Invoice date   Amount paid\nOC-2026-0161    02/10/2026        1,200.00\nOC-2026-0165    06/10/2026          845.50\n"
               "                               -----------\nTotal paid                    GBP 2,045.50\n\n"
               "Please allow three working days for the funds to clear.\n"),
          exp("ar.remittance", invoice_number="OC-2026-0161", amount_total="2045.50", currency="GBP", payment_date="2026-11-06"),
          meta={"lang": "en"})
    b.add("ar/c-remittance-fr-avis-de-virement.eml",
          hdrs(addr("Rosier Hôtels SAS - Comptabilité", "compta@rosier-hotels.example"), TO_AR, at(2026, 11, 13, 9, 40),
               "Avis de virement", "<virement-1113@rosier-hotels.example>"),
          text("Bonjour,\n\nNous vous informons que nous avons procédé ce jour, 13/11/2026, au virement de 3\u202f120,00 €\n"
               "en règlement de votre facture OC-2026-0171.\n\nCordialement,\nService comptabilité fournisseurs\nRosier Hôtels SAS\n"),
          exp("ar.remittance", invoice_number="OC-2026-0171", amount_total="3120.00", currency="EUR", payment_date="2026-11-13"),
          meta={"lang": "fr"})
    b.add("ar/c-copy-request-en-copies-to-process-payment.eml",
          hdrs(addr("Pinecrest Health Systems - AP", "ap@pinecrest-health.example"), TO_AR, at(2026, 10, 22, 10, 14, "us-e"),
               "Copies of invoices needed", "<ap-copies-1022@pinecrest-health.example>"),
          text("Hello,\n\nplease send copies of invoices OC-2026-0031 and OC-2026-0044, we want to process the payment\n"
               "this week but cannot find them in our system.\n\nThank you,\nLinda Moore\nAccounts Payable, Pinecrest Health Systems\n"),
          exp("ar.invoice_copy_request", invoice_number="OC-2026-0031"), meta={"lang": "en", "confusion": "copy-request-mentions-payment"})
    b.add("ar/c-copy-request-de-kopien-fuer-zahlung.eml",
          hdrs(addr("Kaufhaus Brenner GmbH", "kreditoren@kaufhaus-brenner.example"), TO_AR, at(2026, 9, 14, 14, 2),
               "Rechnungskopien OC-2026-0052 / OC-2026-0058", "<kopien-0052-0058@kaufhaus-brenner.example>"),
          text("Guten Tag,\n\nbitte senden Sie uns Kopien der Rechnungen OC-2026-0052 und OC-2026-0058 zu, damit wir die\n"
               "Zahlung veranlassen können. Die Originale sind bei uns nicht eingegangen.\n\nVielen Dank\nPeter Brenner\n"),
          exp("ar.invoice_copy_request", invoice_number="OC-2026-0052"), meta={"lang": "de", "confusion": "copy-request-mentions-payment"})
    b.add("ar/c-copy-request-nl-kopie-factuur.eml",
          hdrs(addr("Supermarkt Dijkstra B.V.", "crediteuren@dijkstra-supermarkt.example"), TO_AR, at(2026, 8, 25, 11, 37),
               "Kopie factuur OC-2026-0077", "<kopie-0077@dijkstra-supermarkt.example>"),
          text("Hallo,\n\nKunt u factuur OC-2026-0077 nogmaals sturen? Wij kunnen hem in onze administratie niet terugvinden.\n\n"
               "Alvast bedankt,\nRoel Dijkstra\n"),
          exp("ar.invoice_copy_request", invoice_number="OC-2026-0077"), meta={"lang": "nl"})
    b.add("ar/c-promise-to-pay-de-wird-ueberwiesen.eml",
          hdrs(addr("Hotel Seeblick Betriebs GmbH", "buchhaltung@hotel-seeblick.example"), TO_AR, at(2026, 11, 19, 16, 25),
               "Rechnung OC-2026-0183", "<zahlung-0183@hotel-seeblick.example>"),
          text("Sehr geehrte Damen und Herren,\n\nwir bestätigen den Eingang Ihrer Rechnung OC-2026-0183. Der Betrag wird mit unserem\n"
               "nächsten Zahlungslauf am 27.11.2026 überwiesen.\n\nMit freundlichen Grüßen\nKarin Haas\nHotel Seeblick\n"),
          exp("ar.promise_to_pay", invoice_number="OC-2026-0183", promised_date="2026-11-27"), meta={"lang": "de"})
    b.add("ar/c-promise-to-pay-fr-reglement-programme.eml",
          hdrs(addr("Maison Lambert SARL", "comptabilite@maison-lambert.example"), TO_AR, at(2026, 11, 20, 9, 3),
               "Règlement facture OC-2026-0190", "<reglement-0190@maison-lambert.example>"),
          text("Bonjour,\n\nLe règlement de votre facture OC-2026-0190 sera effectué par virement le 4 décembre 2026.\n\n"
               "Bien cordialement,\nAurélie Lambert\n"),
          exp("ar.promise_to_pay", invoice_number="OC-2026-0190", promised_date="2026-12-04"), meta={"lang": "fr"})
    b.add("ar/c-promise-to-pay-nl-wordt-betaald.eml",
          hdrs(addr("Bloemenveiling Westland B.V.", "crediteuren@bloemen-westland.example"), TO_AR, at(2026, 11, 23, 13, 51),
               "Betaling factuur OC-2026-0194", "<betaling-0194@bloemen-westland.example>"),
          text("Goedemiddag,\n\nFactuur OC-2026-0194 is goedgekeurd en wordt op 30 november 2026 betaald.\n\n"
               "Met vriendelijke groet,\nSanne Verbeek\n"),
          exp("ar.promise_to_pay", invoice_number="OC-2026-0194", promised_date="2026-11-30"), meta={"lang": "nl"})
    ooo(b, "ar/c-ooo-fr-reponse-automatique.eml", "fr", "Aurélie Lambert", "a.lambert@maison-lambert.example", TO_AR,
        at(2026, 8, 4, 8, 1), "Relance : facture OC-2026-0098",
        "Bonjour,\n\nJe suis absente jusqu'au 24 août 2026. Pour toute question concernant les factures et les paiements,\n"
        "merci de contacter comptabilite@maison-lambert.example.\n\nCordialement,\nAurélie Lambert\n")
    ooo(b, "ar/c-ooo-nl-subject-only.eml", "nl", "Roel Dijkstra", "roel@dijkstra-supermarkt.example", TO_AR,
        at(2026, 7, 20, 8, 12), "Factuur OC-2026-0201",
        "Ik ben afwezig tot en met 7 augustus. Uw e-mail wordt niet doorgestuurd. Voor vragen over facturen kunt u\n"
        "contact opnemen met crediteuren@dijkstra-supermarkt.example.\n", headers=False)
    orig = message(hdrs(TO_AR, addr("Buchhaltung", "buchhaltung@alter-kunde-hofmann.example"), at(2026, 10, 20, 8, 0),
                        "Zahlungserinnerung: Rechnung OC-2026-0207", "<dunning-OC-2026-0207-step1@ourcompany.example>",
                        extra=[("Auto-Submitted", "auto-generated")]),
                   text(REMINDER["de"][1].format(num="OC-2026-0207", d1="03.09.2026", d2="03.10.2026", amt="1.071,00 EUR", entity=OUR_ENTITY["de"])), False)
    bounce(b, "ar/c-bounce-de-unzustellbar.eml", "de", addr("Microsoft Outlook", "postmaster@ourcompany.example"), TO_AR,
           at(2026, 10, 20, 8, 1), "Unzustellbar: Zahlungserinnerung: Rechnung OC-2026-0207",
           "Ihre Nachricht konnte nicht an einen oder mehrere Empfänger übermittelt werden.\n\n"
           "buchhaltung@alter-kunde-hofmann.example\nDie E-Mail-Adresse wurde nicht gefunden.\n", "buchhaltung@alter-kunde-hofmann.example",
           orig, diag="550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup")
    b.add("ar/c-other-internal-en-credit-limit.eml",
          hdrs(addr("Tom Reilly", "tom.reilly@ourcompany.example"), TO_AR, at(2026, 11, 2, 17, 5, "uk"),
               "FYI: Beacon Hill credit limit review", "<tr-1102-credit@ourcompany.example>"),
          text("Hi team,\n\nJust a heads-up: sales want to raise Beacon Hill's credit limit to GBP 25,000 next quarter.\n"
               "Could someone pull their payment history (average days to pay, any disputed invoices) before\n"
               "Thursday's meeting? No action needed on open invoices for now.\n\nCheers,\nTom\n"),
          exp("other"), meta={"lang": "en"})
    b.add("ar/c-other-newsletter-de-rechnung-footer.eml",
          hdrs(addr("Finanzblick Newsletter", "newsletter@finanzblick-magazin.example"), TO_AR, at(2026, 9, 1, 6, 30),
               "Finanzblick 09/2026: E-Rechnungspflicht – was jetzt zu tun ist", "<nl-2026-09@finanzblick-magazin.example>",
               extra=[("List-Id", "<newsletter.finanzblick-magazin.example>"), ("List-Unsubscribe", "<https://finanzblick-magazin.example/abmelden>"),
                      ("Precedence", "bulk")]),
          text("FINANZBLICK – Ausgabe September 2026\n\n1. E-Rechnung: Ab 2027 müssen viele Unternehmen elektronische Rechnungen ausstellen.\n"
               "2. Mahnwesen: Wie Sie Zahlungserinnerungen freundlich und wirksam formulieren.\n3. Skonto richtig buchen.\n\n"
               "--\nSie erhalten diesen Newsletter als Abonnent. Ihre Rechnung für das Jahresabo erhalten Sie\ngesondert per E-Mail. Abmelden: https://finanzblick-magazin.example/abmelden\n"),
          exp("other"), meta={"lang": "de", "confusion": "newsletter-invoice-word"})
    return b.out


def holdout_cases() -> dict:
    b = Box("holdout")
    V_ = VENDORS
    # ------------------------------------------------------------------ AP side
    b.add("ap/c-statement-nl-rekeningoverzicht.eml",
          hdrs(addr("Administratie", "administratie@zeeland-offshore.example"), TO_AP, at(2026, 11, 2, 10, 30),
               "Rekeningoverzicht openstaande posten per 31-10-2026", "<ro-20261031@zeeland-offshore.example>"),
          text("Geachte relatie,\n\nHieronder treft u het overzicht van de openstaande posten per 31-10-2026.\n\n"
               "Factuur        Datum        Vervaldatum   Bedrag        Openstaand\n"
               "ZOS2026-0412   08-08-2026   07-09-2026    € 4.471,08    € 4.471,08\n"
               "ZOS2026-0455   02-09-2026   02-10-2026    € 2.238,50    € 1.238,50\n"
               "ZOS2026-0490   30-09-2026   30-10-2026    €   907,50    €   907,50\n\n"
               "Totaal openstaand:                                       € 6.617,08\n\n"
               "Wij verzoeken u vriendelijk de vervallen posten te voldoen.\n\nMet vriendelijke groet,\nAdministratie Zeeland Offshore Services\n"),
          exp("ap.statement"), meta={"lang": "nl"})
    rows = [("CC01877", dt.date(2026, 9, 4), dt.date(2026, 10, 4), D("642.00"), D("642.00")),
            ("CC01902", dt.date(2026, 9, 18), dt.date(2026, 10, 18), D("1188.60"), D("1188.60")),
            ("CC01931", dt.date(2026, 10, 9), dt.date(2026, 11, 8), D("915.00"), D("315.00"))]
    pdf = statement_pdf(V_["cotswold"], OC["UK"], "en", dt.date(2026, 10, 31), rows, "holdout")
    p = "ap/c-statement-en-gb-statement-pdf.eml"
    b.add(p, hdrs(addr("Accounts", "accounts@cotswold-catering.example"), TO_AP, at(2026, 11, 4, 9, 15, "uk"),
                  "Your statement from Cotswold Catering", "<stmt-oct-ourcuk@cotswold-catering.example>"),
          multi("mixed", [text("Dear customer,\n\nPlease find attached your statement of account as at 31/10/2026.\n\nKind regards,\nAccounts\n"),
                          attachment(pdf, "Statement_31-10-2026.pdf")], bnd(p)),
          exp("ap.statement"), meta={"lang": "en"})
    inv = build_invoice("holdout", 901, "grid", "prairie", set())
    p = "ap/c-payment-inquiry-en-us-past-due-with-invoice-pdf.eml"
    mdate = inv.due + dt.timedelta(days=15)
    b.add(p, hdrs(addr("Dana Olson", "dana.olson@prairie-packaging.example"), TO_AP, rfcdate(when(mdate, "us-c", random.Random(p))),
                  f"PAST DUE: Invoice {inv.number}", f"<pastdue-{inv.number}@prairie-packaging.example>"),
          multi("mixed", [text(f"Hello,\n\nOur records show invoice {inv.number} for {money(inv.total, 'USD', 'us', 'sym-pre')} is now past due "
                               f"(due {fdate(inv.due, 'en_US', 'num')}).\nA copy is attached for your reference. Can you tell me when we can "
                               "expect payment?\n\nThank you,\nDana Olson\nPrairie Packaging Co.\n"),
                          attachment(fam_grid(inv), f"{inv.number}.pdf")], bnd(p)),
          exp("ap.payment_inquiry", invoice_number=inv.number), meta={"lang": "en", "confusion": "inquiry-with-invoice-pdf"})
    b.add("ap/c-payment-inquiry-de-zahlungsstatus.eml",
          hdrs(addr("Dirk Schäfer", "d.schaefer@rheinland-metallbau.example"), TO_AP, at(2026, 11, 11, 14, 27),
               "Zahlungsstatus Rechnung RMB-2026-7744", "<zs-7744@rheinland-metallbau.example>"),
          text("Guten Tag,\n\nkönnen Sie mir bitte den Zahlungsstatus unserer Rechnung RMB-2026-7744 vom 01.10.2026 mitteilen?\n"
               "Der Betrag von 6.426,00 € war am 15.10.2026 fällig und ist bei uns noch nicht eingegangen.\n\n"
               "Vielen Dank und freundliche Grüße\nDirk Schäfer\nRheinland Metallbau GmbH\n"),
          exp("ap.payment_inquiry", invoice_number="RMB-2026-7744"), meta={"lang": "de"})
    cn = build_credit_note("holdout", 902, "grid", "aubert", "LA-2026-03310", "AV-2026-")
    cn_mail(b, "ap/c-credit-note-fr-avoir-pdf.eml", cn, addr("Laboratoires Aubert SAS", "factures@laboratoires-aubert.example"),
            f"Avoir {cn.number}", "Bonjour,\n\nSuite à votre réclamation, veuillez trouver ci-joint notre avoir.\n\nCordialement,\nClaire Aubert\n", "fr")
    cv = V_["clyde"]
    b.add("ap/c-credit-note-en-gb-body.eml",
          hdrs(addr("Accounts", "accounts@clyde-marine.example"), TO_AP, at(2026, 10, 26, 15, 2, "uk"),
               "Credit note CN-0418 against invoice CME/2026/7291", "<cn-0418@clyde-marine.example>"),
          text("Dear Sir/Madam,\n\nAs agreed, we credit the crane hire that was cancelled.\n\n"
               f"Clyde Marine Engineering Ltd, 300 Govan Road, Glasgow G51 2SS - VAT {cv.vat_print}\n\n"
               "CREDIT NOTE CN-0418\nDate: 26/10/2026\nOriginal invoice: CME/2026/7291 (Total £5,214.00)\n\n"
               "Crane hire, half day (cancelled)          475.00\n"
               "VAT @ 20%                                  95.00\n"
               "Total credit                             £570.00\n\n"
               "This amount will be deducted from your next payment.\n\nKind regards,\nCallum Reid\n"),
          {"category": "ap.credit_note", "fields": {"invoice_number": "CN-0418", "invoice_date": "2026-10-26", "amount_total": "570.00",
                                                   "amount_net": "475.00", "amount_tax": "95.00", "currency": "GBP",
                                                   "vendor": "Clyde Marine Engineering Ltd", "vendor_vat_id": cv.vat}},
          meta={"lang": "en"})
    b.add("ap/c-vendor-onboarding-nl-nieuwe-bankgegevens.eml",
          hdrs(addr("Groenewoud Hoveniers B.V.", "administratie@groenewoud-hoveniers.example"), TO_AP, at(2026, 9, 21, 11, 8),
               "Wijziging bankgegevens", "<bankwijziging@groenewoud-hoveniers.example>"),
          text("Geachte heer/mevrouw,\n\nPer 1 oktober 2026 wijzigt ons rekeningnummer. Wilt u onze gegevens in uw\n"
               "crediteurenadministratie aanpassen?\n\n"
               f"Nieuw IBAN: {iban_groups(make_iban('NL', bban_for('NL', random.Random('groenewoud-new'), 'INGB')))}\nBIC: INGBNL2A\n"
               "Ten name van: Groenewoud Hoveniers B.V.\n\nMet vriendelijke groet,\nRuud Groenewoud\n"),
          exp("ap.vendor_onboarding"), meta={"lang": "nl"})
    b.add("ap/c-vendor-onboarding-en-gb-supplier-form.eml",
          hdrs(addr("Pembroke Scaffolding Ltd", "office@pembroke-scaffolding.example"), TO_AP, at(2026, 4, 14, 10, 50, "uk"),
               "New supplier registration - Pembroke Scaffolding", "<supplier-reg@pembroke-scaffolding.example>"),
          text("Hello,\n\nFollowing our appointment for the Bristol warehouse works, please find below the details for\n"
               "your supplier registration form:\n\nCompany: Pembroke Scaffolding Ltd\nCompany No.: 08812245\n"
               f"VAT No.: {vat_gb(random.Random('pembroke'))}\nBank: Lloyds Bank, sort code 30-94-57, account 11840362\n"
               "Accounts contact: office@pembroke-scaffolding.example\n\nThe signed form and our insurance certificate will follow by post.\n\n"
               "Best regards,\nSian Pembroke\n"),
          exp("ap.vendor_onboarding"), meta={"lang": "en"})
    ooo(b, "ap/c-ooo-nl-automatisch-antwoord.eml", "nl", "Bram Verhulst", "bram@zeeland-offshore.example", TO_AP,
        at(2026, 7, 27, 9, 44), "Vraag over factuur ZOS2026-0331",
        "Bedankt voor uw bericht. Ik ben met vakantie tot en met 14 augustus 2026.\n"
        "Voor vragen over facturen kunt u terecht bij administratie@zeeland-offshore.example.\n\nMet vriendelijke groet,\nBram Verhulst\n")
    orig = plain_msg(TO_AP, addr("Billing", "billing@granite-electric-old.example"), at(2026, 8, 31, 11, 0, "us-e"),
                     "Remittance - Ourcompany Inc. payment 2026-08-31", "<remit-20260831-gse@ourcompany.example>",
                     "Hello,\n\nWe paid invoices 004120 and 004133 today by ACH, total $3,482.10.\n\nAccounts Payable\nOurcompany Inc.\n")
    bounce(b, "ap/c-bounce-en-us-mailbox-unavailable.eml", "en", addr("Mail Delivery Subsystem", "mailer-daemon@mx2.ourcompany.example"), TO_AP,
           at(2026, 8, 31, 11, 1, "us-e"), "Delivery Status Notification (Failure)",
           "** Address not found **\n\nYour message wasn't delivered to billing@granite-electric-old.example because the domain\n"
           "couldn't be found. Check for typos or unnecessary spaces and try again.\n", "billing@granite-electric-old.example", orig,
           status="5.1.2", diag="550 5.1.2 Host unknown (Name server: granite-electric-old.example: host not found)", headers_only=True)
    b.add("ap/c-other-newsletter-fr-facture-footer.eml",
          hdrs(addr("Compagnie Provençale de Nettoyage", "newsletter@cpn-nettoyage.example"), TO_AP, at(2026, 10, 1, 7, 0),
               "La lettre CPN – octobre 2026", "<lettre-2026-10@cpn-nettoyage.example>",
               extra=[("List-Unsubscribe", "<https://cpn-nettoyage.example/desinscription>"), ("Precedence", "bulk")]),
          text("LA LETTRE CPN – OCTOBRE 2026\n\nNouveau : le nettoyage écologique certifié Ecolabel pour vos bureaux.\n"
               "Offre d'automne : -15 % sur le nettoyage des vitres jusqu'au 30 novembre.\n\n"
               "--\nVous recevez cette lettre en tant que client. Vos factures et relevés vous sont envoyés séparément\n"
               "par notre service comptabilité. Se désinscrire : https://cpn-nettoyage.example/desinscription\n"),
          exp("other"), meta={"lang": "fr", "confusion": "newsletter-invoice-word"})
    # ------------------------------------------------------------------ AR threads
    northwind = ("Northwind Traders Ltd", "purchase.ledger@northwind-traders.example")
    thread(b, "t11", "en", "OC-2026-0214", "2026-10-15", "2026-11-14", "GBP 2,604.00", northwind, (2026, 11, 24, 8, 0),
           (2026, 11, 24, 12, 9), "uk",
           "Hi,\n\nThis was paid on 20 November 2026 by BACS - GBP 2,604.00, our payment reference NW-PAY-88120.\n"
           "It should be with you by now.\n\nRegards,\nHelen Cartwright\nPurchase Ledger, Northwind Traders Ltd\n",
           exp("ar.remittance", invoice_number="OC-2026-0214", amount_total="2604.00", currency="GBP", payment_date="2026-11-20"))
    sonnenhof = ("Sonnenhof Kliniken GmbH", "rechnungspruefung@sonnenhof-kliniken.example")
    thread(b, "t12", "de", "OC-2026-0221", "02.10.2026", "01.11.2026", "12.614,40 EUR", sonnenhof, (2026, 11, 10, 8, 0),
           (2026, 11, 10, 13, 31), "cet",
           "Sehr geehrte Damen und Herren,\n\ndie Rechnung OC-2026-0221 ist inzwischen freigegeben. Der Betrag wird am 04.12.2026\n"
           "überwiesen.\n\nMit freundlichen Grüßen\nMonika Seidel\nRechnungsprüfung\n",
           exp("ar.promise_to_pay", invoice_number="OC-2026-0221", promised_date="2026-12-04"))
    riviera = ("Groupe Hôtelier Riviera SAS", "fournisseurs@riviera-hotels.example")
    thread(b, "t13", "fr", "OC-2026-0229", "09/10/2026", "08/11/2026", "6 912,00 €".replace(" ", "\u202f"), riviera, (2026, 11, 17, 8, 0),
           (2026, 11, 18, 10, 5), "cet",
           "Bonjour,\n\nNous contestons cette facture : la prestation du 28 septembre a été annulée par nos soins\n"
           "48 heures à l'avance, conformément au contrat. Nous ne réglerons pas la facture OC-2026-0229 et vous\n"
           "demandons de l'annuler par un avoir.\n\nCordialement,\nJean-Luc Ferrand\nService fournisseurs\n",
           exp("ar.dispute", invoice_number="OC-2026-0229"))
    vandijk = ("Van Dijk Retail B.V.", "facturen@vandijk-retail.example")
    thread(b, "t14", "nl", "OC-2026-0233", "14-10-2026", "13-11-2026", "€ 1.512,50", vandijk, (2026, 11, 20, 8, 0),
           (2026, 11, 20, 16, 44), "cet",
           "Beste,\n\nDeze factuur hebben wij nooit ontvangen. Kunt u ons een kopie van factuur OC-2026-0233 sturen?\n"
           "Dan nemen wij hem direct mee in de betaalrun.\n\nGroet,\nMila van Dijk\n",
           exp("ar.invoice_copy_request", invoice_number="OC-2026-0233"), subject_override="Re: herinnering")
    # ------------------------------------------------------------------ AR other
    b.add("ar/c-dispute-de-61007781-preisdifferenz.eml",
          hdrs(addr("Sonnenhof Kliniken GmbH", "rechnungspruefung@sonnenhof-kliniken.example"), TO_AR, at(2026, 10, 29, 9, 18),
               "Rechnung 61007781 – Preisdifferenz", "<pd-61007781@sonnenhof-kliniken.example>"),
          text("Sehr geehrte Damen und Herren,\n\nIhre Rechnung OC-2026-0227 (bei uns erfasst als Beleg 61007781) weicht vom vereinbarten Preis ab:\n"
               "berechnet wurden 24,90 € je Einheit, laut unserer Bestellung 4500219934 gelten 22,50 € je Einheit.\n\n"
               "Wir bitten um Korrektur bzw. eine Gutschrift über die Differenz. Bis dahin ist die Rechnung für\ndie Zahlung gesperrt.\n\n"
               "Mit freundlichen Grüßen\nMonika Seidel\n"),
          exp("ar.dispute", invoice_number="OC-2026-0227"), meta={"lang": "de", "confusion": "invoice-subject-is-dispute"})
    b.add("ar/c-dispute-nl-prijsverschil.eml",
          hdrs(addr("Van Dijk Retail B.V.", "facturen@vandijk-retail.example"), TO_AR, at(2026, 11, 5, 11, 2),
               "Factuur OC-2026-0241 - prijsverschil", "<pv-0241@vandijk-retail.example>"),
          text("Goedendag,\n\nOp factuur OC-2026-0241 is een stukprijs van € 7,95 berekend, terwijl in onze inkooporder\n"
               "€ 7,25 is afgesproken. Wij gaan niet akkoord met deze factuur en ontvangen graag een creditnota\n"
               "voor het verschil.\n\nMet vriendelijke groet,\nMila van Dijk\n"),
          exp("ar.dispute", invoice_number="OC-2026-0241"), meta={"lang": "nl", "confusion": "invoice-subject-is-dispute"})
    b.add("ar/c-remittance-fr-paymoor.eml",
          hdrs(addr("Paymoor", "service@paymoor.example"), TO_AR, at(2026, 11, 16, 17, 2),
               "Groupe Hôtelier Riviera SAS vous a envoyé un paiement de 1\u202f234,00 €", "<pm-fr-9KQ20031@paymoor.example>",
               extra=[("Auto-Submitted", "auto-generated")]),
          text("Bonjour Ourcompany France SAS,\n\nGroupe Hôtelier Riviera SAS vous a envoyé un paiement de 1\u202f234,00 € EUR.\n\n"
               "Message : « Facture OC-2026-0236 »\nN° de transaction : 9KQ20031LM557204\nDate : 16 novembre 2026\n\n"
               "Paymoor\nMerci de ne pas répondre à cet e-mail.\n"),
          exp("ar.remittance", invoice_number="OC-2026-0236", amount_total="1234.00", currency="EUR", payment_date="2026-11-16"),
          meta={"lang": "fr", "confusion": "payment-platform"})
    b.add("ar/c-remittance-en-gb-sendwise.eml",
          hdrs(addr("Sendwise", "no-reply@sendwise.example"), TO_AR, at(2026, 11, 26, 10, 11, "uk"),
               "Northwind Traders Ltd sent you £2,150.00", "<sw-en-2026112610@sendwise.example>",
               extra=[("Auto-Submitted", "auto-generated")]),
          text("Hi Ourcompany UK Ltd,\n\nYou've got money! Northwind Traders Ltd sent you £2,150.00 GBP.\n\n"
               "Reference: OC-2026-0244\nDate: 26 November 2026\nTransfer #: 529114806\n\n"
               "The money is now in your GBP balance.\n\nThe Sendwise team\n"),
          exp("ar.remittance", invoice_number="OC-2026-0244", amount_total="2150.00", currency="GBP", payment_date="2026-11-26"),
          meta={"lang": "en", "confusion": "payment-platform"})
    b.add("ar/c-remittance-de-chargebay.eml",
          hdrs(addr("Chargebay", "receipts@chargebay.example"), TO_AR, at(2026, 10, 22, 15, 30),
               "Zahlung erhalten: 980,00 € von Sonnenhof Kliniken GmbH", "<cb-de-py-7hTz2@chargebay.example>",
               extra=[("Auto-Submitted", "auto-generated")]),
          text("Sie haben eine Zahlung erhalten.\n\nBetrag: 980,00 €\nVon: Sonnenhof Kliniken GmbH\nBeschreibung: OC-2026-0218\n"
               "Datum: 22. Oktober 2026\nZahlungsmethode: SEPA-Lastschrift\n\nDie Auszahlung auf Ihr Bankkonto erfolgt gemäß Ihrem Auszahlungsplan.\n\n— Chargebay\n"),
          exp("ar.remittance", invoice_number="OC-2026-0218", amount_total="980.00", currency="EUR", payment_date="2026-10-22"),
          meta={"lang": "de", "confusion": "payment-platform"})
    b.add("ar/c-remittance-de-zahlungsavis.eml",
          hdrs(addr("Sonnenhof Kliniken GmbH - Zahlungsverkehr", "zahlungsverkehr@sonnenhof-kliniken.example"), TO_AR, at(2026, 11, 27, 6, 45),
               "Zahlungsavis 2026-11-27", "<avis-20261127@sonnenhof-kliniken.example>", extra=[("Auto-Submitted", "auto-generated")]),
          text("ZAHLUNGSAVIS\n\nZahlender:     Sonnenhof Kliniken GmbH\nEmpfänger:     Ourcompany Europe GmbH\nAusführung:    27.11.2026\n\n"
               "Beleg           Rechnungsdatum   Betrag\nOC-2026-0209    21.09.2026       3.570,00\nOC-2026-0216    30.09.2026       1.249,50\n"
               "                                 --------\nSumme EUR                        4.819,50\n\nDiese Nachricht wurde maschinell erstellt.\n"),
          exp("ar.remittance", invoice_number="OC-2026-0209", amount_total="4819.50", currency="EUR", payment_date="2026-11-27"),
          meta={"lang": "de"})
    b.add("ar/c-copy-request-fr-copies-pour-paiement.eml",
          hdrs(addr("Groupe Hôtelier Riviera SAS", "fournisseurs@riviera-hotels.example"), TO_AR, at(2026, 10, 8, 10, 26),
               "Demande de duplicata", "<dup-0248-0252@riviera-hotels.example>"),
          text("Bonjour,\n\nMerci de nous envoyer une copie des factures OC-2026-0248 et OC-2026-0252 afin que nous puissions\n"
               "procéder au paiement ; elles ne figurent pas dans notre système.\n\nCordialement,\nJean-Luc Ferrand\n"),
          exp("ar.invoice_copy_request", invoice_number="OC-2026-0248"), meta={"lang": "fr", "confusion": "copy-request-mentions-payment"})
    b.add("ar/c-copy-request-nl-kopieen-voor-betaling.eml",
          hdrs(addr("Van Dijk Retail B.V.", "facturen@vandijk-retail.example"), TO_AR, at(2026, 9, 30, 14, 40),
               "Kopieën facturen", "<kopie-0255-0259@vandijk-retail.example>"),
          text("Hallo,\n\nWilt u ons kopieën sturen van de facturen OC-2026-0255 en OC-2026-0259? Wij willen de betaling\n"
               "deze week verwerken, maar missen de originelen.\n\nBedankt,\nMila van Dijk\n"),
          exp("ar.invoice_copy_request", invoice_number="OC-2026-0255"), meta={"lang": "nl", "confusion": "copy-request-mentions-payment"})
    b.add("ar/c-promise-to-pay-en-us-scheduled.eml",
          hdrs(addr("Lakeview Medical Partners - Payables", "payables@lakeview-medical.example"), TO_AR, at(2026, 11, 12, 14, 3, "us-c"),
               "RE: Invoice OC-2026-0238", "<lmp-0238-sched@lakeview-medical.example>"),
          text("Hi,\n\nInvoice OC-2026-0238 has been approved and payment is scheduled for 12/04/2026 via ACH.\n\n"
               "Thanks,\nGreg Hollis\nPayables, Lakeview Medical Partners\n"),
          exp("ar.promise_to_pay", invoice_number="OC-2026-0238", promised_date="2026-12-04"), meta={"lang": "en"})
    ooo(b, "ar/c-ooo-en-us-out-of-office.eml", "en", "Greg Hollis", "greg.hollis@lakeview-medical.example", TO_AR,
        at(2026, 11, 25, 8, 3, "us-c"), "Statement of open invoices - Lakeview Medical Partners",
        "I am out of the office for the Thanksgiving holiday and will return on Monday, November 30.\n"
        "For urgent payment or invoice questions please email payables@lakeview-medical.example.\n\nGreg\n")
    orig = message(hdrs(TO_AR, addr("Comptabilité", "compta@ancien-client-durand.example"), at(2026, 10, 6, 8, 0),
                        "Relance : facture OC-2026-0204", "<dunning-OC-2026-0204-step1@ourcompany.example>",
                        extra=[("Auto-Submitted", "auto-generated")]),
                   text(REMINDER["fr"][1].format(num="OC-2026-0204", d1="28/08/2026", d2="27/09/2026", amt="780,00 €", entity=OUR_ENTITY["fr"])), False)
    bounce(b, "ar/c-bounce-fr-non-remis.eml", "fr", addr("Microsoft Outlook", "postmaster@ourcompany.example"), TO_AR,
           at(2026, 10, 6, 8, 1), "Non remis : Relance : facture OC-2026-0204",
           "Votre message n'a pas pu être remis à un ou plusieurs destinataires.\n\ncompta@ancien-client-durand.example\n"
           "La boîte aux lettres du destinataire est pleine et ne peut pas accepter de messages pour le moment.\n",
           "compta@ancien-client-durand.example", orig, status="5.2.2", diag="552 5.2.2 Mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException")
    b.add("ar/c-other-internal-nl-kwartaalafsluiting.eml",
          hdrs(addr("Femke de Graaf", "femke.degraaf@ourcompany.example"), TO_AR, at(2026, 9, 28, 16, 40),
               "Planning kwartaalafsluiting Q3", "<fdg-q3-close@ourcompany.example>"),
          text("Hoi allemaal,\n\nVoor de kwartaalafsluiting Q3 wil ik donderdag de debiteurenlijst doornemen: welke facturen\n"
               "staan langer dan 60 dagen open en waar loopt een geschil? Graag jullie input voor woensdag.\n\n"
               "Groetjes,\nFemke\nFinance | Ourcompany Benelux B.V.\n"),
          exp("other"), meta={"lang": "nl"})
    return b.out


# ---------------------------------------------------------------------------
# checks, README, main
# ---------------------------------------------------------------------------

FAMILY_DOC = [
    # (family, split, what it exercises)
    ("band", "dev", "label above value: a shaded header band with the labels (Invoice No. / Date / Due / PO / Customer No.), the values in the row below in the same columns; letterhead top left"),
    ("twocol", "dev", "two-column header: seller block left, key/value block right with the values right-aligned in their own column; Pos/qty+unit table"),
    ("letter", "dev", "business letter (DIN 5008 style): small sender line over the address window, vendor name top right, info block 'Label: value' on one line, four-column footer"),
    ("widegap", "dev", "centred letterhead (Times); every header and total row is label at the left margin, value right-aligned at the page edge"),
    ("multipage", "dev", "30-66 items over 2-3 pages, 'Carried forward'/'Übertrag'/'À reporter' subtotals, totals on the last page, 'Page x of n' footers"),
    ("account", "dev", "utility/SaaS account summary: previous balance, payment received, balance forward, current charges, total amount due; the grand total is 'Total current charges'"),
    ("html", "dev", "invoice in an HTML mail body, no PDF: letterhead row, two-column label/value table, item table with thead/tfoot (sometimes with a plain-text alternative)"),
    ("plain", "dev", "invoice in a plain-text mail body, no PDF: 'Label ......: value' header, fixed-width item lines"),
    ("scan", "dev", "scanned invoice: one JPEG page image, no text layer (expected fields {}, no_text_layer)"),
    ("grid", "holdout", "label above value in bordered grid cells (small caps label at the top of the cell, value below), big title left, vendor block right-aligned, ruled item grid, totals box"),
    ("fromto", "holdout", "'From' and 'Bill to' boxes (vendor only in the From box and the footer, no letterhead), right column with each label above its value, amount-due box"),
    ("summary", "holdout", "billing-platform style: key/value list with values in a second column, three address blocks, 'X due <date>' headline, Subtotal / Total excluding tax / tax on base / Total / Amount paid / Amount due"),
    ("repeathead", "holdout", "34-70 items over 2-3 pages, full letterhead and a one-line 'Label: value  Label: value' strip repeated on every page, carried sums, totals on the last page"),
    ("rightlabels", "holdout", "ERP form: labels right-aligned against a colon column with the values left-aligned after it, order/delivery-note numbers, totals with right-aligned labels"),
    ("html", "holdout", "HTML body, no PDF: header labels in one table row with the values in the row below, seller/buyer side by side, totals in a separate table"),
    ("plain", "holdout", "plain-text body, no PDF: ASCII-ruled header box (labels row, values row), 'qty x item @ price = amount' lines"),
    ("scan", "holdout", "scanned invoice, more skewed (2-2.6°), no text layer"),
]


def check_expected(split: str, exp: dict):
    dev_vendors = {v.name for v in VENDOR_LIST if v.split == "dev"}
    for path, e in exp.items():
        f = e["fields"]
        for k in ("invoice_date", "due_date", "payment_date", "promised_date"):
            if k in f:
                d = dt.date.fromisoformat(f[k])
                assert d.year == 2026, (path, k)
        if "iban" in f:
            ib = f["iban"]
            assert _mod97(ib[4:] + ib[:4]) == 1, path
        if {"amount_net", "amount_tax", "amount_total"} <= f.keys():
            assert D(f["amount_net"]) + D(f["amount_tax"]) == D(f["amount_total"]), path
        if "due_date" in f:
            assert f["due_date"] >= f["invoice_date"], path
        if split == "holdout" and "vendor" in f:
            assert f["vendor"] not in dev_vendors, path
        allowed = {"invoice_number", "invoice_date", "due_date", "amount_total", "amount_net", "amount_tax", "amount_due", "currency",
                   "po_number", "vendor", "vendor_vat_id", "iban", "payment_date", "promised_date"}
        assert f.keys() <= allowed, (path, f.keys() - allowed)


def write_split(split: str, items: dict):
    base = EVAL_DIR / split
    expected = {}
    for path in sorted(items):
        data, e, _meta = items[path]
        p = base / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        expected[path] = e
    check_expected(split, expected)
    (base / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return expected


def counts(items: dict):
    from collections import Counter
    inv_lang, cls_lang, cats, fams, kinds, traps = Counter(), Counter(), Counter(), Counter(), Counter(), Counter()
    for path, (_d, e, meta) in items.items():
        cats[e["category"]] += 1
        if meta["kind"] == "invoice":
            inv_lang[meta["lang"]] += 1
            fams[meta["family"]] += 1
            kinds["invoice"] += 1
            traps.update(meta["traps"])
        else:
            cls_lang[meta["lang"]] += 1
            kinds["classification"] += 1
    return inv_lang, cls_lang, cats, fams, kinds, traps


TRAP_DOC = {
    "skonto": "early-payment discount line (Skonto / escompte / sconto / korting / discount if paid by) that is not the total",
    "deposit": "amount already paid (deposit) and a smaller amount due below the grand total -> `amount_due`",
    "balance": "previous balance / payment received / balance forward, total amount due above the grand total -> `amount_due`",
    "balance-zero": "the same account summary with balance forward 0.00 (amount due = total, no `amount_due`)",
    "reverse-charge": "intra-EU reverse charge (AT->DE, BE->NL, BE->FR): tax 0.00 and a legal note, buyer VAT ID printed",
    "total-column-header": "the line-amount column is headed Total / Gesamt / Totaal / Totale / Summe",
    "discount": "a negative discount line inside the item table",
    "ambig": "only ambiguous slash dates (day <= 12) in a US or UK document: the locale decides",
    "terms-only": "no due date printed, only 'Net N' terms (`due_date` = invoice date + N)",
    "no-due": "neither due date nor terms printed (no `due_date`)",
}

def table(rows, header):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def readme(splits: dict) -> str:
    from collections import Counter
    c = {s: counts(items) for s, items in splits.items()}
    cats = sorted(set(c["dev"][2]) | set(c["holdout"][2]))
    fam_rows = [(f"`{f}`", s, c[s][3][f], what) for f, s, what in FAMILY_DOC]
    base = {s: (Counter(), Counter()) for s in c}
    for s in c:
        for l, n in c[s][0].items():
            base[s][0][l[:2]] += n
        for l, n in c[s][1].items():
            base[s][1][l[:2]] += n
    lang_rows = [(l, base["dev"][0][l], base["dev"][1][l], base["holdout"][0][l], base["holdout"][1][l]) for l in ("en", "de", "fr", "nl", "es", "it")]
    lang_rows.append(("**total**", sum(c["dev"][0].values()), sum(c["dev"][1].values()), sum(c["holdout"][0].values()), sum(c["holdout"][1].values())))
    locs = sorted(set(c["dev"][0]) | set(c["holdout"][0]))
    loc_rows = [(l, c["dev"][0][l], c["holdout"][0][l]) for l in locs]
    trap_rows = [(f"`{t}`", c["dev"][5][t], c["holdout"][5][t], what) for t, what in TRAP_DOC.items()]
    cat_rows = [(f"`{k}`", c["dev"][2][k], c["holdout"][2][k]) for k in cats]
    cat_rows.append(("**total**", sum(c["dev"][2].values()), sum(c["holdout"][2].values())))
    dev_v = sorted(v.name for v in VENDOR_LIST if v.split == "dev")
    ho_v = sorted(v.name for v in VENDOR_LIST if v.split == "holdout")
    return README_TEMPLATE.format(
        families=table(fam_rows, ["family", "split", "invoices", "layout"]),
        langs=table(lang_rows, ["language", "dev invoices", "dev classification", "holdout invoices", "holdout classification"]),
        locales=table(loc_rows, ["invoice locale", "dev", "holdout"]),
        traps=table(trap_rows, ["trap (invoices)", "dev", "holdout", "what"]),
        cats=table(cat_rows, ["category", "dev", "holdout"]),
        dev_vendors=", ".join(dev_v), holdout_vendors=", ".join(ho_v),
        dev_platforms=", ".join(f"{p[0]} <{p[1]}>" for p in PLATFORMS["dev"]),
        holdout_platforms=", ".join(f"{p[0]} <{p[1]}>" for p in PLATFORMS["holdout"]),
    )


def main():
    if EVAL_DIR.exists():
        for sub in ("dev", "holdout"):
            if (EVAL_DIR / sub).exists():
                shutil.rmtree(EVAL_DIR / sub)
    EVAL_DIR.mkdir(parents=True, exist_ok=True)
    splits = {}
    for split, plan, cases in (("dev", DEV_INVOICES, dev_cases), ("holdout", HOLDOUT_INVOICES, holdout_cases)):
        items = {}
        build_invoice_mails(split, plan, items)
        for k, val in cases().items():
            assert k not in items
            items[k] = val
        splits[split] = items
    assert not ({f for f, *_ in DEV_INVOICES} & {f for f, *_ in HOLDOUT_INVOICES} - {"html", "plain", "scan"})
    for split, items in splits.items():
        write_split(split, items)
    (EVAL_DIR / "README.md").write_text(readme(splits), encoding="utf-8")
    for split, items in splits.items():
        inv_lang, cls_lang, cats, fams, kinds, traps = counts(items)
        print(f"{split}: {kinds['invoice']} invoices, {kinds['classification']} classification cases -> {EVAL_DIR / split}")


README_TEMPLATE = """# deskmail evaluation corpus

Invoices in many real-world layouts and AP/AR classification cases, in two splits. Generated by
`scripts/make-eval.py` (do not edit the files by hand: change the script and regenerate).

```
fixtures/eval/README.md          this file (written by the script)
fixtures/eval/dev/expected.json  {{"ap/<name>.eml": {{"category": "...", "fields": {{...}}}}, ...}}
fixtures/eval/dev/ap/*.eml       messages delivered to ap@ourcompany.example (mailbox role "ap")
fixtures/eval/dev/ar/*.eml       messages delivered to ar@ourcompany.example (mailbox role "ar")
fixtures/eval/holdout/...        the same structure: the held-aside split
```

## The split rule: nobody tunes on holdout

* `dev/` is for developing and tuning the engine: look at it, debug on it, write rules against it.
* `holdout/` is for measuring only. Do not open its files to fix a miss, do not add rules, keywords,
  label variants or vendor names because a holdout case failed, and do not report a figure tuned on it.
  If holdout is ever used for tuning, regenerate a new holdout (new families, new vendors) before
  quoting a number again.
* Holdout is honest because it shares nothing template-like with dev: **every holdout invoice uses a
  layout family that does not occur in dev** (different geometry, label placement, fonts and wording
  of the same phenomena) and **every vendor, customer and billing platform in holdout is absent from
  dev**. The invoice-in-body and scan families exist in both splits, but as different templates
  (holdout HTML puts labels above values, holdout plain text uses ruled boxes, holdout scans are more
  skewed). Languages, number and date formats and the traps (Skonto, deposits, balance forward,
  reverse charge, carried-forward subtotals, buyer VAT IDs, delivery dates, customer numbers) occur
  in both.

## How the evaluator uses it

Ingest every `.eml` under a split directory in sorted path order into one fresh store; the top-level
directory (`ap` or `ar`) is the mailbox role. Threads: file names sort chronologically within a thread
(`ar/t01-1-our-reminder-…`, `ar/t01-2-reply-…`); replies carry `In-Reply-To`/`References` pointing at
the reminder (one holdout reply, `t14`, and one dev reply, `t04`, changed the subject). Then compare
each message listed in `expected.json`.

## Expectations

`expected.json` maps the path (relative to the split directory) to `{{"category", "fields"}}`, keys
sorted, 2-space indent. Categories are those of `shared/DOMAIN.md`. A field appears **only** when the
message (body, HTML, or the PDF's text) clearly states it.

| field | meaning |
|---|---|
| `invoice_number` | the document's own number, exactly as printed (credit note: the credit note's number; AR mails: the invoice referred to, the first one if several) |
| `invoice_date`, `due_date` | ISO dates; `due_date` also when only "Net 30"-style terms are printed (invoice date + N days, the house rule of `fixtures/README.md`) |
| `amount_total` | grand total including tax (TTC / brutto / incl. BTW) with the document's decimals, dot, no grouping; never the net, a line, a Skonto amount, a carried-forward subtotal, a previous balance or an amount still due |
| `amount_net`, `amount_tax` | the printed net and tax totals (tax `0.00` on reverse-charge and tax-free documents that print it) |
| `amount_due` | only when the document prints an amount due that differs from the total (deposit paid, balance brought forward) |
| `currency` | ISO 4217 |
| `po_number` | only when labelled as the buyer's purchase order (Ihre Bestellung, Bon de commande, Inkoopordernummer, Vs. ordine, N.º de pedido …), never the vendor's own order/delivery-note numbers |
| `vendor` | the seller's name exactly as printed in the letterhead / seller block (the From display name is often generic); never the buyer (Ourcompany …) |
| `vendor_vat_id` | the seller's VAT ID, upper case, no spaces, dots or hyphens, with country prefix; the Swiss UID `CHE-123.456.789 MWST` becomes `CHE123456789` |
| `iban` | the seller's IBAN, upper case, no spaces (all check digits valid) |
| `payment_date` | remittances: the date the customer paid |
| `promised_date` | promises to pay: the promised payment date |

Scanned invoices (an image, no text layer) expect `{{"category": "ap.invoice", "fields": {{}}, "no_text_layer": true}}`.
Statements, vendor onboarding, auto-replies, bounces and `other` expect `{{}}`.

## Layout families and splits

{families}

Every invoice PDF draws each label and each value as its own text object at its own position
(reportlab, standard Type1 fonts Helvetica/Times, WinAnsi encoding, page streams Flate-compressed),
A4 or US Letter (US vendors). French PDF amounts are grouped with NBSP (U+00A0) or a plain space;
French amounts in mail bodies use U+202F (narrow no-break space). Swiss amounts use `1'234.50` or
`1’234.50`.

## Counts per language

{langs}

Invoices by locale (classification cases are EN (US and UK), DE, FR and NL):

{locales}

## Traps in the invoices

{traps}

Every invoice also has distractors next to the fields: customer numbers, the vendor's order and
delivery-note numbers, delivery dates, the buyer's own VAT ID in the address block (always on
reverse-charge documents), German tax numbers (Steuernummer), UK sort code and account number beside
the IBAN, the French legal mentions (40 € recovery indemnity, late-payment penalties), and US vendors
with ACH details and no IBAN or VAT ID.

## Counts per category

{cats}

## What varies (both splits)

* Languages and locales: EN-US (`11/03/2026` = 3 November, `Nov 3, 2026`), EN-GB (`03/11/2026`,
  `12-Nov-2026`, `3 November 2026`), DE (`03.11.2026`, `3. November 2026`), DE-AT, DE-CH (CHF,
  apostrophe grouping, MWST 8.1 %), FR (`03/11/2026`, `3 novembre 2026`), FR-BE, NL (`03-11-2026`), NL-BE,
  ES (`3 de noviembre de 2026`), IT. Some US and UK documents have only ambiguous slash dates (day ≤ 12):
  the locale (address, currency, language) decides.
* Money formats: `1.234,56 €`, `€ 1.234,56`, `EUR 1.234,56`, `1 234,56 €`, `$1,234.56`, `£1,234.56`,
  `CHF 1'234.50`; totals sometimes with currency, line amounts usually bare.
* Senders: the vendor's own name and domain, a generic display name at the vendor's domain (Billing,
  Accounts Receivable, noreply, Invoices, Buchhaltung, Comptabilité, Facturatie, Amministrazione …), or a
  billing platform (dev: {dev_platforms}; holdout: {holdout_platforms}). Bodies are mostly short generic
  notes without numbers; about one PDF mail in five repeats number, total and due date in the body.
* MIME: multipart/mixed with text or text+HTML alternative, attachments as `application/pdf` or
  `application/octet-stream`, RFC 2231 file names, quoted-printable / base64 / 8bit bodies, CRLF and LF files.

## Classification cases and the known confusions

Both splits cover every category of `shared/DOMAIN.md`. Confusions deliberately included (each several
times across the splits, in EN/DE/FR/NL):

* a customer's "Invoice 61004452 - pricing discrepancy" / "Rechnung 61007781 – Preisdifferenz" to ar@ is
  `ar.dispute` (the number in the subject is the customer's own document number; the body names our
  `OC-2026-…` invoice, which is the expected `invoice_number`);
* replies to OUR OWN reminders (`ar/tNN-1-our-reminder-…`, from ar@ourcompany.example, `Auto-Submitted:
  auto-generated`, category `other`) are AR: promise to pay, dispute, remittance or copy request, whatever
  the subject says (two replies have changed subjects);
* payment-platform notifications ("Acme Corp sent you a payment of $8,912.35"; PayPal-, Stripe- and
  Wise-like platforms: Paylark, Stripewell, Transferly in dev; Paymoor, Chargebay, Sendwise in holdout)
  are `ar.remittance`;
* "please send copies of invoices … we want to process the payment" is `ar.invoice_copy_request`;
* a vendor dunning letter with the invoice PDF attached again is `ap.payment_inquiry`, not `ap.invoice`;
* vendor statements (`ap.statement`), credit notes in PDF and in the body (`ap.credit_note`), bank-detail
  changes and supplier forms (`ap.vendor_onboarding`), out-of-office replies with and without
  Auto-Submitted headers, DSN bounces (message/rfc822 or text/rfc822-headers inside) and newsletters
  with "invoice"/"Rechnung"/"facture" in the footer (`other`).

Vendors in dev: {dev_vendors}.

Vendors in holdout: {holdout_vendors}.

All names, addresses, phone numbers and domains are invented; all domains end in `.example`. VAT IDs
are syntactically valid for their country (DE/AT/FR/NL/BE/ES/IT/GB/CHE check digits computed), IBANs
carry valid ISO 13616 check digits (and valid national check digits where a country has them:
FR RIB key, ES DC, IT CIN, BE mod 97), US routing numbers pass the ABA checksum.

## Regenerating

```
python3 -m venv /var/tmp/deskmail-py-eval
/var/tmp/deskmail-py-eval/bin/pip install -r scripts/requirements-eval.txt
/var/tmp/deskmail-py-eval/bin/python scripts/make-eval.py          # rewrites fixtures/eval/{{dev,holdout,README.md}}
```

`EVAL_DIR=/tmp/x` writes elsewhere. The output is byte-identical from run to run with the pinned
packages (reportlab `invariant=1`, seeded `random.Random`, fixed dates, boundaries and Message-IDs);
check with two runs into two directories and `diff -r`. A different reportlab, Pillow or zlib may
compress the PDF streams and JPEG scans to different bytes that decode to the same content.
"""


if __name__ == "__main__":
    main()
