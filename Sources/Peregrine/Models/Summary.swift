#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `model.summary()`: Keras's table, character for character (KERAS_SPEC §7).
extension Model {
    /// Prints the summary: layers, output shapes, parameter counts (and, for a functional model
    /// that is not a simple chain, what each layer is connected to), then the totals.
    ///
    /// The width is Keras's: min(88, or 108 with "Connected to", terminal columns − 4), the
    /// terminal's columns taken from `COLUMNS` or the tty, else 80 — or `lineLength` when given.
    ///
    /// ```swift
    /// model.summary()
    /// model.summary(lineLength: 120) { log.info("\($0)") }
    /// ```
    public func summary(lineLength: Int? = nil, print write: (String) -> Void = { Swift.print($0) }) {
        for line in summaryLines(lineLength: lineLength) { write(line) }
    }

    /// The summary as text, one line per element.
    ///
    /// ```swift
    /// let text = model.summaryLines().joined(separator: "\n")
    /// ```
    public func summaryLines(lineLength: Int? = nil) -> [String] {
        let chainLike = isChainLike
        let columns = chainLike
            ? ["Layer (type)", "Output Shape", "Param #"]
            : ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        let positions = chainLike ? [0.45, 0.80, 1.0] : [0.3, 0.56, 0.74, 1.0]
        let preferred = chainLike ? 88 : 108
        let width = lineLength ?? Swift.min(preferred, terminalColumns() - 4)
        let widths = SummaryTable.columnWidths(positions: positions, lineLength: width)

        var rows: [[String]] = []
        let sequentialShapes = (self as? Sequential)?.layerOutputShapes()
        for (index, layer) in layers.enumerated() {
            let type = type(of: layer).kerasClassName
            let shape: String
            if let sequentialShapes {
                shape = sequentialShapes[index].map(formatBatchShape) ?? "?"
            } else if let node = layer.inboundNodes.first(where: { node in executionOrder.contains { $0 === node } || inputs.contains { $0.node === node } }) {
                shape = node.outputShapes.count == 1
                    ? formatBatchShape(node.outputShapes[0])
                    : "[" + node.outputShapes.map(formatBatchShape).joined(separator: ", ") + "]"
            } else {
                shape = "?"
            }
            let params = layer.isBuilt ? layer.countParams().formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))) : "0 (unbuilt)"
            var row = ["\(layer.name) (\(type))", shape, params]
            if !chainLike {
                let nodes = layer.inboundNodes.filter { node in executionOrder.contains { $0 === node } }
                let sources = nodes.flatMap { $0.inputs.map(\.reference) }
                row.append(sources.isEmpty ? "-" : sources.joined(separator: ", "))
            }
            rows.append(row)
        }

        var lines = ["Model: \"\(name)\""]
        lines += SummaryTable.render(header: columns, rows: rows, widths: widths, rightAligned: [2])
        let total = weights.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let trainableCount = trainableWeights.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let optimizerCount = training?.optimizer.variableCount ?? 0
        func line(_ label: String, _ count: Int) -> String {
            " \(label): \(count.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))) (\(readableSize(count * 4)))"
        }
        lines.append(line("Total params", total + optimizerCount))
        lines.append(line("Trainable params", trainableCount))
        lines.append(line("Non-trainable params", total - trainableCount))
        if optimizerCount > 0 { lines.append(line("Optimizer params", optimizerCount)) }
        return lines
    }

    /// Whether Keras would print this model with three columns: Sequential, or a functional
    /// graph where every call has one input and every layer is called once.
    var isChainLike: Bool {
        if self is Sequential { return true }
        for node in executionOrder where node.inputs.count > 1 { return false }
        var consumers: [SymbolicTensor.ID: Int] = [:]
        for node in executionOrder {
            for input in node.inputs { consumers[input.id, default: 0] += 1 }
        }
        if consumers.values.contains(where: { $0 > 1 }) || inputs.count > 1 || outputs.count > 1 { return false }
        return Set(executionOrder.map { ObjectIdentifier($0.layer) }).count == executionOrder.count
    }
}

/// Keras's `readable_memory_size`: `256.00 B`, `213.04 KB`, base 1024.
func readableSize(_ bytes: Int) -> String {
    var size = Double(bytes)
    for unit in ["B", "KB", "MB", "GB", "TB"] {
        if size / 1024 < 1 { return String(format: "%.2f %@", size, unit) }
        size /= 1024
    }
    return String(format: "%.2f PB", size)
}

/// The terminal's width: `COLUMNS`, else the tty's, else 80 (so output to a file is 76 wide).
func terminalColumns() -> Int {
    if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text), columns > 0 {
        return columns
    }
    var size = winsize()
    if isatty(STDOUT_FILENO) != 0, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
        return Int(size.ws_col)
    }
    return 80
}

/// The box-drawn table `rich` draws for Keras's summary.
enum SummaryTable {
    /// rich's column widths: each position's share of the line plus 2, then the excess over the
    /// line (minus the borders) taken away from left to right in banker's-rounded shares.
    static func columnWidths(positions: [Double], lineLength: Int) -> [Int] {
        var previous = 0
        var widths: [Int] = []
        for p in positions {
            let edge = Int(p * Double(lineLength))
            widths.append(edge - previous + 2)
            previous = edge
        }
        var excess = widths.reduce(0, +) - (lineLength - (positions.count + 1))
        for i in widths.indices where excess > 0 {
            let remaining = widths.count - i
            let cut = Int((Double(excess) / Double(remaining)).rounded(.toNearestOrEven))
            widths[i] -= cut
            excess -= cut
        }
        return widths
    }

    /// The table's lines: heavy header box, body rows separated by light rules.
    static func render(header: [String], rows: [[String]], widths: [Int], rightAligned: Set<Int>) -> [String] {
        func rule(_ left: String, _ fill: String, _ middle: String, _ right: String) -> String {
            left + widths.map { String(repeating: fill, count: $0) }.joined(separator: middle) + right
        }
        func cells(_ row: [String], _ bar: String) -> [String] {
            let wrapped = row.enumerated().map { wrap($1, width: widths[$0] - 2) }
            let height = wrapped.map(\.count).max() ?? 1
            return (0..<height).map { line in
                bar + wrapped.enumerated().map { column, text in
                    let content = line < text.count ? text[line] : ""
                    let pad = String(repeating: " ", count: Swift.max(0, widths[column] - 2 - content.count))
                    return " " + (rightAligned.contains(column) ? pad + content : content + pad) + " "
                }.joined(separator: bar) + bar
            }
        }
        var lines = [rule("┏", "━", "┳", "┓")]
        lines += cells(header, "┃")
        lines.append(rule("┡", "━", "╇", "┩"))
        for (index, row) in rows.enumerated() {
            if index > 0 { lines.append(rule("├", "─", "┼", "┤")) }
            lines += cells(row, "│")
        }
        lines.append(rule("└", "─", "┴", "┘"))
        return lines
    }

    /// Greedy word wrap at spaces; a word longer than the width is cut and ends in `…`.
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [""] }
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            let fitted = word.count > width ? String(word.prefix(width - 1)) + "…" : word
            if current.isEmpty {
                current = fitted
            } else if current.count + 1 + fitted.count <= width {
                current += " " + fitted
            } else {
                lines.append(current)
                current = fitted
            }
        }
        lines.append(current)
        return lines
    }
}
