//! CSV loading with the `csv` crate: a header row, a target column by name or index, every
//! other column (or a chosen list) as features. Every error names the file, line and column.

use std::path::{Path, PathBuf};

use super::Dataset;
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
    #[error("{path}: has no column {column}; its columns are {available:?}")]
    NoColumn {
        path: PathBuf,
        column: Column,
        available: Vec<String>,
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
    #[error("{path}: line {line}, column {column}: target `{value}` is not a class index")]
    NotAClass {
        path: PathBuf,
        line: u64,
        column: usize,
        value: f32,
    },
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
    let path = path.as_ref();
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
                    name: headers[i].clone(),
                });
            }
            text.parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| CsvError::NotNumeric {
                    path: path.to_path_buf(),
                    line,
                    column: i + 1,
                    name: headers[i].clone(),
                    value: text.to_string(),
                })
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
        if self.feature_names.len() != W {
            return Err(CsvError::Width {
                path: self.path.clone(),
                expected: W,
                found: self.feature_names.len(),
            });
        }
        Ok(Batch::from_vec(self.features.clone()).expect("whole rows by construction"))
    }

    /// The table as features and value targets (regression, or 0/1 labels for BCE).
    pub fn to_dataset<const W: usize>(&self) -> Result<Dataset<W, Batch<1>>, CsvError> {
        self.check_target()?;
        let targets = Batch::from_vec(self.targets.clone()).expect("one value per row");
        Ok(Dataset {
            features: self.features()?,
            targets,
        })
    }

    /// The table as features and class indices (the target column holds 0, 1, 2, ...).
    pub fn to_class_dataset<const W: usize>(&self) -> Result<Dataset<W, Vec<usize>>, CsvError> {
        self.check_target()?;
        let mut classes = Vec::with_capacity(self.rows());
        for (&v, &line) in self.targets.iter().zip(&self.lines) {
            if v < 0.0 || v.fract() != 0.0 {
                return Err(CsvError::NotAClass {
                    path: self.path.clone(),
                    line,
                    column: self.target_column,
                    value: v,
                });
            }
            classes.push(v as usize);
        }
        Ok(Dataset {
            features: self.features()?,
            targets: classes,
        })
    }
}
