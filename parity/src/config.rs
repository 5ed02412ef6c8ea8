//! A case's `config`, read key by key: a key no check reads fails the test, so a
//! hyperparameter a regenerated fixture adds is never silently left at its default.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

pub struct Config<'a> {
    what: String,
    map: &'a Map<String, Value>,
    read: RefCell<BTreeSet<String>>,
}

impl<'a> Config<'a> {
    /// `value` is the config object; `what` names the case in messages.
    pub fn new(what: impl Into<String>, value: &'a Value) -> Self {
        let what = what.into();
        let map = value
            .as_object()
            .unwrap_or_else(|| panic!("{what}: the config is not an object"));
        Config {
            what,
            map,
            read: RefCell::default(),
        }
    }
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.read.borrow_mut().insert(key.to_string());
        self.map.get(key).filter(|v| !v.is_null())
    }
    pub fn f64(&self, key: &str) -> f64 {
        self.f64_or(key, None)
    }
    /// The value of `key`, or `default` when the case does not give it.
    pub fn f64_or(&self, key: &str, default: impl Into<Option<f64>>) -> f64 {
        match self.get(key) {
            Some(v) => v
                .as_f64()
                .unwrap_or_else(|| panic!("{}: `{key}` is not a number", self.what)),
            None => default
                .into()
                .unwrap_or_else(|| panic!("{}: the config has no `{key}`", self.what)),
        }
    }
    pub fn f32_or(&self, key: &str, default: impl Into<Option<f64>>) -> f32 {
        self.f64_or(key, default) as f32
    }
    pub fn bool_or(&self, key: &str, default: bool) -> bool {
        self.get(key).map_or(default, |v| {
            v.as_bool()
                .unwrap_or_else(|| panic!("{}: `{key}` is not a bool", self.what))
        })
    }
    pub fn str_or(&self, key: &str, default: &'a str) -> &'a str {
        self.get(key).map_or(default, |v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{}: `{key}` is not a string", self.what))
        })
    }
    pub fn f32s(&self, key: &str) -> Option<Vec<f32>> {
        self.get(key).map(crate::f32s)
    }
    /// A PyTorch option staticnn implements at one value only (`maximize = False`,
    /// `foreach = None`, ...): absent, null or that value, else the test fails.
    pub fn only(&self, key: &str, value: Value) {
        if let Some(given) = self.get(key)
            && *given != value
        {
            panic!(
                "{}: `{key} = {given}` is not implemented (only {value})",
                self.what
            );
        }
    }
    /// Every key was read by the check.
    pub fn done(self) {
        let read = self.read.borrow();
        let unread: Vec<&String> = self.map.keys().filter(|k| !read.contains(*k)).collect();
        assert!(
            unread.is_empty(),
            "{}: the config's {unread:?} are read by no check; teach the parity check them",
            self.what
        );
    }
}
