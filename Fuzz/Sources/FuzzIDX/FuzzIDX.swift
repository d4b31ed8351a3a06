// libFuzzer entry point for the IDX reader: any bytes must give a tensor or a PeregrineError —
// never a crash, a hang, a sanitizer report or an allocation beyond what the input justifies.
import CZlib
import FuzzMain  // the entry point that starts libFuzzer
import Peregrine

/// Options from the first input byte, so that one corpus covers them all:
/// bit 0: require a rank (bit 1 picks 3, else 1); bit 2: a limit of `byte >> 3 & 0xF`;
/// bit 7: gzip the rest before decoding, so that the decompressing path sees well-formed gzip
/// around mutated IDX data (mutating gzip bytes directly mostly breaks its checksum).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 1, let data else { return 0 }
    let options = data[0]
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let rank: Int? = options & 1 == 0 ? nil : (options & 2 == 0 ? 1 : 3)
    let limit: Int? = options & 4 == 0 ? nil : Int(options >> 3 & 0xF)
    if options & 0x80 != 0 { bytes = gzip(bytes) }
    do {
        let x = try IDXFile.decode(bytes, name: "fuzz", rank: rank, limit: limit, scale: 1 / 255)
        // A decoded tensor is consistent: its rank is the header's, every element a scaled byte.
        if let rank, x.rank != rank { fatalError("rank \(x.rank) for a rank-\(rank) request") }
        if let limit, x.shape[0] > limit { fatalError("shape \(x.shape) beyond limit \(limit)") }
        if x.scalarCount > bytes.count * 1100 { fatalError("\(x.scalarCount) elements from \(bytes.count) bytes") }
        if !x.scalars.allSatisfy({ $0 >= 0 && $0 <= 1 }) { fatalError("a pixel outside [0, 1]") }
    } catch is PeregrineError {
        // Rejected with a message: the expected outcome for most inputs.
    } catch {
        fatalError("IDXFile.decode threw a non-Peregrine error: \(error)")
    }
    return 0
}

/// `bytes` as a gzip stream (zlib's deflate with the gzip wrapper).
func gzip(_ bytes: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                        zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
    else { fatalError("deflateInit2 failed") }
    defer { deflateEnd(&stream) }
    var input = bytes
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
    let produced = input.withUnsafeMutableBufferPointer { src in
        output.withUnsafeMutableBufferPointer { dst in
            stream.next_in = src.baseAddress
            stream.avail_in = UInt32(src.count)
            stream.next_out = dst.baseAddress
            stream.avail_out = UInt32(dst.count)
            guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { fatalError("deflate did not finish") }
            return dst.count - Int(stream.avail_out)
        }
    }
    return Array(output[..<produced])
}
