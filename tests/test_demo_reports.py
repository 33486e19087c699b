"""Issue 6's story on the demo data: Putuo's organiser opens the report of last year's family tour
(whose doors were scanned), downloads it as CSV, XLSX and PDF, and each file opens with the
figures the press digest printed: 至少200个家庭、400余人次."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess

import openpyxl
import pytest
from sqlalchemy import select

from qmevents.demo import history
from qmevents.extensions import db
from qmevents.models import Event
from qmevents.timeutil import to_local, utcnow

from .conftest import login
from .test_cli import printed_password

PUTUO = "putuo@demo.qmevents.cn"


@pytest.fixture
def putuo(app, demo, client):
    """Signed in as Putuo's bureau after `flask demo`; the id of last year's family tour."""
    login(client, PUTUO, printed_password(demo, PUTUO))
    with app.app_context():
        year = history.edition_year(to_local(utcnow()).date())
        return db.session.scalar(select(Event.id).where(
            Event.title == history.past_title(year, "普陀区家庭探寻质量发展之旅")))


def test_the_report_of_last_years_tour_shows_the_families_that_came(client, putuo):
    page = client.get(f"/organiser/events/{putuo}/report?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<svg" in text  # the arrival curve and the stations as charts
    assert "204" in text and "406" in text  # families and people, as the seed has them


def test_the_report_downloads_as_csv_that_excel_reads(client, putuo):
    response = client.get(f"/organiser/events/{putuo}/report.csv?lang=en")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert "普陀区家庭探寻质量发展之旅" in rows[0][0]
    assert ["1", "上海纺织博物馆", "204", "406"] in rows  # the entrance: families, people


def test_the_report_downloads_as_a_workbook_with_a_chart(client, putuo):
    response = client.get(f"/organiser/events/{putuo}/report.xlsx?lang=en")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[0] == "Summary" and len(book.sheetnames) > 1
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0]}
    assert summary.get("Families (parties that came)", summary.get("Families")) == 204
    assert any(sheet._charts for sheet in book.worksheets)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) absent")
def test_the_report_downloads_as_a_pdf_that_reads_in_chinese(client, putuo, tmp_path):
    response = client.get(f"/organiser/events/{putuo}/report.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "普陀区家庭探寻质量发展之旅" in text and "上海纺织博物馆" in text
