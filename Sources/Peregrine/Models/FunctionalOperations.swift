/// Keras's `layers.concatenate(inputs, axis=-1)`: a ``Concatenate`` layer applied to symbolic
/// tensors, for the functional API.
///
/// ```swift
/// let merged = try concatenate([try Dense(units: 2)(a), try Dense(units: 3)(b)])   // shape [5]
/// ```
public func concatenate(_ inputs: [SymbolicTensor], axis: Int = -1, name: String? = nil) throws -> SymbolicTensor {
    try Concatenate(axis: axis, name: name)(inputs)[0]
}

/// Keras's `layers.add(inputs)`: an ``Add`` layer applied to symbolic tensors.
///
/// ```swift
/// let residual = try add([x, try Dense(units: 64)(x)])
/// ```
public func add(_ inputs: [SymbolicTensor], name: String? = nil) throws -> SymbolicTensor {
    try Add(name: name)(inputs)[0]
}
