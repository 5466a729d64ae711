"""The office's printed documents: the monthly report, the distribution sheet, the association profile, the referral
letter with its return slip, and a sheet of beneficiary cards. Each takes plain data and the office's letterhead and
writes one PDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, TableStyle

from aidoffice.domain.dates import hijri_text
from aidoffice.domain.display import MONTHS, currency_name
from aidoffice.formats.pdf.layout import (
    ACCENT,
    BODY,
    GRID,
    WARNING,
    Letterhead,
    Paragraph,
    bar_chart,
    build_pdf,
    gap,
    heading,
    info_table,
    pie_chart,
    qr_code,
    rtl_table,
    signatures,
    usable_width,
)
from aidoffice.formats.pdf.text import FONT, FONT_BOLD, draw, fit, ltr, number, style, width, wrap

__all__ = ["MONTHS", "currency_name"]  # the domain's month names and currency names, used here and by the screens

FIGURE_LABELS = {
    "associations_active": "الجمعيات النشطة",
    "associations_dormant": "الجمعيات الخاملة (مسجلة خاملة أو بلا نشاط منذ 12 شهراً)",
    "associations_new": "جمعيات سُجلت هذا الشهر",
    "persons_new": "مستفيدون سُجلوا هذا الشهر",
    "households_new": "أسر سُجلت هذا الشهر",
    "households_reached": "الأسر التي استلمت مساعدة",
    "distributions": "جولات التوزيع المعتمدة",
    "lines_received": "حالات الاستلام",
    "duplicates_caught": "حالات تكرار مكتشفة في السجل",
    "merges": "سجلات مكررة دُمجت",
    "duplications_prevented": "ازدواجية في المساعدة مُنعت قبل التوزيع",
    "overrides": "استثناءات أبقاها المشرف بسبب مكتوب",
    "referrals_new": "إحالات جديدة",
    "field_visits": "زيارات ميدانية",
}
ACTIVITY = (
    "associations_new",
    "persons_new",
    "households_new",
    "distributions",
    "lines_received",
    "referrals_new",
    "field_visits",
    "duplicates_caught",
    "duplications_prevented",
)


def month_title(year: int, month: int) -> str:
    """«ديسمبر 2026»: a report's month is always named on paper, in the document's digits."""
    return style().month(year, month, words=True)


def amount_text(value, currency: str | None) -> str:
    """«1,250 ريال يمني» (the currency in words, domain.display); «—» for nothing."""
    if value is None or not Decimal(str(value)):
        return "—"
    return style().amount(value, currency)


def quantity_text(value, unit: str = "") -> str:
    """«350 سلة»; «—» for nothing."""
    if value is None or not Decimal(str(value)):
        return "—"
    return f"{number(value)} {unit}".strip()


def _head(head: Letterhead | None, office: str, printed_on: date, **changes) -> Letterhead:
    return replace(head or Letterhead(office, "", printed_on), **changes)


def _keep_totals(table) -> None:
    """The totals row never stands alone at the top of a page: it stays with the row above it."""
    table.setStyle(TableStyle([("NOSPLIT", (0, -2), (-1, -1))]))


# --- monthly report ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyData:
    office: str
    year: int
    month: int
    printed_on: date
    figures: dict[str, int]
    previous: dict[str, int]
    by_aid_type: list[tuple]  # (aid type, currency, unit, households, amount, quantity)
    referrals: list[tuple[str, int]]  # (status label, count)
    districts: list[tuple]  # (district, new persons, households reached, distributions)
    associations: list[tuple]  # (association, distributions, households reached, lines received)
    categories: list[tuple]  # (category, households reached)
    signers: tuple[str, str] = ("رئيس قسم الجمعيات", "مدير المكتب")


def _change(now: int, before: int) -> str:
    if now == before:
        return "—"
    diff = now - before
    sign = "+" if diff > 0 else "−"
    share = f" ({abs(diff) / before:.0%})" if before else ""
    return f"{sign}{abs(diff):,}{share}"


def monthly_report(data: MonthlyData, target: Path, head: Letterhead | None = None) -> Path:
    width_ = usable_width()
    month = month_title(data.year, data.month)
    title = f"التقرير الشهري — {month}"
    story: list = [
        Paragraph(
            f"يعرض هذا التقرير نشاط الجمعيات والمستفيدين والتوزيعات في نطاق {data.office} خلال شهر {month}، "
            "مقارنة بالشهر السابق. تُحسب جولات التوزيع المعتمدة وحدها.",
            BODY + 1,
        )
    ]
    if not any(data.figures.get(k, 0) for k in ACTIVITY):
        story.append(
            Paragraph(
                "لا توجد بيانات مسجلة لهذا الشهر: لم يُسجل فيه توزيع معتمد ولا مستفيد ولا إحالة ولا زيارة.",
                BODY + 1,
                bold=True,
                color=WARNING,
            )
        )
    story += [gap(2), heading("المؤشرات الرئيسية")]
    rows = [
        (
            FIGURE_LABELS[k],
            data.figures.get(k, 0),
            data.previous.get(k, 0),
            _change(data.figures.get(k, 0), data.previous.get(k, 0)),
        )
        for k in FIGURE_LABELS
    ]
    story.append(
        rtl_table(
            ["المؤشر", "هذا الشهر", "الشهر السابق", "التغير"],
            rows,
            [width_ * 0.52, width_ * 0.16, width_ * 0.16, width_ * 0.16],
            numeric=(1, 2, 3),
        )
    )

    story += [gap(), CondPageBreak(80 * mm), heading("المساعدات المستلمة حسب النوع")]
    if data.by_aid_type:
        story.append(
            rtl_table(
                ["نوع المساعدة", "الأسر", "المبلغ", "الكمية"],
                [
                    (aid, households, amount_text(amount, currency), quantity_text(quantity, unit))
                    for aid, currency, unit, households, amount, quantity in data.by_aid_type
                ],
                [width_ * 0.34, width_ * 0.16, width_ * 0.28, width_ * 0.22],
                numeric=(1, 2, 3),
            )
        )
        totals: dict[str, int] = {}
        for aid, _c, _u, households, *_ in data.by_aid_type:
            totals[aid] = totals.get(aid, 0) + households
        story.append(
            bar_chart(list(totals), list(totals.values()), width_, x_title="نوع المساعدة", y_title="عدد الأسر")
        )
    else:
        story.append(Paragraph("لم تُسجل مساعدات مستلمة في جولات معتمدة هذا الشهر.", BODY))

    story += [gap(), CondPageBreak(70 * mm), heading("الإحالات حسب الحالة")]
    if data.referrals:
        story.append(
            KeepTogether(
                [
                    rtl_table(["الحالة", "العدد"], data.referrals, [width_ * 0.5, width_ * 0.2], numeric=(1,)),
                    pie_chart([s for s, _ in data.referrals], [n for _, n in data.referrals], width_ * 0.9, 50 * mm),
                ]
            )
        )
    else:
        story.append(Paragraph("لا إحالات في هذا الشهر.", BODY))

    story += [gap(), CondPageBreak(50 * mm), heading("حسب المديرية")]
    district_totals = ("الإجمالي", *(sum(r[i] for r in data.districts) for i in (1, 2, 3)))
    table = rtl_table(
        ["المديرية", "مستفيدون جدد", "أسر استلمت", "جولات توزيع معتمدة"],
        data.districts,
        [width_ * 0.4, width_ * 0.2, width_ * 0.2, width_ * 0.2],
        numeric=(1, 2, 3),
        totals=district_totals,
    )
    _keep_totals(table)
    story.append(table)

    story += [gap(), CondPageBreak(50 * mm), heading("حسب الجمعية")]
    if data.associations:
        story.append(
            rtl_table(
                ["الجمعية", "جولات التوزيع", "أسر استلمت", "حالات الاستلام"],
                data.associations,
                [width_ * 0.46, width_ * 0.18, width_ * 0.18, width_ * 0.18],
                numeric=(1, 2, 3),
                wrapped=(0,),
            )
        )
    else:
        story.append(Paragraph("لم توزع أي جمعية في جولة معتمدة هذا الشهر.", BODY))

    story += [gap(), CondPageBreak(40 * mm), heading("حسب فئة الاحتياج (رب الأسرة)")]
    if data.categories:
        story.append(rtl_table(["الفئة", "أسر استلمت"], data.categories, [width_ * 0.5, width_ * 0.2], numeric=(1,)))
    else:
        story.append(Paragraph("لا بيانات فئات لهذا الشهر.", BODY))
    story.append(Paragraph("الفئات الحساسة لا تظهر في هذا التقرير المطبوع.", BODY, color=colors.grey))
    story += [gap(8), KeepTogether([signatures(list(data.signers), width_)])]
    letterhead = _head(head, data.office, data.printed_on, title=title, running=title, confidential=False)
    return build_pdf(target, letterhead, story)


# --- distribution sheet ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetData:
    office: str
    association: str
    project: str
    aid_type: str
    item: str
    site: str
    district: str
    distribution_date: date
    quantity: str  # what each household receives, with its unit or currency in words
    printed_on: date
    lines: list[tuple]  # (name, national ID, household size)
    committee: tuple[str, ...] = ("مندوب الجمعية", "مندوب المكتب", "رئيس لجنة التوزيع")
    approved: bool = True
    status: str = "معتمد"
    per_household: Decimal | None = None  # the amount or quantity a line receives, for the totals row
    per_household_unit: str = ""  # its unit or currency name


SHEET_ROW_HEIGHT = 19 * mm  # a thumbprint is about 20 mm tall: the cell takes it without running into the next row
SHEET_CHUNK = 60  # rows a table holds before the next one starts (reportlab splits long tables in quadratic time)


def sheet_running(data: SheetData) -> str:
    return f"كشف توزيع — {data.association} — {style().date(data.distribution_date)}"


def distribution_sheet(data: SheetData, target: Path, head: Letterhead | None = None) -> Path:
    width_ = usable_width()
    aid = " — ".join(p for p in (data.aid_type, data.item if data.item != data.aid_type else "", data.quantity) if p)
    hijri = hijri_text(data.distribution_date)
    facts = [
        ("الجمعية", data.association),
        ("المشروع", data.project),
        ("المساعدة لكل أسرة", aid),
        ("الموقع", " — ".join(p for p in (data.site, data.district) if p) or "—"),
        ("تاريخ التوزيع", f"{style().date(data.distribution_date)} م" + (f" — {hijri}" if hijri else "")),
        ("حالة الكشف", data.status),
    ]
    story: list = [info_table(facts, width_, 0.2), gap(3)]
    shares = [0.06, 0.34, 0.17, 0.09, 0.17, 0.17]
    widths = [width_ * s for s in shares]
    name_width = widths[1] - 10
    members = sum(size or 0 for _, _, size in data.lines)
    if not data.lines:
        story.append(Paragraph("لا يوجد مستفيدون في هذا الكشف.", BODY + 1, bold=True))
    for start in range(0, len(data.lines), SHEET_CHUNK):
        chunk = data.lines[start : start + SHEET_CHUNK]
        rows = [
            (start + i, "\n".join(wrap(name, name_width, FONT, BODY)[:3]), national_id or "—", size, "", "")
            for i, (name, national_id, size) in enumerate(chunk, start=1)
        ]
        last = start + SHEET_CHUNK >= len(data.lines)
        total = None
        if last:
            given = (
                f"{number(data.per_household * len(data.lines))} {data.per_household_unit}".strip()
                if data.per_household
                else ""
            )
            given = f" — {given}" if given else ""
            total = ("", f"الإجمالي {len(data.lines):,} أسرة{given}", "", members, "", "")
        table = rtl_table(
            ["م", "الاسم", "رقم البطاقة", "الأفراد", "التوقيع", "البصمة"],
            rows,
            widths,
            numeric=(0, 2, 3),
            row_height=SHEET_ROW_HEIGHT,
            totals=total,
        )
        if last:
            _keep_totals(table)
        story.append(table)
    story += [gap(6), KeepTogether([heading("لجنة التوزيع", 12), signatures(list(data.committee), width_)])]
    letterhead = _head(
        head,
        data.office,
        data.printed_on,
        title="كشف توزيع",
        running=sheet_running(data),
        confidential=True,
        draft=not data.approved,
    )
    return build_pdf(target, letterhead, story)


# --- association profile -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssociationData:
    office: str
    printed_on: date
    profile: list[tuple[str, str]]  # (label, value)
    board: list[tuple]  # (name, role, phone)
    history: list[tuple]  # (date, from, to, reason)
    visits: list[tuple]  # (date, visitors, findings, follow-up)
    compliance: list[tuple]  # (year, admin, financial, submitted)
    activity: list[tuple]  # (project, aid type, distributions, households)
    name: str = ""
    licence_expiry: date | None = None
    warnings: tuple[str, ...] = ()  # what a director must see first (an expired licence, dormancy)


def licence_state(expiry: date | None, today: date) -> str:
    """«منتهٍ منذ 12 يوماً», «ينتهي خلال 30 يوماً», or "" while valid for long."""
    if expiry is None:
        return ""
    days = (expiry - today).days
    if days < 0:
        return f"منتهٍ منذ {-days:,} يوماً"
    if days <= 60:
        return f"ينتهي خلال {days:,} يوماً"
    return ""


def association_profile(data: AssociationData, target: Path, head: Letterhead | None = None) -> Path:
    width_ = usable_width()
    story: list = [Paragraph(data.name, 15, bold=True, align="center", space_after=6)]
    for warning in data.warnings:
        story.append(Paragraph(f"تنبيه: {warning}", BODY + 1, bold=True, color=WARNING))
    story += [info_table(data.profile, width_, 0.28), gap()]
    sections = (
        ("مجلس الإدارة", ["الاسم", "الصفة", "الهاتف"], data.board, [0.45, 0.3, 0.25], (2,)),
        ("سجل الحالة", ["التاريخ", "من", "إلى", "السبب"], data.history, [0.16, 0.16, 0.16, 0.52], (0,)),
        (
            "الزيارات الميدانية",
            ["التاريخ", "الزائرون", "الملاحظات", "المتابعة"],
            data.visits,
            [0.14, 0.24, 0.36, 0.26],
            (0,),
        ),
        (
            "الالتزام السنوي",
            ["السنة", "التقرير الإداري", "التقرير المالي", "تاريخ التسليم"],
            data.compliance,
            [0.2, 0.25, 0.25, 0.3],
            (0, 1, 2, 3),
        ),
        (
            "المشاريع والتوزيعات",
            ["المشروع", "نوع المساعدة", "جولات التوزيع", "أسر استلمت"],
            data.activity,
            [0.4, 0.24, 0.18, 0.18],
            (2, 3),
        ),
    )
    for title, headers, rows, shares, numeric in sections:
        story += [CondPageBreak(35 * mm), heading(title, 13)]
        if rows:
            text_columns = [i for i in range(len(headers)) if i not in numeric]
            story.append(rtl_table(headers, rows, [width_ * s for s in shares], numeric=numeric, wrapped=text_columns))
        else:
            story.append(Paragraph("لا شيء مسجل.", BODY, color=colors.grey))
        story.append(gap(3))
    letterhead = _head(
        head, data.office, data.printed_on, title="ملف جمعية", running=f"ملف جمعية — {data.name}", confidential=True
    )
    return build_pdf(target, letterhead, story)


# --- referral letter ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterData:
    office: str
    printed_on: date
    reference: str
    association: str
    person: str
    national_id: str
    phone: str
    need: str
    due_on: date | None
    signer: str = "مدير المكتب"
    sex: str | None = None  # "M", "F" or unknown: the letter's grammar follows it


def _gendered(sex: str | None) -> dict[str, str]:
    if sex == "F":
        return {"citizen": "المواطنة", "his": "ها", "needs": "لحاجتها"}
    if sex == "M":
        return {"citizen": "المواطن", "his": "ه", "needs": "لحاجته"}
    return {"citizen": "المواطن/ة", "his": "ه/ا", "needs": "لحاجته/ا"}


class CheckBoxes(Flowable):
    """Boxes to tick, each a drawn square with its label, spread over the width: they never run together."""

    def __init__(self, labels: Sequence[str], width_: float, size: float = BODY + 1) -> None:
        super().__init__()
        self.labels = list(labels)
        self.width = width_
        self.size = size
        self.height = 10 * mm

    def wrap(self, _w, _h):
        return self.width, self.height

    def draw(self):
        c = self.canv
        column = self.width / len(self.labels)
        box = 4.5 * mm
        for i, label in enumerate(self.labels):
            right = self.width - i * column
            c.setStrokeColor(colors.black)
            c.setLineWidth(0.8)
            c.rect(right - box, 2.5 * mm, box, box)
            c.setFillColor(colors.black)
            draw(c, right - box - 2 * mm, 3.3 * mm, label, FONT, self.size, "right")


def referral_letter(data: LetterData, target: Path, head: Letterhead | None = None) -> Path:
    width_ = usable_width()
    words = _gendered(data.sex)
    national_id = f"، رقم البطاقة {ltr(data.national_id)}" if data.national_id else ""
    due = f" قبل {style().date(data.due_on)}" if data.due_on else ""
    signature = signatures([data.signer], width_ * 0.5)
    signature.hAlign = "LEFT"
    answer = signatures(["المسؤول في الجمعية"], width_ * 0.6)
    answer.hAlign = "RIGHT"
    story: list = [
        Paragraph(f"الإخوة/ {data.association}   المحترمون", BODY + 2, bold=True),
        Paragraph("تحية طيبة وبعد،", BODY + 1),
        Paragraph(f"الموضوع: إحالة {words['citizen']} {data.person} إلى جمعيتكم", BODY + 1, bold=True),
        Paragraph(
            f"نحيل إليكم {words['citizen']} {data.person}{national_id}، {words['needs']} إلى: {data.need}. "
            f"نرجو النظر في حالت{words['his']} وتقديم ما يمكن من مساعدة، وإعادة قسيمة الرد أدناه إلى المكتب{due}.",
            BODY + 1,
        ),
        Paragraph("وتقبلوا خالص التحية والتقدير.", BODY + 1),
        gap(2),
        signature,
        CutLine(width_),
        KeepTogether(
            [
                heading("قسيمة الرد — تُعاد إلى المكتب", 13),
                Paragraph(f"رقم الإحالة: {ltr(data.reference)} — {words['citizen']}: {data.person}", BODY + 1),
                CheckBoxes(["قُبلت الحالة", "قُدمت الخدمة", "اعتذرت الجمعية"], width_),
                Paragraph("الخدمة المقدمة أو سبب الاعتذار:", BODY + 1),
                Paragraph("." * 150, BODY, color=colors.grey),
                Paragraph("." * 150, BODY, color=colors.grey),
                gap(2),
                answer,
            ]
        ),
    ]
    letterhead = _head(
        head,
        data.office,
        data.printed_on,
        title="خطاب إحالة",
        running=f"خطاب إحالة — رقم الإحالة {ltr(data.reference)}",
        confidential=True,
    )
    return build_pdf(target, letterhead, story)


class CutLine(Flowable):
    """A dashed line with scissors' word: where the slip is cut off."""

    def __init__(self, width_: float) -> None:
        super().__init__()
        self.width = width_
        self.height = 10 * mm

    def wrap(self, _w, _h):
        return self.width, self.height

    def draw(self):
        c = self.canv
        c.setStrokeColor(colors.grey)
        c.setDash(4, 3)
        c.line(0, self.height / 2, self.width - 22 * mm, self.height / 2)
        c.setDash()
        c.setFillColor(colors.grey)
        draw(c, self.width, self.height / 2 - 3, "يُقص هنا", FONT, BODY, "right")


# --- beneficiary cards -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    name: str
    national_id: str
    district: str
    household_size: int | None
    payload: str  # what the QR code holds: the person's UUID and its check value


@dataclass(frozen=True)
class CardsData:
    office: str
    printed_on: date
    cards: list[Card] = field(default_factory=list)
    valid_until: date | None = None


CARD_HEIGHT = 60 * mm
CARD_GAP = 5 * mm
CARD_PAD = 4 * mm
QR_SIZE = 28 * mm


def name_lines(name: str, room: float) -> tuple[list[str], float]:
    """A name laid out by measurement: bold 12 pt on up to two lines, else 10 pt on three, else 8 pt on four, cut
    with «…» only past that."""
    for size, most in ((12, 2), (10, 3), (8, 4)):
        lines = wrap(name, room, FONT_BOLD, size)
        if len(lines) <= most and all(width(line, FONT_BOLD, size) <= room for line in lines):
            return lines, size
    lines = wrap(name, room, FONT_BOLD, 8)
    return [fit(line, room, FONT_BOLD, 8) for line in lines[:3]] + [fit(" ".join(lines[3:]), room, FONT_BOLD, 8)], 8


class CardFlowable(Flowable):
    """One card, drawn by measurement: the office across the top, the QR code on the left with its quiet zone, and
    the text in the column to its right, never over it and never touching the border."""

    def __init__(self, card: Card, office: str, valid_until: date | None, width_: float) -> None:
        super().__init__()
        self.card = card
        self.office = office
        self.valid_until = valid_until
        self.width = width_
        self.height = CARD_HEIGHT

    def wrap(self, _w, _h):
        return self.width, self.height

    def draw(self):
        c = self.canv
        w, h = self.width, self.height
        c.setStrokeColor(ACCENT)
        c.setLineWidth(0.8)
        c.roundRect(0, 0, w, h, 2 * mm)
        room = w - 2 * CARD_PAD
        y = h - CARD_PAD - 9
        c.setFillColor(ACCENT)
        for line in wrap(self.office, room, FONT_BOLD, BODY)[:2]:
            draw(c, w - CARD_PAD, y, fit(line, room, FONT_BOLD, BODY), FONT_BOLD, BODY, "right")
            y -= 12
        c.setStrokeColor(GRID)
        c.setLineWidth(0.4)
        c.line(CARD_PAD, y + 5, w - CARD_PAD, y + 5)
        top = y + 2
        # The QR code, bottom left, its quiet zone inside the square.
        qr_y = CARD_PAD
        renderPDF.draw(qr_code(self.card.payload, QR_SIZE), c, CARD_PAD, qr_y)
        column = room - QR_SIZE - 3 * mm
        right = w - CARD_PAD
        y = top - 11
        c.setFillColor(ACCENT)
        draw(c, right, y, "بطاقة مستفيد", FONT_BOLD, BODY, "right")
        lines, size = name_lines(self.card.name or "—", column)
        c.setFillColor(colors.black)
        y -= size * 1.35 + 1
        for line in lines:
            draw(c, right, y, line, FONT_BOLD, size, "right")
            y -= size * 1.3
        y -= 1
        facts = [
            f"رقم البطاقة: {ltr(self.card.national_id) if self.card.national_id else '—'}",
            f"المديرية: {self.card.district or '—'}",
            f"أفراد الأسرة: {self.card.household_size or '—'}",
        ]
        if self.valid_until:
            facts.append(f"صالحة حتى: {style().date(self.valid_until)}")
        for fact in facts:
            draw(c, right, y, fit(fact, column, FONT, BODY), FONT, BODY, "right")
            y -= BODY * 1.3


class CardRow(Flowable):
    """Two cards side by side, the first on the right as the page reads."""

    def __init__(self, cards: Sequence[CardFlowable], width_: float) -> None:
        super().__init__()
        self.cards = list(cards)
        self.width = width_
        self.height = CARD_HEIGHT + CARD_GAP

    def wrap(self, _w, _h):
        return self.width, self.height

    def draw(self):
        card_width = (self.width - CARD_GAP) / 2
        for i, card in enumerate(self.cards):
            card.wrapOn(self.canv, card_width, CARD_HEIGHT)
            card.drawOn(self.canv, self.width - (i + 1) * card_width - i * CARD_GAP, CARD_GAP)


def beneficiary_cards(data: CardsData, target: Path, head: Letterhead | None = None) -> Path:
    """Cards two a row, as many rows as a page holds, each with a QR code to scan back offline."""
    width_ = usable_width()
    card_width = (width_ - CARD_GAP) / 2
    cards = [CardFlowable(card, data.office, data.valid_until, card_width) for card in data.cards]
    story: list = []
    if not cards:
        story.append(Paragraph("لم يُختر أي مستفيد.", BODY + 1))
    for i in range(0, len(cards), 2):
        story.append(CardRow(cards[i : i + 2], width_))
    letterhead = _head(
        head,
        data.office,
        data.printed_on,
        title="بطاقات المستفيدين",
        running=f"بطاقات المستفيدين — {len(cards):,} بطاقة",
        confidential=True,
    )
    return build_pdf(target, letterhead, story)
