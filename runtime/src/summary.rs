//! A Keras-style summary of a model: each layer, its state-dict key, output shape and
//! parameter count, and the total.

use std::fmt;

/// One line of a [`Summary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRow {
    /// The state-dict prefix (`fc1`, `0`).
    pub key: String,
    /// The layer as declared (`Linear(16)`, `Dropout(0.1)`, a nested model's type).
    pub layer: String,
    /// The shape of one sample after this layer, like `[16]` or `[8, 14, 14]`.
    pub output_shape: String,
    pub params: usize,
}

/// What `summary()` on a generated model returns; `Display` prints the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub model: String,
    pub input_shape: String,
    pub rows: Vec<SummaryRow>,
}

impl Summary {
    /// Learnable values in all layers.
    pub fn total_params(&self) -> usize {
        self.rows.iter().map(|r| r.params).sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers = ["Layer (key)", "Type", "Output shape", "Params"];
        let cells: Vec<[String; 4]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.key.clone(),
                    r.layer.clone(),
                    r.output_shape.clone(),
                    r.params.to_string(),
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.len());
            }
        }
        let rule = "-".repeat(widths.iter().sum::<usize>() + 3 * 3);
        writeln!(f, "Model: {} (input {})", self.model, self.input_shape)?;
        writeln!(f, "{rule}")?;
        let line = |f: &mut fmt::Formatter<'_>, c: [&str; 4]| {
            writeln!(
                f,
                "{:<w0$}   {:<w1$}   {:<w2$}   {:>w3$}",
                c[0],
                c[1],
                c[2],
                c[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )
        };
        line(f, headers)?;
        writeln!(f, "{rule}")?;
        for row in &cells {
            line(f, [&row[0], &row[1], &row[2], &row[3]])?;
        }
        writeln!(f, "{rule}")?;
        write!(f, "Total params: {}", self.total_params())
    }
}
