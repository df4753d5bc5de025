"""Quality documents due for review (v_quality_document_review) and their to-do rows
(v_todo_quality, in todo_as_of). Hand-built rows on both backends; quality.review_warn_days is
its default, 30 days; the day looked from is 2026-06-10."""

from __future__ import annotations

from datetime import date

from saving import add

AS_OF = date(2026, 6, 10)


def test_quality_documents_due_for_review_are_in_the_todo(db, actor):
    cid = add(db, actor, "communities", name="阳光花园")

    def doc(no: str, due: date, status: str = "有效") -> int:
        return add(db, actor, "quality_documents", doc_no=no, title="文件控制程序", level="程序文件",
                   version="A/0", community_id=cid, review_due_on=due, status=status)

    late = doc("QP-01", date(2026, 6, 1))     # 9 days past its review date
    soon = doc("QP-02", date(2026, 7, 10))    # 30 days ahead: the last day of the warning window
    doc("QP-03", date(2026, 7, 11))           # 31 days ahead: 正常
    doc("QP-04", date(2026, 5, 1), "作废")     # withdrawn: never reviewed again

    review = db.rows("SELECT doc_no, days_left, state FROM quality_document_review_as_of(CAST(? AS DATE)) "
                     "ORDER BY doc_no", [AS_OF])
    assert review == [("QP-01", -9, "逾期未评审"), ("QP-02", 30, "待评审"), ("QP-03", 31, "正常")]

    todo = db.rows("SELECT ref_id, area, item, due_on, days_overdue, severity FROM todo_as_of(CAST(? AS DATE)) "
                   "WHERE ref_table = 'quality_documents' ORDER BY ref_id", [AS_OF])
    assert todo == [
        (late, "档案与公文", "质量体系文件 QP-01《文件控制程序》A/0 逾期未评审，已逾期 9 天", date(2026, 6, 1), 9, "中"),
        (soon, "档案与公文", "质量体系文件 QP-02《文件控制程序》A/0 即将到期评审，还有 30 天", date(2026, 7, 10), -30, "低"),
    ]
    # the part alone (v_todo_quality) gives the same rows
    assert db.rows("SELECT ref_id FROM todo_quality_as_of(CAST(? AS DATE)) ORDER BY ref_id", [AS_OF]) == [
        (late,), (soon,)]
