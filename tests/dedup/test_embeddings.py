"""Embeddings: the real local model, the hosted provider against a fake, refresh by hash."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from jobcore.classify.taxonomy import Classification
from jobcore.cli.main import main
from jobcore.config import get_settings
from jobcore.dedup.embeddings import (
    embedding_text,
    pending_count,
    refresh_batch,
    text_hash,
)
from jobcore.dedup.encoders import EmbeddingError, HostedEmbeddings, LocalMiniLM, OnnxMiniLM
from jobcore.http import RetryPolicy
from jobcore.schema import topic_embeddings, topics
from tests.fakes.embeddings import FakeEmbeddingsServer

YOGA = Classification("b2c", "Interest", "Healthy Living", "Fitness and Exercise", "interest")


def _cosine(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_embedding_text_has_name_description_and_classification():
    text = embedding_text("Yoga Fans", "People who love yoga", YOGA)
    assert text == ("Yoga Fans. People who love yoga. "
                    "Interest > Healthy Living > Fitness and Exercise")
    assert embedding_text("Yoga Fans", None, Classification(None, None, None, None, None)) \
        == "Yoga Fans"


def test_local_model_is_real_and_offline():
    vectors = LocalMiniLM().encode(["Yoga Enthusiasts", "Yoga Fans", "Luxury SUV Intenders"])
    assert len(vectors) == 3 and all(len(v) == 384 for v in vectors)
    assert _cosine(vectors[0], vectors[0]) == pytest.approx(1.0, abs=1e-4)
    assert _cosine(vectors[0], vectors[1]) > 0.7 > 0.3 > _cosine(vectors[0], vectors[2])


def test_the_onnx_encoder_is_built_locally_and_agrees_with_the_torch_model(tmp_path):
    texts = ["Yoga Enthusiasts", "Yoga Fans. People who love yoga", "Luxury SUV Intenders",
             "Salesforce CRM Users. Business Technology > Software > CRM"]
    onnx = OnnxMiniLM(tmp_path / "models")
    fast, reference = onnx.encode(texts), LocalMiniLM().encode(texts)
    assert (tmp_path / "models" / "all-MiniLM-L6-v2-onnx-int8.onnx").exists()
    assert all(_cosine(a, b) > 0.97 for a, b in zip(fast, reference, strict=True))
    assert _cosine(fast[0], fast[1]) > 0.6 > 0.3 > _cosine(fast[0], fast[2])
    assert OnnxMiniLM(tmp_path / "models").encode(texts) == fast  # from the cache


def test_a_change_of_encoder_re_embeds(engine, make_topic, tmp_path):
    topic_id = make_topic("Yoga Fans")
    with engine.begin() as conn:
        assert refresh_batch(conn, LocalMiniLM()).embedded == 1
        assert refresh_batch(conn, OnnxMiniLM(tmp_path)).embedded == 1
        assert refresh_batch(conn, OnnxMiniLM(tmp_path)).embedded == 0
        model = conn.execute(sa.select(topic_embeddings.c.model)
                             .where(topic_embeddings.c.topic_id == topic_id)).scalar_one()
    assert model == "all-MiniLM-L6-v2-onnx-int8"


def test_refresh_embeds_only_when_the_text_or_model_changes(engine, make_topic):
    ids = [make_topic("Yoga Fans", "People who love yoga"), make_topic("Coffee Lovers")]
    make_topic("Deleted", deleted_at=sa.func.now())
    local = LocalMiniLM()
    with engine.begin() as conn:
        assert refresh_batch(conn, local).embedded == 2
        assert refresh_batch(conn, local).embedded == 0
        conn.execute(sa.update(topics).where(topics.c.id == ids[0])
                     .values(parent_category="Healthy Living", taxonomy_type="Interest"))
        assert refresh_batch(conn, local).embedded == 1
        row = conn.execute(sa.select(topic_embeddings)
                           .where(topic_embeddings.c.topic_id == ids[0])).one()
    assert row.model == "all-MiniLM-L6-v2" and len(row.embedding) == 384
    with FakeEmbeddingsServer() as fake, engine.begin() as conn:
        hosted = HostedEmbeddings(fake.url, "k", "text-embedding-3-small", httpx.Client())
        assert refresh_batch(conn, hosted).embedded == 2  # another model: all again
        nearest = conn.execute(sa.text(
            "SELECT topic_id FROM topic_embeddings ORDER BY embedding <=> "
            "(SELECT embedding FROM topic_embeddings WHERE topic_id = :id) LIMIT 1"),
            {"id": ids[1]}).scalar()
    assert nearest == ids[1]


def test_hosted_provider_speaks_the_openai_shape_and_retries():
    with FakeEmbeddingsServer() as fake:
        waits = []
        hosted = HostedEmbeddings(fake.url, "sk-test", "text-embedding-3-small", httpx.Client(),
                                  policy=RetryPolicy(retries=2, sleep=waits.append))
        fake.fail(429, {"error": {"message": "rate limited"}}, {"Retry-After": "2"})
        vectors = hosted.encode(["a", "b"])
        assert waits == [2.0] and len(vectors) == 2
        assert _cosine(vectors[0], vectors[0]) == pytest.approx(1.0)
        request = fake.requests[-1]
        assert request["path"] == "/v1/embeddings" and request["auth"] == "Bearer sk-test"
        assert request["body"] == {"model": "text-embedding-3-small", "input": ["a", "b"],
                                   "dimensions": 384}
        fake.fail(400, {"message": "input too long"})
        with pytest.raises(EmbeddingError, match="input too long"):
            hosted.encode(["x"])
    with FakeEmbeddingsServer(dimensions=12) as small:
        wrong = HostedEmbeddings(small.url, None, "m", httpx.Client())
        with pytest.raises(EmbeddingError, match="384 dimensions"):
            wrong.encode(["x"])


def test_embed_cli_fills_missing_embeddings(app_env, engine, many_topics, monkeypatch, capsys):
    many_topics(30)
    with FakeEmbeddingsServer() as fake:
        monkeypatch.setenv("EMBEDDING_PROVIDER", "openai")
        monkeypatch.setenv("EMBEDDING_BASE_URL", fake.url)
        get_settings.cache_clear()
        assert main(["embed", "--batch", "8"]) == 0
        assert "checked 30 topics; embedded 30 with text-embedding-3-small" in \
            capsys.readouterr().out
        assert main(["embed"]) == 0
        assert "embedded 0" in capsys.readouterr().out
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(topic_embeddings)
                            ).scalar() == 30


def test_with_embed_on_write_reclassify_and_rollback_re_embed_inside_their_chunks(
        engine, make_topic, monkeypatch):
    from jobcore.classify.recovery import create_rollback
    from jobcore.jobs import drive, runner

    monkeypatch.setenv("EMBED_ON_WRITE", "true")
    get_settings.cache_clear()
    topic_id = make_topic("Luxury SUV Intenders")
    unchanged = make_topic("Qqqz Wxyv")  # an item error: not changed, not embedded
    job = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(job.id, engine=engine)
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(topics))}
    assert _embedding_state(engine, unchanged).text_hash is None
    assert not rows[topic_id].embedding_stale
    after_reclassify = _embedding_state(engine, topic_id).text_hash
    assert after_reclassify == text_hash(embedding_text(
        "Luxury SUV Intenders", None, Classification.from_mapping(rows[topic_id]._mapping)))

    rollback = create_rollback(job.id, engine=engine)
    drive.run_to_completion(rollback.id, engine=engine)
    with engine.connect() as conn:
        restored = _embedding_state(engine, topic_id)
    assert restored.text_hash == text_hash("Luxury SUV Intenders") != after_reclassify
    get_settings.cache_clear()


def _embedding_state(engine, topic_id: int):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(topic_embeddings.c.text_hash, topics.c.embedding_stale)
            .select_from(topics.outerjoin(topic_embeddings,
                                          topic_embeddings.c.topic_id == topics.c.id))
            .where(topics.c.id == topic_id)).one()


def test_writes_mark_embeddings_stale_and_a_sweep_refreshes_them_before_it_searches(
        engine, make_topic):
    from jobcore.classify.recovery import create_rollback
    from jobcore.jobs import drive, runner

    get_settings.cache_clear()  # EMBED_ON_WRITE off: the default
    topic_id = make_topic("Luxury SUV Intenders")
    with engine.begin() as conn:
        refresh_batch(conn, LocalMiniLM())
    embedded = _embedding_state(engine, topic_id)
    assert embedded.text_hash == text_hash("Luxury SUV Intenders")
    job = runner.create_job("reclassify", {}, engine=engine)
    drive.run_to_completion(job.id, engine=engine)
    assert _embedding_state(engine, topic_id) == (embedded.text_hash, True)

    rollback = create_rollback(job.id, engine=engine)
    drive.run_to_completion(rollback.id, engine=engine)
    with engine.begin() as conn:  # the text is back to what was embedded: mark cleared
        assert pending_count(conn) == 1
        refresh_batch(conn, LocalMiniLM(), pending_only=True)
        assert pending_count(conn) == 0
    assert _embedding_state(engine, topic_id) == (embedded.text_hash, False)

    again = runner.create_job("reclassify", {"force": True}, engine=engine)
    drive.run_to_completion(again.id, engine=engine)
    fresh = make_topic("Yoga Enthusiasts")  # never embedded
    sweep = runner.create_job("dedup_sweep", {}, engine=engine)
    drive.run_to_completion(sweep.id, engine=engine)
    with engine.connect() as conn:
        row = conn.execute(sa.select(topics).where(topics.c.id == topic_id)).one()
        assert pending_count(conn) == 0
    assert _embedding_state(engine, topic_id).text_hash == text_hash(embedding_text(
        row.name, None, Classification.from_mapping(row._mapping))) != embedded.text_hash
    assert _embedding_state(engine, fresh).text_hash == text_hash("Yoga Enthusiasts")


def test_refresh_all_splits_the_catalogue_over_writers_and_embeds_each_topic_once(
        engine, make_topic):
    from jobcore.dedup.embeddings import RefreshReport, get_provider, refresh_all

    ids = [make_topic(f"Topic {i} Fans") for i in range(25)]
    make_topic("Deleted Fans", deleted_at=sa.func.now())
    seen: list[RefreshReport] = []
    assert refresh_all(engine, get_provider(), batch_size=4, writers=3,
                       on_batch=seen.append) == 25
    assert sum(r.checked for r in seen) == 25 and len(seen) >= 7
    with engine.connect() as conn:
        embedded = set(conn.execute(sa.select(topic_embeddings.c.topic_id)).scalars())
    assert embedded == set(ids)
    assert refresh_all(engine, get_provider(), writers=2) == 0  # nothing changed since


def test_a_topic_write_leaves_the_vector_and_its_index_alone(engine, make_topic):
    """The vector lives in topic_embeddings (with the HNSW index): reclassifying an embedded
    topic writes a new version of its topics row only, and marks it to embed.
    """
    from jobcore.jobs import drive, runner

    get_settings.cache_clear()  # EMBED_ON_WRITE off: the default
    topic_id = make_topic("Luxury SUV Intenders")
    with engine.begin() as conn:
        refresh_batch(conn, LocalMiniLM())

    def versions() -> tuple[str, str]:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT t.xmin::text, e.xmin::text FROM topics t "
                "JOIN topic_embeddings e ON e.topic_id = t.id WHERE t.id = :id"),
                {"id": topic_id}).one()

    before = versions()
    job = runner.create_job("reclassify", {"force": True}, engine=engine)
    drive.run_to_completion(job.id, engine=engine)
    after = versions()
    assert after[0] != before[0] and after[1] == before[1]  # topics row rewritten, vector not
    assert _embedding_state(engine, topic_id).embedding_stale
    with engine.connect() as conn:
        hnsw_tables = conn.execute(sa.text(
            "SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING hnsw%'")).scalars()
        assert list(hnsw_tables) == ["topic_embeddings"]


def _vector_index(engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT to_regclass('ix_topic_embeddings_hnsw')")).scalar()


def test_a_bulk_embed_builds_the_vector_index_once_and_keeps_it_after_a_failure(
        engine, make_topic, monkeypatch):
    from jobcore.dedup import embeddings
    from jobcore.dedup.embeddings import get_provider, refresh_all

    monkeypatch.setattr(embeddings, "BULK_FROM", 10)
    for i in range(20):
        make_topic(f"Topic {i} Fans")
    built: list[bool] = []
    assert refresh_all(engine, get_provider(), batch_size=5,
                       on_index=lambda: built.append(_vector_index(engine) is None)) == 20
    assert built == [True] and _vector_index(engine) is not None  # dropped, built once
    with engine.connect() as conn:  # the index is used by a nearest-neighbour search
        conn.execute(sa.text("SET enable_seqscan = off"))
        plan = "\n".join(conn.execute(sa.text(
            "EXPLAIN SELECT topic_id FROM topic_embeddings ORDER BY embedding <=> "
            "(SELECT embedding FROM topic_embeddings LIMIT 1) LIMIT 3")).scalars())
    assert "ix_topic_embeddings_hnsw" in plan

    with engine.begin() as conn:  # everything to embed again, and the encoder fails
        conn.execute(sa.text("DELETE FROM topic_embeddings"))
        conn.execute(sa.update(topics).values(embedding_stale=True))

    class Failing:
        model_name = "failing"

        def encode(self, texts):
            raise EmbeddingError("the encoder is down")

    with pytest.raises(EmbeddingError):
        refresh_all(engine, Failing(), batch_size=5)
    assert _vector_index(engine) is not None  # built again: searches never lose it


def test_a_sweep_after_a_reclassification_rebuilds_the_vector_index_once(
        engine, make_topic, monkeypatch):
    """Most of the catalogue to embed again (a reclassification changed its texts): the
    sweep drops the vector index, re-embeds, and builds the index in a chunk of its own
    before it searches, that chunk's time logged as a load.
    """
    from jobcore.dedup import embeddings
    from jobcore.dedup.embeddings import get_provider, refresh_all
    from jobcore.jobs import drive, runner, store

    monkeypatch.setattr(embeddings, "BULK_FROM", 10)
    for i in range(20):
        make_topic(f"Topic {i} Fans")
    refresh_all(engine, get_provider(), batch_size=5)
    with engine.begin() as conn:
        conn.execute(sa.update(topics).values(embedding_stale=True))
    sweep = runner.create_job("dedup_sweep", {}, engine=engine)
    runner.process_chunk(sweep.id, engine=engine)  # the refresh: the index goes
    assert _vector_index(engine) is None
    drive.run_to_completion(sweep.id, engine=engine)
    assert _vector_index(engine) is not None
    with engine.connect() as conn:
        assert pending_count(conn) == 0
        chunks = store.list_chunks(conn, sweep.id)
    assert [c.loaded for c in chunks].count(embeddings.INDEX_BUILD) == 1


def test_the_vector_index_is_built_with_room_for_its_whole_graph():
    """pgvector builds HNSW in memory only while the graph fits maintenance_work_mem: a
    million vectors get about 3 GB, a small catalogue the 1 GB floor, never more than 8 GB.
    """
    from jobcore.dedup.embeddings import index_memory_mb

    assert index_memory_mb(1_000) == 1_024
    assert 2_100 <= index_memory_mb(1_000_000) <= 3_000  # ~2.2 KB a vector while building
    assert index_memory_mb(50_000_000) == 8_192
