/// Rows of text in aligned columns, the way the `cairn` CLI prints lists:
///
/// ```
/// Node  Address    Status
/// n1    127.0.0.1  alive
/// n2    127.0.0.2  unreachable
/// ```
///
/// Every column but the last is padded to its widest cell (header included) plus two spaces;
/// the last is not padded, so lines carry no trailing spaces. Widths count characters
/// (extended grapheme clusters). A row with fewer cells than the header is filled with empty
/// cells; extra cells are ignored.
public struct TextTable: Sendable, Hashable {
    /// The column titles.
    public var header: [String]
    /// The rows, each a list of cells.
    public var rows: [[String]]

    /// Creates a table.
    public init(header: [String], rows: [[String]] = []) {
        self.header = header
        self.rows = rows
    }

    /// Adds a row.
    public mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The table's lines, header first, each ending with a newline.
    public func rendered() -> String {
        let columns = header.count
        let cells = ([header] + rows).map { row in
            (0..<columns).map { $0 < row.count ? row[$0] : "" }
        }
        var widths = [Int](repeating: 0, count: columns)
        for row in cells {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for row in cells {
            for (i, cell) in row.enumerated() {
                out += cell
                if i < columns - 1 { out += String(repeating: " ", count: widths[i] - cell.count + 2) }
            }
            out += "\n"
        }
        return out
    }
}
