#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Keras's progress bar for `fit`, `evaluate` and `predict`:
/// `3/3 ━━━━━━━━━━━━━━━━━━━━ 1s 93ms/step - accuracy: 0.0750 - loss: 0.7203`.
/// On a terminal it redraws in place after each step (with the ETA while running); otherwise it
/// writes only the final line of each epoch, so logs stay readable.
final class ProgressBar {
    let target: Int
    let interactive: Bool
    let perEpochLine: Bool  // verbose 2: `2/2 - 1s - 585ms/step - loss: …`
    private let start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private let write: (String) -> Void

    init(target: Int, verbose: Int, write: @escaping (String) -> Void = ProgressBar.standardOutput) {
        self.target = target
        self.perEpochLine = verbose == 2
        self.interactive = verbose == 1 && isatty(STDOUT_FILENO) != 0
        self.write = write
    }

    /// Through `print`'s stream, flushed, so that the bar and `print` keep their order when piped.
    static func standardOutput(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }

    /// Step `current` of `target` is done; `values` are the logs so far.
    func update(_ current: Int, values: [String: Float], finalize: Bool = false) {
        let now = ContinuousClock.now
        let elapsed = (now - start).seconds
        let isLast = finalize || current >= target
        if interactive && !isLast && (now - lastDraw).seconds < 0.05 { return }
        lastDraw = now
        let perStep = current > 0 ? elapsed / Double(current) : 0
        let counter = String(current).leftPadded(to: String(target).count) + "/\(target)"
        let metrics = Self.format(values)
        var line: String
        if perEpochLine {
            guard isLast else { return }
            line = "\(counter) - \(String(format: "%.0f", elapsed))s -\(Self.formatStepTime(perStep))\(metrics)"
        } else {
            let done = target > 0 ? Int(Double(20 * current) / Double(target)) : 20
            let bar: String
            if interactive {
                bar = "\u{1B}[32m" + String(repeating: "━", count: done) + "\u{1B}[0m\u{1B}[37m"
                    + String(repeating: "━", count: 20 - done) + "\u{1B}[0m"
            } else {
                bar = String(repeating: "━", count: 20)
            }
            let time: String
            if isLast {
                time = String(format: "%.0fs", elapsed)
            } else {
                let eta = perStep * Double(target - current)
                time = eta > 3600 ? String(format: "%d:%02d:%02d", Int(eta) / 3600, (Int(eta) % 3600) / 60, Int(eta) % 60)
                    : eta > 60 ? String(format: "%d:%02d", Int(eta) / 60, Int(eta) % 60) : String(format: "%ds", Int(eta))
            }
            line = "\(counter) \(bar) \(time)\(Self.formatStepTime(perStep))\(metrics)"
        }
        if interactive {
            write("\r\u{1B}[K" + line + (isLast ? "\n" : ""))
        } else if isLast {
            write(line + "\n")
        }
    }

    /// ` 93ms/step`, ` 1s/step` or ` 850us/step`, Keras's units.
    static func formatStepTime(_ seconds: Double) -> String {
        if seconds >= 1 || seconds == 0 { return String(format: " %.0fs/step", seconds) }
        if seconds >= 1e-3 { return String(format: " %.0fms/step", seconds * 1e3) }
        return String(format: " %.0fus/step", seconds * 1e6)
    }

    /// ` - key: value` in ASCII order; `%.4f`, or `%.4e` for |v| ≤ 1e-3.
    static func format(_ values: [String: Float]) -> String {
        values.keys.sorted().map { key in
            let v = values[key]!
            return " - \(key): " + (Swift.abs(v) > 1e-3 ? String(format: "%.4f", v) : String(format: "%.4e", v))
        }.joined()
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
