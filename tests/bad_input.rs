//! Bad data and settings are errors at the place they are made, naming that place: CSV
//! files (labels, headers, delimiters, numbers out of range, huge cells), loss weights of
//! the wrong length, a batch size of 0.

use staticnn::data::{Column, CsvError, DataError, read_csv, synthetic};
use staticnn::prelude::*;
use staticnn::state_dict;
use staticnn::train::FitError;

fn csv(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn read_err(path: &std::path::Path, target: &str) -> CsvError {
    let err = read_csv(path, Some(&Column::from(target)), None).unwrap_err();
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(err.to_string().contains(name), "{err}");
    err
}

#[test]
fn labels_are_checked_when_the_dataset_is_built_at_their_file_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("x,label\n");
    for i in 0..50 {
        let label = if i == 38 { 2 } else { i % 2 };
        text.push_str(&format!("{i},{label}\n"));
    }
    // Data row 39 is file line 40.
    let path = csv(&dir, "labels.csv", text.as_bytes());
    let table = read_csv(&path, Some(&Column::from("label")), None).unwrap();
    let err = table.to_binary_dataset::<1>().unwrap_err();
    assert!(
        matches!(
            err,
            CsvError::NotBinary {
                line: 40,
                column: 2,
                value: 2.0,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("labels.csv: line 40, column 2"),
        "{err}"
    );
    let err = table.to_class_dataset::<1>(2).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("line 40"), "{message}");
    assert!(
        message.contains("labels are 0-based, 0 to 1 for 2 classes"),
        "{message}"
    );
    assert_eq!(table.to_class_dataset::<1>(3).unwrap().targets[38], 2);
}

#[test]
fn headers_must_be_headers() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_err(&csv(&dir, "dup.csv", b"y,x,y\n1,2,3\n"), "y");
    assert!(
        matches!(&err, CsvError::DuplicateColumn { name, first: 1, second: 3, .. } if name == "y"),
        "{err}"
    );
    // A file without a header would lose its first row, and `--target 0` would be an index.
    let err = read_err(&csv(&dir, "headerless.csv", b"0.5,1,0\n0.7,2,1\n"), "0");
    assert!(matches!(err, CsvError::NoHeader { .. }), "{err}");
    assert!(err.to_string().contains("add a header row"), "{err}");
    let err = read_err(&csv(&dir, "ambiguous.csv", b"a,0,b\n1,2,3\n"), "0");
    assert!(
        matches!(
            err,
            CsvError::AmbiguousColumn {
                index: 0,
                named: 1,
                ..
            }
        ),
        "{err}"
    );
    let err = read_err(&csv(&dir, "empty.csv", b""), "y");
    assert!(matches!(err, CsvError::EmptyFile { .. }), "{err}");
    for (name, text, hint) in [
        ("semicolons.csv", &b"x;y\n1;2\n"[..], "`;`"),
        ("tabs.csv", &b"x\ty\n1\t2\n"[..], "tabs"),
    ] {
        let err = read_err(&csv(&dir, name, text), "y");
        assert!(matches!(err, CsvError::Delimiter { .. }), "{err}");
        assert!(err.to_string().contains(hint), "{err}");
    }
}

#[test]
fn cells_out_of_f32_range_or_huge_are_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_err(&csv(&dir, "big.csv", b"x,y\n1e40,0\n"), "y");
    assert!(
        matches!(
            err,
            CsvError::OutOfRange {
                line: 2,
                column: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("outside the range of f32"),
        "{err}"
    );
    let mut text = b"x,y\n".to_vec();
    text.extend(std::iter::repeat_n(b'a', 1 << 20));
    text.extend_from_slice(b",0\n");
    let err = read_err(&csv(&dir, "huge_cell.csv", &text), "y");
    assert!(matches!(err, CsvError::NotNumeric { .. }), "{err}");
    assert!(
        err.to_string().len() < 1000,
        "{} bytes",
        err.to_string().len()
    );
}

#[test]
fn loss_weights_of_the_wrong_length_are_errors_not_panics() {
    let logits = Batch::from_rows(&[[0.5f32, -0.5]]);
    let err = BCEWithLogitsLoss::new()
        .pos_weight(vec![1.0, 2.0, 3.0])
        .value_and_grad(&logits, &Batch::from_rows(&[[1.0, 0.0]]))
        .unwrap_err();
    assert_eq!(
        err,
        LossError::WeightLength {
            name: "pos_weight",
            found: 3,
            expected: 2
        }
    );
    let err = CrossEntropyLoss::new()
        .weight(vec![1.0])
        .value(&logits, &[1])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`weight` has 1 values, but the input has 2"),
        "{err}"
    );
    assert!(
        NLLLoss::new()
            .weight(vec![1.0; 3])
            .value(&logits, &[0])
            .is_err()
    );
    // The right length works.
    assert!(
        CrossEntropyLoss::new()
            .weight(vec![1.0, 2.0])
            .value(&logits, &[1])
            .is_ok()
    );
}

model! {
    struct Tiny: [2] -> [1] {
        Linear(1),
    }
}

#[test]
fn a_batch_size_of_zero_is_an_error_before_anything_changes() {
    let data = synthetic::moons(16, 0.1, &mut seeded_rng(0));
    assert!(matches!(
        DataLoader::new(&data, 0).err(),
        Some(DataError::BatchSize)
    ));
    let mut model = Tiny::new(&mut seeded_rng(1));
    let before = state_dict(&model);
    let err = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new(),
        &mut SGD::new(0.1).unwrap(),
        &data,
        None,
        &mut FitOptions::new(2, 0).progress(Progress::Quiet),
    )
    .unwrap_err();
    assert!(matches!(err, FitError::Data(DataError::BatchSize)), "{err}");
    assert_eq!(state_dict(&model), before);
}

/// The width a loss weight must have is the model's output width, which the loss learns only
/// from the model; so the check without a batch is `Loss::validate`, and `fit` makes it before
/// any epoch, changing nothing.
#[test]
fn loss_weights_of_the_wrong_length_stop_fit_before_any_epoch() {
    let length = |e: LossError| match e {
        LossError::WeightLength { name, found, .. } => (name, found),
        other => panic!("{other}"),
    };
    let pos = BCEWithLogitsLoss::new().pos_weight(vec![1.0, 2.0]);
    assert_eq!(
        length(Loss::<1>::validate(&pos).unwrap_err()),
        ("pos_weight", 2)
    );
    assert!(Loss::<2>::validate(&pos).is_ok());
    let ce = CrossEntropyLoss::new().weight(vec![1.0; 3]);
    assert_eq!(length(Loss::<2>::validate(&ce).unwrap_err()), ("weight", 3));
    assert!(Loss::<3>::validate(&ce).is_ok());
    assert!(Loss::<4>::validate(&NLLLoss::new().weight(vec![1.0])).is_err());

    let data = synthetic::moons(16, 0.1, &mut seeded_rng(0));
    let mut model = Tiny::new(&mut seeded_rng(1));
    let before = state_dict(&model);
    let err = fit(
        &mut model,
        &mut BCEWithLogitsLoss::new().pos_weight(vec![1.0, 2.0]),
        &mut SGD::new(0.1).unwrap(),
        &data,
        None,
        &mut FitOptions::new(2, 4).progress(Progress::Quiet),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            FitError::Loss(LossError::WeightLength {
                name: "pos_weight",
                ..
            })
        ),
        "{err}"
    );
    assert_eq!(state_dict(&model), before);
}

#[test]
fn an_embedding_index_out_of_range_is_an_error_and_nan_in_inference() {
    let emb = Embedding::<10, 4>::new(&mut seeded_rng(0));
    let bad = Batch::<3>::from_rows(&[[1.0, 10.0, 2.0]]);
    let err = Forward::<3, 12>::validate(&emb, &bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "index 10 in row 0, column 1 is not a whole number below 10"
    );
    let out = Forward::<3, 12>::forward(&emb, &bad);
    assert!(out.as_slice()[4..8].iter().all(|v| v.is_nan()));
    assert!(out.as_slice()[..4].iter().all(|v| v.is_finite()));
}

/// The width-erased entry points refuse data of another width, and flat rows that are not
/// whole rows, with an error rather than a panic or a partly transformed buffer.
#[test]
fn width_erased_inputs_of_the_wrong_shape_are_errors() {
    use staticnn::data::Standardizer;
    use staticnn::train::{ForwardRef, evaluate_dyn};
    let model = Tiny::new(&mut seeded_rng(1));
    let three_wide = synthetic::moons(8, 0.1, &mut seeded_rng(0));
    let rows: Vec<f32> = (0..24).map(|i| i as f32).collect();
    let data = staticnn::data::DynDataset::new(rows, 3, three_wide.targets.clone()).unwrap();
    let err = evaluate_dyn(
        &ForwardRef::<Tiny, 2, 1>(&model),
        &BCEWithLogitsLoss::new(),
        &data,
        4,
        &[],
        &mut [],
    )
    .unwrap_err();
    assert!(err.to_string().contains("width 3"), "{err}");

    let standardizer = Standardizer::fit_rows(&[1.0, 2.0, 3.0, 5.0], 2);
    let mut partial = [1.0, 2.0, 3.0];
    let err = standardizer.transform_rows(&mut partial, 2).unwrap_err();
    assert!(err.to_string().contains("whole rows"), "{err}");
    assert_eq!(partial, [1.0, 2.0, 3.0], "nothing changed");
}
