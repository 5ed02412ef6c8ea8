//! The IDX format MNIST ships in: a magic number (two zero bytes, a type byte, the number of
//! dimensions), big-endian u32 sizes, then the values. Only unsigned bytes (type 0x08) occur
//! in MNIST, and only they are read.

use std::path::{Path, PathBuf};

use crate::tensor::Batch;

#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not an IDX file (magic bytes {found:02x?}, expected 00 00 08 {dims:02x})")]
    Magic {
        path: PathBuf,
        found: Vec<u8>,
        dims: u8,
    },
    #[error("{path}: the header promises {expected} bytes of data but the file holds {found}")]
    Size {
        path: PathBuf,
        expected: usize,
        found: usize,
    },
    #[error("{path}: images of {rows}×{cols} pixels, but the model takes {width} values")]
    Width {
        path: PathBuf,
        rows: usize,
        cols: usize,
        width: usize,
    },
}

fn read(path: &Path, dims: u8) -> Result<(Vec<usize>, Vec<u8>), IdxError> {
    let bytes = std::fs::read(path).map_err(|source| IdxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let header = 4 + 4 * usize::from(dims);
    if bytes.len() < 4 || bytes[..4] != [0, 0, 8, dims] {
        return Err(IdxError::Magic {
            path: path.to_path_buf(),
            found: bytes[..bytes.len().min(4)].to_vec(),
            dims,
        });
    }
    if bytes.len() < header {
        return Err(IdxError::Size {
            path: path.to_path_buf(),
            expected: header,
            found: bytes.len(),
        });
    }
    let sizes: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = sizes.iter().try_fold(1usize, |a, &s| a.checked_mul(s));
    let data = &bytes[header..];
    match expected {
        Some(n) if n == data.len() => Ok((sizes, data.to_vec())),
        _ => Err(IdxError::Size {
            path: path.to_path_buf(),
            expected: expected.unwrap_or(usize::MAX),
            found: data.len(),
        }),
    }
}

/// Images `[n, rows, cols]` as rows of `W = rows·cols` values scaled to [0, 1].
pub fn read_idx_images<const W: usize>(path: impl AsRef<Path>) -> Result<Batch<W>, IdxError> {
    let path = path.as_ref();
    let (sizes, data) = read(path, 3)?;
    if sizes[1] * sizes[2] != W {
        return Err(IdxError::Width {
            path: path.to_path_buf(),
            rows: sizes[1],
            cols: sizes[2],
            width: W,
        });
    }
    let values = data.iter().map(|&b| f32::from(b) / 255.0).collect();
    Ok(Batch::from_vec(values).expect("whole images by the size check"))
}

/// Labels `[n]` as class indices.
pub fn read_idx_labels(path: impl AsRef<Path>) -> Result<Vec<usize>, IdxError> {
    let (_, data) = read(path.as_ref(), 1)?;
    Ok(data.into_iter().map(usize::from).collect())
}
