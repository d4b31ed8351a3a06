/// Peregrine: Keras's programming model in Swift, over hand-written C kernels.
///
/// ```swift
/// import Peregrine
/// print(Peregrine.version)   // "0.1.0"
/// ```
public enum Peregrine {
    /// The library's semantic version, the same as the git tag it is released under.
    public static let version = "0.1.0"
}
