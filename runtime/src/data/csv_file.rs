//! CSV loading with the `csv` crate: a header row, a target column by name or index, every
//! other column (or a chosen list) as features. Every error names the file, line and column.

use std::path::{Path, PathBuf};

use super::{Dataset, DynDataset, Targets};
use crate::checkpoint::capped;
use crate::tensor::Batch;

/// A column by header name or by 0-based index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    Name(String),
    Index(usize),
}

impl From<&str> for Column {
    /// A number is an index, anything else a name.
    fn from(s: &str) -> Self {
        s.parse()
            .map_or_else(|_| Column::Name(s.to_string()), Column::Index)
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Column::Name(n) => write!(f, "`{n}`"),
            Column::Index(i) => write!(f, "index {i}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: has no column {column}; its columns are {}", list(.available))]
    NoColumn {
        path: PathBuf,
        column: Column,
        available: Vec<String>,
    },
    #[error("{path}: is empty; the first line is a header naming the columns")]
    EmptyFile { path: PathBuf },
    #[error(
        "{path}: the header names `{name}` twice (columns {first} and {second}); which one is meant?"
    )]
    DuplicateColumn {
        path: PathBuf,
        name: String,
        first: usize,
        second: usize,
    },
    #[error(
        "{path}: the first line ({}) is all numbers, so it looks like data, not a header; add a header row naming the columns",
        list(.header)
    )]
    NoHeader { path: PathBuf, header: Vec<String> },
    #[error(
        "{path}: the header is one column, `{header}`, holding {delimiter}; the file must be comma-separated"
    )]
    Delimiter {
        path: PathBuf,
        header: String,
        delimiter: &'static str,
    },
    #[error(
        "{path}: {column} is ambiguous: it is column index {index} and also the name of column {named}"
    )]
    AmbiguousColumn {
        path: PathBuf,
        column: Column,
        index: usize,
        named: usize,
    },
    #[error(
        "{path}: line {line}, column {column} (`{name}`): `{value}` is outside the range of f32 (about ±3.4e38)"
    )]
    OutOfRange {
        path: PathBuf,
        line: u64,
        column: usize,
        name: String,
        value: String,
    },
    #[error("{path}: line {line}, column {column} (`{name}`): `{value}` is not a number")]
    NotNumeric {
        path: PathBuf,
        line: u64,
        column: usize,
        name: String,
        value: String,
    },
    #[error("{path}: line {line}, column {column} (`{name}`): the value is missing")]
    Missing {
        path: PathBuf,
        line: u64,
        column: usize,
        name: String,
    },
    #[error(
        "{path}: line {line} has {found} columns, but the header has {expected} (the row ends at column {found})"
    )]
    Ragged {
        path: PathBuf,
        line: u64,
        expected: usize,
        found: usize,
    },
    #[error("{path}: was read without a target column")]
    NoTarget { path: PathBuf },
    #[error("{path}: has no data rows")]
    Empty { path: PathBuf },
    #[error("{path}: has {found} feature columns, but the model takes {expected}")]
    Width {
        path: PathBuf,
        expected: usize,
        found: usize,
    },
    #[error(
        "{path}: line {line}, column {column}: target `{value}` is not a class index; labels are 0-based, 0 to {} for {classes} classes",
        classes.saturating_sub(1)
    )]
    NotAClass {
        path: PathBuf,
        line: u64,
        column: usize,
        value: f32,
        classes: usize,
    },
    #[error(
        "{path}: line {line}, column {column}: target `{value}` is outside [0, 1], where binary labels and probabilities lie"
    )]
    NotBinary {
        path: PathBuf,
        line: u64,
        column: usize,
        value: f32,
    },
}

/// At most this many column names are listed in an error.
const LISTED_COLUMNS: usize = 20;

/// Column names for an error: each capped, at most [`LISTED_COLUMNS`] of them.
fn list(names: &[String]) -> String {
    let mut shown: Vec<String> = names
        .iter()
        .take(LISTED_COLUMNS)
        .map(|n| format!("`{}`", capped(n)))
        .collect();
    if names.len() > LISTED_COLUMNS {
        shown.push(format!("and {} more", names.len() - LISTED_COLUMNS));
    }
    if shown.is_empty() {
        "none".to_string()
    } else {
        shown.join(", ")
    }
}

/// The numbers of a CSV file, features row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    pub path: PathBuf,
    pub feature_names: Vec<String>,
    pub target_name: String,
    /// 1-based column of the target, for messages.
    pub target_column: usize,
    pub features: Vec<f32>,
    pub targets: Vec<f32>,
    /// The file line of each row, for messages.
    pub lines: Vec<u64>,
}

fn find(path: &Path, headers: &[String], column: &Column) -> Result<usize, CsvError> {
    if let Column::Index(index) = column {
        let text = index.to_string();
        if let Some(named) = headers
            .iter()
            .position(|h| *h == text)
            .filter(|n| n != index)
        {
            return Err(CsvError::AmbiguousColumn {
                path: path.to_path_buf(),
                column: column.clone(),
                index: *index,
                named,
            });
        }
    }
    let found = match column {
        Column::Name(n) => headers.iter().position(|h| h == n),
        Column::Index(i) => (*i < headers.len()).then_some(*i),
    };
    found.ok_or_else(|| CsvError::NoColumn {
        path: path.to_path_buf(),
        column: column.clone(),
        available: headers.to_vec(),
    })
}

/// Reads `path`: `target` is the label column (none for data to predict on); `features`
/// defaults to all other columns.
pub fn read_csv(
    path: impl AsRef<Path>,
    target: Option<&Column>,
    features: Option<&[Column]>,
) -> Result<CsvTable, CsvError> {
    // Not generic below here, so the reader is compiled in this crate, not in every caller.
    read_csv_at(path.as_ref(), target, features)
}

fn read_csv_at(
    path: &Path,
    target: Option<&Column>,
    features: Option<&[Column]>,
) -> Result<CsvTable, CsvError> {
    let file = std::fs::File::open(path).map_err(|source| CsvError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file);
    let parse_error = |e: csv::Error| CsvError::Parse {
        path: path.to_path_buf(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(parse_error)?
        .iter()
        .map(str::to_string)
        .collect();
    check_header(path, &headers)?;
    let target_index = target.map(|t| find(path, &headers, t)).transpose()?;
    let feature_indices: Vec<usize> = match features {
        Some(cols) => cols
            .iter()
            .map(|c| find(path, &headers, c))
            .collect::<Result<_, _>>()?,
        None => (0..headers.len())
            .filter(|&i| Some(i) != target_index)
            .collect(),
    };
    let mut table = CsvTable {
        path: path.to_path_buf(),
        feature_names: feature_indices
            .iter()
            .map(|&i| headers[i].clone())
            .collect(),
        target_name: target_index.map_or_else(String::new, |i| headers[i].clone()),
        target_column: target_index.map_or(0, |i| i + 1),
        features: Vec::new(),
        targets: Vec::new(),
        lines: Vec::new(),
    };
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(parse_error)? {
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != headers.len() {
            return Err(CsvError::Ragged {
                path: path.to_path_buf(),
                line,
                expected: headers.len(),
                found: record.len(),
            });
        }
        let cell = |i: usize| -> Result<f32, CsvError> {
            let text = &record[i];
            if text.is_empty() {
                return Err(CsvError::Missing {
                    path: path.to_path_buf(),
                    line,
                    column: i + 1,
                    name: capped(&headers[i]),
                });
            }
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() && !(v as f32).is_finite() => Err(CsvError::OutOfRange {
                    path: path.to_path_buf(),
                    line,
                    column: i + 1,
                    name: capped(&headers[i]),
                    value: capped(text),
                }),
                Ok(v) if v.is_finite() => Ok(v as f32),
                _ => Err(CsvError::NotNumeric {
                    path: path.to_path_buf(),
                    line,
                    column: i + 1,
                    name: capped(&headers[i]),
                    value: capped(text),
                }),
            }
        };
        for &i in &feature_indices {
            table.features.push(cell(i)?);
        }
        if let Some(t) = target_index {
            table.targets.push(cell(t)?);
        }
        table.lines.push(line);
    }
    if table.lines.is_empty() {
        return Err(CsvError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(table)
}

/// What a header row must be: present, with distinct names, comma-separated, not data.
fn check_header(path: &Path, headers: &[String]) -> Result<(), CsvError> {
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(CsvError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    if let [only] = headers {
        for (c, delimiter) in [(';', "`;`"), ('\t', "tabs"), ('|', "`|`")] {
            if only.contains(c) {
                return Err(CsvError::Delimiter {
                    path: path.to_path_buf(),
                    header: capped(only),
                    delimiter,
                });
            }
        }
    }
    for (second, name) in headers.iter().enumerate() {
        if let Some(first) = headers[..second].iter().position(|h| h == name) {
            return Err(CsvError::DuplicateColumn {
                path: path.to_path_buf(),
                name: capped(name),
                first: first + 1,
                second: second + 1,
            });
        }
    }
    if headers.iter().all(|h| h.parse::<f64>().is_ok()) {
        return Err(CsvError::NoHeader {
            path: path.to_path_buf(),
            header: headers.to_vec(),
        });
    }
    Ok(())
}

impl CsvTable {
    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    fn check_target(&self) -> Result<(), CsvError> {
        if self.targets.len() == self.rows() {
            Ok(())
        } else {
            Err(CsvError::NoTarget {
                path: self.path.clone(),
            })
        }
    }

    /// The features alone (for prediction); their count must be `W`.
    pub fn features<const W: usize>(&self) -> Result<Batch<W>, CsvError> {
        let rows = self.features_dyn(W)?;
        Ok(Batch::from_slice(rows).expect("whole rows by construction"))
    }

    /// [`CsvTable::features`] for a width known at run time: every row, flat.
    pub fn features_dyn(&self, width: usize) -> Result<&[f32], CsvError> {
        if self.feature_names.len() != width {
            return Err(CsvError::Width {
                path: self.path.clone(),
                expected: width,
                found: self.feature_names.len(),
            });
        }
        Ok(&self.features)
    }

    /// The table as features and value targets (regression, or 0/1 labels for BCE).
    pub fn to_dataset<const W: usize>(&self) -> Result<Dataset<W, Batch<1>>, CsvError> {
        let targets = self.value_targets()?;
        Ok(Dataset {
            features: self.features()?,
            targets,
        })
    }

    /// The table as features and 0/1 targets for a binary classifier (BCE, BCEWithLogits):
    /// a target outside [0, 1] is an error naming its file line.
    pub fn to_binary_dataset<const W: usize>(&self) -> Result<Dataset<W, Batch<1>>, CsvError> {
        let targets = self.binary_targets()?;
        Ok(Dataset {
            features: self.features()?,
            targets,
        })
    }

    /// The table as features and class indices for `classes` classes (the target column
    /// holds 0, 1, ..., classes − 1); any other label is an error naming its file line.
    pub fn to_class_dataset<const W: usize>(
        &self,
        classes: usize,
    ) -> Result<Dataset<W, Vec<usize>>, CsvError> {
        let targets = self.class_targets(classes)?;
        Ok(Dataset {
            features: self.features()?,
            targets,
        })
    }

    /// [`CsvTable::to_dataset`] with the width as a value (the file's feature count).
    pub fn to_dyn_dataset(&self) -> Result<DynDataset<'static, Batch<1>>, CsvError> {
        Ok(self.dyn_dataset(self.value_targets()?))
    }

    /// [`CsvTable::to_binary_dataset`] with the width as a value.
    pub fn to_binary_dyn_dataset(&self) -> Result<DynDataset<'static, Batch<1>>, CsvError> {
        Ok(self.dyn_dataset(self.binary_targets()?))
    }

    /// [`CsvTable::to_class_dataset`] with the width as a value.
    pub fn to_class_dyn_dataset(
        &self,
        classes: usize,
    ) -> Result<DynDataset<'static, Vec<usize>>, CsvError> {
        Ok(self.dyn_dataset(self.class_targets(classes)?))
    }

    fn dyn_dataset<T: Targets>(&self, targets: T) -> DynDataset<'static, T> {
        let width = self.feature_names.len();
        DynDataset::new(self.features.clone(), width, targets).expect("whole rows by construction")
    }

    fn value_targets(&self) -> Result<Batch<1>, CsvError> {
        self.check_target()?;
        Ok(Batch::from_vec(self.targets.clone()).expect("one value per row"))
    }

    fn binary_targets(&self) -> Result<Batch<1>, CsvError> {
        self.check_target()?;
        for (&value, &line) in self.targets.iter().zip(&self.lines) {
            if !(0.0..=1.0).contains(&value) {
                return Err(CsvError::NotBinary {
                    path: self.path.clone(),
                    line,
                    column: self.target_column,
                    value,
                });
            }
        }
        self.value_targets()
    }

    fn class_targets(&self, classes: usize) -> Result<Vec<usize>, CsvError> {
        self.check_target()?;
        let mut labels = Vec::with_capacity(self.rows());
        for (&v, &line) in self.targets.iter().zip(&self.lines) {
            if v < 0.0 || v.fract() != 0.0 || v as usize >= classes {
                return Err(CsvError::NotAClass {
                    path: self.path.clone(),
                    line,
                    column: self.target_column,
                    value: v,
                    classes,
                });
            }
            labels.push(v as usize);
        }
        Ok(labels)
    }
}
