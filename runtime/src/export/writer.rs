//! Writes weights as Rust source: `static` arrays whose every value is an exact f32 bit
//! pattern, so the exported model computes with the very numbers that were trained (decimal
//! text would round-trip too, but bits cannot be misread and cost no float parsing).

use std::fmt::Write;

/// One value: `f(0x3f800000)`, where `f` is the file's `const fn` around `f32::from_bits`.
pub(crate) fn value(out: &mut String, v: f32) {
    let _ = write!(out, "f(0x{:08x})", v.to_bits());
}

/// `[v, v, ...]`, eight values a line.
fn row(out: &mut String, values: &[f32], indent: &str) {
    out.push('[');
    for (i, &v) in values.iter().enumerate() {
        if i % 8 == 0 && values.len() > 8 {
            out.push('\n');
            out.push_str(indent);
            out.push_str("    ");
        } else if i > 0 {
            out.push(' ');
        }
        value(out, v);
        out.push(',');
    }
    if values.len() > 8 {
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

/// `static NAME: [[f32; C]; R] = [[...], ...];` from row-major `values` of `R·C`.
pub(crate) fn matrix(out: &mut String, name: &str, values: &[f32], cols: usize) {
    let rows = values.len().checked_div(cols).unwrap_or(0);
    let _ = writeln!(out, "static {name}: [[f32; {cols}]; {rows}] = [");
    for r in values.chunks_exact(cols.max(1)) {
        out.push_str("    ");
        row(out, r, "    ");
        out.push_str(",\n");
    }
    out.push_str("];\n");
}

/// `static NAME: [[i8; C]; R] = [[...], ...];` from row-major `values` of `R·C`, sixteen a
/// line.
pub(crate) fn matrix_i8(out: &mut String, name: &str, values: &[i8], cols: usize) {
    let rows = values.len().checked_div(cols).unwrap_or(0);
    let _ = writeln!(out, "static {name}: [[i8; {cols}]; {rows}] = [");
    for r in values.chunks_exact(cols.max(1)) {
        out.push_str("    [");
        for (i, q) in r.iter().enumerate() {
            if i % 16 == 0 && r.len() > 16 {
                out.push_str("\n        ");
            } else if i > 0 {
                out.push(' ');
            }
            let _ = write!(out, "{q},");
        }
        if r.len() > 16 {
            out.push_str("\n    ");
        }
        out.push_str("],\n");
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
