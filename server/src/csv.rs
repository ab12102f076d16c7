//! Just enough CSV (RFC 4180) for the admin's imports and exports: quoted fields, doubled
//! quotes, CRLF or LF line ends.

/// Why a CSV file could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// A quoted field runs to the end of the file.
    #[error("unterminated quoted field starting on line {0}")]
    Unterminated(usize),
}

/// Parses `text` into rows of fields. Empty lines are skipped.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut line = 1;
    let mut quote_line = 0;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                quote_line = line;
            }
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                line += 1;
                row.push(std::mem::take(&mut field));
                if !(row.len() == 1 && row[0].is_empty()) {
                    rows.push(std::mem::take(&mut row));
                }
                row.clear();
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvError::Unterminated(quote_line));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// One field, quoted when it needs to be. Fields starting with `=`, `+`, `-` or `@` get a
/// leading apostrophe so a spreadsheet does not run them as formulas.
pub fn field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One line of fields, ending in CRLF.
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out = fields
        .iter()
        .map(|f| field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_with_commas_and_quotes_are_read() {
        let rows = parse("name,admin_area\r\n\"Kaya, North\",\"The \"\"Hill\"\"\"\n\nB,C").ok();
        assert_eq!(
            rows,
            Some(vec![
                vec!["name".to_owned(), "admin_area".to_owned()],
                vec!["Kaya, North".to_owned(), "The \"Hill\"".to_owned()],
                vec!["B".to_owned(), "C".to_owned()],
            ])
        );
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert_eq!(parse("a,\"b\nc"), Err(CsvError::Unterminated(1)));
    }

    #[test]
    fn written_fields_round_trip_and_formulas_are_defused() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(field("-3"), "-3");
    }
}
