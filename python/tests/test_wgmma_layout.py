"""A byte-level model of the sm_90a attention kernel's shared memory.

No GPU needed: TMA's 128B-swizzled writes, the threads' writes of P, and
the operands wgmma reads through the kernel's matrix descriptors (start
address, leading / stride byte offsets; PTX ISA "Matrix Descriptor Format"
and the canonical K-major / MN-major 128B-swizzle layouts) are modelled in
numpy with the constants of lib/Conversion/GateToGPU/SdpaWgmma.cpp, and
Q Kᵀ and P V computed from what wgmma would read must equal the matrix
products. This checks that the descriptors, the k-step address offsets and
the P swizzle agree with the layout TMA produces, on awkward head sizes.
"""
import numpy as np
import pytest

ROWS, BN, TILE = 64, 64, 64 * 128  # query rows, keys per block, bytes per tile


def swizzle(addr):
    """128B swizzle: 16-byte chunk bits [4:6] XOR row bits [7:9] of the address."""
    return addr ^ (((addr >> 7) & 7) << 4)


class Smem:
    def __init__(self, size):
        self.mem = np.zeros(size // 2, np.float64)  # one slot per 16-bit element

    def write(self, addr, value):
        assert addr % 2 == 0
        self.mem[swizzle(addr) // 2] = value

    def read(self, addr):
        return self.mem[swizzle(addr) // 2]

    def tma_box(self, base, tensor, row0, col0, rows):
        """One TMA box of rows x 64 columns (out of range: 0) at a 1024-aligned base."""
        assert base % 1024 == 0
        for r in range(rows):
            for c in range(64):
                i, j = row0 + r, col0 + c
                v = tensor[i, j] if i < tensor.shape[0] and j < tensor.shape[1] else 0.0
                # Unswizzled, row r is 128 bytes at base + 128 r.
                self.write(base + 128 * r + 2 * c, v)


def desc_k_major(start, sbo):
    """Element (m, k) of the m x 16 operand slice a K-major SW128 descriptor names."""
    return lambda m, k: start + (m % 8) * 128 + (m // 8) * sbo + 2 * k


def desc_mn_major(start, lbo, sbo):
    """Element (k, n) of the 16 x n slice an MN-major SW128 descriptor names."""
    return lambda k, n: start + 2 * (n % 64) + (n // 64) * lbo + (k % 8) * 128 + (k // 8) * sbo


def descriptor_fields(start, lbo, sbo):
    d = ((start & 0x3FFFF) >> 4) | ((lbo >> 4) << 16) | ((sbo >> 4) << 32) | (1 << 62)
    return ((d & 0x3FFF) << 4, ((d >> 16) & 0x3FFF) << 4, ((d >> 32) & 0x3FFF) << 4, d >> 62)


def round_up(a, m):
    return (a + m - 1) // m * m


@pytest.mark.parametrize("D,Dv", [(128, 128), (72, 40), (256, 128), (64, 64), (8, 8)])
def test_descriptors_read_what_tma_and_p_stores_wrote(D, Dv):
    rng = np.random.default_rng(D + Dv)
    Dp, Dvn = round_up(D, 16), round_up(Dv, 16)
    Dt, Vt = (Dp + 63) // 64, (Dvn + 63) // 64
    q_off = 1024 * 5  # any 1024-aligned base
    k_off = q_off + Dt * TILE
    v_off = k_off + 2 * Dt * TILE
    p_off = v_off + 2 * Vt * TILE
    smem = Smem(p_off + TILE + 1024)
    q = rng.standard_normal((50, D))  # 50 < 64 query rows: the rest reads 0
    k = rng.standard_normal((BN - 3, D))
    v = rng.standard_normal((BN - 3, Dv))
    stage = 1
    for t in range(Dt):
        smem.tma_box(q_off + t * TILE, q, 0, 64 * t, ROWS)
        smem.tma_box(k_off + stage * Dt * TILE + t * TILE, k, 0, 64 * t, BN)
    for t in range(Vt):
        smem.tma_box(v_off + stage * Vt * TILE + t * TILE, v, 0, 64 * t, BN)

    # S = Q Kᵀ: k16 step s at (s // 4) tiles + (s % 4) · 32 bytes; SBO 1024.
    s_acc = np.zeros((ROWS, BN))
    k_base = k_off + stage * Dt * TILE
    for s in range(Dp // 16):
        off = (s // 4) * TILE + (s % 4) * 32
        for start, what in ((q_off + off, "a"), (k_base + off, "b")):
            assert descriptor_fields(start, 16, 1024)[0] == start & 0x3FFF0
        a = desc_k_major(q_off + off, 1024)
        b = desc_k_major(k_base + off, 1024)
        A = np.array([[smem.read(a(m, kk)) for kk in range(16)] for m in range(ROWS)])
        B = np.array([[smem.read(b(n, kk)) for kk in range(16)] for n in range(BN)])
        s_acc += A @ B.T
    qp = np.zeros((ROWS, D))
    qp[:50] = q
    kp = np.zeros((BN, D))
    kp[:BN - 3] = k
    np.testing.assert_allclose(s_acc, qp @ kp.T, rtol=1e-12, atol=1e-12)

    # P: lane (warp w, g, tq) stores the pair of columns 8j + 2tq of rows
    # 16w + g (+ 8) at row·128 + ((j ⊕ g)·16) + 4·tq, physical address.
    p = rng.standard_normal((ROWS, BN))
    for w in range(4):
        for lane in range(32):
            g, tq = lane // 4, lane % 4
            for j in range(BN // 8):
                for rr in range(2):
                    row = 16 * w + g + 8 * rr
                    phys = p_off + row * 128 + ((j ^ g) << 4) + 4 * tq
                    smem.mem[phys // 2] = p[row, 8 * j + 2 * tq]
                    smem.mem[phys // 2 + 1] = p[row, 8 * j + 2 * tq + 1]
    # O = P V: step u reads P at +32u bytes (K-major) and V at +2048u
    # (MN-major: LBO = a 64-column tile, SBO = 8 keys).
    nv = 64 * Vt  # P·V covers whole 64-column V tiles
    o = np.zeros((ROWS, nv))
    v_base = v_off + stage * Vt * TILE
    for u in range(BN // 16):
        a = desc_k_major(p_off + 32 * u, 1024)
        b = desc_mn_major(v_base + 2048 * u, TILE, 1024)
        assert descriptor_fields(v_base + 2048 * u, TILE, 1024)[1:] == (TILE, 1024, 1)
        A = np.array([[smem.read(a(m, kk)) for kk in range(16)] for m in range(ROWS)])
        B = np.array([[smem.read(b(kk, n)) for n in range(nv)] for kk in range(16)])
        o += A @ B
    vp = np.zeros((BN, nv))
    vp[:BN - 3, :Dv] = v
    np.testing.assert_allclose(o, p @ vp, rtol=1e-12, atol=1e-12)


def test_swizzle_keeps_p_stores_conflict_free():
    """The 32 lanes of a warp store P (4 bytes each) to 32 distinct banks."""
    for j in range(8):
        banks = set()
        for lane in range(32):
            g, tq = lane // 4, lane % 4
            addr = g * 128 + ((j ^ g) << 4) + 4 * tq
            banks.add((addr // 4) % 32)
        assert len(banks) == 32
