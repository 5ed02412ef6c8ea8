//! What a replica cannot copy from the model: a layer setting that is not a parameter (an
//! eps, a slope, a bias left out) differs only if it was changed after construction, since
//! replicas are built from the model's type. Compared once, when a `DataParallel` is made.

use crate::export::{Child, Node};

/// The state-dict key of the first layer whose settings differ between `a` and `b` ("" for
/// the whole model), ignoring the values of weights.
pub(crate) fn first_difference(a: &Node<'_>, b: &Node<'_>) -> Option<String> {
    use Node::*;
    let same = match (a, b) {
        (
            Linear {
                in_features: i1,
                out_features: o1,
                bias: b1,
                ..
            },
            Linear {
                in_features: i2,
                out_features: o2,
                bias: b2,
                ..
            },
        ) => i1 == i2 && o1 == o2 && b1.is_some() == b2.is_some(),
        (Activation(f1), Activation(f2)) => f1 == f2,
        (
            BatchNorm {
                channels: c1,
                eps: e1,
                ..
            },
            BatchNorm {
                channels: c2,
                eps: e2,
                ..
            },
        ) => c1 == c2 && e1.to_bits() == e2.to_bits(),
        (
            LayerNorm {
                normalized: n1,
                eps: e1,
                ..
            },
            LayerNorm {
                normalized: n2,
                eps: e2,
                ..
            },
        ) => n1 == n2 && e1.to_bits() == e2.to_bits(),
        (
            Conv2d {
                geometry: g1,
                bias: b1,
                ..
            },
            Conv2d {
                geometry: g2,
                bias: b2,
                ..
            },
        ) => g1 == g2 && b1.is_some() == b2.is_some(),
        (MaxPool2d(g1), MaxPool2d(g2)) | (AvgPool2d(g1), AvgPool2d(g2)) => g1 == g2,
        (
            Embedding {
                num: n1, dim: d1, ..
            },
            Embedding {
                num: n2, dim: d2, ..
            },
        ) => n1 == n2 && d1 == d2,
        (Sequence { layers: l1, .. }, Sequence { layers: l2, .. }) => {
            return children_difference(l1, l2);
        }
        (Residual(n1), Residual(n2)) => return first_difference(n1, n2),
        // A layer the exporter does not know shows no settings: only its type can be compared.
        (Unsupported { type_name: t1 }, Unsupported { type_name: t2 }) => t1 == t2,
        (Softmax, Softmax)
        | (LogSoftmax, LogSoftmax)
        | (Identity, Identity)
        | (AdaptiveAvgPool2d, AdaptiveAvgPool2d) => true,
        _ => false,
    };
    (!same).then(String::new)
}

fn children_difference(a: &[Child<'_>], b: &[Child<'_>]) -> Option<String> {
    if a.len() != b.len() {
        return Some(String::new());
    }
    for (ca, cb) in a.iter().zip(b) {
        if ca.key != cb.key {
            return Some(ca.key.to_string());
        }
        if let Some(inner) = first_difference(&ca.node, &cb.node) {
            return Some(if inner.is_empty() {
                ca.key.to_string()
            } else {
                format!("{}.{inner}", ca.key)
            });
        }
    }
    None
}
