"""
A bundle's text encoder (ROS- and torch-free): command -> [D] float32 embedding.

The encoder runs once per new command (embeddings are cached per text), so it is opened only
when a command needs it and closed again (``resident=False``, the default): the session of the
default bundle's MiniLM holds ~46 MB of weights that the robot otherwise carries for nothing,
and opening it takes ~70 ms, paid only by a phrasing the cache has not seen. ``hold()`` keeps
it open across a batch (the competence commands at load). ``resident=True`` keeps it open.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
import logging
from pathlib import Path
import threading
from typing import Any

import numpy as np
import onnxruntime as ort
from vla_ros.core.features.tokenizer import TextTokenizer
from vla_ros.core.runtime.session import open_session, release_free_memory, text_session_options
from vla_ros.errors import InferenceError

DEFAULT_CACHE_SIZE = 32
LOG = logging.getLogger('vla_ros.text_encoder')


class TextEncoder:
    """
    Tokenizer + ONNX text encoder of a bundle, with an LRU cache; thread-safe.

    :param path: the encoder graph (.onnx).
    :param tokenizer: turns a command into (ids [1, L] int64, mask [1, L] int64).
    :param input_names: graph inputs fed with (ids, mask).
    :param output_name: the [1, D] embedding output.
    :param providers: onnxruntime providers (resolved).
    :param resident: keep the session open (else opened per cache miss and closed after).
    :param cache_size: embeddings kept, by command text.
    """

    def __init__(self, path: Path, tokenizer: TextTokenizer, input_names: Sequence[str],
                 output_name: str, providers: Sequence[Any], *, resident: bool = False,
                 cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.path = Path(path)
        self.tokenizer = tokenizer
        self.input_names = tuple(input_names)
        self.output_name = output_name
        self.providers = list(providers)
        self.resident = bool(resident)
        self.opened = 0  # sessions created so far (each costs ~70 ms for MiniLM)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = int(cache_size)
        self._lock = threading.RLock()
        self._session: ort.InferenceSession | None = None
        self._holds = 0

    @property
    def loaded(self) -> bool:
        """Tell whether the session is open now."""
        return self._session is not None

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep the session open inside the block (opened on entry)."""
        with self._lock:
            self._holds += 1
            try:
                self._open()
                yield
            finally:
                self._holds -= 1
                self._maybe_close()

    def embed(self, text: str) -> np.ndarray:
        """Return the [D] float32 embedding of ``text`` (cached)."""
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
            emb = self.encode(text)
            self._cache[text] = emb
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return emb

    def encode(self, text: str) -> np.ndarray:
        """Run the encoder on ``text`` (no cache): [D] float32; raises InferenceError."""
        with self.hold():
            ids, mask, cut = self.tokenizer.tokenize(text)
            if cut:  # once per command text: embeddings are cached by text
                LOG.warning('command %r is %d tokens, the text encoder keeps the first %d '
                            '(text_encoder.tokenizer.max_length)', text,
                            self.tokenizer.full_length(text), self.tokenizer.max_length)
            try:
                out = self._session.run([self.output_name],
                                        dict(zip(self.input_names, (ids, mask))))[0]
            except Exception as e:  # noqa: BLE001 -- ORT raises untyped errors
                raise InferenceError(f'text encoder failed on {text!r}: {e}') from e
        emb = np.ascontiguousarray(out[0], np.float32)
        if not np.all(np.isfinite(emb)):
            raise InferenceError(f'text encoder produced non-finite values for {text!r}')
        return emb

    def use_session(self, session: ort.InferenceSession) -> None:
        """Encode with ``session`` from now on, kept open (for comparisons of options)."""
        with self._lock:
            self._session, self.resident = session, True
            self._cache.clear()

    def _open(self) -> None:
        if self._session is None:
            opts, disabled = text_session_options()  # lean: fp16 weights stay fp16
            self._session = open_session(self.path, self.providers, opts,
                                         disabled_optimizers=disabled)
            self.opened += 1

    def _maybe_close(self) -> None:
        if self._holds == 0 and not self.resident and self._session is not None:
            self._session = None
            release_free_memory()


__all__ = ['DEFAULT_CACHE_SIZE', 'TextEncoder']
