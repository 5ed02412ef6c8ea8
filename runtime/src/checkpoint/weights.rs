//! Named tensors to and from safetensors bytes, with PyTorch's dtypes and metadata
//! `{"format": "pt", "sha256": <digest>}`, so that `safetensors.torch.load_file` reads what
//! we write and we notice a flipped bit in what we read. The digest covers everything the
//! file says: each tensor's name, dtype, shape and offsets, the other metadata, and the data
//! section. Files without metadata (what `safetensors.torch.save_file` writes) are read too.

use std::collections::HashMap;

use safetensors::Dtype;
use safetensors::tensor::{Metadata, TensorView};

use super::digest::sha256_hex_of;
use super::error::{SafetensorsError, capped};
use crate::state::{NamedTensor, TensorData};

/// safetensors' own limit on the header (`MAX_HEADER_SIZE`).
pub(crate) const MAX_HEADER_BYTES: u64 = 100_000_000;
/// The metadata key holding the SHA-256 of the data section, in lowercase hex.
pub(crate) const DIGEST_KEY: &str = "sha256";

fn bytes_of(t: &NamedTensor) -> Vec<u8> {
    match &t.data {
        TensorData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn serialize(
    tensors: &[NamedTensor],
    bytes: &[Vec<u8>],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, SafetensorsError> {
    let mut views = Vec::with_capacity(tensors.len());
    for (t, b) in tensors.iter().zip(bytes) {
        let dtype = match t.data {
            TensorData::F32(_) => Dtype::F32,
            TensorData::I64(_) => Dtype::I64,
        };
        let view = TensorView::new(dtype, t.shape.clone(), b).map_err(|source| {
            SafetensorsError::Write {
                name: t.name.clone(),
                source,
            }
        })?;
        views.push((t.name.clone(), view));
    }
    safetensors::serialize(views, Some(metadata)).map_err(|source| SafetensorsError::Write {
        name: String::new(),
        source,
    })
}

/// A safetensors file holding `tensors`, with the digest of its data section.
pub fn to_bytes(tensors: &[NamedTensor]) -> Result<Vec<u8>, SafetensorsError> {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(bytes_of).collect();
    let mut metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    // The data section's layout (order, alignment) is safetensors' choice, so write once to
    // learn it, then again with its digest; the data section is the same both times.
    let draft = serialize(tensors, &bytes, metadata.clone())?;
    let start = data_start(&draft).expect("a header we just wrote");
    let header =
        parse_header(&draft[8..start], draft.len() as u64).expect("a header we just wrote");
    metadata.insert(DIGEST_KEY.to_string(), digest(&header, &draft[start..]));
    serialize(tensors, &bytes, metadata)
}

/// The SHA-256 of what a file says: one line per tensor in data order (name, dtype, shape,
/// offsets), one per metadata entry but the digest itself, then the data section.
fn digest(metadata: &Metadata, data: &[u8]) -> String {
    let mut described = String::new();
    let tensors = metadata.tensors();
    for name in metadata.offset_keys() {
        let info = tensors[&name];
        described.push_str(&format!(
            "{name}\0{:?}\0{:?}\0{:?}\n",
            info.dtype, info.shape, info.data_offsets
        ));
    }
    let mut entries: Vec<_> = metadata.metadata().iter().flatten().collect();
    entries.sort();
    for (k, v) in entries.into_iter().filter(|(k, _)| *k != DIGEST_KEY) {
        described.push_str(&format!("{k}\0{v}\n"));
    }
    sha256_hex_of(&[described.as_bytes(), data])
}

/// Where the data section starts, after checking the 8-byte length field against the
/// `available` bytes of the file and safetensors' header limit: nothing past the length
/// field is read before this holds.
pub(crate) fn header_end(first8: &[u8], file_len: u64) -> Result<u64, SafetensorsError> {
    let Ok(length) = <[u8; 8]>::try_from(first8.get(..8).unwrap_or(&[])) else {
        return Err(SafetensorsError::TooShort { len: file_len });
    };
    let header = u64::from_le_bytes(length);
    if header > MAX_HEADER_BYTES {
        return Err(SafetensorsError::HeaderTooLarge { header });
    }
    let available = file_len - 8;
    if header > available {
        return Err(SafetensorsError::HeaderLength { header, available });
    }
    Ok(8 + header)
}

fn data_start(bytes: &[u8]) -> Result<usize, SafetensorsError> {
    Ok(header_end(bytes, bytes.len() as u64)? as usize)
}

/// The parsed header of a file whose length is `file_len`, after checking that the tensors
/// it describes fill the rest of the file exactly.
pub(crate) fn parse_header(header: &[u8], file_len: u64) -> Result<Metadata, SafetensorsError> {
    let text = std::str::from_utf8(header).map_err(|_| SafetensorsError::HeaderNotUtf8)?;
    let metadata: Metadata = serde_json::from_str(text).map_err(SafetensorsError::Header)?;
    let expected = metadata.data_len() as u64;
    let found = file_len - 8 - header.len() as u64;
    if expected != found {
        return Err(SafetensorsError::DataLength { expected, found });
    }
    match metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get("format"))
        .map(String::as_str)
    {
        // `safetensors.torch.save_file` writes no metadata at all; PyTorch's layouts then.
        None | Some("pt") => Ok(metadata),
        Some(other) => Err(SafetensorsError::Format(capped(other))),
    }
}

/// The tensors of a safetensors file; anything malformed is an error, never a panic, and
/// a recorded digest must match the data.
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<NamedTensor>, SafetensorsError> {
    let start = data_start(bytes)?;
    let metadata = parse_header(&bytes[8..start], bytes.len() as u64)?;
    tensors(&metadata, &bytes[start..])
}

/// The tensors `metadata` describes in `data` (the data section), after checking the
/// data's digest when the file records one.
pub(crate) fn tensors(
    metadata: &Metadata,
    data: &[u8],
) -> Result<Vec<NamedTensor>, SafetensorsError> {
    if let Some(expected) = metadata.metadata().as_ref().and_then(|m| m.get(DIGEST_KEY)) {
        let found = digest(metadata, data);
        if *expected != found {
            return Err(SafetensorsError::Digest {
                expected: capped(expected),
                found,
            });
        }
    }
    let mut out = Vec::new();
    for (name, info) in metadata.tensors() {
        let (start, end) = info.data_offsets;
        let bytes = &data[start..end];
        let data = match info.dtype {
            Dtype::F32 => TensorData::F32(
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            Dtype::I64 => TensorData::I64(
                bytes
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            ),
            other => {
                return Err(SafetensorsError::DType {
                    name: capped(&name),
                    found: format!("{other:?}"),
                });
            }
        };
        out.push(NamedTensor {
            name,
            shape: info.shape.clone(),
            data,
            learnable: true,
        });
    }
    // safetensors orders the data by dtype and name; give the tensors back by name.
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
