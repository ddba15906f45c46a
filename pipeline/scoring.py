"""Teacher-forced scoring: how well given texts fit one stretch of audio.

Whisper's decoder, fed a text token by token while it attends to the audio, gives
the log-probability of each token of that text. That makes the acoustic model a
judge between texts: of two versions of one line, the one with the higher mean
log-probability per token is usually what was said.

A :class:`Scorer` wraps one openai-whisper model. :meth:`Scorer.encode` runs the
encoder once over a window of at most 30 s; every other method reuses the
encoded :class:`AudioContext`, so scoring many candidate texts costs one decoder
pass each (batched), not one encoder pass each. The last few encoded windows are kept,
keyed by their samples, so two quotes of one line (two articles, or a quote and its
other version) encode their audio once.

:class:`TextScorer` is the interface the judging stage relies on; :class:`Scorer` is
the one implementation.

This module scores and aligns texts; it does not decide verdicts (that is the
``adjudicate`` package) nor cut audio (``audio.py``).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.audio import SAMPLE_RATE
from pipeline.records import Word

log = logging.getLogger(__name__)


WINDOW_SECONDS = 30.0
"""Longest window Whisper's encoder takes; longer input is cut to this."""

BATCH_SIZE = 16
"""Candidate texts scored in one decoder pass."""

MIN_CONTEXT_SECONDS = 15.0
"""Shortest audio the encoder is run on. Whisper pads every input to 30 s; a quote's window
is mostly 3-10 s, so the encoder runs on the window and 1 s of padding after it, but on no
less than this (its positional embeddings cut to match). Measured with
``bench/bench_verify.py`` (``--min-context``) on the radio, phone and radio-degraded phone
sets: at 15 s judging takes two thirds of the time, no misquote is called verbatim, and
each set's figures move by one line either way; with no floor (the window and 1 s), one
to three lines were lost on every set."""

CONTEXT_PAD_SECONDS = 1.0
"""Padding the encoder sees after the window's audio (its end of input)."""

CACHE_WINDOWS = 8
"""Encoded windows a scorer keeps, so quotes landing on the same audio encode once."""

CACHE_ATTENTION = 4
"""Texts per window whose alignment-head attention is kept for :meth:`Scorer.align`."""

BEAM_THREADS = 1
"""CTranslate2 threads for beam hypotheses. One is faster for a beam this small (base,
6-s windows, 2 cores, right after torch's encoder pass: 0.12 s per beam search with one
thread, 0.20 s with two, 0.23 s with CTranslate2's default)."""


@dataclass
class AudioContext:
    """One window of audio, encoded once for every text scored against it."""

    features: object
    """Encoder output, a torch tensor of shape (1, n_audio_ctx, n_audio_state)."""
    mel: object
    """The log-mel input the encoder ran on (n_mels, 1500-3000 frames: the window and its
    padding, see :data:`MIN_CONTEXT_SECONDS`)."""
    num_frames: int
    """Mel frames that hold real audio (the rest is padding); bounds the alignment."""
    duration: float
    """Seconds of real audio in the window."""
    cross_kv: dict = field(default_factory=dict)
    """The decoder's cross-attention keys and values over ``features``, by module,
    computed once: every text scored against the window reuses them."""
    hypotheses: dict = field(default_factory=dict)
    """Beam hypotheses already decoded on this window, by beam size."""
    attention: OrderedDict = field(default_factory=OrderedDict)
    """The first text of each recent decoder pass, by its tokens: the alignment heads'
    cross-attention and the text's token probabilities, so :meth:`Scorer.align` of a text
    already scored needs no decoder pass of its own."""


@dataclass
class TextScore:
    """How well one text fits the audio, token by token."""

    text: str
    """The text as scored (stripped)."""
    tokens: list[int]
    """Token ids of the text, without the start sequence, with end-of-text last."""
    token_strs: list[str]
    """Each token decoded on its own ("<|endoftext|>" for the last)."""
    logprobs: list[float] = field(default_factory=list)
    """Log-probability of each token given the audio and the tokens before it."""

    @property
    def sum(self) -> float:
        """Total log-probability (favours shorter texts)."""
        return float(np.sum(self.logprobs))

    @property
    def mean(self) -> float:
        """Mean log-probability per token, end-of-text included: the fair comparison."""
        return float(np.mean(self.logprobs)) if self.logprobs else float("-inf")


class TextScorer(Protocol):
    """What judging needs of a model: encode a window once, then score, rank, align and
    decode texts against it. :class:`Scorer` implements it."""

    name: str
    """A label for logs and evidence."""

    def encode(self, samples: np.ndarray) -> AudioContext:
        """Encode a window of audio (float32 mono 16 kHz, at most 30 s) once."""
        ...

    def tokens(self, text: str) -> list[int]:
        """Text tokens of a text as the model writes it."""
        ...

    def score(self, ctx: AudioContext, texts: list[str]) -> list[TextScore]:
        """Teacher-forced log-probabilities of each text, end-of-text included."""
        ...

    def score_with_alternatives(self, ctx: AudioContext, text: str, k: int = 5
                                ) -> tuple[TextScore, list[list[tuple[str, float]]]]:
        """A text's score and the top-k tokens at each of its positions."""
        ...

    def align(self, ctx: AudioContext, text: str) -> list[Word]:
        """Word times of a text, forced-aligned to the window."""
        ...

    def hypotheses(self, ctx: AudioContext, beam_size: int = 5) -> list[str]:
        """Beam hypotheses for the window, best first."""
        ...


class Scorer:
    """Scores, ranks and aligns texts against audio with one openai-whisper model.

    Args:
        model: A ``whisper.model.Whisper`` (see ``pipeline.convert.load_openai_model``);
            its alignment heads must be set for :meth:`align`.
        name: A label for logs and reports.
        beam_model_dir: The same model's CTranslate2 directory, which decodes beam
            hypotheses (:meth:`hypotheses`) over the features encoded here, int8, about ten
            times faster than openai-whisper's Python beam search (on
            :data:`BEAM_THREADS` threads). None: no hypotheses.
        min_context_s: Shortest audio the encoder runs on (:data:`MIN_CONTEXT_SECONDS`);
            30 runs it as Whisper does, on every window padded to 30 s.
    """

    def __init__(self, model, name: str = "", beam_model_dir: Path | None = None,
                 min_context_s: float = MIN_CONTEXT_SECONDS) -> None:
        from whisper.tokenizer import get_tokenizer

        self.model = model.eval()
        self.min_context_s = min_context_s
        self.name = name or ("multilingual" if model.is_multilingual else "english")
        self.beam_model_dir = beam_model_dir
        self._beam_model = _load_beam_model(beam_model_dir) if beam_model_dir else None
        self.tokenizer = get_tokenizer(model.is_multilingual, num_languages=model.num_languages,
                                       language="en", task="transcribe")
        self.tokenizer.encode(" ready")  # compiles the tokenizer's pattern now, not in a quote
        self.sot = list(self.tokenizer.sot_sequence_including_notimestamps)
        self.eot = self.tokenizer.eot
        self._heads = [tuple(p) for p in model.alignment_heads.indices().T.tolist()]
        self._encoded: OrderedDict[tuple, AudioContext] = OrderedDict()

    @classmethod
    def load(cls, name: str = "base", device: str = "cpu", threads: int = 0) -> Scorer:
        """Load a bundled model by name (``base``, ``tiny.en``) or path, once per process.

        Args:
            name: Model name or path.
            device: Torch device.
            threads: Torch CPU threads (0 leaves torch's setting). On a shared machine one
                thread is often faster: idle OpenMP workers spin.
        """
        import torch

        from pipeline.convert import load_openai_model
        from pipeline.engines import compile_aligner
        from pipeline.models import ModelError, ct2_model_dir

        compile_aligner()  # once per process, and before pinning threads (it resets them)
        if threads:
            torch.set_num_threads(threads)
        model = load_openai_model(name, device=device)
        try:
            beam_dir = ct2_model_dir(name) if not name.endswith(".pt") else None
        except ModelError as e:
            log.warning("no CTranslate2 copy of %s, so no beam hypotheses: %s", name, e)
            beam_dir = None
        return cls(model, name=name, beam_model_dir=beam_dir)

    # ------------------------------------------------------------------ encoding

    def forget(self) -> None:
        """Drop the encoded windows kept (to time a run from cold)."""
        self._encoded.clear()

    def encode(self, samples: np.ndarray) -> AudioContext:
        """Encode a window of audio once.

        Args:
            samples: float32 mono 16 kHz; at most 30 s is used (the rest is dropped, logged).

        Returns:
            The encoded window, to pass to the other methods.
        """
        import torch
        import whisper

        samples = np.asarray(samples, dtype=np.float32)
        limit = int(WINDOW_SECONDS * SAMPLE_RATE)
        if len(samples) > limit:
            log.warning("window of %.1f s cut to 30 s for scoring", len(samples) / SAMPLE_RATE)
            samples = samples[:limit]
        seconds = max(self.min_context_s, len(samples) / SAMPLE_RATE + CONTEXT_PAD_SECONDS)
        n_frames = min(whisper.audio.N_FRAMES, 2 * math.ceil(seconds * 50))
        key = (n_frames, len(samples), hashlib.blake2b(samples.tobytes(), digest_size=16).digest())
        if key in self._encoded:
            self._encoded.move_to_end(key)
            return self._encoded[key]
        mel = whisper.log_mel_spectrogram(torch.from_numpy(samples), self.model.dims.n_mels,
                                          padding=whisper.audio.N_SAMPLES)
        mel = whisper.pad_or_trim(mel, n_frames).to(self.model.device)
        with torch.no_grad():
            features = _encode(self.model.encoder, mel.unsqueeze(0))
            cross_kv = {m: m(features) for block in self.model.decoder.blocks
                        for m in (block.cross_attn.key, block.cross_attn.value)}
        ctx = AudioContext(features=features, mel=mel, cross_kv=cross_kv,
                           num_frames=len(samples) // whisper.audio.HOP_LENGTH,
                           duration=len(samples) / SAMPLE_RATE)
        self._encoded[key] = ctx
        while len(self._encoded) > CACHE_WINDOWS:
            self._encoded.popitem(last=False)
        return ctx

    # ------------------------------------------------------------------ scoring

    def tokens(self, text: str) -> list[int]:
        """Text tokens of a text as Whisper writes it after the start sequence."""
        return self.tokenizer.encode(" " + text.strip())

    def _logprobs(self, ctx: AudioContext, token_lists: list[list[int]]) -> list[_Rows]:
        """Log-softmax over the vocabulary at each position of each text (+ end-of-text).

        The first text's alignment-head attention is kept on ``ctx`` (see
        :attr:`AudioContext.attention`), for :meth:`align`.

        Returns:
            One :class:`_Rows` per text, ``len(tokens) + 1`` rows: row i is the distribution
            of the token after the start sequence and the first i tokens. Texts of one batch
            that share a beginning share its rows: each distinct prefix is projected onto
            the vocabulary once.
        """
        import torch

        out = []
        start = len(self.sot) - 1
        for i in range(0, len(token_lists), BATCH_SIZE):
            batch = [self.sot + t for t in token_lists[i:i + BATCH_SIZE]]
            # one end-of-text after the longest: alignment reads the attention there too
            width = max(len(b) for b in batch) + 1
            ids = torch.full((len(batch), width), self.eot, dtype=torch.long)
            for row, seq in enumerate(batch):
                ids[row, :len(seq)] = torch.tensor(seq)
            prefixes: dict[tuple, int] = {}
            where, picks = [], []
            for row, seq in enumerate(batch):
                for pos in range(start, len(seq)):
                    n = prefixes.setdefault(tuple(seq[:pos + 1]), len(prefixes))
                    if n == len(picks):
                        picks.append((row, pos))
                    where.append(n)
            rows, cols = zip(*picks, strict=True)
            attention = [] if i == 0 else None
            with torch.no_grad():
                hidden = self._hidden(ctx, ids.to(self.model.device), attention)[list(rows), list(cols)]
                logprobs = torch.log_softmax(self._project(hidden), dim=-1).cpu()
            at = 0
            for seq in batch:
                n = len(seq) - start
                out.append(_Rows(logprobs, torch.tensor(where[at:at + n])))
                at += n
            if attention is not None:
                self._keep_attention(ctx, token_lists[0], attention, out[0])
        return out

    def _keep_attention(self, ctx: AudioContext, tokens: list[int], attention, rows: _Rows) -> None:
        """Keep what :meth:`align` needs of a text: its alignment-head attention (over its
        tokens and one end-of-text) and each token's probability among the text tokens
        (as ``find_alignment`` gives it)."""
        import torch

        n = len(self.sot) + len(tokens) + 1
        by_layer = dict(attention)
        weights = torch.stack([by_layer[layer][head, :n] for layer, head in self._heads])
        table = rows.table()[:len(tokens)]
        probs = (table[range(len(tokens)), tokens] - table[:, :self.eot].logsumexp(-1)).exp()
        ctx.attention[tuple(tokens)] = (weights, probs.tolist())
        ctx.attention.move_to_end(tuple(tokens))
        while len(ctx.attention) > CACHE_ATTENTION:
            ctx.attention.popitem(last=False)

    def score(self, ctx: AudioContext, texts: list[str]) -> list[TextScore]:
        """Teacher-forced log-probabilities of each text, end-of-text included.

        Keep casing and punctuation the same across texts you compare: they shift scores.

        Args:
            ctx: From :meth:`encode`.
            texts: Candidate texts for the whole window (batched, one decoder pass each).

        Returns:
            One :class:`TextScore` per text, in order.
        """
        token_lists = [self.tokens(t) for t in texts]
        results = []
        for text, toks, lp in zip(texts, token_lists, self._logprobs(ctx, token_lists)):
            full = toks + [self.eot]
            values = lp.at(full)
            results.append(TextScore(text=text.strip(), tokens=full,
                                     token_strs=[self._token_str(t) for t in full],
                                     logprobs=values))
        return results

    def score_with_alternatives(self, ctx: AudioContext, text: str, k: int = 5
                                ) -> tuple[TextScore, list[list[tuple[str, float]]]]:
        """:meth:`score` and :meth:`alternatives` of one text from one decoder pass.

        Returns:
            (the text's score, the top-k tokens at each of its positions).
        """
        toks = self.tokens(text)
        (lp,) = self._logprobs(ctx, [toks])
        full = toks + [self.eot]
        own = TextScore(text=text.strip(), tokens=full,
                        token_strs=[self._token_str(t) for t in full],
                        logprobs=lp.at(full))
        values, ids = lp.topk(k)
        alts = [[(self._token_str(int(t)), float(v)) for v, t in zip(vs, ts)]
                for vs, ts in zip(values.tolist(), ids.tolist())]
        return own, alts

    def alternatives(self, ctx: AudioContext, text: str, k: int = 5) -> list[list[tuple[str, float]]]:
        """The model's top-k next tokens at each position, given the text before it.

        Args:
            ctx: From :meth:`encode`.
            text: The context text (teacher-forced).
            k: How many alternatives per position.

        Returns:
            For each token of the text and then end-of-text, the k likeliest tokens at
            that position as (token string, log-probability), best first.
        """
        (lp,) = self._logprobs(ctx, [self.tokens(text)])
        values, ids = lp.topk(k)
        return [[(self._token_str(int(t)), float(v)) for v, t in zip(vs, ts)]
                for vs, ts in zip(values.tolist(), ids.tolist())]

    def _hidden(self, ctx: AudioContext, ids, attention: list | None = None):
        """The decoder's last hidden states for a batch of token sequences, shape
        (rows, tokens, n_text_state): ``TextDecoder.forward`` without the vocabulary
        projection, reusing the window's cross-attention keys and values. Every row
        attends to the same audio, so the rows' queries go through cross-attention as
        one sequence (exact: it has no mask), one matrix product instead of one per row.

        ``attention``, when given, receives (layer, first row's cross-attention logits,
        heads x tokens x frames) for each layer that holds alignment heads."""
        decoder, (n, length) = self.model.decoder, ids.shape
        layers = {layer for layer, _ in self._heads}
        x = decoder.token_embedding(ids) + decoder.positional_embedding[:length]
        for layer, block in enumerate(decoder.blocks):
            x = x + block.attn(block.attn_ln(x), mask=decoder.mask)[0]
            query = block.cross_attn_ln(x)
            if attention is not None and layer in layers:
                attention.append((layer, _cross_logits(block.cross_attn, query[0], ctx)))
            query = query.reshape(1, n * length, -1)
            x = x + block.cross_attn(query, ctx.features, kv_cache=ctx.cross_kv)[0].reshape(n, length, -1)
            x = x + block.mlp(block.mlp_ln(x))
        return decoder.ln(x)

    def _project(self, hidden):
        """Logits over the vocabulary of hidden states (any leading shape)."""
        weight = self.model.decoder.token_embedding.weight
        return (hidden @ weight.to(hidden.dtype).T).float()

    def align_attention(self, ctx: AudioContext, text: str) -> tuple:
        """A text's alignment-head attention and token probabilities: kept from the pass
        that scored it, if one did (see :attr:`AudioContext.attention`), else one pass now."""
        toks = self.tokens(text)
        if tuple(toks) not in ctx.attention:
            self._logprobs(ctx, [toks])
        return ctx.attention[tuple(toks)]

    def _timings(self, tokens: list[int], weights, probs: list[float], num_frames: int) -> list:
        """Word timings from a text's alignment-head attention: the steps of
        ``whisper.timing.find_alignment`` after its decoder pass (normalised attention,
        median filter, dynamic time warping), on attention kept from a scoring pass."""
        import torch
        from whisper.timing import TOKENS_PER_SECOND, WordTiming, dtw, median_filter

        words, word_tokens = self.tokenizer.split_to_word_tokens(tokens + [self.eot])
        if len(word_tokens) <= 1:
            return []
        weights = weights[:, :, :num_frames // 2].softmax(dim=-1)
        std, mean = torch.std_mean(weights, dim=-2, keepdim=True, unbiased=False)
        matrix = median_filter((weights - mean) / std, 7).mean(axis=0)
        text_indices, time_indices = dtw(-matrix[len(self.tokenizer.sot_sequence):-1])
        bounds = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
        jumps = np.pad(np.diff(text_indices), (1, 0), constant_values=1).astype(bool)
        jump_times = time_indices[jumps] / TOKENS_PER_SECOND
        return [WordTiming(word, toks, jump_times[i], jump_times[j], float(np.mean(probs[i:j])))
                for word, toks, i, j in zip(words, word_tokens, bounds[:-1], bounds[1:])]

    def _token_str(self, token: int) -> str:
        if token == self.eot:
            return "<|endoftext|>"
        return self.tokenizer.decode([token])

    # ------------------------------------------------------------------ alignment

    def align(self, ctx: AudioContext, text: str) -> list[Word]:
        """Force-align a text to the window: word times and probabilities.

        Text that is not in the audio still gets times (stretched or piled up as
        zero-length words at the end); zero-length words and near-zero probabilities
        are evidence of absence, not timestamps.

        Args:
            ctx: From :meth:`encode`.
            text: The words to align.

        Returns:
            One :class:`Word` per whitespace-separated word of the text (punctuation
            kept on it), times in seconds from the window start, probability the mean
            probability of its tokens given the audio and the text before it.
        """
        words = text.split()
        toks = self.tokens(text)
        if not toks:
            return []
        timings = self._timings(toks, *self.align_attention(ctx, text), ctx.num_frames)
        owner = np.repeat(np.arange(len(words)), [len(w) + 1 for w in words])
        groups: list[list] = [[] for _ in words]
        offset = 0
        for t in timings:
            first = offset + len(t.word) - len(t.word.lstrip())
            if t.word.strip() and first < len(owner):
                groups[owner[first]].append(t)
            offset += len(t.word)
        return [_merge(word, group) for word, group in zip(words, groups)]

    # ------------------------------------------------------------------ decoding

    def hypotheses(self, ctx: AudioContext, beam_size: int = 5) -> list[str]:
        """Every finished beam hypothesis for the window, best first (no timestamps).

        Decoded by CTranslate2 from this window's encoded features, so the audio is not
        encoded again; empty when the scorer has no CTranslate2 copy of its model.

        Args:
            ctx: From :meth:`encode`.
            beam_size: Beam width; also how many hypotheses come back.

        Returns:
            Up to ``beam_size`` distinct texts, best first.
        """
        if beam_size not in ctx.hypotheses:
            ctx.hypotheses[beam_size] = self._beam(ctx, beam_size)
        return list(ctx.hypotheses[beam_size])

    def _beam(self, ctx: AudioContext, beam_size: int) -> list[str]:
        import ctranslate2

        if self._beam_model is None:
            return []
        features = ctranslate2.StorageView.from_array(
            np.ascontiguousarray(ctx.features.float().cpu().numpy()))
        (result,) = self._beam_model.generate(features, [self.sot], beam_size=beam_size,
                                              num_hypotheses=beam_size, max_length=224)
        texts = [self.tokenizer.decode([t for t in seq if t < self.eot]).strip()
                 for seq in result.sequences_ids]
        return list(dict.fromkeys(t for t in texts if t))


def _cross_logits(attn, x, ctx: AudioContext):
    """Cross-attention logits of one row's queries over the window, per head (heads x
    tokens x frames): ``MultiHeadAttention.qkv_attention``'s ``qk``, which its fused path
    does not return."""
    q = attn.query(x)
    k = ctx.cross_kv[attn.key][0]
    heads, scale = attn.n_head, (q.shape[-1] // attn.n_head) ** -0.25
    q = q.view(q.shape[0], heads, -1).transpose(0, 1)
    k = k.view(k.shape[0], heads, -1).transpose(0, 1)
    return ((q * scale) @ (k * scale).transpose(-1, -2)).float()


def _encode(encoder, mel):
    """``AudioEncoder.forward`` on a log-mel input of at most 3000 frames: its positional
    embeddings cut to the input's length (the original asserts exactly 3000)."""
    import torch.nn.functional as F

    x = F.gelu(encoder.conv2(F.gelu(encoder.conv1(mel)))).permute(0, 2, 1)
    x = (x + encoder.positional_embedding[:x.shape[1]]).to(x.dtype)
    for block in encoder.blocks:
        x = block(x)
    return encoder.ln_post(x)


def _load_beam_model(model_dir: Path):
    """The CTranslate2 copy of a scorer's model, for beam hypotheses (int8)."""
    import ctranslate2
    import torch

    threads = torch.get_num_threads()
    model = ctranslate2.models.Whisper(str(model_dir), device="cpu", compute_type="int8",
                                       intra_threads=BEAM_THREADS)
    # CTranslate2 sets the OpenMP thread count it shares with torch: without this, every
    # later encoder and decoder pass ran on one thread (1.9 s a quote, not 1.2)
    torch.set_num_threads(threads)
    return model


class _Rows:
    """One text's log-probability rows, held as indices into its batch's distinct rows."""

    def __init__(self, table, index) -> None:
        self._table, self._index = table, index

    def at(self, tokens: list[int]) -> list[float]:
        """The log-probability of ``tokens[i]`` in row i, for each i."""
        return self._table[self._index, tokens].tolist()

    def table(self):
        """The text's rows as one (positions, vocabulary) tensor."""
        return self._table[self._index]

    def topk(self, k: int):
        """(values, token ids) of the k likeliest tokens of each row, best first."""
        return self._table[self._index].topk(k, dim=-1)


def _merge(word: str, timings: list) -> Word:
    """One word from the alignment pieces it was split into (punctuation pieces included)."""
    if not timings:
        return Word(start=0.0, end=0.0, word=word, probability=0.0)
    spoken = [t for t in timings if any(c.isalnum() for c in t.word)] or timings
    start, end = float(timings[0].start), float(timings[-1].end)
    probs = [p for t in spoken for p in [t.probability] * max(1, len(t.tokens))]
    return Word(start=start, end=max(start, end), word=word, probability=float(np.mean(probs)))
