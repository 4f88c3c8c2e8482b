//! CSV for exports that supervisors open in a spreadsheet: RFC 4180 quoting, UTF-8 with a
//! byte-order mark (so a spreadsheet reads Chinese names right), and no formulas: a cell
//! that a spreadsheet would run (`=`, `+`, `-`, `@`, tab, carriage return first) gets a
//! leading `'`, because customer text and subjects end up in these files.

/// The byte-order mark a UTF-8 CSV file starts with.
pub const BOM: &str = "\u{feff}";

/// One cell, quoted when needed and never a formula.
pub fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One line: the cells joined, ending in CRLF.
pub fn row<S: AsRef<str>>(cells: &[S]) -> String {
    let mut line = cells.iter().map(|c| cell(c.as_ref())).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(cell("+8613800138000"), "'+8613800138000");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("退款"), "退款");
        assert_eq!(row(&["2026-12-04", "alice", "3"]), "2026-12-04,alice,3\r\n");
    }
}
