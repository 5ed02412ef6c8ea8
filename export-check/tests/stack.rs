//! Every exported `forward` runs on a 16 KiB thread stack (the activations the file reports
//! are an upper bound; this is what the compiler actually needs, with room for the thread's
//! own start-up). A stack overflow would abort this test binary.

use staticnn_export_check::{
    binary_classifier, binary_classifier_int8, cnn, embedding, mlp, mlp_int8, windows,
};

#[test]
fn every_forward_fits_in_16_kib_of_stack() {
    let sums = std::thread::Builder::new()
        .stack_size(16 * 1024)
        .spawn(|| {
            let mut sink = 0.0f32;
            sink += binary_classifier::forward(&[0.5, -0.5])[0];
            sink += binary_classifier_int8::forward(&[0.5, -0.5])[0];
            sink += mlp::forward(&[0.5; 8])[0];
            sink += mlp_int8::forward(&[0.5; 8])[0];
            sink += cnn::forward(&[0.5; 64])[0];
            sink += windows::forward(&[0.5; 220])[0];
            sink += embedding::forward(&[1.0, 2.0, 3.0, 4.0, 5.0])[0];
            sink
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(sums.is_finite());
}
