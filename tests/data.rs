//! The loader, splits, standardisation, and the CSV and IDX readers with their errors.

use std::collections::BTreeSet;
use std::io::Write;

use staticnn::data::{
    Column, CsvError, IdxError, Standardizer, read_csv, read_idx_images, read_idx_labels, synthetic,
};
use staticnn::prelude::*;

fn write(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text)
        .unwrap();
    path
}

#[test]
fn the_loader_visits_every_sample_once_per_epoch_in_a_new_order() {
    let n = 103;
    let features = Batch::<1>::from_vec((0..n).map(|i| i as f32).collect()).unwrap();
    let data = Dataset::new(features, (0..n).collect::<Vec<usize>>()).unwrap();
    let mut loader = DataLoader::new(&data, 10).unwrap();
    assert_eq!(loader.num_batches(), 11);
    let mut rng = seeded_rng(0);
    let mut orders = Vec::new();
    for _ in 0..3 {
        let mut seen = Vec::new();
        for (x, y) in loader.epoch(&mut rng) {
            assert!(x.rows() <= 10);
            // Features and targets stay paired.
            for (row, &t) in x.iter_rows().zip(&y) {
                assert_eq!(row[0] as usize, t);
            }
            seen.extend(y);
        }
        assert_eq!(seen.len(), n);
        assert_eq!(
            seen.iter().copied().collect::<BTreeSet<_>>().len(),
            n,
            "each sample once"
        );
        orders.push(seen);
    }
    assert_ne!(orders[0], orders[1]);
    assert_ne!(orders[1], orders[2]);

    let mut dropping = DataLoader::new(&data, 10)
        .unwrap()
        .drop_last(true)
        .shuffle(false);
    assert_eq!(dropping.epoch(&mut rng).count(), 10);
}

#[test]
fn splits_shuffle_and_stratify() {
    let features = Batch::<1>::from_vec((0..100).map(|i| i as f32).collect()).unwrap();
    let classes: Vec<usize> = (0..100).map(|i| usize::from(i >= 80)).collect();
    let data = Dataset::new(features, classes).unwrap();
    let (train, val) = data.split(0.25, true, &mut seeded_rng(1)).unwrap();
    assert_eq!((train.len(), val.len()), (75, 25));
    assert_eq!(
        val.targets.iter().filter(|&&c| c == 1).count(),
        5,
        "20% of each side is class 1"
    );
    let firsts: Vec<f32> = val.features.as_slice().to_vec();
    assert!(
        firsts.iter().any(|&v| v < 50.0) && firsts.iter().any(|&v| v >= 50.0),
        "shuffled before splitting"
    );
    assert!(data.split(1.5, false, &mut seeded_rng(1)).is_err());
    let (reg, _, _) = synthetic::linear_regression::<2>(10, 0.1, &mut seeded_rng(1));
    assert!(
        reg.split(0.5, true, &mut seeded_rng(1)).is_err(),
        "regression targets cannot stratify"
    );
}

/// A stratified split holds out the fraction of the whole dataset, shared among the classes
/// by size (scikit-learn's count): rounded class by class, ten classes of five held out one
/// each at 0.1, twice the fraction.
#[test]
fn a_stratified_split_holds_out_the_fraction_of_the_whole() {
    let data = synthetic::spirals(5, 10, 0.1, &mut seeded_rng(2));
    let (train, val) = data.split(0.1, true, &mut seeded_rng(3)).unwrap();
    assert_eq!((train.len(), val.len()), (45, 5));
    let mut per_class = [0; 10];
    val.targets.iter().for_each(|&c| per_class[c] += 1);
    assert!(per_class.iter().all(|&n| n <= 1), "{per_class:?}");
    // Unequal classes, 50, 45 and 5: 10 held out as 5, 4.5 and 0.5 round to 5, 5 and 0.
    let classes: Vec<usize> = (0..100)
        .map(|i| usize::from(i >= 50) + usize::from(i >= 95))
        .collect();
    let features = Batch::<1>::from_vec((0..100).map(|i| i as f32).collect()).unwrap();
    let data = Dataset::new(features, classes).unwrap();
    let (_, val) = data.split(0.1, true, &mut seeded_rng(4)).unwrap();
    let count = |class| val.targets.iter().filter(|&&c| c == class).count();
    assert_eq!((val.len(), count(0), count(1), count(2)), (10, 5, 5, 0));
    // The fraction at the decimal value written: 0.7 of 5 is 3.5, held out as 4 (the f32's
    // 0.69999999 gave 3.4999999, held out as 3).
    let five = Batch::<1>::from_vec((0..5).map(|i| i as f32).collect()).unwrap();
    let data = Dataset::new(five, vec![0usize; 5]).unwrap();
    for stratify in [false, true] {
        let (train, val) = data.split(0.7, stratify, &mut seeded_rng(5)).unwrap();
        assert_eq!((train.len(), val.len()), (1, 4), "stratify {stratify}");
    }
}

#[test]
fn the_standardizer_learns_from_the_training_part_only() {
    let train = Batch::<2>::from_rows(&[[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]]);
    let s = Standardizer::fit(&train);
    assert_eq!(s.mean, [3.0, 10.0]);
    assert!((s.std[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
    assert_eq!(s.std[1], 1.0, "a constant column is not divided by zero");
    let mut test = Batch::<2>::from_rows(&[[3.0, 12.0]]);
    s.transform(&mut test).unwrap();
    assert_eq!(test.as_slice(), &[0.0, 2.0]);
    let back = Standardizer::from_json(&s.to_json()).unwrap();
    assert_eq!(back, s);
    let mut wrong = Batch::<3>::zeros(1);
    assert!(s.transform(&mut wrong).is_err());
}

#[test]
fn csv_reads_headers_targets_and_features() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "ok.csv", b"a,label,b\n1.5,0,2\n-3,1,4e-1\n");
    let t = read_csv(&path, Some(&Column::from("label")), None).unwrap();
    assert_eq!(t.feature_names, ["a", "b"]);
    assert_eq!(t.features, [1.5, 2.0, -3.0, 0.4]);
    let d = t.to_dataset::<2>().unwrap();
    assert_eq!(d.targets.as_slice(), &[0.0, 1.0]);
    let c = t.to_class_dataset::<2>(2).unwrap();
    assert_eq!(c.targets, [0, 1]);
    let by_index = read_csv(&path, Some(&Column::Index(1)), Some(&[Column::from("b")])).unwrap();
    assert_eq!(by_index.features, [2.0, 0.4]);
    let err = t.to_dataset::<3>().unwrap_err();
    assert!(
        err.to_string().contains("2 feature columns") && err.to_string().contains("takes 3"),
        "{err}"
    );
}

#[test]
fn csv_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "bad.csv", b"x,y,label\n1,2,0\n3,abc,1\n");
    let err = read_csv(&path, Some(&Column::from("label")), None).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            CsvError::NotNumeric {
                line: 3,
                column: 2,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("bad.csv")
            && msg.contains("line 3")
            && msg.contains("column 2")
            && msg.contains("abc"),
        "{msg}"
    );

    let path = write(&dir, "missing.csv", b"x,y,label\n1,2,0\n4,5,\n");
    let err = read_csv(&path, Some(&Column::from("label")), None).unwrap_err();
    assert!(
        matches!(
            err,
            CsvError::Missing {
                line: 3,
                column: 3,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("missing.csv: line 3, column 3"),
        "{err}"
    );

    let path = write(&dir, "ragged.csv", b"x,y,label\n1,2,0\n1,2\n");
    let err = read_csv(&path, Some(&Column::from("label")), None).unwrap_err();
    assert!(
        matches!(
            err,
            CsvError::Ragged {
                line: 3,
                expected: 3,
                found: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("ragged.csv: line 3 has 2 columns"),
        "{err}"
    );

    let err = read_csv(&path, Some(&Column::from("nope")), None).unwrap_err();
    assert!(err.to_string().contains("no column `nope`"), "{err}");
    let err = read_csv(dir.path().join("absent.csv"), None, None).unwrap_err();
    assert!(err.to_string().contains("absent.csv"), "{err}");

    let path = write(&dir, "class.csv", b"x,label\n1,0\n2,1.5\n");
    let err = read_csv(&path, Some(&Column::from("label")), None)
        .unwrap()
        .to_class_dataset::<1>(2)
        .unwrap_err();
    assert!(err.to_string().contains("line 3, column 2"), "{err}");
}

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn idx_files_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..2 * 3 * 2).map(|i| (i * 20) as u8).collect();
    let images = write(&dir, "images.idx3", &idx(&[2, 3, 2], &pixels));
    let labels = write(&dir, "labels.idx1", &idx(&[2], &[7, 3]));
    let x = read_idx_images::<6>(&images).unwrap();
    assert_eq!(x.rows(), 2);
    assert_eq!(x.as_slice()[1], 20.0 / 255.0);
    assert_eq!(read_idx_labels(&labels).unwrap(), [7, 3]);

    assert!(matches!(
        read_idx_images::<4>(&images),
        Err(IdxError::Width {
            rows: 3,
            cols: 2,
            ..
        })
    ));
    assert!(
        matches!(read_idx_labels(&images), Err(IdxError::Magic { .. })),
        "images are not labels"
    );
    let mut truncated = idx(&[2, 3, 2], &pixels);
    truncated.pop();
    let path = write(&dir, "short.idx3", &truncated);
    let err = read_idx_images::<6>(&path).unwrap_err();
    assert!(
        matches!(
            err,
            IdxError::Size {
                expected: 12,
                found: 11,
                ..
            }
        ),
        "{err}"
    );
    for cut in 0..16 {
        let path = write(&dir, "cut.idx3", &idx(&[2, 3, 2], &pixels)[..cut]);
        assert!(read_idx_images::<6>(&path).is_err(), "cut at {cut}");
    }
    let path = write(&dir, "huge.idx3", &idx(&[u32::MAX, u32::MAX, 2], &[]));
    assert!(read_idx_images::<6>(&path).is_err());
}

#[test]
fn generators_are_seeded() {
    let a = synthetic::moons(50, 0.1, &mut seeded_rng(3));
    let b = synthetic::moons(50, 0.1, &mut seeded_rng(3));
    assert_eq!(a, b);
    assert_eq!(
        a.targets.as_slice().iter().filter(|&&v| v == 1.0).count(),
        25
    );
    let s = synthetic::spirals(10, 3, 0.0, &mut seeded_rng(3));
    assert_eq!(s.len(), 30);
    let c = synthetic::circles(40, 0.0, 0.5, &mut seeded_rng(3));
    let r: Vec<f32> = c
        .features
        .iter_rows()
        .map(|p| (p[0] * p[0] + p[1] * p[1]).sqrt())
        .collect();
    assert!(
        r.iter()
            .all(|&r| (r - 1.0).abs() < 1e-4 || (r - 0.5).abs() < 1e-4)
    );
}
