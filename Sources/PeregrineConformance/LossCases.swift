/// `kind: "loss"`: Keras's losses and their gradients.
enum LossCases {
    static func run(_ c: ReferenceCase) throws -> CaseResult {
        .skip("losses are not built yet")
    }
}
