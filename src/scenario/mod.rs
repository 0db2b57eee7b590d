//! Scenario files: RON, `version: 1`, loaded and validated with positioned errors.
//!
//! `load` reads a file, `parse` reads text. Errors name `file:line:column`, the field path
//! and a hint, e.g.
//! `raft.ron:14:9: faults[2].at: '70s' is past the run's duration '60s'; shorten it or raise duration`.
//! Syntax and field-local errors take their position from `ron`; cross-field errors
//! (unknown node names, faults after the end) are located in the text by [`locate`].
//! Nothing here panics on any input.

pub mod locate;
pub mod raw;
mod validate;
mod validate_faults;

use raw::RawScenario;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

/// What the scenario layer asks of the `system:` section. The systems layer implements it
/// (`systems::AnySystem`, one variant per system); this module names no system.
pub trait SystemSection: DeserializeOwned + Serialize + Clone + fmt::Debug {
    /// Checks the section against the topology's node names; a failure is (path inside
    /// the section, message with a hint).
    fn validate(&self, nodes: &BTreeSet<String>) -> Result<(), (String, String)>;
    /// The roles the system's processes play, for `Role(..)` fault targets.
    fn roles(&self) -> Vec<&'static str>;
    /// The property names `Property(..)` and `Violated(..)` may use.
    fn properties(&self) -> Vec<&'static str>;
    /// The "sometimes" events `Sometimes(..)` may use: the system's, then the world's.
    fn sometimes(&self) -> Vec<&'static str>;
    /// The system that declares the property or "sometimes" event `name`, if another does
    /// (for a hint: "applies to Raft systems only").
    fn owner(name: &str) -> Option<&'static str>;
}

/// The closest of `known` to `found`, if it is close enough to be a misspelling.
pub fn did_you_mean<'a>(found: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&found.to_lowercase(), &k.to_lowercase()), *k))
        .min()
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .map(|(_, k)| k)
}

/// The only schema version this build reads.
pub const VERSION: u32 = 1;

/// A scenario file that failed to load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// The field path, e.g. `faults[2].at` (empty for the whole file).
    pub path: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// A loaded, validated scenario: the raw schema plus where it came from.
#[derive(Clone, Debug)]
pub struct Scenario<S> {
    pub raw: RawScenario<S>,
    /// The file name as given (used in messages, never an absolute path in reports).
    pub file: String,
}

/// Reads and validates a scenario file.
pub fn load<S: SystemSection>(path: &Path) -> Result<Scenario<S>, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        line: 1,
        col: 1,
        path: String::new(),
        message: format!("cannot read the file: {e}; check the path"),
    })?;
    parse(&text, &file)
}

fn options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse<S: SystemSection>(text: &str, file: &str) -> Result<Scenario<S>, ScenarioError> {
    let at = |path: &str, message: String| {
        let loc = locate::locate(text, path);
        ScenarioError {
            file: file.to_string(),
            line: loc.line,
            col: loc.col,
            path: path.to_string(),
            message,
        }
    };
    check_version(text).map_err(|m| at("version", m))?;
    let mut de = ron::Deserializer::from_str_with_options(text, &options()).map_err(|e| ScenarioError {
        file: file.to_string(),
        line: e.span.start.line,
        col: e.span.start.col,
        path: String::new(),
        message: describe_ron_error(&e.code),
    })?;
    let raw: RawScenario<S> = match serde_path_to_error::deserialize(&mut de) {
        Ok(raw) => raw,
        Err(e) => {
            let path = clean_path(&e.path().to_string());
            let code = e.into_inner();
            let span = de.span_error(code.clone()).span;
            return Err(ScenarioError {
                file: file.to_string(),
                line: span.start.line,
                col: span.start.col,
                path,
                message: describe_ron_error(&code),
            });
        }
    };
    validate::validate(&raw).map_err(|(path, message)| at(&path, message))?;
    Ok(Scenario { raw, file: file.to_string() })
}

/// The scenario as RON that [`parse`] reads back to the same scenario.
pub fn to_ron<S: Serialize>(raw: &RawScenario<S>) -> Result<String, String> {
    let pretty = ron::ser::PrettyConfig::default().struct_names(false);
    // The system's section is a newtype variant holding its config; written unwrapped
    // (`Raft(heartbeat: ..)`), as scenarios write it and as it is read back.
    let unwrapped = ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES;
    let body = options()
        .with_default_extension(unwrapped)
        .to_string_pretty(raw, pretty)
        .map_err(|e| format!("cannot write the scenario as RON: {e}"))?;
    assert!(body.starts_with('('), "an unnamed struct is written as '(…)'");
    Ok(format!("Scenario{body}\n"))
}

/// Reads only `version` first, so a file of another version gets a version error rather
/// than a confusing one about fields that version has.
fn check_version(text: &str) -> Result<(), String> {
    #[derive(Deserialize)]
    #[serde(rename = "Scenario")]
    struct Probe {
        version: Option<u32>,
    }
    let Ok(probe) = options().from_str::<Probe>(text) else {
        return Ok(()); // the full parse reports it, with its position
    };
    match probe.version {
        Some(VERSION) => Ok(()),
        Some(v) => Err(format!(
            "version {v} is not supported; this Stormglass reads version {VERSION} (write 'version: {VERSION}')"
        )),
        None => Err(format!("the scenario has no 'version'; add 'version: {VERSION},' at the top")),
    }
}

/// serde_path_to_error prints `?` for unknown positions, `.` before indices, and enum
/// variant names (capitalised, unlike every field) as segments; tidy it to our path syntax.
fn clean_path(path: &str) -> String {
    path.replace(".[", "[")
        .replace('?', "")
        .split('.')
        .filter(|seg| !seg.is_empty() && !seg.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(".")
}

/// A lowercase message with a hint for the common `ron` errors.
fn describe_ron_error(code: &ron::Error) -> String {
    use ron::Error as E;
    match code {
        // The path already says where; the raw structs' names would only confuse.
        E::NoSuchStructField { expected, found, .. } => {
            format!("unknown field '{found}'; {}", suggest(found, expected))
        }
        E::MissingStructField { field, .. } => {
            format!("missing field '{field}'; add '{field}: ...' (see docs/scenario-reference.md)")
        }
        E::NoSuchEnumVariant { expected, found, .. } => {
            format!("unknown variant '{found}'; {}", suggest(found, expected))
        }
        E::ExpectedString => {
            "a quoted string is expected here (durations are written like \"200ms\", names like \"kv\")"
                .to_string()
        }
        E::IntegerOutOfBounds => {
            "this number is out of range here; write a whole number, 0 or more".to_string()
        }
        E::DuplicateStructField { field, .. } => format!("field '{field}' is given twice; keep one"),
        E::Message(m) => m.clone(),
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            let first = chars.next().map(|c| c.to_lowercase().collect::<String>()).unwrap_or_default();
            format!("{first}{}; check the RON syntax near here", chars.as_str())
        }
    }
}

/// "did you mean 'x'?" for a close match, else the list of what is allowed.
fn suggest(found: &str, expected: &[&str]) -> String {
    match did_you_mean(found, expected) {
        Some(e) => format!("did you mean '{e}'?"),
        None => format!(
            "expected one of: {}",
            expected.iter().map(|e| format!("'{e}'")).collect::<Vec<_>>().join(", ")
        ),
    }
}
