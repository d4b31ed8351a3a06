/// A named tensor that a model owns and an optimizer updates: Keras's `Variable`.
///
/// A variable is a reference: layers, optimizers and tapes all see the same one. Trainable
/// variables read inside a ``GradientTape`` are watched automatically; non-trainable ones
/// (batch-norm statistics) never are.
///
/// ```swift
/// let w = Variable(try Tensor.ones([3, 2]), name: "kernel")
/// try w.assign(try Tensor.zeros([3, 2]))
/// w.value.scalars   // [0, 0, 0, 0, 0, 0]
/// ```
public final class Variable: @unchecked Sendable {
    // @unchecked: like a Keras variable, a Variable is shared mutable state by design (an
    // optimizer assigns it while a model reads it). Reads and writes of `storedValue` are not
    // synchronised; a model trained on one thread and read on another must order them itself.

    /// The variable's name, e.g. `kernel`.
    public let name: String

    /// Keras's weight path, `layer/name` (e.g. `dense/kernel`) for a layer's weight, else the name.
    public internal(set) var path: String

    /// Whether optimizers update it and tapes watch it.
    public var trainable: Bool

    private var storedValue: Tensor

    /// A variable holding a private copy of `initialValue`.
    ///
    /// ```swift
    /// let b = Variable(try Tensor.zeros([1, 2]), name: "bias")
    /// ```
    public init(_ initialValue: Tensor, name: String = "variable", trainable: Bool = true) {
        self.name = name
        self.path = name
        self.trainable = trainable
        // A private copy: the caller's tensor stays a constant even after the variable changes,
        // and the variable's storage identity is its own (tapes key leaves on it).
        self.storedValue = initialValue.detached()
    }

    /// The current value. Reading it inside an active ``GradientTape`` watches the variable
    /// when it is trainable.
    ///
    /// ```swift
    /// let y = try matmul(x, w.value)
    /// ```
    public var value: Tensor {
        GradientTape.noteRead(of: self)
        return storedValue
    }

    /// The value without telling any tape (optimizers, saving, printing).
    var untrackedValue: Tensor { storedValue }

    /// The shape, fixed at creation.
    public var shape: [Int] { storedValue.shape }

    /// Replaces the value; the shape must stay the same.
    ///
    /// ```swift
    /// try w.assign(try Tensor.zeros([3, 2]))
    /// ```
    public func assign(_ newValue: Tensor) throws {
        guard newValue.shape == storedValue.shape else {
            throw PeregrineError.shapeMismatch(
                operation: "Variable '\(name)'.assign", expected: storedValue.shape,
                actual: newValue.shape)
        }
        storedValue = newValue.detached()
    }

    /// Runs `body` on the variable's elements in place (the optimizers' fused updates).
    /// Copies first if a tensor returned by `value` still shares the storage, so values read
    /// earlier never change under their readers.
    func updateInPlace(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        storedValue.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}

extension Tensor {
    /// A copy with storage of its own (a new identity for tapes).
    func detached() -> Tensor {
        Tensor(shape: shape, storage: storage.copy())
    }
}
