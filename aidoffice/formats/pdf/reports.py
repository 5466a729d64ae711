"""The office's printed documents: the monthly report, the distribution sheet, the association profile, the referral
letter with its return slip, and a sheet of beneficiary cards. Each takes plain data and writes one PDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, Table, TableStyle

from aidoffice.domain.dates import hijri_text
from aidoffice.formats.pdf.layout import (
    Letterhead,
    Paragraph,
    bar_chart,
    build_pdf,
    gap,
    heading,
    pie_chart,
    qr_code,
    rtl_table,
    signatures,
    usable_width,
)
from aidoffice.formats.pdf.text import FONT, FONT_BOLD, register_fonts, visual, wrap

MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")

FIGURE_LABELS = {
    "associations_active": "الجمعيات النشطة",
    "associations_dormant": "الجمعيات الخاملة (بلا نشاط منذ ١٢ شهراً)",
    "associations_new": "جمعيات سُجلت هذا الشهر",
    "persons_new": "مستفيدون سُجلوا هذا الشهر",
    "households_new": "أسر سُجلت هذا الشهر",
    "households_reached": "الأسر التي استلمت مساعدة",
    "distributions": "جولات التوزيع",
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
    return f"{MONTHS[month - 1]} {year}"


@dataclass(frozen=True)
class MonthlyData:
    office: str
    year: int
    month: int
    printed_on: date
    figures: dict[str, int]
    previous: dict[str, int]
    by_aid_type: list[tuple]  # (aid type, currency, households, amount, quantity)
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


def monthly_report(data: MonthlyData, target: Path) -> Path:
    width = usable_width()
    title = f"التقرير الشهري — {month_title(data.year, data.month)}"
    story: list = [heading(title, 15)]
    story.append(
        Paragraph(
            f"يعرض هذا التقرير نشاط الجمعيات والمستفيدين والتوزيعات في نطاق {data.office} خلال شهر "
            f"{month_title(data.year, data.month)}، مقارنة بالشهر السابق.",
            10,
        )
    )
    if not any(data.figures.get(k, 0) for k in ACTIVITY):
        story.append(
            Paragraph(
                "لا توجد بيانات مسجلة لهذا الشهر: لم يُسجل فيه توزيع ولا مستفيد ولا إحالة ولا زيارة.",
                11,
                bold=True,
                color=colors.HexColor("#a8443b"),
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
            [width * 0.52, width * 0.16, width * 0.16, width * 0.16],
            numeric=(1, 2, 3),
        )
    )

    story += [gap(), CondPageBreak(70 * mm), heading("المساعدات المستلمة حسب النوع والعملة")]
    if data.by_aid_type:
        story.append(
            rtl_table(
                ["نوع المساعدة", "العملة", "الأسر", "المبلغ", "الكمية"],
                [(a, c or "—", h, float(amount), float(q)) for a, c, h, amount, q in data.by_aid_type],
                [width * 0.34, width * 0.12, width * 0.14, width * 0.22, width * 0.18],
                numeric=(1, 2, 3, 4),
            )
        )
        story.append(bar_chart([a for a, *_ in data.by_aid_type], [h for _, _, h, *_ in data.by_aid_type], width))
    else:
        story.append(Paragraph("لم تُسجل مساعدات مستلمة في هذا الشهر.", 10))

    story += [gap(), CondPageBreak(60 * mm), heading("الإحالات حسب الحالة")]
    if data.referrals:
        story.append(
            KeepTogether(
                [
                    rtl_table(["الحالة", "العدد"], data.referrals, [width * 0.5, width * 0.2], numeric=(1,)),
                    pie_chart([s for s, _ in data.referrals], [n for _, n in data.referrals], width * 0.9, 45 * mm),
                ]
            )
        )
    else:
        story.append(Paragraph("لا إحالات في هذا الشهر.", 10))

    story += [gap(), CondPageBreak(50 * mm), heading("حسب المديرية")]
    totals = ("الإجمالي", *(sum(r[i] for r in data.districts) for i in (1, 2, 3)))
    story.append(
        rtl_table(
            ["المديرية", "مستفيدون جدد", "أسر استلمت", "جولات توزيع"],
            data.districts,
            [width * 0.4, width * 0.2, width * 0.2, width * 0.2],
            numeric=(1, 2, 3),
            totals=totals,
        )
    )

    story += [gap(), CondPageBreak(50 * mm), heading("حسب الجمعية")]
    if data.associations:
        story.append(
            rtl_table(
                ["الجمعية", "جولات التوزيع", "أسر استلمت", "حالات الاستلام"],
                data.associations,
                [width * 0.46, width * 0.18, width * 0.18, width * 0.18],
                numeric=(1, 2, 3),
            )
        )
    else:
        story.append(Paragraph("لم توزع أي جمعية في هذا الشهر.", 10))

    story += [gap(), CondPageBreak(40 * mm), heading("حسب فئة الاحتياج (رب الأسرة)")]
    if data.categories:
        story.append(rtl_table(["الفئة", "أسر استلمت"], data.categories, [width * 0.5, width * 0.2], numeric=(1,)))
    else:
        story.append(Paragraph("لا بيانات فئات لهذا الشهر.", 10))
    story.append(Paragraph("الفئات الحساسة لا تظهر في هذا التقرير المطبوع.", 8, color=colors.grey))
    story += [gap(10), KeepTogether([signatures(list(data.signers), width)])]
    return build_pdf(target, Letterhead(data.office, title, data.printed_on), story)


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
    quantity: str
    printed_on: date
    lines: list[tuple]  # (name, national ID, household size)
    committee: tuple[str, ...] = ("مندوب الجمعية", "مندوب المكتب", "رئيس لجنة التوزيع")


SHEET_ROW_HEIGHT = 7.8 * mm  # room to sign or press a thumb; 27 rows fit an A4 page under the header


def distribution_sheet(data: SheetData, target: Path) -> Path:
    width = usable_width()
    title = "كشف توزيع"
    head = [
        ("الجمعية", data.association),
        ("المشروع", data.project),
        (
            "المساعدة",
            f"{data.aid_type}{' — ' + data.item if data.item else ''}{' — ' + data.quantity if data.quantity else ''}",
        ),
        ("الموقع", f"{data.site or '—'}{' — ' + data.district if data.district else ''}"),
        ("التاريخ", f"{data.distribution_date:%Y/%m/%d} — {hijri_text(data.distribution_date)}"),
    ]
    info = Table([[visual(v), visual(k + ":")] for k, v in head], colWidths=[width * 0.82, width * 0.18])
    info.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 10),
                ("FONT", (1, 0), (1, -1), FONT_BOLD, 10),
                ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    rows = [(i, name, national_id, size, "", "") for i, (name, national_id, size) in enumerate(data.lines, start=1)]
    total_members = sum(size or 0 for _, _, size in data.lines)
    story: list = [info, gap(2)]
    if not rows:
        story.append(Paragraph("لا يوجد مستفيدون في هذا الكشف.", 11, bold=True))
    else:
        story.append(
            rtl_table(
                ["م", "الاسم", "رقم البطاقة", "الأفراد", "التوقيع", "البصمة"],
                rows,
                [width * 0.06, width * 0.36, width * 0.17, width * 0.09, width * 0.18, width * 0.14],
                numeric=(0, 2, 3),
                size=9,
                row_height=SHEET_ROW_HEIGHT,
                totals=("", f"الإجمالي {len(rows):,} أسرة", "", total_members, "", ""),
            )
        )
    story += [gap(8), KeepTogether([heading("لجنة التوزيع", 11), signatures(list(data.committee), width)])]
    return build_pdf(target, Letterhead(data.office, title, data.printed_on), story)


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


def association_profile(data: AssociationData, target: Path) -> Path:
    width = usable_width()
    story: list = [heading(data.name, 15)]
    info = Table([[visual(str(v)), visual(k)] for k, v in data.profile], colWidths=[width * 0.72, width * 0.28])
    info.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 10),
                ("FONT", (1, 0), (1, -1), FONT_BOLD, 10),
                ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#dfe4e2")),
            ]
        )
    )
    story += [info, gap()]
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
        story += [CondPageBreak(35 * mm), heading(title, 12)]
        if rows:
            text_columns = [i for i in range(len(headers)) if i not in numeric]
            story.append(rtl_table(headers, rows, [width * s for s in shares], numeric=numeric, wrapped=text_columns))
        else:
            story.append(Paragraph("لا شيء مسجل.", 10, color=colors.grey))
        story.append(gap(3))
    return build_pdf(target, Letterhead(data.office, "ملف جمعية", data.printed_on), story)


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


def referral_letter(data: LetterData, target: Path) -> Path:
    width = usable_width()
    story: list = [
        Paragraph(f"الرقم: {data.reference}", 10),
        Paragraph(f"التاريخ: {data.printed_on:%Y/%m/%d} — {hijri_text(data.printed_on)}", 10),
        gap(4),
        Paragraph(f"الإخوة/ {data.association}   المحترمون", 12, bold=True),
        Paragraph("تحية طيبة وبعد،", 11),
        Paragraph(
            f"نحيل إليكم المواطن/ة {data.person}، رقم البطاقة {data.national_id or '—'}، "
            f"لحاجته/ا إلى: {data.need}. نرجو النظر في حالته/ا وتقديم ما يمكن من مساعدة، وإعادة قسيمة الرد أدناه "
            f"إلى المكتب{' قبل ' + data.due_on.strftime('%Y/%m/%d') if data.due_on else ''}.",
            11,
        ),
        Paragraph("وتقبلوا خالص التحية والتقدير.", 11),
        gap(8),
        Paragraph(data.signer, 11, bold=True, align="left"),
        Paragraph("التوقيع والختم: ....................", 10, align="left"),
        gap(16),
        Paragraph(
            "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -",
            9,
            align="center",
            color=colors.grey,
        ),
        heading("قسيمة الرد — تُعاد إلى المكتب", 12),
        Paragraph(f"رقم الإحالة: {data.reference} — المواطن/ة: {data.person}", 10),
        Paragraph("[   ] قُبلت الحالة       [   ] قُدمت الخدمة       [   ] اعتذرت الجمعية", 11),
        Paragraph("الخدمة المقدمة أو سبب الاعتذار: ..........................................................", 10),
        Paragraph("اسم المسؤول في الجمعية: ............................  التوقيع والختم: ..................", 10),
    ]
    del width
    return build_pdf(target, Letterhead(data.office, "خطاب إحالة", data.printed_on), story)


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


def beneficiary_cards(data: CardsData, target: Path) -> Path:
    """Eight cards to an A4 page (two columns), each with a QR code to scan back offline."""
    register_fonts()  # the office's name is measured in bold before any page is built (cards may come first)
    width = usable_width()
    card_width, card_height = width / 2 - 3 * mm, 58 * mm

    def one(card: Card) -> Table:
        text = [
            [visual(wrap(data.office, card_width - 36 * mm, FONT_BOLD, 8)[0])],
            [visual("بطاقة مستفيد")],
            [visual(card.name)],
            [visual(f"رقم البطاقة: {card.national_id or '—'}")],
            [visual(f"المديرية: {card.district or '—'} — أفراد الأسرة: {card.household_size or '—'}")],
        ]
        inner = Table(text, colWidths=[card_width - 34 * mm])
        inner.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), FONT, 9),
                    ("FONT", (0, 2), (0, 2), FONT_BOLD, 11),
                    ("FONT", (0, 0), (0, 0), FONT_BOLD, 8),
                    ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                    ("TEXTCOLOR", (0, 0), (0, 1), colors.HexColor("#1f6f5c")),
                ]
            )
        )
        outer = Table(
            [[qr_code(card.payload, 30 * mm), inner]],
            colWidths=[34 * mm, card_width - 34 * mm],
            rowHeights=[card_height],
        )
        outer.setStyle(
            TableStyle(
                [("BOX", (0, 0), (-1, -1), 0.8, colors.HexColor("#1f6f5c")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
            )
        )
        return outer

    cells = [one(c) for c in data.cards]
    # First card on the right: each pair (padded) is reversed, as the page reads.
    rows: Sequence = [(cells[i : i + 2] + [""] * (2 - len(cells[i : i + 2])))[::-1] for i in range(0, len(cells), 2)]
    story: list = []
    if not rows:
        story.append(Paragraph("لم يُختر أي مستفيد.", 11))
    else:
        grid = Table(list(rows), colWidths=[width / 2] * 2, rowHeights=[card_height + 6 * mm] * len(rows))
        grid.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        story.append(grid)
    return build_pdf(target, Letterhead(data.office, "بطاقات المستفيدين", data.printed_on), story)
