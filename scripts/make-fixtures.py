#!/usr/bin/env python3
"""Generate deskmail's synthetic test fixtures.

Run from the repository root:

    python3 scripts/make-fixtures.py

Standard library only (Python 3.11+).  The script is deterministic: fixed dates,
fixed MIME boundaries, fixed Message-IDs and no random numbers, so running it
twice produces byte-identical files.

It writes
  * every fixture message that carries a PDF (fixtures/mail/<group>/<name>.eml)
    together with its golden expectation (<name>.expected.json),
  * the PDFs themselves under fixtures/pdf/<group>-<name>.pdf, each with a
    <...>.expected.txt holding the text lines drawn on the page,
  * the synthetic messages that are impractical to write by hand: a multipart
    nested 60 levels deep, a message with 500 tiny attachments and 4 KiB of
    binary junk.

The PDFs are written by hand: PDF 1.4, standard Type1 fonts Helvetica and
Helvetica-Bold with /Encoding /WinAnsiEncoding, text drawn with
BT / Tf / Td / Tj / ET, and a correct cross-reference table.  One PDF is
Flate-compressed, one is deliberately corrupt (truncated stream, garbage, no
xref/trailer) and one is encrypted with the Standard security handler
(RC4 40-bit, /V 1 /R 2; user password "OUR-0042", owner password
"sterling-owner-2026").

The hand-written fixtures in fixtures/mail are not touched by this script.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import pathlib
import quopri
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
# FIXTURES_DIR redirects the output (tests regenerate into a temp dir and compare).
FIXTURES_DIR = pathlib.Path(os.environ.get("FIXTURES_DIR", ROOT / "fixtures"))
MAIL_DIR = FIXTURES_DIR / "mail"
PDF_DIR = FIXTURES_DIR / "pdf"

CREATOR = "deskmail scripts/make-fixtures.py"


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

def iban(country: str, bban: str) -> str:
    """Return a printable IBAN with correct ISO 13616 check digits."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    raw = f"{country}{check:02d}{bban}"
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def rfc_date(y, mo, d, h, mi, s, tz="+0100") -> str:
    """RFC 5322 date with the correct weekday."""
    day = dt.date(y, mo, d)
    return (f"{day.strftime('%a')}, {d} {day.strftime('%b')} {y} "
            f"{h:02d}:{mi:02d}:{s:02d} {tz}")


def encoded_word(text: str) -> str:
    """RFC 2047 Q-encoded word(s) for a header phrase; ASCII passes through."""
    if all(32 <= ord(c) < 127 for c in text):
        return text
    safe = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
    words, cur = [], ""
    for ch in text:
        enc = ""
        for b in ch.encode("utf-8"):
            if b == 0x20:
                enc += "_"
            elif b in safe:
                enc += chr(b)
            else:
                enc += f"={b:02X}"
        if len(cur) + len(enc) > 45:
            words.append(cur)
            cur = ""
        cur += enc
    words.append(cur)
    return " ".join(f"=?UTF-8?Q?{w}?=" for w in words)


def mailbox(name: str, addr: str) -> str:
    if all(32 <= ord(c) < 127 for c in name):
        return f'"{name}" <{addr}>'
    return f"{encoded_word(name)} <{addr}>"


def b64_lines(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def text_part(body: str, subtype: str = "plain") -> str:
    """A text/* part; quoted-printable UTF-8 when the text is not plain ASCII."""
    if not body.endswith("\n"):
        body += "\n"
    if all(ord(c) < 128 for c in body) and max(len(l) for l in body.split("\n")) <= 76:
        return (f"Content-Type: text/{subtype}; charset=us-ascii\n"
                f"Content-Transfer-Encoding: 7bit\n\n{body}")
    qp = quopri.encodestring(body.encode("utf-8"), quotetabs=False).decode("ascii")
    return (f"Content-Type: text/{subtype}; charset=utf-8\n"
            f"Content-Transfer-Encoding: quoted-printable\n\n{qp}")


def pdf_part(data: bytes, filename: str, *, ctype_name: str | None = None) -> str:
    name_param = ctype_name if ctype_name is not None else f'name="{filename}"'
    return (f"Content-Type: application/pdf; {name_param}\n"
            f'Content-Disposition: attachment; filename="{filename}"\n'
            f"Content-Transfer-Encoding: base64\n\n{b64_lines(data)}")


def multipart(subtype: str, boundary: str, parts: list[str],
              preamble: str = "This is a multi-part message in MIME format.\n") -> str:
    out = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n'
    out += preamble
    for p in parts:
        if not p.endswith("\n"):
            p += "\n"
        out += f"\n--{boundary}\n{p}"
    out += f"\n--{boundary}--\n"
    return out


def message(headers: list[tuple[str, str]], body_entity: str) -> str:
    """Top-level headers followed by the entity (which starts with its own
    Content-* headers)."""
    head = "".join(f"{k}: {v}\n" for k, v in headers)
    return head + "MIME-Version: 1.0\n" + body_entity


# ---------------------------------------------------------------------------
# PDF writer
# ---------------------------------------------------------------------------

PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


class Rc4Security:
    """Standard security handler, /V 1 /R 2, 40-bit RC4 (PDF 1.4 spec 3.5.2)."""

    def __init__(self, user_pw: str, owner_pw: str, doc_id: bytes, p: int = -44):
        self.p = p
        self.doc_id = doc_id
        upad = (user_pw.encode("latin-1") + PAD)[:32]
        opad = (owner_pw.encode("latin-1") + PAD)[:32]
        # Algorithm 3.3: the /O entry.
        okey = hashlib.md5(opad).digest()[:5]
        self.o = rc4(okey, upad)
        # Algorithm 3.2: the file encryption key.
        h = hashlib.md5()
        h.update(upad)
        h.update(self.o)
        h.update((p & 0xFFFFFFFF).to_bytes(4, "little"))
        h.update(doc_id)
        self.key = h.digest()[:5]
        # Algorithm 3.4 (revision 2): the /U entry.
        self.u = rc4(self.key, PAD)

    def obj_key(self, num: int, gen: int = 0) -> bytes:
        k = self.key + num.to_bytes(3, "little") + gen.to_bytes(2, "little")
        return hashlib.md5(k).digest()[:min(len(self.key) + 5, 16)]

    def encrypt(self, num: int, data: bytes) -> bytes:
        return rc4(self.obj_key(num), data)

    def dictionary(self) -> bytes:
        return (b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P %d /O <%s> /U <%s> >>"
                % (self.p, self.o.hex().upper().encode(), self.u.hex().upper().encode()))


def pdf_text(s: str) -> bytes:
    """A PDF literal string body in WinAnsi (cp1252); non-ASCII as octal escapes."""
    out = bytearray()
    for b in s.encode("cp1252"):
        if b in (0x28, 0x29, 0x5C):
            out += b"\\" + bytes([b])
        elif b < 0x20 or b > 0x7E:
            out += b"\\%03o" % b
        else:
            out.append(b)
    return bytes(out)


# A page is a list of lines.  Each line is (style, text) where style is
# "H" (bold 16), "h" (bold 12), "B" (bold 10), "" (regular 10), "S" (regular 8)
# or the line is None for a small vertical gap.
STYLES = {"H": ("F2", 16, 24), "h": ("F2", 12, 18), "B": ("F2", 10, 14),
          "": ("F1", 10, 14), "S": ("F1", 8, 11)}


def layout(lines, width, height):
    """Turn lines into content streams (one per page) and the plain text."""
    pages, cur, y = [], [], height - 56
    page_texts, cur_text = [], []
    for line in lines:
        if line is None:
            y -= 8
            continue
        style, text = line
        font, size, lead = STYLES[style]
        if y - lead < 40:
            pages.append(cur)
            page_texts.append(cur_text)
            cur, cur_text, y = [], [], height - 56
        y -= lead
        cur.append(b"BT /%s %d Tf 50 %d Td (%s) Tj ET" % (font.encode(), size, y, pdf_text(text)))
        cur_text.append(text)
    pages.append(cur)
    page_texts.append(cur_text)
    streams, text_lines = [], []
    for i, p in enumerate(pages):
        ops = [b"0.6 g 50 %d m %d %d l %d %d l 50 %d l h f 0 g" % (
            height - 44, width - 50, height - 44, width - 50, height - 46, height - 46)]
        ops += p
        footer = "Page %d of %d" % (i + 1, len(pages))
        ops.append(b"BT /F1 7 Tf 50 28 Td (%s) Tj ET" % footer.encode("ascii"))
        streams.append(b"\n".join(ops) + b"\n")
        text_lines += page_texts[i] + [footer]
    return streams, text_lines


def pdf_date(when: dt.datetime) -> str:
    return when.strftime("D:%Y%m%d%H%M%S+01'00'")


def build_pdf(lines, *, title: str, author: str, created: dt.datetime,
              letter: bool = False, compress: bool = False,
              security: Rc4Security | None = None,
              open_action_js: str | None = None):
    """Return (pdf_bytes, text_lines)."""
    width, height = (612, 792) if letter else (595, 842)
    streams, text_lines = layout(lines, width, height)
    n_pages = len(streams)
    # object numbers: 1 catalog, 2 pages, 3 F1, 4 F2, 5 info,
    # then (page, contents) pairs, then optional JS action, then encrypt dict.
    objs: dict[int, bytes] = {}
    page_nums = [6 + 2 * i for i in range(n_pages)]
    next_num = 6 + 2 * n_pages
    js_num = None
    if open_action_js is not None:
        js_num = next_num
        next_num += 1
    enc_num = None
    if security is not None:
        enc_num = next_num
        next_num += 1

    def lit(num: int, s: str) -> bytes:
        raw = s.encode("cp1252")
        if security is not None:
            return b"<" + security.encrypt(num, raw).hex().upper().encode() + b">"
        return b"(" + pdf_text(s) + b")"

    catalog = b"<< /Type /Catalog /Pages 2 0 R"
    if js_num is not None:
        catalog += b" /OpenAction %d 0 R" % js_num
    objs[1] = catalog + b" >>"
    objs[2] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % n for n in page_nums)
               + b"] /Count %d >>" % n_pages)
    objs[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objs[4] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    objs[5] = (b"<< /Title " + lit(5, title) + b" /Author " + lit(5, author)
               + b" /Creator " + lit(5, CREATOR) + b" /Producer " + lit(5, CREATOR)
               + b" /CreationDate " + lit(5, pdf_date(created)) + b" >>")
    for i, stream in enumerate(streams):
        pnum, cnum = page_nums[i], page_nums[i] + 1
        objs[pnum] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
                      b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
                      % (width, height, cnum))
        data = stream
        extra = b""
        if compress:
            data = zlib.compress(data, 9)
            extra = b" /Filter /FlateDecode"
        if security is not None:
            data = security.encrypt(cnum, data)
        objs[cnum] = (b"<< /Length %d%s >>\nstream\n" % (len(data), extra)) + data + b"\nendstream"
    if js_num is not None:
        objs[js_num] = b"<< /Type /Action /S /JavaScript /JS " + lit(js_num, open_action_js) + b" >>"
    if enc_num is not None:
        objs[enc_num] = security.dictionary()

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objs) + 1
    out += b"xref\n0 %d\n" % size
    out += b"0000000000 65535 f \n"
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num]
    doc_id = security.doc_id if security is not None else hashlib.md5(title.encode("utf-8")).digest()
    trailer = b"<< /Size %d /Root 1 0 R /Info 5 0 R /ID [<%s> <%s>]" % (
        size, doc_id.hex().upper().encode(), doc_id.hex().upper().encode())
    if enc_num is not None:
        trailer += b" /Encrypt %d 0 R" % enc_num
    trailer += b" >>"
    out += b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out), text_lines


class Lcg:
    """Deterministic byte source (Numerical Recipes LCG)."""

    def __init__(self, seed: int):
        self.state = seed & 0xFFFFFFFF

    def byte(self) -> int:
        self.state = (1664525 * self.state + 1013904223) & 0xFFFFFFFF
        return self.state >> 24

    def bytes(self, n: int) -> bytes:
        return bytes(self.byte() for _ in range(n))


def corrupt_pdf(valid: bytes) -> bytes:
    """Keep the header and the first objects, cut the content stream in the
    middle, then append garbage; no xref table, no trailer, no %%EOF."""
    cut = valid.index(b"stream\n", valid.index(b"/Contents")) + 7 + 120
    garbage = Lcg(0xBADF00D).bytes(600)
    return valid[:cut] + garbage + b"\nendstr"


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

WRITTEN: list[pathlib.Path] = []


def write_bytes(path: pathlib.Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    WRITTEN.append(path)


def write_eml(rel: str, text: str, expected: dict, *, crlf: bool) -> None:
    data = text.encode("ascii")  # everything generated is 7-bit clean
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    write_bytes(MAIL_DIR / f"{rel}.eml", data)
    write_expected(rel, expected)


def write_expected(rel: str, expected: dict) -> None:
    js = json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    write_bytes(MAIL_DIR / f"{rel}.expected.json", js.encode("utf-8"))


def write_pdf(rel: str, data: bytes, text_lines: list[str]) -> None:
    stem = rel.replace("/", "-")
    write_bytes(PDF_DIR / f"{stem}.pdf", data)
    write_bytes(PDF_DIR / f"{stem}.expected.txt", ("\n".join(text_lines) + "\n").encode("utf-8"))


def exp(category: str, fields: dict | None = None, thread: str | None = None) -> dict:
    e = {"category": category, "fields": fields or {}}
    if thread:
        e["thread"] = thread
    return e


OUR_DE = "Ourcompany Europe GmbH, Kreditorenbuchhaltung, Hafenstraße 12, 20457 Hamburg"
AP = '"Ourcompany Accounts Payable" <ap@ourcompany.example>'
AR = '"Ourcompany Accounts Receivable" <ar@ourcompany.example>'


# ---------------------------------------------------------------------------
# ap/ — vendor invoices whose fields are only in the PDF
# ---------------------------------------------------------------------------

def ap_invoice_en_gb_pdf_only():
    rel = "ap/invoice-en-gb-pdf-only-fields"
    vendor = "Britewell Stationers Ltd"
    lines = [
        ("H", "BRITEWELL STATIONERS LTD"),
        ("", "Unit 4, Trafford Park Trading Estate, Manchester M17 1RN"),
        ("", "Tel 0161 496 0732  |  accounts@britewell-stationers.example"),
        ("", "VAT Reg. No. GB 284 6611 92  |  Registered in England No. 04417720"),
        None,
        ("H", "INVOICE"),
        ("", "Invoice to: Ourcompany UK Ltd, Accounts Payable, 3 Harbour Walk, Bristol BS1 5TY"),
        None,
        ("B", "Invoice No.: BWS-10288"),
        ("", "Invoice Date: 20 March 2026"),
        ("", "Due Date: 19 April 2026"),
        ("", "Customer No.: C-00417"),
        ("", "PO Number: PO-55120"),
        None,
        ("B", "Qty   Description                               Unit price      Amount"),
        ("", "40    A4 copier paper 80gsm, box of 5 reams     £32.50          £1,300.00"),
        ("", "12    Toner cartridge, black, 59A               £89.00          £1,068.00"),
        ("", "6     Archive boxes, pack of 10                 £19.00          £114.00"),
        None,
        ("", "Net amount: £2,482.00"),
        ("", "VAT @ 20%: £496.40"),
        ("B", "Total due: £2,978.40"),
        None,
        ("", "Payment terms: 30 days net. Please quote the invoice number with your payment."),
        ("", "Barclays Bank plc, Sort code 20-45-77, Account 53819027"),
        ("", f"IBAN {iban('GB', 'BUKB20457753819027')}   BIC BUKBGB22"),
    ]
    pdf, text = build_pdf(lines, title="Invoice BWS-10288", author=vendor,
                          created=dt.datetime(2026, 3, 20, 10, 40))
    write_pdf(rel, pdf, text)
    body = """Dear Customer,

Please find attached your latest invoice from Britewell Stationers Ltd.
Payment details and our bank account are shown on the invoice.

If you have any questions about this invoice, please contact our accounts
team on 0161 496 0732 or reply to this email.

Kind regards

Accounts Team
Britewell Stationers Ltd
Unit 4, Trafford Park Trading Estate, Manchester M17 1RN
Registered in England No. 04417720 | VAT Reg. GB 284 6611 92
"""
    msg = message([
        ("From", mailbox(vendor, "accounts@britewell-stationers.example")),
        ("To", AP),
        ("Date", rfc_date(2026, 3, 20, 10, 42, 17, "+0000")),
        ("Subject", "Invoice from Britewell Stationers Ltd"),
        ("Message-ID", "<20260320104217.7F3A1@mail.britewell-stationers.example>"),
    ], multipart("mixed", "----=_Part_10288_1774003337", [
        text_part(body),
        pdf_part(pdf, "Invoice_20032026.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.invoice", {
        "invoice_number": "BWS-10288", "amount_total": "2978.40", "currency": "GBP",
        "invoice_date": "2026-03-20", "due_date": "2026-04-19", "po_number": "PO-55120",
        "vendor": vendor}), crlf=True)


def ap_invoice_de_pdf_only():
    rel = "ap/invoice-de-pdf-only-fields"
    vendor = "Fachbuchhandlung Lehmann GmbH"
    lines = [
        ("H", "Fachbuchhandlung Lehmann GmbH"),
        ("", "Königstraße 28 · 70173 Stuttgart · Telefon 0711 2040 118"),
        ("", "USt-IdNr. DE231447905 · Amtsgericht Stuttgart HRB 720113"),
        None,
        ("S", "Fachbuchhandlung Lehmann GmbH · Königstraße 28 · 70173 Stuttgart"),
        ("", OUR_DE),
        None,
        ("H", "RECHNUNG"),
        ("B", "Rechnungsnummer: 26-00731"),
        ("", "Rechnungsdatum: 20.03.2026"),
        ("", "Lieferdatum: 18.03.2026"),
        ("", "Kundennummer: 100482"),
        ("", "Ihre Bestellung: 4500012345 vom 09.03.2026"),
        None,
        ("B", "Pos.  Menge  Artikel                                         Einzelpreis    Gesamt"),
        ("", "1     2      Grüneberg, BGB Kommentar, 85. Aufl. 2026           139,25 €    278,50 €"),
        ("", "2     5      Handelsgesetzbuch, Textausgabe 2026                 13,93 €     69,65 €"),
        ("", "3     1      Kommentar zum Umsatzsteuergesetz, Loseblattwerk    737,38 €    737,38 €"),
        ("", "4     1      Praxishandbuch Bilanzrecht                          68,26 €     68,26 €"),
        None,
        ("", "Nettobetrag: 1.153,79 €"),
        ("", "zzgl. 7 % MwSt.: 80,77 €"),
        ("B", "Rechnungsbetrag: 1.234,56 €"),
        None,
        ("", "Zahlbar bis 19.04.2026 ohne Abzug."),
        ("", "Bankverbindung: Baden-Württembergische Bank"),
        ("", f"IBAN {iban('DE', '600501017405918342')} · BIC SOLADEST600"),
        ("S", "Geschäftsführer: Dr. Heinrich Lehmann · Es gelten unsere AGB."),
    ]
    pdf, text = build_pdf(lines, title="Rechnung 26-00731", author=vendor,
                          created=dt.datetime(2026, 3, 20, 14, 5))
    write_pdf(rel, pdf, text)
    body = """Sehr geehrte Damen und Herren,

anbei erhalten Sie unsere Rechnung als PDF-Dokument.

Für Rückfragen stehen wir Ihnen gerne zur Verfügung.

Mit freundlichen Grüßen

Ihre Fachbuchhandlung Lehmann
Königstraße 28, 70173 Stuttgart
Telefon 0711 2040 118 · rechnung@lehmann-fachbuch.example
"""
    msg = message([
        ("From", mailbox(vendor, "rechnung@lehmann-fachbuch.example")),
        ("To", AP),
        ("Date", rfc_date(2026, 3, 20, 14, 7, 51)),
        ("Subject", "Ihre Rechnung"),
        ("Message-ID", "<c2f1a9e4.26-00731@lehmann-fachbuch.example>"),
    ], multipart("mixed", "=_lehmann_b6e0a2c1", [
        text_part(body),
        pdf_part(pdf, "Lehmann_Rechnung.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.invoice", {
        "invoice_number": "26-00731", "amount_total": "1234.56", "currency": "EUR",
        "invoice_date": "2026-03-20", "due_date": "2026-04-19", "po_number": "4500012345",
        "vendor": vendor}), crlf=False)


SCHNEIDER = "Schneider Bürotechnik GmbH"


def ap_invoice_de_subject_without_invoice():
    rel = "ap/invoice-de-subject-without-invoice-pdf-named-rechnung"
    lines = [
        ("H", "Schneider Bürotechnik GmbH"),
        ("", "Gutenbergring 7 · 22848 Norderstedt · Tel. 040 5238 770"),
        ("", "USt-IdNr. DE284117356 · Amtsgericht Kiel HRB 8841 NO"),
        None,
        ("", OUR_DE),
        None,
        ("H", "Rechnung"),
        ("B", "Rechnungsnummer: RE-2026-0042"),
        ("", "Rechnungsdatum: 20. März 2026"),
        ("", "Leistungsdatum: 17. März 2026"),
        ("", "Kundennummer: 40118"),
        ("", "Ihre Bestellung: 4500012377"),
        None,
        ("B", "Pos.  Menge  Bezeichnung                                            Betrag"),
        ("", "1     1      Multifunktionssystem Kyocera TASKalfa 3554ci        2.150,00 €"),
        ("", "2     1      Installation und Einweisung, pauschal                 350,00 €"),
        None,
        ("", "Summe netto: 2.500,00 €"),
        ("", "MwSt. 19 %: 475,00 €"),
        ("B", "Gesamtbetrag: 2.975,00 €"),
        None,
        ("", "Zahlbar bis 19. April 2026 ohne Abzug."),
        ("", f"Hamburger Sparkasse · IBAN {iban('DE', '200505501234567890')} · BIC HASPDEHHXXX"),
        ("S", "Geschäftsführung: Thomas Schneider, Anja Schneider"),
    ]
    pdf, text = build_pdf(lines, title="Rechnung RE-2026-0042", author=SCHNEIDER,
                          created=dt.datetime(2026, 3, 20, 11, 0))
    write_pdf(rel, pdf, text)
    body = """Guten Tag Frau Brandt,

wie besprochen erhalten Sie anbei die Unterlagen zu Ihrer Bestellung.
Das Gerät wurde am 17.03. bei Ihnen installiert.

Freundliche Grüße

Sabine Krause
Vertriebsinnendienst

Schneider Bürotechnik GmbH
Gutenbergring 7 · 22848 Norderstedt
Tel. 040 5238 770 · www.schneider-buerotechnik.example
"""
    msg = message([
        ("From", mailbox(SCHNEIDER, "s.krause@schneider-buerotechnik.example")),
        ("To", '"Julia Brandt" <julia.brandt@ourcompany.example>'),
        ("Cc", AP),
        ("Date", rfc_date(2026, 3, 20, 11, 23, 40)),
        ("Subject", encoded_word("Ihre Bestellung 4500012377 – Unterlagen")),
        ("Message-ID", "<0042.1774002220.krause@schneider-buerotechnik.example>"),
    ], multipart("mixed", "_002_schneider_0042_", [
        text_part(body),
        pdf_part(pdf, "Rechnung_RE-2026-0042.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.invoice", {
        "invoice_number": "RE-2026-0042", "amount_total": "2975.00", "currency": "EUR",
        "invoice_date": "2026-03-20", "due_date": "2026-04-19", "po_number": "4500012377",
        "vendor": SCHNEIDER}), crlf=True)


NB = "\u00a0"  # no-break space, 0xA0 in WinAnsi


def ap_invoice_fr_pdf_only():
    rel = "ap/invoice-fr-pdf-only-nbsp-amount"
    vendor = "Papeterie Dubois SARL"
    lines = [
        ("H", "PAPETERIE DUBOIS SARL"),
        ("", "12 rue des Carmes, 69002 Lyon – Tél. 04 72 41 18 90"),
        ("", "SIRET 812 345 678 00021 – TVA intracommunautaire FR45812345678"),
        None,
        ("", "Client : Ourcompany France SAS, Service comptabilité fournisseurs,"),
        ("", "8 quai Perrache, 69002 Lyon"),
        None,
        ("H", "FACTURE"),
        ("B", "Facture n° F2026-118"),
        ("", "Date de facture : 20 mars 2026"),
        ("", "Date d'échéance : 19 avril 2026"),
        ("", "N° client : CL-0093"),
        ("", "Bon de commande : PO-7790"),
        None,
        ("B", "Qté   Désignation                                   P.U. HT     Montant HT"),
        ("", f"80    Ramette papier A4 80 g, 500 feuilles         5,49        439,20"),
        ("", f"24    Classeur à levier dos 80 mm                  3,15        75,60"),
        ("", f"20    Boîte de 50 stylos bille bleus               25,70       514,00"),
        None,
        ("", f"Total HT : 1{NB}028,80 EUR"),
        ("", f"TVA 20 % : 205,76 EUR"),
        ("", f"Total TTC : 1{NB}234,56 EUR"),
        ("B", f"Net à payer : 1{NB}234,56 EUR"),
        None,
        ("", "Conditions de règlement : virement à 30 jours date de facture."),
        ("", "Pénalités de retard : 3 fois le taux d'intérêt légal ; indemnité forfaitaire de 40 €."),
        ("", f"IBAN {iban('FR', '30004008310001987654321')} – BIC BNPAFRPPXXX"),
    ]
    pdf, text = build_pdf(lines, title="Facture F2026-118", author=vendor,
                          created=dt.datetime(2026, 3, 20, 16, 30))
    write_pdf(rel, pdf, text)
    body = """Madame, Monsieur,

Veuillez trouver ci-joint notre facture.

Nous restons à votre disposition pour tout renseignement complémentaire.

Cordialement,

Service facturation
Papeterie Dubois SARL
12 rue des Carmes, 69002 Lyon
Tél. 04 72 41 18 90
"""
    msg = message([
        ("From", mailbox(vendor, "facturation@papeterie-dubois.example")),
        ("To", '"Comptabilite fournisseurs" <ap@ourcompany.example>'),
        ("Date", rfc_date(2026, 3, 20, 16, 32, 5)),
        ("Subject", "Votre facture Papeterie Dubois"),
        ("Message-ID", "<f2026-118.20260320163205@papeterie-dubois.example>"),
    ], multipart("mixed", "b1_dubois_f2026118", [
        text_part(body),
        pdf_part(pdf, "Facture.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.invoice", {
        "invoice_number": "F2026-118", "amount_total": "1234.56", "currency": "EUR",
        "invoice_date": "2026-03-20", "due_date": "2026-04-19", "po_number": "PO-7790",
        "vendor": vendor}), crlf=False)


def ap_invoice_nl_pdf_only():
    rel = "ap/invoice-nl-pdf-only-flate-compressed"
    vendor = "Van Dijk Kantoorinrichting B.V."
    lines = [
        ("H", "Van Dijk Kantoorinrichting B.V."),
        ("", "Industrieweg 41, 3542 AD Utrecht – tel. 030 241 77 10"),
        ("", "KvK 30145678 – btw-nummer NL812345678B01"),
        None,
        ("", "Ourcompany Benelux B.V., t.a.v. crediteurenadministratie, Keizersgracht 210, 1016 DZ Amsterdam"),
        None,
        ("H", "FACTUUR"),
        ("B", "Factuurnummer: 20260193"),
        ("", "Factuurdatum: 20 maart 2026"),
        ("", "Vervaldatum: 19 april 2026"),
        ("", "Klantnummer: 7731"),
        ("", "Inkoopordernummer: PO-7802"),
        None,
        ("B", "Aantal  Omschrijving                          Prijs        Bedrag"),
        ("", "6       Bureaustoel ErgoPlus, zwart           € 240,00     € 1.440,00"),
        ("", "2       Vergadertafel 180 x 90 cm, eiken      € 180,00     € 360,00"),
        None,
        ("", "Totaal excl. BTW: € 1.800,00"),
        ("", "BTW 21%: € 378,00"),
        ("B", "Totaal te betalen: € 2.178,00"),
        None,
        ("", "Gelieve het totaalbedrag vóór 19 april 2026 over te maken op"),
        ("", f"IBAN {iban('NL', 'RABO0312876540')} t.n.v. Van Dijk Kantoorinrichting B.V."),
        ("", "onder vermelding van het factuurnummer."),
    ]
    pdf, text = build_pdf(lines, title="Factuur 20260193", author=vendor,
                          created=dt.datetime(2026, 3, 20, 9, 12), compress=True)
    write_pdf(rel, pdf, text)
    body = """Geachte heer/mevrouw,

In de bijlage treft u onze factuur aan.

Met vriendelijke groet,

Administratie
Van Dijk Kantoorinrichting B.V.
Industrieweg 41, 3542 AD Utrecht
T 030 241 77 10
"""
    msg = message([
        ("From", mailbox(vendor, "administratie@vandijk-kantoor.example")),
        ("To", '"Crediteurenadministratie" <ap@ourcompany.example>'),
        ("Date", rfc_date(2026, 3, 20, 9, 15, 2)),
        ("Subject", "Factuur Van Dijk Kantoorinrichting"),
        ("Message-ID", "<20260320091502.20260193@vandijk-kantoor.example>"),
    ], multipart("mixed", "=_vdk_20260193", [
        text_part(body),
        pdf_part(pdf, "Factuur.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.invoice", {
        "invoice_number": "20260193", "amount_total": "2178.00", "currency": "EUR",
        "invoice_date": "2026-03-20", "due_date": "2026-04-19", "po_number": "PO-7802",
        "vendor": vendor}), crlf=True)


def ap_invoice_en_us_pdf_and_body():
    rel = "ap/invoice-en-us-pdf-and-body-net30-ambiguous-date"
    vendor = "Summit Freight Logistics Inc."
    lines = [
        ("H", "Summit Freight Logistics Inc."),
        ("", "2200 W. Cermak Road, Chicago, IL 60608  |  (312) 555-0148"),
        None,
        ("", "Bill To: Ourcompany Inc., Accounts Payable, 200 Harbor Blvd, Boston, MA 02210"),
        None,
        ("H", "INVOICE"),
        ("B", "Invoice #: 88213"),
        ("", "Invoice Date: 04/02/2026"),
        ("", "Terms: Net 30"),
        ("", "PO #: PO-7815"),
        ("", "Pro Number: SFL-2261837   BOL: 0047713"),
        ("", "Ship Date: 03/30/2026   Delivery Date: 04/01/2026"),
        None,
        ("B", "Description                                                   Amount"),
        ("", "Linehaul, FTL 53' dry van, Chicago IL to Boston MA             $11,200.00"),
        ("", "Fuel surcharge                                                 $1,080.00"),
        ("", "Liftgate at delivery                                           $200.00"),
        None,
        ("", "Subtotal: $12,480.00"),
        ("", "Sales Tax: $0.00"),
        ("B", "Total Amount Due: $12,480.00"),
        None,
        ("", "Remit to: Summit Freight Logistics Inc., PO Box 77120, Chicago, IL 60677"),
        ("", "ACH: Lakeshore Commerce Bank, ABA 071000013, Account 4418200931"),
    ]
    pdf, text = build_pdf(lines, title="Invoice 88213", author=vendor,
                          created=dt.datetime(2026, 4, 2, 8, 0), letter=True)
    write_pdf(rel, pdf, text)
    body = """Hello,

Attached is invoice #88213 for the truckload shipment Chicago -> Boston
(Pro # SFL-2261837).

Invoice Date: 04/02/2026
Amount Due: $12,480.00
Terms: Net 30
PO #: PO-7815

Please remit payment by ACH to the account shown on the invoice.

Thanks for your business!

Dana Whitfield
Billing Specialist | Summit Freight Logistics Inc.
2200 W. Cermak Road, Chicago, IL 60608
(312) 555-0148
"""
    msg = message([
        ("From", mailbox(vendor, "billing@summitfreight.example")),
        ("To", '"Ourcompany Inc. AP" <ap@ourcompany.example>'),
        ("Date", rfc_date(2026, 4, 2, 8, 4, 12, "-0500")),
        ("Subject", "Invoice #88213 - Summit Freight Logistics"),
        ("Message-ID", "<88213.1775135052@billing.summitfreight.example>"),
    ], multipart("mixed", "summit-88213-boundary", [
        text_part(body),
        pdf_part(pdf, "Invoice_88213.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.invoice", {
        "invoice_number": "88213", "amount_total": "12480.00", "currency": "USD",
        "invoice_date": "2026-04-02", "due_date": "2026-05-02", "po_number": "PO-7815",
        "vendor": vendor}), crlf=False)


def ap_invoice_corrupt_pdf():
    rel = "ap/invoice-en-us-corrupt-pdf-fields-in-body"
    vendor = "Pinecrest Janitorial LLC"
    lines = [
        ("H", "Pinecrest Janitorial LLC"),
        ("B", "Invoice #: INV-90021"),
        ("", "Invoice Date: 03/31/2026"),
        ("", "Due Date: 04/30/2026"),
        ("", "Nightly office cleaning, March 2026 - 200 Harbor Blvd, Boston: $870.00"),
        ("B", "Total Due: $870.00"),
    ]
    valid, text = build_pdf(lines, title="Invoice INV-90021", author=vendor,
                            created=dt.datetime(2026, 3, 31, 17, 0), letter=True)
    pdf = corrupt_pdf(valid)
    write_pdf(rel, pdf, text)
    body = """Hi Accounts Payable,

Please find attached invoice INV-90021 for janitorial services in March 2026.

Invoice #: INV-90021
Invoice Date: 03/31/2026
Due Date: 04/30/2026
Total Due: $870.00
PO: PO-7799

Let me know if you have trouble opening the attachment.

Best,
Maria Lopez
Office Manager, Pinecrest Janitorial LLC
(617) 555-0190
"""
    msg = message([
        ("From", mailbox(vendor, "office@pinecrest-janitorial.example")),
        ("To", AP),
        ("Date", rfc_date(2026, 3, 31, 17, 12, 44, "-0400")),
        ("Subject", "Invoice INV-90021 - March cleaning services"),
        ("Message-ID", "<CAF3x9q+INV90021@mail.pinecrest-janitorial.example>"),
    ], multipart("mixed", "000000000000a1b2c3d4e5f60021", [
        text_part(body),
        pdf_part(pdf, "INV-90021.pdf"),
    ], preamble=""))
    write_eml(rel, msg, exp("ap.invoice", {
        "invoice_number": "INV-90021", "amount_total": "870.00", "currency": "USD",
        "invoice_date": "2026-03-31", "due_date": "2026-04-30", "po_number": "PO-7799",
        "vendor": vendor}), crlf=True)


def ap_invoice_encrypted_pdf():
    rel = "ap/invoice-en-gb-encrypted-pdf-fields-in-body"
    vendor = "Sterling Legal Services LLP"
    lines = [
        ("H", "Sterling Legal Services LLP"),
        ("", "14 Gray's Inn Square, London WC1R 5JP  |  VAT Reg. No. GB 311 4420 87"),
        None,
        ("", "Ourcompany UK Ltd, 3 Harbour Walk, Bristol BS1 5TY"),
        None,
        ("H", "INVOICE"),
        ("B", "Invoice Number: SLS/2026/0311"),
        ("", "Invoice Date: 31 March 2026"),
        ("", "Payment Due: 30 April 2026"),
        ("", "Matter: OUR-0042 Commercial lease review"),
        None,
        ("", "Professional fees, March 2026 (12.5 hours)     £3,800.00"),
        ("", "Net: £3,800.00"),
        ("", "VAT at 20%: £760.00"),
        ("B", "Amount Due: £4,560.00"),
        None,
        ("", f"NatWest, IBAN {iban('GB', 'NWBK60161331926819')}, BIC NWBKGB2L"),
    ]
    sec = Rc4Security("OUR-0042", "sterling-owner-2026",
                      hashlib.md5(b"Sterling Legal Services LLP SLS/2026/0311").digest())
    pdf, text = build_pdf(lines, title="Invoice SLS/2026/0311", author=vendor,
                          created=dt.datetime(2026, 3, 31, 15, 0), security=sec)
    write_pdf(rel, pdf, text)
    body = """Dear Sir or Madam,

Please find attached our invoice SLS/2026/0311 for professional services
rendered in March 2026 (your matter reference OUR-0042).

For data-protection reasons the PDF is password-protected. The password has
been sent to you separately by text message.

Invoice number: SLS/2026/0311
Invoice date: 31/03/2026
Amount due: £4,560.00 (including VAT)
Payment due: 30/04/2026

Yours faithfully,

Helen Marsh
Accounts Department
Sterling Legal Services LLP
14 Gray's Inn Square, London WC1R 5JP
Sterling Legal Services LLP is authorised and regulated by the Solicitors
Regulation Authority.
"""
    msg = message([
        ("From", mailbox(vendor, "accounts@sterling-legal.example")),
        ("To", AP),
        ("Date", rfc_date(2026, 3, 31, 15, 6, 30, "+0100")),
        ("Subject", encoded_word("Invoice SLS/2026/0311 – Sterling Legal Services LLP")),
        ("Message-ID", "<SLS-2026-0311.63a1@sterling-legal.example>"),
    ], multipart("mixed", "==sterling==0311==", [
        text_part(body),
        pdf_part(pdf, "SLS-2026-0311.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.invoice", {
        "invoice_number": "SLS/2026/0311", "amount_total": "4560.00", "currency": "GBP",
        "invoice_date": "2026-03-31", "due_date": "2026-04-30", "vendor": vendor}), crlf=False)


# ---------------------------------------------------------------------------
# ap/ — statement, onboarding and credit note with PDF
# ---------------------------------------------------------------------------

def ap_statement_de_pdf():
    rel = "ap/statement-de-kontoauszug-pdf-open-items"
    vendor = "Nordlicht Verpackungen GmbH"
    lines = [
        ("H", "Nordlicht Verpackungen GmbH"),
        ("", "Am Hafen 3 · 24143 Kiel · USt-IdNr. DE298776120"),
        None,
        ("", OUR_DE),
        None,
        ("H", "Kontoauszug / Offene Posten"),
        ("", "Stichtag: 31.03.2026    Kundennummer: 20077"),
        None,
        ("B", "Beleg-Nr.       Belegdatum   Fällig       Betrag        Offen         Status"),
        ("", "RE-N-26-0101    05.01.2026   04.02.2026   1.190,00 €    0,00 €        bezahlt 02.02.2026"),
        ("", "RE-N-26-0188    02.02.2026   04.03.2026   2.618,00 €    2.618,00 €    überfällig"),
        ("", "RE-N-26-0245    02.03.2026   01.04.2026   892,50 €      892,50 €      offen"),
        ("", "GS-N-26-0012    10.03.2026   –            -119,00 €     -119,00 €     Gutschrift"),
        ("", "RE-N-26-0302    16.03.2026   15.04.2026   3.451,00 €    3.451,00 €    offen"),
        None,
        ("B", "Saldo offene Posten: 6.842,50 €"),
        ("", "davon überfällig: 2.618,00 €"),
        None,
        ("", "Bitte prüfen Sie den Kontoauszug. Einwände bitten wir innerhalb von 14 Tagen mitzuteilen."),
        ("", f"Förde Sparkasse · IBAN {iban('DE', '210501700000123456')} · BIC NOLADE21KIE"),
    ]
    pdf, text = build_pdf(lines, title="Kontoauszug 31.03.2026", author=vendor,
                          created=dt.datetime(2026, 4, 1, 7, 30))
    write_pdf(rel, pdf, text)
    body = """Sehr geehrte Damen und Herren,

anbei erhalten Sie Ihren aktuellen Kontoauszug mit den offenen Posten zum
Stichtag 31.03.2026. Wir bitten um Prüfung und Ausgleich der fälligen
Beträge.

Sollten Zahlungen bereits unterwegs sein, betrachten Sie dieses Schreiben
bitte als gegenstandslos.

Mit freundlichen Grüßen

Debitorenbuchhaltung
Nordlicht Verpackungen GmbH
Am Hafen 3 · 24143 Kiel
"""
    msg = message([
        ("From", mailbox(vendor, "debitoren@nordlicht-verpackungen.example")),
        ("To", AP),
        ("Date", rfc_date(2026, 4, 1, 7, 45, 0, "+0200")),
        ("Subject", "Kontoauszug / Offene Posten per 31.03.2026 - Kd.-Nr. 20077"),
        ("Message-ID", "<OP-20077-20260331@nordlicht-verpackungen.example>"),
    ], multipart("mixed", "nordlicht_op_20077", [
        text_part(body),
        pdf_part(pdf, "Kontoauszug_20077_20260331.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.statement"), crlf=True)


def ap_vendor_onboarding_w9():
    rel = "ap/vendor-onboarding-en-us-w9-pdf"
    vendor = "Redwood Analytics LLC"
    lines = [
        ("h", "Form W-9 (Rev. March 2024)   Department of the Treasury, Internal Revenue Service"),
        ("H", "Request for Taxpayer Identification Number and Certification"),
        None,
        ("", "1 Name of entity/individual: Redwood Analytics LLC"),
        ("", "2 Business name/disregarded entity name: (none)"),
        ("", "3a Federal tax classification: Limited liability company, tax classification C"),
        ("", "5 Address: 1450 Pearl Street, Suite 300"),
        ("", "6 City, state, and ZIP code: Boulder, CO 80302"),
        None,
        ("B", "Part I  Taxpayer Identification Number (TIN)"),
        ("", "Employer identification number: 87-3021144"),
        None,
        ("B", "Part II  Certification"),
        ("", "Under penalties of perjury, I certify that the number shown on this form is my correct"),
        ("", "taxpayer identification number and that I am not subject to backup withholding."),
        ("", "Signature of U.S. person: /s/ Priya Raman        Date: 03/16/2026"),
    ]
    pdf, text = build_pdf(lines, title="Form W-9 Redwood Analytics LLC", author=vendor,
                          created=dt.datetime(2026, 3, 16, 10, 0), letter=True)
    write_pdf(rel, pdf, text)
    body = """Hi there,

As requested by your procurement team (Requisition REQ-2026-0188), attached is
our completed Form W-9 for vendor setup. Our ACH enrollment details are below.

Legal name: Redwood Analytics LLC
Remit-to address: 1450 Pearl Street, Suite 300, Boulder, CO 80302
EIN: 87-3021144
Bank: Front Range Community Bank
ABA routing number: 102000021
Account number: 7718 2040 5513 (checking)
Remittance email: ar@redwood-analytics.example

Please let me know if you also need a certificate of insurance or anything
else to complete the supplier onboarding.

Thanks,
Priya Raman
Finance & Operations, Redwood Analytics LLC
(303) 555-0172
"""
    msg = message([
        ("From", mailbox(vendor, "priya.raman@redwood-analytics.example")),
        ("To", '"Vendor Master Data" <vendors@ourcompany.example>'),
        ("Cc", AP),
        ("Date", rfc_date(2026, 3, 16, 12, 41, 9, "-0600")),
        ("Subject", "New vendor setup - W-9 and ACH details for Redwood Analytics LLC"),
        ("Message-ID", "<CAB7w9-onboard-0316@mail.redwood-analytics.example>"),
    ], multipart("mixed", "000000000000redwood0316", [
        text_part(body),
        pdf_part(pdf, "Redwood_Analytics_W-9.pdf"),
    ], preamble=""))
    write_eml(rel, msg, exp("ap.vendor_onboarding"), crlf=False)


def ap_credit_note_de_pdf():
    rel = "ap/credit-note-de-gutschrift-pdf"
    lines = [
        ("H", "Schneider Bürotechnik GmbH"),
        ("", "Gutenbergring 7 · 22848 Norderstedt · Tel. 040 5238 770"),
        None,
        ("", OUR_DE),
        None,
        ("H", "Gutschrift"),
        ("B", "Gutschrift Nr.: GS-2026-0007"),
        ("", "Datum: 27. März 2026"),
        ("", "Bezug: Rechnung RE-2026-0042 vom 20. März 2026"),
        ("", "Ihre Bestellung: 4500012377"),
        ("", "Kundennummer: 40118"),
        None,
        ("", "Pos. 1  Gutschrift Installation und Einweisung, pauschal    350,00 €"),
        None,
        ("", "Summe netto: 350,00 €"),
        ("", "MwSt. 19 %: 66,50 €"),
        ("B", "Gutschriftsbetrag: 416,50 €"),
        None,
        ("", "Der Betrag wird mit der offenen Rechnung RE-2026-0042 verrechnet."),
    ]
    pdf, text = build_pdf(lines, title="Gutschrift GS-2026-0007", author=SCHNEIDER,
                          created=dt.datetime(2026, 3, 27, 9, 30))
    write_pdf(rel, pdf, text)
    body = """Guten Tag Frau Brandt,

wie telefonisch besprochen schreiben wir Ihnen die Installationspauschale
gut. Die Gutschrift finden Sie im Anhang; bitte verrechnen Sie sie mit der
Rechnung RE-2026-0042.

Freundliche Grüße

Sabine Krause
Vertriebsinnendienst
Schneider Bürotechnik GmbH
"""
    msg = message([
        ("From", mailbox(SCHNEIDER, "s.krause@schneider-buerotechnik.example")),
        ("To", '"Julia Brandt" <julia.brandt@ourcompany.example>'),
        ("Cc", AP),
        ("Date", rfc_date(2026, 3, 27, 9, 41, 16)),
        ("Subject", "Gutschrift GS-2026-0007 zu Rechnung RE-2026-0042"),
        ("Message-ID", "<0007.1774600876.krause@schneider-buerotechnik.example>"),
    ], multipart("mixed", "_004_schneider_gs0007_", [
        text_part(body),
        pdf_part(pdf, "Gutschrift_GS-2026-0007.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.credit_note", {
        "invoice_number": "GS-2026-0007", "amount_total": "416.50", "currency": "EUR",
        "invoice_date": "2026-03-27", "po_number": "4500012377", "vendor": SCHNEIDER}),
        crlf=True)


# ---------------------------------------------------------------------------
# ar/ — remittance advice only in a PDF
# ---------------------------------------------------------------------------

def ar_remittance_pdf():
    rel = "ar/remittance-en-gb-pdf-remittance-advice"
    sender = "Greenway Retail plc - Accounts Payable"
    lines = [
        ("H", "Greenway Retail plc"),
        ("", "Greenway House, 40 Canal Street, Leeds LS1 4QJ"),
        None,
        ("H", "REMITTANCE ADVICE"),
        ("", "Supplier: Ourcompany UK Ltd (supplier no. 300118)"),
        ("B", "Payment date: 27/03/2026"),
        ("", "Payment method: BACS   Payment reference: BACS-0087712"),
        None,
        ("B", "Your reference        Document date    Amount"),
        ("", "Invoice OC-2026-1005  24/02/2026       £1,800.00"),
        ("", "Invoice OC-2026-1008  02/03/2026       £1,386.00"),
        ("", "Credit OC-CN-2026-003 09/03/2026       -£186.00"),
        None,
        ("B", "Total paid: £3,000.00"),
        None,
        ("S", "Funds should reach your account within three working days."),
    ]
    pdf, text = build_pdf(lines, title="Remittance advice BACS-0087712", author="Greenway Retail plc",
                          created=dt.datetime(2026, 3, 27, 6, 0))
    write_pdf(rel, pdf, text)
    body = """This is an automatically generated message.

Please find attached a remittance advice for a payment made to your account
by Greenway Retail plc.

Do not reply to this email; this mailbox is not monitored. For queries
please contact supplier.payments@greenway-retail.example.
"""
    msg = message([
        ("From", mailbox(sender, "noreply-remittance@greenway-retail.example")),
        ("To", AR),
        ("Date", rfc_date(2026, 3, 27, 6, 2, 11, "+0000")),
        ("Subject", "Remittance Advice - Greenway Retail plc - 300118"),
        ("Message-ID", "<RA.0087712.300118@payments.greenway-retail.example>"),
        ("Auto-Submitted", "auto-generated"),
    ], multipart("mixed", "RA_0087712_boundary", [
        text_part(body),
        pdf_part(pdf, "RemittanceAdvice_0087712.pdf"),
    ]))
    write_eml(rel, msg, exp("ar.remittance", {
        "invoice_number": "OC-2026-1005", "amount_total": "3000.00", "currency": "GBP",
        "payment_date": "2026-03-27"}), crlf=False)


# ---------------------------------------------------------------------------
# threads/
# ---------------------------------------------------------------------------

KELLER = "Keller Maschinenbau GmbH"
KELLER_1 = "<20260316081530.RE-2026-0107@keller-maschinenbau.example>"
KELLER_2 = "<3b1f6c2e-5d7a-4c21-9a0e-7d2f4e1a0107@ourcompany.example>"
KELLER_3 = "<AM9PR03MB7116A2C3D9E0107.GS0019@AM9PR03MB7116.eurprd03.prod.outlook.example>"

BAKKER = "Installatiebedrijf Bakker B.V."
BAKKER_1 = "<a7c3e9f0b2d14e86.20260244@mail.bakker-installatie.example>"
BAKKER_2 = "<5f2b8d1e-0c44-4b7e-9a31-bb2e7c0244aa@ourcompany.example>"
BAKKER_3 = "<DB8PR10MB3120C0244WG.weber@ourcompany.example>"


def thread_keller_1():
    rel = "threads/keller-0107-1-rechnung-pdf"
    lines = [
        ("H", "Keller Maschinenbau GmbH"),
        ("", "Industriestraße 55 · 73037 Göppingen · USt-IdNr. DE147722093"),
        None,
        ("", OUR_DE),
        None,
        ("H", "Rechnung"),
        ("B", "Rechnungsnummer: RE-2026-0107"),
        ("", "Rechnungsdatum: 16.03.2026"),
        ("", "Lieferdatum: 12.03.2026"),
        ("", "Ihre Bestellung: 4500012399"),
        None,
        ("", "Pos. 1   100 Stück   Spannvorrichtung SV-40   à 45,00 €   4.500,00 €"),
        None,
        ("", "Nettobetrag: 4.500,00 €"),
        ("", "MwSt. 19 %: 855,00 €"),
        ("B", "Rechnungsbetrag: 5.355,00 €"),
        None,
        ("", "Fällig am 15.04.2026 ohne Abzug."),
        ("", f"Kreissparkasse Göppingen · IBAN {iban('DE', '610500000049123456')} · BIC GOPSDE6GXXX"),
    ]
    pdf, text = build_pdf(lines, title="Rechnung RE-2026-0107", author=KELLER,
                          created=dt.datetime(2026, 3, 16, 8, 10))
    write_pdf(rel, pdf, text)
    body = """Sehr geehrte Damen und Herren,

anbei übersenden wir Ihnen unsere Rechnung RE-2026-0107 über 5.355,00 €
für die Lieferung vom 12.03.2026.

Rechnungsdatum: 16.03.2026
Fällig am: 15.04.2026
Ihre Bestellung: 4500012399

Mit freundlichen Grüßen

Petra Keller
Buchhaltung

Keller Maschinenbau GmbH
Industriestraße 55 · 73037 Göppingen
Tel. 07161 60 44-0 · buchhaltung@keller-maschinenbau.example
Geschäftsführer: Martin Keller · Amtsgericht Ulm HRB 530117
"""
    msg = message([
        ("From", mailbox(KELLER, "buchhaltung@keller-maschinenbau.example")),
        ("To", AP),
        ("Date", rfc_date(2026, 3, 16, 8, 15, 30)),
        ("Subject", "Rechnung RE-2026-0107"),
        ("Message-ID", KELLER_1),
    ], multipart("mixed", "_keller_RE20260107_", [
        text_part(body),
        pdf_part(pdf, "RE-2026-0107.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.invoice", {
        "invoice_number": "RE-2026-0107", "amount_total": "5355.00", "currency": "EUR",
        "invoice_date": "2026-03-16", "due_date": "2026-04-15", "po_number": "4500012399",
        "vendor": KELLER}, thread="keller-0107"), crlf=False)


def thread_keller_3():
    rel = "threads/keller-0107-3-aw-gutschrift-pdf"
    lines = [
        ("H", "Keller Maschinenbau GmbH"),
        ("", "Industriestraße 55 · 73037 Göppingen · USt-IdNr. DE147722093"),
        None,
        ("", OUR_DE),
        None,
        ("H", "Gutschrift"),
        ("B", "Gutschrift Nr.: GS-2026-0019"),
        ("", "Datum: 18.03.2026"),
        ("", "zu Rechnung RE-2026-0107 vom 16.03.2026"),
        ("", "Ihre Bestellung: 4500012399"),
        None,
        ("", "Pos. 1   100 Stück   Preiskorrektur Spannvorrichtung SV-40   à 3,00 €   300,00 €"),
        None,
        ("", "Nettobetrag: 300,00 €"),
        ("", "MwSt. 19 %: 57,00 €"),
        ("B", "Gutschriftsbetrag: 357,00 €"),
    ]
    pdf, text = build_pdf(lines, title="Gutschrift GS-2026-0019", author=KELLER,
                          created=dt.datetime(2026, 3, 18, 10, 0))
    write_pdf(rel, pdf, text)
    body = """Sehr geehrte Frau Brandt,

Sie haben recht, da ist uns bei der Preisübernahme ein Fehler unterlaufen.
Anbei erhalten Sie die Gutschrift GS-2026-0019 über 357,00 € (300,00 € netto
zzgl. 19 % MwSt.). Bitte verrechnen Sie diese mit der Rechnung RE-2026-0107.

Wir bitten das Versehen zu entschuldigen.

Mit freundlichen Grüßen

Petra Keller
Buchhaltung
Keller Maschinenbau GmbH

Von: Julia Brandt <julia.brandt@ourcompany.example>
Gesendet: Dienstag, 17. März 2026 14:02
An: Keller Maschinenbau GmbH <buchhaltung@keller-maschinenbau.example>
Cc: Ourcompany Accounts Payable <ap@ourcompany.example>
Betreff: Re: Rechnung RE-2026-0107

Sehr geehrte Frau Keller,

vielen Dank für Ihre Rechnung RE-2026-0107. Leider weicht der Stückpreis
von unserer Bestellung 4500012399 ab: bestellt wurden 100 Stück
Spannvorrichtung SV-40 zu 42,00 €, berechnet wurden 45,00 €.

Bitte senden Sie uns eine Gutschrift über die Differenz von 300,00 € netto
zzgl. MwSt. Den unstrittigen Teil der Rechnung geben wir zur Zahlung frei.

Mit freundlichen Grüßen
Julia Brandt
Kreditorenbuchhaltung
"""
    msg = message([
        ("From", mailbox(KELLER, "buchhaltung@keller-maschinenbau.example")),
        ("To", '"Julia Brandt" <julia.brandt@ourcompany.example>'),
        ("Cc", AP),
        ("Date", rfc_date(2026, 3, 18, 10, 7, 3)),
        ("Subject", "AW: Re: Rechnung RE-2026-0107"),
        ("Message-ID", KELLER_3),
        ("In-Reply-To", KELLER_2),
        ("References", f"{KELLER_1}\n {KELLER_2}"),
        ("Thread-Topic", "Rechnung RE-2026-0107"),
        ("Thread-Index", "AQHctbVnR2VzY2hpY2h0ZTAxMDc="),
    ], multipart("mixed", "_005_AM9PR03MB7116GS0019_", [
        text_part(body),
        pdf_part(pdf, "GS-2026-0019.pdf"),
    ]))
    write_eml(rel, msg, exp("ap.credit_note", {
        "invoice_number": "GS-2026-0019", "amount_total": "357.00", "currency": "EUR",
        "invoice_date": "2026-03-18", "po_number": "4500012399", "vendor": KELLER},
        thread="keller-0107"), crlf=True)


BAKKER_FIELDS = {
    "invoice_number": "20260244", "amount_total": "7865.00", "currency": "EUR",
    "invoice_date": "2026-03-23", "due_date": "2026-04-22", "po_number": "PO-7820",
    "vendor": BAKKER}

BAKKER_BODY = """Geachte heer De Vries,

Hierbij ontvangt u de factuur voor de installatiewerkzaamheden in de
bedrijfshal aan de Waalhaven (week 11 en 12).

Factuurnummer: 20260244
Factuurdatum: 23-03-2026
Te betalen vóór: 22-04-2026
Totaalbedrag: € 7.865,00 (incl. 21% btw)
Uw inkoopordernummer: PO-7820

De factuur is als PDF bijgevoegd.

Met vriendelijke groet,

Sanne Bakker
Financiële administratie
Installatiebedrijf Bakker B.V.
Vlasweg 12, 3068 AA Rotterdam
T 010 456 22 90
"""


def bakker_pdf():
    lines = [
        ("H", "Installatiebedrijf Bakker B.V."),
        ("", "Vlasweg 12, 3068 AA Rotterdam – KvK 24312876 – btw NL809112233B01"),
        None,
        ("", "Ourcompany Benelux B.V., t.a.v. J. de Vries, Keizersgracht 210, 1016 DZ Amsterdam"),
        None,
        ("H", "FACTUUR"),
        ("B", "Factuurnummer: 20260244"),
        ("", "Factuurdatum: 23-03-2026"),
        ("", "Vervaldatum: 22-04-2026"),
        ("", "Inkoopordernummer: PO-7820"),
        ("", "Project: Waalhaven Rotterdam, hal 2"),
        None,
        ("", "Elektrotechnische installatie hal 2, arbeid 64 uur à € 62,50     € 4.000,00"),
        ("", "Materiaal volgens bijlage                                        € 2.500,00"),
        None,
        ("", "Totaal excl. BTW: € 6.500,00"),
        ("", "BTW 21%: € 1.365,00"),
        ("B", "Totaalbedrag: € 7.865,00"),
        None,
        ("", f"Te betalen vóór 22-04-2026 op IBAN {iban('NL', 'INGB0006712345')} o.v.v. 20260244."),
    ]
    return build_pdf(lines, title="Factuur 20260244", author=BAKKER,
                     created=dt.datetime(2026, 3, 23, 13, 0))


def bakker_msg_1(pdf) -> str:
    return message([
        ("From", mailbox(BAKKER, "facturen@bakker-installatie.example")),
        ("To", '"Jan de Vries" <jan.devries@ourcompany.example>'),
        ("Date", rfc_date(2026, 3, 23, 13, 20, 45)),
        ("Subject", "Factuur 20260244 - project Waalhaven"),
        ("Message-ID", BAKKER_1),
    ], multipart("mixed", "=_bakker_20260244_a", [
        text_part(BAKKER_BODY),
        pdf_part(pdf, "Factuur_20260244.pdf"),
    ]))


def bakker_msg_2(pdf) -> str:
    body = """Hoi Markus,

Deze factuur is bij mij binnengekomen in plaats van bij crediteuren. Het werk
in hal 2 is uitgevoerd en ik heb de uren gecontroleerd, dus akkoord van mijn
kant. Kun jij zorgen dat hij bij AP terechtkomt?

Groet,
Jan

Jan de Vries
Site manager Rotterdam | Ourcompany Benelux B.V.

-------- Doorgestuurd bericht --------
Onderwerp: Factuur 20260244 - project Waalhaven
Datum: Mon, 23 Mar 2026 13:20:45 +0100
Van: Installatiebedrijf Bakker B.V. <facturen@bakker-installatie.example>
Aan: Jan de Vries <jan.devries@ourcompany.example>

""" + BAKKER_BODY
    return message([
        ("From", '"Jan de Vries" <jan.devries@ourcompany.example>'),
        ("To", '"Markus Weber" <markus.weber@ourcompany.example>'),
        ("Date", rfc_date(2026, 3, 24, 8, 2, 19)),
        ("Subject", "Doorst: Factuur 20260244 - project Waalhaven"),
        ("Message-ID", BAKKER_2),
        ("References", BAKKER_1),
        ("User-Agent", "Mozilla Thunderbird"),
    ], multipart("mixed", "------------Vd0q2Bakker0244Fwd", [
        text_part(body),
        pdf_part(pdf, "Factuur_20260244.pdf"),
    ]))


def thread_bakker():
    pdf, text = bakker_pdf()
    write_pdf("threads/bakker-0244", pdf, text)
    m1 = bakker_msg_1(pdf)
    write_eml("threads/bakker-0244-1-factuur-pdf", m1,
              exp("ap.invoice", BAKKER_FIELDS, thread="bakker-0244"), crlf=False)
    m2 = bakker_msg_2(pdf)
    write_eml("threads/bakker-0244-2-doorst-forward-inline", m2,
              exp("ap.invoice", BAKKER_FIELDS, thread="bakker-0244"), crlf=True)
    # 3: Outlook "forward as attachment": message 2 rides as message/rfc822,
    # no In-Reply-To / References; threads by the normalised subject.
    body = """Hallo zusammen,

bitte die angehängte Rechnung von Bakker buchen und zur Zahlung freigeben.
Leistung ist von Jan de Vries abgenommen (siehe Mail).
Kostenstelle 4711, Projekt WAAL-02.

Danke und Gruß
Markus

Markus Weber
Controlling | Ourcompany Europe GmbH
Hafenstraße 12, 20457 Hamburg
"""
    m3 = message([
        ("From", '"Markus Weber" <markus.weber@ourcompany.example>'),
        ("To", AP),
        ("Date", rfc_date(2026, 3, 24, 9, 30, 0)),
        ("Subject", "WG: Doorst: Factuur 20260244 - project Waalhaven"),
        ("Message-ID", BAKKER_3),
        ("Thread-Topic", "Doorst: Factuur 20260244 - project Waalhaven"),
        ("X-MS-Has-Attach", "yes"),
    ], multipart("mixed", "_006_DB8PR10MB3120WG0244_", [
        text_part(body),
        "Content-Type: message/rfc822\n"
        'Content-Disposition: attachment; filename="Doorst Factuur 20260244 - project Waalhaven.eml"\n\n'
        + m2,
    ]))
    write_eml("threads/bakker-0244-3-wg-forward-as-attachment", m3,
              exp("ap.invoice", BAKKER_FIELDS, thread="bakker-0244"), crlf=False)


# ---------------------------------------------------------------------------
# hostile/
# ---------------------------------------------------------------------------

def hostile_attachment_name():
    rel = "hostile/attachment-name-html-injection-pdf"
    lines = [("H", "Harmless document"),
             ("", "The file name of this attachment is hostile; the content is not.")]
    pdf, text = build_pdf(lines, title="harmless", author="nobody",
                          created=dt.datetime(2026, 5, 4, 12, 0))
    write_pdf(rel, pdf, text)
    evil = '"><img src=x onerror=alert(1)>.pdf'
    quoted = evil.replace("\\", "\\\\").replace('"', '\\"')
    ctype_name = "name*=utf-8''%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.pdf"
    body = "Hi,\n\nsee the attached document.\n\nRegards\n"
    msg = message([
        ("From", '"Document Portal" <portal@doc-portal.example>'),
        ("To", AP),
        ("Date", rfc_date(2026, 5, 4, 12, 1, 0, "+0200")),
        ("Subject", "Shared document"),
        ("Message-ID", "<hostile-attname.20260504@doc-portal.example>"),
    ], multipart("mixed", "hostile-attname-boundary", [
        text_part(body),
        pdf_part(pdf, quoted, ctype_name=ctype_name),
    ]))
    write_eml(rel, msg, exp("other"), crlf=True)


def hostile_pdf_javascript():
    rel = "hostile/pdf-with-javascript-openaction"
    lines = [("H", "Account update"),
             ("", "Please open this document in Adobe Reader to view your account update.")]
    pdf, text = build_pdf(lines, title="Account update", author="Account Services",
                          created=dt.datetime(2026, 5, 5, 12, 0),
                          open_action_js="app.alert('deskmail fixture: PDF JavaScript must never run');")
    write_pdf(rel, pdf, text)
    body = ("Dear customer,\n\nan important account update is attached. Open it in Adobe Reader\n"
            "and allow the document to run to see the details.\n\nAccount Services\n")
    msg = message([
        ("From", '"Account Services" <service@account-update.example>'),
        ("To", AP),
        ("Date", rfc_date(2026, 5, 5, 12, 3, 0, "+0200")),
        ("Subject", "Important account update"),
        ("Message-ID", "<hostile-pdfjs.20260505@account-update.example>"),
    ], multipart("mixed", "hostile-pdfjs-boundary", [
        text_part(body),
        pdf_part(pdf, "account-update.pdf"),
    ]))
    write_eml(rel, msg, exp("other"), crlf=False)


def hostile_deep_nesting():
    rel = "hostile/deeply-nested-multipart-60-levels"
    depth = 60
    inner = text_part("You reached the bottom of a multipart nested 60 levels deep.\n")
    for level in range(depth, 0, -1):
        inner = multipart("mixed", f"nest-{level:02d}", [inner], preamble="")
    msg = message([
        ("From", '"Nesting Test" <nest@deep-mime.example>'),
        ("To", AP),
        ("Date", rfc_date(2026, 5, 6, 3, 14, 15, "+0200")),
        ("Subject", "Nested"),
        ("Message-ID", "<hostile-nest60.20260506@deep-mime.example>"),
    ], inner)
    write_eml(rel, msg, exp("other"), crlf=True)


def hostile_many_attachments():
    rel = "hostile/five-hundred-tiny-attachments"
    parts = [text_part("500 tiny attachments follow.\n")]
    for i in range(1, 501):
        parts.append(
            f'Content-Type: text/plain; charset=us-ascii; name="part-{i:03d}.txt"\n'
            f'Content-Disposition: attachment; filename="part-{i:03d}.txt"\n'
            "Content-Transfer-Encoding: 7bit\n\n"
            f"tiny attachment {i:03d}\n")
    msg = message([
        ("From", '"Attachment Flood" <flood@many-parts.example>'),
        ("To", AP),
        ("Date", rfc_date(2026, 5, 6, 4, 0, 0, "+0200")),
        ("Subject", "Files"),
        ("Message-ID", "<hostile-500att.20260506@many-parts.example>"),
    ], multipart("mixed", "flood-500", parts, preamble=""))
    write_eml(rel, msg, exp("other"), crlf=False)


# ---------------------------------------------------------------------------
# malformed/
# ---------------------------------------------------------------------------

def malformed_binary_junk():
    rel = "malformed/binary-junk-4k"
    junk = Lcg(20260301).bytes(4096)
    write_bytes(MAIL_DIR / f"{rel}.eml", junk)
    write_expected(rel, {"rejected": True})


def main() -> None:
    ap_invoice_en_gb_pdf_only()
    ap_invoice_de_pdf_only()
    ap_invoice_de_subject_without_invoice()
    ap_invoice_fr_pdf_only()
    ap_invoice_nl_pdf_only()
    ap_invoice_en_us_pdf_and_body()
    ap_invoice_corrupt_pdf()
    ap_invoice_encrypted_pdf()
    ap_statement_de_pdf()
    ap_vendor_onboarding_w9()
    ap_credit_note_de_pdf()
    ar_remittance_pdf()
    thread_keller_1()
    thread_keller_3()
    thread_bakker()
    hostile_attachment_name()
    hostile_pdf_javascript()
    hostile_deep_nesting()
    hostile_many_attachments()
    malformed_binary_junk()
    for p in WRITTEN:
        print(p.relative_to(FIXTURES_DIR.parent) if p.is_relative_to(FIXTURES_DIR.parent) else p)


if __name__ == "__main__":
    main()
