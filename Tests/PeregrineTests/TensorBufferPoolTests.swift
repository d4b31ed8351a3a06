import Testing

@testable import Peregrine

/// The tensor buffer pool: size classes, reuse of freed buffers, the byte cap, trim, and many
/// threads taking and giving at once. Each test uses a private pool (the shared one is in use by
/// every other suite running in parallel), except the last, which checks tensors go through it.
struct TensorBufferPoolTests {
    @Test func sizeClassesRoundUpByAtMostAnEighth() {
        #expect(TensorBufferPool.sizeClass(0) == 64)
        #expect(TensorBufferPool.sizeClass(100) == 128)
        #expect(TensorBufferPool.sizeClass(4096) == 4096)
        #expect(TensorBufferPool.sizeClass(4097) == 4608)
        #expect(TensorBufferPool.sizeClass(5000) == 5120)
        for bytes in stride(from: 1, to: 50_000_000, by: 9973) {
            let size = TensorBufferPool.sizeClass(bytes)
            #expect(size >= bytes && size % 64 == 0)
            #expect(bytes <= 4096 || Double(size) <= Double(bytes) * 1.125, "\(bytes) -> \(size)")
            #expect(TensorBufferPool.sizeClass(size) == size)
        }
    }

    @Test func everyClassHasItsOwnList() {
        var lastSize = 0, lastIndex = -1
        var bytes = 1
        while bytes <= TensorBufferPool.largestPooled {
            let size = TensorBufferPool.sizeClass(bytes), index = TensorBufferPool.classIndex(size)
            if size != lastSize {
                #expect(index == lastIndex + 1, "\(size) -> \(index) after \(lastSize) -> \(lastIndex)")
                (lastSize, lastIndex) = (size, index)
            }
            bytes = size + 1
        }
        #expect(lastIndex == TensorBufferPool.classCount - 1)
    }

    @Test func freedBufferIsReusedForTheSameClass() {
        let pool = TensorBufferPool(capacity: 1 << 20)
        let a = pool.take(byteCount: 1000)
        #expect(Int(bitPattern: a) % 64 == 0)
        pool.give(a, byteCount: 1000)
        #expect(pool.heldBytes == 1024)
        let b = pool.take(byteCount: 1010)   // same class (1024)
        #expect(a == b)
        #expect(pool.heldBytes == 0)
        let c = pool.take(byteCount: 2000)   // another class: fresh
        #expect(c != b)
        // the list is last in, first out, through the buffers themselves
        let d = pool.take(byteCount: 2000)
        pool.give(c, byteCount: 2000)
        pool.give(d, byteCount: 2000)
        #expect(pool.take(byteCount: 2000) == d)
        #expect(pool.take(byteCount: 2000) == c)
        pool.give(d, byteCount: 2000)
        pool.give(b, byteCount: 1010)
        pool.give(c, byteCount: 2000)
        pool.trim()
        #expect(pool.heldBytes == 0)
    }

    @Test func capacityBoundsTheHeldBytes() {
        let pool = TensorBufferPool(capacity: 10_000)
        let buffers = (0..<5).map { _ in pool.take(byteCount: 4096) }
        for p in buffers { pool.give(p, byteCount: 4096) }
        #expect(pool.heldBytes == 8192)   // the third would pass 10 000: freed instead
        pool.capacity = 5000
        #expect(pool.heldBytes == 0)   // lowered under what was held: trimmed
        let huge = pool.take(byteCount: TensorBufferPool.largestPooled + 1)
        pool.give(huge, byteCount: TensorBufferPool.largestPooled + 1)
        #expect(pool.heldBytes == 0)
    }

    @Test func disabledPoolPassesEverythingThrough() {
        let pool = TensorBufferPool(capacity: 1 << 20, enabled: false)
        let p = pool.take(byteCount: 256)
        pool.give(p, byteCount: 256)
        #expect(pool.heldBytes == 0)
    }

    @Test func concurrentTakeAndGiveKeepTheAccounting() async {
        let pool = TensorBufferPool(capacity: 64 << 20)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for round in 0..<2000 {
                        let bytes = 64 * (1 + (task * 7 + round) % 40)
                        let p = pool.take(byteCount: bytes)
                        p.storeBytes(of: UInt64(task), as: UInt64.self)   // each buffer has one owner
                        #expect(p.load(as: UInt64.self) == UInt64(task))
                        pool.give(p, byteCount: bytes)
                    }
                }
            }
        }
        #expect(pool.heldBytes <= 8 * 40 * 64 * 8)
        pool.trim()
        #expect(pool.heldBytes == 0)
    }

    @Test func tensorsReturnTheirBuffersToTheSharedPool() {
        // a size no other suite is likely to free at this moment: the buffer comes back to us
        let count = 123_457
        var first: UnsafeMutablePointer<Float>?
        do {
            let t = Tensor(uninitializedShape: [count])
            first = t.storage.pointer
        }
        let again = Tensor(uninitializedShape: [count])
        #expect(again.storage.pointer == first)
    }
}
