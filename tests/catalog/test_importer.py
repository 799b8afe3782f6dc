from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from voc.catalog import parse_catalog
from voc.catalog.importer import import_csv


def write(tmp_path, text: str):
    p = tmp_path / "in.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_rows_become_a_valid_catalog_with_languages_told_apart(tmp_path):
    # GIVEN a CSV mixing English and Chinese rows, one with a parent
    path = write(
        tmp_path,
        "scenario_id,name,description,keywords,parent\n"
        "card_arrival,Card arrival,Card not here,card not arrived;卡还没到,bank/cards/delivery\n"
        "退款,退款未到账,,退款没到账|refund missing,\n",
    )
    # WHEN it is imported
    result = import_csv(path, domain="bank")
    # THEN it is a valid catalog, Chinese and English keywords split by script
    assert result.ok, result.errors
    c = parse_catalog(result.doc, "t")
    first = c["bank.cards.card_arrival"]
    assert first.category == "delivery"
    assert first.keywords_en == ("card not arrived",)
    assert first.keywords_zh == ("卡还没到",)
    (second,) = [s for s in c.scenarios if s.name_zh == "退款未到账"]
    assert second.id.startswith("bank.general.s_")
    assert second.keywords_zh == ("退款没到账",)


def test_every_bad_row_is_reported_with_its_line(tmp_path):
    path = write(
        tmp_path,
        "scenario_id,name\na,Alpha\n,no id\nb,\na,Again\nc,Gamma,extra\n",
    )
    result = import_csv(path)
    assert not result.ok
    assert [e.split(":")[1] for e in result.errors] == ["3", "4", "5", "6"]
    assert "duplicate" in result.errors[2]


def test_a_wrong_header_is_refused(tmp_path):
    result = import_csv(write(tmp_path, "id,label\nx,y\n"))
    assert not result.ok
    assert "header must be" in result.errors[0]


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(st.lists(st.tuples(cells, cells, cells), max_size=8))
def test_import_never_crashes_and_clean_results_always_parse(tmp_path_factory, rows):
    # GIVEN arbitrary rows, Chinese, English, punctuation, empty cells
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["scenario_id", "name", "keywords"])
    w.writerows(rows)
    path = tmp_path_factory.mktemp("imp") / "in.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    # WHEN imported
    result = import_csv(path)
    # THEN either every problem is reported, or the result is a valid catalog
    if result.ok:
        assert len(parse_catalog(result.doc, "t")) == len(result.doc["scenarios"])
    else:
        assert all(e.startswith(str(path)) for e in result.errors)
