//! The batch type's conversions: wrong widths and ragged rows are errors naming both numbers.

use staticnn::{Batch, BatchSlice, ShapeError};

#[test]
fn round_trips() {
    let b = Batch::<3>::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(b.rows(), 2);
    assert_eq!(b.row(1), Some(&[4.0, 5.0, 6.0]));
    assert_eq!(b.row(2), None);
    assert_eq!(b.to_rows(), vec![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let v = b.clone().into_vec();
    assert_eq!(Batch::<3>::from_vec(v.clone()).unwrap(), b);
    assert_eq!(Batch::<3>::from_slice(&v).unwrap(), b);
    assert_eq!(
        Batch::<3>::try_from(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]).unwrap(),
        b
    );
    let m = b.as_mat();
    assert_eq!((m.nrows(), m.ncols()), (2, 3));
    assert_eq!(m[(1, 0)], 4.0);
    assert_eq!(b.slice_rows(1, 2).as_slice(), &[4.0, 5.0, 6.0]);
}

#[test]
fn a_flat_vec_that_is_not_whole_rows_is_an_error() {
    let err = Batch::<3>::from_vec(vec![0.0; 7]).unwrap_err();
    assert_eq!(err, ShapeError::Length { len: 7, width: 3 });
    let msg = err.to_string();
    assert!(msg.contains('7') && msg.contains('3'), "{msg}");
    assert!(BatchSlice::<4>::try_from_slice(&[0.0; 6]).is_err());
}

#[test]
fn a_ragged_or_wrong_width_row_is_an_error_naming_both_widths() {
    let rows = vec![vec![1.0, 2.0], vec![3.0, 4.0, 5.0]];
    let err = Batch::<2>::from_nested(&rows).unwrap_err();
    assert_eq!(
        err,
        ShapeError::RowWidth {
            row: 1,
            expected: 2,
            found: 3
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("row 1") && msg.contains("width 3") && msg.contains("is 2"),
        "{msg}"
    );

    let err = Batch::<4>::try_from(vec![vec![1.0; 3]]).unwrap_err();
    assert!(err.to_string().contains('4') && err.to_string().contains('3'));
}

#[test]
fn resizing_keeps_the_allocation() {
    let mut b = Batch::<8>::zeros(16);
    let ptr = b.as_slice().as_ptr();
    b.resize_rows(4);
    b.resize_rows(16);
    assert_eq!(b.as_slice().as_ptr(), ptr);
    assert_eq!(b.rows(), 16);
}
