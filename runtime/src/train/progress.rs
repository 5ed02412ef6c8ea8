//! Progress while training: indicatif bars on a terminal, one plain line per epoch otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::history::EpochRecord;

/// How `fit` reports progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// Bars when stdout is a terminal, plain lines otherwise (CI, pipes).
    #[default]
    Auto,
    Bars,
    Plain,
    Quiet,
}

pub(crate) struct Reporter {
    mode: Progress,
    epochs: usize,
    epoch_bar: Option<ProgressBar>,
    batch_bar: Option<ProgressBar>,
}

impl Reporter {
    pub fn new(mode: Progress, epochs: usize, batches: usize) -> Self {
        let mode = match mode {
            Progress::Auto if std::io::stdout().is_terminal() => Progress::Bars,
            Progress::Auto => Progress::Plain,
            other => other,
        };
        let (epoch_bar, batch_bar) = if mode == Progress::Bars {
            let multi = indicatif::MultiProgress::new();
            let epoch = multi.add(ProgressBar::new(epochs as u64));
            epoch.set_style(
                ProgressStyle::with_template("epoch {pos}/{len} [{bar:30}] {elapsed} {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            let batch = multi.add(ProgressBar::new(batches as u64));
            batch.set_style(
                ProgressStyle::with_template("  batch {pos}/{len} [{bar:30}] {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            (Some(epoch), Some(batch))
        } else {
            (None, None)
        };
        Reporter {
            mode,
            epochs,
            epoch_bar,
            batch_bar,
        }
    }

    pub fn start_epoch(&self) {
        if let Some(bar) = &self.batch_bar {
            bar.reset();
        }
    }

    pub fn batch(&self, loss: f64) {
        if let Some(bar) = &self.batch_bar {
            bar.inc(1);
            bar.set_message(format!("loss {loss:.4}"));
        }
    }

    pub fn end_epoch(&self, record: &EpochRecord) {
        match self.mode {
            Progress::Bars => {
                if let Some(bar) = &self.epoch_bar {
                    bar.inc(1);
                    bar.set_message(record.summary());
                }
            }
            Progress::Plain => println!("[{}/{}] {}", record.epoch, self.epochs, record.summary()),
            Progress::Auto | Progress::Quiet => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.batch_bar {
            bar.finish_and_clear();
        }
        if let Some(bar) = &self.epoch_bar {
            bar.finish();
        }
    }
}
