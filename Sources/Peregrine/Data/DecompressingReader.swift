import CZlib

/// Reads bytes that may be gzip-compressed: gzip input (magic `1f 8b`) is inflated with zlib,
/// anything else is passed through. Internal: the IDX reader's input.
///
/// Decompression is streamed, so a reader asks for only the bytes it needs: a corrupt header
/// that declares gigabytes never makes anyone allocate them, because data is produced only as
/// far as the compressed input really goes. Concatenated gzip members are read as one stream
/// (as `gunzip` and zlib's `gzread` do).
final class DecompressingReader {
    /// A failure to decode the input, in words.
    struct Failure: Error {
        let message: String
    }

    private let input: [UInt8]
    private var inputOffset = 0          // raw mode: next byte; gzip mode: next byte to feed zlib
    private let compressed: Bool
    private var stream = z_stream()
    private var streamReady = false
    private var finished = false

    /// Whether the input is gzip data.
    var isCompressed: Bool { compressed }

    init(_ input: [UInt8]) throws(Failure) {
        self.input = input
        compressed = input.count >= 2 && input[0] == 0x1F && input[1] == 0x8B
        if compressed {
            // 15 + 16: a 32 KiB window, gzip wrapper only.
            let status = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else { throw Failure(message: "zlib could not start (status \(status))") }
            streamReady = true
        }
    }

    deinit {
        if streamReady { inflateEnd(&stream) }
    }

    /// Fills `buffer` as far as the input goes; returns the number of bytes written, less than
    /// `buffer.count` only at the end of the data. Throws on corrupt gzip data.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Failure) -> Int {
        guard buffer.count > 0 else { return 0 }
        if !compressed {
            let n = min(buffer.count, input.count - inputOffset)
            input.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + inputOffset, byteCount: n)
            }
            inputOffset += n
            return n
        }
        var produced = 0
        while produced < buffer.count && !finished {
            let outChunk = min(buffer.count - produced, 1 << 30)
            let (status, written) = input.withUnsafeBytes { src -> (Int32, Int) in
                if stream.avail_in == 0 {
                    let inChunk = min(input.count - inputOffset, 1 << 30)
                    stream.next_in = UnsafeMutablePointer(
                        mutating: src.baseAddress!.assumingMemoryBound(to: UInt8.self) + inputOffset)
                    stream.avail_in = UInt32(inChunk)
                    inputOffset += inChunk
                } else {
                    // Re-derive the pointer: the array's buffer is only valid inside this closure.
                    let consumedSoFar = inputOffset - Int(stream.avail_in)
                    stream.next_in = UnsafeMutablePointer(
                        mutating: src.baseAddress!.assumingMemoryBound(to: UInt8.self) + consumedSoFar)
                }
                stream.next_out = (buffer.baseAddress! + produced).assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(outChunk)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (status, outChunk - Int(stream.avail_out))
            }
            produced += written
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                // Another gzip member may follow; anything else after the stream is ignored.
                let next = inputOffset - Int(stream.avail_in)
                if input.count - next >= 2 && input[next] == 0x1F && input[next + 1] == 0x8B {
                    inflateReset(&stream)
                } else {
                    finished = true
                }
            case Z_BUF_ERROR where stream.avail_in == 0 && inputOffset < input.count:
                continue   // zlib wants more input: the next round feeds it
            case Z_BUF_ERROR:
                throw Failure(message: "the gzip data ends early (truncated file)")
            default:
                let detail = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                throw Failure(message: "corrupt gzip data (\(detail))")
            }
        }
        return produced
    }
}
