import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The buffer behind a tensor: `count` elements, 64-byte aligned (one cache line, one AVX-512
/// register), taken from ``TensorBufferPool`` and handed back to it when the last tensor sharing
/// it goes away.
///
/// `@unchecked Sendable` because the class itself does no synchronisation: it is safe because
/// `Tensor` and `IntTensor` only write to a storage they hold uniquely (`isKnownUniquelyReferenced`,
/// copy-on-write). Once a storage is shared — between two values, hence possibly between two
/// threads — nobody writes to it again, so concurrent readers see immutable memory.
@usableFromInline
final class TensorStorage<Element>: @unchecked Sendable {
    /// The first element; valid for `count` elements (and for one element when `count == 0`,
    /// so kernels can be handed a non-null pointer).
    let pointer: UnsafeMutablePointer<Element>
    let count: Int
    /// For a view: the storage whose elements these are (kept alive, never written through the
    /// view: writers copy a view first). nil for a storage that owns its buffer.
    let viewed: TensorStorage?

    /// Uninitialised storage for `count` trivial elements (Float, Int32).
    init(count: Int) {
        self.count = count
        let bytes = Swift.max(count, 1) * MemoryLayout<Element>.stride
        pointer = TensorBufferPool.shared.take(byteCount: bytes)
            .bindMemory(to: Element.self, capacity: Swift.max(count, 1))
        viewed = nil
    }

    /// `count` elements of `base` from `offset` on, without a copy: the batches `predict`,
    /// `evaluate` and unshuffled `fit` cut from a data set are contiguous runs of rows.
    init(viewing base: TensorStorage, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= base.count, "view out of bounds")
        let root = base.viewed ?? base
        pointer = base.pointer + offset
        self.count = count
        viewed = root
    }

    /// Whether this storage borrows another's elements (then it must be copied before a write).
    var isView: Bool { viewed != nil }

    /// A copy of `count` elements from `source` (which may be nil when `count` is 0).
    convenience init(copying source: UnsafePointer<Element>?, count: Int) {
        self.init(count: count)
        if count > 0, let source { pointer.update(from: source, count: count) }
    }

    /// A private copy, for copy-on-write.
    func copy() -> TensorStorage {
        TensorStorage(copying: pointer, count: count)
    }

    deinit {
        if viewed != nil { return }
        TensorBufferPool.shared.give(
            UnsafeMutableRawPointer(pointer), byteCount: Swift.max(count, 1) * MemoryLayout<Element>.stride)
    }
}

/// Freed tensor buffers kept for reuse, so a warm training step — which allocates the same
/// activation and gradient shapes every time — takes its buffers from here instead of from
/// `malloc` (and, for the large ones, instead of fresh `mmap`ed pages that fault in on first touch).
///
/// Buffers are bucketed by size class: multiples of 64 bytes up to 4 KiB, then eight classes
/// per power of two (a buffer is at most 12.5 % larger than asked; the tail is never touched, so
/// it costs address space, not resident memory). A request takes any free buffer of its class.
/// The pool is bounded: it holds at most ``capacity`` bytes of free buffers (a buffer that would
/// exceed it is freed at once), buffers over 64 MiB are never kept (a data set, not a step's
/// activation), and ``trim()`` — called by `Peregrine.clearSession()` — frees everything held.
/// Thread-safe (one lock; a take or give is a list push or pop under it, no allocation).
/// `PEREGRINE_TENSOR_POOL=0` in the environment turns it off (every buffer straight from and
/// back to the allocator, e.g. for AddressSanitizer to see use-after-free).
///
/// ```swift
/// TensorBufferPool.shared.heldBytes   // free bytes kept for reuse right now
/// TensorBufferPool.shared.trim()      // give them back to the system
/// ```
final class TensorBufferPool: Sendable {
    /// The process's pool, used by every tensor.
    static let shared = TensorBufferPool(
        capacity: 512 << 20, enabled: (getenv("PEREGRINE_TENSOR_POOL").map { String(cString: $0) } ?? "1") != "0")

    /// The largest buffer kept (64 MiB).
    static let largestPooled = 64 << 20

    /// Free buffers form one singly linked list per size class, threaded through the buffers
    /// themselves (a free buffer's first 8 bytes hold the next one's address): taking or giving
    /// is two stores under the lock and never allocates.
    private struct State: ~Copyable {
        /// Address of the first free buffer of each size class (0: none); fixed length.
        var heads = [UInt](repeating: 0, count: TensorBufferPool.classCount)
        var heldBytes = 0
        var capacity: Int
    }

    private let state: Mutex<State>
    private let enabled: Bool

    /// A pool holding at most `capacity` free bytes; `enabled: false` passes everything through.
    ///
    /// ```swift
    /// let pool = TensorBufferPool(capacity: 1 << 20)
    /// ```
    init(capacity: Int, enabled: Bool = true) {
        state = Mutex(State(capacity: capacity))
        self.enabled = enabled
    }

    deinit {
        trim()
    }

    /// The bytes actually allocated for a request of `byteCount` bytes.
    ///
    /// ```swift
    /// TensorBufferPool.sizeClass(100)     // 128
    /// TensorBufferPool.sizeClass(5000)    // 5120 (eight classes between 4096 and 8192)
    /// ```
    static func sizeClass(_ byteCount: Int) -> Int {
        let bytes = Swift.max(byteCount, 1)
        if bytes <= 4096 { return (bytes + 63) & ~63 }
        let octave = Int.bitWidth - 1 - (bytes - 1).leadingZeroBitCount   // 2^octave < bytes ≤ 2^(octave+1)
        let step = 1 << (octave - 3)
        return (bytes + step - 1) / step * step
    }

    /// The list a size class (a value of `sizeClass`, at most `largestPooled`) lives in:
    /// 64…4096 bytes are 0…63, then eight per octave.
    static func classIndex(_ size: Int) -> Int {
        if size <= 4096 { return size / 64 - 1 }
        let octave = Int.bitWidth - 1 - (size - 1).leadingZeroBitCount
        return 64 + (octave - 12) * 8 + (size >> (octave - 3)) - 9
    }

    static let classCount = classIndex(largestPooled) + 1

    /// A 64-byte-aligned buffer of at least `byteCount` bytes, uninitialised.
    ///
    /// ```swift
    /// let p = TensorBufferPool.shared.take(byteCount: 4096)
    /// ```
    func take(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = Self.sizeClass(byteCount)
        if enabled, size <= Self.largestPooled {
            let index = Self.classIndex(size)
            let reused: UInt = state.withLock { s in
                let head = s.heads[index]
                guard let buffer = UnsafeMutableRawPointer(bitPattern: head) else { return 0 }
                s.heads[index] = buffer.load(as: UInt.self)
                s.heldBytes -= size
                return head
            }
            if let pointer = UnsafeMutableRawPointer(bitPattern: reused) { return pointer }
        }
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    /// Hands back a buffer from ``take(byteCount:)`` (with the same `byteCount`): kept for reuse
    /// while the pool is under its capacity, freed otherwise.
    ///
    /// ```swift
    /// TensorBufferPool.shared.give(p, byteCount: 4096)
    /// ```
    func give(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let size = Self.sizeClass(byteCount)
        if enabled, size <= Self.largestPooled {
            let index = Self.classIndex(size), address = UInt(bitPattern: pointer)
            let kept = state.withLock { s -> Bool in
                guard s.heldBytes + size <= s.capacity,
                      let buffer = UnsafeMutableRawPointer(bitPattern: address) else { return false }
                buffer.storeBytes(of: s.heads[index], as: UInt.self)
                s.heads[index] = address
                s.heldBytes += size
                return true
            }
            if kept { return }
        }
        pointer.deallocate()
    }

    /// Frees every buffer held.
    ///
    /// ```swift
    /// TensorBufferPool.shared.trim()
    /// ```
    func trim() {
        let lists = state.withLock { s -> [UInt] in
            let heads = s.heads
            for index in s.heads.indices { s.heads[index] = 0 }
            s.heldBytes = 0
            return heads
        }
        for head in lists {
            var next = UnsafeMutableRawPointer(bitPattern: head)
            while let buffer = next {
                next = UnsafeMutableRawPointer(bitPattern: buffer.load(as: UInt.self))
                buffer.deallocate()
            }
        }
    }

    /// Free bytes held for reuse right now.
    ///
    /// ```swift
    /// TensorBufferPool.shared.heldBytes   // 0 after trim()
    /// ```
    var heldBytes: Int { state.withLock { $0.heldBytes } }

    /// The most free bytes held at once; lowering it trims the pool to fit.
    ///
    /// ```swift
    /// TensorBufferPool.shared.capacity = 64 << 20
    /// ```
    var capacity: Int {
        get { state.withLock { $0.capacity } }
        set {
            state.withLock { $0.capacity = Swift.max(newValue, 0) }
            if heldBytes > newValue { trim() }
        }
    }
}
