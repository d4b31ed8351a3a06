import CKernels
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The kernels' per-thread scratch buffers (GEMM packing, convolution columns) are freed when
/// their thread exits (scratch.c's pthread-key destructor), so threads that come and go leak
/// nothing.
@Suite struct ScratchReleaseTests {
    /// A thread of its own runs a GEMM large enough to pack (B is 4 MB, several column blocks),
    /// reports how many scratch buffers it holds, and exits; after the join, at least that many
    /// buffers have been released. (Other threads exiting meanwhile can only add to the count.)
    @Test func buffersOfAnExitedThreadAreReleased() throws {
        let before = ck_scratch_released_buffers()
        let held = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer { held.deallocate() }
        held.pointee = -1
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            ck_set_thread_num_threads(1)
            let (m, n, k) = (64, 1024, 1024)
            let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
            var c = [Float](repeating: 0, count: m * n)
            ck_sgemm(0, 0, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, &c, Int32(n))
            let out = context!.assumingMemoryBound(to: Int32.self)
            // Every element is k · 0.5 · 0.25; a wrong product would make the count meaningless.
            out.pointee = c.allSatisfy { $0 == Float(k) * 0.125 } ? ck_scratch_thread_buffers() : -2
            return nil
        }, held)
        try #require(status == 0)
        pthread_join(thread, nil)
        #expect(held.pointee > 0, "the GEMM thread held \(held.pointee) scratch buffers")
        #expect(ck_scratch_released_buffers() - before >= Int64(held.pointee))
    }
}
