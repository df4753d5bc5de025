"""The preview of an update import (issue 18 item 6): only the rows that really change, old → new."""

from __future__ import annotations

import pytest
from test_import_corpus import make_office

from app.exchange import importer


@pytest.fixture
def office(db, actor):
    return make_office(db, actor)


def test_update_preview_lists_only_rows_that_change(office, actor):
    # 1-1-101 as stored (87.05 written 87.050, 住宅); 1-1-102 92.30 → 95; 2-1-101 商铺 → 住宅
    text = "编号,房号,建筑面积,用途,楼栋\n1,1-1-101,87.050,住宅,1\n2,1-1-102,95,住宅,1\n3,2-1-101,120,住宅,2\n"
    plan = importer.plan_import(office, actor, "households", text.encode(), file_name="修改.csv",
                                update_existing=True)
    assert plan.updates == 3
    assert importer.update_changes(office, plan) == [
        (3, 2, [("建筑面积(㎡)", "92.30", "95.00")]), (4, 3, [("用途", "商铺", "住宅")])]
    assert importer.update_preview(office, plan).values.tolist() == [
        [3, 2, "建筑面积(㎡)", "92.30 → 95.00"], [4, 3, "用途", "商铺 → 住宅"]]
