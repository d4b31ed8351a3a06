import CKernels
import Testing

/// ck_sgemm_pack_b + ck_sgemm_packed_b_bias_act against ck_sgemm_reference, on every ISA path
/// and with 1, 2 and 3 threads, and the packed buffer's checks.
@Suite(.serialized)
struct GEMMPackedBTests {
    /// A 64-byte aligned buffer for a packed B of op(B) [k×n] on the active ISA path, packed.
    final class PackedB {
        let pointer: UnsafeMutablePointer<Float>
        let floats: Int

        init(_ problem: GEMMTests.Problem) {
            floats = ck_sgemm_packed_b_size(Int32(problem.k), Int32(problem.n))
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(floats, 1) * 4, alignment: 64)
            pointer = raw.bindMemory(to: Float.self, capacity: max(floats, 1))
            let status = ck_sgemm_pack_b(problem.transB, Int32(problem.k), Int32(problem.n),
                                         problem.b, Int32(problem.ldb), pointer)
            #expect(status == 0, "pack \(problem.label)")
        }

        deinit { pointer.deallocate() }
    }

    static func run(_ problem: GEMMTests.Problem, _ packed: PackedB) -> (Int32, [Float]) {
        var out = problem.c
        let status = ck_sgemm_packed_b_bias_act(
            problem.transA, Int32(problem.m), Int32(problem.n), Int32(problem.k), problem.alpha,
            problem.a, Int32(problem.lda), packed.pointer, problem.beta, &out, Int32(problem.ldc),
            problem.bias, problem.act)
        return (status, out)
    }

    /// Runs `problem` with B from `packed` (called under each configuration, so it may pack for
    /// that configuration's ISA or hand back one packed earlier) on every ISA path and 1–3
    /// threads, against the reference.
    static func checkEveryConfiguration(_ problem: GEMMTests.Problem, _ label: String, packed: () -> PackedB) {
        let (want, bound) = problem.reference()
        GEMMTests.forEachConfiguration { isa, threads in
            let (status, got) = run(problem, packed())
            #expect(status == 0)
            problem.check(got, against: want, bound: bound,
                          "\(label) isa=\(String(cString: ck_isa_name(isa))) threads=\(threads)")
        }
    }

    /// Edges of the panels (n mod 32 and mod 16), k in one block, at the 800 limit and in
    /// several blocks (1700), the mlp's first layer at the inference batch, and 1600 columns,
    /// where 2 threads each span more than one B block and pack A together (gemm_shared_a).
    static let shapes: [(Int, Int, Int)] = [
        (0, 5, 7), (5, 0, 7), (5, 7, 0), (1, 1, 1), (3, 17, 33), (4, 10, 512), (37, 10, 512),
        (33, 127, 3), (127, 33, 800), (13, 70, 1700), (50, 509, 100), (256, 512, 784),
        (25, 1600, 400),
    ]

    @Test("Packed B matches the reference", arguments: shapes.indices)
    func packedMatchesReference(shapeIndex: Int) {
        let (m, n, k) = Self.shapes[shapeIndex]
        // The big products take one epilogue each: they are slow in a debug build.
        let large = 2 * m * n * k > 10_000_000
        let epilogues: [(Float, Float, Bool, ck_activation)] = [
            (1, 0, true, CK_ACT_RELU), (0.75, -1.5, false, CK_ACT_IDENTITY),
            (0.5, 0.25, true, CK_ACT_TANH),
        ]
        for (transA, transB) in [(Int32(0), Int32(0)), (1, 1)] {
            for (e, (alpha, beta, bias, act)) in epilogues.enumerated() where !large || e == 0 {
                let problem = GEMMTests.Problem(transA: transA, transB: transB, m: m, n: n, k: k,
                                                alpha: alpha, beta: beta, bias: bias, act: act)
                // packed for each configuration's ISA
                Self.checkEveryConfiguration(problem, "packed \(problem.label)") { PackedB(problem) }
            }
        }
    }

    /// A B packed on the best path keeps its layout when the thread switches ISA afterwards:
    /// the product runs on the kernels it was packed for.
    @Test func packedOnOnePathRunsUnderAnother() {
        let problem = GEMMTests.Problem(transA: 0, transB: 0, m: 45, n: 70, k: 300, alpha: 1,
                                        beta: 0, bias: true, act: CK_ACT_RELU)
        let packed = PackedB(problem)  // on the best path, before any switch
        Self.checkEveryConfiguration(problem, "packed on best, run on") { packed }
    }

    /// What is not a packed B of the product's shape is refused, and C is left as it was.
    @Test func refusesWhatIsNotItsPackedB() {
        let problem = GEMMTests.Problem(transA: 0, transB: 0, m: 20, n: 40, k: 30, alpha: 1,
                                        beta: 0.5)
        let packed = PackedB(problem)
        func status(m: Int = 20, n: Int, k: Int, _ b: UnsafePointer<Float>?) -> (Int32, Bool) {
            var out = problem.c
            let s = ck_sgemm_packed_b_bias_act(0, Int32(m), Int32(n), Int32(k), 1, problem.a,
                                               Int32(problem.lda), b, 0.5, &out,
                                               Int32(problem.ldc), nil, CK_ACT_IDENTITY)
            return (s, zip(out, problem.c).allSatisfy { $0.bitPattern == $1.bitPattern })
        }
        #expect(status(n: 40, k: 30, packed.pointer).0 == 0)
        for (n, k) in [(41, 30), (40, 29), (30, 40)] {  // another shape than the one packed
            let (s, untouched) = status(n: n, k: k, packed.pointer)
            #expect(s == -1 && untouched, "n=\(n) k=\(k)")
        }
        let zeros = PackedB(GEMMTests.Problem(transA: 0, transB: 0, m: 1, n: 40, k: 30, alpha: 1, beta: 0))
        zeros.pointer.update(repeating: 0, count: zeros.floats)  // no header
        #expect(status(n: 40, k: 30, zeros.pointer) == (-1, true))
        #expect(status(n: 40, k: 30, nil) == (-1, true))
        #expect(status(n: 40, k: 30, packed.pointer + 1) == (-1, true))  // misaligned

        // Packing refuses a misaligned buffer, a too short ldb and negative sizes.
        #expect(ck_sgemm_pack_b(0, 30, 40, problem.b, Int32(problem.ldb), packed.pointer + 4) == -1)
        #expect(ck_sgemm_pack_b(0, 30, 40, problem.b, 39, packed.pointer) == -1)
        #expect(ck_sgemm_pack_b(1, 30, 40, problem.b, 29, packed.pointer) == -1)
        #expect(ck_sgemm_pack_b(0, -1, 40, problem.b, 40, packed.pointer) == -1)
        #expect(ck_sgemm_packed_b_size(-1, 4) == 0)
    }
}
