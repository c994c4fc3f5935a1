"""Errors of SmetaBot, one tree under one base class.

    SmetaBotError
    ├── ConfigError            the operator's config is wrong (names the key)
    ├── StartupError           the appliance cannot start (data dir, database, ...)
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
    │   └── SessionRevoked         Telegram ended the session (Devices → terminate)
    └── ServiceError           our side failed: not the user's fault
        ├── OfficeUnavailable      LibreOffice is not installed or not found
        └── ConversionFailed       LibreOffice crashed or misbehaved on a file it should take

Every error a user can cause carries a message for that user in Russian and English
(`message(lang)`); third-party errors are translated at the seam with ``raise ... from exc``.
"""

from __future__ import annotations

# Exit codes of the CLI (sysexits.h): distinct for "your file" and "our fault".
EXIT_OK = 0
EXIT_USAGE = 64
EXIT_DOCUMENT = 65  # EX_DATAERR: the input file is the problem
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE: a needed program (LibreOffice) is missing
EXIT_INTERNAL = 70  # EX_SOFTWARE: our fault
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
