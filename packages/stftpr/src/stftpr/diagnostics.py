"""Stability diagnostics of Gabor phase retrieval from the theory.

* Grohs and Rathmair (CPAM 2019; JEMS 2022): phase retrieval from ``|V_g f|`` is stable
  when the magnitude is well connected, measured by a Cheeger constant of the weight
  ``|V_g f|^2`` on the time-frequency plane; small constants mean instability.
* Alaifari, Daubechies, Grohs and Yin (FoCM 2019): when the magnitude splits into
  islands ("atolls"), the signal is determined only up to one phase per island.

Here the time-frequency lattice is a graph whose vertices are coefficients (in
:func:`diagnose`: those of the islands above a threshold) and whose edges join time and frequency neighbours with weight ``s_u s_v`` (times the
isotropic aspect factor ``tfr = lambda / (a M)`` for time edges and ``1 / tfr`` for
frequency edges, so that the weights approximate a Dirichlet form in the metric in which
the window is round). The algebraic connectivity ``lambda_2`` of its normalised Laplacian
bounds the graph's Cheeger constant (conductance) ``h`` by the Cheeger inequality
``lambda_2 / 2 <= h <= sqrt(2 lambda_2)``, and the sweep cut of the Fiedler vector gives a
set whose conductance is an upper bound on ``h`` (and at most ``sqrt(2 lambda_2)``).

The conductance of a long sound decreases like the inverse of its extent on the lattice,
whatever its quality, so the regime is judged by a scale-free ratio instead: the
conductance of the best cut divided by that of the same cut when all coefficients of the
islands are set equal (the "bottleneck ratio"). It is near 1 when the cut merely follows
the shape of the support and small when the magnitude is weak across the cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy import ndimage
from scipy.sparse.linalg import ArpackNoConvergence, eigsh

from stftpr.transform import STFT

#: bottleneck ratio below which one island counts as weakly connected (heuristic, see `diagnose`)
BOTTLENECK_RATIO = 0.05


@dataclass
class TFGraph:
    """Spectrogram-weighted graph on the time-frequency lattice."""

    weights: sp.csr_matrix
    """Symmetric sparse adjacency matrix (CSR) over the vertices."""
    nodes: np.ndarray
    """Flat indices (into ``shape``) of the vertices."""
    shape: tuple[int, int]
    """``(n_freqs, n_frames)`` of the lattice."""

    @property
    def degrees(self) -> np.ndarray:
        """Weighted degree of each vertex."""
        return np.asarray(self.weights.sum(axis=1)).ravel()


def tf_graph(magnitude: np.ndarray, transform: STFT | None = None, *, floor: float = 1e-6) -> TFGraph:
    """Build the spectrogram-weighted graph of one magnitude array.

    Parameters
    ----------
    magnitude
        Magnitudes ``(n_freqs, n_frames)``.
    transform
        Used for the aspect factor ``tfr = lambda / (a M)`` (1 when None).
    floor
        Coefficients below ``floor * max`` are not vertices.

    Returns
    -------
    TFGraph
        The graph.
    """
    s = _check_2d(magnitude, transform)
    if not (0 <= floor < 1):
        raise ValueError(f"floor must be in [0, 1), got {floor!r}")
    tfr = 1.0 if transform is None else transform.lam / (transform.hop * transform.n_fft)
    circular = transform is not None and not transform.onesided
    return _graph(s, tfr, circular, floor)


def _graph(s: np.ndarray, tfr: float, circular: bool, floor: float) -> TFGraph:
    F, N = s.shape
    keep = s > floor * s.max()
    index = -np.ones(s.shape, dtype=np.int64)
    nodes = np.flatnonzero(keep)
    index.flat[nodes] = np.arange(nodes.size)
    rows, cols, vals = [], [], []
    # time edges (m, k) - (m, k+1)
    both = keep[:, :-1] & keep[:, 1:]
    rows.append(index[:, :-1][both])
    cols.append(index[:, 1:][both])
    vals.append(tfr * (s[:, :-1] * s[:, 1:])[both])
    # frequency edges (m, k) - (m+1, k)
    both = keep[:-1, :] & keep[1:, :]
    rows.append(index[:-1, :][both])
    cols.append(index[1:, :][both])
    vals.append((s[:-1, :] * s[1:, :])[both] / tfr)
    if circular and F > 2:
        both = keep[-1, :] & keep[0, :]  # the frequency axis is circular
        rows.append(index[-1, :][both])
        cols.append(index[0, :][both])
        vals.append((s[-1, :] * s[0, :])[both] / tfr)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    v = np.concatenate(vals)
    W = sp.coo_matrix((np.concatenate([v, v]), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(nodes.size,) * 2)
    return TFGraph(W.tocsr(), nodes, (F, N))


def algebraic_connectivity(graph: TFGraph) -> tuple[float, np.ndarray]:
    """Second smallest eigenvalue of the normalised Laplacian and its (Fiedler) vector.

    Parameters
    ----------
    graph
        The graph of :func:`tf_graph`.

    Returns
    -------
    lambda_2 : float
        In ``[0, 2]``; 0 exactly when the graph is disconnected.
    fiedler : numpy.ndarray
        ``D^{-1/2} v_2`` over the vertices (the vector whose level sets are the sweep cuts).
    """
    W = graph.weights
    n = W.shape[0]
    if n < 2:
        raise ValueError("the graph has fewer than two vertices (coefficients above the floor or in the islands); nothing to diagnose")
    d = graph.degrees
    isolated = d <= 0
    d_safe = np.where(isolated, 1.0, d)
    dm = sp.diags(1.0 / np.sqrt(d_safe))
    A = dm @ W @ dm
    Lap = sp.identity(n, format="csr") - A
    if isolated.any():
        vec = np.zeros(n)
        vec[np.flatnonzero(isolated)[0]] = 1.0
        return 0.0, vec
    n_comp, comp = sp.csgraph.connected_components(W, directed=False)
    if n_comp > 1:
        # disconnected: lambda_2 = 0, a Fiedler vector is constant on components
        sizes = np.bincount(comp, weights=d)
        big = int(np.argmax(sizes))
        vec = np.where(comp == big, 1.0 / sizes[big], -1.0 / max(d.sum() - sizes[big], 1e-300))
        return 0.0, vec
    if n <= 400:
        vals, vecs = np.linalg.eigh(Lap.toarray())
        lam2, v2 = float(vals[1]), vecs[:, 1]
    else:
        try:
            vals, vecs = eigsh(Lap.tocsc(), k=2, sigma=-1e-8, which="LM", tol=1e-10)
        except (ArpackNoConvergence, RuntimeError):  # pragma: no cover - fallback
            vals, vecs = eigsh(Lap, k=2, which="SA", tol=1e-8, maxiter=20 * n)
        order = np.argsort(vals)
        lam2, v2 = float(vals[order[1]]), vecs[:, order[1]]
    return max(lam2, 0.0), v2 / np.sqrt(d_safe)


def sweep_cut(graph: TFGraph, fiedler: np.ndarray) -> tuple[float, np.ndarray]:
    """Best conductance among the level sets of ``fiedler`` and the set that attains it.

    Returns
    -------
    conductance : float
        ``min_S w(S, S^c) / min(vol S, vol S^c)`` over the sweep sets ``S``.
    mask : numpy.ndarray
        Boolean mask over the vertices of the smaller-volume side of the best cut.
    """
    W = graph.weights.tocoo()
    d = graph.degrees
    order = np.argsort(fiedler, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    upper = W.row < W.col
    ri, rj, w = rank[W.row[upper]], rank[W.col[upper]], W.data[upper]
    internal = np.cumsum(np.bincount(np.maximum(ri, rj), weights=w, minlength=order.size))
    vol_in = np.cumsum(d[order])
    total = vol_in[-1]
    cut = vol_in - 2.0 * internal
    denom = np.minimum(vol_in, total - vol_in)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > 0, cut / denom, np.inf)
    k = int(np.argmin(phi[:-1])) if phi.size > 1 else 0
    mask = np.zeros(order.size, dtype=bool)
    mask[order[: k + 1]] = True
    if vol_in[k] > total - vol_in[k]:
        mask = ~mask
    return float(max(phi[k], 0.0)), mask


def cut_conductance(graph: TFGraph, mask: np.ndarray) -> float:
    """Conductance ``w(S, S^c) / min(vol S, vol S^c)`` of the vertex set ``mask``."""
    W = graph.weights.tocoo()
    d = graph.degrees
    mask = np.asarray(mask, dtype=bool)
    cross = float(W.data[mask[W.row] != mask[W.col]].sum()) / 2.0
    vol = float(d[mask].sum())
    denom = min(vol, float(d.sum()) - vol)
    return cross / denom if denom > 0 else float("inf")


def _coarsen(s: np.ndarray, r: int) -> np.ndarray:
    """Energy pooling over ``r x r`` blocks: ``sqrt(sum s^2)`` per block (edges padded with 0)."""
    F, N = s.shape
    Fp, Np = -(-F // r) * r, -(-N // r) * r
    e = np.zeros((Fp, Np))
    e[:F, :N] = s**2
    return np.sqrt(e.reshape(Fp // r, r, Np // r, r).sum(axis=(1, 3)))


@dataclass
class Island:
    """One island: a connected region of coefficients above the threshold."""

    label: int
    """Its label in the label array (1-based)."""
    energy_share: float
    """Its share of the total energy ``sum s^2``."""
    n_coefficients: int
    """Number of coefficients."""
    frames: tuple[int, int]
    """Inclusive range ``(first, last)`` of frame indices it spans."""
    channels: tuple[int, int]
    """Inclusive range ``(first, last)`` of channel indices it spans."""


def find_islands(
    magnitude: np.ndarray, *, threshold: float = 1e-2, min_share: float = 1e-3
) -> tuple[np.ndarray, list[Island]]:
    """Connected regions (4-neighbourhood) of the coefficients above ``threshold * max``.

    Parameters
    ----------
    magnitude
        Magnitudes ``(n_freqs, n_frames)``.
    threshold
        Relative threshold in ``(0, 1)``.
    min_share
        Regions holding less than this share of the energy are not counted as islands
        (their coefficients get label 0).

    Returns
    -------
    labels : numpy.ndarray
        Integer array of the magnitude's shape: 0 outside the islands, ``1..K`` inside,
        numbered by decreasing energy.
    islands : list of Island
        One entry per island, by decreasing energy.
    """
    s = _check_2d(magnitude, None)
    if not (0 < threshold < 1):
        raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
    if not (0 <= min_share < 1):
        raise ValueError(f"min_share must be in [0, 1), got {min_share!r}")
    e = s**2
    total = float(e.sum())
    raw, n = ndimage.label(s >= threshold * s.max())
    if n == 0 or total == 0:
        return np.zeros(s.shape, dtype=np.int64), []
    shares = ndimage.sum_labels(e, raw, index=np.arange(1, n + 1)) / total
    keep = [i + 1 for i in np.argsort(-shares) if shares[i] >= min_share]
    labels = np.zeros(s.shape, dtype=np.int64)
    islands = []
    slices = ndimage.find_objects(raw)
    for new, old in enumerate(keep, start=1):
        sel = raw == old
        labels[sel] = new
        sl = slices[old - 1]
        islands.append(
            Island(new, float(shares[old - 1]), int(sel.sum()), (sl[1].start, sl[1].stop - 1), (sl[0].start, sl[0].stop - 1))
        )
    return labels, islands


@dataclass
class StabilityReport:
    """What :func:`diagnose` found; ``str(report)`` is the plain-language summary."""

    regime: str
    """``"stable"``, ``"weakly connected"`` or ``"islands"``."""
    algebraic_connectivity: float
    """``lambda_2`` of the normalised graph Laplacian."""
    cheeger_lower: float
    """Lower bound ``lambda_2 / 2`` on the graph's Cheeger constant (NaN when coarsened)."""
    cheeger_upper: float
    """Upper bound on the graph's Cheeger constant: the conductance of the best sweep cut."""
    islands: list[Island]
    """The islands above the threshold, by decreasing energy."""
    labels: np.ndarray
    """Island labels over the lattice (0 outside)."""
    cut: np.ndarray
    """Boolean mask over the lattice: the smaller side of the best sweep cut."""
    fiedler: np.ndarray
    """Fiedler vector over the lattice (NaN outside the islands)."""
    threshold: float
    """Relative island threshold used."""
    bottleneck: float = float("nan")
    """Conductance of the best cut divided by the conductance of the same cut with all coefficients above the threshold set equal: about 1 when the cut only reflects the shape of the support (a long sound), much less than 1 when the magnitude is weak across the cut (a bottleneck). Scale-free, unlike the conductance itself, which decreases like the inverse of the extent of the support in lattice units."""
    coarsening: int = 1
    """The block size of the energy pooling used for the eigenvalue problem (1 = none)."""
    notes: list[str] = field(default_factory=list)
    """Further remarks (coarsening, low redundancy) appended to the summary."""

    @property
    def n_islands(self) -> int:
        """Number of islands."""
        return len(self.islands)

    @property
    def stable(self) -> bool:
        """True in the ``"stable"`` regime."""
        return self.regime == "stable"

    def summary(self) -> str:
        """Plain-language summary."""
        lines = []
        if np.isnan(self.cheeger_upper):
            h = "a single coefficient above the threshold, so no cut"
        elif np.isnan(self.cheeger_lower):
            h = f"Cheeger constant of the spectrogram graph at most {self.cheeger_upper:.3g}"
        else:
            h = f"Cheeger constant of the spectrogram graph between {self.cheeger_lower:.3g} and {self.cheeger_upper:.3g}"
        if not np.isnan(self.bottleneck):
            h += f", bottleneck ratio {self.bottleneck:.3g}"
        if self.regime == "islands":
            shares = ", ".join(f"{100 * isl.energy_share:.1f}%" for isl in self.islands[:6])
            if self.n_islands > 6:
                shares += f", ... ({self.n_islands - 6} more)"
            lines.append(
                f"UNSTABLE: the magnitude splits into {self.n_islands} islands above {self.threshold:g} of its peak "
                f"(energy shares {shares}). The signal is determined only up to one phase per island: "
                "any reconstruction may differ from the truth by a separate phase on each island, so expect "
                "a low global SNR even with a perfect magnitude fit; compare per island (snr_per_island)."
            )
        elif self.regime == "weakly connected":
            lines.append(
                f"WEAKLY CONNECTED: the magnitude is one island above {self.threshold:g} of its peak, but it is weak "
                f"across a cut that separates two parts ({h}). Reconstruction is unstable across that cut: small errors in the "
                "magnitude can change the relative phase of the two parts."
            )
        else:
            lines.append(
                f"STABLE: the magnitude is well connected ({h}"
                + ("" if np.isnan(self.algebraic_connectivity) else f"; algebraic connectivity {self.algebraic_connectivity:.3g}")
                + "). The signal is determined up to one global phase "
                "and phase retrieval is expected to be stable."
            )
        if self.regime == "islands":
            lines.append(f"{h}; algebraic connectivity {self.algebraic_connectivity:.3g}.")
        lines.extend(self.notes)
        return "\n".join(lines)

    __str__ = summary


def diagnose(
    magnitude: np.ndarray,
    transform: STFT | None = None,
    *,
    threshold: float = 1e-2,
    min_share: float = 1e-2,
    bottleneck_ratio: float = BOTTLENECK_RATIO,
    max_nodes: int = 40_000,
) -> StabilityReport:
    """Stability report of phase retrieval from one magnitude array.

    Parameters
    ----------
    magnitude
        Magnitudes ``(n_freqs, n_frames)``.
    transform
        Their transform (for the lattice aspect factor; optional).
    threshold
        Relative threshold of the islands.
    min_share
        Smallest energy share that counts as an island. The graph is built on the
        coefficients of the islands (above ``threshold`` and in regions holding at least
        ``min_share`` of the energy), so its Cheeger constant is 0 when there are several.
    bottleneck_ratio
        A single island whose best cut has a :attr:`StabilityReport.bottleneck` below this
        counts as weakly connected. The default 0.05 is a heuristic: the magnitude across the
        cut is then more than 13 dB below its typical level on the smaller side.
    max_nodes
        Above this many graph vertices the eigenvalue problem is solved on a lattice
        coarsened by energy pooling (the reported cut is still evaluated on the full lattice).

    Returns
    -------
    StabilityReport
        The regime, the graph quantities, the islands and the plain-language summary.
    """
    s = _check_2d(magnitude, transform)
    if s.max() <= 0:
        raise ValueError("magnitude is identically zero; there is nothing to diagnose")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 16:
        raise ValueError(f"max_nodes must be an integer >= 16, got {max_nodes!r}")
    labels, islands = find_islands(s, threshold=threshold, min_share=min_share)
    if not islands:  # every region is below min_share: use them all
        labels, islands = find_islands(s, threshold=threshold, min_share=0.0)
    support = labels > 0
    s_sup = np.where(support, s, 0.0)
    fine = tf_graph(s_sup, transform, floor=0.0)
    if fine.nodes.size < 2:  # one coefficient: connected, no cut to speak of
        nan = float("nan")
        fiedler = np.full(s.shape, np.nan)
        regime = "islands" if len(islands) > 1 else "stable"
        return StabilityReport(regime, nan, nan, nan, islands, labels, np.zeros(s.shape, bool), fiedler, threshold, nan, 1, [])
    tfr = 1.0 if transform is None else transform.lam / (transform.hop * transform.n_fft)
    circular = transform is not None and not transform.onesided
    r = 1
    while fine.nodes.size / (r * r) > max_nodes:
        r += 1
    if r > 1:
        sc = _coarsen(s_sup, r)
        graph = _graph(sc, tfr, circular, 0.0)
    else:
        sc = s_sup
        graph = fine
    lam2, fied = algebraic_connectivity(graph)
    _, mask = sweep_cut(graph, fied)
    cut_c = np.zeros(sc.shape, dtype=bool)
    cut_c.flat[graph.nodes[mask]] = True
    fied_c = np.full(sc.shape, np.nan)
    fied_c.flat[graph.nodes] = fied
    if r > 1:
        cut = np.repeat(np.repeat(cut_c, r, axis=0), r, axis=1)[: s.shape[0], : s.shape[1]]
        fiedler = np.repeat(np.repeat(fied_c, r, axis=0), r, axis=1)[: s.shape[0], : s.shape[1]]
        fiedler[~support] = np.nan
    else:
        cut, fiedler = cut_c, fied_c
    fine_mask = cut.flat[fine.nodes]
    phi = cut_conductance(fine, fine_mask)
    # the same cut on the flat graph of the same vertices
    flat = _graph(support.astype(float), tfr, circular, 0.0)
    phi_flat = cut_conductance(flat, cut.flat[flat.nodes])
    if len(islands) > 1 or not np.isfinite(phi_flat) or phi_flat <= 0:
        ratio = 0.0
    else:
        ratio = phi / phi_flat
    if len(islands) > 1:
        regime = "islands"
    elif ratio < bottleneck_ratio:
        regime = "weakly connected"
    else:
        regime = "stable"
    notes = []
    if r > 1:
        notes.append(
            f"The eigenvalue problem was solved on the lattice coarsened by {r}x{r} energy pooling "
            f"({graph.nodes.size} vertices); the algebraic connectivity is that of the coarse graph."
        )
    if transform is not None and transform.redundancy < 2:
        notes.append(
            f"Note: the redundancy n_fft/hop = {transform.redundancy:g} is low; phase retrieval needs redundancy "
            "of at least 2 in practice (4 or more is typical)."
        )
    lower = lam2 / 2.0 if r == 1 else float("nan")
    return StabilityReport(regime, lam2, lower, phi, islands, labels, cut, fiedler, threshold, ratio, r, notes)


def reconstruct_islands(
    magnitude: np.ndarray,
    transform: STFT,
    labels: np.ndarray | None = None,
    *,
    threshold: float = 1e-2,
    length: int | None = None,
    **kwargs,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Reconstruct each island separately from the magnitude restricted to it.

    Parameters
    ----------
    magnitude
        Magnitudes ``(n_freqs, n_frames)``.
    transform
        Their transform.
    labels
        Island labels (default: :func:`find_islands` with ``threshold``).
    threshold
        Relative threshold used when ``labels`` is None.
    length
        Signal length.
    **kwargs
        Passed to :func:`stftpr.reconstruct` (``method``, ``n_iter``, ``seed``, ...).

    Returns
    -------
    signals : list of numpy.ndarray
        One signal per island; each is determined up to its own phase, and their sum is a
        reconstruction of the whole signal up to one phase per island.
    labels : numpy.ndarray
        The labels used.
    """
    from stftpr.algorithms import reconstruct

    s = transform.check_magnitude(magnitude, length)
    if s.ndim != 2:
        raise ValueError(f"reconstruct_islands takes one magnitude array (n_freqs, n_frames), got shape {s.shape}")
    if labels is None:
        labels, _ = find_islands(s, threshold=threshold)
    labels = np.asarray(labels)
    if labels.shape != s.shape:
        raise ValueError(f"labels has shape {labels.shape} but magnitude has shape {s.shape}")
    out = []
    for k in range(1, int(labels.max(initial=0)) + 1):
        sk = np.where(labels == k, s, 0.0)
        out.append(reconstruct(sk, transform, length=length, **kwargs).signal)
    return out, labels


def _check_2d(magnitude, transform: STFT | None) -> np.ndarray:
    if transform is not None:
        s = transform.check_magnitude(magnitude)
    else:
        s = np.asarray(magnitude)
        if not np.issubdtype(s.dtype, np.number) or np.iscomplexobj(s):
            raise TypeError(f"magnitude must be a real numeric array, got dtype {s.dtype}")
        if not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError("magnitude must hold finite non-negative values")
    if s.ndim != 2:
        raise ValueError(f"magnitude must be 2-D (n_freqs, n_frames) for the diagnostics, got shape {s.shape}")
    return s.astype(np.float64)
