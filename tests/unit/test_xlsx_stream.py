"""core/exports/xlsx_stream.py read back by readers it was not written with: openpyxl and pandas
(and LibreOffice when installed)."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import subprocess
import zipfile

import openpyxl
import pandas as pd
import pytest

from core.exports import xlsx_stream
from core.exports.xlsx_stream import BLOCK, FORMULA_TRIGGERS, Formatted, Workbook, escape_text
from tests.office import OFFICE, needs_office

ROWS = [
    (dt.date(2031, 3, 30), dt.time(9, 30), dt.datetime(2031, 3, 30, 1, 59, 59), "Zoë & <Łukasz>", 12, 0.3333, None),
    (dt.date(2031, 3, 31), dt.time(23, 59), dt.datetime(1900, 3, 1), '=HYPERLINK("http://x","y")', -4, 1.0, "x"),
    (dt.date(1900, 3, 1), dt.time(0, 0), dt.datetime(2031, 12, 31, 23, 59), "bell\x07 _x0041_ \r\n two\nlines", 0, 0.0, None),
    (dt.date(2031, 1, 1), dt.time(12, 0), None, " padded ", None, None, 7),
]
HEADERS = ("Date", "Start", "At", "Text", "Count", "Rate", "Mixed")


def _book(sheets) -> bytes:
    buf = io.BytesIO()
    with Workbook(buf) as wb:
        for title, headers, rows, formats in sheets:
            wb.table_sheet(title, headers, rows, formats)
    return buf.getvalue()


def test_escape_text_as_excel_stores_it():
    assert escape_text("a & <b>") == "a &amp; &lt;b&gt;"
    assert escape_text("bell\x07 \x00") == "bell_x0007_ _x0000_"
    assert escape_text("_x0041_") == "_x005F_x0041_"
    assert escape_text("tab\tand\nline") == "tab\tand\nline"  # XML carries these


def test_typed_cells_styles_and_layout_read_back_by_openpyxl():
    data = _book([("Table", HEADERS, ROWS, {"Rate": "0%"}), ("Empty", ("A", "B"), [], None)])
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Table", "Empty"]
    ws = wb["Table"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:G5"
    assert [c.value for c in ws[1]] == list(HEADERS) and ws["A1"].font.b and ws["A1"].fill.fgColor.rgb == "FFE5E7EB"
    read = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    unescaped = [xlsx_stream._ESCAPED.sub(lambda m: chr(int(m[0][2:6], 16)), v) if isinstance(v, str) else v
                 for v in (r[3] for r in read)]
    assert unescaped[:2] == [ROWS[0][3], ROWS[1][3]]
    assert unescaped[2] == ROWS[2][3]  # a literal _x0041_ comes back as typed
    assert [r[0] for r in read] == [dt.datetime.combine(r[0], dt.time()) for r in ROWS]
    assert [r[1] for r in read] == [r[1] for r in ROWS]
    assert [r[2] for r in read] == [r[2] for r in ROWS]
    assert [r[4] for r in read] == [12, -4, 0, None] and [r[5] for r in read] == [0.3333, 1, 0, None]
    assert read[3][3] == " padded " and [r[6] for r in read] == [None, "x", None, 7]
    cells = list(ws.iter_rows(min_row=2))
    assert [c[0].number_format for c in cells] == ["dd/mm/yyyy"] * 4
    assert cells[0][1].number_format == "hh:mm" and cells[0][2].number_format == "dd/mm/yyyy hh:mm"
    assert cells[0][5].number_format == "0%" and cells[0][4].data_type == "n"
    assert [c[3].data_type for c in cells] == ["s"] * 4 and all(c.data_type != "f" for r in cells for c in r)
    assert [c[3].quotePrefix for c in cells] == [False, True, False, False]
    assert ws.column_dimensions["A"].width >= 10 and ws.column_dimensions["D"].width >= len("bell. _x0041_ ")
    assert wb["Empty"].max_row == 1 and wb["Empty"].freeze_panes == "A2"


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_every_formula_trigger_is_text_with_the_quote_prefix(trigger):
    ws = openpyxl.load_workbook(io.BytesIO(_book([("T", ("Text",), [(trigger + "1+1",), (None,)], None)])))["T"]
    cell = ws["A2"]
    assert cell.data_type == "s" and cell.quotePrefix
    assert xlsx_stream._ESCAPED.sub(lambda m: chr(int(m[0][2:6], 16)), cell.value) == trigger + "1+1"


def test_mixed_column_with_its_own_formats_booleans_and_decimals():
    rows = [("Fill", Formatted(0.25, "0%")), ("On", True), ("Price", decimal.Decimal("2.50")),
            ("When", dt.datetime(2031, 1, 2, 3, 4)), ("Day", dt.date(2031, 1, 2)), ("Other", dt.timedelta(hours=1))]
    ws = openpyxl.load_workbook(io.BytesIO(_book([("S", ("Item", "Value"), rows, None)])))["S"]
    got = {r[0].value: r[1] for r in ws.iter_rows(min_row=2)}
    assert got["Fill"].value == 0.25 and got["Fill"].number_format == "0%"
    assert got["On"].value is True and got["Price"].value == 2.5
    assert got["When"].value == dt.datetime(2031, 1, 2, 3, 4) and got["When"].number_format == "dd/mm/yyyy hh:mm"
    assert got["Day"].number_format == "dd/mm/yyyy" and got["Other"].value == "1:00:00"


def test_not_a_number_is_refused():
    with pytest.raises(ValueError):
        _book([("S", ("N",), [(float("nan"),)], None)])


def test_text_longer_than_excel_allows_is_cut_to_its_limit():
    ws = openpyxl.load_workbook(io.BytesIO(_book([("S", ("T",), [("é" * 40_000,)], None)])))["S"]
    assert ws["A2"].value == "é" * xlsx_stream.MAX_TEXT


def test_many_blocks_read_by_pandas_with_progress_per_block():
    n = BLOCK * 2 + 5
    rows = [(i, f"row {i}", dt.datetime(2031, 3, 29) + dt.timedelta(minutes=7 * i)) for i in range(n)]
    calls = []
    buf = io.BytesIO()
    with Workbook(buf) as wb:
        assert wb.table_sheet("Big", ("N", "Name", "At"), iter(rows), progress=calls.append) == n
    assert calls == [BLOCK, BLOCK, 5]
    frame = pd.read_excel(io.BytesIO(buf.getvalue()), sheet_name="Big")
    assert list(frame.columns) == ["N", "Name", "At"] and len(frame) == n
    assert frame["N"].tolist() == list(range(n)) and frame["Name"].iloc[-1] == f"row {n - 1}"
    assert frame["At"].dt.to_pydatetime().tolist() == [r[2] for r in rows]
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        assert z.testzip() is None and "_xlnm._FilterDatabase" in z.read("xl/workbook.xml").decode()


@needs_office
def test_libreoffice_converts_the_sheet_to_csv(tmp_path):
    (tmp_path / "t.xlsx").write_bytes(_book([("Table", HEADERS, ROWS, {"Rate": "0%"})]))
    office = OFFICE or "soffice"
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
                    "--outdir", str(tmp_path), str(tmp_path / "t.xlsx")], check=True, capture_output=True, timeout=120)
    frame = pd.read_csv(tmp_path / "t-Table.csv", dtype=str, keep_default_na=False)
    assert frame["Date"].tolist() == ["30/03/2031", "31/03/2031", "01/03/1900", "01/01/2031"]
    assert frame["Start"].tolist()[:2] == ["09:30", "23:59"] and frame["Rate"].tolist()[:2] == ["33%", "100%"]
    assert frame["Text"].tolist()[:2] == ["Zoë & <Łukasz>", '=HYPERLINK("http://x","y")']
