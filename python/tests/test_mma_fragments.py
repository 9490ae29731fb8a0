"""Lane-level emulation of the tensor-core fragments of the CUDA kernels
(pure numpy, no compiler or GPU needed).

`mma_sync` is `mma.sync.aligned.m16n8k8` (tf32, one operand per 32-bit
register) or `m16n8k16` (f16/bf16, two per register) as the PTX ISA defines
it: it assembles A (16×K), B (K×8) and C (16×8) from the 32 lanes' registers,
with g = lane / 4 and t = lane % 4,

    tf32 k8:    a0 = A[g][t]     a1 = A[g+8][t]     a2 = A[g][t+4]     a3 = A[g+8][t+4]
                b0 = B[t][g]     b1 = B[t+4][g]
    16-bit k16: a0 = A[g][2t:2t+2]    a1 = A[g+8][2t:2t+2]
                a2 = A[g][2t+8:2t+10] a3 = A[g+8][2t+8:2t+10]
                b0 = B[2t:2t+2][g]    b1 = B[2t+8:2t+10][g]
    C, D:       c0, c1 = C[g][2t], C[g][2t+1]   c2, c3 = C[g+8][2t], C[g+8][2t+1]

and hands D back the same way. The kernels' side is written with the index
formulas of GateTileGPU.cpp (gate.sdpa: Q fragments from global memory, K and
V from the flat shared buffers, P from the score accumulators; for tf32 the
keys of every 8-key tile are permuted so P stays in registers) and
LinearAttentionMma.cpp (the chunk matmuls on strided shared-memory views).
Each product through these layouts must equal the matrix product.

Then the numerics of tf32: cvt.rna.tf32.f32 emulated bit for bit, and the
kernels' roundings (attention: Q, K, V staged as tf32, P rounded before P·V;
linear attention: the operands of the chunk matmuls) applied to the GPU
tests' inputs stay well within ku.TF32_TOL, the tolerance of the tf32 GPU
tests.
"""
from __future__ import annotations

import numpy as np
import pytest

import kernel_util as ku
from gatec import reference as R

LANES = [(lane // 4, lane % 4) for lane in range(32)]  # (g, t)


def round_up(a, m):
    return (a + m - 1) // m * m


def k_of(p):
    """K of one MMA: 8 for tf32 (p = 1 operand per register), 16 for 16-bit (p = 2)."""
    return 8 * p


def mma_sync(p, a, b, c):
    """D = A·B + C for one m16n8k(8p) MMA, from and to the lanes' registers.
    a: [32][4][p], b: [32][2][p], c: [32][4]; returns d: [32][4]."""
    K = k_of(p)
    A, B, C = np.full((16, K), np.nan), np.full((K, 8), np.nan), np.full((16, 8), np.nan)
    for lane, (g, t) in enumerate(LANES):
        for r in range(4):
            row = g + 8 * (r & 1)
            col = p * t + (K // 2) * (r >> 1)
            A[row, col:col + p] = a[lane][r]
        for h in range(2):
            k = p * t + (K // 2) * h
            B[k:k + p, g] = b[lane][h]
        C[g, 2 * t:2 * t + 2] = c[lane][0:2]
        C[g + 8, 2 * t:2 * t + 2] = c[lane][2:4]
    assert not (np.isnan(A).any() or np.isnan(B).any() or np.isnan(C).any()), \
        "the fragments do not cover the tile"
    D = A @ B + C
    return [[D[g, 2 * t], D[g, 2 * t + 1], D[g + 8, 2 * t], D[g + 8, 2 * t + 1]]
            for (g, t) in LANES]


def acc_matrix(tiles):
    """The 16×(8·n) matrix held by n accumulator tiles (C layout)."""
    M = np.zeros((16, 8 * len(tiles)))
    for j, tile in enumerate(tiles):
        for lane, (g, t) in enumerate(LANES):
            for r in range(4):
                M[g + 8 * (r >> 1), 8 * j + 2 * t + (r & 1)] = tile[lane][r]
    return M


def to_acc_tiles(M):
    """The accumulator tiles holding the 16×(8·n) matrix M (C layout)."""
    return [[[M[g + 8 * (r >> 1), 8 * j + 2 * t + (r & 1)] for r in range(4)]
             for (g, t) in LANES] for j in range(M.shape[1] // 8)]


# --------------------------------------------------------------------------- #
# gate.sdpa (GateTileGPU.cpp, SdpaToMma)
# --------------------------------------------------------------------------- #
def sdpa_warp(p, Q, K, V, P):
    """One warp's S = Q·Kᵀ and O = P·V as SdpaToMma computes them: Q [16, D],
    K [BN, D], V [BN, Dv], P [16, BN] (the score accumulators)."""
    kStep, eBytes = k_of(p), 4 // p
    BN, D = K.shape
    Dv = V.shape[1]
    Dp, Dvn = round_up(D, kStep), round_up(Dv, 16)
    kStride, vStride = Dp + 16 // eBytes, Dvn + 16 // eBytes
    # The flat shared buffers (one stage), rows padded.
    Ks = np.zeros(BN * kStride)
    Vs = np.zeros(BN * vStride)
    for r in range(BN):
        Ks[r * kStride:r * kStride + D] = K[r]
        Vs[r * vStride:r * vStride + Dv] = V[r]

    def q_at(row, col):  # the masked global load: 0 past D
        return Q[row, col] if col < D else 0.0

    # Q fragments: register r is (row g + 8(r&1), cols tqp + kStep·s + kStep/2·(r>=2) + j).
    qFrag = []
    for s in range(Dp // kStep):
        lanes = []
        for (g, t) in LANES:
            tqp = p * t
            regs = []
            for r in range(4):
                row = g + 8 * (r & 1)
                regs.append([q_at(row, tqp + kStep * s + (kStep // 2 if r >= 2 else 0) + j)
                             for j in range(p)])
            lanes.append(regs)
        qFrag.append(lanes)

    # S = Q Kᵀ: tile j covers keys 8j..8j+7; B from Ks at kBase + 8j·kStride + kStep·s + kStep/2·half.
    sc = []
    for j in range(BN // 8):
        acc = [[0.0] * 4 for _ in range(32)]
        for s in range(Dp // kStep):
            bf = []
            for (g, t) in LANES:
                kBase = g * kStride + p * t
                bf.append([Ks[kBase + 8 * j * kStride + kStep * s + kStep // 2 * half:][:p]
                           for half in range(2)])
            acc = mma_sync(p, qFrag[s], bf, acc)
        sc.append(acc)
    S = acc_matrix(sc)

    # O = P V: the A fragment from P's accumulator tiles; B from Vs at
    # vBase + key·vStride + 8·tile, vBase = 2t·vStride + g.
    pt = to_acc_tiles(P)
    o = [[[0.0] * 4 for _ in range(32)] for _ in range(Dvn // 8)]
    for u in range(BN // kStep):
        pa = []
        for lane in range(32):
            regs = []
            for r in range(4):
                rr, hi = r % 2, r // 2
                if p == 2:
                    tile = pt[2 * u + hi][lane]
                    regs.append([tile[2 * rr], tile[2 * rr + 1]])
                else:
                    regs.append([pt[u][lane][2 * rr + hi]])
            pa.append(regs)
        for tO in range(Dvn // 8):
            bf = []
            for (g, t) in LANES:
                vBase = 2 * t * vStride + g
                regs = []
                for half in range(2):
                    keys = [kStep * u + (8 * half + j if p == 2 else half) for j in range(p)]
                    regs.append([Vs[vBase + key * vStride + 8 * tO] for key in keys])
                bf.append(regs)
            o[tO] = mma_sync(p, pa, bf, o[tO])
    O = acc_matrix(o)[:, :Dv]
    return S, O


# (p, D, Dv, BN): key blocks are whole MMA steps (BN = 8 only for tf32).
SDPA_SHAPES = [(p, D, Dv, BN) for p in (1, 2)
               for (D, Dv, BN) in ((64, 64, 32), (40, 40, 16), (72, 40, 8), (24, 32, 16))
               if BN % k_of(p) == 0]


@pytest.mark.parametrize("p,D,Dv,BN", SDPA_SHAPES,
                         ids=[f"{'tf32' if c[0] == 1 else 'f16'}-D{c[1]}-Dv{c[2]}-BN{c[3]}"
                              for c in SDPA_SHAPES])
def test_sdpa_fragments(p, D, Dv, BN):
    rng = np.random.default_rng(D * 100 + Dv + BN + p)
    Q = rng.standard_normal((16, D))
    K = rng.standard_normal((BN, D))
    V = rng.standard_normal((BN, Dv))
    P = rng.random((16, BN))
    S, O = sdpa_warp(p, Q, K, V, P)
    np.testing.assert_allclose(S, Q @ K.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(O, P @ V, rtol=1e-12, atol=1e-12)


def test_tf32_pv_needs_the_key_permutation():
    """Without the permutation (P's registers in tile order, V's keys t, t+4)
    P·V comes out wrong: the test above is sensitive to it."""
    rng = np.random.default_rng(5)
    P = rng.random((16, 8))
    V = rng.standard_normal((8, 8))
    pt = to_acc_tiles(P)[0]
    pa = [[[pt[lane][0]], [pt[lane][2]], [pt[lane][1]], [pt[lane][3]]] for lane in range(32)]
    bf = [[[V[t, g]], [V[t + 4, g]]] for (g, t) in LANES]
    d = mma_sync(1, pa, bf, [[0.0] * 4 for _ in range(32)])
    assert not np.allclose(acc_matrix([d]), P @ V)


# --------------------------------------------------------------------------- #
# gate.linear_attention (LinearAttentionMma.cpp, the `matmul` lambda)
# --------------------------------------------------------------------------- #
def la_matmul(p, out, ldo, accumulate, A, Bm, M, N, Kd):
    """out (M×N, flat, row stride ldo) (+)= A(M×Kd) · B(Kd×N); A and Bm are
    (flat buffer, row stride, column stride) views. Warps take the 16×8
    tiles in turn; each lane's registers as the kernel loads them."""
    kStep = k_of(p)
    nT = N // 8

    def elem(v, r, c):
        buf, rs, cs = v
        return buf[r * rs + c * cs]

    for tile in range(M // 16 * nT):
        regs_a = [[None] * (Kd // kStep) for _ in range(32)]
        regs_b = [[None] * (Kd // kStep) for _ in range(32)]
        idxs = []
        for lane, (g, t) in enumerate(LANES):
            r0 = tile // nT * 16 + g
            r1 = r0 + 8
            n0 = tile % nT * 8
            cc, nb, tqp = n0 + 2 * t, n0 + g, p * t
            idxs.append([r0 * ldo + cc, r0 * ldo + cc + 1, r1 * ldo + cc, r1 * ldo + cc + 1])
            for ks in range(Kd // kStep):
                a = []
                for r in range(4):
                    row = r1 if r & 1 else r0
                    k = tqp + kStep * ks + (kStep // 2 if r >= 2 else 0)
                    a.append([elem(A, row, k + j) for j in range(p)])  # along the row
                b = []
                for half in range(2):
                    k = tqp + kStep * ks + kStep // 2 * half
                    b.append([elem(Bm, k + j, nb) for j in range(p)])  # down the column
                regs_a[lane][ks], regs_b[lane][ks] = a, b
        acc = [[out[i] if accumulate else 0.0 for i in idx] for idx in idxs]
        for ks in range(Kd // kStep):
            acc = mma_sync(p, [regs_a[lane][ks] for lane in range(32)],
                           [regs_b[lane][ks] for lane in range(32)], acc)
        for lane in range(32):
            for i in range(4):
                out[idxs[lane][i]] = acc[lane][i]


@pytest.mark.parametrize("p", [1, 2], ids=["tf32_k8", "f16_k16"])
def test_linear_attention_matmul_fragments(p):
    """The kernel's three shapes of views: Xe·Se (row-major A), Pe·Ue
    accumulated, and Xeᵀ·Ue (A read transposed: rs = 1, cs = Kp)."""
    rng = np.random.default_rng(7 + p)
    C, Vb, Kp = 16, 16, 48
    X = rng.standard_normal((C, Kp))
    Sm = rng.standard_normal((Kp, Vb))
    Pm = rng.standard_normal((C, C))
    U = rng.standard_normal((C, Vb))
    O = np.zeros(C * Vb)
    la_matmul(p, O, Vb, False, (X.ravel(), Kp, 1), (Sm.ravel(), Vb, 1), C, Vb, Kp)
    np.testing.assert_allclose(O.reshape(C, Vb), X @ Sm, rtol=1e-12, atol=1e-12)
    la_matmul(p, O, Vb, True, (Pm.ravel(), C, 1), (U.ravel(), Vb, 1), C, Vb, C)
    np.testing.assert_allclose(O.reshape(C, Vb), X @ Sm + Pm @ U, rtol=1e-12, atol=1e-12)
    St = Sm.ravel().copy()
    la_matmul(p, St, Vb, True, (X.ravel(), 1, Kp), (U.ravel(), Vb, 1), Kp, Vb, C)
    np.testing.assert_allclose(St.reshape(Kp, Vb), Sm + X.T @ U, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- #
# tf32 numerics
# --------------------------------------------------------------------------- #
def tf32_rna(x):
    """cvt.rna.tf32.f32: to 10 mantissa bits, to nearest, ties away from zero
    (on the magnitude bits); Inf and NaN pass."""
    bits = np.asarray(x, np.float32).view(np.uint32)
    r = ((bits.astype(np.uint64) + 0x1000) & 0xFFFFE000).astype(np.uint32)
    r = np.where((bits & 0x7F800000) == 0x7F800000, bits, r)
    return r.view(np.float32)


def test_tf32_rounding():
    one = np.float32(1.0)
    ulp = 2.0 ** -10
    x = np.array([1 + ulp / 2, 1 + ulp / 2 - 2 ** -23, -(1 + ulp / 2), 1 + 1.5 * ulp,
                  np.inf, -np.inf, 3.0e38], np.float32)
    r = tf32_rna(x)
    assert r[0] == one + np.float32(ulp)  # a tie goes away from zero
    assert r[1] == one
    assert r[2] == -(one + np.float32(ulp))
    assert r[3] == one + np.float32(2 * ulp)
    assert np.isinf(r[4]) and r[4] > 0 and np.isinf(r[5]) and r[5] < 0
    assert np.isfinite(r[6])
    assert np.isnan(tf32_rna(np.float32(np.nan)))
    y = np.random.default_rng(0).standard_normal(10000).astype(np.float32) * 1e3
    ry = tf32_rna(y)
    assert np.all(ry.view(np.uint32) & 0x1FFF == 0)
    assert np.max(np.abs(ry.astype(np.float64) - y) / np.abs(y)) <= 2.0 ** -11


def tf32_sdpa(q, k, v, gate, causal):
    """gate.sdpa with the CUDA kernel's tf32 roundings, in float64 otherwise:
    Q, K, V rounded when loaded, P = exp(s - max) rounded before P·V, the sum
    of P unrounded."""
    q, k, v = (tf32_rna(a).astype(np.float64) for a in (q, k, v))
    rep = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    o = (tf32_rna(e.astype(np.float32)).astype(np.float64) @ v) / e.sum(axis=-1, keepdims=True)
    return o / (1.0 + np.exp(-gate.astype(np.float64)))


@pytest.mark.parametrize("D", [40, 64, 128])
@pytest.mark.parametrize("causal", [True, False])
def test_tf32_sdpa_error_within_tolerance(D, causal):
    """The GPU tests' inputs (test_cuda.TestGPU) through the tf32 roundings
    stay within a third of ku.TF32_TOL of the float64 reference: room for the
    f32 accumulation order and the kernel's exp."""
    rng = np.random.default_rng(D)
    Sq = Skv = 257
    q, k, v = (rng.standard_normal(s).astype(np.float32)
               for s in ((1, 8, Sq, D), (1, 2, Skv, D), (1, 2, Skv, D)))
    g = (rng.standard_normal((1, 8, Sq, D)) * 2.0).astype(np.float32)
    ref = R.sdpa(q, k, v, gate=g, causal=causal)
    err = ku.rel_err(tf32_sdpa(q, k, v, g, causal), ref)
    assert err <= ku.TF32_TOL / 3, err
    assert err > 1e-5  # the roundings are there


def tf32_gated_delta(q, k, v, decay, beta, S, rnd):
    """One head of gate.linear_attention gated_delta as LinearAttentionMma
    computes it (chunks of 16, the formulas of its header), float64 with the
    MMA operands passed through `rnd`: per-channel decay's P is SIMT f32
    (exact here), the forward substitution too."""
    T, K = k.shape
    chan = decay.ndim == 2
    out = np.zeros((T, v.shape[1]))
    for t0 in range(0, T, 16):
        Q, Kc, Vc, b = q[t0:t0 + 16], k[t0:t0 + 16], v[t0:t0 + 16], beta[t0:t0 + 16]
        n = len(Kc)
        G = np.cumsum(np.maximum(decay[t0:t0 + 16], -80.0), axis=0)
        Gc = G if chan else G[:, None]

        def P(X, Y, strict):
            if chan:
                p = np.einsum("ic,jc,ijc->ij", X, Y,
                              np.exp(np.minimum(Gc[:, None, :] - Gc[None, :, :], 0.0)))
            else:
                p = (rnd(X) @ rnd(Y).T) * np.exp(np.minimum(G[:, None] - G[None, :], 0.0))
            return np.tril(p, -1 if strict else 0)

        A = b[:, None] * P(Kc, Kc, True)
        U = np.linalg.solve(np.eye(n) + A, b[:, None] * (Vc - rnd(Kc * np.exp(Gc)) @ rnd(S)))
        out[t0:t0 + n] = (rnd(Q * np.exp(Gc)) @ rnd(S) + rnd(P(Q, Kc, False)) @ rnd(U)) / np.sqrt(K)
        S = np.exp(Gc[-1])[:, None] * S + rnd(Kc * np.exp(Gc[-1] - Gc)).T @ rnd(U)
    return out, S


@pytest.mark.parametrize("K,V,chan", [(128, 128, False), (24, 40, True), (64, 64, True)])
def test_tf32_linear_attention_error_within_tolerance(K, V, chan):
    """test_cuda.TestGPU's gated-delta inputs through the tf32 roundings of
    the chunk matmuls stay within a third of ku.TF32_TOL (and the emulation
    without rounding is the reference)."""
    rng = np.random.default_rng(K + V)
    T = 257
    q = rng.standard_normal((T, K))
    k = rng.standard_normal((T, K))
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    v = rng.standard_normal((T, V))
    decay = -rng.uniform(0.0, 1.0 if chan else 2.0, (T, K) if chan else T)
    beta = rng.uniform(0.05, 0.95, T)
    S0 = rng.standard_normal((K, V)) * 0.5
    q, k, v, decay, beta, S0 = (a.astype(np.float32).astype(np.float64)
                                for a in (q, k, v, decay, beta, S0))
    ro, rs = R.linear_attention(q[None, None], k[None, None], v[None, None], "gated_delta",
                                decay=decay[None, None], beta=beta[None, None],
                                initial_state=S0[None, None])
    o, s = tf32_gated_delta(q, k, v, decay, beta, S0, lambda x: x)
    assert ku.rel_err(o, ro[0, 0]) < 1e-12 and ku.rel_err(s, rs[0, 0]) < 1e-12
    rnd = lambda x: tf32_rna(x.astype(np.float32)).astype(np.float64)  # noqa: E731
    o, s = tf32_gated_delta(q, k, v, decay, beta, S0, rnd)
    for got, ref in ((o, ro[0, 0]), (s, rs[0, 0])):
        assert 1e-5 < ku.rel_err(got, ref) <= ku.TF32_TOL / 3
