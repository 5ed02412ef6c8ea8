//! `training_state.json`: everything besides tensors that a resumed `fit` needs, sealed
//! with its own digest and holding the digests of the checkpoint's other files.
//!
//! The file is `{"sha256": <hex>, "contents": {"files": {...}, "state": {...}}}`, where the
//! digest is over the bytes of `contents` exactly as written. Every number survives the
//! JSON (NaN and ±inf included), and every field is checked when read.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use super::digest::sha256_hex;
use super::error::{StateError, capped};
use super::identity::ModelIdentity;
use crate::history::History;
use crate::module::Module;
use crate::seed::SeededRng;

/// The version of the folder layout and `training_state.json`.
pub const FORMAT_VERSION: u32 = 2;

/// Everything besides the weights that a resumed `fit` needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    pub format_version: u32,
    /// The model's declared name and architecture, checked on load.
    pub model: ModelIdentity,
    /// Epochs completed.
    pub epoch: usize,
    /// Optimizer steps taken.
    pub global_step: usize,
    /// Each parameter group's learning rate for the next step (PyTorch keeps them in the
    /// optimizer's `param_groups`).
    #[serde(with = "crate::json_float::vec")]
    pub lrs: Vec<f64>,
    /// The RNG that shuffles the batches.
    #[serde(deserialize_with = "checked_rng")]
    pub rng: SeededRng,
    /// Each Dropout's RNG, by key.
    #[serde(deserialize_with = "checked_rngs")]
    pub module_rngs: BTreeMap<String, SeededRng>,
    #[serde(with = "crate::json_float::option_map")]
    pub scheduler: Option<BTreeMap<String, f64>>,
    pub history: History,
    /// What else the run needs to resume, by name (an input standardizer, a vocabulary...),
    /// saved in the same atomic swap as the weights; `FitOptions::checkpoint_extra` fills it.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
    /// Each callback's state by its position in `FitOptions::callbacks` (EarlyStopping's best
    /// value, wait and best weights, ...), so that a resumed run goes on counting where the
    /// saved one stopped. Stored as the callback wrote it, not interpreted here.
    #[serde(default)]
    pub callbacks: BTreeMap<String, serde_json::Value>,
}

impl TrainingState {
    pub fn new(
        model: &(impl Module + ?Sized),
        epoch: usize,
        global_step: usize,
        lrs: Vec<f64>,
        rng: SeededRng,
        history: History,
    ) -> Self {
        TrainingState {
            format_version: FORMAT_VERSION,
            model: ModelIdentity::of(model),
            epoch,
            global_step,
            lrs,
            rng,
            module_rngs: BTreeMap::new(),
            scheduler: None,
            history,
            extra: BTreeMap::new(),
            callbacks: BTreeMap::new(),
        }
    }

    /// Checks what JSON's types cannot: the fields agree with each other and with how
    /// `fit` writes them.
    pub fn validate(&self) -> Result<(), StateError> {
        if self.format_version != FORMAT_VERSION {
            return Err(StateError::Version {
                found: self.format_version,
                expected: FORMAT_VERSION,
            });
        }
        if self.epoch == 0 {
            return Err(StateError::EpochZero);
        }
        let records = self.history.epochs.len();
        if records > self.epoch {
            return Err(StateError::HistoryTooLong {
                records,
                epoch: self.epoch,
            });
        }
        let mut previous = 0;
        for (index, record) in self.history.epochs.iter().enumerate() {
            if record.epoch <= previous || record.epoch > self.epoch {
                return Err(StateError::HistoryOrder {
                    index,
                    found: record.epoch,
                    epoch: self.epoch,
                });
            }
            previous = record.epoch;
        }
        for (group, &lr) in self.lrs.iter().enumerate() {
            if !(lr.is_finite() && lr >= 0.0) {
                return Err(StateError::LearningRate { group, lr });
            }
        }
        Ok(())
    }
}

/// The serialised form of a [`SeededRng`] (rand_pcg's `Mcg128Xsl64 { state }`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RngState {
    state: u128,
}

impl RngState {
    /// A multiplicative congruential generator only works from an odd state: from 0 it
    /// yields zeros forever, from an even one a shorter cycle. `fit` never writes one.
    fn check<E: serde::de::Error>(self) -> Result<SeededRng, E> {
        if self.state.is_multiple_of(2) {
            return Err(E::custom(format_args!(
                "RNG state {} is even; a PCG-64 MCG state is always odd",
                self.state
            )));
        }
        Ok(SeededRng::new(self.state))
    }
}

fn checked_rng<'de, D: Deserializer<'de>>(d: D) -> Result<SeededRng, D::Error> {
    RngState::deserialize(d)?.check()
}

fn checked_rngs<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, SeededRng>, D::Error> {
    BTreeMap::<String, RngState>::deserialize(d)?
        .into_iter()
        .map(|(k, v)| {
            v.check()
                .map(|rng| (k.clone(), rng))
                .map_err(|e: D::Error| D::Error::custom(format_args!("`{k}`: {e}")))
        })
        .collect()
}

/// The size and SHA-256 of one file of the checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileDigest {
    pub bytes: u64,
    pub sha256: String,
}

impl FileDigest {
    pub fn of(bytes: &[u8]) -> Self {
        FileDigest {
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Contents {
    pub files: BTreeMap<String, FileDigest>,
    pub state: TrainingState,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealed<'a> {
    sha256: String,
    #[serde(borrow)]
    contents: &'a RawValue,
}

/// The file's bytes: the contents, pretty-printed, under their digest.
pub(crate) fn seal(contents: &Contents) -> Result<Vec<u8>, StateError> {
    let body = serde_json::to_string_pretty(contents).map_err(StateError::Json)?;
    let digest = sha256_hex(body.as_bytes());
    // No newline after the closing brace: then every shorter prefix is invalid JSON.
    Ok(format!("{{\n\"sha256\": \"{digest}\",\n\"contents\": {body}\n}}").into_bytes())
}

/// The contents of a sealed file, after checking them against its digest.
pub(crate) fn unseal(bytes: &[u8]) -> Result<Contents, StateError> {
    /// Version 1 was the bare state, with `format_version` at the top.
    #[derive(Deserialize)]
    struct Unsealed {
        format_version: u32,
    }
    let sealed: Sealed =
        serde_json::from_slice(bytes).map_err(|e| {
            match serde_json::from_slice::<Unsealed>(bytes) {
                Ok(old) => StateError::Version {
                    found: old.format_version,
                    expected: FORMAT_VERSION,
                },
                Err(_) => StateError::Json(e),
            }
        })?;
    let found = sha256_hex(sealed.contents.get().as_bytes());
    if found != sealed.sha256 {
        return Err(StateError::Digest {
            expected: capped(&sealed.sha256),
            found,
        });
    }
    serde_json::from_str(sealed.contents.get()).map_err(StateError::Json)
}
