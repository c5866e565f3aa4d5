"""A table in the knowledge is quoted by the row the question asks about, each cell named by its column."""
from agent.answering.compose import best_sentences, closed, units

CLASSES = """| 课程 | 时间 | 地点 | 老师 |
|---|---|---|---|
| **瑜伽** | 周一 19:00 | 三楼大教室 | 阿琳 |
| 普拉提 | 周三 18:30 | 二楼小教室 | 小周 |
| 搏击操 | 周五 20:00 | 三楼大教室 | — |

请提前十分钟到，自带毛巾。"""

PLANS = """| Plan | Storage | Price per month |
|---|---|---|
| Basic | 100 GB | $2 |
| Family | 2 TB | $10 |"""


def quote(question: str, passage: str) -> str:
    return best_sentences(question, passage, 3, heading="课表", whole_below=360).text


def test_the_row_asked_about_is_quoted_with_its_column_names():
    said = quote("普拉提是周几上课 在哪个教室", CLASSES)
    assert said.startswith("课程：普拉提；时间：周三 18:30；地点：二楼小教室；老师：小周")
    assert "瑜伽" not in said and "搏击操" not in said
    assert "自带毛巾" in said  # the passage's prose around the table is kept as before


def test_an_empty_cell_is_left_out_of_the_named_row():
    assert "老师" not in quote("搏击操几点开始", CLASSES).split("请提前")[0]


def test_a_question_on_several_rows_keeps_the_table_whole():
    said = quote("瑜伽和普拉提分别几点", CLASSES)
    assert "瑜伽" in said and "普拉提" in said and "搏击操" in said


def test_an_english_row_reads_with_english_marks():
    assert quote("how much is the family plan", PLANS) == "Plan: Family; Storage: 2 TB; Price per month: $10;"


def test_rows_are_units_of_their_table_and_bold_marks_are_dropped():
    rows = [u for u in units(CLASSES) if u.table == 0]
    assert rows[0].header == () and rows[1].header == ("课程", "时间", "地点", "老师")
    assert rows[1].cells[0] == "瑜伽"


def test_a_quote_closes_with_the_full_stop_of_its_script():
    assert closed("周三 18:30；") == "周三 18:30。"
    assert closed("Family: 2 TB;") == "Family: 2 TB."
    assert closed("好的！") == "好的！"
