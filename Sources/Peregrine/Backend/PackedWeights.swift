import CKernels

/// Weights packed once for the GEMM, for the length of one `predict` or `evaluate` call.
///
/// During inference a Dense layer's kernel is the B operand of every batch's product and does
/// not change between batches. The GEMM would pack it again on each call (a kernel of 512 units
/// has rows 2 KiB apart, which it packs to avoid cache-set aliasing); inside a scope it is packed
/// on first use into the micro-kernel's panels (`ck_sgemm_pack_b`) and every later batch reads
/// those (`ck_sgemm_packed_b_bias_act`). The scope holds the packed copies and drops them when
/// the call returns, so a weight updated by training afterwards can never meet a stale copy.
///
/// ```swift
/// let outputs = try PackedWeights.withScope(batches: 40) { try model(batch, training: false) }
/// ```
final class PackedWeights: @unchecked Sendable {
    /// The scope of the call in progress on this task, if any.
    @TaskLocal static var current: PackedWeights?

    /// Packed copies by the address of the weights they were made from, each with those
    /// weights: they stay alive (and at their addresses) while the scope lasts.
    private var packed: [UnsafeRawPointer: (source: Tensor, copy: Tensor)] = [:]

    /// Packed copies made so far (for the tests).
    var packedCount: Int { packed.count }

    /// Runs `body` in a scope when packing pays: more than one batch on the native GEMM (one
    /// batch packs its operands inside the GEMM anyway).
    static func withScope<T>(batches: Int, _ body: () throws -> T) rethrows -> T {
        guard batches > 1, GEMM.backend == .native else { return try body() }
        return try $current.withValue(PackedWeights(), operation: body)
    }

    /// `y = act(x · weights + bias)` for `x` `[rows, k]` and `weights` `[k, n]` (contiguous),
    /// with the weights packed on first use. False, with nothing written, when the plain GEMM
    /// should run instead: at most 4 rows (its matrix-vector path is faster), or a refusal.
    func affine(
        _ x: Tensor, rows: Int, weights: Tensor, k: Int, n: Int, bias: UnsafePointer<Float>?,
        activation: ck_activation, into y: Tensor
    ) -> Bool {
        guard rows > 4, k > 0, let packed = packedB(weights, k: k, n: n) else { return false }
        return ck_sgemm_packed_b_bias_act(
            0, Int32(rows), Int32(n), Int32(k), 1, x.pointer, Int32(k), packed.pointer, 0, y.pointer,
            Int32(n), bias, activation) == 0
    }

    /// `weights` `[k, n]` (row-major, contiguous) packed as the B of `x·weights`, made on first
    /// use; nil when the kernels refuse it.
    private func packedB(_ weights: Tensor, k: Int, n: Int) -> Tensor? {
        let key = UnsafeRawPointer(weights.pointer)
        if let hit = packed[key] { return hit.copy }
        let floats = ck_sgemm_packed_b_size(Int32(k), Int32(n))
        let buffer = Tensor(uninitializedShape: [floats])
        guard ck_sgemm_pack_b(0, Int32(k), Int32(n), weights.pointer, Int32(n), buffer.pointer) == 0 else {
            return nil
        }
        packed[key] = (weights, buffer)
        return buffer
    }
}
