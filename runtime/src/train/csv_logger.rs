//! Keras's `CSVLogger`: one CSV row per epoch, written and flushed as the epoch ends, so a run
//! that dies keeps every finished epoch (History's `save_csv` writes only at the end).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::callbacks::{Callback, Control, FitModel};
use super::keys::RunKeys;
use crate::history::EpochRecord;

/// Writes `epoch`, every key of the run (`loss`, `val_loss`, the metrics, `lr`, the names
/// `History` and TensorBoard use) and `seconds` to a CSV file after each epoch.
///
/// As Keras's: the file is rewritten unless [`append`](Self::append) is set (for a resumed
/// run), when rows go after the existing ones and the header is written only into an empty
/// file. The rewrite happens at the first epoch's row, so a run that fails before any epoch
/// (a resume that does not fit, say) leaves the old log as it was. A file that cannot be
/// written stops `fit` with [`FitError::Callback`](super::FitError::Callback) naming the
/// path: before the first epoch if it cannot be opened.
pub struct CSVLogger {
    path: PathBuf,
    separator: u8,
    append: bool,
    columns: Vec<String>,
    writer: Option<csv::Writer<File>>,
    /// Whether the first row must first empty the file and write the header.
    rewrite: bool,
    /// Whether the header is still to be written (an empty file).
    header: bool,
    error: Option<String>,
}

impl CSVLogger {
    pub fn new(path: impl AsRef<Path>) -> Self {
        CSVLogger {
            path: path.as_ref().to_path_buf(),
            separator: b',',
            append: false,
            columns: Vec::new(),
            writer: None,
            rewrite: false,
            header: false,
            error: None,
        }
    }
    /// The field separator (Keras's `separator`), one ASCII byte such as `b';'`.
    pub fn separator(mut self, separator: u8) -> Self {
        self.separator = separator;
        self
    }
    /// Appends to an existing file instead of rewriting it (Keras's `append`).
    pub fn append(mut self, append: bool) -> Self {
        self.append = append;
        self
    }

    /// Opens for appending, without emptying: whether the file can be written is known
    /// before the first epoch, and nothing is lost if the run stops before one.
    fn open(&self) -> std::io::Result<(csv::Writer<File>, bool)> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let empty = file.metadata()?.len() == 0;
        let writer = csv::WriterBuilder::new()
            .delimiter(self.separator)
            .from_writer(file);
        Ok((writer, empty))
    }

    fn write(&mut self, record: &EpochRecord) -> Result<(), csv::Error> {
        let Some(writer) = &mut self.writer else {
            return Ok(());
        };
        if std::mem::take(&mut self.rewrite) {
            // Appending writes go to the end, which is now 0.
            writer.get_ref().set_len(0)?;
            self.header = true;
        }
        if std::mem::take(&mut self.header) {
            let columns = self.columns.iter().map(String::as_str);
            writer.write_record(EpochRecord::csv_header(columns))?;
        }
        writer.write_record(record.csv_row(self.columns.iter().map(String::as_str)))?;
        writer.flush()?;
        Ok(())
    }

    fn fail(&mut self, error: impl std::fmt::Display) {
        self.writer = None;
        self.error = Some(format!("{}: {error}", self.path.display()));
    }
}

impl Callback for CSVLogger {
    fn on_train_begin(&mut self, keys: &RunKeys) {
        self.columns = keys.names().map(str::to_string).collect();
        self.error = None;
        match self.open() {
            Ok((writer, empty)) => {
                self.writer = Some(writer);
                self.rewrite = !self.append;
                self.header = empty;
            }
            Err(e) => self.fail(e),
        }
    }

    fn on_epoch_end(&mut self, record: &EpochRecord, _: &mut dyn FitModel) -> Control {
        if let Err(e) = self.write(record) {
            self.fail(e);
        }
        Control::Continue
    }

    fn on_train_end(&mut self, _: &mut dyn FitModel) {
        self.writer = None;
    }

    fn take_error(&mut self) -> Option<String> {
        self.error.take()
    }
}
