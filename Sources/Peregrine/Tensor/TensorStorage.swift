/// The buffer behind a tensor: `count` elements, 64-byte aligned (one cache line, one AVX-512
/// register), allocated once and freed when the last tensor sharing it goes away.
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

    /// Uninitialised storage for `count` trivial elements (Float, Int32).
    init(count: Int) {
        self.count = count
        let bytes = Swift.max(count, 1) * MemoryLayout<Element>.stride
        pointer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            .bindMemory(to: Element.self, capacity: Swift.max(count, 1))
    }

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
        pointer.deallocate()
    }
}
