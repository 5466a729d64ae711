"""aidoffice-cli: the services without a window. Exit 0 on success, 2 on bad usage or input, 1 on a bug."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aidoffice import __version__, texts
from aidoffice.errors import UserError
from aidoffice.logs import setup_logging

log = logging.getLogger("aidoffice.cli")

EXIT_OK, EXIT_BUG, EXIT_USER = 0, 1, 2


class _ArabicParser(argparse.ArgumentParser):
    """argparse that reports bad usage in Arabic and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(texts.BAD_USAGE.format(detail=message) + "\n")
        raise SystemExit(EXIT_USER)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"يجب أن يكون عدداً صحيحاً: {text}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"يجب أن يكون أكبر من صفر: {text}")
    return value


def _db_path(text: str) -> Path | str:
    """--db: a database file on this PC, or a PostgreSQL server's URL (postgresql+psycopg://user@host:port/db, kept as
    text). Any other address would otherwise become folders named after it: it is refused."""
    from aidoffice.store.dialect import SERVER_SCHEME, is_server_url, looks_like_url

    if not text.strip():
        raise argparse.ArgumentTypeError("مسار قاعدة البيانات فارغ.")
    if is_server_url(text):
        return text.strip()
    if looks_like_url(text):
        raise argparse.ArgumentTypeError(
            "قيمة --db ليست مسار ملف على هذا الحاسوب ولا عنوان خادم PostgreSQL بالصيغة "
            f"{SERVER_SCHEME}المستخدم@الخادم:المنفذ/القاعدة؛ اكتب مسار ملف قاعدة البيانات أو عنوان الخادم بهذه الصيغة."
        )
    return Path(text)


_DB_HELP = (
    "ملف قاعدة البيانات (الافتراضي: مجلد بيانات المستخدم)، أو قاعدة على خادم PostgreSQL: "
    "postgresql+psycopg://المستخدم@الخادم:المنفذ/القاعدة (كلمة مرورها من PGPASSWORD)"
)
_USER_HELP = "اسم المستخدم الذي تُسجل باسمه التغييرات"


def build_parser() -> argparse.ArgumentParser:
    # --db and --user are read before or after the command: the main parser holds the defaults, the commands accept
    # them too without overwriting a value given before the command (SUPPRESS).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=_db_path, default=argparse.SUPPRESS, help=_DB_HELP)
    common.add_argument("--user", default=argparse.SUPPRESS, help=_USER_HELP)

    parser = _ArabicParser(prog="aidoffice-cli", description="AidOffice — سطر الأوامر")
    parser.add_argument("--version", action="version", version=f"AidOffice {__version__}")
    parser.add_argument("--db", type=_db_path, default=None, help=_DB_HELP)
    parser.add_argument("--user", default="cli", help=_USER_HELP)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_ArabicParser)

    p = sub.add_parser("init", parents=[common], help="إنشاء قاعدة البيانات أو ترقيتها وضبط ملف المكتب")
    p.add_argument("--office-name")
    p.add_argument("--governorate")
    p.add_argument("--office-code")
    p.add_argument("--country", choices=("YE", "SY"))
    p.add_argument("--admin", help="اسم دخول مدير النظام الأول (كلمة المرور من AIDOFFICE_NEW_PASSWORD أو تُكتب)")
    p.add_argument("--mode", choices=("office", "hq"), help="نوع التثبيت: مكتب محافظة أو ديوان الوزارة")
    p.add_argument(
        "--no-encrypt", action="store_true", help="مع --admin: لا تُشفَّر قاعدة البيانات (التشفير هو الافتراضي)"
    )

    p = sub.add_parser("user", parents=[common], help="المستخدمون: إضافة أو عرض (لمدير النظام)")
    p.add_argument("action", choices=("add", "list", "reset"))
    p.add_argument("name", nargs="?", help="add/reset: اسم الدخول (reset: كلمة مرور مؤقتة يغيّرها صاحبها عند دخوله)")
    p.add_argument("--role", choices=("clerk", "supervisor", "admin"), default="clerk")
    p.add_argument("--full-name", default="")

    sub.add_parser(
        "password",
        parents=[common],
        help="تغيير كلمة مرورك (الحالية من AIDOFFICE_PASSWORD والجديدة من AIDOFFICE_NEW_PASSWORD أو تُكتبان)",
    )

    p = sub.add_parser("backup", parents=[common], help="نسخة احتياطية (مع فحص السلامة قبل النسخ وبعده)")
    p.add_argument("--to", type=Path, help="المجلد (الافتراضي: مجلد النسخ في الإعدادات)")

    p = sub.add_parser("restore", parents=[common], help="استعادة نسخة احتياطية مكان قاعدة البيانات")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--allow-unencrypted",
        action="store_true",
        help="تأكيد استعادة نسخة غير مشفرة مكان قاعدة بيانات مشفرة (تصبح القاعدة غير مشفرة)",
    )

    p = sub.add_parser("encrypt", parents=[common], help="تشفير قاعدة البيانات بـ SQLCipher (لمدير النظام)")
    p.add_argument(
        "--old-backups",
        choices=("keep", "encrypt", "delete"),
        default="keep",
        help="النسخ الاحتياطية غير المشفرة: تُبقى كما هي (مع تنبيه) أو تُشفَّر أو تُحذف",
    )

    p = sub.add_parser("audit", parents=[common], help="سجل التدقيق: التحقق من سلسلة البصمات")
    p.add_argument("action", choices=("verify",))

    p = sub.add_parser("demo", parents=[common], help="ملء قاعدة بيانات جديدة ببيانات تجريبية واقعية")
    p.add_argument("--persons", type=_positive, required=True)
    p.add_argument("--seed", type=int, default=1)

    p = sub.add_parser("stats", parents=[common], help="أعداد السجلات")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("search", parents=[common], help="البحث عن مستفيد بالاسم أو رقم البطاقة أو الهاتف")
    p.add_argument("text")
    p.add_argument("--limit", type=_positive, default=20)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("person", parents=[common], help="تسجيل مستفيد مع فحص التكرار عند الإدخال")
    p.add_argument("action", choices=("add",))
    p.add_argument("--name", required=True, help="الاسم الرباعي")
    p.add_argument("--national-id", default="")
    p.add_argument("--phone", default="")
    p.add_argument("--sex", default="", help="ذكر أو أنثى")
    p.add_argument("--birth-year", default=None)
    p.add_argument("--district", default="", help="اسم المديرية")
    p.add_argument(
        "--distinct-from",
        action="extend",
        nargs="+",
        default=[],
        metavar="ID",
        help="معرف سجل مشابه تؤكد أنه شخص آخر (لكل تكرار مرجح)",
    )
    p.add_argument("--json", action="store_true")

    from aidoffice.services.overview import LIST_KINDS

    p = sub.add_parser("list", parents=[common], help="عرض قائمة من السجلات")
    p.add_argument("kind", choices=LIST_KINDS)
    p.add_argument("--limit", type=_positive, default=50)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("import-beneficiaries", parents=[common], help="استيراد قائمة مستفيدين من Excel أو CSV")
    p.add_argument("file", type=Path)
    p.add_argument("--association", required=True, help="رقم الإشهار أو اسم الجمعية أو معرفها")
    p.add_argument("--project")
    p.add_argument("--dry-run", action="store_true", help="فحص فقط دون كتابة")
    p.add_argument("--json", action="store_true")
    p.add_argument("--errors-out", type=Path, help="ملف Excel بالصفوف التي تحتاج تصحيحاً")

    from aidoffice.services.exports import EXPORTS

    p = sub.add_parser("export", parents=[common], help="تصدير قائمة إلى Excel")
    p.add_argument("table", choices=(*EXPORTS, "template"))
    p.add_argument("--out", type=Path, required=True)

    p = sub.add_parser("report", parents=[common], help="تقرير PDF: الشهري، كشف توزيع، ملف جمعية، خطاب إحالة، بطاقات")
    p.add_argument("kind", choices=("monthly", "sheet", "association", "letter", "cards"))
    p.add_argument("--month", help="للتقرير الشهري: سنة-شهر مثل 2026-03 (الافتراضي: آخر شهر مكتمل)")
    p.add_argument("--distribution", help="لكشف التوزيع: معرف التوزيع")
    p.add_argument("--association", help="لملف الجمعية: رقم الإشهار أو الاسم أو المعرف")
    p.add_argument("--referral", help="لخطاب الإحالة: معرف الإحالة")
    p.add_argument("--person", action="append", default=[], help="للبطاقات: معرف مستفيد (يتكرر)")
    p.add_argument("--out", type=Path, required=True)

    p = sub.add_parser("keys", parents=[common], help="مفاتيح المزامنة: الهوية والبصمة وتسجيل الجهات والتدوير والإلغاء")
    p.add_argument("action", choices=("show", "export", "enrol", "list", "rotate", "revoke", "escrow"))
    p.add_argument("target", nargs="?", help="export/escrow: المجلد أو الملف؛ enrol: ملف الهوية؛ revoke: رمز المكتب")
    p.add_argument("--fingerprint", help="enrol: البصمة كما قُرئت بالهاتف (25 رقمًا، إلزامية)")
    p.add_argument(
        "--reenrol", action="store_true", help="enrol: إعادة تسجيل جهة ملغاة بمفتاح جديد (قرار مدير النظام، يُسجَّل)"
    )

    p = sub.add_parser("recover", parents=[common], help="فتح قاعدة مشفرة بمفتاح ضمان الديوان عند فقد كل كلمات المرور")
    p.add_argument(
        "--escrow", type=Path, required=True, help="ملف مفتاح الضمان (عبارة مروره من AIDOFFICE_ESCROW_PASSPHRASE)"
    )
    p.add_argument("--name", required=True, help="المستخدم الذي تُعطى له كلمة مرور جديدة (من AIDOFFICE_NEW_PASSWORD)")

    p = sub.add_parser("export-package", parents=[common], help="تصدير حزمة مزامنة إلى مجلد أو ذاكرة USB")
    p.add_argument("--to", type=Path, required=True)
    p.add_argument("--full", action="store_true", help="نسخة كاملة بدل التغييرات منذ آخر إقرار")
    p.add_argument(
        "--restamp",
        action="store_true",
        help="في المكتب بعد تقدّم الساعة: إعادة ختم ما خُتم في المستقبل بالوقت الحاضر (لمدير النظام) ثم التصدير",
    )
    p.add_argument("--office", help="في الديوان: رمز المكتب الذي تُصدَّر له الحزمة")

    p = sub.add_parser("import-package", parents=[common], help="استيراد حزمة مزامنة (تُفحص كاملة قبل التطبيق)")
    p.add_argument("file", type=Path)

    p = sub.add_parser(
        "server", parents=[common], help="خادم PostgreSQL: حساب أجهزة المكتب بأقل الصلاحيات (يشغّله مالك القاعدة)"
    )
    p.add_argument("action", choices=("roles",))
    p.add_argument("--role", default="aidoffice_pc", help="اسم حساب الأجهزة على الخادم (الافتراضي: aidoffice_pc)")
    p.add_argument(
        "--new-password",
        action="store_true",
        help="تغيير كلمة مرور حساب الأجهزة (من AIDOFFICE_NEW_PASSWORD أو تُكتب؛ تُطلب دائماً عند إنشائه)",
    )

    p = sub.add_parser("dedup-file", help="كشف التكرار في قائمة CSV قبل إدخالها إلى السجل")
    p.add_argument("input", type=Path)
    p.add_argument("--out", type=Path, required=True, help="ملف CSV للمجموعات: record_id,cluster_id")
    p.add_argument("--pairs", type=Path, help="ملف CSV للأزواج المرشحة مع الدرجة والأسباب")
    p.add_argument(
        "--db",
        type=_db_path,
        default=argparse.SUPPRESS,
        help="مطابقة القائمة مع سجل المستفيدين في قاعدة البيانات هذه أيضاً",
    )
    p.add_argument("--country", choices=("YE", "SY"), help="قواعد الهاتف والبطاقة عند عدم تحديد قاعدة بيانات")
    p.add_argument("--user", default=argparse.SUPPRESS)
    return parser


BULK_ROWS = 200  # a page of the desktop's tables: more rows in one command is the registry read out, an export


def _refuse_bulk(ctx, limit: int) -> None:
    """`list` and `search` print names, IDs and phones: more than a page at once needs the right to export, as an
    Excel export does (a clerk asks a supervisor). Checked after the login, before anything is read."""
    from aidoffice.domain.access import Permission, allowed

    if limit > BULK_ROWS and not allowed(ctx.role, Permission.EXPORT):
        raise UserError(
            f"أكثر من {BULK_ROWS} صف في أمر واحد قراءةٌ للسجل كله، وهي تصدير: ليست لديك صلاحية «التصدير». "
            f"اطلب {BULK_ROWS} صفاً أو أقل (--limit)، أو اطلب التصدير من المشرف. لم يُعرض شيء."
        )


def _print_json(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def _print_table(rows: list[dict]) -> None:
    for row in rows:
        sys.stdout.write(" | ".join("" if v is None else str(v) for v in row.values()) + "\n")


def _secret(variable: str, prompt: str) -> str:
    """A password from the environment (scripts, scheduled backups) or typed at the terminal, never an argument."""
    value = os.environ.get(variable)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise UserError(f"كلمة المرور مطلوبة: ضعها في المتغير {variable} أو شغّل الأمر في نافذة أوامر.")
    import getpass

    return getpass.getpass(prompt)


def _authenticate(ctx, args: argparse.Namespace) -> None:
    """Once the office has users, the command line acts as one of them, with that user's role."""
    from aidoffice.services.trust import users_intact
    from aidoffice.services.users import has_users, login

    if has_users(ctx):
        login(ctx, args.user, _secret("AIDOFFICE_PASSWORD", f"كلمة مرور {args.user}: "))
    else:
        users_intact(ctx)  # an emptied users table is not a first start


def _user_command(ctx, args: argparse.Namespace) -> None:
    from aidoffice.services import users

    if args.action == "add":
        if not args.name:
            raise UserError("اسم الدخول مطلوب.")
        record = users.create_user(
            ctx, args.name, _secret("AIDOFFICE_NEW_PASSWORD", "كلمة المرور الجديدة: "), args.role, args.full_name
        )
        sys.stdout.write(f"{texts.DONE} {record.username} ({record.role})\n")
    elif args.action == "reset":
        if not args.name:
            raise UserError("اسم الدخول مطلوب.")
        users.update_user(ctx, args.name, password=_secret("AIDOFFICE_NEW_PASSWORD", "كلمة مرور مؤقتة: "))
        sys.stdout.write(f"{texts.DONE} {args.name}: يختار كلمة مرور جديدة عند دخوله القادم.\n")
    else:
        _print_json([{"username": u.username, "role": u.role, "active": u.active} for u in users.list_users(ctx)])


def _restore(args: argparse.Namespace) -> int:
    """A backup of this office put back by an administrator of the CURRENT database (services.backups.restore_as);
    the current file is kept beside it, and encryption is never lowered without --allow-unencrypted."""
    from aidoffice import paths
    from aidoffice.services.backups import restore_as

    done = restore_as(
        args.db or paths.default_db_path(),
        args.file,
        args.user,
        lambda: _secret("AIDOFFICE_PASSWORD", f"كلمة مرور {args.user}: "),
        allow_unencrypted=args.allow_unencrypted,
    )
    done.ctx.close()
    sys.stdout.write(f"{texts.DONE} {done.ctx.db.where}\n")
    if done.kept is not None:
        sys.stdout.write(f"حُفظت قاعدة البيانات السابقة كما كانت في: {done.kept}\n")
    if done.warning:
        sys.stderr.write(done.warning + "\n")
    return EXIT_OK


def _open(args: argparse.Namespace, path: Path | str, *, create: bool):
    """The database as the named user: an encrypted file is unlocked with the user's password (a wrong one is
    counted and locks the account, as on a plain file), a plain one is opened and the user logged in."""
    from aidoffice.services.context import open_context
    from aidoffice.services.encryption import is_encrypted, open_encrypted

    encrypted = not isinstance(path, str) and is_encrypted(path)  # text is a server's URL: never SQLCipher
    if encrypted:
        ctx = open_encrypted(path, args.user, _secret("AIDOFFICE_PASSWORD", f"كلمة مرور {args.user}: "))
    else:
        ctx = open_context(path, username=args.user, create=create)
    try:
        if not encrypted:
            _authenticate(ctx, args)
        _refuse_temporary_password(ctx, args)
    except BaseException:
        ctx.close()
        raise
    return ctx


def _server_roles(args: argparse.Namespace) -> int:
    """`server roles`, run with the database owner's address: the PCs' login role with only the rights the program
    needs (store/server.py), then the address the PCs use. Idempotent: run it again after each upgrade."""
    from aidoffice.store.server import ask_server_administrator, grant_pc_role, role_state

    if not isinstance(args.db, str):
        raise UserError(
            "الأمر server roles لقاعدة بيانات على خادم PostgreSQL: --db postgresql+psycopg://المالك@الخادم/القاعدة "
            "(بحساب مالك قاعدة البيانات، وكلمة مروره في PGPASSWORD)."
        )
    password = None
    exists, manages = role_state(args.db, args.role)
    if not manages and not exists:  # said before a password is asked for nothing
        raise ask_server_administrator(
            args.role, f"حساب الأجهزة {args.role} غير موجود على الخادم، وهذا الحساب لا يُنشئ حسابات."
        )
    if args.new_password and not manages:
        raise ask_server_administrator(
            args.role, f"تغيير كلمة مرور الحساب {args.role} لمسؤول الخادم (بأمر \\password في psql).", exists=True
        )
    if manages and (args.new_password or not exists):
        password = _secret("AIDOFFICE_NEW_PASSWORD", f"كلمة مرور حساب الأجهزة {args.role}: ")
        if len(password) < 12:
            raise UserError("كلمة مرور حساب الأجهزة قصيرة: 12 حرفاً على الأقل. لم يُغيَّر شيء.")
    url = grant_pc_role(args.db, args.role, password)
    sys.stdout.write(
        f"{texts.DONE} حساب الأجهزة {args.role}: قراءة الجداول وإضافة صفوفها، وتعديلها وحذفها حيث يفعل البرنامج ذلك "
        "فقط، دون تغيير بنيتها، ودون تعديل سجل التدقيق أو حذف المستفيدين والأسر والتوزيعات والمستخدمين.\n"
        f"عنوان قاعدة البيانات لأجهزة المكتب (كلمة المرور تُكتب عند الاتصال):\n{url}\n"
    )
    return EXIT_OK


def _refuse_temporary_password(ctx, args: argparse.Namespace) -> None:
    """After an administrator's reset, the user's first command is choosing their own password."""
    from aidoffice.services.users import must_change_password

    if args.command != "password" and must_change_password(ctx):
        raise UserError(
            "كلمة مرورك مؤقتة (أعاد مدير النظام تعيينها): غيّرها أولاً بالأمر «aidoffice-cli password»، ثم أعد الأمر."
        )


def _audit(args: argparse.Namespace) -> int:
    """`audit verify` walks the chain BEFORE the command writes anything: its own login appends entries and moves the
    stored head, which would hide a cut-off tail. An encrypted file is unlocked (nothing written), the chain checked
    against the anchors and the head kept in the keyring, and only then the user logged in."""
    from aidoffice import paths
    from aidoffice.services.audit import describe, verify_audit
    from aidoffice.services.context import open_context
    from aidoffice.services.encryption import is_encrypted, unlock
    from aidoffice.services.users import login

    path = args.db or paths.default_db_path()
    password = key = bound = None
    if is_encrypted(path):
        password = _secret("AIDOFFICE_PASSWORD", f"كلمة مرور {args.user}: ")
        key, bound = unlock(path, args.user, password)
    ctx = open_context(path, username=args.user, create=False, key=key)
    try:
        report = verify_audit(ctx)
        if password is not None:
            login(ctx, args.user, password, bound=bound)
        else:
            _authenticate(ctx, args)
    finally:
        ctx.close()
    if report.broken_at is not None or report.reason:
        raise UserError(describe(report))
    sys.stdout.write(describe(report) + "\n")
    return EXIT_OK


def _old_backups(ctx, choice: str) -> None:
    """Copies taken before encryption are still readable without a password: encrypt them, delete them, or say so."""
    from aidoffice.services import backups

    plain = backups.plain_backups(ctx)
    if not plain:
        return
    if choice == "encrypt":
        sys.stdout.write(f"شُفّرت {backups.encrypt_backups(ctx, plain)} نسخة احتياطية قديمة غير مشفرة.\n")
    elif choice == "delete":
        sys.stdout.write(f"حُذفت {backups.delete_backups(ctx, plain)} نسخة احتياطية قديمة غير مشفرة.\n")
    else:
        folders = "، ".join(sorted({str(p.parent) for p in plain}))
        sys.stderr.write(
            f"تنبيه: بقيت {len(plain)} نسخة احتياطية غير مشفرة تُقرأ دون كلمة مرور (في {folders}). "
            "أعد الأمر encrypt مع --old-backups encrypt لتشفيرها أو --old-backups delete لحذفها.\n"
        )


def _run(args: argparse.Namespace) -> int:
    from aidoffice.services import overview

    if args.command == "dedup-file":
        return _dedup_file(args)
    if args.command == "restore":
        return _restore(args)
    if args.command == "server":
        return _server_roles(args)
    if args.command == "recover":
        from aidoffice import paths
        from aidoffice.services.encryption import recover_with_escrow

        path = args.db or paths.default_db_path()
        recover_with_escrow(
            path,
            args.escrow,
            _secret("AIDOFFICE_ESCROW_PASSPHRASE", "عبارة مرور مفتاح الضمان: "),
            args.name,
            _secret("AIDOFFICE_NEW_PASSWORD", f"كلمة المرور الجديدة لـ {args.name}: "),
        )
        sys.stdout.write(f"{texts.DONE} {args.name}\n")
        return EXIT_OK
    from aidoffice import paths

    if args.command == "audit":
        return _audit(args)
    read_only = args.command in ("stats", "search", "list")
    ctx = _open(args, args.db or paths.default_db_path(), create=not read_only)
    try:
        if args.command == "encrypt":
            from aidoffice.services.encryption import encrypt_database

            if ctx.db.key is None or args.old_backups == "keep":
                ctx = encrypt_database(ctx, _secret("AIDOFFICE_PASSWORD", f"كلمة مرور {args.user}: "))
                sys.stdout.write(f"{texts.DONE} {ctx.db.path}\n")
            _old_backups(ctx, args.old_backups)
        elif args.command == "user":
            _user_command(ctx, args)
        elif args.command == "password":
            from aidoffice.services.users import change_own_password

            change_own_password(
                ctx,
                _secret("AIDOFFICE_PASSWORD", "كلمة المرور الحالية: "),
                _secret("AIDOFFICE_NEW_PASSWORD", "كلمة المرور الجديدة: "),
            )
            sys.stdout.write(f"{texts.DONE} تغيّرت كلمة مرور {ctx.username}.\n")
        elif args.command == "backup":
            from aidoffice.services.backups import make_backup

            record = make_backup(ctx, args.to)
            sys.stdout.write(f"{texts.DONE} {record.path} ({record.size / 1e6:.1f} MB)\n")
        elif args.command == "init":
            from aidoffice.services.office import initialise_office

            office = initialise_office(
                ctx,
                name=args.office_name,
                governorate=args.governorate,
                office_code=args.office_code,
                country=args.country,
            )
            if args.mode:
                from aidoffice.services.sync import set_mode

                set_mode(ctx, args.mode)
            if args.admin:
                from aidoffice.services.users import create_user, has_users, login

                first = not has_users(ctx)
                password = _secret("AIDOFFICE_NEW_PASSWORD", "كلمة مرور مدير النظام: ")
                create_user(ctx, args.admin, password, "admin")
                # as the desktop: encrypted by default (SQLCipher: a file on this PC, never a server's database)
                if first and not args.no_encrypt and ctx.db.key is None and not ctx.db.on_server:
                    from aidoffice.services.encryption import encrypt_database

                    login(ctx, args.admin, password)
                    ctx = encrypt_database(ctx, password)
                    _old_backups(ctx, "keep")
            log.info("database initialised")
            sys.stdout.write(f"{texts.DONE} {office.name} — {ctx.db.where}\n")
        elif args.command == "demo":
            from aidoffice.services.demo import generate_demo

            def progress(done: int, total: int) -> None:
                sys.stderr.write(f"\r{done:,}/{total:,}")
                sys.stderr.flush()

            summary = generate_demo(ctx, args.persons, seed=args.seed, progress=progress)
            sys.stderr.write("\n")
            log.info("demo generated: %d persons", summary.persons)
            _print_json(summary.__dict__)
        elif args.command == "stats":
            data = overview.stats(ctx)
            if args.json:
                _print_json(data)
            else:
                for key, value in data.items():
                    sys.stdout.write(f"{key}: {value}\n")
        elif args.command == "search":
            from aidoffice.services.persons import search_persons

            _refuse_bulk(ctx, args.limit)
            found = [
                {
                    "id": p.id,
                    "full_name": p.full_name,
                    "national_id": p.national_id,
                    "phone": p.phone,
                    "district": p.district,
                }
                for p in search_persons(ctx, args.text, limit=args.limit)
            ]
            _print_json(found) if args.json else _print_table(found)
        elif args.command == "person":
            _person_command(ctx, args)
        elif args.command == "import-beneficiaries":
            from aidoffice.services.imports import import_beneficiaries

            report = import_beneficiaries(
                ctx,
                args.file,
                args.association,
                project_id=args.project,
                dry_run=args.dry_run,
                errors_out=args.errors_out,
            )
            if args.json:
                _print_json(report.as_dict())
            else:
                sys.stdout.write(f"الورقة «{report.sheet}»، صف العناوين {report.header_row}\n")
                for row in report.rows:
                    for column, message in [*row.errors, *row.warnings]:
                        kind = "خطأ" if row.errors else "تنبيه"
                        where = f"الصف {row.row_number}" + (f"، العمود «{column}»" if column else "")
                        sys.stdout.write(f"{kind}: {where}: {message}\n")
                for key, value in report.as_dict().items():
                    sys.stdout.write(f"{key}: {value}\n")
                if not report.committed:
                    sys.stdout.write("لم يُكتب شيء (فحص فقط).\n")
        elif args.command == "export":
            from aidoffice.services.exports import export_list, write_import_template

            if args.table == "template":
                write_import_template(ctx, args.out)
                sys.stdout.write(f"{texts.DONE} {args.out}\n")
            else:
                count = export_list(ctx, args.table, args.out)
                sys.stdout.write(f"{texts.DONE} {count:,} — {args.out}\n")
        elif args.command == "report":
            from aidoffice.services import reports

            if args.kind == "monthly" and not args.month:
                args.month = reports.last_full_month(ctx.today())
            needed = {"sheet": "distribution", "association": "association", "letter": "referral"}
            option = needed.get(args.kind)
            if option and not getattr(args, option):
                raise UserError(f"التقرير «{args.kind}» يحتاج --{option}.")
            if args.kind == "cards" and not args.person:
                raise UserError("البطاقات تحتاج --person مرة لكل مستفيد.")
            writers = {
                "monthly": lambda: reports.write_monthly_report(ctx, args.month, args.out),
                "sheet": lambda: reports.write_distribution_sheet(ctx, args.distribution, args.out),
                "association": lambda: reports.write_association_profile(ctx, args.association, args.out),
                "letter": lambda: reports.write_referral_letter(ctx, args.referral, args.out),
                "cards": lambda: reports.write_cards(ctx, args.person, args.out),
            }
            path = writers[args.kind]()
            log.info("report written: %s", args.kind)
            sys.stdout.write(f"{texts.DONE} {path}\n")
        elif args.command in ("keys", "export-package", "import-package"):
            _sync_command(ctx, args)
        elif args.command == "list":
            _refuse_bulk(ctx, args.limit)
            rows = overview.list_records(ctx, args.kind, limit=args.limit)
            _print_json(rows) if args.json else _print_table(rows)
    finally:
        ctx.close()
    return EXIT_OK


def _person_command(ctx, args: argparse.Namespace) -> None:
    """`person add`: the same entry check as the form. A likely duplicate is refused (exit 2, the reason on stderr)
    with the candidates listed on stdout, the user's own terminal; it is saved once each is named --distinct-from."""
    from aidoffice.domain.persons import PersonInput
    from aidoffice.errors import LikelyDuplicateError
    from aidoffice.services.persons import add_person

    data = PersonInput(
        full_name=args.name,
        national_id=args.national_id,
        phone=args.phone,
        sex=args.sex,
        birth_year=args.birth_year,
        district=args.district,
    )
    try:
        record = add_person(ctx, data, distinct_from=args.distinct_from)
    except LikelyDuplicateError as exc:
        rows = [
            {
                "id": c.person_id,
                "full_name": c.full_name,
                "decision": c.decision,
                "national_id": c.national_id,
                "birth_year": c.birth_year,
                "district": c.district,
                "reasons": list(c.reasons),
                "aid": list(c.aid),
            }
            for c in exc.candidates
        ]
        if args.json:
            _print_json({"saved": False, "candidates": rows})
        else:
            for row in rows:
                cells = [texts.DUPLICATE_DECISIONS.get(row["decision"], row["decision"]), row["id"], row["full_name"]]
                cells += [str(x) for x in (row["national_id"], row["birth_year"], row["district"]) if x]
                sys.stdout.write(" | ".join(cells) + "\n")
                sys.stdout.write("    " + "، ".join(row["reasons"]) + "\n")
            sys.stdout.write("إن كان شخصاً آخر فأعد الأمر مع --distinct-from لكل «تكرار مرجح».\n")
        raise
    if args.json:
        _print_json({"saved": True, "id": record.id, "full_name": record.full_name})
    else:
        sys.stdout.write(f"{texts.DONE} {record.id} {record.full_name}\n")


def _sync_command(ctx, args: argparse.Namespace) -> None:
    from aidoffice.services import sync

    def need_target() -> str:
        if not args.target:
            raise UserError(f"الأمر keys {args.action} يحتاج مسارًا أو رمزًا بعده.")
        return args.target

    if args.command == "export-package":
        if args.restamp:
            sys.stdout.write(sync.restamp_message(sync.restamp(ctx)) + "\n")
        r = sync.export_package(ctx, args.to, full=args.full, to_office=args.office)
        sys.stdout.write(f"{texts.DONE} {r.path} — {r.kind}، {r.records:,} سجل، {r.size / 1e6:.2f} MB\n")
    elif args.command == "import-package":
        r = sync.import_package(ctx, args.file)
        if r.status == "already":
            sys.stdout.write(f"سبق استيراد هذه الحزمة ({r.sender_code} رقم {r.sequence}): لم يتغير شيء.\n")
        else:
            sys.stdout.write(
                f"{texts.DONE} {r.sender_code} رقم {r.sequence}: طُبّق {r.applied:,}، تُخطّي {r.skipped:,}"
                f"، تعارضات {r.conflicts:,}\n"
            )
    elif args.action == "show":
        sys.stdout.write(f"{sync.mode(ctx).value}: {sync.fingerprint(ctx)}\n")
    elif args.action == "export":
        path, fp = sync.export_identity(ctx, Path(need_target()))
        sys.stdout.write(f"{texts.DONE} {path}\nالبصمة: {fp}\n")
    elif args.action == "enrol":
        peer = sync.enrol(ctx, Path(need_target()), expected_fingerprint=args.fingerprint, reenrol=args.reenrol)
        sys.stdout.write(f"{texts.DONE} {peer.office_code} ({peer.role}) — {peer.fingerprint}\n")
    elif args.action == "list":
        _print_json([p.__dict__ for p in sync.peers(ctx)])
    elif args.action == "rotate":
        sys.stdout.write(f"{texts.DONE} البصمة الجديدة: {sync.rotate_keys(ctx)}\n")
    elif args.action == "revoke":
        sys.stdout.write(f"{texts.DONE} {sync.revoke(ctx, need_target())}\n")
    elif args.action == "escrow":
        phrase = _secret("AIDOFFICE_ESCROW_PASSPHRASE", "عبارة مرور مفتاح الضمان: ")
        sys.stdout.write(f"{texts.DONE} {sync.create_escrow(ctx, Path(need_target()), phrase)}\n")


def _dedup_file(args: argparse.Namespace) -> int:
    from aidoffice.services.duplicates import dedup_file

    ctx = _open(args, args.db, create=False) if args.db else None  # the registry holds personal data: its users only
    try:
        result = dedup_file(args.input, args.out, pairs_path=args.pairs, ctx=ctx, country=args.country)
    finally:
        if ctx is not None:
            ctx.close()
    _print_json(result.__dict__)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    parser = build_parser()
    args = parser.parse_args(argv)
    log_file = setup_logging()
    from aidoffice.store.engine import write_lock_first

    try:
        with write_lock_first():  # commands started at once on one file wait their turn (busy timeout), not fail
            return _run(args)
    except UserError as exc:
        log.info("command %s refused: %s", args.command, type(exc).__name__)
        sys.stderr.write(exc.message + "\n")
        return EXIT_USER
    except KeyboardInterrupt:
        sys.stderr.write("أُوقف الأمر.\n")
        return EXIT_USER
    except Exception:
        log.exception("unexpected error in command %s", args.command)
        sys.stderr.write(texts.UNEXPECTED_ERROR.format(log=log_file or "-") + "\n")
        return EXIT_BUG


if __name__ == "__main__":
    raise SystemExit(main())
