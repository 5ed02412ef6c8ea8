//! Writes weights as Rust source: `static` arrays whose every value is an exact f32 bit
//! pattern, so the exported model computes with the very numbers that were trained (decimal
//! text would round-trip too, but bits cannot be misread and cost no float parsing).

use std::fmt::Write;

/// One value: `f(0x3f800000)`, where `f` is the file's `const fn` around `f32::from_bits`.
pub(crate) fn value(out: &mut String, v: f32) {
    let _ = write!(out, "f(0x{:08x})", v.to_bits());
}

/// A value type of the weight statics: its Rust name, how many fit a line, how one is written.
pub(crate) trait Literal: Copy {
    const TYPE: &'static str;
    const PER_LINE: usize;
    fn write(self, out: &mut String);
}

impl Literal for f32 {
    const TYPE: &'static str = "f32";
    const PER_LINE: usize = 8;
    fn write(self, out: &mut String) {
        value(out, self);
    }
}

impl Literal for i8 {
    const TYPE: &'static str = "i8";
    const PER_LINE: usize = 16;
    fn write(self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

/// `[v, v, ...]`, `T::PER_LINE` values a line.
fn row<T: Literal>(out: &mut String, values: &[T], indent: &str) {
    let wrap = values.len() > T::PER_LINE;
    out.push('[');
    for (i, &v) in values.iter().enumerate() {
        if i % T::PER_LINE == 0 && wrap {
            out.push('\n');
            out.push_str(indent);
            out.push_str("    ");
        } else if i > 0 {
            out.push(' ');
        }
        v.write(out);
        out.push(',');
    }
    if wrap {
        out.push('\n');
        out.push_str(indent);
    }
    out.push(']');
}

/// `static NAME: [f32; N] = [...];`
pub(crate) fn vector(out: &mut String, name: &str, values: &[f32]) {
    let _ = write!(out, "static {name}: [f32; {}] = ", values.len());
    row(out, values, "");
    out.push_str(";\n");
}

/// `static NAME: [[T; C]; R] = [[...], ...];` from row-major `values` of `R·C`.
pub(crate) fn matrix<T: Literal>(out: &mut String, name: &str, values: &[T], cols: usize) {
    let rows = values.len().checked_div(cols).unwrap_or(0);
    let _ = writeln!(out, "static {name}: [[{}; {cols}]; {rows}] = [", T::TYPE);
    for r in values.chunks_exact(cols.max(1)) {
        out.push_str("    ");
        row(out, r, "    ");
        out.push_str(",\n");
    }
    out.push_str("];\n");
}

/// A Rust identifier for a state-dict path: `block.0.weight` → `BLOCK_0_WEIGHT`.
pub(crate) fn constant_name(path: &str) -> String {
    let mut name: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "L_");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_bits() {
        assert_eq!(constant_name("block.0.weight"), "BLOCK_0_WEIGHT");
        assert_eq!(constant_name("0.bias"), "L_0_BIAS");
        let mut s = String::new();
        matrix(&mut s, "W", &[1.0, -0.0, f32::NAN, 2.5], 2);
        assert_eq!(
            s,
            "static W: [[f32; 2]; 2] = [\n    [f(0x3f800000), f(0x80000000),],\n    [f(0x7fc00000), f(0x40200000),],\n];\n"
        );
    }
}
