import CKernels

/// Shared by the element-wise, reduction, copy and random kernel tests: operands, the ISA ×
/// thread-count sweep, and ulp distances.
enum KernelSweep {
    /// The odd sizes every kernel is checked on; 100 003 crosses the threading thresholds.
    static let sizes = [0, 1, 3, 17, 33, 127, 1000, 100_003]

    /// Deterministic operands in [lower, upper): a linear congruential sequence, no kernel involved.
    static func operands(_ count: Int, seed: UInt32, in range: ClosedRange<Float> = -1...1) -> [Float] {
        var state = seed &* 2_654_435_761 &+ 12345
        return (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return range.lowerBound + Float(state >> 8) / Float(1 << 24) * (range.upperBound - range.lowerBound)
        }
    }

    /// Runs `body` on every ISA path the CPU supports with 1, 2 and 3 threads; restores the
    /// defaults afterwards.
    static func forEachConfiguration(_ body: (ck_isa, Int32) throws -> Void) rethrows {
        defer {
            _ = ck_set_thread_isa(-1)
            ck_set_thread_num_threads(0)
        }
        for isa in [CK_ISA_GENERIC, CK_ISA_AVX2, CK_ISA_AVX512]
        where isa.rawValue <= ck_isa_best_supported().rawValue {
            _ = ck_set_thread_isa(Int32(isa.rawValue))
            for threads: Int32 in [1, 2, 3] {
                ck_set_thread_num_threads(threads)
                try body(isa, threads)
            }
        }
    }

    /// Distance in units in the last place; ±0 are equal, two NaNs are equal, NaN vs a number
    /// is infinitely far.
    static func ulps(_ a: Float, _ b: Float) -> Double {
        if a.isNaN && b.isNaN { return 0 }
        if a.isNaN || b.isNaN { return .infinity }
        if a == b { return 0 }
        func ordered(_ x: Float) -> Int64 {
            let bits = Int64(Int32(bitPattern: x.bitPattern))
            return bits < 0 ? -(bits & 0x7fff_ffff) : bits
        }
        return Double(abs(ordered(a) - ordered(b)))
    }
}

import Foundation
import Synchronization
import Testing

/// The per-thread overrides the sweeps rely on: they change the calling thread only.
@Test func threadOverridesStayOnTheirThread() throws {
    defer { _ = ck_set_thread_isa(-1); ck_set_thread_num_threads(0) }
    let processISA = ck_isa_active()
    #expect(ck_set_thread_isa(Int32(CK_ISA_GENERIC.rawValue)) == 0)
    ck_set_thread_num_threads(3)
    #expect(ck_isa_active() == CK_ISA_GENERIC && ck_num_threads() == 3)
    // Another thread (async always runs elsewhere) still sees the process's choice.
    let seen = Mutex<(ck_isa, Int32)>((CK_ISA_GENERIC, 0))
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { seen.withLock { $0 = (ck_isa_active(), ck_num_threads()) } }
    group.wait()
    let (otherISA, otherThreads) = seen.withLock { $0 }
    #expect(otherISA == processISA)
    #expect(otherThreads != 3 || ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] == "3")
    #expect(ck_set_thread_isa(99) == -1)
}
