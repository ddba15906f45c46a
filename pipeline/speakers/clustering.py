"""Clustering voice embeddings into speakers: the one clustering of the package.

Average-linkage agglomerative clustering on cosine distance, small clusters folded into
their nearest neighbour, a given number of speakers reached by merging the most alike
clusters, then a few k-means steps. Windows of a whole batch are clustered together, so
the same voice in several recordings gets the same label.
"""

from __future__ import annotations

import numpy as np

from pipeline.speakers.options import SpeakerOptions


def cluster(
    embeddings: np.ndarray, weights: np.ndarray, options: SpeakerOptions
) -> np.ndarray:
    """Cluster window embeddings into speakers.

    Average-linkage agglomerative clustering on cosine distance over the full-length
    windows, cut at ``options.threshold``; clusters holding less than ``min_cluster_s``
    of speech are folded into the nearest one. With ``options.num_speakers``, the
    clusters with the most alike centroids are then merged until that many remain
    (cutting the tree at N clusters instead leaves outlier windows as "speakers").
    Short windows (from short spans), whose embeddings wander, join the nearest
    cluster without founding their own. Last, every window moves to its
    nearest centroid (k-means steps).

    Args:
        embeddings: (n, d) unit vectors.
        weights: (n,) seconds of audio each vector was computed from.
        options: clustering options.

    Returns:
        (n,) integer labels from 0, numbered by order of first appearance.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(embeddings)
    full = weights >= options.full_window * options.window_s
    if full.sum() < 2:
        full = np.ones(n, dtype=bool)
    if n < 2:
        return np.zeros(n, dtype=int)
    core = embeddings[full]
    tree = linkage(core, method="average", metric="cosine")
    speech = np.minimum(weights[full], options.hop_s)
    core_labels = fcluster(tree, t=options.threshold, criterion="distance")
    core_labels = _fold_small(core, core_labels, speech, options)
    wanted = min(options.num_speakers or 0, len(core))
    if wanted and len(np.unique(core_labels)) > wanted:
        core_labels = _merge_closest(core, core_labels, wanted)
    elif wanted:
        core_labels = fcluster(tree, t=wanted, criterion="maxclust")
    labels = np.zeros(n, dtype=int)
    labels[full] = core_labels
    ids, cents = centroids(core, core_labels)
    labels[~full] = ids[np.argmax(embeddings[~full] @ cents.T, axis=1)]
    for _ in range(options.refine_steps):
        labels = _reassign(embeddings, labels)
    return _renumber(labels)


def centroids(embeddings: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cluster ids and their normalised mean vectors."""
    ids = np.unique(labels)
    cents = np.stack([embeddings[labels == k].mean(0) for k in ids])
    return ids, cents / np.linalg.norm(cents, axis=1, keepdims=True)


def _fold_small(
    embeddings: np.ndarray, labels: np.ndarray, weights: np.ndarray, options: SpeakerOptions
) -> np.ndarray:
    """Move the vectors of too-small (or too many) clusters to the nearest kept cluster."""
    ids = np.unique(labels)
    mass = np.array([weights[labels == k].sum() for k in ids])
    order = np.argsort(-mass)
    keep = [ids[i] for i in order[: options.max_speakers] if mass[i] >= options.min_cluster_s]
    if not keep:
        keep = [ids[order[0]]]
    kept = np.isin(labels, keep)
    if kept.all():
        return labels
    kids, cents = centroids(embeddings[kept], labels[kept])
    labels = labels.copy()
    labels[~kept] = kids[np.argmax(embeddings[~kept] @ cents.T, axis=1)]
    return labels


def _merge_closest(embeddings: np.ndarray, labels: np.ndarray, wanted: int) -> np.ndarray:
    """Merge the two clusters with the most alike centroids until ``wanted`` remain."""
    labels = labels.copy()
    while len(np.unique(labels)) > wanted:
        ids, cents = centroids(embeddings, labels)
        sim = cents @ cents.T
        np.fill_diagonal(sim, -np.inf)
        i, j = np.unravel_index(np.argmax(sim), sim.shape)
        labels[labels == ids[j]] = ids[i]
    return labels


def _reassign(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One k-means step: each vector to its nearest centroid (clusters never vanish)."""
    ids, cents = centroids(embeddings, labels)
    new = ids[np.argmax(embeddings @ cents.T, axis=1)]
    return new if len(np.unique(new)) == len(ids) else labels


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Relabel 0, 1, ... in order of first appearance."""
    mapping: dict[int, int] = {}
    for k in labels:
        mapping.setdefault(int(k), len(mapping))
    return np.array([mapping[int(k)] for k in labels], dtype=int)
