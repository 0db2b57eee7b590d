//! Figures laid out as titled tables: the plain data every renderer of a report (terminal,
//! Markdown, HTML) shows the same way. Systems describe their own report sections with
//! these, so no renderer needs to know a system. Every figure is formatted once, at a
//! fixed precision: seconds and milliseconds with 3 decimals, ratios with 6.

/// How a column's cells line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table: a header row and rows of already formatted cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<(&'static str, Align)>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[(&'static str, Align)]) -> Self {
        Table { columns: columns.to_vec(), rows: Vec::new() }
    }

    /// A two-column table of named figures.
    pub fn figures() -> Self {
        Table::new(&[("figure", Align::Left), ("value", Align::Right)])
    }

    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(cells.len(), self.columns.len(), "a row has one cell per column");
        self.rows.push(cells);
    }

    pub fn figure(&mut self, name: &str, value: impl Into<String>) {
        self.row(vec![name.to_string(), value.into()]);
    }
}

/// One piece of a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Table(Table),
    /// A sentence of plain text.
    Note(String),
    /// Where the plots go (the HTML page inlines them; the Markdown links them).
    Plots,
}

/// A titled part of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub title: &'static str,
    pub blocks: Vec<Block>,
}

/// A float at `decimals` places, never "-0.000".
pub fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// Seconds (or milliseconds) at 3 decimals.
pub fn secs(x: f64) -> String {
    fixed(x, 3)
}

/// A share of 1 at 6 decimals.
pub fn ratio(x: f64) -> String {
    fixed(x, 6)
}

/// "yes" or "no".
pub fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}
