//! A module that is only parameters, keyed `p0`, `p1`, ..: what the optimizer and schedule
//! checks step, where no layer is needed.

use staticnn::Parameter;
use staticnn::module::{Module, Visitor, VisitorMut};

pub struct Params(pub Vec<Parameter>);

impl Module for Params {
    fn visit(&self, v: &mut dyn Visitor) {
        for (i, p) in self.0.iter().enumerate() {
            v.parameter(&format!("p{i}"), p);
        }
    }
    fn visit_mut(&mut self, v: &mut dyn VisitorMut) {
        for (i, p) in self.0.iter_mut().enumerate() {
            v.parameter(&format!("p{i}"), p);
        }
    }
    fn set_training(&mut self, _: bool) {}
}
