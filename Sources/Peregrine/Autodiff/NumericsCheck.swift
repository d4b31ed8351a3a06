#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The opt-in numerics check (`tf.debugging.enable_check_numerics`): while it is on, every
/// operation that records itself (every op and every layer's fused node, see
/// `Tensor.recorded`) has its output scanned, and every gradient the tape computes is scanned
/// too. The first non-finite value is reported as a thrown ``PeregrineError`` that names the
/// operation (the layer's name for a layer, e.g. `dense_1`), the pass (forward or backward), the
/// kind of value (NaN or Inf) and the tensor's shape.
///
/// Off, it costs one atomic load and one task-local read per recorded operation.
///
/// Where the error is thrown: `recorded` cannot throw, so the first failing operation of the
/// thread is remembered and thrown at the next checkpoint — the end of the layer call it
/// happened in, the start of `GradientTape.gradient`, or the end of ``withNumericsCheck(_:)``.
/// A backward failure is thrown at once. Either way the error names the *first* operation
/// that produced a non-finite value, not where it was noticed.
enum NumericsCheck {
    /// `Peregrine.checkNumerics`: on for every thread.
    static let globallyEnabled = Atomic<Bool>(false)
    /// On inside ``withNumericsCheck(_:)`` for this task.
    @TaskLocal static var scoped = false

    /// Whether the current thread checks.
    @inline(__always) static var isOn: Bool {
        globallyEnabled.load(ordering: .relaxed) || scoped
    }

    /// The first failure seen on this thread and not yet thrown.
    final class Pending {
        var error: PeregrineError?
    }

    /// One `Pending` per thread, released by the key's destructor when the thread ends.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { box in
            if let box { Unmanaged<Pending>.fromOpaque(box).release() }
        }
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    private static var pending: Pending {
        if let box = pthread_getspecific(key) { return Unmanaged<Pending>.fromOpaque(box).takeUnretainedValue() }
        let box = Pending()
        pthread_setspecific(key, Unmanaged.passRetained(box).toOpaque())
        return box
    }

    /// "NaN" or "Inf" for the first non-finite element of `tensor`, nil when all are finite.
    static func nonFiniteKind(_ tensor: Tensor) -> String? {
        let count = tensor.scalarCount
        let p = tensor.pointer
        for i in 0..<count where !p[i].isFinite { return p[i].isNaN ? "NaN" : "Inf" }
        return nil
    }

    static func error(_ operation: String, pass: String, kind: String, shape: [Int]) -> PeregrineError {
        .invalidArgument(
            operation: "\(operation) (\(pass))", expected: "finite values (numerics check)",
            actual: "\(kind) in a tensor of shape \(shape)")
    }

    /// Called by `recorded` when the check is on: remembers the first failing forward op.
    static func noteForward(_ operation: String, _ output: Tensor) {
        let box = pending
        guard box.error == nil, let kind = nonFiniteKind(output) else { return }
        box.error = error(operation, pass: "forward", kind: kind, shape: output.shape)
    }

    /// A checkpoint: throws (and clears) the thread's remembered failure, if any.
    static func throwIfPending() throws {
        guard isOn else { return }
        let box = pending
        if let error = box.error {
            box.error = nil
            throw error
        }
    }

    /// Clears the thread's remembered failure (at the start of a checked scope).
    static func clear() {
        if let box = pthread_getspecific(key) { Unmanaged<Pending>.fromOpaque(box).takeUnretainedValue().error = nil }
    }

    /// The checkpoint at the end of a layer call: the first failing op inside it, or else the
    /// layer's own outputs (for layers built from ops that do not record).
    static func checkLayer(_ layer: String, _ outputs: [Tensor]) throws {
        try throwIfPending()
        for output in outputs {
            if let kind = nonFiniteKind(output) {
                throw error(layer, pass: "forward", kind: kind, shape: output.shape)
            }
        }
    }

    /// Checks the gradient `operation`'s backward pass produced for one of its inputs.
    static func checkBackward(_ operation: String, _ gradient: Tensor) throws {
        try throwIfPending()
        if let kind = nonFiniteKind(gradient) {
            throw error(operation, pass: "backward", kind: kind, shape: gradient.shape)
        }
    }
}

extension Peregrine {
    /// Checks every recorded operation's output and every gradient for NaN and Inf, in every
    /// thread (`tf.debugging.enable_check_numerics`); off by default. The first operation that
    /// produces a non-finite value is named in a thrown ``PeregrineError``, with its shape and
    /// pass. ``withNumericsCheck(_:)`` turns it on for one block only.
    ///
    /// ```swift
    /// Peregrine.checkNumerics = true
    /// try model.fit(x, y, epochs: 1)   // throws "dense_1 (forward): expected finite values …"
    /// Peregrine.checkNumerics = false
    /// ```
    public static var checkNumerics: Bool {
        get { NumericsCheck.globallyEnabled.load(ordering: .relaxed) }
        set { NumericsCheck.globallyEnabled.store(newValue, ordering: .relaxed) }
    }
}

/// Runs `body` with the numerics check on for the current task (see ``Peregrine/checkNumerics``)
/// and throws a ``PeregrineError`` naming the first operation that produced a NaN or Inf.
///
/// ```swift
/// do {
///     let y = try withNumericsCheck { try model.predict(x) }
/// } catch {
///     print(error)   // "dense_1 (forward): expected finite values (numerics check), got Inf in a tensor of shape [4, 3]"
/// }
/// ```
public func withNumericsCheck<R>(_ body: () throws -> R) throws -> R {
    NumericsCheck.clear()
    return try NumericsCheck.$scoped.withValue(true) {
        do {
            let result = try body()
            try NumericsCheck.throwIfPending()
            return result
        } catch {
            NumericsCheck.clear()
            throw error
        }
    }
}
