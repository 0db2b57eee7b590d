//! Source locations for values inside RON scenario text.
//!
//! `ron` reports positions only for syntax and deserialization errors. Cross-field validation runs
//! after deserialization, so this module re-reads the raw text with a small, tolerant parser and
//! maps a validation path such as `faults[2].do.groups[1][0]` back to a 1-based line and column.
//!
//! Owns: path syntax (`.field`, `[index]`, root = `""`), the tolerant RON skim, and the fallback rules.
//!
//! Guarantees:
//! - [`locate`] never panics and never overflows the stack, whatever the text or path (nesting
//!   beyond [`MAX_DEPTH`] is skimmed, not descended).
//! - The result points at the first character of the value (`"` of a string, the name of a named
//!   struct, `(`/`[`/`{` of an anonymous one); columns count `char`s, like `ron::Position`.
//! - An absent path yields the deepest ancestor that was found; an unusable text yields 1:1.
//!
//! Limits:
//! - It is a locator, not a validator: malformed text is skimmed on a best-effort basis.
//! - Named wrappers with one positional element (`Crash("n1")`, `Some(x)`, `System((..))`) are
//!   transparent for `.field` lookups, and for `[i]` when their element is itself a list or tuple.
//! - Map keys are matched by their source text without quotes (escapes are not decoded), so keys
//!   containing `.` or `[` cannot be addressed; the path stops at the map.
//! - The first of duplicate keys wins.

/// Nesting depth beyond which values are skimmed rather than parsed (guards the stack).
pub const MAX_DEPTH: usize = 200;

/// 1-based line and column (column counts chars, like ron's Position).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub col: usize,
}

/// Where the value at `path` starts in `text`, or the nearest existing ancestor's location
/// if the exact path is absent (e.g. a field omitted and defaulted). Never panics, whatever the text.
///
/// The root path `""` is the top-level value (after any `#![enable(..)]` attributes and comments);
/// fields of a top-level `Scenario(..)` are addressed directly (`name`, `faults[0].at`).
pub fn locate(text: &str, path: &str) -> Location {
    let chars: Vec<char> = text.chars().collect();
    let root = Parser { s: &chars, pos: 0 }.document();
    let idx = root.map_or(0, |root| resolve(&root, &parse_path(path)));
    location_at(&chars, idx)
}

/// One step of a path.
#[derive(Debug, PartialEq, Eq)]
enum Seg {
    Field(String),
    Index(usize),
}

/// Splits `a.b[1][2].c` into segments; stops (keeping what it has) at a malformed index.
fn parse_path(path: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut rest = path.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let Some((num, tail)) = after.split_once(']') else {
                break;
            };
            let Ok(i) = num.trim().parse() else { break };
            segs.push(Seg::Index(i));
            rest = tail;
        } else {
            let body = rest.strip_prefix('.').unwrap_or(rest);
            let end = body.find(['.', '[']).unwrap_or(body.len());
            let name = body[..end].trim();
            if !name.is_empty() {
                segs.push(Seg::Field(name.strip_prefix("r#").unwrap_or(name).to_string()));
            }
            rest = &body[end..];
        }
    }
    segs
}

/// Walks `segs` from `root`; returns the char index of the deepest node reached.
fn resolve(root: &Node, segs: &[Seg]) -> usize {
    let mut cur = root;
    for seg in segs {
        let next = match seg {
            Seg::Field(name) => cur.field(name),
            Seg::Index(i) => cur.index(*i),
        };
        match next {
            Some(node) => cur = node,
            None => break,
        }
    }
    cur.start
}

/// 1-based line/column of char index `idx`.
fn location_at(chars: &[char], idx: usize) -> Location {
    let mut loc = Location { line: 1, col: 1 };
    for &c in chars.iter().take(idx) {
        if c == '\n' {
            loc.line += 1;
            loc.col = 1;
        } else {
            loc.col += 1;
        }
    }
    loc
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Number, identifier, string, char, unit-like variant.
    Atom,
    /// `( .. )` or `Name( .. )`: struct, tuple, newtype or enum variant.
    Group,
    /// `[ .. ]`
    List,
    /// `{ .. }`
    Map,
}

#[derive(Debug)]
struct Node {
    /// Char index of the value's first character.
    start: usize,
    kind: Kind,
    /// `Name( .. )` rather than `( .. )`.
    named: bool,
    /// For atoms, the text usable as a key: string contents without quotes, identifiers without `r#`.
    text: String,
    items: Vec<Item>,
}

#[derive(Debug)]
struct Item {
    /// Field name or map key; `None` for positional elements.
    key: Option<String>,
    node: Node,
}

impl Node {
    fn atom(start: usize, text: String) -> Node {
        Node { start, kind: Kind::Atom, named: false, text, items: Vec::new() }
    }

    /// The sole positional element of a wrapper group (`Crash("n1")`, `Some(x)`, `System((..))`).
    fn wrapped(&self) -> Option<&Node> {
        match self.items.as_slice() {
            [Item { key: None, node }] if self.kind == Kind::Group => Some(node),
            _ => None,
        }
    }

    /// A list, or an anonymous tuple: something `[i]` naturally indexes.
    fn is_seq(&self) -> bool {
        match self.kind {
            Kind::List => true,
            Kind::Group => {
                !self.named && !self.items.is_empty() && self.items.iter().all(|i| i.key.is_none())
            }
            _ => false,
        }
    }

    /// `.name`: a field or map key here, else inside a chain of single-element wrappers.
    fn field(&self, name: &str) -> Option<&Node> {
        let mut cur = self;
        loop {
            if let Some(item) = cur.items.iter().find(|it| it.key.as_deref() == Some(name)) {
                return Some(&item.node);
            }
            cur = cur.wrapped()?;
        }
    }

    /// `[i]`: wrappers around a sequence are skipped first; otherwise the i-th element here if it
    /// is positional (not a field), else inside a chain of single-element wrappers.
    fn index(&self, i: usize) -> Option<&Node> {
        let mut cur = self;
        loop {
            let inner = cur.wrapped();
            if let Some(seq) = inner.filter(|n| n.is_seq()) {
                cur = seq;
                continue;
            }
            if let Some(item) = cur.items.get(i).filter(|it| it.key.is_none()) {
                return Some(&item.node);
            }
            cur = inner?;
        }
    }
}

/// Tolerant recursive-descent skim over RON; every step makes progress or returns.
struct Parser<'a> {
    s: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn at(&self, k: usize) -> Option<char> {
        self.s.get(self.pos.saturating_add(k)).copied()
    }

    fn peek(&self) -> Option<char> {
        self.at(0)
    }

    fn bump(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.s.len());
    }

    fn text(&self, from: usize) -> String {
        self.s.get(from..self.pos).unwrap_or_default().iter().collect()
    }

    fn skip_trivia(&mut self) {
        loop {
            match (self.at(0), self.at(1)) {
                (Some(c), _) if c.is_whitespace() => self.bump(1),
                (Some('/'), Some('/')) => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump(1);
                    }
                }
                (Some('/'), Some('*')) => self.skip_block_comment(),
                _ => return,
            }
        }
    }

    /// Skips a `/* .. */` comment, honouring nesting; stops at end of text if unterminated.
    fn skip_block_comment(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match (c, self.at(1)) {
                ('/', Some('*')) => {
                    depth += 1;
                    self.bump(2);
                }
                ('*', Some('/')) => {
                    depth = depth.saturating_sub(1);
                    self.bump(2);
                    if depth == 0 {
                        return;
                    }
                }
                _ => self.bump(1),
            }
        }
    }

    /// Skips `#![enable(..)]` attributes, then parses the top-level value.
    fn document(&mut self) -> Option<Node> {
        loop {
            self.skip_trivia();
            if self.peek() != Some('#') {
                break;
            }
            self.bump(1);
            if self.peek() == Some('!') {
                self.bump(1);
            }
            self.skip_trivia();
            if self.peek() != Some('[') {
                break;
            }
            let _ = self.value(0);
        }
        self.value(0)
    }

    /// Parses one value; returns `None` (consuming nothing) at a closer, `,`, `:` or end of text.
    fn value(&mut self, depth: usize) -> Option<Node> {
        self.skip_trivia();
        let start = self.pos;
        let c = self.peek()?;
        let (kind, close) = match c {
            ')' | ']' | '}' | ',' | ':' => return None,
            _ if depth > MAX_DEPTH => {
                self.bump(1);
                return None;
            }
            '(' => (Kind::Group, ')'),
            '[' => (Kind::List, ']'),
            '{' => (Kind::Map, '}'),
            _ => return Some(self.scalar(depth)),
        };
        self.bump(1);
        let items = self.items(close, depth);
        Some(Node { start, kind, named: false, text: String::new(), items })
    }

    /// Elements up to `close` (consumed if present); a stray closer of another kind ends the list.
    fn items(&mut self, close: char, depth: usize) -> Vec<Item> {
        let mut items = Vec::new();
        loop {
            self.skip_trivia();
            match self.peek() {
                None => break,
                Some(c) if c == close => {
                    self.bump(1);
                    break;
                }
                Some(')' | ']' | '}') => break,
                Some(',') => {
                    self.bump(1);
                    continue;
                }
                Some(_) => {}
            }
            let before = self.pos;
            if let Some(item) = self.item(depth) {
                items.push(item);
            }
            if self.pos == before {
                self.bump(1);
            }
        }
        items
    }

    /// `value` or `key: value`; a non-atom key is kept as an unmatchable empty key.
    fn item(&mut self, depth: usize) -> Option<Item> {
        let first = self.value(depth + 1)?;
        self.skip_trivia();
        if self.peek() != Some(':') {
            return Some(Item { key: None, node: first });
        }
        self.bump(1);
        let key = if first.kind == Kind::Atom { first.text } else { String::new() };
        let node = self.value(depth + 1)?;
        Some(Item { key: Some(key), node })
    }

    /// Strings (plain, raw, byte), chars, and words; a word followed by `(` is a named group.
    fn scalar(&mut self, depth: usize) -> Node {
        let start = self.pos;
        let quoted_next = matches!(self.at(1), Some('"' | '\'')) || self.raw_hashes(1).is_some();
        if self.peek() == Some('b') && quoted_next {
            self.bump(1);
        }
        let text = match self.peek() {
            Some(q @ ('"' | '\'')) => self.quoted(q),
            _ => match self.raw_hashes(0) {
                Some(hashes) => self.raw_string(hashes),
                None => return self.word_or_named(start, depth),
            },
        };
        Node::atom(start, text)
    }

    /// If a raw string `r#.."` starts at offset `k`, its number of `#`.
    fn raw_hashes(&self, k: usize) -> Option<usize> {
        if self.at(k) != Some('r') {
            return None;
        }
        let mut n = 0;
        while self.at(k + 1 + n) == Some('#') {
            n += 1;
        }
        (self.at(k + 1 + n) == Some('"')).then_some(n)
    }

    fn raw_string(&mut self, hashes: usize) -> String {
        self.bump(hashes + 2);
        let begin = self.pos;
        while let Some(c) = self.peek() {
            if c == '"' && (1..=hashes).all(|k| self.at(k) == Some('#')) {
                let text = self.text(begin);
                self.bump(hashes + 1);
                return text;
            }
            self.bump(1);
        }
        self.text(begin)
    }

    /// A `"` string or `'` char with backslash escapes; unterminated runs to end of text.
    fn quoted(&mut self, quote: char) -> String {
        self.bump(1);
        let begin = self.pos;
        while let Some(c) = self.peek() {
            if c == '\\' {
                self.bump(2);
            } else if c == quote {
                let text = self.text(begin);
                self.bump(1);
                return text;
            } else {
                self.bump(1);
            }
        }
        self.text(begin)
    }

    fn is_delimiter(&self, k: usize) -> bool {
        match self.at(k) {
            None => true,
            Some('/') => matches!(self.at(k + 1), Some('/' | '*')),
            Some(c) => c.is_whitespace() || ",:()[]{}\"'".contains(c),
        }
    }

    /// Identifier, number, `true`, `None`, ...; then `Name(..)` if a `(` follows.
    fn word_or_named(&mut self, start: usize, depth: usize) -> Node {
        while !self.is_delimiter(0) {
            self.bump(1);
        }
        if self.pos == start {
            self.bump(1);
        }
        let raw = self.text(start);
        let text = raw.strip_prefix("r#").filter(|t| !t.is_empty()).unwrap_or(&raw).to_string();
        let after = self.pos;
        self.skip_trivia();
        if self.peek() == Some('(') {
            self.bump(1);
            let items = self.items(')', depth);
            return Node { start, kind: Kind::Group, named: true, text, items };
        }
        self.pos = after;
        Node::atom(start, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r##"#![enable(implicit_some)]
// Scenario for tests: ( [ " { unbalanced in a comment
/* block /* nested ( */ still comment [ " */
Scenario(
    name: "split: brain (v1), // not a comment",
    seed: 42,
    system: Replicated((election_timeout: "150ms", heartbeat: "50ms")),
    topology: (
        nodes: [
            (name: "n1", zone: "α"),
            (name: "n2", zone: "β"), // trailing ) comment
            (name: "n3", zone: r#"quote " inside"#),
        ],
    ),
    workload: (keys: { "k1": 10, k2: 20 }, ratio: 0.5e-1, tag: 'x', r#type: -1),
    faults: [
        (at: "10s", do: Crash("n1")),
        (at: "20s", do: Partition(groups: [["n1"], ["n2", "n3"]])),
        (at: "30s", do: Heal, note: Some("x")),
    ],
)
"##;

    fn loc(line: usize, col: usize) -> Location {
        Location { line, col }
    }

    /// Location of the `nth` (0-based) occurrence of `needle`, computed independently of the parser.
    fn find(text: &str, needle: &str, nth: usize) -> Location {
        let (byte, _) = text.match_indices(needle).nth(nth).expect("needle present");
        location_at(&text.chars().collect::<Vec<_>>(), text[..byte].chars().count())
    }

    #[test]
    fn root_is_top_level_value_after_attributes_and_comments() {
        assert_eq!(locate(SAMPLE, ""), loc(4, 1));
        assert_eq!(locate("(a: 1)", ""), loc(1, 1));
    }

    #[test]
    fn top_level_fields_and_strings_with_tricky_contents() {
        assert_eq!(locate(SAMPLE, "name"), loc(5, 11));
        assert_eq!(locate(SAMPLE, "seed"), find(SAMPLE, "42", 0));
        assert_eq!(locate(SAMPLE, "topology"), loc(8, 15));
    }

    #[test]
    fn nested_structs_and_lists_of_structs() {
        assert_eq!(locate(SAMPLE, "topology.nodes"), loc(9, 16));
        assert_eq!(locate(SAMPLE, "topology.nodes[1]"), loc(11, 13));
        assert_eq!(locate(SAMPLE, "topology.nodes[1].name"), find(SAMPLE, "\"n2\"", 0));
        assert_eq!(locate(SAMPLE, "topology.nodes[2].zone"), find(SAMPLE, "r#\"quote", 0));
        assert_eq!(locate(SAMPLE, "faults[2].at"), find(SAMPLE, "\"30s\"", 0));
    }

    #[test]
    fn unicode_in_strings_counts_chars() {
        assert_eq!(locate(SAMPLE, "topology.nodes[1].zone"), loc(11, 32));
        assert_eq!(locate("(a: \"日本語\", b: 1)", "b"), loc(1, 15));
        assert_eq!(locate("(a: \"😀\", b: 1)", "b"), loc(1, 13));
    }

    #[test]
    fn maps_chars_numbers_and_raw_identifiers() {
        assert_eq!(locate(SAMPLE, "workload.keys"), find(SAMPLE, "{ \"k1\"", 0));
        assert_eq!(locate(SAMPLE, "workload.keys.k1"), find(SAMPLE, "10,", 0));
        assert_eq!(locate(SAMPLE, "workload.keys.k2"), find(SAMPLE, "20 }", 0));
        assert_eq!(locate(SAMPLE, "workload.ratio"), find(SAMPLE, "0.5e-1", 0));
        assert_eq!(locate(SAMPLE, "workload.tag"), find(SAMPLE, "'x'", 0));
        assert_eq!(locate(SAMPLE, "workload.type"), find(SAMPLE, "-1)", 0));
        assert_eq!(locate(SAMPLE, "workload.r#type"), find(SAMPLE, "-1)", 0));
    }

    #[test]
    fn newtype_wrappers_are_transparent() {
        assert_eq!(locate(SAMPLE, "faults[0].do"), find(SAMPLE, "Crash", 0));
        assert_eq!(locate(SAMPLE, "faults[0].do[0]"), find(SAMPLE, "\"n1\")", 0));
        assert_eq!(locate(SAMPLE, "faults[1].do.groups"), find(SAMPLE, "[[", 0));
        assert_eq!(locate(SAMPLE, "faults[1].do.groups[1][0]"), find(SAMPLE, "\"n2\"", 1));
        assert_eq!(locate(SAMPLE, "faults[1].do.groups[1][1]"), find(SAMPLE, "\"n3\"", 1));
        assert_eq!(locate(SAMPLE, "system"), find(SAMPLE, "Replicated", 0));
        assert_eq!(locate(SAMPLE, "system[0]"), find(SAMPLE, "(election", 0));
        assert_eq!(locate(SAMPLE, "system.heartbeat"), find(SAMPLE, "\"50ms\"", 0));
        assert_eq!(locate(SAMPLE, "faults[2].note"), find(SAMPLE, "Some", 0));
        assert_eq!(locate(SAMPLE, "faults[2].note[0]"), find(SAMPLE, "\"x\"", 0));
    }

    #[test]
    fn wrappers_around_sequences_index_the_sequence() {
        let text = "(a: Some([1, 2]), b: Wrap([[3], [4]]), c: Some(Outer((x: 5))))";
        assert_eq!(locate(text, "a[0]"), find(text, "1", 0));
        assert_eq!(locate(text, "a[1]"), find(text, "2", 0));
        assert_eq!(locate(text, "b[1][0]"), find(text, "4", 0));
        assert_eq!(locate(text, "c.x"), find(text, "5", 0));
    }

    #[test]
    fn missing_paths_fall_back_to_deepest_ancestor() {
        assert_eq!(locate(SAMPLE, "faults[9].at"), find(SAMPLE, "[\n        (at", 0));
        assert_eq!(locate(SAMPLE, "faults[2].missing"), find(SAMPLE, "(at: \"30s\"", 0));
        assert_eq!(locate(SAMPLE, "faults[0].do.groups"), find(SAMPLE, "Crash", 0));
        assert_eq!(locate(SAMPLE, "nope.deeper[3]"), loc(4, 1));
        assert_eq!(locate(SAMPLE, "seed[0].x"), find(SAMPLE, "42", 0));
        assert_eq!(locate(SAMPLE, "faults[x].at"), find(SAMPLE, "[\n        (at", 0));
        assert_eq!(locate(SAMPLE, "faults[1"), find(SAMPLE, "[\n        (at", 0));
    }

    #[test]
    fn path_parsing() {
        let f = |s: &str| Seg::Field(s.to_string());
        assert_eq!(parse_path(""), vec![]);
        assert_eq!(parse_path("a.b[1][2].c"), vec![f("a"), f("b"), Seg::Index(1), Seg::Index(2), f("c")]);
        assert_eq!(parse_path("[0].a..b."), vec![Seg::Index(0), f("a"), f("b")]);
        assert_eq!(parse_path("a[z].b"), vec![f("a")]);
    }

    #[test]
    fn comments_and_strings_do_not_confuse_structure() {
        let text = "( /* ) ] */ a: \"),//\", // (\n b: '(', c: '\\'', d: r\"\\\", e: b\"x\", f: 1 /* /* */ */, g: 2)";
        assert_eq!(locate(text, "b"), loc(2, 5));
        assert_eq!(locate(text, "c"), find(text, "'\\''", 0));
        assert_eq!(locate(text, "e"), find(text, "b\"x\"", 0));
        assert_eq!(locate(text, "f"), find(text, "1 /*", 0));
        assert_eq!(locate(text, "g"), find(text, "2)", 0));
    }

    #[test]
    fn trailing_commas_and_anonymous_tuples() {
        let text = "Scenario(\n  pairs: [(1, \"a\",), (2, \"b\",),],\n  last: true,\n)";
        assert_eq!(locate(text, "pairs[1][1]"), loc(2, 26));
        assert_eq!(locate(text, "last"), loc(3, 9));
    }

    #[test]
    fn empty_and_garbage_inputs_give_sane_locations() {
        assert_eq!(locate("", ""), loc(1, 1));
        assert_eq!(locate("", "a.b[0]"), loc(1, 1));
        assert_eq!(locate("   \n  // only comment", "a"), loc(1, 1));
        assert_eq!(locate(")))", "a"), loc(1, 1));
        assert_eq!(locate("(a: [1, 2), b: 3)", "a[1]"), loc(1, 9));
        assert_eq!(locate("/* unterminated", ""), loc(1, 1));
    }

    #[test]
    fn every_prefix_of_a_valid_text_is_handled() {
        let paths = ["", "name", "faults[1].do.groups[1][0]", "system.heartbeat", "topology.nodes[2].zone"];
        let boundaries: Vec<usize> = SAMPLE.char_indices().map(|(i, _)| i).chain([SAMPLE.len()]).collect();
        for &end in &boundaries {
            for path in paths {
                let got = locate(&SAMPLE[..end], path);
                assert!(got.line >= 1 && got.col >= 1);
            }
        }
    }

    #[test]
    fn pseudo_random_garbage_never_panics() {
        let alphabet: Vec<char> = "()[]{}\"'r#b/*\\:,\n a1éS".chars().collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..400 {
            let text: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = locate(&text, "a[0].b[1]");
            let _ = locate(&text, "");
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        for open in ["(", "[", "{", "A(", "(a: "] {
            let text = open.repeat(100_000);
            let expected = if open == "(a: " { loc(1, 5) } else { loc(1, 1) };
            assert_eq!(locate(&text, "a[0][0]"), expected);
            let _ = locate(&text, &"a.".repeat(1000));
        }
        let nested = format!("{}1{}", "[".repeat(50), "]".repeat(50));
        let path = "[0]".repeat(50);
        assert_eq!(locate(&nested, &path), loc(1, 51));
    }
}
