/// `kind: "op"`: Tensor operations and their gradients.
enum OpCases {
    static func run(_ c: ReferenceCase) throws -> CaseResult {
        .skip("differentiable ops are not wired to the tape yet")
    }
}
