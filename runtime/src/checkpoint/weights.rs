//! Named tensors to and from safetensors bytes, with PyTorch's dtypes and metadata
//! `{"format": "pt"}`, so that `safetensors.torch.load_file` reads what we write.

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::CheckpointError;
use crate::state::{NamedTensor, TensorData};

fn bytes_of(t: &NamedTensor) -> Vec<u8> {
    match &t.data {
        TensorData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

/// A safetensors file holding `tensors`.
pub fn to_bytes(tensors: &[NamedTensor]) -> Result<Vec<u8>, CheckpointError> {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(bytes_of).collect();
    let mut views = Vec::with_capacity(tensors.len());
    for (t, b) in tensors.iter().zip(&bytes) {
        let dtype = match t.data {
            TensorData::F32(_) => Dtype::F32,
            TensorData::I64(_) => Dtype::I64,
        };
        let view = TensorView::new(dtype, t.shape.clone(), b)
            .map_err(|e| CheckpointError::Format(format!("{}: {e}", t.name)))?;
        views.push((t.name.clone(), view));
    }
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| CheckpointError::Format(e.to_string()))
}

/// The tensors of a safetensors file; anything malformed is an error, never a panic.
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<NamedTensor>, CheckpointError> {
    let (_, metadata) =
        SafeTensors::read_metadata(bytes).map_err(|e| CheckpointError::Format(e.to_string()))?;
    let format = metadata.metadata().as_ref().and_then(|m| m.get("format"));
    if format.map(String::as_str) != Some("pt") {
        return Err(CheckpointError::Format(format!(
            "metadata `format` is {format:?}, expected \"pt\""
        )));
    }
    let file =
        SafeTensors::deserialize(bytes).map_err(|e| CheckpointError::Format(e.to_string()))?;
    let mut out = Vec::new();
    for (name, view) in file.iter() {
        let data = view.data();
        let data = match view.dtype() {
            Dtype::F32 => TensorData::F32(
                data.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            Dtype::I64 => TensorData::I64(
                data.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            ),
            other => {
                return Err(CheckpointError::DType {
                    name: name.to_string(),
                    found: format!("{other:?}"),
                });
            }
        };
        out.push(NamedTensor {
            name: name.to_string(),
            shape: view.shape().to_vec(),
            data,
            learnable: true,
        });
    }
    // safetensors stores keys sorted; give them back in a stable order.
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
