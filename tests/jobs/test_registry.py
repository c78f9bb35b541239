"""The registry of job types against the database's constraints, and what job types
declare (read by ticks, rollback, the console and the CLI).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from jobcore.errors import DuplicateJobType, SchemaOutOfDate, UnknownJobType
from jobcore.jobs import registry, runner
from jobcore.jobs.base import JobConfig, JobHandler, JobPlan
from jobcore.schema import JOB_STATUSES, PLATFORMS


def _allowed(engine, constraint: str) -> set[str]:
    """The values a CHECK (column IN (...)) constraint admits."""
    with engine.connect() as conn:
        definition = conn.execute(sa.text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"),
            {"name": constraint}).scalar_one()
    return set(re.findall(r"'([^']+)'", definition))


def test_the_database_allows_exactly_the_registered_job_types(engine):
    assert _allowed(engine, "admin_jobs_job_type_check") == set(registry.job_types())


def test_the_database_allows_exactly_the_statuses_and_platforms_the_code_reads(engine):
    assert _allowed(engine, "admin_jobs_status_check") == set(JOB_STATUSES)
    assert _allowed(engine, "activations_platform_check") == set(PLATFORMS)


def test_every_rollback_action_a_job_type_declares_is_a_history_action(engine):
    actions = _allowed(engine, "topic_history_action_check")
    declared = {h.rollback.action for h in registry.handlers() if h.rollback is not None}
    assert declared and declared <= actions
    assert "rolled_back" in actions


def test_every_job_type_says_what_it_is():
    for handler in registry.handlers():
        assert handler.label and handler.description, handler.job_type
        assert handler.config_model is not None


class _GhostConfig(JobConfig):
    pass


class _GhostHandler(JobHandler[_GhostConfig]):
    job_type = "ghost"
    label = "Ghost"
    description = "A job type no migration knows."
    config_model = _GhostConfig

    def plan(self, conn, config, *, org_id):
        return JobPlan(total_items=0)


def test_a_job_type_without_its_migration_is_a_named_error(engine, monkeypatch):
    monkeypatch.setitem(registry._handlers, "ghost", _GhostHandler())
    with pytest.raises(SchemaOutOfDate, match=r"'ghost' is registered .* migration"):
        runner.create_job("ghost", {}, engine=engine)


def test_unknown_and_duplicate_job_types_are_named_errors(monkeypatch):
    with pytest.raises(UnknownJobType, match=r"'teleport' \(known: .*reclassify"):
        registry.get_handler("teleport")
    monkeypatch.setitem(registry._handlers, "ghost", _GhostHandler())
    with pytest.raises(DuplicateJobType, match="'ghost' is already registered"):
        registry.register(_GhostHandler)


def test_capabilities_drive_llm_and_rollback_decisions():
    reclassify = registry.get_handler("reclassify")
    assert not reclassify.uses_llm_batches({"mode": "local"})
    assert reclassify.uses_llm_batches({"mode": "llm"})
    assert not reclassify.uses_llm_batches({"mode": "llm", "rollbackOf": "job_1_a"})
    assert reclassify.cost_profile({"mode": "local"}) is None
    assert reclassify.cost_profile({"mode": "llm", "enableWebSearch": False}).web_search is False
    assert registry.get_handler("backfill_taxonomy_nodes").uses_llm_batches({})
    rollbackable = {h.job_type for h in registry.handlers() if h.rollback is not None}
    assert rollbackable == {"reclassify", "realign_subcategories", "fix_subcategory_level0",
                            "backfill_taxonomy_nodes"}


def test_a_lone_surrogate_in_a_config_is_refused_naming_the_field():
    from jobcore.errors import ConfigError
    from jobcore.jobs.registry import get_handler

    with pytest.raises(ConfigError, match="parentCategoryFilter: contains a lone surrogate"):
        get_handler("reclassify").parse_config({"parentCategoryFilter": "Sports\ud800"})


def test_each_listed_job_type_is_registered_by_its_module():
    for job_type, module in registry.HANDLER_MODULES.items():
        handler = registry.get_handler(job_type)
        assert handler.job_type == job_type and type(handler).__module__ == module


def test_looking_up_a_job_type_imports_only_its_module():
    """A local reclassify pays neither for the dedup sweep's scikit-learn nor for the
    Anthropic SDK (imported when a client is made).
    """
    import json
    import subprocess
    import sys

    probe = ("import sys, json\nfrom jobcore.jobs import registry\n"
             "registry.get_handler('reclassify')\nprint(json.dumps(sorted(\n"
             "    m for m in ('sklearn', 'anthropic', 'jobcore.dedup.sweep_job', "
             "'jobcore.activations.sync_job') if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
