"""Job summaries show addresses, reasons and DNS answers as text, never as Markdown or HTML."""

from __future__ import annotations

from hubops.facts.markdown import cell, code, words
from hubops.facts.plan_summary import PlanSummary

# A for_each key keeps backticks, pipes and angle brackets (the engine allows them).
HOSTILE = 'aws_s3_object.x["a`|b<img src=https://evil.example/x.png>**all clear**"]'


def test_a_code_span_is_not_closed_by_backticks_inside_it():
    assert code("a`b") == "``a`b``"
    assert code("`edge`") == "`` `edge` ``"
    assert code("plain") == "`plain`"


def test_a_table_cell_keeps_its_pipes_inside_the_cell():
    assert cell("a|b") == "`a\\|b`"


def test_words_shows_markup_and_html_as_text():
    assert words("<img src=x> **bold** [link](u) a_b _c_ x|y & `z`") == (
        "&lt;img src=x&gt; \\*\\*bold\\*\\* \\[link\\](u) a_b \\_c\\_ x\\|y &amp; \\`z\\`"
    )


def test_a_hostile_address_stays_one_cell_of_its_row_in_the_plan_summary():
    summary = PlanSummary(destroy=[HOSTILE], replace=["aws_lb.hub"],
                          replace_reasons={"aws_lb.hub": "<b>fine</b>"})  # fmt: skip

    text = summary.markdown("Plan of cae")

    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1:] == [
        "| replace | `aws_lb.hub` | &lt;b&gt;fine&lt;/b&gt; |",
        '| destroy | ``aws_s3_object.x["a`\\|b<img src=https://evil.example/x.png>**all '
        'clear**"]`` |  |',
    ]
    # Every row has its three cells: no unescaped pipe added one.
    for row in rows:
        assert row.replace("\\|", "").count("|") == 4
