"""Heap integration kernels of PGHI (compiled with numba when it is installed).

Each kernel is a plain Python function; when numba imports, it is compiled with
``numba.njit(cache=True)`` and the pure Python original stays available as ``.py_func``
(the tests check that both give the same phases).
"""

from __future__ import annotations

import numpy as np

try:  # pragma: no cover - exercised implicitly
    import numba

    def _jit(func):
        return numba.njit(cache=True, nogil=True)(func)

    HAVE_NUMBA = True
except Exception:  # pragma: no cover - numba is a declared dependency

    def _jit(func):
        func.py_func = func
        return func

    HAVE_NUMBA = False


@_jit
def _heap_push(heap, keys, size, item, key):
    i = size
    heap[i] = item
    keys[i] = key
    while i > 0:
        parent = (i - 1) // 2
        if keys[parent] >= keys[i]:
            break
        tmp_i = heap[parent]
        tmp_k = keys[parent]
        heap[parent] = heap[i]
        keys[parent] = keys[i]
        heap[i] = tmp_i
        keys[i] = tmp_k
        i = parent
    return size + 1


@_jit
def _heap_pop(heap, keys, size):
    top = heap[0]
    size -= 1
    heap[0] = heap[size]
    keys[0] = keys[size]
    i = 0
    while True:
        left = 2 * i + 1
        right = left + 1
        largest = i
        if left < size and keys[left] > keys[largest]:
            largest = left
        if right < size and keys[right] > keys[largest]:
            largest = right
        if largest == i:
            break
        tmp_i = heap[largest]
        tmp_k = keys[largest]
        heap[largest] = heap[i]
        keys[largest] = keys[i]
        heap[i] = tmp_i
        keys[i] = tmp_k
        i = largest
    return top, size


@_jit
def _pk_push(heap, size, item):
    i = size
    heap[i] = item
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent] >= item:
            break
        heap[i] = heap[parent]
        i = parent
    heap[i] = item
    return size + 1


@_jit
def _pk_pop(heap, size):
    top = heap[0]
    size -= 1
    item = heap[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] > heap[child]:
            child += 1
        if heap[child] <= item:
            break
        heap[i] = heap[child]
        i = child
    if size > 0:
        heap[i] = item
    return top, size


def packed_keys(s):
    """Heap keys: the float32 bit pattern of ``s >= 0`` (monotonic in ``s``) in the high 32 bits."""
    return np.ascontiguousarray(s, dtype=np.float32).view(np.uint32).astype(np.int64) << 32


@_jit
def heap_integrate(s, dt, df, phase, done, thresh, wrap, pkeys):
    """Integrate phase derivatives over the (F, N) lattice from the largest coefficients.

    Parameters
    ----------
    s : (F, N) float64 magnitudes.
    dt : (F, N) phase increment per frame (time direction) at each coefficient.
    df : (F, N) phase increment per channel (frequency direction) at each coefficient.
    phase : (F, N) float64, written in place where ``done`` is 0 and ``s >= thresh``.
    done : (F, N) uint8, 1 where the phase is already known (it is extended from there).

    New seeds (when the heap runs empty) are the largest coefficients not reached yet:
    found by linear scans for the first few, then from a sort of all coefficients.
    thresh : coefficients below it are left untouched.
    wrap : whether the frequency axis is circular (two-sided transforms).
    pkeys : :func:`packed_keys` of ``s``; the heap holds ``pkeys | flat_index`` so that one
        int64 comparison orders by magnitude (as float32) and then by index.
    """
    F, N = s.shape
    size_max = F * N
    heap = np.empty(size_max, dtype=np.int64)
    size = 0
    for m in range(F):
        for k in range(N):
            if done[m, k] == 1 and s[m, k] >= thresh:
                size = _pk_push(heap, size, pkeys[m, k] | (m * N + k))
    pos = 0
    n_seeds = 0
    order = np.empty(0, dtype=np.int64)
    while True:
        while size > 0:
            top, size = _pk_pop(heap, size)
            idx = top & 0xFFFFFFFF
            m = idx // N
            k = idx - m * N
            # time neighbours
            if k + 1 < N and done[m, k + 1] == 0 and s[m, k + 1] >= thresh:
                phase[m, k + 1] = phase[m, k] + 0.5 * (dt[m, k] + dt[m, k + 1])
                done[m, k + 1] = 1
                size = _pk_push(heap, size, pkeys[m, k + 1] | (idx + 1))
            if k >= 1 and done[m, k - 1] == 0 and s[m, k - 1] >= thresh:
                phase[m, k - 1] = phase[m, k] - 0.5 * (dt[m, k] + dt[m, k - 1])
                done[m, k - 1] = 1
                size = _pk_push(heap, size, pkeys[m, k - 1] | (idx - 1))
            # frequency neighbours
            up = m + 1
            if up == F:
                up = 0 if wrap else -1
            if up >= 0 and done[up, k] == 0 and s[up, k] >= thresh:
                phase[up, k] = phase[m, k] + 0.5 * (df[m, k] + df[up, k])
                done[up, k] = 1
                size = _pk_push(heap, size, pkeys[up, k] | (up * N + k))
            down = m - 1
            if down < 0:
                down = F - 1 if wrap else -1
            if down >= 0 and done[down, k] == 0 and s[down, k] >= thresh:
                phase[down, k] = phase[m, k] - 0.5 * (df[m, k] + df[down, k])
                done[down, k] = 1
                size = _pk_push(heap, size, pkeys[down, k] | (down * N + k))
        # next seed: the largest coefficient not reached yet
        seed = -1
        if n_seeds < 8:
            best = -1.0
            for m in range(F):
                for k in range(N):
                    if done[m, k] == 0 and s[m, k] >= thresh and s[m, k] > best:
                        best = s[m, k]
                        seed = m * N + k
        else:
            if order.size == 0:
                order = np.argsort(-s.ravel())
            while pos < order.size:
                cand = order[pos]
                pos += 1
                m = cand // N
                k = cand - m * N
                if s[m, k] < thresh:
                    pos = order.size
                    break
                if done[m, k] == 0:
                    seed = cand
                    break
        if seed < 0:
            break
        n_seeds += 1
        m = seed // N
        k = seed - m * N
        phase[m, k] = 0.0
        done[m, k] = 1
        size = _pk_push(heap, size, pkeys[m, k] | seed)


@_jit
def rt_frame(s_prev, s_cur, phase_prev, dt_prev, dt_cur, df_cur, thresh, wrap, phase_cur):
    """One frame of real-time PGHI: integrate from the previous frame into the current one.

    Bins of the previous frame (above ``thresh``) enter the heap; popping one passes the
    phase to the same bin of the current frame (trapezoidal rule in time); popping a bin of
    the current frame passes it to its frequency neighbours. ``phase_cur`` must hold the
    fallback (random) phases for bins below ``thresh``; it is overwritten for the others.
    When the heap runs empty while bins of the current frame are still unreached (an onset
    after silence), the largest of them is integrated in time from the previous frame's phase
    and the integration continues from it.
    """
    F = s_cur.size
    heap = np.empty(2 * F, dtype=np.int64)
    keys = np.empty(2 * F, dtype=np.float64)
    done = np.zeros(F, dtype=np.uint8)
    size = 0
    for m in range(F):
        if s_cur[m] < thresh:
            done[m] = 1
        if s_prev[m] >= thresh:
            size = _heap_push(heap, keys, size, m, s_prev[m])  # item < F: previous frame
    while True:
        while size > 0:
            item, size = _heap_pop(heap, keys, size)
            if item < F:
                m = item
                if done[m] == 0:
                    phase_cur[m] = phase_prev[m] + 0.5 * (dt_prev[m] + dt_cur[m])
                    done[m] = 1
                    size = _heap_push(heap, keys, size, F + m, s_cur[m])
            else:
                m = item - F
                up = m + 1
                if up == F:
                    up = 0 if wrap else -1
                if up >= 0 and done[up] == 0:
                    phase_cur[up] = phase_cur[m] + 0.5 * (df_cur[m] + df_cur[up])
                    done[up] = 1
                    size = _heap_push(heap, keys, size, F + up, s_cur[up])
                down = m - 1
                if down < 0:
                    down = F - 1 if wrap else -1
                if down >= 0 and done[down] == 0:
                    phase_cur[down] = phase_cur[m] - 0.5 * (df_cur[m] + df_cur[down])
                    done[down] = 1
                    size = _heap_push(heap, keys, size, F + down, s_cur[down])
        # a bin no path reached (e.g. an onset after silence): seed the largest one in time
        seed = -1
        best = -1.0
        for m in range(F):
            if done[m] == 0 and s_cur[m] > best:
                best = s_cur[m]
                seed = m
        if seed < 0:
            break
        phase_cur[seed] = phase_prev[seed] + 0.5 * (dt_prev[seed] + dt_cur[seed])
        done[seed] = 1
        size = _heap_push(heap, keys, size, F + seed, s_cur[seed])
