"""How voices are embedded, clustered and named: the speakers stage's options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FRAME_S = 0.01
"""Step of the encoder's mel frames, and of the frame-level labels, in seconds."""


@dataclass
class SpeakerOptions:
    """How voices are embedded, clustered and turned into speaker turns."""

    num_speakers: int | None = None
    """Exact number of speakers (``--speakers N``); None estimates it with ``threshold``."""
    threshold: float = 0.27
    """Cosine distance at which average-linkage clustering stops merging voices."""
    full_window: float = 0.75
    """Windows shorter than this share of ``window_s`` join clusters but never found one."""
    refine_steps: int = 3
    """k-means steps that move each window to its nearest speaker at the end."""
    max_speakers: int = 20
    """Upper bound on the estimated number of speakers."""
    window_s: float = 1.6
    """Length of one embedding window in seconds (the encoder was trained on 1.6 s)."""
    hop_s: float = 0.4
    """Step between embedding windows inside a span, in seconds."""
    min_span_s: float = 0.3
    """Spans shorter than this get no embedding of their own; they take a neighbour's label."""
    min_turn_s: float = 0.6
    """A change of speaker inside a span shorter than this is smoothed away."""
    min_cluster_s: float = 2.0
    """Estimated speakers with less speech than this are folded into the nearest voice."""
    split_spans: bool = True
    """Allow the speaker to change inside a span; False gives one label per span."""

    def embedding_settings(self) -> dict:
        """The options that change a recording's voice embeddings (part of their cache key)."""
        return {"window_s": self.window_s, "hop_s": self.hop_s, "min_span_s": self.min_span_s,
                "frame_s": FRAME_S}


@dataclass
class SpeakerSettings:
    """Everything a batch needs to label its speakers: the options and the renames."""

    options: SpeakerOptions = field(default_factory=SpeakerOptions)
    """How voices are embedded and clustered."""
    renames: dict[str, str] = field(default_factory=dict)
    """Label or role name -> name shown in the tables (``Unit 2`` -> ``Beat 833``)."""

    @classmethod
    def from_names_file(
        cls, path: str | Path | None, options: SpeakerOptions | None = None
    ) -> SpeakerSettings:
        """Settings with the renames of a names file (see :func:`~.roles.read_speaker_names`).

        Args:
            path: The names file; None for no renames.
            options: Speaker options; defaults when None.

        Returns:
            The settings.

        Raises:
            ValueError: A line of the file is not ``label = name``.
        """
        from pipeline.speakers.roles import read_speaker_names

        renames = read_speaker_names(path) if path else {}
        return cls(options or SpeakerOptions(), renames)
