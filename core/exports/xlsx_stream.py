"""A small streaming .xlsx writer for large table sheets: the worksheet XML is produced
directly, a block of rows at a time, and deflated into the zip as it goes.

What a sheet has: a bold shaded header row, frozen; an autofilter over the table; fitted
column widths; typed cells. Text is always an inline string cell (t="inlineStr"), never a
formula; text starting with = + - @ tab or CR also gets Excel's quote prefix, so it stays
text when the cell is edited. Control characters that XML cannot carry are written as
_xHHHH_, and a literal "_xHHHH_" in the text as "_x005F_xHHHH_", as Excel (and XlsxWriter)
do. Dates, times and date-times are serial numbers with a date style (1900 date system).

Rows are turned into XML column by column within each block (a column's values usually
share one type, so each cell needs no type dispatch), which is what makes it fast in pure
Python; a column of mixed types falls back to a per-value path.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, islice

from core.exports.rows import DATE_FORMATS, FORMULA_TRIGGERS

DATE_WIDTHS = {dt.datetime: 16, dt.date: 10, dt.time: 5}
MAX_TEXT = 32_767  # Excel's limit on a cell's text (UTF-16 code units)
BLOCK = 2_000  # rows turned into XML at once (and between two progress calls)

_EPOCH = dt.date(1899, 12, 30).toordinal()  # serial 0; right for dates from 1 Mar 1900
_EPOCH_DT = dt.datetime(1899, 12, 30)
_DAY = dt.timedelta(days=1)
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_SPECIAL_CHAR = re.compile(r"[&<>\x01-\x08\x0b-\x1f\ufffe\uffff]")  # NUL apart: it joins a column's texts
_ESCAPED = re.compile(r"_x[0-9a-fA-F]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

Progress = Callable[[int], None]


class Formatted:
    """A value with its own number format (e.g. a percentage in a column of mixed values)."""

    __slots__ = ("value", "number_format")

    def __init__(self, value: object, number_format: str):
        self.value, self.number_format = value, number_format


def escape_text(text: str) -> str:
    """Text as it goes inside <t>: XML-escaped, control characters as _xHHHH_."""
    if not _SPECIAL.search(text):
        return text
    text = _ESCAPED.sub(lambda m: "_x005F" + m[0], text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m[0]):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str) -> str:
    if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
        text = text.encode("utf-16-le")[: MAX_TEXT * 2].decode("utf-16-le", "ignore")
    return text


def serial(value: dt.date | dt.datetime | dt.time) -> float | int:
    """Excel's serial number of a date, date-time (days since 30 Dec 1899) or time (fraction of a day)."""
    if isinstance(value, dt.datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return value.toordinal() - _EPOCH + seconds / 86400
    if isinstance(value, dt.date):
        return value.toordinal() - _EPOCH
    return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400


def _number(value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be written to a spreadsheet cell")
    return repr(value) if isinstance(value, float) else str(value)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _char_width(width: float) -> float:
    """A width in characters as Excel stores it (whole pixels of a 7-pixel digit, +5 padding)."""
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return (pixels * 256 // 7) / 256


class Styles:
    """The workbook's cell formats: 0 plain, 1 header, 2 quote prefix, then number formats."""

    HEADER, QUOTED = 1, 2

    def __init__(self):
        self.number_formats: dict[str, int] = {}  # format -> xf index

    def number(self, fmt: str) -> int:
        if fmt not in self.number_formats:
            self.number_formats[fmt] = 3 + len(self.number_formats)
        return self.number_formats[fmt]

    def xml(self) -> str:
        custom = list(self.number_formats)
        num_fmts = "".join(f'<numFmt numFmtId="{164 + i}" formatCode="{_attr(f)}"/>' for i, f in enumerate(custom))
        xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
               '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>',
               '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>']
        xfs += [f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
                for i in range(len(custom))]
        font = '<sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/>'
        return (
            f"{_XML}<styleSheet {_NS}>"
            + (f'<numFmts count="{len(custom)}">{num_fmts}</numFmts>' if custom else "")
            + f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
            '<fills count="3"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill>'
            '<fill><patternFill patternType="solid"><fgColor rgb="FFE5E7EB"/><bgColor indexed="64"/></patternFill></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            '<dxfs count="0"/><tableStyles count="0"/></styleSheet>'
        )


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


class Workbook:
    """Table sheets written one after another into `file` (a path or binary file object).

        with Workbook(buf) as wb:
            wb.table_sheet("Sessions", headers, rows, {"Fill rate": "0%"}, progress=tick)
    """

    def __init__(self, file, compresslevel: int = 1):
        self.zip = zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self.styles = Styles()
        self.sheets: list[tuple[str, str | None]] = []  # (title, autofilter range)
        self.date_styles = {kind: self.styles.number(fmt) for kind, fmt in DATE_FORMATS.items()}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---------------------------------------------------------------- cells

    def _text_cells(self, col: str, rows: list[str], values: Sequence, widths: list[int], c: int) -> list[str]:
        """A column of text (or None) values."""
        texts = [v for v in values if v is not None]
        if not texts:
            return [""] * len(values)
        joined = "\x00".join(texts)  # one look at the whole column instead of one per value
        escape = (joined.count("\x00") >= len(texts) or _SPECIAL_CHAR.search(joined) is not None
                  or ("_x" in joined and _ESCAPED.search(joined) is not None))
        long = max(map(len, texts)) > MAX_TEXT // 2
        if "\n" in joined:
            w = max(max((len(line) for line in v.splitlines()), default=0) for v in texts)
        else:
            w = max(map(len, texts))
        widths[c] = max(widths[c], w)
        if long:
            values = [None if v is None else _fit(v) for v in values]
        quoted = f' s="{Styles.QUOTED}"'
        if escape:  # the quote prefix goes by the text as given ("\r..." is escaped to "_x000D_...")
            marks = [quoted if v is not None and v.startswith(FORMULA_TRIGGERS) else "" for v in values]
            return ["" if v is None else f'<c r="{col}{r}"{mark} t="inlineStr"><is><t xml:space="preserve">'
                    f'{escape_text(v)}</t></is></c>' for r, mark, v in zip(rows, marks, values)]
        if texts[0].startswith(FORMULA_TRIGGERS) or any("\x00" + t in joined for t in FORMULA_TRIGGERS):
            return ["" if v is None else
                    f'<c r="{col}{r}"{quoted if v.startswith(FORMULA_TRIGGERS) else ""} t="inlineStr"><is>'
                    f'<t xml:space="preserve">{v}</t></is></c>' for r, v in zip(rows, values)]
        # no text of this block's column starts with a trigger (seen in the joined column at once)
        return ["" if v is None else f'<c r="{col}{r}" t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>'
                for r, v in zip(rows, values)]

    def _number_cells(self, col, rows, values, widths, c, style: str) -> list[str]:
        """A column of int or float (or None) values."""
        present = [v for v in values if v is not None]
        if not all(map(math.isfinite, present)):
            raise ValueError("NaN and infinity cannot be written to a spreadsheet cell")
        if present:
            widths[c] = max(widths[c], max(map(len, map(repr, present))))
        return [f'<c r="{col}{r}"{style}><v>{v!r}</v></c>' if v is not None else "" for r, v in zip(rows, values)]

    def _date_cells(self, col, rows, values, widths, c, kind, style: str | None) -> list[str]:
        style = style or f' s="{self.date_styles[kind]}"'
        widths[c] = max(widths[c], DATE_WIDTHS[kind])
        if kind is dt.datetime:  # a timedelta divided by a day: one C operation per value
            numbers = [None if v is None else (v - _EPOCH_DT) / _DAY for v in values]
        else:  # dates and times repeat a lot: each distinct one is converted once
            known = {v: serial(v) for v in set(values) if v is not None}
            numbers = [known.get(v) for v in values]
        return [f'<c r="{col}{r}"{style}><v>{v!r}</v></c>' if v is not None else "" for r, v in zip(rows, numbers)]

    def _any_cell(self, col: str, row: str, value: object, style: str, widths: list[int], c: int) -> str:
        """One value of a less usual type, or of a column of mixed types."""
        if value is None:
            return ""
        if isinstance(value, Formatted):
            widths[c] = max(widths[c], 6)
            return self._any_cell(col, row, value.value, f' s="{self.styles.number(value.number_format)}"', widths, c)
        if isinstance(value, str) or not isinstance(value, (bool, int, float, decimal.Decimal, dt.date, dt.time)):
            return self._text_cells(col, [row], [str(value)], widths, c)[0]
        if isinstance(value, bool):
            widths[c] = max(widths[c], 5)
            return f'<c r="{col}{row}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (dt.date, dt.time)):
            kind = dt.datetime if isinstance(value, dt.datetime) else dt.date if isinstance(value, dt.date) else dt.time
            return self._date_cells(col, [row], [value], widths, c, kind, style)[0]
        number = _number(float(value) if isinstance(value, decimal.Decimal) else value)
        widths[c] = max(widths[c], len(str(value)))
        return f'<c r="{col}{row}"{style}><v>{number}</v></c>'

    def _column(self, col, rows, values, widths, c, style: str) -> list[str]:
        """The cells of column `col` (a letter) in `rows` (row numbers as text)."""
        kinds = set(map(type, values))
        kinds.discard(type(None))
        if kinds <= {str}:
            return self._text_cells(col, rows, values, widths, c)
        if kinds <= {int, float}:
            return self._number_cells(col, rows, values, widths, c, style)
        if len(kinds) == 1 and (kind := next(iter(kinds))) in DATE_FORMATS:
            return self._date_cells(col, rows, values, widths, c, kind, style or None)
        return [self._any_cell(col, r, v, style, widths, c) for r, v in zip(rows, values)]

    # ---------------------------------------------------------------- sheets

    def table_sheet(self, title: str, headers: Sequence[str], rows: Iterable[Sequence],
                    formats: dict[str, str] | None = None, progress: Progress | None = None) -> int:
        """Write one table sheet; returns the number of data rows. `progress(rows)` is called
        after every BLOCK rows and at the end with the rows written since the last call."""
        index = len(self.sheets) + 1
        ncols = len(headers)
        letters = [column_letter(c) for c in range(ncols)]
        styles = [f' s="{self.styles.number(formats[h])}"' if formats and h in formats else "" for h in headers]
        widths = [len(h) for h in headers]
        n = 0
        with tempfile.TemporaryFile() as body:  # the head (widths, dimension) is known only at the end
            body.write((f'<sheetData><row r="1">'
                        + "".join(f'<c r="{letters[c]}1" s="1" t="inlineStr"><is><t xml:space="preserve">'
                                  f"{escape_text(h)}</t></is></c>" for c, h in enumerate(headers))
                        + "</row>").encode())
            it = iter(rows)
            while block := list(islice(it, BLOCK)):
                numbers = [str(r) for r in range(n + 2, n + 2 + len(block))]
                columns = list(zip(*block))
                cells = [self._column(letters[c], numbers, columns[c], widths, c, styles[c]) for c in range(ncols)]
                cells[0] = [f'<row r="{r}">{cell}' for r, cell in zip(numbers, cells[0])]
                cells[-1] = [f"{cell}</row>" for cell in cells[-1]]
                body.write("".join(chain.from_iterable(zip(*cells))).encode())
                n += len(block)
                if progress:
                    progress(len(block))
            if progress and n % BLOCK == 0:
                progress(0)
            last = f"{letters[-1]}{n + 1}"
            body.write(("</sheetData>" + (f'<autoFilter ref="A1:{last}"/>' if n else "")
                        + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                        "</worksheet>").encode())
            body.seek(0)
            with self.zip.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as out:
                out.write(self._sheet_head(index, widths, f"A1:{last}").encode())
                shutil.copyfileobj(body, out, 1 << 20)
        self.sheets.append((title, f"$A$1:${letters[-1]}${n + 1}" if n else None))
        return n

    def _sheet_head(self, index: int, widths: list[int], dimension: str) -> str:
        cols = "".join(f'<col min="{c + 1}" max="{c + 1}" width="{_char_width(min(max(w, 6) + 2, 60)):.16g}" customWidth="1"/>'
                       for c, w in enumerate(widths))
        selected = ' tabSelected="1"' if index == 1 else ""
        return (f"{_XML}<worksheet {_NS} {_NS_R}><dimension ref=\"{dimension}\"/>"
                f'<sheetViews><sheetView{selected} workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
                f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>')

    def close(self) -> None:
        if self.zip.fp is None:
            return
        zf, sheets = self.zip, self.sheets
        zf.writestr("[Content_Types].xml", _XML + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for i in range(1, len(sheets) + 1))
            + "</Types>"))
        zf.writestr("_rels/.rels", _XML + (
            f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" Type="{_DOC_REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'))
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"'{_attr(title).replace(chr(39), chr(39) * 2)}'!{ref}</definedName>"
            for i, (title, ref) in enumerate(sheets) if ref)
        zf.writestr("xl/workbook.xml", _XML + (
            f"<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews><sheets>"
            + "".join(f'<sheet name="{_attr(title)}" sheetId="{i}" r:id="rId{i}"/>' for i, (title, _) in enumerate(sheets, 1))
            + "</sheets>" + (f"<definedNames>{names}</definedNames>" if names else "") + "</workbook>"))
        zf.writestr("xl/_rels/workbook.xml.rels", _XML + (
            f'<Relationships xmlns="{_PKG_REL}">'
            + "".join(f'<Relationship Id="rId{i}" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, len(sheets) + 1))
            + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_DOC_REL}/styles" Target="styles.xml"/></Relationships>'))
        zf.writestr("xl/styles.xml", self.styles.xml())
        zf.close()
