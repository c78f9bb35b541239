"""Cost estimate and actual, and the LLM panel's tables (pure)."""

from __future__ import annotations

from jobcore.classify.prompts import reclassify_profile
from jobcore.llm import cost
from jobcore.llm.answers import Usage
from jobcore.ui.llm import batches_frame, cost_frame, is_llm_job


def test_price_applies_the_batch_discount_and_search_fees():
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, web_searches=1000)
    # (3 + 15) dollars of tokens at half price, plus 1,000 searches at $10 per 1,000
    assert cost.price(usage) == 9.0 + 10.0


def test_estimate_caches_the_shared_prompt_once_per_sub_batch():
    # the wide question (column mode): the whole taxonomy, cached
    estimate = cost.estimate(250, reclassify_profile(web_search=False, narrow=False))
    assert estimate.usage.web_searches == 0
    system = estimate.usage.cache_write_tokens // 3  # 3 sub-batches of up to 100
    assert system > 1000  # the whole taxonomy is in the prompt
    assert estimate.usage.cache_read_tokens == 247 * system
    assert cost.estimate(250, reclassify_profile(web_search=True, narrow=False)).dollars \
        > estimate.dollars > 0
    # the narrow question (LLM mode): the candidates only, too short to cache, cheaper
    narrow = cost.estimate(250, reclassify_profile(web_search=False))
    assert narrow.usage.cache_read_tokens == narrow.usage.cache_write_tokens == 0
    assert 0 < narrow.dollars < estimate.dollars


def test_llm_panel_tables():
    assert is_llm_job("reclassify", {"mode": "llm"})
    assert not is_llm_job("reclassify", {"mode": "local"})
    assert is_llm_job("backfill_taxonomy_nodes", {})
    backfill = cost_frame(100, {}, None, job_type="backfill_taxonomy_nodes").set_index("")
    column = cost_frame(100, {"mode": "column", "targetColumn": "subcategory"},
                        None).set_index("")
    narrow = cost_frame(100, {"mode": "llm"}, None).set_index("")
    assert "web searches" not in backfill.index  # no web search tool is sent
    assert "cache reads" not in backfill.index  # short instructions: not cached
    assert "cache reads" not in narrow.index  # the candidates only: not cached
    assert 0 < backfill.loc["input tokens", "estimate"] < column.loc["cache reads", "estimate"]
    frame = batches_frame([{"id": "msgbatch_1", "requests": 100, "status": "ended",
                            "staged": 40, "counts": {"succeeded": 98, "errored": 2}}])
    assert frame.loc[0, "succeeded"] == 98 and frame.loc[0, "staged"] == 40
    table = cost_frame(100, {"mode": "llm"}, {"inputTokens": 500, "outputTokens": 60})
    assert table.iloc[0]["actual"] == 500 and table.iloc[-1][""] == "cost (USD)"
