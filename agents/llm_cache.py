"""Model answers kept on disk, so a second run over the same data asks the model nothing.

One SQLite file under `$ADPILOT_HOME`: every write is one transaction, and two processes may read and
write it at once (WAL, and a busy timeout instead of "database is locked"). It holds the intent judge's and
the cluster namer's answers, item by item, (`ResponseCache`, LangChain's cache interface) every model
response, keyed by the model and the prompt, and (`EmbeddingCache`) sentence embeddings, keyed by the
embedding model and the text.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import AIMessage, message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration


def cache_key(*parts: Any) -> str:
    """A stable key for an answer: the question and everything the answer depends on (model, profile, versions)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


class AnswerCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS answers (kind TEXT NOT NULL, key TEXT NOT NULL, answer TEXT NOT NULL, "
                "PRIMARY KEY (kind, key))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60.0)

    def get_many(self, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        connection = self._connect()
        try:
            for start in range(0, len(wanted), 500):  # below SQLite's limit on bound parameters
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, answer FROM answers WHERE kind = ? AND key IN ({marks})", [kind, *chunk]
                )
                found.update((key, json.loads(answer)) for key, answer in rows)
        finally:
            connection.close()
        return found

    def put_many(self, kind: str, answers: dict[str, dict[str, Any]]) -> None:
        if not answers:
            return
        connection = self._connect()
        try:
            with connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO answers (kind, key, answer) VALUES (?, ?, ?)",
                    [(kind, key, json.dumps(answer, ensure_ascii=False)) for key, answer in answers.items()],
                )
        finally:
            connection.close()

    def clear(self, kind: str) -> None:
        connection = self._connect()
        try:
            with connection:
                connection.execute("DELETE FROM answers WHERE kind = ?", [kind])
        finally:
            connection.close()


class ResponseCache(BaseCache):
    """LangChain's cache interface over the answer cache's file, for `BaseChatModel(cache=...)`.

    LangChain keys a response by its prompt and its `llm_string` (the model's name and parameters, the tools it
    was given). A response read back says so (`response_metadata["cache_hit"]`) and reports no tokens used:
    the budget and the trace count only what a model was asked."""

    KIND = "model_response"

    def __init__(self, answers: AnswerCache) -> None:
        self.answers = answers

    @staticmethod
    def key(prompt: str, llm_string: str) -> str:
        """The key of what the model is sent: a message's usage and response metadata are not sent (and a
        response read from here differs in them, which would make the next call of its turn miss)."""
        messages = json.loads(prompt)
        unsent = {"usage_metadata", "response_metadata", "id"}
        sent = [{**m, "kwargs": {k: v for k, v in m.get("kwargs", {}).items() if k not in unsent}} for m in messages]
        return cache_key(llm_string, sent)

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        key = self.key(prompt, llm_string)
        found = self.answers.get_many(self.KIND, [key]).get(key)
        if found is None:
            return None
        generations = []
        for message in messages_from_dict(found["messages"]):
            if not isinstance(message, AIMessage):
                return None  # written by another version: ask again
            hit = message.model_copy(
                update={
                    "usage_metadata": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
                    "response_metadata": {**message.response_metadata, "cache_hit": True},
                }
            )
            generations.append(ChatGeneration(message=hit))
        return generations

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        if not all(isinstance(g, ChatGeneration) for g in return_val):
            return  # only chat models' responses are kept
        messages = [message_to_dict(g.message) for g in return_val if isinstance(g, ChatGeneration)]
        self.answers.put_many(self.KIND, {self.key(prompt, llm_string): {"messages": messages}})

    def clear(self, **kwargs: Any) -> None:
        self.answers.clear(self.KIND)


class EmbeddingCache:
    """Sentence embeddings on disk (`tools.query_embeddings.VectorCache`), as float32 bytes keyed by the model and
    the text's digest; `hits` and `misses` count the texts asked for in this process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.hits = self.misses = 0
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        """The file is made on first use: a run that embeds nothing leaves none."""
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(self.path, timeout=60.0) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, key TEXT NOT NULL, "
                    "vector BLOB NOT NULL, PRIMARY KEY (model, key))"
                )
            connection.close()
            self._ready = True
        return sqlite3.connect(self.path, timeout=60.0)

    def vectors(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        keys = {cache_key(text): text for text in texts}
        found: dict[str, np.ndarray] = {}
        connection = self._connect()
        try:
            wanted = list(keys)
            for start in range(0, len(wanted), 500):  # below SQLite's limit on bound parameters
                chunk = wanted[start : start + 500]
                rows = connection.execute(
                    f"SELECT key, vector FROM embeddings WHERE model = ? AND key IN ({','.join('?' * len(chunk))})",
                    [model, *chunk],
                )
                found.update((keys[key], np.frombuffer(vector, dtype=np.float32)) for key, vector in rows)
        finally:
            connection.close()
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def save_vectors(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        connection = self._connect()
        try:
            with connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO embeddings (model, key, vector) VALUES (?, ?, ?)",
                    [(model, cache_key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in vectors.items()],
                )
        finally:
            connection.close()

    @property
    def hit_rate(self) -> float | None:
        asked = self.hits + self.misses
        return self.hits / asked if asked else None
