"""Errors of SmetaBot, one tree under one base class.

    SmetaBotError
    ├── ConfigError            the operator's config is wrong (names the key)
    ├── StartupError           the appliance cannot start (data dir, database, ...)
    │   └── DataDirBusy            another `smetabot serve` holds the data dir
    ├── CannotCreate           an output (file, data dir) cannot be written: names the path
    ├── BackupError            `smetabot backup` / `restore` failed (their own exit code)
    │   └── BadBackup              the archive is not a sound SmetaBot backup
    ├── BadPhoneNumber         a phone number that is not one (the user's typing)
    ├── DocumentError          the user's file cannot be rendered: their file, not our fault
    │   ├── UnsupportedFile        not a document type we take (or not a document at all)
    │   ├── FileTooLarge           over the size limit
    │   ├── TooManyPages           over the page limit
    │   ├── PasswordProtected      encrypted, needs a password
    │   ├── DamagedDocument        truncated, corrupt, unreadable
    │   ├── EmptyDocument          no pages
    │   ├── BadPageSelection       --pages names pages the document does not have
    │   ├── DocumentTooComplex     rendering ran past its time or memory limit
    │   └── SpreadsheetTooLarge    a sheet declares more cells than the budget
    ├── AccountError           the contractor's Telegram account cannot act for them
    │   ├── NotConnected           no account connected yet
    │   ├── SessionRevoked         Telegram ended the session (Devices → terminate)
    │   └── TelegramRefused        Telegram said no (in the words of refusals.py)
    │       └── FloodWaitError         Telegram asks to wait (says how long)
    ├── LimitReached           the contractor's plan allows no more of this (says whom to ask)
    ├── BillingError           a plan cannot be assigned as asked (operator's input)
    │   ├── UnknownPlan, DatePassed, UnknownContractor
    ├── Busy                   a channel is already being created for this contractor
    ├── SetupDeferred          a channel exists but its setup continues in the background
    └── ServiceError           our side failed: not the user's fault
        ├── OfficeUnavailable      LibreOffice is not installed or not found
        └── ConversionFailed       LibreOffice crashed or misbehaved on a file it should take

Every error a user can cause carries a message for that user in Russian and English
(`message(lang)`); third-party errors are translated at the seam with ``raise ... from exc``.
"""

from __future__ import annotations

from typing import Any

from smetabot import refusals

# Exit codes of the CLI (sysexits.h): distinct for "your file" and "our fault".
EXIT_OK = 0
EXIT_USAGE = 64
EXIT_DOCUMENT = 65  # EX_DATAERR: the input file is the problem
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE: a needed program (LibreOffice) is missing
EXIT_INTERNAL = 70  # EX_SOFTWARE: our fault
EXIT_CANTCREAT = 73  # EX_CANTCREAT: an output file or folder cannot be created
EXIT_IOERR = 74  # EX_IOERR: a backup or restore failed while reading or writing
EXIT_CONFIG = 78  # EX_CONFIG


class SmetaBotError(Exception):
    """Base of every error SmetaBot raises on purpose."""

    exit_code = EXIT_INTERNAL
    #: message templates, formatted with the error's ``params``
    en = "Something went wrong on our side."
    ru = "Что-то пошло не так на нашей стороне."
    #: whether ``detail`` helps the user (English only); internal details never reach users
    show_detail = True

    def __init__(self, detail: str | None = None, **params: object) -> None:
        self.detail = detail
        self.params = params
        #: the traceback of an unexpected failure in a worker, for the log
        self.trace: str | None = None
        super().__init__(self.message("en") if self.show_detail else self.en)

    def message(self, lang: str = "en", detail: bool = True) -> str:
        """The message for a user speaking ``lang`` (Russian for "ru", English otherwise);
        ``detail=False`` leaves out the technical detail (for chat users)."""
        template = self.ru if (lang or "").lower().startswith("ru") else self.en
        text = template.format(**self.params) if self.params else template
        if detail and self.detail and self.show_detail and \
                not (lang or "").lower().startswith("ru"):
            text = f"{text} ({self.detail})"
        return text


class ConfigError(SmetaBotError):
    exit_code = EXIT_CONFIG
    en = "Configuration error: {problem}"
    ru = "Ошибка конфигурации: {problem}"


class StartupError(SmetaBotError):
    exit_code = EXIT_UNAVAILABLE
    en = "Cannot start: {problem}"
    ru = "Не удалось запуститься: {problem}"


class DataDirBusy(StartupError):
    en = ("the data dir {data_dir} is in use by a running `smetabot serve` (pid {pid}); "
          "stop it first")
    ru = "папка данных {data_dir} занята запущенным `smetabot serve` (pid {pid}); сначала остановите его"


class CannotCreate(SmetaBotError):
    exit_code = EXIT_CANTCREAT
    en = "Cannot write {path}: {reason}"
    ru = "Не удаётся записать {path}: {reason}"


class BackupError(SmetaBotError):
    exit_code = EXIT_IOERR
    en = "Backup failed: {problem}"
    ru = "Резервная копия не удалась: {problem}"


class BadBackup(BackupError):
    exit_code = EXIT_DOCUMENT
    en = "{path} is not a sound SmetaBot backup: {problem}"
    ru = "{path} — не исправная резервная копия SmetaBot: {problem}"


class BadPhoneNumber(SmetaBotError):
    exit_code = EXIT_USAGE
    show_detail = False
    en = "“{phone}” does not look like a phone number. Type it like +7 925 123-45-67."
    ru = "«{phone}» не похоже на номер телефона. Введите его так: +7 925 123-45-67."


class DocumentError(SmetaBotError):
    exit_code = EXIT_DOCUMENT
    en = "The document cannot be processed."
    ru = "Этот документ не удалось обработать."


class UnsupportedFile(DocumentError):
    en = (
        "This file is not a document SmetaBot can show: send a PDF, DOCX, DOC, XLSX, XLS, "
        "ODT, ODS or RTF file."
    )
    ru = (
        "Этот файл не похож на документ, который SmetaBot умеет показывать: пришлите PDF, "
        "DOCX, DOC, XLSX, XLS, ODT, ODS или RTF."
    )


class FileTooLarge(DocumentError):
    en = "The file is too large: {size_mb} MB, the limit is {limit_mb} MB."
    ru = "Файл слишком большой: {size_mb} МБ, можно не больше {limit_mb} МБ."


class TooManyPages(DocumentError):
    en = "The document has {pages} pages; the limit is {limit} pages."
    ru = "В документе {pages} стр., можно не больше {limit}."


class PasswordProtected(DocumentError):
    en = "The document is password-protected. Remove the password and send it again."
    ru = "Документ защищён паролем. Снимите пароль и отправьте его ещё раз."


class DamagedDocument(DocumentError):
    en = "The document is damaged or incomplete and cannot be read."
    ru = "Документ повреждён или загружен не полностью, его не удаётся прочитать."


class EmptyDocument(DocumentError):
    en = "The document has no pages."
    ru = "В документе нет ни одной страницы."


class BadPageSelection(DocumentError):
    en = "Pages {pages} are not in the document: it has {total} pages."
    ru = "Страниц {pages} нет в документе: в нём {total} стр."


class DocumentTooComplex(DocumentError):
    en = "The document is too complex to render: it ran past the limit of {limit}."
    ru = "Документ слишком сложный: его обработка превысила лимит ({limit})."


class SpreadsheetTooLarge(DocumentError):
    en = ("The spreadsheet declares {cells} cells; the limit is {limit}. Remove the empty rows "
          "and columns or set a print area, and send it again.")
    ru = ("В таблице объявлено {cells} ячеек, можно не больше {limit}. Удалите пустые строки "
          "и столбцы или задайте область печати и отправьте её ещё раз.")


class AccountError(SmetaBotError):
    en = "Your Telegram account cannot do this right now."
    ru = "Ваш аккаунт Telegram сейчас не может это сделать."
    show_detail = False


class NotConnected(AccountError):
    en = "Connect your Telegram account first: the “🔐 Connect account” button."
    ru = "Сначала подключите аккаунт Telegram: кнопка «🔐 Подключить аккаунт»."


class SessionRevoked(AccountError):
    en = ("Telegram has ended SmetaBot's session of your account (it was terminated under "
          "Settings → Devices). Connect the account again: the “🔐 Connect account” button.")
    ru = ("Telegram завершил сеанс SmetaBot в вашем аккаунте (его завершили в «Настройки → "
          "Устройства»). Подключите аккаунт заново: кнопка «🔐 Подключить аккаунт».")


class ServiceError(SmetaBotError):
    exit_code = EXIT_INTERNAL
    show_detail = False
    en = "Something went wrong on our side. Please try again later."
    ru = "Что-то пошло не так на нашей стороне. Попробуйте позже."


class OfficeUnavailable(ServiceError):
    exit_code = EXIT_UNAVAILABLE
    en = (
        "Office documents cannot be converted: LibreOffice is not installed on the server. "
        "PDF files still work."
    )
    ru = (
        "Документы Office сейчас не принимаются: на сервере не установлен LibreOffice. "
        "PDF-файлы по-прежнему можно отправлять."
    )


class ConversionFailed(ServiceError):
    en = "LibreOffice failed to convert the document."
    ru = "LibreOffice не смог преобразовать документ."


class TelegramRefused(AccountError):
    """Telegram said no to something done for the contractor: in the words ``refusals.py``
    gives that refusal (what happened, what to do), never "our side"."""

    en = "Telegram refused this ({error}). Please try again later."
    ru = "Telegram не разрешил это действие ({error}). Попробуйте позже."

    def __init__(self, cause: BaseException | None = None, method: str | None = None,
                 **params: object) -> None:
        self.cause, self.method = cause, method
        if cause is not None:
            params.setdefault("error", refusals.error_id(cause))
        super().__init__(**params)

    def message(self, lang: str = "en", detail: bool = True) -> str:
        if self.cause is not None:
            return refusals.explain(self.cause, "ru" if (lang or "").startswith("ru") else "en",
                                    self.method)
        return super().message(lang, detail)


class FloodWaitError(TelegramRefused):
    """Telegram asks to wait ``seconds`` before the same again. ``resumes``: the bot carries
    on by itself afterwards (background work); otherwise the contractor is to try again."""

    en = "Telegram asks to wait {wait} before doing this again; then try again."
    ru = "Telegram просит подождать {wait}, прежде чем повторить; потом попробуйте снова."

    def __init__(self, seconds: int, cause: BaseException | None = None,
                 resumes: bool = False) -> None:
        self.seconds, self.resumes = seconds, resumes
        super().__init__(cause, error=f"FLOOD_WAIT_{seconds}")

    def message(self, lang: str = "en", detail: bool = True) -> str:
        ru = (lang or "").lower().startswith("ru")
        if self.resumes:
            return refusals.text_for("group:flood", "ru" if ru else "en", seconds=self.seconds)
        return (self.ru if ru else self.en).format(
            wait=refusals.wait_words(self.seconds, "ru" if ru else "en"))


class Busy(SmetaBotError):
    en = "A channel is already being created for you; wait for it to finish."
    ru = "Канал уже создаётся, дождитесь окончания."


class SetupDeferred(SmetaBotError):
    """The channel exists but its setup had to stop; it is finished later (or given up)."""

    def __init__(self, channel: Any, cause: SmetaBotError | None, ref: str) -> None:
        self.channel, self.cause, self.ref = channel, cause, ref
        super().__init__()


class BillingError(SmetaBotError):
    """A plan cannot be assigned as asked."""

    exit_code = EXIT_USAGE


class UnknownPlan(BillingError):
    en = "there is no plan “{code}”; plans: {known}"
    ru = "тарифа «{code}» нет; тарифы: {known}"


class DatePassed(BillingError):
    en = "the date {date} has passed"
    ru = "дата {date} уже прошла"


class UnknownContractor(BillingError):
    en = "there is no contractor {id}"
    ru = "подрядчика {id} нет"


class LimitReached(SmetaBotError):
    """A plan's limit stops the action; ``decision`` says which limit and whom to ask."""

    def __init__(self, decision: Any) -> None:
        self.decision = decision
        super().__init__()

    def message(self, lang: str = "en") -> str:
        return self.decision.message(lang)
