/// Durations written the way Consul (and Go's `time.ParseDuration`) writes them: a sequence of
/// decimal numbers, each with a unit — `10s`, `1m`, `1m30s`, `500ms`, `1.5h`, `250us`.
/// Units: `h`, `m`, `s`, `ms`, `us` (or `µs`), `ns`. A bare `0` is zero; negative durations are
/// refused.
public enum ConsulDuration {
    private static let units: [(name: String, nanoseconds: UInt64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    /// Parses `text`; `field` names where it came from, for the error.
    ///
    /// - Throws: ``DefinitionError`` with code ``DefinitionError/Code/invalidDuration``.
    public static func parse(_ text: String, field: String = "") throws(DefinitionError) -> Duration {
        let nanoseconds = try parseNanoseconds(text, field: field)
        return .nanoseconds(Int64(nanoseconds))
    }

    /// Parses `text` into whole milliseconds, rounding a non-zero remainder up (so `500us`
    /// becomes 1 ms, never 0).
    public static func milliseconds(_ text: String, field: String = "") throws(DefinitionError) -> UInt64 {
        let nanoseconds = try parseNanoseconds(text, field: field)
        return nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 == 0 ? 0 : 1)
    }

    /// Writes `milliseconds` compactly in the same syntax: `0s`, `500ms`, `1.5s`, `10s`,
    /// `1m30s`, `2h`, `1h0m5s`.
    public static func format(milliseconds: UInt64) -> String {
        if milliseconds == 0 { return "0s" }
        if milliseconds < 1_000 { return "\(milliseconds)ms" }
        let totalSeconds = milliseconds / 1_000
        let millis = milliseconds % 1_000
        if millis != 0 && totalSeconds < 60 { return "\(totalSeconds).\(fractionDigits(millis))s" }
        let hours = totalSeconds / 3_600
        let minutes = (totalSeconds % 3_600) / 60
        let seconds = totalSeconds % 60
        var text = ""
        if hours > 0 { text += "\(hours)h" }
        if minutes > 0 || (hours > 0 && (seconds > 0 || millis > 0)) { text += "\(minutes)m" }
        if seconds > 0 || millis > 0 {
            text += millis > 0 ? "\(seconds).\(fractionDigits(millis))s" : "\(seconds)s"
        }
        return text
    }

    /// Writes `duration` as ``format(milliseconds:)`` does (rounded down to milliseconds).
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return "0s" }
        return format(milliseconds: UInt64(seconds) * 1_000 + UInt64(attoseconds / 1_000_000_000_000_000))
    }

    private static func parseNanoseconds(_ text: String, field: String) throws(DefinitionError) -> UInt64 {
        func failure(_ why: String) -> DefinitionError {
            DefinitionError(.invalidDuration, field: field,
                            "\(field.isEmpty ? "" : "\(field): ")\"\(text)\" is not a duration: \(why) (write e.g. 10s, 1m30s, 500ms, 1h)")
        }
        var rest = Substring(text.trimmingWhitespace())
        if rest.isEmpty { throw failure("it is empty") }
        if rest == "0" { return 0 }
        if rest.hasPrefix("-") { throw failure("it is negative") }
        if rest.hasPrefix("+") { rest = rest.dropFirst() }
        var total: UInt64 = 0
        // Bounded: each pass consumes at least one character or throws.
        while !rest.isEmpty {
            let whole = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(whole.count)
            var fraction: Substring = ""
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                fraction = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(fraction.count)
            }
            if whole.isEmpty && fraction.isEmpty { throw failure("expected a number at \"\(rest)\"") }
            let unitText = rest.prefix { !($0.isASCII && $0.isNumber) && $0 != "." }
            rest = rest.dropFirst(unitText.count)
            if unitText.isEmpty { throw failure("a number has no unit") }
            guard let unit = units.first(where: { $0.name == unitText })?.nanoseconds else {
                throw failure("unknown unit \"\(unitText)\"")
            }
            guard let wholeValue = whole.isEmpty ? 0 : UInt64(whole) else { throw failure("a number is too large") }
            let (scaled, overflow) = wholeValue.multipliedReportingOverflow(by: unit)
            if overflow { throw failure("it is too long") }
            var part = scaled
            if !fraction.isEmpty {
                // Up to 18 fraction digits keep the arithmetic exact enough for nanoseconds.
                let digits = fraction.prefix(18)
                let numerator = Double(UInt64(digits) ?? 0)
                let denominator = pow10(digits.count)
                part = part &+ UInt64((numerator / denominator * Double(unit)).rounded())
            }
            let (sum, sumOverflow) = total.addingReportingOverflow(part)
            if sumOverflow || sum > UInt64(Int64.max) { throw failure("it is too long") }
            total = sum
        }
        return total
    }

    /// `millis` (1–999) as the digits after a decimal point, without trailing zeros.
    private static func fractionDigits(_ millis: UInt64) -> String {
        var digits = String(millis)
        digits = String(repeating: "0", count: max(0, 3 - digits.count)) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return digits
    }

    private static func pow10(_ n: Int) -> Double {
        var value = 1.0
        for _ in 0..<n { value *= 10 }
        return value
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    fileprivate func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s.removeFirst() }
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return s
    }
}
