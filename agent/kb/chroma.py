"""The knowledge base as settings describe it, on the Chroma client `kb.chroma` chooses.

local (the default): a PersistentClient on a folder of this process. server: an HttpClient to a
Chroma server (`chroma run`, or deploy/compose.yaml's) that several bot processes share; the server
never embeds, every process passes the same embedding function (KnowledgeBase does). A deployment's
collections carry its `prefix`, so two deployments can share one server.
"""
from __future__ import annotations

from pathlib import Path

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.types import EmbeddingFunction
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from agent import patterns
from agent.kb.embeddings import USEEmbeddingFunction
from agent.kb.store import KnowledgeBase
from agent.settings import ChromaSettings, ConfigError, KBSettings, Settings

_NAME = patterns.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]")  # Chroma's rule for collection names


def quiet() -> chromadb.Settings:
    """The settings the bot's clients are made with. A fresh object each time: a client writes its
    path into the one it is given, and Chroma refuses a second client of the same folder with other
    settings."""
    return chromadb.Settings(anonymized_telemetry=False)


class ChromaUnavailable(ConfigError):
    """The configured Chroma server did not answer: every command reports it as the config error it
    names (kb.chroma), in one line, instead of a traceback."""


def collection_name(kb: KBSettings) -> str:
    """This deployment's collection: `kb.chroma.prefix` + `kb.collection`, checked against Chroma's
    naming rule so a bad name fails at start, naming the keys to fix."""
    name = f"{kb.chroma.prefix}{kb.collection}"
    if not _NAME.fullmatch(name):
        raise ConfigError(f"kb.chroma.prefix + kb.collection = {name!r}: Chroma needs 3-512 characters of "
                         "letters, digits, '.', '_' or '-', starting and ending with a letter or digit")
    return name


def make_client(chroma: ChromaSettings, folder: Path) -> ClientAPI:
    """The client `chroma` names: a PersistentClient on `folder`, or an HttpClient to the server, waited
    for up to `connect_s` (a server started beside the bot may still be coming up)."""
    if chroma.mode == "local":
        folder.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(folder), settings=quiet())
    retrying = Retrying(stop=stop_after_delay(chroma.connect_s), wait=wait_exponential(0.2, max=3),
                        retry=retry_if_exception_type(ValueError), reraise=False)
    try:
        # chromadb's HttpClient raises ValueError when nothing answers at the address
        return retrying(chromadb.HttpClient, host=chroma.host, port=chroma.port, ssl=chroma.ssl, settings=quiet())
    except RetryError as exc:
        where = f"{'https' if chroma.ssl else 'http'}://{chroma.host}:{chroma.port}"
        raise ChromaUnavailable(f"no Chroma server answered at {where} within {chroma.connect_s:g}s "
                                f"(kb.chroma in settings.yaml; start one with `chroma run --path DIR "
                                f"--port {chroma.port}`)") from exc.last_attempt.exception()


def make_kb(settings: Settings, chroma_dir: Path, *, client: ClientAPI | None = None,
            embedding_function: EmbeddingFunction | None = None, local: bool = False) -> KnowledgeBase:
    """The knowledge base: on `client` (default: the one kb.chroma names; `local`: a folder of its own
    whatever the settings, as an ephemeral app's) with the embedding passed explicitly (default: the
    offline encoder). One made here on a server follows the other processes' syncs."""
    chroma = settings.kb.chroma.model_copy(update={"mode": "local"}) if local else settings.kb.chroma
    return KnowledgeBase(client or make_client(chroma, chroma_dir), embedding_function or USEEmbeddingFunction(),
                         collection=collection_name(settings.kb), domain_words=settings.kb.domain_words,
                         chunk_size=settings.kb.chunk_size, chunk_overlap=settings.kb.chunk_overlap,
                         rrf_k=settings.retrieval.rrf_k, max_file_mb=settings.kb.max_file_mb,
                         shared=chroma.mode == "server" and client is None, refresh_s=chroma.refresh_s)
