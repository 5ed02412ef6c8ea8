//! `f64` fields that survive JSON whatever their value.
//!
//! JSON has no NaN or infinity, and serde_json writes them as `null`, which then does not
//! read back as a number. A training state holds such values for good reasons (a plateau
//! scheduler's `best = inf` before it has seen its metric, an R² of −inf on constant targets,
//! NaN accuracy on an empty set), so these fields write them as the strings `"NaN"`,
//! `"Infinity"` and `"-Infinity"` (JavaScript's and Python's names) and read either form.
//! Use with `#[serde(with = "crate::json_float")]` (or `::option`, `::vec`, `::map`, `::option_map`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One `f64`, written as a number when finite and as a name otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
struct JsonF64(f64);

impl Serialize for JsonF64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_finite() {
            s.serialize_f64(v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if v > 0.0 {
            s.serialize_str("Infinity")
        } else {
            s.serialize_str("-Infinity")
        }
    }
}

impl<'de> Deserialize<'de> for JsonF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = JsonF64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, \"NaN\", \"Infinity\" or \"-Infinity\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonF64, E> {
                Ok(JsonF64(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonF64, E> {
                Ok(JsonF64(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonF64, E> {
                Ok(JsonF64(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonF64, E> {
                match v {
                    "NaN" => Ok(JsonF64(f64::NAN)),
                    "Infinity" | "inf" => Ok(JsonF64(f64::INFINITY)),
                    "-Infinity" | "-inf" => Ok(JsonF64(f64::NEG_INFINITY)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    JsonF64(*v).serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    JsonF64::deserialize(d).map(|v| v.0)
}

/// `Option<f64>`: `null` is `None`, never a number.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.map(JsonF64).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Option::<JsonF64>::deserialize(d)?.map(|v| v.0))
    }
}

/// `Vec<f64>`.
pub mod vec {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|&v| JsonF64(v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<JsonF64>::deserialize(d)?
            .into_iter()
            .map(|v| v.0)
            .collect())
    }
}

/// `BTreeMap<String, f64>`.
pub mod map {
    use super::*;

    pub fn serialize<S: Serializer>(v: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(v.iter().map(|(k, v)| (k, JsonF64(*v))))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
        let m = BTreeMap::<String, JsonF64>::deserialize(d)?;
        Ok(m.into_iter().map(|(k, v)| (k, v.0)).collect())
    }
}

/// `Option<BTreeMap<String, f64>>`.
pub mod option_map {
    use super::*;

    pub fn serialize<S: Serializer>(
        v: &Option<BTreeMap<String, f64>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let m: Option<BTreeMap<&String, JsonF64>> = v
            .as_ref()
            .map(|m| m.iter().map(|(k, v)| (k, JsonF64(*v))).collect());
        m.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<BTreeMap<String, f64>>, D::Error> {
        let m = Option::<BTreeMap<String, JsonF64>>::deserialize(d)?;
        Ok(m.map(|m| m.into_iter().map(|(k, v)| (k, v.0)).collect()))
    }
}
